/** .pb tensor files keep boundary element types (float64 …) unless the model wants the compute dtype. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readTensorFile } from '../io/tensor-files.ts';
import { encodeTensorProto } from '../onnx/tensor.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import { tmpDir } from './helpers/onnx-build.ts';

test('a float64 .pb reads as float64, or as float32 for a float32 input', () => {
  const f = path.join(tmpDir(), 'x.pb');
  fs.writeFileSync(f, encodeTensorProto('x', hostTensor('float64', [2], new Float64Array([0.1, -2]))));
  const a = readTensorFile(f);
  assert.equal(a.dtype, 'float64');
  assert.deepEqual([...(a.data as Float64Array)], [0.1, -2]);
  const b = readTensorFile(f, { dtype: 'float32', shape: [2] });
  assert.equal(b.dtype, 'float32');
  assert.deepEqual([...(b.data as Float32Array)], [Math.fround(0.1), -2]);
  fs.writeFileSync(f, encodeTensorProto('x', hostTensor('float32', [1], [1.5])));
  assert.equal(readTensorFile(f, { dtype: 'float32', shape: [1] }).dtype, 'float32');
});
