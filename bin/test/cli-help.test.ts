/**
 * The help a user reads once: every command has an example, and descriptions are single strings that
 * commander wraps (a hand-wrapped line wrapped again by commander shows as a short fragment mid-paragraph).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const BIN = fileURLToPath(new URL('../opml.mjs', import.meta.url));
const run = promisify(execFile);
const help = async (...args: string[]) => (await run(process.execPath, [BIN, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } })).stdout;

/** The paragraphs of the description: between the usage line and the first section (Arguments:, Options:, Commands:). */
function descriptionParagraphs(text: string): string[][] {
  const lines = text.split('\n');
  const end = lines.findIndex((l) => /^(Arguments|Options|Commands):$/.test(l));
  const body = lines.slice(1, end).join('\n').trim();
  return body ? body.split(/\n\s*\n/).map((p) => p.split('\n')) : [];
}

test('every command has an example and a description that commander wrapped once', async () => {
  const top = await help();
  const commands = [...top.matchAll(/^ {2}([a-z][a-z-]+)(?: \[options\])?(?: [<[][^ ]+)*\s{2,}/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  assert.ok(commands.length >= 15, `commands found: ${commands.join(', ')}`);
  assert.match(top, /\nExamples:\n {2}opml demo/);
  const texts = new Map<string, string>([['opml', top]]);
  for (let i = 0; i < commands.length; i += 4) {
    const batch = commands.slice(i, i + 4);
    const out = await Promise.all(batch.map((c) => help(c)));
    batch.forEach((c, k) => texts.set(c, out[k]!));
  }
  const problems: string[] = [];
  for (const [name, text] of texts) {
    if (!/\nExamples?:\n {2}\S/.test(text)) problems.push(`${name}: no example`);
    for (const para of descriptionParagraphs(text)) {
      // a wrapped paragraph fills its lines to near the 80 columns; a short line before the last is a second wrap
      const short = para.slice(0, -1).find((l) => l.length < 55);
      if (short !== undefined) problems.push(`${name}: wrapped twice (a hand-wrapped description?) at '${short}'`);
    }
  }
  assert.deepEqual(problems, []);
});

test('descriptions in the sources are single strings: paragraphs split by a blank line, never a hand-wrapped line', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const files = ['bin', 'converter', 'compiler', 'runtime', 'contracts/ts'].flatMap((d) => fs.readdirSync(path.join(root, d), { recursive: true, encoding: 'utf8' }).map((f) => path.join(d, f)))
    .filter((f) => f.endsWith('.ts') && !f.includes(`${path.sep}test${path.sep}`) && !f.startsWith(`bin${path.sep}test`));
  const wrapped: string[] = [];
  for (const f of files) {
    const src = fs.readFileSync(path.join(root, f), 'utf8');
    if (!src.includes('.description(')) continue;
    // the argument of each .description( … ), up to the next chained call
    for (const m of src.matchAll(/\.description\(([\s\S]*?)\)\s*\n\s*\./g)) {
      // a \n escape in the source that is not part of a paragraph break \n\n
      if (/(?<!\\n)\\n(?!\\n)/.test(m[1]!)) wrapped.push(`${f}: ${m[1]!.trim().slice(0, 70)}…`);
    }
  }
  assert.deepEqual(wrapped, []);
});
