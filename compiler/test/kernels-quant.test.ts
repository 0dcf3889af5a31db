/**
 * Quantization kernels: native (SIMD) == scalar == the IR's bit-exact host fold, over random shapes,
 * per-tensor / per-axis parameters, float specials (NaN, ±∞, ±0, subnormals, huge) and integer extremes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Attrs, DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { getOp, IrError } from '../../converter/ir/op-registry.ts';
import { runKernelOnce } from '../kernel/harness.ts';
import { agree, hex } from './helpers/agree.ts';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -1.4e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.5, -0.5, 1.5, 2.5, -2.5, 127.5, 128.5, -128.5, 255.5, 1e9, -1e9];
const floatArb = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: fc.float() },
  { weight: 6, arbitrary: fc.float({ min: -300, max: 300, noNaN: true }) },
  { weight: 2, arbitrary: fc.integer({ min: -600, max: 600 }).map((v) => v / 2) },
);
const scaleArb = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1.4e-45, 3.4028235e38, -1, 0.5) },
  { weight: 8, arbitrary: fc.float({ min: Math.fround(1e-3), max: 4, noNaN: true }) },
);
const numelOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function intArb(d: DType) {
  switch (d) {
    case 'int8': return fc.oneof(fc.constantFrom(-128, 127, 0, -1), fc.integer({ min: -128, max: 127 }));
    case 'uint8': return fc.oneof(fc.constantFrom(0, 255, 128), fc.integer({ min: 0, max: 255 }));
    default: return fc.oneof(fc.constantFrom(-2147483648, 2147483647, -1, 0, 1), fc.integer(), fc.integer({ min: -1000, max: 1000 }));
  }
}
const tensorOf = (d: DType, dims: number[]) => fc.array(d === 'float32' ? floatArb : intArb(d), { minLength: numelOf(dims), maxLength: numelOf(dims) }).map((v) => hostTensor(d, dims, v));


/** A shape (rank 0…4), an axis, and whether the parameters are per-axis. */
const geoArb = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 0, maxLength: 4 }).chain((s) =>
  fc.record({ shape: fc.constant(s), axis: fc.nat(Math.max(0, s.length - 1)), perAxis: fc.boolean() }));

test('QuantizeLinear: native == scalar == fold (per-tensor and per-axis, int8/uint8)', () => {
  fc.assert(fc.property(geoArb, fc.constantFrom<DType>('int8', 'uint8'), (g, d) => {
    const per = g.perAxis && g.shape.length > 0;
    const pdims = per ? [g.shape[g.axis]!] : [];
    const axis = per ? g.axis : 0;
    fc.assert(fc.property(tensorOf('float32', g.shape), fc.array(scaleArb, { minLength: numelOf(pdims), maxLength: numelOf(pdims) }), tensorOf(d, pdims), (x, sv, z) => {
      assert.ok(agree('QuantizeLinear', [x, hostTensor('float32', pdims, sv), z], { axis }));
    }), { numRuns: 4 });
  }), { numRuns: 40 });
});

test('DequantizeLinear: native == scalar == fold (per-tensor and per-axis, int8/uint8/int32)', () => {
  fc.assert(fc.property(geoArb, fc.constantFrom<DType>('int8', 'uint8', 'int32'), (g, d) => {
    const per = g.perAxis && g.shape.length > 0;
    const pdims = per ? [g.shape[g.axis]!] : [];
    const axis = per ? g.axis : 0;
    fc.assert(fc.property(tensorOf(d, g.shape), fc.array(fc.oneof(scaleArb, floatArb), { minLength: numelOf(pdims), maxLength: numelOf(pdims) }), tensorOf(d, pdims), (x, sv, z) => {
      assert.ok(agree('DequantizeLinear', [x, hostTensor('float32', pdims, sv), z], { axis }));
    }), { numRuns: 4 });
  }), { numRuns: 40 });
});

