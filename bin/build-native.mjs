#!/usr/bin/env node
/**
 * `npm install` step: builds the optional host kernels (MatMul, Conv, ConvInteger: runtime/native/cpu/*.cc, binding.gyp)
 * with the node-gyp that npm ships, against the installed Node's headers. Optional: when it cannot be
 * built (no compiler, no headers, not x86-64), the native executor runs every node in its WebAssembly
 * kernels, with the same results; this prints one line saying so and never fails the install.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.OPML_NATIVE_CPU === '0') process.exit(0);
if (process.arch !== 'x64') {
  console.error(`opml: host kernels not built (they need x86-64 with AVX2; this is ${process.arch}); the WebAssembly kernels run instead`);
  process.exit(0);
}
// npm's own node-gyp: named by npm inside its scripts, else next to npm (beside this Node)
const gyp = [
  process.env.npm_config_node_gyp,
  process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].find((f) => f && fs.existsSync(f));
// the running Node's own headers (never a download): npm's nodedir setting, else this Node's prefix
const prefix = path.join(path.dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
const gypArgs = ['rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const [cmd, args] = gyp ? [process.execPath, [gyp, ...gypArgs]] : ['node-gyp', gypArgs];
const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status !== 0 || !fs.existsSync(path.join(root, 'build', 'Release', 'opml_cpu.node'))) {
  const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').filter((l) => /error/i.test(l)).at(-1) ?? `exit ${r.status}`;
  console.error(`opml: host kernels not built (${why.slice(0, 200)}); the WebAssembly kernels run instead, with the same results`);
}
