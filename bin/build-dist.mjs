// `npm run build` (and `npm pack`, through prepack): compile the TypeScript sources into dist/ (JavaScript
// and .d.ts, relative imports rewritten to .js) and copy beside them the files the compiled code reads at
// run time: the contracts' Solidity sources (deploy, the demo, verify-step --chain) and the thread pool's
// worker. dist/ mirrors the repository's layout, so relative paths hold in both.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
const copy = (rel) => fs.cpSync(path.join(root, rel), path.join(dist, rel), { recursive: true });
copy('contracts/src');
copy('runtime/native/worker.mjs');
process.stderr.write(`built ${path.relative(process.cwd(), dist) || '.'}/\n`);