test('DynamicQuantizeLinear: native == scalar == fold (all three outputs)', () => {
  const tame = fc.float({ min: -50, max: 50, noNaN: true });
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 3 }), fc.integer({ min: 0, max: 3 }), (dims, mode) => {
    const n = numelOf(dims);
    // mode 0: finite tame values; 1: positive only; 2: negative only; 3: with specials
    const v = mode === 0 ? tame : mode === 1 ? fc.float({ min: 0, max: 1000, noNaN: true }) : mode === 2 ? fc.float({ min: -1000, max: 0, noNaN: true }) : floatArb;
    fc.assert(fc.property(fc.array(v, { minLength: n, maxLength: n }), (xs) => {
      assert.ok(agree('DynamicQuantizeLinear', [hostTensor('float32', dims, xs)], {}));
    }), { numRuns: 5 });
  }), { numRuns: 40 });
  // the all-zero (scale 0) and empty cases, and a NaN / ±∞ range
  for (const xs of [[0, 0, -0], [NaN, 1], [-Infinity, 2, 3], [Infinity, -1], [1.4e-45, -1.4e-45], [3.4028235e38, -3.4028235e38]]) {
    assert.ok(agree('DynamicQuantizeLinear', [hostTensor('float32', [xs.length], xs)], {}));
  }
  assert.ok(agree('DynamicQuantizeLinear', [hostTensor('float32', [0, 3], [])], {}));
});

test('DynamicQuantizeLinear: large inputs (partial range reductions + tail) == fold', () => {
  const v = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1.4e-45) }, { weight: 200, arbitrary: fc.float({ min: -100, max: 100, noNaN: true }) });
  fc.assert(fc.property(fc.integer({ min: 250, max: 1300 }), fc.boolean(), (n, specials) => {
    const xs = fc.sample(specials ? v : fc.float({ min: -100, max: 100, noNaN: true }), n);
    assert.ok(agree('DynamicQuantizeLinear', [hostTensor('float32', [n], xs)], {}));
  }), { numRuns: 12 });
  // the extremes in the tail, in a partial lane, and only as −0
  const xs = Array.from({ length: 777 }, (_, i) => (i % 7) - 3);
  for (const [at, val] of [[776, -1000], [775, 2000], [3, -5000], [100, NaN], [700, NaN]] as const) {
    const ys = xs.slice(); ys[at] = val;
    assert.ok(agree('DynamicQuantizeLinear', [hostTensor('float32', [777], ys)], {}));
  }
  assert.ok(agree('DynamicQuantizeLinear', [hostTensor('float32', [300], new Array(300).fill(-0))], {}));
});

test('MatMulInteger: native == scalar == fold (batch broadcast, rank-1, per-row / per-column zero points)', () => {
  const geo = fc.record({
    m: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 0, max: 9 }), n: fc.integer({ min: 1, max: 11 }),
    ba: fc.constantFrom([], [2], [1], [3, 1]), bb: fc.constantFrom([], [2], [1], [1, 2]), va: fc.boolean(), vb: fc.boolean(),
    da: fc.constantFrom<DType>('int8', 'uint8'), db: fc.constantFrom<DType>('int8', 'uint8'), pa: fc.boolean(), pb: fc.boolean(),
  });
  let ran = 0;
  fc.assert(fc.property(geo.chain((g) => {
    const da = g.va ? [g.k] : [...g.ba, g.m, g.k];
    const db = g.vb ? [g.k] : [...g.bb, g.k, g.n];
    const za = g.pa && !g.va ? [g.m] : [];
    const zb = g.pb && !g.vb ? [g.n] : [];
    return fc.tuple(tensorOf(g.da, da), tensorOf(g.db, db), tensorOf(g.da, za), tensorOf(g.db, zb));
  }), ([a, b, za, zb]) => { if (agree('MatMulInteger', [a, b, za, zb], {})) ran++; }), { numRuns: 120 });
  assert.ok(ran > 100, `only ${ran} valid cases`);
});

test('MatMulInteger: int32 accumulation wraps (two\'s complement)', () => {
  const K = 40000, N = 5;
  const a = hostTensor('uint8', [1, K], new Array<number>(K).fill(255));
  const b = hostTensor('uint8', [K, N], Array.from({ length: K * N }, (_, i) => (i % N === 2 ? 0 : 255)));
  const za = hostTensor('uint8', [], [0]), zb = hostTensor('uint8', [], [0]);
  assert.ok(agree('MatMulInteger', [a, b, za, zb], {}));
  const y = runKernelOnce('MatMulInteger', [a, b, za, zb], {}, true).outputs[0]!;
  assert.equal(y.data[0], (255 * 255 * K) | 0);
  assert.notEqual(y.data[0], 255 * 255 * K);
  assert.equal(y.data[2], 0);
});

