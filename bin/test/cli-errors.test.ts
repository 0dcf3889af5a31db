/**
 * Bad input on the command line, as a user meets it: a wrong path, a garbage or truncated file, a damaged
 * bundle, an input of the wrong shape or dtype, an output path that cannot be written. Each must end with
 * exactly one line on stderr that names the file (and the tensor or node where there is one) and says what
 * to do, exit code 2, and nothing written: no output, no temporary file left behind.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'opml.mjs');
const MLP = path.join(ROOT, 'models', 'fmnist-mlp');
const TFJS = path.join(ROOT, 'models', 'fmnist-tfjs');
const SAMPLE = path.join(MLP, 'samples', 'input_0.pb');
const isRoot = process.getuid?.() === 0;

const opml = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** Every file under `d`, relative, sorted (to see that a failed command wrote nothing). */
function tree(d: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const f = path.join(p, e.name);
      out.push(path.relative(d, f));
      if (e.isDirectory()) walk(f);
    }
  };
  walk(d);
  return out.sort();
}

/**
 * Run a command that must fail on bad input: exit 2, one line `error: …` naming every string of `names`
 * and matching `hint` (what to do), and the working directory unchanged.
 */
function rejects(args: string[], names: string[], hint: RegExp): string {
  const beforeFiles = tree(dir);
  const r = opml(...args);
  const what = `opml ${args.join(' ')}`;
  assert.equal(r.code, 2, `${what}: exit code (stderr: ${r.err})`);
  assert.match(r.err, /^error: [^\n]+\n$/, `${what}: one line on stderr, got:\n${r.err}`);
  for (const n of names) assert.ok(r.err.includes(n), `${what}: names ${n}: ${r.err}`);
  assert.match(r.err, hint, `${what}: says what to do`);
  assert.deepEqual(tree(dir), beforeFiles, `${what}: nothing written or left behind`);
  return r.err;
}

let dir: string;
const bundle = 'mlp.opml';
const compiled = 'mlp.opmlc';

/** A copy of the compiled bundle with `damage` applied to it. */
function damaged(name: string, damage: (d: string) => void): string {
  const d = path.join(dir, name);
  fs.cpSync(path.join(dir, compiled), d, { recursive: true });
  damage(d);
  return name;
}

function writeNpy(file: string, descr: string, shape: number[], data: Buffer): void {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1;
  h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), data]));
}

before(() => {
  dir = tmpDir('opml-cli-errors-');
  const c = opml('convert', path.join(MLP, 'model.onnx'), '-o', bundle, '-q');
  assert.equal(c.code, 0, c.err);
  const k = opml('compile', bundle, '-q');
  assert.equal(k.code, 0, k.err);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a model\n');
  fs.writeFileSync(path.join(dir, 'garbage.onnx'), Buffer.from('this is not protobuf \xff\xff\xff'));
  const onnx = fs.readFileSync(path.join(MLP, 'model.onnx'));
  fs.writeFileSync(path.join(dir, 'truncated.onnx'), onnx.subarray(0, onnx.length >> 1));
  fs.writeFileSync(path.join(dir, 'garbage.pb'), 'not a tensor');
  const pb = fs.readFileSync(SAMPLE);
  fs.writeFileSync(path.join(dir, 'truncated.pb'), pb.subarray(0, pb.length - 100));
  fs.writeFileSync(path.join(dir, 'wrong-shape.json'), JSON.stringify([[1, 2, 3]]));
  writeNpy(path.join(dir, 'int32.npy'), '<i4', [1, 1, 28, 28], Buffer.alloc(4 * 784));
  writeNpy(path.join(dir, 'truncated.npy'), '<f4', [1, 1, 28, 28], Buffer.alloc(4 * 784 - 1001));
  fs.writeFileSync(path.join(dir, 'header-only.npy'), fs.readFileSync(path.join(dir, 'int32.npy')).subarray(0, 20));
  fs.writeFileSync(path.join(dir, 'no-data.json'), '{"dims": [1, 784]}');
  fs.writeFileSync(path.join(dir, 'strings.json'), '[["a", "b"]]');
  fs.writeFileSync(path.join(dir, 'ragged.json'), '[[1, 2], [3]]');
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"format": "opml-step-');
});

