/**
 * IR nn ops (MatMul, Conv, pools, norms, Resize …) and their ONNX lowerings: hand-computed folds that
 * pin the documented reduction orders, shape inference and errors, lowering details (auto_pad,
 * output_shape, Gemm transposes), and the ONNX backend test data folded end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../ir/builder.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import type { Attrs } from '../ir/types.ts';
import { shape } from '../ir/types.ts';
import { getOp } from '../ir/op-registry.ts';
import { windowOutDim } from '../ir/ops/nn.ts';
import { convertFile, convertSpec, expectConvertError } from './helpers/convert.ts';
import { F, floatTensor, int64Tensor, tmpDir, valueInfo, writeModel } from './helpers/onnx-build.ts';
import type { ModelSpec } from './helpers/onnx-build.ts';
import { convertCase, foldedCaseError, testCase, testdataAvailable } from './helpers/ops-nn-eval.ts';
import { runShapeConformance } from '../conformance/shapes.ts';

const f32 = Math.fround;

/** Fold one IR op over constant inputs and return its outputs' values. */
function fold(op: string, inputs: HostTensor[], attrs: Attrs): HostTensor[] {
  const b = new GraphBuilder();
  const ids = inputs.map((t, i) => b.addConstant(`in${i}`, t));
  const outs = b.emit(op, ids, attrs);
  return outs.map((o) => {
    const v = b.constValue(o);
    assert.ok(v, `${op} did not fold`);
    return v;
  });
}

function infer(op: string, types: { dtype: 'float32' | 'int64' | 'uint8' | 'int8' | 'int32'; shape: number[] }[], attrs: Attrs) {
  return getOp(op).infer(types.map((t) => ({ dtype: t.dtype, shape: shape(t.shape) })), attrs).map((t) => `${t.dtype}[${t.shape.join('x')}]`);
}

const ft = (dims: number[], v: number[]) => hostTensor('float32', dims, Float32Array.from(v));
const vals = (t: HostTensor) => [...(t.data as Float32Array)];

const convert = convertSpec;

// ---------------------------------------------------------------- IR folds, hand-computed

test('MatMul folds in increasing k order from +0, rounding each product and sum', () => {
  // 1e8 + 1 rounds back to 1e8 in float32, so the sequential order gives 0, other orders give 1.
  const [y] = fold('MatMul', [ft([1, 3], [1e8, 1, -1e8]), ft([3, 1], [1, 1, 1])], {});
  assert.deepEqual(vals(y!), [0]);
  // products are rounded before the sum: 3·(1/3) in float32 is 1 exactly? f32(f32(1/3)·3) = 1
  const [z] = fold('MatMul', [ft([2, 2], [1, 2, 3, 4]), ft([2], [5, 6])], {});
  assert.deepEqual([...z!.shape], [2]);
  assert.deepEqual(vals(z!), [17, 39]);
  // K = 0 gives +0; batch dims broadcast
  const [e] = fold('MatMul', [ft([2, 0], []), ft([0, 3], [])], {});
  assert.deepEqual(vals(e!), [0, 0, 0, 0, 0, 0]);
  assert.ok(vals(e!).every((v) => Object.is(v, 0)));
  const [bb] = fold('MatMul', [ft([2, 1, 1, 2], [1, 2, 3, 4]), ft([3, 2, 1], [1, 1, 2, 2, 3, 3])], {});
  assert.deepEqual([...bb!.shape], [2, 3, 1, 1]);
  assert.deepEqual(vals(bb!), [3, 6, 9, 7, 14, 21]);
});

test('MatMul shape rules and errors', () => {
  assert.deepEqual(infer('MatMul', [{ dtype: 'float32', shape: [3] }, { dtype: 'float32', shape: [3] }], {}), ['float32[]']);
  assert.deepEqual(infer('MatMul', [{ dtype: 'float32', shape: [5, 1, 2, 3] }, { dtype: 'float32', shape: [4, 3, 6] }], {}), ['float32[5x4x2x6]']);
  assert.throws(() => infer('MatMul', [{ dtype: 'float32', shape: [2, 3] }, { dtype: 'float32', shape: [4, 2] }], {}), /inner dimensions differ/);
  assert.throws(() => infer('MatMul', [{ dtype: 'int64', shape: [2, 3] }, { dtype: 'int64', shape: [3, 2] }], {}), /must be float32/);
});

