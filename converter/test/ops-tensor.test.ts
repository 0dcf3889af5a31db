/**
 * Data-movement and shape ops: IR folds checked against hand-computed values, shape inference and
 * its errors, and the ONNX lowerings on the backend test data (shapes, and values by folding the
 * cases with their test inputs made constant) and on small hand-built models.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostTensor } from '../ir/host-tensor.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { IrError } from '../ir/op-registry.ts';
import { onnx } from '../onnx/proto.ts';
import { importOnnx } from '../onnx/import.ts';
import { ConvertError } from '../errors.ts';
import { clampSlice } from '../onnx/ops/tensor.ts';
import { padSource } from '../ir/ops/tensor.ts';
import { testdataAvailable } from '../conformance/testdata.ts';
import { buildModel, F, floatTensor, int64Tensor, valueInfo } from './helpers/onnx-build.ts';
import type { ModelSpec } from './helpers/onnx-build.ts';
import { casesMatching, compareHost, foldCase, foldOp, inferOp, shapeFailures } from './helpers/ops-testdata.ts';

const f32 = (dims: number[], v: number[]) => hostTensor('float32', dims, v);
const i64 = (dims: number[], v: number[]) => hostTensor('int64', dims, v.map(BigInt));
const i32 = (dims: number[], v: number[]) => hostTensor('int32', dims, v);
const vals = (t: HostTensor) => Array.from(t.data as ArrayLike<number | bigint>, (x) => Number(x));

// ---------------------------------------------------------------- IR folds

test('Concat and Split fold', () => {
  const [y] = foldOp('Concat', [f32([2, 2], [1, 2, 3, 4]), f32([2, 1], [5, 6]), f32([2, 0], [])], { axis: 1 });
  assert.deepEqual([...y!.shape], [2, 3]);
  assert.deepEqual(vals(y!), [1, 2, 5, 3, 4, 6]);
  const parts = foldOp('Split', [i64([2, 3], [1, 2, 3, 4, 5, 6])], { axis: 1, splits: [1, 0, 2] });
  assert.deepEqual(parts.map((p) => [[...p.shape], vals(p)]), [[[2, 1], [1, 4]], [[2, 0], []], [[2, 2], [2, 3, 5, 6]]]);
  assert.equal(parts[0]!.dtype, 'int64');
});

test('Slice: ONNX clamping then fold, negative steps and INT64 extremes', () => {
  assert.deepEqual(clampSlice(-2, -9223372036854775808, -3, 10), [8, -1]);
  assert.deepEqual(clampSlice(1, 9223372036854775807, 1, 10), [1, 10]);
  assert.deepEqual(clampSlice(-100, 100, 1, 4), [0, 4]);
  assert.deepEqual(clampSlice(100, -100, -1, 4), [3, -1]);
  const x = i32([10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(vals(foldOp('Slice', [x], { starts: [8], ends: [-1], steps: [-3] })[0]!), [8, 5, 2]);
  assert.deepEqual(vals(foldOp('Slice', [x], { starts: [1], ends: [10], steps: [4] })[0]!), [1, 5, 9]);
  const m = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const [y] = foldOp('Slice', [m], { starts: [1, 2], ends: [-1, -1], steps: [-1, -2] });
  assert.deepEqual([...y!.shape], [2, 2]);
  assert.deepEqual(vals(y!), [6, 4, 3, 1]);
  assert.deepEqual([...foldOp('Slice', [x], { starts: [5], ends: [5], steps: [1] })[0]!.shape], [0]);
  assert.throws(() => foldOp('Slice', [x], { starts: [-1], ends: [3], steps: [1] }), IrError);
  assert.throws(() => foldOp('Slice', [x], { starts: [0], ends: [3], steps: [0] }), /step on axis 0 is 0/);
  assert.throws(() => foldOp('Slice', [x], { starts: [0], ends: [11], steps: [1] }), /not normalised/);
});

test('Pad: constant, edge, reflect, wrap, crop', () => {
  const x = i32([3], [1, 2, 3]);
  const pad = (pads: number[], mode: string, v = 0) => vals(foldOp('Pad', [x, i32([], [v])], { pads, mode })[0]!);
  assert.deepEqual(pad([2, 2], 'constant', 9), [9, 9, 1, 2, 3, 9, 9]);
  assert.deepEqual(pad([2, 2], 'edge'), [1, 1, 1, 2, 3, 3, 3]);
  assert.deepEqual(pad([2, 2], 'reflect'), [3, 2, 1, 2, 3, 2, 1]);
  assert.deepEqual(pad([2, 2], 'wrap'), [2, 3, 1, 2, 3, 1, 2]);
  assert.deepEqual(pad([-1, 1], 'constant'), [2, 3, 0]);
  assert.deepEqual(pad([4, 0], 'reflect'), [1, 2, 3, 2, 1, 2, 3]);
  assert.equal(padSource('reflect', 0, 3, 1), 0);
  const m = f32([2, 2], [1, 2, 3, 4]);
  const [y] = foldOp('Pad', [m, f32([], [0])], { pads: [1, 0, 0, 1], mode: 'constant' });
  assert.deepEqual([...y!.shape], [3, 3]);
  assert.deepEqual(vals(y!), [0, 0, 0, 1, 2, 0, 3, 4, 0]);
  assert.throws(() => foldOp('Pad', [x, i32([], [0])], { pads: [1, 1], mode: 'mirror' }), /mode 'mirror'/);
  assert.throws(() => foldOp('Pad', [x, f32([], [0])], { pads: [1, 1], mode: 'constant' }), /value must be a int32 scalar/);
  assert.throws(() => foldOp('Pad', [x, i32([], [0])], { pads: [-2, -2], mode: 'constant' }), /below zero/);
});

test('Expand and Tile fold', () => {
  const [e] = foldOp('Expand', [f32([3, 1], [1, 2, 3])], { shape: [2, 3, 2] });
  assert.deepEqual(vals(e!), [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
  assert.throws(() => foldOp('Expand', [f32([3, 1], [1, 2, 3])], { shape: [2, 2] }), /does not broadcast/);
  const [t] = foldOp('Tile', [i64([1, 2], [1, 2])], { repeats: [2, 3] });
  assert.deepEqual([...t!.shape], [2, 6]);
  assert.deepEqual(vals(t!), [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
});

test('Gather family: negative indices wrap once, out-of-range gives 0', () => {
  const [g] = foldOp('Gather', [f32([3], [10, 20, 30]), i64([4], [-1, 0, 3, -4])], { axis: 0 });
  assert.deepEqual(vals(g!), [30, 10, 0, 0]);
  const [g2] = foldOp('Gather', [i32([2, 3], [1, 2, 3, 4, 5, 6]), i32([2, 2], [2, 0, 1, 1])], { axis: 1 });
  assert.deepEqual([...g2!.shape], [2, 2, 2]);
  assert.deepEqual(vals(g2!), [3, 1, 2, 2, 6, 4, 5, 5]);
  assert.deepEqual(inferOp('Gather', [{ dtype: 'float32', shape: [5, 4, 3] }, { dtype: 'int32', shape: [] }], { axis: 1 }), ['float32[5,3]']);
  assert.throws(() => inferOp('Gather', [{ dtype: 'float32', shape: [5] }, { dtype: 'float32', shape: [2] }], { axis: 0 }), /indices must be int32 or int64/);
  const [ge] = foldOp('GatherElements', [i32([2, 2], [1, 2, 3, 4]), i64([2, 2], [0, 0, 1, -2])], { axis: 1 });
  assert.deepEqual(vals(ge!), [1, 1, 4, 3]);
  const [gn] = foldOp('GatherND', [i32([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]), i64([2, 1], [1, 0])], { batch_dims: 1 });
  assert.deepEqual([...gn!.shape], [2, 2]);
  assert.deepEqual(vals(gn!), [2, 3, 4, 5]);
  const [gn0] = foldOp('GatherND', [i32([2, 2], [0, 1, 2, 3]), i64([3, 2], [0, 0, 1, 1, 5, 0])], { batch_dims: 0 });
  assert.deepEqual(vals(gn0!), [0, 3, 0]);
});

test('ScatterElements / ScatterND: row-major update order, reductions, skipped out-of-range', () => {
  const data = f32([5], [1, 2, 3, 4, 5]);
  const idx = i64([4], [1, 1, -1, 7]);
  const upd = f32([4], [1.1, 2.1, 10, 99]);
  const [a] = foldOp('ScatterElements', [data, idx, upd], { axis: 0, reduction: 'add' });
  const want = Math.fround(Math.fround(2 + Math.fround(1.1)) + Math.fround(2.1));
  assert.deepEqual(vals(a!), [1, want, 3, 4, 15]);
  const [n] = foldOp('ScatterElements', [data, idx, upd], { axis: 0, reduction: 'none' });
  assert.deepEqual(vals(n!), [1, Math.fround(2.1), 3, 4, 10]);
  const [mx] = foldOp('ScatterElements', [i32([3], [5, 5, 5]), i32([2], [0, 2]), i32([2], [7, 1])], { axis: 0, reduction: 'max' });
  assert.deepEqual(vals(mx!), [7, 5, 5]);
  const [s] = foldOp('ScatterND', [i32([8], [1, 2, 3, 4, 5, 6, 7, 8]), i64([4, 1], [4, 3, 1, 7]), i32([4], [9, 10, 11, 12])], { reduction: 'none' });
  assert.deepEqual(vals(s!), [1, 11, 3, 10, 9, 6, 7, 12]);
  const [sm] = foldOp('ScatterND', [i32([2, 2], [1, 2, 3, 4]), i64([2, 1], [1, 1]), i32([2, 2], [2, 3, 4, 5])], { reduction: 'mul' });
  assert.deepEqual(vals(sm!), [1, 2, 24, 60]);
  assert.throws(() => foldOp('ScatterND', [i32([2], [1, 2]), i64([1, 1], [0]), i32([1], [1])], { reduction: 'avg' }), /reduction 'avg'/);
});

test('Trilu, OneHot, ReverseSequence fold', () => {
  const m = i32([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(vals(foldOp('Trilu', [m], { upper: 1, k: 1 })[0]!), [0, 2, 3, 0, 0, 6, 0, 0, 0]);
  assert.deepEqual(vals(foldOp('Trilu', [m], { upper: 0, k: -1 })[0]!), [0, 0, 0, 4, 0, 0, 7, 8, 0]);
  assert.deepEqual(vals(foldOp('Trilu', [m, i64([], [0])], { upper: 0, k: 0 })[0]!), [1, 0, 0, 4, 5, 0, 7, 8, 9]);
  assert.throws(() => foldOp('Trilu', [m, i64([], [0])], { upper: 0, k: 1 }), /attrs.k must be 0/);
  const [oh] = foldOp('OneHot', [i64([3], [0, -1, 5]), f32([2], [0, 1])], { depth: 3, axis: 1 });
  assert.deepEqual([...oh!.shape], [3, 3]);
  assert.deepEqual(vals(oh!), [1, 0, 0, 0, 0, 1, 0, 0, 0]);
  const [oh0] = foldOp('OneHot', [f32([2], [1.7, 0]), i32([2], [-1, 7])], { depth: 2, axis: 0 });
  assert.deepEqual(vals(oh0!), [-1, 7, 7, -1]);
  // time_axis 0, batch_axis 1: x[t, b]
  const x = i32([4, 2], [0, 4, 1, 5, 2, 6, 3, 7]);
  const [rs] = foldOp('ReverseSequence', [x, i64([2], [4, 2])], { batch_axis: 1, time_axis: 0 });
  assert.deepEqual(vals(rs!), [3, 5, 2, 4, 1, 6, 0, 7]);
});

test('shape inference errors name the problem', () => {
  assert.throws(() => inferOp('Concat', [{ dtype: 'float32', shape: [2, 2] }, { dtype: 'float32', shape: [3, 3] }], { axis: 0 }), /differ outside axis 0/);
  assert.throws(() => inferOp('Concat', [{ dtype: 'float32', shape: [2] }], { axis: -1 }), /must be in \[0, 1\)/);
  assert.throws(() => inferOp('Split', [{ dtype: 'float32', shape: [5] }], { axis: 0, splits: [2, 2] }), /sum to 4/);
  assert.throws(() => inferOp('Tile', [{ dtype: 'float32', shape: [5] }], { repeats: [2, 2] }), /repeats/);
  assert.throws(() => inferOp('GatherND', [{ dtype: 'float32', shape: [2, 2] }, { dtype: 'int64', shape: [2, 3] }], { batch_dims: 0 }), /last dim 3/);
  assert.deepEqual(inferOp('Split', [{ dtype: 'bool', shape: [2, 5] }], { axis: 1, splits: [2, 3] }), ['bool[2,2]', 'bool[2,3]']);
  assert.deepEqual(inferOp('Trilu', [{ dtype: 'float32', shape: [2, 3, 3] }, { dtype: 'int64', shape: [] }], { upper: 1, k: 0 }), ['float32[2,3,3]']);
});

// ---------------------------------------------------------------- ONNX lowering on hand-built models

function convert(spec: ModelSpec) {
  const model = onnx.ModelProto.decode(buildModel(spec));
  return importOnnx(model, '/tmp/ops-tensor-test.onnx', {}).graph;
}
const fin = (name: string, dims: number[]) => valueInfo(name, F.FLOAT, dims);
const fout = (name: string) => valueInfo(name, F.FLOAT, undefined);
const outType = (g: ReturnType<typeof convert>, i = 0) => { const t = g.tensors[g.outputs[i]!]!; return `${t.dtype}[${t.shape.join(',')}]`; };

test('ONNX: old-opset attribute forms land on the same IR', () => {
  const sl = convert({ opset: 9, inputs: [fin('x', [4, 6])], outputs: [fout('y')], nodes: [{ op: 'Slice', inputs: ['x'], outputs: ['y'], attrs: { starts: [1, -3], ends: [1000, -1], axes: [0, 1] } }] });
  assert.equal(outType(sl), 'float32[3,2]');
  assert.deepEqual(sl.nodes.map((n) => [n.op, n.attrs]), [['Slice', { starts: [1, 3], ends: [4, 5], steps: [1, 1] }]]);
  const pd = convert({ opset: 2, inputs: [fin('x', [2, 3])], outputs: [fout('y')], nodes: [{ op: 'Pad', inputs: ['x'], outputs: ['y'], attrs: { pads: [0, 1, 0, 2], mode: 'edge' } }] });
  assert.equal(outType(pd), 'float32[2,6]');
  assert.deepEqual(pd.nodes.map((n) => n.attrs), [{ pads: [0, 1, 0, 2], mode: 'edge' }]);
  const sq = convert({ opset: 11, inputs: [fin('x', [1, 3, 1])], outputs: [fout('y')], nodes: [{ op: 'Squeeze', inputs: ['x'], outputs: ['y'], attrs: { axes: [-1] } }] });
  assert.equal(outType(sq), 'float32[1,3]');
  assert.deepEqual(sq.nodes.map((n) => n.op), ['Reshape']);
  const us = convert({ opset: 11, inputs: [fin('x', [3])], outputs: [fout('y')], nodes: [{ op: 'Unsqueeze', inputs: ['x'], outputs: ['y'], attrs: { axes: [0, -1] } }] });
  assert.equal(outType(us), 'float32[1,3,1]');
});

test('ONNX: Split num_outputs (opset 18), Pad axes input (opset 18), Shape start/end', () => {
  const sp = convert({ opset: 18, inputs: [fin('x', [7])], outputs: [fout('a'), fout('b'), fout('c')], nodes: [{ op: 'Split', inputs: ['x'], outputs: ['a', 'b', 'c'], attrs: { num_outputs: 3 } }] });
  assert.deepEqual([0, 1, 2].map((i) => outType(sp, i)), ['float32[3]', 'float32[3]', 'float32[1]']);
  const pd = convert({
    opset: 18, inputs: [fin('x', [2, 3])], outputs: [fout('y')],
    initializers: [int64Tensor('p', [2], [1, 2]), floatTensor('v', [], [5]), int64Tensor('ax', [1], [-1])],
    nodes: [{ op: 'Pad', inputs: ['x', 'p', 'v', 'ax'], outputs: ['y'], attrs: { mode: 'reflect' } }],
  });
  assert.equal(outType(pd), 'float32[2,6]');
  assert.deepEqual(pd.nodes[0]!.attrs, { pads: [0, 1, 0, 2], mode: 'reflect' });
  const sh = convert({ opset: 15, inputs: [fin('x', [2, 3, 4, 5])], outputs: [valueInfo('s', F.INT64, undefined)], nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'], attrs: { start: 1, end: -1 } }] });
  assert.equal(outType(sh), 'int64[2]');
  assert.equal(sh.nodes.length, 0, 'Shape folds to a constant');
});

test('ONNX: Shape-driven subgraph folds (Shape → Gather → Unsqueeze → Concat → Reshape)', () => {
  const g = convert({
    opset: 13, inputs: [fin('x', [2, 3, 4])], outputs: [fout('y')],
    initializers: [int64Tensor('i0', [], [0]), int64Tensor('ax', [1], [0]), int64Tensor('m1', [1], [-1])],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'i0'], outputs: ['d0'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['d0', 'ax'], outputs: ['d0u'] },
      { op: 'Concat', inputs: ['d0u', 'm1'], outputs: ['shp'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shp'], outputs: ['y'] },
    ],
  });
  assert.equal(outType(g), 'float32[2,12]');
  assert.deepEqual(g.nodes.map((n) => n.op), ['Reshape']);
});

test('ONNX: NonZero / Compress / Unique fold when constant, else dynamic-shape', () => {
  const nz = convert({ opset: 13, inputs: [], outputs: [valueInfo('y', F.INT64, undefined)], initializers: [floatTensor('c', [2, 2], [1, 0, 0, 3])], nodes: [{ op: 'NonZero', inputs: ['c'], outputs: ['y'] }] });
  assert.equal(outType(nz), 'int64[2,2]');
  assert.throws(
    () => convert({ opset: 13, inputs: [fin('x', [2, 2])], outputs: [valueInfo('y', F.INT64, undefined)], nodes: [{ op: 'NonZero', inputs: ['x'], outputs: ['y'] }] }),
    (e: unknown) => e instanceof ConvertError && e.category === 'dynamic-shape' && /NonZero.*only a constant input/.test(e.message),
  );
  const cond = onnx.TensorProto.create({ name: 'cond', dataType: F.BOOL, dims: [3], rawData: new Uint8Array([0, 1, 1]) });
  const cp = convert({ opset: 11, inputs: [fin('x', [3, 2])], outputs: [fout('y')], initializers: [cond], nodes: [{ op: 'Compress', inputs: ['x', 'cond'], outputs: ['y'], attrs: { axis: 0 } }] });
  assert.equal(outType(cp), 'float32[2,2]');
  assert.deepEqual(cp.nodes.map((n) => n.op), ['Gather']);
  const un = convert({
    opset: 11, inputs: [], outputs: ['y', 'i', 'inv', 'cnt'].map((n) => valueInfo(n, n === 'y' ? F.FLOAT : F.INT64, undefined)),
    initializers: [floatTensor('c', [6], [2, 1, 1, 3, 4, 3])], nodes: [{ op: 'Unique', inputs: ['c'], outputs: ['y', 'i', 'inv', 'cnt'], attrs: { sorted: 0 } }],
  });
  assert.deepEqual([0, 1, 2, 3].map((i) => outType(un, i)), ['float32[4]', 'int64[4]', 'int64[6]', 'int64[4]']);
});

test('ONNX: Einsum lowers to MatMul / Mul + ReduceSum and folds to the right values', () => {
  const A = [1, 2, 3, 4, 5, 6]; // [2,3]
  const B = [1, 0, 2, 1, 0, 3]; // [3,2]
  const mm = convert({ opset: 12, inputs: [], outputs: [fout('y')], initializers: [floatTensor('a', [2, 3], A), floatTensor('b', [3, 2], B)], nodes: [{ op: 'Einsum', inputs: ['a', 'b'], outputs: ['y'], attrs: { equation: 'ij,jk->ik' } }] });
  assert.equal(outType(mm), 'float32[2,2]');
  const y = mm.constants.get(mm.outputs[0]!)!.read();
  assert.deepEqual([...new Float32Array(y.buffer, y.byteOffset, 4)], [1 * 1 + 2 * 2 + 3 * 0, 1 * 0 + 2 * 1 + 3 * 3, 4 + 10 + 0, 0 + 5 + 18]);
  const g = convert({ opset: 12, inputs: [fin('a', [5, 2, 3]), fin('b', [5, 3, 4])], outputs: [fout('y')], nodes: [{ op: 'Einsum', inputs: ['a', 'b'], outputs: ['y'], attrs: { equation: 'bij,bjk->bki' } }] });
  assert.equal(outType(g), 'float32[5,4,2]');
  assert.ok(g.nodes.some((n) => n.op === 'MatMul'));
  const t = convert({ opset: 12, inputs: [fin('a', [2, 3, 4])], outputs: [fout('y')], nodes: [{ op: 'Einsum', inputs: ['a'], outputs: ['y'], attrs: { equation: '...ij->...ji' } }] });
  assert.equal(outType(t), 'float32[2,4,3]');
  const s = convert({ opset: 12, inputs: [fin('a', [2, 3])], outputs: [fout('y')], nodes: [{ op: 'Einsum', inputs: ['a'], outputs: ['y'], attrs: { equation: 'ij->i' } }] });
  assert.equal(outType(s), 'float32[2]');
  assert.deepEqual(s.nodes.map((n) => n.op), ['ReduceSum']);
  const ip = convert({ opset: 12, inputs: [fin('a', [3]), fin('b', [3])], outputs: [fout('y')], nodes: [{ op: 'Einsum', inputs: ['a', 'b'], outputs: ['y'], attrs: { equation: 'i,i' } }] });
  assert.equal(outType(ip), 'float32[]');
  const dg = convert({ opset: 12, inputs: [], outputs: [fout('y')], initializers: [floatTensor('a', [3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])], nodes: [{ op: 'Einsum', inputs: ['a'], outputs: ['y'], attrs: { equation: 'ii->i' } }] });
  const dv = dg.constants.get(dg.outputs[0]!)!.read();
  assert.deepEqual([...new Float32Array(dv.buffer, dv.byteOffset, 3)], [1, 5, 9]);
  assert.throws(() => convert({ opset: 12, inputs: [fin('a', [3])], outputs: [fout('y')], nodes: [{ op: 'Einsum', inputs: ['a'], outputs: ['y'], attrs: { equation: 'ij->i' } }] }), /has 2 labels/);
});

test('ONNX: constant out-of-range Gather indices convert with a warning', () => {
  const warnings: string[] = [];
  const model = onnx.ModelProto.decode(buildModel({ opset: 13, inputs: [fin('x', [3, 2])], outputs: [fout('y')], initializers: [int64Tensor('i', [2], [-1, 3])], nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: { axis: 0 } }] }));
  const g = importOnnx(model, '/tmp/g.onnx', { warnings: { warn: (m) => warnings.push(m) } }).graph;
  assert.equal(outType(g), 'float32[2,2]');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /Gather.*outside \[-3, 3\).*yields 0/);
});

// ---------------------------------------------------------------- ONNX backend test data

const TENSOR_CASES = /^node\/test_(concat|shape|reshape|triu|tril|flatten|unsqueeze|squeeze|slice|transpose|split|gather|scatter|range|onehot|depthtospace|spacetodepth|compress|unique|nonzero|eyelike|constantofshape|tile|expand|size|reversesequence|edge_pad|reflect_pad|constant_pad)/;

test('backend test data: tensor ops convert with matching shapes (or fail as dynamic-shape/dtype)', { skip: !testdataAvailable() }, () => {
  assert.ok(casesMatching(TENSOR_CASES).length > 100);
  assert.deepEqual(shapeFailures(TENSOR_CASES).filter((f) => !/^test_range_.*_expanded: .*Loop/.test(f)), []);
});

test('backend test data: tensor ops fold to the expected values with constant inputs', { skip: !testdataAvailable() }, () => {
  let ok = 0;
  const bad: string[] = [];
  for (const c of casesMatching(TENSOR_CASES)) {
    if (/_expanded$/.test(c.name) || c.name === 'test_eyelike_with_dtype') continue;
    const { got, want } = foldCase(c);
    got.forEach((g, i) => {
      const m = g ? compareHost(g, want[i]!) : 'not folded';
      if (m) bad.push(`${c.name} output ${i}: ${m}`);
    });
    ok++;
  }
  assert.deepEqual(bad, []);
  assert.ok(ok > 120, `${ok} cases checked`);
});

test('ONNX: run-time shape inputs fail with dynamic-shape and name the input', () => {
  const dyn = (e: unknown, re: RegExp) => e instanceof ConvertError && e.category === 'dynamic-shape' && re.test(e.message);
  assert.throws(
    () => convert({ opset: 14, inputs: [fin('x', [2, 3]), valueInfo('s', F.INT64, [2])], outputs: [fout('y')], nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }] }),
    (e: unknown) => dyn(e, /Reshape.*shape \(input 1\) must be a constant/),
  );
  assert.throws(
    () => convert({ opset: 13, inputs: [fin('x', [2, 3]), valueInfo('st', F.INT64, [1]), valueInfo('en', F.INT64, [1])], outputs: [fout('y')], nodes: [{ op: 'Slice', inputs: ['x', 'st', 'en'], outputs: ['y'] }] }),
    (e: unknown) => dyn(e, /Slice.*starts/),
  );
  assert.throws(
    () => convert({ opset: 11, inputs: [valueInfo('a', F.INT64, []), valueInfo('b', F.INT64, []), valueInfo('d', F.INT64, [])], outputs: [valueInfo('y', F.INT64, undefined)], nodes: [{ op: 'Range', inputs: ['a', 'b', 'd'], outputs: ['y'] }] }),
    (e: unknown) => dyn(e, /Range.*must be constants/),
  );
  // Trilu's k does not decide the output shape: a run-time k stays an input of the IR node.
  const tr = convert({ opset: 14, inputs: [fin('x', [3, 3]), valueInfo('k', F.INT64, [])], outputs: [fout('y')], nodes: [{ op: 'Trilu', inputs: ['x', 'k'], outputs: ['y'] }] });
  assert.deepEqual(tr.nodes.map((n) => [n.op, n.inputs.length]), [['Trilu', 2]]);
});