test('convert: missing, a directory, garbage, truncated ONNX, broken TensorFlow.js', () => {
  rejects(['convert', 'nope.onnx'], ['nope.onnx'], /ENOENT\); no such file; check the path/);
  rejects(['convert', '.'], ['.'], /give the model file/);
  rejects(['convert', 'garbage.onnx'], ['garbage.onnx'], /not an ONNX model/);
  rejects(['convert', 'truncated.onnx', '-o', 'out.opml'], ['truncated.onnx'], /truncated/);
  rejects(['convert', 'broken.json', '-o', 'out.opml'], ['broken.json'], /model\.json was expected/);
  fs.mkdirSync(path.join(dir, 'tf'));
  fs.copyFileSync(path.join(TFJS, 'model.json'), path.join(dir, 'tf', 'model.json'));
  rejects(['convert', 'tf/model.json', '-o', 'out.opml'], ['tf/model.json', 'weights.bin'], /beside model\.json/);
  fs.writeFileSync(path.join(dir, 'tf', 'weights.bin'), fs.readFileSync(path.join(TFJS, 'weights.bin')).subarray(0, 1000));
  rejects(['convert', 'tf/model.json', '-o', 'out.opml'], ['tf/model.json', 'weights.bin'], /truncated/);
  fs.rmSync(path.join(dir, 'tf'), { recursive: true });
  rejects(['convert', path.join(MLP, 'model.onnx'), '--freeze-input', 'image=nope.npy', '-o', 'out.opml'], ['nope.npy'], /ENOENT\); no such file; check the path/);
});

test('convert: an output path that cannot be written', () => {
  rejects(['convert', path.join(MLP, 'model.onnx'), '-o', 'notes.txt/x.opml'], ['notes.txt'], /is a file, not a directory; choose another output path/);
  rejects(['convert', path.join(MLP, 'model.onnx'), '-o', 'notes.txt'], ['notes.txt'], /choose another output directory/);
  rejects(['convert', path.join(MLP, 'model.onnx'), '-o', compiled], [compiled], /is a compiled bundle; write the graph bundle elsewhere/);
  // a directory nobody can create files in, also as root (permission bits do not stop root)
  if (process.platform === 'linux') rejects(['convert', path.join(MLP, 'model.onnx'), '-o', '/proc/opml-test.opml'], ['/proc'], /cannot write into \/proc .*choose a writable directory/);
  if (!isRoot) {
    fs.mkdirSync(path.join(dir, 'locked'), { mode: 0o555 });
    rejects(['convert', path.join(MLP, 'model.onnx'), '-o', 'locked/x.opml'], ['locked'], /cannot write into .*choose a writable directory/);
    fs.rmdirSync(path.join(dir, 'locked'));
  }
});

test('inspect: missing, not a bundle, garbage graph.json, truncated weights', () => {
  rejects(['inspect', 'nope.opml'], ['nope.opml'], /make one with 'opml convert'/);
  rejects(['inspect', 'notes.txt'], ['notes.txt'], /make one with 'opml convert'/);
  const g = damaged('garbage-graph.opmlc', (d) => fs.writeFileSync(path.join(d, 'graph.json'), '{"format": "opml-gra'));
  rejects(['inspect', g], [path.join(g, 'graph.json')], /convert the model again/);
  const i = damaged('incomplete-graph.opmlc', (d) => {
    const j = JSON.parse(fs.readFileSync(path.join(d, 'graph.json'), 'utf8'));
    fs.writeFileSync(path.join(d, 'graph.json'), JSON.stringify({ format: j.format, version: j.version }));
  });
  rejects(['inspect', i], [path.join(i, 'graph.json'), 'no tensors'], /the bundle is damaged, convert the model again/);
  const w = damaged('truncated-weights.opmlc', (d) => fs.truncateSync(path.join(d, 'weights.bin'), 1000));
  rejects(['inspect', w], [path.join(w, 'weights.bin')], /truncated .*convert the model again/);
});

