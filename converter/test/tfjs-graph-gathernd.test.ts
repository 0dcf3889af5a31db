/**
 * TF graph-model ops that the pretrained MoveNet needs (docs/pretrained-models.md): GatherNd and integer
 * FloorDiv, converted, compiled and run natively, exactly equal to TensorFlow.js's GraphModel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { convertModel } from '../convert.ts';
import { compileBundle } from '../../compiler/compile.ts';
import { NativeExecutor } from '../../runtime/native/executor.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import { A, constNode, loadTfjsGraphModel, placeholder, tmpDir, writeGraphModel } from './fixtures/tfjs/build.ts';
import type { GNode } from './fixtures/tfjs/build.ts';

test('graph model: GatherNd (float and int32 data) and int32 FloorDiv (negative operands, zero-free divisors) equal TensorFlow.js exactly', async () => {
  const dir = tmpDir();
  const f = (name: string, op: string, input: string[], T: string, attr: Record<string, unknown> = {}): GNode => ({ name, op, input, attr: { T: A.type(T), ...attr } });
  const { file } = writeGraphModel(dir, {
    nodes: [
      placeholder('x', [2, 3, 4]), placeholder('n', [2, 3, 4], 'DT_INT32'),
      constNode('ind', 'DT_INT32'), constNode('ind2', 'DT_INT32'), constNode('d', 'DT_INT32'),
      f('g1', 'GatherNd', ['x', 'ind'], 'DT_FLOAT', { Tindices: A.type('DT_INT32') }),      // [3, 2] tuples → [3, 4]
      f('fd', 'FloorDiv', ['n', 'd'], 'DT_INT32'),
      f('g2', 'GatherNd', ['fd', 'ind2'], 'DT_INT32', { Tindices: A.type('DT_INT32') }),    // [2, 2, 3] tuples → [2, 2]
    ],
    weights: [
      { name: 'ind', shape: [3, 2], dtype: 'int32', values: [1, 2, 0, 0, 1, 1] },
      { name: 'ind2', shape: [2, 2, 3], dtype: 'int32', values: [0, 0, 0, 1, 2, 3, 1, 0, 3, 0, 2, 1] },
      { name: 'd', shape: [4], dtype: 'int32', values: [3, -3, 7, -2] },
    ],
    outputs: ['g1:0', 'fd:0', 'g2:0'],
  });
  const x = Float32Array.from({ length: 24 }, (_, i) => i * 0.25 - 3);
  const n = Int32Array.from({ length: 24 }, (_, i) => (i * 37) % 41 - 20);
  const out = tmpDir();
  convertModel(file, path.join(out, 'm.opml'));
  compileBundle(path.join(out, 'm.opml'), path.join(out, 'm.opmlc'));
  const ex = await NativeExecutor.load(path.join(out, 'm.opmlc'));
  try {
    const got = ex.run([hostTensor('float32', [2, 3, 4], x), hostTensor('int32', [2, 3, 4], n)]);
    const model = await loadTfjsGraphModel(file);
    const want = model.execute([tf.tensor(x, [2, 3, 4]), tf.tensor(n, [2, 3, 4], 'int32')], ['g1', 'fd', 'g2']) as tf.Tensor[];
    assert.deepEqual(got.map((t) => [...t.shape]), [[3, 4], [2, 3, 4], [2, 2]]);
    got.forEach((t, i) => assert.deepEqual(Array.from(t.data as ArrayLike<number>), [...want[i]!.dataSync()], `output ${i}`));
  } finally {
    await ex.close();
  }
});
