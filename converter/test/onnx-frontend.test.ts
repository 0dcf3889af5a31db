import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readOnnxModel } from '../onnx/import.ts';
import { convertFile, expectConvertError } from './helpers/convert.ts';
import { onnx } from '../onnx/proto.ts';
import { buildModel, F, floatTensor, int64Tensor, tmpDir, valueInfo, writeModel } from './helpers/onnx-build.ts';

const convert = convertFile;

test('malformed files give a clear error, never a stack trace', () => {
  const dir = tmpDir();
  const good = buildModel({ inputs: [valueInfo('x', F.FLOAT, [2])], outputs: [valueInfo('y', F.FLOAT, [2])], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] });
  fs.writeFileSync(path.join(dir, 'trunc.onnx'), good.subarray(0, good.length - 7));
  expectConvertError(() => readOnnxModel(path.join(dir, 'trunc.onnx')), 'malformed', /trunc\.onnx: not an ONNX model/);
  fs.writeFileSync(path.join(dir, 'text.onnx'), 'hello world, not protobuf at all\n');
  expectConvertError(() => readOnnxModel(path.join(dir, 'text.onnx')), 'malformed', /text\.onnx: not an ONNX model/);
  expectConvertError(() => readOnnxModel(path.join(dir, 'missing.onnx')), 'malformed', /missing\.onnx: cannot read \(ENOENT\)/);
});

test('every unsupported op type is listed at once with opset and node names', () => {
  const dir = tmpDir();
  const f = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, [2])],
    outputs: [valueInfo('z', F.FLOAT, [2])],
    nodes: [
      { op: 'FooBar', inputs: ['x'], outputs: ['a'], name: 'foo1' },
      { op: 'FooBar', inputs: ['a'], outputs: ['b'], name: 'foo2' },
      { op: 'RandomUniformLike', inputs: ['b'], outputs: ['c'], name: 'rnd' },
      { op: 'Relu', inputs: ['c'], outputs: ['z'] },
    ],
    opset: 15,
  });
  expectConvertError(() => convert(f), 'unsupported-op', /2 unsupported op types:\n {2}FooBar \(opset 15\): used by 'foo1', 'foo2'\n {2}RandomUniformLike \(opset 15\): random sampling.*used by 'rnd'/);
});

test('dynamic input dims require --input-shape, which is checked against the model', () => {
  const dir = tmpDir();
  const f = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, ['N', 3])],
    outputs: [valueInfo('y', F.FLOAT, ['N', 3])],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
  expectConvertError(() => convert(f), 'dynamic-shape', /--input-shape NAME=DxDx… \(e\.g\. --input-shape x=.*\n {2}x: \[Nx3\]/);
  const g = convert(f, { x: [5, 3] });
  assert.deepEqual([...g.tensors[g.outputs[0]!]!.shape], [5, 3]);
  expectConvertError(() => convert(f, { x: [5, 4] }), 'invalid-model', /dimension 1 is fixed to 3/);
  expectConvertError(() => convert(f, { x: [5] }), 'invalid-model', /declares rank 2/);
  expectConvertError(() => convert(f, { x: [5, 3], q: [1] }), 'invalid-model', /names 'q', which is not an input/);
});

test('float64 inputs are boundary dtypes computed in float32 (with a warning), float64/float16 constants are converted with a warning on precision loss', () => {
  const dir = tmpDir();
  const f = writeModel(dir, {
    inputs: [valueInfo('x', F.DOUBLE, [2])],
    outputs: [valueInfo('y', F.DOUBLE, [2])],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
  const w0: string[] = [];
  const g0 = convert(f, undefined, w0);
  assert.deepEqual(g0.inputs.map((i) => g0.tensors[i]!.dtype), ['float64']);
  assert.deepEqual(g0.outputs.map((i) => g0.tensors[i]!.dtype), ['float64']);
  assert.deepEqual(g0.nodes.map((n) => n.op), ['Cast', 'Relu', 'Cast']);
  assert.match(w0.join('\n'), /input 'x' is float64: computed at float32 precision/);

  const d = new Float64Array([0.1, 0.5]);
  const h = new Uint16Array([0x3c00, 0xc000]); // 1.0, -2.0
  const f2 = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, [2])],
    outputs: [valueInfo('y', F.FLOAT, [2]), valueInfo('z', F.FLOAT, [2])],
    initializers: [
      onnx.TensorProto.create({ name: 'd', dataType: F.DOUBLE, dims: [2], rawData: new Uint8Array(d.buffer) }),
      onnx.TensorProto.create({ name: 'h', dataType: F.FLOAT16, dims: [2], rawData: new Uint8Array(h.buffer) }),
    ],
    nodes: [{ op: 'Add', inputs: ['x', 'd'], outputs: ['y'] }, { op: 'Mul', inputs: ['x', 'h'], outputs: ['z'] }],
  }, 'm2.onnx');
  const warnings: string[] = [];
  const g = convert(f2, undefined, warnings);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /initializer 'd': float64 converted to float32; 1 of 2 values lost precision/);
  const vals = [...g.constants.entries()].map(([id, c]) => [g.tensors[id]!.name, [...new Float32Array(c.read().slice().buffer)]]);
  assert.deepEqual(Object.fromEntries(vals), { d: [Math.fround(0.1), 0.5], h: [1, -2] });
});

