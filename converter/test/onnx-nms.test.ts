/** NonMaxSuppression converts only with constant inputs, computed at convert time (like NonZero). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertSpec, expectConvertError } from './helpers/convert.ts';
import { F, floatTensor, int64Tensor, valueInfo } from './helpers/onnx-build.ts';

test('NonMaxSuppression: greedy selection by score with IoU suppression, constant inputs only', () => {
  const boxes = [0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, -0.1, 1, 0.9, 0, 10, 1, 11, 0, 10.1, 1, 11.1, 0, 100, 1, 101];
  const spec = (constant: boolean) => ({
    inputs: constant ? [] : [valueInfo('boxes', F.FLOAT, [1, 6, 4])],
    outputs: [valueInfo('y', F.INT64, undefined)],
    initializers: [
      ...(constant ? [floatTensor('boxes', [1, 6, 4], boxes)] : []),
      floatTensor('scores', [1, 1, 6], [0.9, 0.75, 0.6, 0.95, 0.5, 0.3]),
      int64Tensor('max', [1], [3]), floatTensor('iou', [1], [0.5]), floatTensor('st', [1], [0]),
    ],
    nodes: [{ op: 'NonMaxSuppression', inputs: ['boxes', 'scores', 'max', 'iou', 'st'], outputs: ['y'] }],
    opset: 11,
  });
  const g = convertSpec(spec(true));
  const y = g.constants.get(g.outputs[0]!)!;
  assert.deepEqual([...new BigInt64Array(y.read().slice().buffer)].map(Number), [0, 0, 3, 0, 0, 0, 0, 0, 5]);
  expectConvertError(() => convertSpec(spec(false)), 'dynamic-shape', /only constant inputs are supported/);
});