test('Conv folds c-major then kernel row-major, skipping padding, bias last', () => {
  // 1x1x3 input, kernel 3, pad 1 each side: y[0] = x0·w1 + x1·w2, y[1] = x0w0+x1w1+x2w2, y[2] = x1w0 + x2w1
  const [y] = fold('Conv', [ft([1, 1, 3], [1, 2, 3]), ft([1, 1, 3], [10, 100, 1000]), ft([1], [0.5])], { group: 1, strides: [1], dilations: [1], pads: [1, 1] });
  assert.deepEqual(vals(y!), [2100.5, 3210.5, 320.5]);
  // order: acc = ((x0w0 + x0'w0') …) over channels then kernel; big cancellation shows the order
  const [z] = fold('Conv', [ft([1, 2, 2], [1e8, 1, -1e8, 0]), ft([1, 2, 1], [1, 1])], { group: 1, strides: [1], dilations: [1], pads: [0, 0] });
  // position 0: c0 term 1e8, then c1 term −1e8 → 0 ; position 1: 1 + 0 = 1
  assert.deepEqual(vals(z!), [0, 1]);
  // groups and strides/dilations
  assert.deepEqual(infer('Conv', [{ dtype: 'float32', shape: [1, 4, 9, 9] }, { dtype: 'float32', shape: [6, 2, 3, 3] }], { group: 2, strides: [2, 1], dilations: [1, 2], pads: [1, 0, 1, 0] }), ['float32[1x6x5x5]']);
  assert.throws(() => infer('Conv', [{ dtype: 'float32', shape: [1, 4, 9, 9] }, { dtype: 'float32', shape: [6, 3, 3, 3] }], { group: 2, strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }), /input channels/);
  assert.throws(() => infer('Conv', [{ dtype: 'float32', shape: [1, 1, 2, 2] }, { dtype: 'float32', shape: [1, 1, 3, 3] }], { group: 1, strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }), /does not fit/);
  assert.throws(() => infer('Conv', [{ dtype: 'float32', shape: [1, 1, 5, 5] }, { dtype: 'float32', shape: [1, 1, 3, 3] }], { group: 1, strides: [1, 1], dilations: [1, 1], pads: [0, 0] }), /pads has 2 values, expected 4/);
});

test('ConvTranspose fold and output length', () => {
  // x = [1, 2], w = [1, 10], stride 2: full output [1, 10, 2, 20], then crop pads [1, 0] → [10, 2, 20]
  const [y] = fold('ConvTranspose', [ft([1, 1, 2], [1, 2]), ft([1, 1, 2], [1, 10])], { group: 1, strides: [2], dilations: [1], pads: [1, 0], output_padding: [1] });
  assert.deepEqual(vals(y!), [10, 2, 20, 0]);
  assert.deepEqual(infer('ConvTranspose', [{ dtype: 'float32', shape: [1, 4, 3, 3] }, { dtype: 'float32', shape: [4, 3, 3, 3] }], { group: 2, strides: [3, 2], dilations: [1, 1], pads: [0, 0, 0, 0], output_padding: [1, 0] }), ['float32[1x6x10x7]']);
});