test('compile: missing or damaged bundle, unwritable or clashing output', () => {
  rejects(['compile', 'nope.opml'], ['nope.opml'], /make one with 'opml convert'/);
  rejects(['compile', 'truncated-weights.opmlc', '-o', 'x.opmlc'], ['weights.bin'], /convert the model again/);
  rejects(['compile', bundle, '-o', 'notes.txt/x.opmlc'], ['notes.txt'], /choose another output path/);
  rejects(['compile', bundle, '-o', bundle], [bundle], /give another one with -o/);
  fs.mkdirSync(path.join(dir, 'other'));
  rejects(['compile', bundle, '-o', 'other'], ['other'], /is not a compiled bundle; choose another output path/);
  fs.rmdirSync(path.join(dir, 'other'));
});

test('run: missing or damaged compiled bundle', () => {
  rejects(['run', 'nope.opmlc', SAMPLE], ['nope.opmlc'], /make one with 'opml compile'/);
  rejects(['run', bundle, SAMPLE], [bundle], /make one with 'opml compile'/);
  const m = damaged('garbage-manifest.opmlc', (d) => fs.writeFileSync(path.join(d, 'manifest.json'), '{"format": "opml-com'));
  rejects(['run', m, SAMPLE], [path.join(m, 'manifest.json')], /run 'opml compile' again/);
  const k = damaged('missing-kernel.opmlc', (d) => fs.rmSync(path.join(d, 'kernels', '0001.wasm')));
  rejects(['run', k, SAMPLE], [path.join(k, 'kernels', '0001.wasm')], /incomplete, run 'opml compile' again/);
  const c = damaged('corrupt-kernel.opmlc', (d) => fs.truncateSync(path.join(d, 'kernels', '0002.wasm'), 40));
  rejects(['run', c, SAMPLE], [path.join(c, 'kernels', '0002.wasm'), 'node 3'], /damaged, run 'opml compile' again/);
  rejects(['run', 'truncated-weights.opmlc', SAMPLE], ['weights.bin'], /convert the model again/);
  const v = damaged('truncated-opvm.opmlc', (d) => fs.truncateSync(path.join(d, 'opvm', '0001.opvm'), 64));
  rejects(['run', v, SAMPLE, '--engine', 'vm'], [path.join(v, 'opvm', '0001.opvm'), 'node 2'], /damaged, run 'opml compile' again/);
});

test('run: missing, garbage, truncated, wrong-shaped and wrong-dtype inputs', () => {
  rejects(['run', compiled, 'nope.pb'], ['nope.pb'], /ENOENT\); no such file; check the path/);
  rejects(['run', compiled, 'garbage.pb'], ['garbage.pb'], /inputs may be \.pb, \.npy or \.json/);
  rejects(['run', compiled, 'truncated.pb'], ['truncated.pb'], /inputs may be \.pb, \.npy or \.json/);
  rejects(['run', compiled, 'wrong-shape.json'], ['wrong-shape.json', "'image'", 'float32[1x1x28x28]', 'float32[1x3]'], /give a file with that dtype and shape/);
  rejects(['run', compiled, 'int32.npy'], ['int32.npy', "'image'", 'int32[1x1x28x28]'], /give a file with that dtype and shape/);
  rejects(['run', compiled, 'int32.npy', '--engine', 'vm'], ['int32.npy', "'image'"], /give a file with that dtype and shape/);
  rejects(['run', compiled, 'image=nope.npy'], ['nope.npy'], /ENOENT\); no such file; check the path/);
  rejects(['run', compiled, 'truncated.npy'], ['truncated.npy'], /truncated: 2135 data bytes, <f4\[1x1x28x28\] needs 3136; save the array again/);
  rejects(['run', compiled, 'header-only.npy'], ['header-only.npy'], /truncated \.npy file .*save the array again/);
  rejects(['run', compiled, 'no-data.json'], ['no-data.json'], /without a "data" array; give nested arrays of numbers/);
  rejects(['run', compiled, 'strings.json'], ['strings.json'], /holds "a", not a number; give nested arrays of numbers/);
  rejects(['run', compiled, 'ragged.json'], ['ragged.json'], /3 values, shape \[2x2\] needs 4; make the nested arrays rectangular/);
});

