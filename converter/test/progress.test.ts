/** The progress display: silent for the first second, on a terminal only unless forced, cleared when done. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressReporter } from '../progress.ts';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, s: { isTTY, write: (c: string) => { chunks.push(c); return true; } } as unknown as NodeJS.WriteStream };
}

test('a bar on a terminal, redrawn in place and cleared at the end', () => {
  const { chunks, s } = stream(true);
  const p = progressReporter(true, s, { delayMs: 0 });
  p('compile', 0, 4);
  p('compile', 4, 4);
  p.done();
  assert.match(chunks[0]!, /^\r\x1b\[Kcompile +\[\.+\] +0% \(0\/4\)$/);
  assert.match(chunks[1]!, /\[#{30}\] 100% \(4\/4\)$/);
  assert.equal(chunks.at(-1), '\r\x1b[K');
});

test('nothing during the first second, nothing off a terminal, nothing with --quiet', () => {
  const slow = stream(true);
  const p = progressReporter(true, slow.s);
  p('compile', 1, 2);
  p.done();
  assert.deepEqual(slow.chunks, [], 'work under a second shows nothing');
  const pipe = stream(false);
  const q = progressReporter(true, pipe.s, { delayMs: 0 });
  q('compile', 1, 2);
  q.done();
  assert.deepEqual(pipe.chunks, [], 'a pipe (a test, a log) gets nothing');
  const quiet = stream(true);
  const r = progressReporter(false, quiet.s, { delayMs: 0 });
  r('compile', 1, 2);
  assert.deepEqual(quiet.chunks, []);
});

test('--progress off a terminal: whole lines, one per phase, then at most one a second', () => {
  const { chunks, s } = stream(false);
  const p = progressReporter(true, s, { force: true, delayMs: 0 });
  p('run', 0, 1);
  p('commit', 1, 100);
  p('commit', 2, 100);
  p('commit', 100, 100);
  p.done();
  assert.deepEqual(chunks, ['run: 0/1 (0%)\n', 'commit: 1/100 (1%)\n', 'commit: 100/100 (100%)\n']);
});