test('pools: windows, ceil mode, count_include_pad, indices', () => {
  assert.equal(windowOutDim(5, 2, 2, 1, 0, 0, false), 2);
  assert.equal(windowOutDim(5, 2, 2, 1, 0, 0, true), 3);
  // ceil mode never starts a window in the end padding: in 4, k 2, s 2, pads 1/1 → 3 (not 4)
  assert.equal(windowOutDim(4, 2, 2, 1, 1, 1, true), 3);
  const x = ft([1, 1, 3], [1, 2, 4]);
  const base = { kernel_shape: [2], strides: [2], dilations: [1], pads: [1, 0], ceil_mode: 0 };
  // windows [pad, 1], [2, 4]
  assert.deepEqual(vals(fold('AveragePool', [x], { ...base, count_include_pad: 0 })[0]!), [1, 3]);
  assert.deepEqual(vals(fold('AveragePool', [x], { ...base, count_include_pad: 1 })[0]!), [0.5, 3]);
  assert.deepEqual(vals(fold('MaxPool', [x], base)[0]!), [1, 4]);
  // ceil mode: the last window [4, beyond] counts only real and padded positions
  const ce = { kernel_shape: [2], strides: [2], dilations: [1], pads: [0, 0], ceil_mode: 1 };
  assert.deepEqual(vals(fold('AveragePool', [x], { ...ce, count_include_pad: 1 })[0]!), [1.5, 4]);
  // indices include batch and channel offsets; storage_order 1 is column-major
  const x2 = ft([1, 2, 2, 3], [0, 9, 0, 0, 0, 0, /* c1 */ 0, 0, 0, 7, 0, 0]);
  const k = { kernel_shape: [2, 3], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], ceil_mode: 0 };
  const [, i0] = fold('MaxPoolWithIndices', [x2], { ...k, storage_order: 0 });
  assert.deepEqual([...(i0!.data as BigInt64Array)], [1n, 9n]);
  const [, i1] = fold('MaxPoolWithIndices', [x2], { ...k, storage_order: 1 });
  assert.deepEqual([...(i1!.data as BigInt64Array)], [2n, 6n + 1n]);
  assert.throws(() => infer('MaxPool', [{ dtype: 'float32', shape: [1, 1, 5] }], { kernel_shape: [2], strides: [1], dilations: [1], pads: [2, 0], ceil_mode: 0 }), /smaller than the window/);
  assert.deepEqual(infer('GlobalAveragePool', [{ dtype: 'float32', shape: [2, 3, 4, 5, 6] }], {}), ['float32[2x3x1x1x1]']);
  assert.deepEqual(vals(fold('GlobalAveragePool', [ft([1, 1, 3], [1, 2, 4])], {})[0]!), [f32(7 / 3)]);
  assert.deepEqual(vals(fold('GlobalMaxPool', [ft([1, 2, 2], [1, -3, -5, -2])], {})[0]!), [1, -2]);
});

test('BatchNormalization folds (x − mean) / sqrt(var + eps) · scale + B in that order', () => {
  const x = ft([1, 2, 2], [1, 2, 3, 4]);
  const [y] = fold('BatchNormalization', [x, ft([2], [2, 1]), ft([2], [1, 0]), ft([2], [1, 3]), ft([2], [3, 0.25])], { epsilon: 1 });
  // c0: (x − 1)/2·2 + 1 → 1, 2 ; c1: (x − 3)/sqrt(1.25) → rounded per step
  const s1 = f32(Math.sqrt(f32(0.25 + 1)));
  assert.deepEqual(vals(y!), [1, 2, f32(f32(0 / s1)), f32(1 / s1)]);
  assert.throws(() => fold('BatchNormalization', [x, ft([3], [1, 1, 1]), ft([2], [0, 0]), ft([2], [0, 0]), ft([2], [1, 1])], { epsilon: 0 }), /scale must have shape \[2\]/);
});

test('normalisations fold with the documented formulas', () => {
  const x = ft([1, 2, 2], [1, 3, 2, 6]);
  const [inorm] = fold('InstanceNormalization', [x, ft([2], [1, 2]), ft([2], [0, 1])], { epsilon: 0 });
  assert.deepEqual(vals(inorm!), [-1, 1, f32(-1 * 2 + 1), 3]);
  const [ln, mean, inv] = fold('LayerNormalization', [ft([2, 2], [1, 3, 2, 6]), ft([2], [1, 1])], { axis: 1, epsilon: 0, num_outputs: 3 });
  assert.deepEqual(vals(ln!), [-1, 1, -1, 1]);
  assert.deepEqual(vals(mean!), [2, 4]);
  assert.deepEqual(vals(inv!), [1, 0.5]);
  assert.deepEqual([...mean!.shape], [2, 1]);
  const [gn] = fold('GroupNormalization', [ft([1, 2, 1], [1, 3]), ft([2], [1, 1]), ft([2], [0, 0])], { num_groups: 1, epsilon: 0 });
  assert.deepEqual(vals(gn!), [-1, 1]);
  const [mvn] = fold('MeanVarianceNormalization', [ft([2, 2], [1, 3, 5, 9])], { axes: [1] });
  assert.deepEqual(vals(mvn!), [f32(-1 / f32(1 + 1e-9)), f32(1 / f32(1 + 1e-9)), f32(-2 / f32(2 + 1e-9)), f32(2 / f32(2 + 1e-9))]);
  const [lp] = fold('LpNormalization', [ft([2, 2], [3, 4, -1, 1])], { axis: 1, p: 2 });
  assert.deepEqual(vals(lp!), [f32(0.6), f32(0.8), f32(-1 / Math.SQRT2), f32(1 / Math.SQRT2)]);
  // LRN uses pow: never folded, even on constant inputs
  const b2 = new GraphBuilder();
  const c2 = b2.addConstant('x', ft([1, 2, 1], [1, 2]));
  const y = b2.emit1('LRN', [c2], { size: 3, alpha: f32(1e-4), beta: 0.75, bias: 1 });
  assert.equal(b2.isConstant(y), false);
});

