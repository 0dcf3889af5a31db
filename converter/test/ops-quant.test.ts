/**
 * IR quantization ops and their ONNX lowerings: the one rounding rule (half to even), saturation,
 * integer-only requantization with exact fixed-point multipliers, per-axis parameters, and the ONNX
 * backend test data (QLinearMatMul / QLinearConv reproduce the expected outputs bit for bit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../ir/builder.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import type { Attrs, DType } from '../ir/types.ts';
import { shape } from '../ir/types.ts';
import { getOp } from '../ir/op-registry.ts';
import { fixedPointMultiplier, quantizeScalar, requantizeScalar } from '../ir/ops/quant.ts';
import { convertSpec, expectConvertError } from './helpers/convert.ts';
import { onnx } from '../onnx/proto.ts';
import { F, floatTensor, tmpDir, valueInfo, writeModel } from './helpers/onnx-build.ts';
import type { ModelSpec } from './helpers/onnx-build.ts';
import { convertCase, foldedCaseError, maxRelDiff, outputValue, testCase, testdataAvailable } from './helpers/ops-nn-eval.ts';

const f32 = Math.fround;

function fold(op: string, inputs: HostTensor[], attrs: Attrs): HostTensor[] {
  const b = new GraphBuilder();
  const ids = inputs.map((t, i) => b.addConstant(`in${i}`, t));
  return b.emit(op, ids, attrs).map((o) => {
    const v = b.constValue(o);
    assert.ok(v, `${op} did not fold`);
    return v;
  });
}
const nums = (t: HostTensor) => [...t.data].map(Number);

function tensor8(name: string, dt: 'uint8' | 'int8', dims: number[], v: number[]) {
  const a = dt === 'uint8' ? Uint8Array.from(v) : Int8Array.from(v);
  return onnx.TensorProto.create({ name, dataType: dt === 'uint8' ? F.UINT8 : F.INT8, dims, rawData: new Uint8Array(a.buffer) });
}

const convert = (spec: ModelSpec) => convertSpec(spec);

test('QuantizeLinear rounds x / scale half to even, adds the zero point, saturates; NaN gives the zero point', () => {
  assert.equal(quantizeScalar(2.5, 1, 0, 'uint8'), 2);
  assert.equal(quantizeScalar(3.5, 1, 0, 'uint8'), 4);
  assert.equal(quantizeScalar(-2.5, 1, 0, 'int8'), -2);
  assert.equal(quantizeScalar(-0.5, 1, 0, 'int8'), 0);
  assert.equal(quantizeScalar(NaN, 1, 7, 'uint8'), 7);
  assert.equal(quantizeScalar(Infinity, 1, 0, 'int8'), 127);
  assert.equal(quantizeScalar(-1e10, 1, 0, 'int8'), -128);
  assert.equal(quantizeScalar(300, 1, 0, 'uint8'), 255);
  assert.equal(quantizeScalar(-3, 1, 2, 'uint8'), 0);
  // the division is a float32 division: 0.3 / 0.1 in float32 is 3.0000002 → 3 (not 2.9999… → 3 either way); 0.15/0.1 → 1.4999999 → 1
  assert.equal(quantizeScalar(f32(0.15), f32(0.1), 0, 'uint8'), Math.round(f32(f32(0.15) / f32(0.1))));
  // per-axis fold
  const x = hostTensor('float32', [2, 3], Float32Array.from([1, 2, 3, 1, 2, 3]));
  const [y] = fold('QuantizeLinear', [x, hostTensor('float32', [2], Float32Array.from([1, 2])), hostTensor('int8', [2], Int8Array.from([0, -1]))], { axis: 0 });
  assert.equal(y!.dtype, 'int8');
  assert.deepEqual(nums(y!), [1, 2, 3, -1, 0, 1]); // 0.5 → 0, 1 → 1, 1.5 → 2: −1 + (0, 1, 2)
  assert.throws(() => fold('QuantizeLinear', [x, hostTensor('float32', [3], Float32Array.from([1, 1, 1])), hostTensor('int8', [3], Int8Array.from([0, 0, 0]))], { axis: 0 }), /shape \[2\]/);
});

test('DequantizeLinear: f32(x − zp) × scale, per tensor and per axis', () => {
  const [y] = fold('DequantizeLinear', [hostTensor('uint8', [4], Uint8Array.from([0, 3, 128, 255])), hostTensor('float32', [], [0.5]), hostTensor('uint8', [], [128])], { axis: 0 });
  assert.deepEqual(nums(y!), [-64, -62.5, 0, 63.5]);
  const [z] = fold('DequantizeLinear', [hostTensor('int32', [2, 2], Int32Array.from([16777217, 1, 2, 3])), hostTensor('float32', [2], [1, 3]), hostTensor('int32', [2], [0, 1])], { axis: 0 });
  // 16777217 is not a float32: converted (round to even) to 16777216 before the multiply
  assert.deepEqual(nums(z!), [16777216, 1, 3, 6]);
  assert.throws(() => getOp('DequantizeLinear').infer([{ dtype: 'int8', shape: shape([2]) }, { dtype: 'float32', shape: shape([]) }, { dtype: 'uint8', shape: shape([]) }], { axis: 0 }), /x's dtype/);
});

test('fixed-point multipliers are exact roundings of the real scale ratio', () => {
  assert.deepEqual(fixedPointMultiplier([0.5], [1]), { multiplier: 2 ** 30, shift: 31 });
  assert.deepEqual(fixedPointMultiplier([1], [1]), { multiplier: 2 ** 30, shift: 30 });
  // 1/3 · 2^32 = 1431655765.33 → 1431655765
  assert.deepEqual(fixedPointMultiplier([1], [3]), { multiplier: 1431655765, shift: 32 });
  const r = fixedPointMultiplier([f32(0.1), f32(0.2)], [f32(0.3)]);
  const exact = (f32(0.1) * f32(0.2)) / f32(0.3);
  assert.ok(r.multiplier >= 2 ** 30 && r.multiplier < 2 ** 31);
  assert.ok(Math.abs(r.multiplier / 2 ** r.shift - exact) <= 2 ** -r.shift);
  // tiny ratios keep shift ≤ 62 with a smaller multiplier; huge ones are refused
  const t = fixedPointMultiplier([1e-12], [1]);
  assert.equal(t.shift, 62);
  assert.ok(t.multiplier > 0 && t.multiplier < 2 ** 30);
  assert.throws(() => fixedPointMultiplier([1], [1e-12]), /≥ 2\^31/);
  assert.throws(() => fixedPointMultiplier([1], [0]), /zero scale/);
});

test('Requantize: exact int64 product, right shift rounding half to even, saturation', () => {
  assert.equal(requantizeScalar(3, 1, 1, 0, 'int8'), 2); // 1.5 → 2
  assert.equal(requantizeScalar(5, 1, 1, 0, 'int8'), 2); // 2.5 → 2
  assert.equal(requantizeScalar(-3, 1, 1, 0, 'int8'), -2); // −1.5 → −2
  assert.equal(requantizeScalar(-5, 1, 1, 0, 'int8'), -2); // −2.5 → −2
  assert.equal(requantizeScalar(7, 1, 2, 0, 'int8'), 2); // 1.75 → 2
  assert.equal(requantizeScalar(1000, 1, 0, 0, 'int8'), 127);
  assert.equal(requantizeScalar(-1000, 1, 0, 10, 'uint8'), 0);
  // the full int32 × int31 product does not lose bits
  assert.equal(requantizeScalar(-2147483648, 2 ** 31 - 1, 62, 0, 'int8'), -1); // −(2^31−1)/2^31 → −1
  const acc = hostTensor('int32', [2, 2], Int32Array.from([10, 11, 10, 11]));
  const [y] = fold('Requantize', [acc, hostTensor('uint8', [], [100])], { multipliers: [1, 3], shifts: [1, 1], axis: 0 });
  assert.equal(y!.dtype, 'uint8');
  assert.deepEqual(nums(y!), [105, 106, 115, 116]); // 5, 5.5→6 ; 15, 16.5→16
  assert.throws(() => fold('Requantize', [acc, hostTensor('uint8', [], [0])], { multipliers: [1, 2, 3], shifts: [0, 0, 0], axis: 0 }), /3 multipliers for axis 0 of length 2/);
  assert.throws(() => fold('Requantize', [acc, hostTensor('uint8', [], [0])], { multipliers: [1], shifts: [63], axis: 0 }), /shift 63/);
});

test('MatMulInteger and ConvInteger accumulate (a − azp)(b − bzp) in int32', () => {
  const [y] = fold('MatMulInteger', [hostTensor('uint8', [2, 2], Uint8Array.from([1, 2, 3, 4])), hostTensor('int8', [2, 1], Int8Array.from([-1, 2])),
    hostTensor('uint8', [2], Uint8Array.from([1, 0])), hostTensor('int8', [], [1])], {});
  // rows − [1, 0]: [[0, 1], [3, 4]]; b − 1: [-2, 1]
  assert.deepEqual(nums(y!), [1, -2]);
  assert.equal(y!.dtype, 'int32');
  const [c] = fold('ConvInteger', [hostTensor('uint8', [1, 1, 3], Uint8Array.from([10, 11, 12])), hostTensor('uint8', [1, 1, 2], Uint8Array.from([1, 2])),
    hostTensor('uint8', [], [10]), hostTensor('uint8', [], [1])], { group: 1, strides: [1], dilations: [1], pads: [1, 0] });
  // padding contributes nothing: [pad,0]·[0,1] = 0, [0,1]·[0,1] = 1, [1,2]·[0,1] = 2
  assert.deepEqual(nums(c!), [0, 1, 2]);
  assert.throws(() => fold('MatMulInteger', [hostTensor('uint8', [2, 2]), hostTensor('uint8', [2, 2]), hostTensor('uint8', [3]), hostTensor('uint8', [])], {}), /a_zero_point must be a scalar or \[2\]/);
});

test('DynamicQuantizeLinear computes the range, scale and zero point as documented', () => {
  const [y, s, z] = fold('DynamicQuantizeLinear', [hostTensor('float32', [4], Float32Array.from([-1, 0, 1, 2.5]))], {});
  const scale = f32(f32(2.5 - -1) / 255);
  assert.deepEqual(nums(s!), [scale]);
  const zp = Math.round(f32(1 / scale));
  assert.deepEqual(nums(z!), [zp]);
  assert.deepEqual(nums(y!), [-1, 0, 1, 2.5].map((v) => quantizeScalar(f32(v), scale, zp, 'uint8')));
  const [y0, s0, z0] = fold('DynamicQuantizeLinear', [hostTensor('float32', [2], Float32Array.from([0, 0]))], {});
  assert.deepEqual([nums(y0!), nums(s0!), nums(z0!)], [[0, 0], [0], [0]]);
});

// ---------------------------------------------------------------- ONNX lowering

test('QLinearMatMul with constant scales lowers to MatMulInteger + Requantize', () => {
  const g = convert({
    inputs: [valueInfo('a', F.UINT8, [2, 3])],
    outputs: [valueInfo('y', F.UINT8, undefined)],
    initializers: [floatTensor('as', [], [0.5]), tensor8('az', 'uint8', [], [128]), tensor8('b', 'int8', [3, 2], [1, 2, 3, 4, 5, 6]), floatTensor('bs', [2], [0.25, 0.125]),
      tensor8('bz', 'int8', [], [0]), floatTensor('ys', [], [0.1]), tensor8('yz', 'uint8', [], [10])],
    nodes: [{ op: 'QLinearMatMul', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['y'] }],
  });
  assert.deepEqual(g.nodes.map((n) => n.op), ['MatMulInteger', 'Requantize']);
  const rq = g.nodes[1]!.attrs;
  assert.equal(rq.axis, 1);
  const want = [fixedPointMultiplier([0.5, 0.25], [f32(0.1)]), fixedPointMultiplier([0.5, 0.125], [f32(0.1)])];
  assert.deepEqual(rq.multipliers, want.map((w) => w.multiplier));
  assert.deepEqual(rq.shifts, want.map((w) => w.shift));
  // run-time scales cannot be turned into integer multipliers
  expectConvertError(() => convert({
    inputs: [valueInfo('a', F.UINT8, [2, 3]), valueInfo('as', F.FLOAT, [])],
    outputs: [valueInfo('y', F.UINT8, undefined)],
    initializers: [tensor8('az', 'uint8', [], [128]), tensor8('b', 'int8', [3, 2], [1, 2, 3, 4, 5, 6]), floatTensor('bs', [], [0.25]),
      tensor8('bz', 'int8', [], [0]), floatTensor('ys', [], [0.1]), tensor8('yz', 'uint8', [], [10])],
    nodes: [{ op: 'QLinearMatMul', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['y'] }],
  }), 'unsupported-attr', /a_scale must be a constant/);
});

test('QuantizeLinear defaults: uint8 zero point, per-tensor axis ignored; other dtypes refused', () => {
  const g = convert({
    inputs: [valueInfo('x', F.FLOAT, [5])],
    outputs: [valueInfo('y', F.UINT8, undefined)],
    initializers: [floatTensor('s', [1], [0.5])],
    nodes: [{ op: 'QuantizeLinear', inputs: ['x', 's'], outputs: ['y'] }],
  });
  assert.equal(g.nodes.at(-1)!.op, 'QuantizeLinear');
  assert.equal(g.tensors[g.outputs[0]!]!.dtype, 'uint8');
  assert.equal(g.nodes.at(-1)!.attrs.axis, 0);
  const zp = g.nodes.at(-1)!.inputs[2]!;
  assert.equal(g.tensors[zp]!.dtype, 'uint8');
  expectConvertError(() => convert({
    inputs: [valueInfo('x', F.FLOAT, [5])],
    outputs: [valueInfo('y', F.INT16, undefined)],
    initializers: [floatTensor('s', [], [0.5]), onnx.TensorProto.create({ name: 'z', dataType: F.INT16, dims: [], int32Data: [0] })],
    nodes: [{ op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['y'] }],
    opset: 13,
  }), 'dtype', /int16; only int8 and uint8/);
});

// ---------------------------------------------------------------- ONNX backend test data

const have = testdataAvailable();

test('ONNX test data: quantized ops fold to exactly the expected outputs', { skip: !have && 'libonnx-testdata not installed' }, () => {
  for (const n of ['test_quantizelinear', 'test_quantizelinear_axis', 'test_dequantizelinear', 'test_dequantizelinear_axis', 'test_dynamicquantizelinear',
    'test_dynamicquantizelinear_max_adjusted', 'test_dynamicquantizelinear_min_adjusted', 'test_matmulinteger', 'test_basic_convinteger',
    'test_convinteger_with_padding', 'test_convinteger_without_padding', 'test_qlinearmatmul_2D', 'test_qlinearmatmul_3D', 'test_qlinearconv']) {
    assert.equal(foldedCaseError('node', n), 0, n);
  }
});

test('ONNX test data: QLinearConv with frozen scales keeps integer nodes for the run-time input', { skip: !have && 'libonnx-testdata not installed' }, () => {
  // freeze everything but x (input 0): the scales are then constants, as in a real quantized model
  const { graph, expected } = convertCase(testCase('node', 'test_qlinearconv'), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(graph.nodes.map((n) => n.op), ['ConvInteger', 'Requantize']);
  assert.equal(graph.tensors[graph.outputs[0]!]!.dtype, expected[0]!.dtype as DType);
  assert.deepEqual([...graph.tensors[graph.outputs[0]!]!.shape], [...expected[0]!.shape]);
  // and the whole case folded agrees
  const all = convertCase(testCase('node', 'test_qlinearconv'), 'all');
  assert.equal(maxRelDiff(outputValue(all.graph, 0), all.expected[0]!), 0);
  // with the scales as run-time inputs (as the test data gives them) the refusal is clear
  expectConvertError(() => convertCase(testCase('node', 'test_qlinearconv'), []), 'unsupported-attr', /x_scale must be a constant: requantization multipliers/);
});

test('DequantizeLinear per-axis scale with a single zero point broadcasts it; MatMulInteger defaults', () => {
  const g = convert({
    inputs: [valueInfo('x', F.UINT8, [2, 3])],
    outputs: [valueInfo('y', F.FLOAT, undefined)],
    initializers: [floatTensor('s', [3], [1, 2, 4]), tensor8('z', 'uint8', [], [1])],
    nodes: [{ op: 'DequantizeLinear', inputs: ['x', 's', 'z'], outputs: ['y'], attrs: { axis: -1 } }],
    opset: 13,
  });
  const n = g.nodes.at(-1)!;
  assert.equal(n.op, 'DequantizeLinear');
  assert.equal(n.attrs.axis, 1);
  assert.deepEqual([...g.tensors[n.inputs[2]!]!.shape], [3]);
  const mm = convert({
    inputs: [valueInfo('a', F.UINT8, [4, 3]), valueInfo('b', F.INT8, [3, 2])],
    outputs: [valueInfo('y', F.INT32, undefined)],
    nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['y'] }],
    opset: 10,
  });
  assert.deepEqual(mm.nodes.map((x) => x.op), ['MatMulInteger']);
  assert.deepEqual(mm.nodes[0]!.inputs.slice(2).map((i) => mm.tensors[i]!.dtype), ['uint8', 'int8']);
  assert.deepEqual([...mm.tensors[mm.outputs[0]!]!.shape], [4, 2]);
});