const convGeo = fc.record({
  n: fc.integer({ min: 1, max: 2 }), group: fc.constantFrom(1, 2), cg: fc.integer({ min: 1, max: 3 }), mg: fc.constantFrom(1, 2, 4),
  h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 9 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 3 }), dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
  pads: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
  dx: fc.constantFrom<DType>('int8', 'uint8'), dw8: fc.constantFrom<DType>('int8', 'uint8'), perChannel: fc.boolean(),
});

test('ConvInteger (2-D): native == scalar == fold over random geometries and zero points', () => {
  let ran = 0;
  fc.assert(fc.property(convGeo.chain((g) => fc.tuple(fc.constant(g),
    tensorOf(g.dx, [g.n, g.cg * g.group, g.h, g.w]), tensorOf(g.dw8, [g.mg * g.group, g.cg, g.kh, g.kw]),
    tensorOf(g.dx, []), tensorOf(g.dw8, g.perChannel ? [g.mg * g.group] : []))), ([g, x, w, xz, wz]) => {
    if (agree('ConvInteger', [x, w, xz, wz], { group: g.group, strides: [g.sh, g.sw], dilations: [g.dh, g.dw], pads: g.pads })) ran++;
  }), { numRuns: 80 });
  assert.ok(ran > 30, `only ${ran} valid geometries`);
});

test('ConvInteger (1-D and 3-D): native == scalar == fold', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1 }), fc.constantFrom<DType>('int8', 'uint8'), (len, kl, pad, d) => {
    const [x1, w1, xz, wz] = fc.sample(fc.tuple(tensorOf(d, [1, 2, len]), tensorOf('int8', [4, 2, kl]), tensorOf(d, []), tensorOf('int8', [4])), 1)[0]!;
    agree('ConvInteger', [x1, w1, xz, wz], { group: 1, strides: [1], dilations: [1], pads: [pad, pad] });
    const [x3, w3, xz3, wz3] = fc.sample(fc.tuple(tensorOf(d, [1, 1, 3, 3, len]), tensorOf(d, [2, 1, 2, 1, kl]), tensorOf(d, []), tensorOf(d, [])), 1)[0]!;
    agree('ConvInteger', [x3, w3, xz3, wz3], { group: 1, strides: [1, 2, 1], dilations: [1, 1, 1], pads: [0, 1, pad, 1, 0, pad] });
  }), { numRuns: 10 });
});