test('Resize nearest, linear and attribute checks', () => {
  const r = (x: HostTensor, a: Partial<Record<string, unknown>>) => fold('Resize', [x], {
    sizes: [], scales: [], roi: [], mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor', cubic_coeff_a: -0.75, exclude_outside: 0, extrapolation_value: 0,
    ...a,
  } as Attrs)[0]!;
  assert.deepEqual(vals(r(ft([1, 2], [1, 2]), { sizes: [1, 4], scales: [1, 2] })), [1, 1, 2, 2]);
  // half_pixel linear upsampling ×2 of [1, 3]: coordinates −0.25, 0.25, 0.75, 1.25 → clamped
  assert.deepEqual(vals(r(ft([1, 2], [1, 3]), { sizes: [1, 4], scales: [1, 2], mode: 'linear', coordinate_transformation_mode: 'half_pixel' })), [1, 1.5, 2.5, 3]);
  // round_prefer_ceil vs floor at a tie: asymmetric coordinate 0.5 of output 1 with scale 2
  assert.deepEqual(vals(r(ft([1, 2], [1, 3]), { sizes: [1, 4], scales: [1, 2], nearest_mode: 'round_prefer_ceil' })), [1, 3, 3, 3]);
  assert.deepEqual(vals(r(ft([1, 2], [1, 3]), { sizes: [1, 4], scales: [1, 2], nearest_mode: 'round_prefer_floor' })), [1, 1, 3, 3]);
  assert.throws(() => r(ft([1, 2], [1, 3]), { sizes: [1, 4], scales: [1, 2], mode: 'area' }), /mode 'area'/);
  assert.throws(() => fold('Resize', [hostTensor('int32', [2], [1, 2])], { sizes: [4], scales: [2], roi: [], mode: 'linear', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor', cubic_coeff_a: -0.75, exclude_outside: 0, extrapolation_value: 0 }), /must be float32/);
});

// ---------------------------------------------------------------- ONNX lowering details

test('Gemm: transB of an initializer folds; alpha, beta and C lower to Mul and Add', () => {
  const g = convert({
    inputs: [valueInfo('a', F.FLOAT, [2, 3])],
    outputs: [valueInfo('y', F.FLOAT, [2, 4])],
    initializers: [floatTensor('w', [4, 3], new Array(12).fill(0).map((_, i) => i)), floatTensor('c', [4], [1, 2, 3, 4])],
    nodes: [{ op: 'Gemm', inputs: ['a', 'w', 'c'], outputs: ['y'], attrs: { transB: 1, alpha: 2, beta: 0.5 }, floatAttrs: ['alpha', 'beta'] }],
  });
  assert.deepEqual(g.nodes.map((n) => n.op), ['MatMul', 'Mul', 'Add']);
  const w = g.tensors[g.nodes[0]!.inputs[1]!]!;
  assert.equal(w.origin, 'constant');
  assert.deepEqual([...w.shape], [3, 4]);
  expectConvertError(() => convert({
    inputs: [valueInfo('a', F.FLOAT, [2, 3]), valueInfo('b', F.FLOAT, [3, 4]), valueInfo('c', F.FLOAT, [3, 4])],
    outputs: [valueInfo('y', F.FLOAT, [2, 4])],
    nodes: [{ op: 'Gemm', inputs: ['a', 'b', 'c'], outputs: ['y'] }],
  }), 'invalid-model', /C \[3x4\] does not broadcast to the output \[2x4\]/);
});

test('Conv auto_pad resolves to explicit pads (SAME_UPPER puts the odd unit at the end)', () => {
  const mk = (auto: string) => convert({
    inputs: [valueInfo('x', F.FLOAT, [1, 1, 6, 6])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    initializers: [floatTensor('w', [1, 1, 4, 4], new Array(16).fill(1))],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { auto_pad: auto, strides: [2, 2] } }],
  });
  const up = mk('SAME_UPPER');
  assert.deepEqual(up.nodes[0]!.attrs.pads, [1, 1, 1, 1]);
  assert.deepEqual([...up.tensors[up.outputs[0]!]!.shape], [1, 1, 3, 3]);
  const mk3 = (auto: string) => convert({
    inputs: [valueInfo('x', F.FLOAT, [1, 1, 5])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    initializers: [floatTensor('w', [1, 1, 2], [1, 1])],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { auto_pad: auto } }],
  }).nodes[0]!.attrs.pads;
  assert.deepEqual(mk3('SAME_UPPER'), [0, 1]);
  assert.deepEqual(mk3('SAME_LOWER'), [1, 0]);
  assert.deepEqual(mk3('VALID'), [0, 0]);
  expectConvertError(() => mk3('FOO'), 'unsupported-attr', /auto_pad 'FOO'/);
});

test('ConvTranspose output_shape becomes pads and output_padding', () => {
  const mk = (attrs: Record<string, number[] | string | number>) => {
    const g = convert({
      inputs: [valueInfo('x', F.FLOAT, [1, 1, 3, 3])],
      outputs: [valueInfo('y', F.FLOAT, undefined)],
      initializers: [floatTensor('w', [1, 2, 3, 3], new Array(18).fill(1))],
      nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs }],
    });
    return { attrs: g.nodes[0]!.attrs, shape: [...g.tensors[g.outputs[0]!]!.shape] };
  };
  // full length 3·2 + 3 = 9 per axis for stride 3; 10 and 8 requested
  const r = mk({ strides: [3, 2], output_shape: [10, 8] });
  assert.deepEqual(r.shape, [1, 2, 10, 8]);
  assert.deepEqual(r.attrs.pads, [0, 0, 0, 0]);
  assert.deepEqual(r.attrs.output_padding, [1, 1]);
  const s = mk({ strides: [2, 2], auto_pad: 'SAME_UPPER' });
  assert.deepEqual(s.shape, [1, 2, 6, 6]);
  assert.deepEqual(s.attrs.pads, [0, 0, 1, 1]);
  const l = mk({ strides: [2, 2], auto_pad: 'SAME_LOWER' });
  assert.deepEqual(l.attrs.pads, [1, 1, 0, 0]);
});