test('external data is read from side files, and bad ranges are reported', () => {
  const dir = tmpDir();
  const w = new Float32Array([1, 2, 3, 4]);
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(w.buffer)]));
  const ext = (offset: number, length: number, location = 'weights.bin') => onnx.TensorProto.create({
    name: 'w', dataType: F.FLOAT, dims: [4], dataLocation: 1,
    externalData: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }],
  });
  const spec = (t: ReturnType<typeof ext>) => ({
    inputs: [valueInfo('x', F.FLOAT, [4])], outputs: [valueInfo('y', F.FLOAT, [4])], initializers: [t],
    nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
  });
  const g = convert(writeModel(dir, spec(ext(8, 16))));
  const [c] = [...g.constants.values()];
  assert.deepEqual([...new Float32Array(c!.read().slice().buffer)], [1, 2, 3, 4]);
  expectConvertError(() => convert(writeModel(dir, spec(ext(8, 64)), 'b.onnx')), 'malformed', /lies outside/);
  expectConvertError(() => convert(writeModel(dir, spec(ext(0, 16, '../etc/passwd')), 'c.onnx')), 'malformed', /relative path inside/);
  expectConvertError(() => convert(writeModel(dir, spec(ext(0, 16, 'nope.bin')), 'd.onnx')), 'malformed', /nope\.bin not found/);
});

test('Shape-driven subgraphs fold to constants', () => {
  const dir = tmpDir();
  const f = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, [2, 3, 4])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    initializers: [int64Tensor('two', [1], [2])],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Cast', inputs: ['s'], outputs: ['sf'], attrs: { to: F.FLOAT } },
      { op: 'Cast', inputs: ['sf'], outputs: ['si'], attrs: { to: F.INT64 } },
      { op: 'Mul', inputs: ['si', 'two'], outputs: ['s2'] },
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Identity', inputs: ['r'], outputs: ['y0'] },
      { op: 'Add', inputs: ['y0', 'y0'], outputs: ['y'] },
    ],
  });
  const g = convert(f);
  assert.deepEqual(g.nodes.map((n) => n.op), ['Relu', 'Add'], 'Shape/Cast/Mul folded away, Identity removed');
});

test('a model that uses an undefined tensor is invalid', () => {
  const dir = tmpDir();
  const f = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, [2])], outputs: [valueInfo('y', F.FLOAT, [2])],
    nodes: [{ op: 'Add', inputs: ['x', 'ghost'], outputs: ['y'], name: 'adder' }],
  });
  expectConvertError(() => convert(f), 'invalid-model', /node 'adder' \(Add, opset 13\): input 'ghost' is not produced/);
});

test('nodes out of topological order are sorted', () => {
  const dir = tmpDir();
  const f = writeModel(dir, {
    inputs: [valueInfo('x', F.FLOAT, [2])], outputs: [valueInfo('y', F.FLOAT, [2])],
    initializers: [floatTensor('one', [1], [1])],
    nodes: [{ op: 'Add', inputs: ['a', 'one'], outputs: ['y'] }, { op: 'Neg', inputs: ['x'], outputs: ['a'] }],
  });
  assert.deepEqual(convert(f).nodes.map((n) => n.op), ['Neg', 'Add']);
});