test('run: an output directory that cannot be written leaves nothing behind', () => {
  rejects(['run', compiled, SAMPLE, '--out', 'notes.txt/out'], ['notes.txt'], /choose another output path/);
  rejects(['run', compiled, SAMPLE, '--out', 'notes.txt'], ['notes.txt'], /choose another output directory/);
  rejects(['run', compiled, SAMPLE, '--out', 'notes.txt/out', '--engine', 'vm'], ['notes.txt'], /choose another output path/);
  if (process.platform === 'linux') rejects(['run', compiled, SAMPLE, '--out', '/proc/opml-test'], ['/proc'], /choose a writable directory/);
  if (!isRoot) {
    fs.mkdirSync(path.join(dir, 'locked'), { mode: 0o555 });
    rejects(['run', compiled, SAMPLE, '--out', 'locked/out'], ['locked'], /choose a writable directory/);
    fs.rmdirSync(path.join(dir, 'locked'));
  }
});

test('trace: damaged bundle, bad inputs', () => {
  rejects(['trace', 'missing-kernel.opmlc', SAMPLE], ['missing-kernel.opmlc'], /run 'opml compile' again/);
  rejects(['trace', compiled, 'int32.npy'], ['int32.npy', "'image'"], /give a file with that dtype and shape/);
  rejects(['trace', compiled, 'truncated.pb'], ['truncated.pb'], /inputs may be/);
});

test('prove-step: damaged OPVM code, bad inputs, node out of range, unwritable output', () => {
  rejects(['prove-step', 'truncated-opvm.opmlc', '--input', SAMPLE, '--node', '2', '--step', '5'], [path.join('truncated-opvm.opmlc', 'opvm', '0001.opvm'), 'node 2'], /run 'opml compile' again/);
  rejects(['prove-step', compiled, '--input', 'wrong-shape.json', '--node', '1', '--step', '5'], ['wrong-shape.json', "'image'"], /give a file with that dtype and shape/);
  rejects(['prove-step', compiled, '--input', 'garbage.pb', '--node', '1', '--step', '5'], ['garbage.pb'], /inputs may be/);
  rejects(['prove-step', compiled, '--input', SAMPLE, '--node', '99', '--step', '5'], ['--node 99'], /the model has nodes 1 … 9/);
  rejects(['prove-step', compiled, '--input', SAMPLE, '--node', '1', '--step', '5', '-o', 'notes.txt/proof.json'], ['notes.txt'], /choose another output path/);
  rejects(['prove-step', compiled, '--input', SAMPLE, '--node', '1', '--step', '5', '-o', '.'], ['-o .'], /give a file name/);
});

test('verify-step: missing, not JSON, truncated, not a proof, a malformed field', () => {
  rejects(['verify-step', 'nope.json'], ['nope.json'], /prove-step/);
  rejects(['verify-step', 'garbage.onnx'], ['garbage.onnx'], /not JSON.*prove-step/);
  rejects(['verify-step', 'broken.json'], ['broken.json'], /not JSON.*prove-step/);
  rejects(['verify-step', 'wrong-shape.json'], ['wrong-shape.json'], /not an opml-step-proof file; make one with 'opml prove-step'/);
  const p = opml('prove-step', compiled, '--input', SAMPLE, '--node', '1', '--step', '5');
  assert.equal(p.code, 0, p.err);
  const proof = JSON.parse(p.out);
  proof.preState = '0x1234';
  fs.writeFileSync(path.join(dir, 'short-hash.json'), JSON.stringify(proof));
  rejects(['verify-step', 'short-hash.json'], ['short-hash.json', 'preState'], /write it again with 'opml prove-step'/);
});

test('what an interrupted run left (its temporary directory) is removed by the next run into the same place', () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const stale = path.join(dir, `again.opml.tmp-${dead}-abc123`);
  const live = path.join(dir, `again.opml.tmp-${process.pid}-def456`);
  for (const d of [stale, live]) {
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'weights.bin'), 'half');
  }
  const r = opml('convert', path.join(MLP, 'model.onnx'), '-o', 'again.opml', '-q');
  assert.equal(r.code, 0, r.err);
  assert.ok(!fs.existsSync(stale), 'the dead process\'s temporary directory is gone');
  assert.ok(fs.existsSync(live), 'a running process\'s is left alone');
  assert.ok(fs.existsSync(path.join(dir, 'again.opml', 'graph.json')));
  fs.rmSync(live, { recursive: true });
  fs.rmSync(path.join(dir, 'again.opml'), { recursive: true });
});
