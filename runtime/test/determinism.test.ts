/**
 * Determinism of the native executor: the same model and input give byte-identical outputs across
 * runs, across 1 vs N threads, and with NaN, infinities and subnormals in the input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { NativeExecutor, THREAD_MIN_WORK } from '../native/executor.ts';
import { compileBundle } from '../../compiler/compile.ts';
import { convertModel } from '../../converter/convert.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { F, floatTensor, tmpDir, valueInfo, writeModel } from '../../converter/test/helpers/onnx-build.ts';

const hex = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** A conv + matmul model large enough that its kernels are split across threads. */
async function bigModel(): Promise<string> {
  const dir = tmpDir();
  const r = lcg(7);
  const w = Float32Array.from({ length: 16 * 8 * 9 }, r);
  const m = Float32Array.from({ length: 64 * 48 }, r);
  const file = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, [1, 8, 48, 64])],
    outputs: [valueInfo('y', F.FLOAT, [1, 16, 48, 48])],
    initializers: [floatTensor('w', [16, 8, 3, 3], w), floatTensor('m', [64, 48], m)],
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'MatMul', inputs: ['r', 'm'], outputs: ['y'] },
    ],
  });
  convertModel(file, path.join(dir, 'm.opml'));
  compileBundle(path.join(dir, 'm.opml'), path.join(dir, 'm.opmlc'));
  return path.join(dir, 'm.opmlc');
}

function input(seed: number, special: boolean): HostTensor {
  const r = lcg(seed);
  const v = Float32Array.from({ length: 8 * 48 * 64 }, r);
  if (special) {
    const sp = [NaN, Infinity, -Infinity, -0, 1.4e-45, -1.1e-39, 3.4e38];
    for (let i = 0; i < v.length; i += 97) v[i] = sp[(i / 97) % sp.length]!;
  }
  return hostTensor('float32', [1, 8, 48, 64], v);
}

test('byte-identical across runs and across 1, 2 and 3 threads, with special values', async () => {
  const dir = await bigModel();
  const one = await NativeExecutor.load(dir, { threads: 1 });
  const two = await NativeExecutor.load(dir, { threads: 2 });
  const three = await NativeExecutor.load(dir, { threads: 3 });
  try {
    assert.equal(two.threads, 2);
    assert.equal(three.threads, 3);
    assert.ok(one.manifest.nodes.filter((n) => (n.splitExtent ?? 0) >= 16 && n.work >= THREAD_MIN_WORK).length >= 2, 'kernels really split');
    for (const special of [false, true]) {
      const x = input(11, special);
      const ref = hex(one.run([x])[0]!);
      assert.equal(hex(one.run([x])[0]!), ref, 'same run twice');
      assert.equal(hex(two.run([x])[0]!), ref, '2 threads');
      assert.equal(hex(three.run([x])[0]!), ref, '3 threads');
      if (special) {
        const out = new Uint32Array(one.run([x])[0]!.data.buffer);
        const nans = [...out].filter((b) => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0);
        assert.ok(nans.length > 0, 'NaNs propagate');
        assert.ok(nans.every((b) => b === 0x7fc00000), 'every NaN is canonical');
      }
    }
  } finally {
    await Promise.all([one.close(), two.close(), three.close()]);
  }
});

test('the bundled CNN gives identical logits on 1 and 2 threads and across loads', async () => {
  const dir = tmpDir();
  convertModel('models/fmnist-cnn/model.onnx', path.join(dir, 'cnn.opml'));
  compileBundle(path.join(dir, 'cnn.opml'), path.join(dir, 'cnn.opmlc'));
  const { readTensorFile } = await import('../../converter/io/tensor-files.ts');
  const x = readTensorFile('models/fmnist-cnn/samples/input_0.pb');
  const a = await NativeExecutor.load(path.join(dir, 'cnn.opmlc'), { threads: 1 });
  const b = await NativeExecutor.load(path.join(dir, 'cnn.opmlc'), { threads: 2 });
  try {
    assert.equal(hex(b.run([x])[0]!), hex(a.run([x])[0]!));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
