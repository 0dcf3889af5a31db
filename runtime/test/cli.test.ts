/** opml compile and opml run as a user calls them: input formats, output files, errors, exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';

const BIN = fileURLToPath(new URL('../../bin/opml.mjs', import.meta.url));
const opml = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const hex = (t: { data: ArrayBufferView }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

/** Write a float32 .npy file (C order, little-endian). */
function writeNpy(file: string, shape: number[], data: Float32Array): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1; h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

test('convert → compile → run the bundled CNN with .pb, .npy and JSON inputs, positional or NAME=FILE', () => {
  const dir = tmpDir();
  assert.equal(opml('convert', 'models/fmnist-cnn/model.onnx', '-o', path.join(dir, 'cnn.opml'), '-q').code, 0);
  const c = opml('compile', path.join(dir, 'cnn.opml'));
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /compiled 12 nodes → .*cnn\.opmlc/);
  const compiled = path.join(dir, 'cnn.opmlc');
  const sample = 'models/fmnist-cnn/samples/input_0.pb';
  const r = opml('run', compiled, sample);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^logits: float32\[1x10\] {2}top-5: #9 /, 'predicts class 9 (ankle boot), the sample\'s label');

  const x = readTensorFile(sample);
  writeNpy(path.join(dir, 'x.npy'), [...x.shape], x.data as Float32Array);
  fs.writeFileSync(path.join(dir, 'x.json'), JSON.stringify({ dims: [...x.shape], data: [...(x.data as Float32Array)] }));
  const outs: string[] = [];
  for (const [i, arg] of [sample, `image=${path.join(dir, 'x.npy')}`, path.join(dir, 'x.json')].entries()) {
    const o = path.join(dir, `out${i}`);
    const run = opml('run', compiled, arg, '--out', o, '--threads', String(1 + (i % 2)));
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /wrote 1 output to/);
    outs.push(hex(readTensorFile(path.join(o, 'output_0.pb'))));
  }
  assert.equal(new Set(outs).size, 1, 'same logits from every input format and thread count');
});

test('bad inputs get a clear error naming the input and what was expected (exit 2)', () => {
  const dir = tmpDir();
  opml('convert', 'models/fmnist-mlp/model.onnx', '-o', path.join(dir, 'mlp.opml'), '-q');
  opml('compile', path.join(dir, 'mlp.opml'), '-q');
  const compiled = path.join(dir, 'mlp.opmlc');
  fs.writeFileSync(path.join(dir, 'small.json'), JSON.stringify([[1, 2, 3]]));
  const shape = opml('run', compiled, path.join(dir, 'small.json'));
  assert.equal(shape.code, 2);
  assert.match(shape.err, /input 'image' from .*small\.json: expected float32\[1x1x28x28\], the file holds float32\[1x3\]/);
  const missing = opml('run', compiled, path.join(dir, 'nope.pb'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope\.pb: cannot read \(ENOENT\)/);
  const two = opml('run', compiled, 'models/fmnist-mlp/samples/input_0.pb', 'models/fmnist-mlp/samples/input_1.pb');
  assert.equal(two.code, 2);
  assert.match(two.err, /the model takes 1 input \(image: float32\[1x1x28x28\]\); got 2 files/);
  const notCompiled = opml('run', path.join(dir, 'mlp.opml'), 'models/fmnist-mlp/samples/input_0.pb');
  assert.equal(notCompiled.code, 2);
  assert.match(notCompiled.err, /is not a compiled bundle \(no manifest\.json\); make one with 'opml compile'/);
  assert.doesNotMatch(shape.err + missing.err + two.err, /\n\s+at /, 'no stack traces');
});
