/**
 * Reductions, ArgMax/ArgMin, the softmax family, CumSum and TopK: folds in the documented order
 * checked against hand-computed values, inference errors, ONNX opset forms, and the backend test data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostTensor } from '../ir/host-tensor.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { GraphBuilder } from '../ir/builder.ts';
import { onnx } from '../onnx/proto.ts';
import { importOnnx } from '../onnx/import.ts';
import { ConvertError } from '../errors.ts';
import { testdataAvailable } from '../conformance/testdata.ts';
import { buildModel, F, int64Tensor, valueInfo } from './helpers/onnx-build.ts';
import type { ModelSpec } from './helpers/onnx-build.ts';
import { casesMatching, compareHost, foldCase, foldOp, inferOp, shapeFailures } from './helpers/ops-testdata.ts';

const f32 = (dims: number[], v: number[]) => hostTensor('float32', dims, v);
const i32 = (dims: number[], v: number[]) => hostTensor('int32', dims, v);
const vals = (t: HostTensor) => Array.from(t.data as ArrayLike<number | bigint>, (x) => Number(x));
const red = (op: string, x: HostTensor, axes: number[], keepdims = 0) => foldOp(op, [x], { axes, keepdims })[0]!;

test('ReduceSum folds in the documented row-major order, rounding each step', () => {
  // Left to right in float32: ((1e8 + 1) − 1e8) + 1 = 1; a pairwise sum would give 0.
  assert.deepEqual(vals(red('ReduceSum', f32([4], [1e8, 1, -1e8, 1]), [0])), [1]);
  const x = f32([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const y = red('ReduceSum', x, [0, 2], 1);
  assert.deepEqual([...y.shape], [1, 2, 1]);
  assert.deepEqual(vals(y), [1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12]);
  assert.deepEqual(vals(red('ReduceSum', hostTensor('int8', [2], [127, 1]), [0])), [-128], 'integers wrap');
  assert.deepEqual(vals(red('ReduceSum', f32([0, 3], []), [0])), [0, 0, 0], 'empty set sums to 0');
  assert.ok(Object.is(vals(red('ReduceSum', f32([1], [-0]), [0]))[0], 0), 'acc starts at +0');
});

test('ReduceMean / Max / Min / Prod / L1 / L2 / SumSquare folds', () => {
  const x = f32([2, 3], [1, -2, 3, 4, 5, -6]);
  assert.deepEqual(vals(red('ReduceMean', x, [1])), [Math.fround(2 / 3), 1]);
  assert.deepEqual(vals(red('ReduceMean', i32([2], [-7, 0]), [0])), [-3], 'integer mean truncates toward zero');
  assert.deepEqual(vals(red('ReduceMax', x, [0, 1])), [5]);
  assert.deepEqual(vals(red('ReduceMin', x, [0])), [1, -2, -6]);
  assert.ok(Number.isNaN(vals(red('ReduceMax', f32([3], [1, NaN, 2]), [0]))[0]!), 'NaN propagates');
  assert.deepEqual(vals(red('ReduceMax', f32([0], []), [0])), [-Infinity]);
  assert.deepEqual(vals(red('ReduceMin', hostTensor('int16', [0], []), [0])), [32767]);
  assert.deepEqual(vals(red('ReduceProd', x, [1])), [-6, -120]);
  assert.deepEqual(vals(red('ReduceL1', x, [1])), [6, 15]);
  assert.deepEqual(vals(red('ReduceSumSquare', x, [1])), [14, 77]);
  assert.deepEqual(vals(red('ReduceL2', f32([2], [3, 4]), [0])), [5]);
  assert.deepEqual(vals(red('ReduceSumSquare', i32([2], [65536, 1]), [0])), [1], 'int32 squares wrap');
});

test('transcendental reductions and softmax have no host fold', () => {
  const b = new GraphBuilder();
  const c = b.addConstant('c', f32([2], [1, 2]));
  for (const [op, attrs] of [['ReduceLogSum', { axes: [0], keepdims: 0 }], ['ReduceLogSumExp', { axes: [0], keepdims: 1 }], ['Softmax', { axis: 0 }], ['LogSoftmax', { axis: 0 }]] as const) {
    const [y] = b.emit(op, [c], attrs);
    assert.equal(b.isConstant(y!), false, `${op} must not fold`);
  }
});

test('reduce inference: axes must be sorted, unique, in range, non-empty; dtype rules', () => {
  const t = [{ dtype: 'float32', shape: [2, 3, 4] }];
  assert.deepEqual(inferOp('ReduceSum', t, { axes: [0, 2], keepdims: 0 }), ['float32[3]']);
  assert.deepEqual(inferOp('ReduceMax', t, { axes: [1], keepdims: 1 }), ['float32[2,1,4]']);
  assert.throws(() => inferOp('ReduceSum', t, { axes: [2, 0], keepdims: 0 }), /sorted/);
  assert.throws(() => inferOp('ReduceSum', t, { axes: [], keepdims: 0 }), /non-empty/);
  assert.throws(() => inferOp('ReduceSum', t, { axes: [3], keepdims: 0 }), /axis 3/);
  assert.throws(() => inferOp('ReduceL2', [{ dtype: 'int32', shape: [2] }], { axes: [0], keepdims: 0 }), /float32/);
  assert.throws(() => inferOp('ReduceSum', [{ dtype: 'bool', shape: [2] }], { axes: [0], keepdims: 0 }), /bool/);
  assert.throws(() => inferOp('ArgMax', [{ dtype: 'float32', shape: [2, 0] }], { axis: 1, keepdims: 1, select_last_index: 0 }), /empty/);
  assert.throws(() => inferOp('Softmax', [{ dtype: 'int32', shape: [2] }], { axis: 0 }), /float32/);
});

test('ArgMax / ArgMin: first or last of ties, keepdims, int64 output', () => {
  const x = f32([2, 4], [1, 3, 3, 2, 0, -1, -1, 5]);
  const am = (op: string, axis: number, keepdims: number, last: number) => foldOp(op, [x], { axis, keepdims, select_last_index: last })[0]!;
  assert.equal(am('ArgMax', 1, 0, 0).dtype, 'int64');
  assert.deepEqual(vals(am('ArgMax', 1, 0, 0)), [1, 3]);
  assert.deepEqual(vals(am('ArgMax', 1, 0, 1)), [2, 3]);
  assert.deepEqual(vals(am('ArgMin', 1, 1, 0)), [0, 1]);
  assert.deepEqual([...am('ArgMin', 1, 1, 1).shape], [2, 1]);
  assert.deepEqual(vals(am('ArgMin', 1, 1, 1)), [0, 2]);
  assert.deepEqual(vals(am('ArgMax', 0, 0, 0)), [0, 0, 0, 1]);
  // NaN counts as the extreme (numpy): first NaN, or last NaN with select_last_index.
  const n = f32([5], [1, NaN, 7, NaN, 0]);
  const an = (op: string, last: number) => vals(foldOp(op, [n], { axis: 0, keepdims: 0, select_last_index: last })[0]!);
  assert.deepEqual([an('ArgMax', 0), an('ArgMax', 1), an('ArgMin', 0), an('ArgMin', 1)], [[1], [3], [1], [3]]);
  assert.deepEqual(vals(foldOp('Hardmax', [n], { axis: 0 })[0]!), [0, 1, 0, 0, 0]);
});

test('Hardmax, CumSum and TopK fold', () => {
  assert.deepEqual(vals(foldOp('Hardmax', [f32([2, 3], [1, 3, 3, 0, 0, -1])], { axis: 1 })[0]!), [0, 1, 0, 1, 0, 0]);
  const x = f32([5], [1, 2, 3, 4, 5]);
  const cs = (exclusive: number, reverse: number) => vals(foldOp('CumSum', [x], { axis: 0, exclusive, reverse })[0]!);
  assert.deepEqual(cs(0, 0), [1, 3, 6, 10, 15]);
  assert.deepEqual(cs(1, 0), [0, 1, 3, 6, 10]);
  assert.deepEqual(cs(0, 1), [15, 14, 12, 9, 5]);
  assert.deepEqual(cs(1, 1), [14, 12, 9, 5, 0]);
  assert.deepEqual(vals(foldOp('CumSum', [i32([2, 2], [1, 2, 3, 4])], { axis: 0, exclusive: 0, reverse: 0 })[0]!), [1, 2, 4, 6]);
  const t = f32([5], [3, 1, NaN, 3, 2]);
  const [v, i] = foldOp('TopK', [t], { axis: 0, k: 3, largest: 1 });
  assert.ok(Number.isNaN(vals(v!)[0]!));
  assert.deepEqual(vals(v!).slice(1), [3, 3]);
  assert.deepEqual(vals(i!), [2, 0, 3]);
  const [v2, i2] = foldOp('TopK', [i32([2, 3], [5, 1, 4, 0, 9, 9])], { axis: 1, k: 2, largest: 0 });
  assert.deepEqual([vals(v2!), vals(i2!)], [[1, 4, 0, 9], [1, 2, 0, 1]]);
  assert.throws(() => foldOp('TopK', [t], { axis: 0, k: 6, largest: 1 }), /k = 6/);
});

// ---------------------------------------------------------------- ONNX lowering

function convert(spec: ModelSpec) {
  return importOnnx(onnx.ModelProto.decode(buildModel(spec)), '/tmp/ops-reduce-test.onnx', {}).graph;
}
const fin = (name: string, dims: number[]) => valueInfo(name, F.FLOAT, dims);
const fout = (name: string) => valueInfo(name, F.FLOAT, undefined);
const outType = (g: ReturnType<typeof convert>, i = 0) => { const t = g.tensors[g.outputs[i]!]!; return `${t.dtype}[${t.shape.join(',')}]`; };

test('ONNX: reduce axes as attribute (old opsets) and as input (ReduceSum 13, others 18) give one IR form', () => {
  const a = convert({ opset: 11, inputs: [fin('x', [2, 3, 4])], outputs: [fout('y')], nodes: [{ op: 'ReduceMax', inputs: ['x'], outputs: ['y'], attrs: { axes: [-1, 0], keepdims: 0 } }] });
  const b = convert({ opset: 18, inputs: [fin('x', [2, 3, 4])], outputs: [fout('y')], initializers: [int64Tensor('ax', [2], [-1, 0])], nodes: [{ op: 'ReduceMax', inputs: ['x', 'ax'], outputs: ['y'], attrs: { keepdims: 0 } }] });
  for (const g of [a, b]) {
    assert.equal(outType(g), 'float32[3]');
    assert.deepEqual(g.nodes.map((n) => [n.op, n.attrs]), [['ReduceMax', { axes: [0, 2], keepdims: 0 }]]);
  }
  const s13 = convert({ opset: 13, inputs: [fin('x', [2, 3])], outputs: [fout('y')], nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'] }] });
  assert.deepEqual(s13.nodes.map((n) => n.attrs), [{ axes: [0, 1], keepdims: 1 }], 'no axes = all axes');
  const noop = convert({ opset: 13, inputs: [fin('x', [2, 3])], outputs: [fout('y')], nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: { noop_with_empty_axes: 1 } }] });
  assert.equal(noop.nodes.length, 0);
  assert.equal(outType(noop), 'float32[2,3]');
  const l2 = convert({ opset: 13, inputs: [valueInfo('x', F.INT32, [2, 3])], outputs: [valueInfo('y', F.INT32, undefined)], nodes: [{ op: 'ReduceL2', inputs: ['x'], outputs: ['y'], attrs: { axes: [1] } }] });
  assert.deepEqual(l2.nodes.map((n) => n.op), ['Cast', 'ReduceL2', 'Cast']);
  assert.equal(outType(l2), 'int32[2,1]');
});

test('ONNX: Softmax opset < 13 coerces to 2-D; opset 13 works on one axis', () => {
  const old = convert({ opset: 11, inputs: [fin('x', [2, 3, 4])], outputs: [fout('y')], nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'] }] });
  assert.deepEqual(old.nodes.map((n) => [n.op, n.attrs]), [['Reshape', { shape: [2, 12] }], ['Softmax', { axis: 1 }], ['Reshape', { shape: [2, 3, 4] }]]);
  assert.equal(outType(old), 'float32[2,3,4]');
  const last = convert({ opset: 11, inputs: [fin('x', [2, 3, 4])], outputs: [fout('y')], nodes: [{ op: 'LogSoftmax', inputs: ['x'], outputs: ['y'], attrs: { axis: -1 } }] });
  assert.deepEqual(last.nodes.map((n) => [n.op, n.attrs]), [['LogSoftmax', { axis: 2 }]]);
  const nw = convert({ opset: 13, inputs: [fin('x', [2, 3, 4])], outputs: [fout('y')], nodes: [{ op: 'Hardmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1 } }] });
  assert.deepEqual(nw.nodes.map((n) => [n.op, n.attrs]), [['Hardmax', { axis: 1 }]]);
});

test('ONNX: TopK k from attribute (opset < 10) or constant input; ArgMax defaults', () => {
  const t1 = convert({ opset: 9, inputs: [fin('x', [3, 5])], outputs: [fout('v'), valueInfo('i', F.INT64, undefined)], nodes: [{ op: 'TopK', inputs: ['x'], outputs: ['v', 'i'], attrs: { k: 2 } }] });
  assert.deepEqual([outType(t1, 0), outType(t1, 1)], ['float32[3,2]', 'int64[3,2]']);
  const topk = (k: number) => convert({ opset: 11, inputs: [fin('x', [3, 5])], outputs: [fout('v'), valueInfo('i', F.INT64, undefined)], initializers: [int64Tensor('k', [1], [k])], nodes: [{ op: 'TopK', inputs: ['x', 'k'], outputs: ['v', 'i'], attrs: { axis: 0, largest: 0 } }] });
  assert.deepEqual(topk(2).nodes.map((n) => n.attrs), [{ axis: 0, k: 2, largest: 0 }]);
  assert.throws(() => topk(4), (e: unknown) => e instanceof ConvertError && e.category === 'invalid-model' && /k = 4 is outside \[0, 3\]/.test(e.message));
  const am = convert({ opset: 13, inputs: [fin('x', [3, 5])], outputs: [valueInfo('y', F.INT64, undefined)], nodes: [{ op: 'ArgMax', inputs: ['x'], outputs: ['y'] }] });
  assert.deepEqual(am.nodes.map((n) => n.attrs), [{ axis: 0, keepdims: 1, select_last_index: 0 }]);
  assert.equal(outType(am), 'int64[1,5]');
});

// ---------------------------------------------------------------- ONNX backend test data

const REDUCE_CASES = /^node\/test_(reduce|argmax|argmin|softmax|logsoftmax|hardmax|cumsum|top_k|einsum)/;

test('backend test data: reduce-family ops convert with matching shapes (or fail as dtype)', { skip: !testdataAvailable() }, () => {
  assert.ok(casesMatching(REDUCE_CASES).length > 150);
  assert.deepEqual(shapeFailures(REDUCE_CASES), []);
});

test('backend test data: folded values match the expected outputs', { skip: !testdataAvailable() }, () => {
  const noFold = /^test_(softmax|logsoftmax|reduce_log_sum)/;
  const bad: string[] = [];
  let checked = 0;
  for (const c of casesMatching(REDUCE_CASES)) {
    const { got, want } = foldCase(c);
    got.forEach((g, i) => {
      if (!g) { if (!noFold.test(c.name)) bad.push(`${c.name}: not folded`); return; }
      // The reference sums in another order (and float64 for some cases): compare float results to 1e-5.
      const m = compareHost(g, want[i]!, 1e-5);
      if (m) bad.push(`${c.name} output ${i}: ${m}`);
      checked++;
    });
  }
  assert.deepEqual(bad, []);
  assert.ok(checked > 100, `${checked} outputs checked`);
});