test('ConvInteger: padding contributes nothing (as if it held x_zero_point)', () => {
  const x = hostTensor('uint8', [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const w = hostTensor('uint8', [1, 1, 2, 2], [1, 1, 1, 1]);
  const attrs = { group: 1, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] };
  const y = runKernelOnce('ConvInteger', [x, w, hostTensor('uint8', [], [1]), hostTensor('uint8', [], [0])], attrs, true).outputs[0]!;
  // top-left output sees only X[0,0] − 1 = 0; centre-ish (1,1) sees 0+1+3+4
  assert.equal(y.data[0], 0);
  assert.equal(y.data[5], 0 + 1 + 3 + 4);
});

test('Requantize: native == scalar == fold (per-tensor and per-axis, int8/uint8, extreme accumulators)', () => {
  const mult = fc.oneof(fc.constantFrom(0, 1, 2 ** 30, 2 ** 31 - 1, 1518500250), fc.integer({ min: 0, max: 2 ** 31 - 1 }));
  const shift = fc.oneof(fc.constantFrom(0, 1, 2, 31, 32, 61, 62), fc.integer({ min: 0, max: 62 }), fc.integer({ min: 28, max: 40 }));
  fc.assert(fc.property(geoArb, fc.constantFrom<DType>('int8', 'uint8'), (g, d) => {
    const per = g.perAxis && g.shape.length > 0;
    const np = per ? g.shape[g.axis]! : 1;
    fc.assert(fc.property(tensorOf('int32', g.shape), fc.array(mult, { minLength: np, maxLength: np }), fc.array(shift, { minLength: np, maxLength: np }), tensorOf(d, []), (acc, ms, ss, z) => {
      assert.ok(agree('Requantize', [acc, z], { multipliers: ms, shifts: ss, axis: per ? g.axis : 0 }));
    }), { numRuns: 4 });
  }), { numRuns: 40 });
});

test('Requantize per-axis: both row strategies (select chain for long rows, tables for short ones)', () => {
  for (const [shape, axis] of [[[2, 3, 5], 1], [[2, 5, 3], 1], [[4, 6], 1], [[6, 4], 0], [[1, 300, 2], 1]] as [number[], number][]) {
    const dim = shape[axis]!;
    const n = numelOf(shape);
    const acc = hostTensor('int32', shape, Array.from({ length: n }, (_, i) => ((i * 2654435761) | 0) >> (i % 20)));
    const ms = Array.from({ length: dim }, (_, j) => (1073741824 + j * 7919 * 131) % 2 ** 31);
    const ss = Array.from({ length: dim }, (_, j) => [0, 1, 20, 31, 33, 40, 62][j % 7]!);
    for (const d of ['int8', 'uint8'] as const) assert.ok(agree('Requantize', [acc, hostTensor(d, [], [d === 'int8' ? -3 : 200])], { multipliers: ms, shifts: ss, axis }));
  }
});

test('Requantize: ties round to even at every shift', () => {
  // acc × 1 / 2^s for acc = (2t + 1) · 2^(s−1): exact halves
  for (const s of [1, 2, 5, 17, 28]) {
    const accs = [-5, -3, -1, 1, 3, 5, 7].map((t) => t * 2 ** (s - 1));
    const acc = hostTensor('int32', [accs.length], accs);
    assert.ok(agree('Requantize', [acc, hostTensor('int8', [], [0])], { multipliers: [1], shifts: [s], axis: 0 }));
    const y = runKernelOnce('Requantize', [acc, hostTensor('int8', [], [0])], { multipliers: [1], shifts: [s], axis: 0 }, false).outputs[0]!;
    assert.deepEqual([...y.data], [-2, -2, 0, 0, 2, 2, 4]);
  }
});

test('the native forms of the i32 / f32 kernels really are vectorised', () => {
  const x = hostTensor('float32', [4, 16], Array.from({ length: 64 }, (_, i) => i - 30));
  const cases: [string, HostTensor[], Attrs][] = [
    ['QuantizeLinear', [x, hostTensor('float32', [], [0.5]), hostTensor('int8', [], [3])], { axis: 0 }],
    ['QuantizeLinear', [x, hostTensor('float32', [16], new Array(16).fill(0.5)), hostTensor('uint8', [16], new Array(16).fill(3))], { axis: 1 }],
    ['DequantizeLinear', [hostTensor('int8', [4, 16], new Array(64).fill(1)), hostTensor('float32', [4], [1, 2, 3, 4]), hostTensor('int8', [4], [0, 1, 2, 3])], { axis: 0 }],
    ['DynamicQuantizeLinear', [hostTensor('float32', [300], Array.from({ length: 300 }, (_, i) => i - 100))], {}],
    ['MatMulInteger', [hostTensor('int8', [3, 5], new Array(15).fill(1)), hostTensor('uint8', [5, 8], new Array(40).fill(2)), hostTensor('int8', [3], [1, 2, 3]), hostTensor('uint8', [8], new Array(8).fill(1))], {}],
    ['ConvInteger', [hostTensor('uint8', [1, 2, 6, 9], new Array(108).fill(1)), hostTensor('int8', [4, 2, 3, 3], new Array(72).fill(1)), hostTensor('uint8', [], [1]), hostTensor('int8', [4], [0, 1, 2, 3])], { group: 1, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] }],
  ];
  for (const [op, ins, attrs] of cases) {
    const s = runKernelOnce(op, ins, attrs, false);
    const n = runKernelOnce(op, ins, attrs, true);
    assert.ok(n.wasmBytes > s.wasmBytes, `${op}: native module carries a SIMD loop`);
  }
});
