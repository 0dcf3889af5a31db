/**
 * `npm run bench [-- NAME…]`: runs the benchmarks and prints one line of figures each, plus a JSON
 * summary in bench/out/results.json. Ratios against a baseline measured in the same run are more
 * trustworthy than absolute times on a shared machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchConvertLarge } from './convert-large.ts';
import { benchRunVsOrt } from './run-vs-ort.ts';
import { benchCompile } from './compile.ts';
import { benchThreads } from './threads.ts';
import { benchMerkle } from './merkle.ts';
import { benchOpvm } from './opvm.ts';
import { benchDispute } from './dispute.ts';
import { benchGas } from './gas.ts';
import { benchLlm } from './llm.ts';

export interface BenchResult {
  name: string;
  figures: Record<string, number | string>;
  ok: boolean;
  note?: string;
}

const benches: Record<string, () => Promise<BenchResult>> = {
  'convert-large': benchConvertLarge,
  'run-vs-ort': benchRunVsOrt,
  compile: benchCompile,
  threads: benchThreads,
  merkle: benchMerkle,
  opvm: benchOpvm,
  dispute: benchDispute,
  gas: benchGas,
  llm: benchLlm,
};

const want = process.argv.slice(2).filter((a, i, all) => !a.startsWith('-') && all[i - 1] !== '--size');
const results: BenchResult[] = [];
for (const [name, fn] of Object.entries(benches)) {
  if (want.length && !want.includes(name)) continue;
  process.stderr.write(`bench ${name} …\n`);
  const r = await fn();
  results.push(r);
  const figs = Object.entries(r.figures).map(([k, v]) => `${k}=${v}`).join('  ');
  process.stdout.write(`${r.ok ? 'PASS' : 'MISS'}  ${name}  ${figs}${r.note ? `  (${r.note})` : ''}\n`);
}
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + '\n');
