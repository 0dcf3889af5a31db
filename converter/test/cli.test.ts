import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { F, tmpDir, valueInfo, writeModel, floatTensor } from './helpers/onnx-build.ts';

const BIN = fileURLToPath(new URL('../../bin/opml.mjs', import.meta.url));
function opml(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('opml convert then inspect a model', () => {
  const dir = tmpDir();
  const f = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, [1, 4])], outputs: [valueInfo('y', F.FLOAT, [1, 4])],
    initializers: [floatTensor('b', [4], [1, 2, 3, 4])],
    nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['a'] }, { op: 'Relu', inputs: ['a'], outputs: ['y'] }],
  });
  const c = opml('convert', f);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /converted .*model\.onnx → .*model\.opml \(2 nodes/);
  const hash = /model hash (0x[0-9a-f]{64})/.exec(c.out)![1]!;
  const i = opml('inspect', path.join(dir, 'model.opml'));
  assert.equal(i.code, 0, i.err);
  assert.match(i.out, new RegExp(`model hash  ${hash}`));
  assert.match(i.out, /inputs\n {2}x {2}float32\[1x4\]/);
  assert.match(i.out, /parameters {2}4 in 1 constants/);
  assert.match(i.out, /Add +1\n {2}Relu +1/);
  const j = JSON.parse(opml('inspect', '--json', '--verify', path.join(dir, 'model.opml')).out);
  assert.equal(j.modelHash, hash);
  assert.deepEqual(j.ops, { Add: 1, Relu: 1 });
});

test('exit code 2 with one clear message for unsupported, malformed and missing models', () => {
  const dir = tmpDir();
  const f = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, [2])], outputs: [valueInfo('y', F.FLOAT, [2])],
    nodes: [{ op: 'Frobnicate', inputs: ['x'], outputs: ['y'], name: 'frob' }],
  });
  const u = opml('convert', f, '-o', path.join(dir, 'out.opml'));
  assert.equal(u.code, 2);
  assert.match(u.err, /^error: .*model\.onnx: 1 unsupported op type:\n {2}Frobnicate \(opset 13\): used by 'frob'\n$/);
  assert.ok(!fs.existsSync(path.join(dir, 'out.opml')), 'nothing written on failure');
  assert.deepEqual(fs.readdirSync(dir), ['model.onnx']);
  fs.writeFileSync(path.join(dir, 'junk.onnx'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
  const m = opml('convert', path.join(dir, 'junk.onnx'));
  assert.equal(m.code, 2);
  assert.match(m.err, /^error: .*junk\.onnx: not an ONNX model/);
  assert.doesNotMatch(m.err, /\n\s+at /, 'no stack trace');
  const n = opml('convert', path.join(dir, 'nope.onnx'));
  assert.equal(n.code, 2);
  assert.match(n.err, /nope\.onnx: cannot open \(ENOENT\)/);
  const bad = opml('convert', f, '--input-shape', 'x=2xq');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /expected NAME=DIMxDIM/);
});

test('--help teaches: commands, examples, exit codes', () => {
  const h = opml('--help');
  assert.equal(h.code, 0);
  assert.match(h.out, /convert .*ONNX or TensorFlow\.js/);
  assert.match(h.out, /inspect/);
  const c = opml('convert', '--help');
  assert.match(c.out, /--input-shape/);
  assert.match(c.out, /Exit codes: 0 converted, 2 unsupported or malformed model/);
  assert.match(c.out, /Examples:/);
});