test('MaxPool with an Indices output, BatchNormalization training mode, Resize checks', () => {
  const g = convert({
    inputs: [valueInfo('x', F.FLOAT, [1, 1, 4, 4])],
    outputs: [valueInfo('y', F.FLOAT, undefined), valueInfo('i', F.INT64, undefined)],
    nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y', 'i'], attrs: { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 } }],
    opset: 12,
  });
  assert.equal(g.nodes[0]!.op, 'MaxPoolWithIndices');
  assert.equal(g.nodes[0]!.attrs.storage_order, 1);
  assert.deepEqual(g.outputs.map((o) => g.tensors[o]!.dtype), ['float32', 'int64']);

  const bn = (attrs: Record<string, number>, outs: string[], opset: number) => convert({
    inputs: [valueInfo('x', F.FLOAT, [1, 2, 2])],
    outputs: outs.map((o) => valueInfo(o, F.FLOAT, undefined)),
    initializers: ['s', 'b', 'm', 'v'].map((n) => floatTensor(n, [2], [1, 1])),
    nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: outs, attrs }],
    opset,
  });
  // training_mode = 1: batch statistics, and the running statistics as outputs 1 and 2
  assert.deepEqual(bn({ training_mode: 1 }, ['y', 'rm', 'rv'], 15).nodes.map((n) => n.op).filter((o) => o === 'ReduceMean' || o === 'BatchNormalization'), ['ReduceMean', 'ReduceMean', 'BatchNormalization']);
  expectConvertError(() => bn({}, ['y', 'rm'], 9), 'unsupported-attr', /only in training mode/);
  expectConvertError(() => bn({ spatial: 0 }, ['y'], 7), 'unsupported-attr', /spatial = 0/);
  assert.equal(bn({ is_test: 1, consumed_inputs: [0, 0, 0, 1, 1] } as unknown as Record<string, number>, ['y'], 6).nodes[0]!.op, 'BatchNormalization');

  const rs = (attrs: Record<string, number | string>, extra: ModelSpec['initializers'] = [], ins = ['x', '', 'sc']) => convert({
    inputs: [valueInfo('x', F.FLOAT, [1, 1, 2, 2])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    initializers: [floatTensor('sc', [4], [1, 1, 2, 3]), ...(extra ?? [])],
    nodes: [{ op: 'Resize', inputs: ins, outputs: ['y'], attrs }],
    opset: 13,
  });
  const ok = rs({ mode: 'linear', coordinate_transformation_mode: 'align_corners' });
  assert.deepEqual([...ok.tensors[ok.outputs[0]!]!.shape], [1, 1, 4, 6]);
  assert.deepEqual(ok.nodes[0]!.attrs.scales, [1, 1, 2, 3]);
  expectConvertError(() => rs({ mode: 'area' }), 'unsupported-attr', /mode 'area'/);
  expectConvertError(() => rs({ antialias: 1 }), 'unsupported-attr', /antialias/);
  const sz = rs({}, [int64Tensor('sz', [4], [1, 1, 3, 5]), floatTensor('empty', [0], [])], ['x', '', 'empty', 'sz']);
  assert.deepEqual([...sz.tensors[sz.outputs[0]!]!.shape], [1, 1, 3, 5]);
  assert.deepEqual(sz.nodes[0]!.attrs.scales, [1, 1, 1.5, 2.5]);
  // scales from a runtime input make the output shape dynamic
  const f = writeModel(tmpDir(), {
    inputs: [valueInfo('x', F.FLOAT, [1, 1, 2, 2]), valueInfo('s', F.FLOAT, [4])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    nodes: [{ op: 'Resize', inputs: ['x', '', 's'], outputs: ['y'] }],
    opset: 13,
  });
  expectConvertError(() => convertFile(f), 'dynamic-shape', /scales must be a constant/);
  // Upsample → Resize (asymmetric, floor)
  const up = convert({
    inputs: [valueInfo('x', F.FLOAT, [1, 1, 2, 2])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    nodes: [{ op: 'Upsample', inputs: ['x'], outputs: ['y'], attrs: { scales: [1, 1, 2, 3] }, floatAttrs: ['scales'] }],
    opset: 7,
  });
  assert.equal(up.nodes[0]!.op, 'Resize');
  assert.equal(up.nodes[0]!.attrs.coordinate_transformation_mode, 'asymmetric');
  assert.deepEqual([...up.tensors[up.outputs[0]!]!.shape], [1, 1, 4, 6]);
});

test('LayerNormalization with Mean/InvStdDev outputs, GroupNormalization per-group params expanded', () => {
  const g = convert({
    inputs: [valueInfo('x', F.FLOAT, [2, 3, 4])],
    outputs: ['y', 'm', 'i'].map((n) => valueInfo(n, F.FLOAT, undefined)),
    initializers: [floatTensor('s', [4], [1, 1, 1, 1])],
    nodes: [{ op: 'LayerNormalization', inputs: ['x', 's'], outputs: ['y', 'm', 'i'], attrs: { axis: -1 } }],
    opset: 17,
  });
  assert.deepEqual(g.nodes[0]!.attrs, { axis: 2, epsilon: f32(1e-5), num_outputs: 3 });
  assert.deepEqual(g.outputs.map((o) => g.tensors[o]!.shape.join('x')), ['2x3x4', '2x3x1', '2x3x1']);
  const gn = convert({
    inputs: [valueInfo('x', F.FLOAT, [1, 4, 3])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    initializers: [floatTensor('s', [2], [2, 3]), floatTensor('b', [2], [0, 1])],
    nodes: [{ op: 'GroupNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs: { num_groups: 2 } }],
    opset: 18,
  });
  assert.equal(gn.nodes.length, 1);
  const sc = gn.nodes[0]!.inputs[1]!;
  assert.equal(gn.tensors[sc]!.origin, 'constant');
  assert.deepEqual([...(new Float32Array(gn.constants.get(sc)!.read().slice().buffer))], [2, 2, 3, 3]);
});

// ---------------------------------------------------------------- ONNX backend test data

const have = testdataAvailable();

test('ONNX test data: folded outputs match the expected values', { skip: !have && 'libonnx-testdata not installed' }, () => {
  const exact = ['test_basic_conv_with_padding', 'test_conv_with_strides_and_asymmetric_padding', 'test_conv_with_autopad_same', 'test_convtranspose_output_shape',
    'test_convtranspose_autopad_same', 'test_convtranspose_dilations', 'test_convtranspose_3d', 'test_maxpool_2d_ceil', 'test_maxpool_2d_same_lower', 'test_maxpool_2d_uint8',
    'test_maxpool_with_argmax_2d_precomputed_strides', 'test_maxpool_with_argmax_2d_precomputed_pads', 'test_averagepool_2d_precomputed_pads_count_include_pad',
    'test_averagepool_2d_same_upper', 'test_averagepool_2d_ceil', 'test_globalmaxpool', 'test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric',
    'test_resize_upsample_sizes_nearest_floor_align_corners', 'test_resize_downsample_scales_linear_align_corners', 'test_resize_tf_crop_and_resize',
    'test_resize_upsample_scales_cubic_asymmetric', 'test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn', 'test_upsample_nearest', 'test_layer_normalization_2d_axis0'];
  for (const n of exact) assert.equal(foldedCaseError('node', n), 0, n);
  const close = ['test_gemm_all_attributes', 'test_gemm_transposeA', 'test_matmul_4d', 'test_averagepool_3d_default', 'test_batchnorm_epsilon', 'test_instancenorm_epsilon',
    'test_layer_normalization_4d_axis_negative_3', 'test_mvn', 'test_globalaveragepool', 'test_resize_downsample_scales_cubic_A_n0p5_exclude_outside',
    'test_resize_upsample_scales_cubic_align_corners', 'test_resize_downsample_sizes_linear_pytorch_half_pixel', 'test_resize_downsample_scales_cubic_align_corners'];
  for (const n of close) assert.ok(foldedCaseError('node', n) < 2e-6, n);
  for (const n of ['test_Conv3d_dilated_strided', 'test_Conv2d_depthwise_with_multiplier', 'test_ConvTranspose2d', 'test_MaxPool1d_stride_padding_dilation', 'test_AvgPool3d_stride', 'test_BatchNorm3d_momentum_eval', 'test_Linear']) {
    assert.ok(foldedCaseError('pytorch-converted', n) < 1e-6, n);
  }
  for (const n of ['test_operator_conv', 'test_operator_convtranspose', 'test_operator_addmm']) assert.ok(foldedCaseError('pytorch-operator', n) < 1e-6, n);
});

test('ONNX test data: shape conformance of the nn ops', { skip: !have && 'libonnx-testdata not installed' }, () => {
  const re = /^(node\/test_(conv|basic_conv|averagepool|maxpool|globalaveragepool|globalmaxpool|batchnorm|instancenorm|layer_normalization_\d|lrn|mvn$|gemm|matmul_|resize|upsample)|pytorch-converted\/test_(Conv|AvgPool|MaxPool|BatchNorm|Linear)|pytorch-operator\/test_operator_(conv|maxpool|mm|addmm))/;
  const r = runShapeConformance((c) => re.test(`${c.suite}/${c.name}`));
  const failed = r.results.filter((x) => x.status !== 'pass').map((x) => `${x.case.name}: ${x.category}`);
  assert.ok(r.total > 150, `only ${r.total} cases matched`);
  assert.deepEqual(failed, []);
});

test('ONNX test data: LRN stays a node (pow is computed by kernels only)', { skip: !have && 'libonnx-testdata not installed' }, () => {
  const { graph } = convertCase(testCase('node', 'test_lrn'), 'all');
  assert.deepEqual(graph.nodes.map((n) => n.op), ['LRN']);
  for (const op of ['LRN', 'LpPool']) assert.equal(getOp(op).fold, undefined, op);
});

test('LpPool (opset-1 float p), GlobalLpPool and LpNormalization lowerings', () => {
  const one = (op: string, attrs: Record<string, number | number[]>, opset: number, floatAttrs: string[] = []) => convert({
    inputs: [valueInfo('x', F.FLOAT, [1, 2, 5, 4])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs, floatAttrs }],
    opset,
  });
  const lp1 = one('LpPool', { kernel_shape: [2, 2], p: 3 }, 1, ['p']);
  assert.equal(lp1.nodes[0]!.op, 'LpPool');
  assert.equal(lp1.nodes[0]!.attrs.p, 3);
  assert.deepEqual([...lp1.tensors[lp1.outputs[0]!]!.shape], [1, 2, 4, 3]);
  expectConvertError(() => one('LpPool', { kernel_shape: [2, 2], p: 2.5 }, 1, ['p']), 'unsupported-attr', /p = 2.5/);
  const g = one('GlobalLpPool', {}, 2);
  assert.deepEqual(g.nodes[0]!.attrs, { kernel_shape: [5, 4], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], ceil_mode: 0, p: 2 });
  assert.deepEqual([...g.tensors[g.outputs[0]!]!.shape], [1, 2, 1, 1]);
  const n = one('LpNormalization', { axis: -2, p: 1 }, 1);
  assert.deepEqual(n.nodes[0]!.attrs, { axis: 2, p: 1 });
  expectConvertError(() => one('LpNormalization', { p: 3 }, 1), 'unsupported-attr', /p = 3/);
  const m = one('MeanVarianceNormalization', { axes: [-1, 0] }, 13);
  assert.deepEqual(m.nodes[0]!.attrs, { axes: [0, 3] });
  const lrn = one('LRN', { size: 3 }, 13);
  assert.deepEqual(lrn.nodes[0]!.attrs, { size: 3, alpha: f32(1e-4), beta: 0.75, bias: 1 });
  expectConvertError(() => one('MaxPool', { kernel_shape: [2, 2], auto_pad: 'SAME' } as unknown as Record<string, number>, 13), 'unsupported-attr', /auto_pad 'SAME'/);
});

test('ConvTranspose is the adjoint of Conv (groups, strides, dilations, pads; exact integer data)', () => {
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return (seed % 7) - 3; };
  const cases = [
    { D: [7], k: [3], s: [2], d: [1], pads: [1, 0], C: 4, M: 6, g: 2 },
    { D: [6, 5], k: [2, 3], s: [1, 2], d: [2, 1], pads: [1, 0, 0, 2], C: 3, M: 3, g: 3 },
    { D: [4, 4, 3], k: [2, 2, 1], s: [2, 1, 1], d: [1, 1, 1], pads: [0, 1, 0, 1, 0, 0], C: 2, M: 4, g: 1 },
  ];
  for (const t of cases) {
    const S = t.D.length;
    const u = ft([1, t.C, ...t.D], Array.from({ length: t.C * t.D.reduce((a, b) => a * b, 1) }, rnd));
    const w = ft([t.M, t.C / t.g, ...t.k], Array.from({ length: t.M * (t.C / t.g) * t.k.reduce((a, b) => a * b, 1) }, rnd));
    const [cu] = fold('Conv', [u, w], { group: t.g, strides: t.s, dilations: t.d, pads: t.pads });
    const O = cu!.shape.slice(2);
    const v = ft([1, t.M, ...O], Array.from({ length: cu!.data.length }, rnd));
    const op = t.D.map((D, i) => D - (t.s[i]! * (O[i]! - 1) + (t.k[i]! - 1) * t.d[i]! + 1 - t.pads[i]! - t.pads[S + i]!));
    const [ctv] = fold('ConvTranspose', [v, w], { group: t.g, strides: t.s, dilations: t.d, pads: t.pads, output_padding: op });
    assert.deepEqual([...ctv!.shape], [...u.shape]);
    const dot = (a: HostTensor, b: HostTensor) => vals(a).reduce((acc, x, i) => acc + x * vals(b)[i]!, 0);
    assert.equal(dot(cu!, v), dot(u, ctv!), JSON.stringify(t));
    assert.notEqual(dot(cu!, v), 0);
  }
});

test('Resize opset 18: axes and keep_aspect_ratio_policy', () => {
  const mk = (attrs: Record<string, number | number[] | string>, sizes: number[]) => {
    const g = convert({
      inputs: [valueInfo('x', F.FLOAT, [1, 1, 2, 3])],
      outputs: [valueInfo('y', F.FLOAT, undefined)],
      initializers: [int64Tensor('sz', [sizes.length], sizes)],
      nodes: [{ op: 'Resize', inputs: ['x', '', '', 'sz'], outputs: ['y'], attrs }],
      opset: 18,
    });
    return { shape: [...g.tensors[g.outputs[0]!]!.shape], scales: g.nodes[0]!.attrs.scales };
  };
  assert.deepEqual(mk({ axes: [2, 3] }, [6, 8]), { shape: [1, 1, 6, 8], scales: [1, 1, 3, f32(8 / 3)] });
  assert.deepEqual(mk({ axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' }, [6, 8]), { shape: [1, 1, 5, 8], scales: [1, 1, f32(8 / 3), f32(8 / 3)] });
  assert.deepEqual(mk({ axes: [-1, -2], keep_aspect_ratio_policy: 'not_smaller' }, [8, 6]), { shape: [1, 1, 6, 9], scales: [1, 1, 3, 3] });
  expectConvertError(() => mk({ keep_aspect_ratio_policy: 'fit' }, [1, 1, 6, 8]), 'unsupported-attr', /keep_aspect_ratio_policy 'fit'/);
  expectConvertError(() => mk({ axes: [2, 2] }, [6, 8]), 'invalid-model', /axes/);
});
