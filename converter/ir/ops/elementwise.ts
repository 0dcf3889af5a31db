/**
 * Elementwise ops: unary maps, broadcasting binary ops, comparisons and logic, Where, Clip and
 * Cast. Numerics follow the determinism contract (docs/determinism.md): float32 ops round once,
 * min/max follow WebAssembly's f32.min/f32.max (NaN propagates, −0 < +0), every NaN stored is the
 * canonical quiet NaN, integers wrap.
 */
import type { DType, TensorType } from '../types.ts';
import { DTYPES } from '../types.ts';
import { defineOp, IrError } from '../op-registry.ts';
import type { HostTensor } from '../host-tensor.ts';
import { hostTensor } from '../host-tensor.ts';
import { allocTyped, computeDType, intRange, isBoundary, isDType } from '../dtype.ts';
import { boundaryCastScalar } from './boundary.ts';
import type { Scalar } from './util.ts';
import { broadcastShapes, foldElementwise, requireDType, requireSameDType, wrapInt } from './util.ts';

const f32 = Math.fround;
const NUMERIC: readonly DType[] = ['float32', 'int8', 'uint8', 'int16', 'int32', 'int64'];
const SIGNED: readonly DType[] = ['float32', 'int8', 'int16', 'int32', 'int64'];
const INTS: readonly DType[] = ['int8', 'uint8', 'int16', 'int32', 'int64'];
const FLOAT: readonly DType[] = ['float32'];
const ALL: readonly DType[] = DTYPES.filter((d) => !isBoundary(d)); // compute dtypes

/** WebAssembly f32.max / f32.min semantics. */
export function wasmMax(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  if (a === 0 && b === 0) return Object.is(a, -0) && Object.is(b, -0) ? -0 : 0;
  return a > b ? a : b;
}
export function wasmMin(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  if (a === 0 && b === 0) return Object.is(a, 0) && Object.is(b, 0) ? 0 : -0;
  return a < b ? a : b;
}

/** Round half to even, as f32.nearest. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  const res = Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
  return res === 0 ? (Object.is(x, -0) || x < 0 ? -0 : 0) : res;
}

// ---------------------------------------------------------------- unary

interface UnarySpec {
  name: string;
  summary: string;
  doc?: string;
  dtypes: readonly DType[];
  attrs?: Record<string, 'float' | 'int'>;
  out?: (d: DType) => DType;
  /** Host evaluation, only where it is bit-exact. */
  fold?: (x: Scalar, attrs: Record<string, number>, d: DType) => Scalar;
}

function defineUnary(s: UnarySpec) {
  defineOp({
    name: s.name,
    summary: s.summary,
    doc: s.doc ?? `${s.summary}. Input dtypes: ${s.dtypes.join(', ')}. Output has the input's shape${s.out ? '' : ' and dtype'}.`,
    inputs: [1, 1],
    outputs: 1,
    attrs: s.attrs ?? {},
    infer([x], _attrs) {
      requireDType(x!, s.dtypes, `${s.name} input`);
      return [{ dtype: s.out ? s.out(x!.dtype) : x!.dtype, shape: x!.shape }];
    },
    fold: s.fold
      ? ([x], attrs) => [foldElementwise([x!], s.out ? s.out(x!.dtype) : x!.dtype, (v) => s.fold!(v, attrs as Record<string, number>, x!.dtype))]
      : undefined,
  });
}

const toBool = () => 'bool' as DType;
const intNeg = (v: Scalar, d: DType) => (typeof v === 'bigint' ? wrapInt(d, -v) : Number(wrapInt(d, -BigInt(v))));

defineUnary({ name: 'Abs', summary: 'y = |x|', dtypes: NUMERIC, fold: (x, _a, d) => (d === 'float32' ? Math.abs(x as number) : typeof x === 'bigint' ? wrapInt(d, x < 0n ? -x : x) : Number(wrapInt(d, BigInt(Math.abs(x as number))))) });
defineUnary({ name: 'Neg', summary: 'y = −x (integers wrap)', dtypes: SIGNED, fold: (x, _a, d) => (d === 'float32' ? -(x as number) : intNeg(x, d)) });
defineUnary({ name: 'Floor', summary: 'y = floor(x)', dtypes: FLOAT, fold: (x) => Math.floor(x as number) });
defineUnary({ name: 'Ceil', summary: 'y = ceil(x)', dtypes: FLOAT, fold: (x) => Math.ceil(x as number) });
defineUnary({ name: 'Round', summary: 'y = x rounded to the nearest integer, ties to even', dtypes: FLOAT, fold: (x) => roundHalfEven(x as number) });
defineUnary({ name: 'Sqrt', summary: 'y = √x, correctly rounded (NaN for x < 0)', dtypes: FLOAT, fold: (x) => f32(Math.sqrt(x as number)) });
defineUnary({ name: 'Reciprocal', summary: 'y = 1 / x, correctly rounded', dtypes: FLOAT, fold: (x) => f32(1 / (x as number)) });
defineUnary({ name: 'Relu', summary: 'y = max(x, 0) (NaN propagates)', dtypes: SIGNED, fold: (x, _a, d) => (d === 'float32' ? wasmMax(x as number, 0) : x > 0 ? x : typeof x === 'bigint' ? 0n : 0) });
defineUnary({ name: 'Sign', summary: 'y = −1, 0 or 1 by the sign of x (NaN stays NaN, ±0 gives 0)', dtypes: NUMERIC, fold: (x, _a, d) => (d === 'float32' ? ((x as number) !== (x as number) ? NaN : (x as number) > 0 ? 1 : (x as number) < 0 ? -1 : 0) : typeof x === 'bigint' ? (x > 0n ? 1n : x < 0n ? -1n : 0n) : Math.sign(x as number)) });
defineUnary({ name: 'Not', summary: 'logical not', dtypes: ['bool'], fold: (x) => (x ? 0 : 1) });
defineUnary({ name: 'IsNaN', summary: 'true where x is NaN', dtypes: FLOAT, out: toBool, fold: (x) => ((x as number) !== (x as number) ? 1 : 0) });
defineUnary({
  name: 'IsInf', summary: 'true where x is +∞ (if detect_positive) or −∞ (if detect_negative)', dtypes: FLOAT, out: toBool,
  attrs: { detect_positive: 'int', detect_negative: 'int' },
  fold: (x, a) => ((x === Infinity && a.detect_positive) || (x === -Infinity && a.detect_negative) ? 1 : 0),
});
defineUnary({ name: 'LeakyRelu', summary: 'y = x < 0 ? alpha·x : x', dtypes: FLOAT, attrs: { alpha: 'float' }, fold: (x, a) => ((x as number) < 0 ? f32(a.alpha! * (x as number)) : x) });
defineUnary({ name: 'ThresholdedRelu', summary: 'y = x > alpha ? x : 0', dtypes: FLOAT, attrs: { alpha: 'float' }, fold: (x, a) => ((x as number) > a.alpha! ? x : (x as number) !== (x as number) ? NaN : 0) });
defineUnary({ name: 'Shrink', summary: 'y = x < −lambd ? x + bias : x > lambd ? x − bias : 0', dtypes: NUMERIC, attrs: { lambd: 'float', bias: 'float' } });

// Transcendental and composite activations: computed only by kernels (no host folding).
for (const [name, summary] of [
  ['Exp', 'y = eˣ'], ['Log', 'y = ln x'], ['Sin', 'y = sin x'], ['Cos', 'y = cos x'], ['Tan', 'y = tan x'],
  ['Asin', 'y = asin x'], ['Acos', 'y = acos x'], ['Atan', 'y = atan x'], ['Sinh', 'y = sinh x'], ['Cosh', 'y = cosh x'],
  ['Asinh', 'y = asinh x'], ['Acosh', 'y = acosh x'], ['Atanh', 'y = atanh x'], ['Tanh', 'y = tanh x'], ['Erf', 'y = erf x'],
  ['Sigmoid', 'y = 1 / (1 + e⁻ˣ)'], ['Softplus', 'y = ln(1 + eˣ)'], ['Softsign', 'y = x / (1 + |x|)'], ['HardSwish', 'y = x · max(0, min(1, x/6 + 1/2))'],
  ['Mish', 'y = x · tanh(softplus(x))'],
] as const) {
  defineUnary({ name, summary, dtypes: FLOAT, doc: `${summary}. float32 only. Computed by the kernel from + − × ÷ sqrt with the documented error bound of docs/determinism.md; never folded on the host.` });
}
defineUnary({ name: 'Elu', summary: 'y = x < 0 ? alpha·(eˣ − 1) : x', dtypes: FLOAT, attrs: { alpha: 'float' } });
defineUnary({ name: 'Celu', summary: 'y = max(0, x) + min(0, alpha·(e^(x/alpha) − 1))', dtypes: FLOAT, attrs: { alpha: 'float' } });
defineUnary({ name: 'Selu', summary: 'y = gamma · (x ≤ 0 ? alpha·(eˣ − 1) : x)', dtypes: FLOAT, attrs: { alpha: 'float', gamma: 'float' } });
defineUnary({ name: 'HardSigmoid', summary: 'y = max(0, min(1, alpha·x + beta))', dtypes: FLOAT, attrs: { alpha: 'float', beta: 'float' } });
defineUnary({ name: 'Gelu', summary: "y = x·Φ(x); approximate = 'none' (erf form) or 'tanh'", dtypes: FLOAT, attrs: { approximate: 'int' }, doc: 'Gaussian error linear unit. approximate = 0: x·½·(1 + erf(x/√2)); approximate = 1: x·½·(1 + tanh(√(2/π)·(x + 0.044715·x³))). float32 only.' });

// ---------------------------------------------------------------- binary

interface BinarySpec {
  name: string;
  summary: string;
  doc?: string;
  dtypes: readonly DType[];
  attrs?: Record<string, 'int'>;
  out?: (d: DType) => DType;
  fold?: (a: Scalar, b: Scalar, d: DType, attrs: Record<string, number>) => Scalar;
}

function defineBinary(s: BinarySpec) {
  defineOp({
    name: s.name,
    summary: s.summary,
    doc: s.doc ?? `${s.summary}. Both inputs share one dtype (${s.dtypes.join(', ')}) and broadcast numpy-style; the output has the broadcast shape${s.out ? ' and dtype bool' : ''}.`,
    inputs: [2, 2],
    outputs: 1,
    attrs: s.attrs ?? {},
    infer(ins) {
      const d = requireSameDType(ins);
      requireDType(ins[0]!, s.dtypes, `${s.name} input`);
      return [{ dtype: s.out ? s.out(d) : d, shape: broadcastShapes(ins[0]!.shape, ins[1]!.shape) }];
    },
    fold: s.fold
      ? ([a, b], attrs) => [foldElementwise([a!, b!], s.out ? s.out(a!.dtype) : a!.dtype, (x, y) => s.fold!(x, y, a!.dtype, attrs as Record<string, number>))]
      : undefined,
  });
}

/** Integer arithmetic through bigints with wrap-around; float32 through f64 then one rounding. */
function arith(fop: (a: number, b: number) => number, iop: (a: bigint, b: bigint) => bigint) {
  return (a: Scalar, b: Scalar, d: DType): Scalar => {
    if (d === 'float32') return f32(fop(a as number, b as number));
    const r = wrapInt(d, iop(BigInt(a), BigInt(b)));
    return d === 'int64' ? r : Number(r);
  };
}

defineBinary({ name: 'Add', summary: 'y = a + b', dtypes: NUMERIC, fold: arith((a, b) => a + b, (a, b) => a + b) });
defineBinary({ name: 'Sub', summary: 'y = a − b', dtypes: NUMERIC, fold: arith((a, b) => a - b, (a, b) => a - b) });
defineBinary({ name: 'Mul', summary: 'y = a × b', dtypes: NUMERIC, fold: arith((a, b) => a * b, (a, b) => a * b) });
defineBinary({
  name: 'Div', summary: 'y = a ÷ b', dtypes: NUMERIC,
  doc: 'y = a ÷ b, broadcasting. float32: IEEE division, correctly rounded. Integers: truncated toward zero; x ÷ 0 = 0 and MIN ÷ −1 = MIN (wraps), so the op never traps.',
  fold: arith((a, b) => a / b, (a, b) => (b === 0n ? 0n : a / b)),
});
defineBinary({
  name: 'Mod', summary: 'remainder; fmod = 1: sign of the dividend (C fmod), fmod = 0: sign of the divisor (Python %), fmod = 2: unsigned', dtypes: NUMERIC, attrs: { fmod: 'int' },
  doc: 'Elementwise remainder with broadcasting. fmod = 1: r = a − trunc(a/b)·b (sign of a; for float32 exact, like C fmod). fmod = 0 (integers only): r has the sign of b (floor modulo). fmod = 2 (int32, int64 only): both operands read as unsigned integers of the width (uint64 values carried in int64). x mod 0 = 0 for integers, NaN for float32.',
  fold: (a, b, d, at) => {
    if (d === 'float32') return (a as number) % (b as number);
    if (at.fmod === 2) {
      const w = d === 'int64' ? 64 : 32;
      const x = BigInt.asUintN(w, BigInt(a)), y = BigInt.asUintN(w, BigInt(b));
      const r = BigInt.asIntN(w, y === 0n ? 0n : x % y);
      return d === 'int64' ? r : Number(r);
    }
    const x = BigInt(a), y = BigInt(b);
    if (y === 0n) return d === 'int64' ? 0n : 0;
    let r = x % y;
    if (!at.fmod && r !== 0n && (r < 0n) !== (y < 0n)) r += y;
    return d === 'int64' ? wrapInt(d, r) : Number(wrapInt(d, r));
  },
});
defineBinary({ name: 'Pow', summary: 'y = aᵇ', dtypes: FLOAT, doc: 'y = aᵇ for float32 (the importer casts other combinations), computed by the kernel from exp2/log2 with the bound in docs/determinism.md; exact for small integral exponents. Never folded on the host.' });
defineBinary({ name: 'Max', summary: 'y = max(a, b) (float32: f32.max, NaN propagates, +0 > −0)', dtypes: NUMERIC, fold: (a, b, d) => (d === 'float32' ? wasmMax(a as number, b as number) : a > b ? a : b) });
defineBinary({ name: 'Min', summary: 'y = min(a, b) (float32: f32.min, NaN propagates, −0 < +0)', dtypes: NUMERIC, fold: (a, b, d) => (d === 'float32' ? wasmMin(a as number, b as number) : a < b ? a : b) });
defineBinary({ name: 'PRelu', summary: 'y = a < 0 ? b·a : a (b is the broadcast slope)', dtypes: SIGNED, fold: (a, b, d) => (a < 0 ? arith((x, y) => x * y, (x, y) => x * y)(a, b, d) : a) });
defineBinary({
  name: 'BitShift', summary: 'a shifted by b bits; direction 0 = left, 1 = right (logical)', dtypes: ['uint8', 'int32', 'int64'], attrs: { direction: 'int' },
  doc: 'a shifted by b bits, elementwise with broadcasting, on the bit patterns as unsigned integers (uint8; int32 and int64 carry uint16 and uint32/uint64 values); direction 0 shifts left (bits above the width are dropped), 1 shifts right (logical). Shift amounts (read as unsigned) of the width (8, 32, 64) or more give 0.',
  fold: (a, b, d, at) => {
    if (d === 'int64') {
      const x = BigInt.asUintN(64, a as bigint), s = BigInt.asUintN(64, b as bigint);
      return s >= 64n ? 0n : BigInt.asIntN(64, at.direction ? x >> s : x << s);
    }
    const w = d === 'int32' ? 32 : 8;
    const x = Number(a) >>> 0, s = Number(b) >>> 0;
    if (s >= w) return 0;
    return w === 32 ? (at.direction ? x >>> s : x << s) | 0 : at.direction ? x >>> s : (x << s) & 0xff;
  },
});
const cmpOut = toBool;
defineBinary({ name: 'Equal', summary: 'a == b', dtypes: ALL, out: cmpOut, fold: (a, b) => (a === b || (typeof a !== 'bigint' && a == b) ? 1 : 0) });
defineBinary({ name: 'Less', summary: 'a < b', dtypes: NUMERIC, out: cmpOut, fold: (a, b) => (a < b ? 1 : 0) });
defineBinary({ name: 'LessOrEqual', summary: 'a ≤ b', dtypes: NUMERIC, out: cmpOut, fold: (a, b) => (a <= b ? 1 : 0) });
defineBinary({ name: 'Greater', summary: 'a > b', dtypes: NUMERIC, out: cmpOut, fold: (a, b) => (a > b ? 1 : 0) });
defineBinary({ name: 'GreaterOrEqual', summary: 'a ≥ b', dtypes: NUMERIC, out: cmpOut, fold: (a, b) => (a >= b ? 1 : 0) });
defineBinary({ name: 'And', summary: 'logical and', dtypes: ['bool'], fold: (a, b) => (a && b ? 1 : 0) });
defineBinary({ name: 'Or', summary: 'logical or', dtypes: ['bool'], fold: (a, b) => (a || b ? 1 : 0) });
defineBinary({ name: 'Xor', summary: 'logical xor', dtypes: ['bool'], fold: (a, b) => ((a ? 1 : 0) ^ (b ? 1 : 0)) });
defineBinary({ name: 'BitwiseAnd', summary: 'a & b', dtypes: INTS, fold: (a, b, d) => (d === 'int64' ? (a as bigint) & (b as bigint) : Number(a) & Number(b)) });
defineBinary({ name: 'BitwiseOr', summary: 'a | b', dtypes: INTS, fold: (a, b, d) => (d === 'int64' ? (a as bigint) | (b as bigint) : Number(a) | Number(b)) });
defineBinary({ name: 'BitwiseXor', summary: 'a ^ b', dtypes: INTS, fold: (a, b, d) => (d === 'int64' ? (a as bigint) ^ (b as bigint) : Number(a) ^ Number(b)) });
defineUnary({ name: 'BitwiseNot', summary: 'bitwise not: y = ~x', dtypes: INTS, fold: (x, _a, d) => (d === 'int64' ? ~(x as bigint) : Number(wrapInt(d, ~BigInt(x)))) });

// ---------------------------------------------------------------- ternary and casts

defineOp({
  name: 'Where',
  summary: 'y = cond ? a : b, broadcasting all three',
  doc: 'cond is bool; a and b share one dtype; all three broadcast numpy-style.',
  inputs: [3, 3],
  outputs: 1,
  attrs: {},
  infer([c, a, b]) {
    requireDType(c!, ['bool'], 'Where condition');
    const d = requireSameDType([a!, b!]);
    return [{ dtype: d, shape: broadcastShapes(c!.shape, a!.shape, b!.shape) }];
  },
  fold: ([c, a, b]) => [foldElementwise([c!, a!, b!], a!.dtype, (x, y, z) => (x ? y : z))],
});

defineOp({
  name: 'Clip',
  summary: 'y = min(max(x, lo), hi) with scalar lo and hi',
  doc: 'x of any numeric dtype; lo and hi are scalars (rank 0) of the same dtype (the importer fills missing bounds with the dtype limits, ±∞ for float32). float32 uses f32.max then f32.min, so NaN propagates.',
  inputs: [3, 3],
  outputs: 1,
  attrs: {},
  infer([x, lo, hi]) {
    requireSameDType([x!, lo!, hi!]);
    requireDType(x!, NUMERIC, 'Clip input');
    if (lo!.shape.length !== 0 || hi!.shape.length !== 0) throw new IrError('Clip bounds must be scalars');
    return [{ dtype: x!.dtype, shape: x!.shape }];
  },
  fold: ([x, lo, hi]) => [foldElementwise([x!, lo!, hi!], x!.dtype, (v, l, h) => (x!.dtype === 'float32' ? wasmMin(wasmMax(v as number, l as number), h as number) : ((m) => (m > h ? h : m))(v < l ? l : v)))],
});

/** A bigint rounded once to float32 (nearest, ties to even); Number(v) would round twice above 2^53. */
export function bigintToF32(v: bigint): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  const bits = a.toString(2).length;
  if (bits > 24) {
    const drop = BigInt(bits - 24);
    const half = 1n << (drop - 1n);
    const rem = a & ((1n << drop) - 1n);
    a >>= drop;
    if (rem > half || (rem === half && (a & 1n) === 1n)) a += 1n;
    a <<= drop;
  }
  const r = f32(Number(a));
  return neg ? -r : r;
}

/** Cast one value; the rules of docs/ir.md §Cast. */
export function castScalar(v: Scalar, from: DType, to: DType): Scalar {
  if (to === from) return v;
  if (isBoundary(from) || isBoundary(to)) {
    const r = boundaryCastScalar(v, from, to);
    if (r === undefined) throw new IrError(`Cast ${from} → ${to}: a boundary dtype casts only to and from its compute dtype`);
    return r;
  }
  if (to === 'bool') return typeof v === 'bigint' ? (v !== 0n ? 1 : 0) : v !== 0 ? 1 : 0; // NaN → true
  if (to === 'float32') return typeof v === 'bigint' ? bigintToF32(v) : f32(Number(v));
  // to an integer type
  if (from === 'float32') {
    const x = v as number;
    const [lo, hi] = intRange(to);
    if (x !== x) return to === 'int64' ? 0n : 0;
    const t = Math.trunc(x);
    let r: bigint;
    if (t <= Number(lo)) r = lo;
    else if (t >= Number(hi)) r = hi;
    else r = BigInt(t);
    return to === 'int64' ? r : Number(r);
  }
  const r = wrapInt(to, BigInt(v));
  return to === 'int64' ? r : Number(r);
}

defineOp({
  name: 'Cast',
  summary: 'convert to dtype `to`',
  doc: 'float32 → integer: truncate toward zero, saturate to the target range, NaN → 0. integer → integer: two\'s-complement wrap. integer → float32: round to nearest, ties to even. anything → bool: x ≠ 0 (NaN → true). bool → number: 0 or 1. '
    + 'A boundary dtype (float64, float16, bfloat16, uint16, uint32, uint64) casts only to and from its compute dtype (float32, float32, float32, int32, int64, int64): '
    + 'float32 → float64/float16/bfloat16 round to nearest even (overflow → ±∞), NaN → the target\'s canonical quiet NaN (0x7FF8000000000000, 0x7E00, 0x7FC0); '
    + 'float64/float16/bfloat16 → float32 round to nearest even (float16, bfloat16: exact), NaN → 0x7FC00000; uint16 → int32 and uint32 → int64 zero-extend; '
    + 'int32 → uint16 and int64 → uint32 wrap; int64 ↔ uint64 keep the bits. Computed with integer operations on the bit patterns.',
  inputs: [1, 1],
  outputs: 1,
  attrs: { to: 'dtype' },
  infer([x], attrs) {
    const to = attrs.to as string;
    if (!isDType(to)) throw new IrError(`Cast to unknown dtype ${to}`);
    if ((isBoundary(to) || isBoundary(x!.dtype)) && to !== x!.dtype && computeDType(to) !== x!.dtype && computeDType(x!.dtype) !== to) {
      throw new IrError(`Cast ${x!.dtype} → ${to}: a boundary dtype casts only to and from its compute dtype`);
    }
    return [{ dtype: to, shape: x!.shape }];
  },
  fold([x], attrs) {
    const to = attrs.to as DType;
    const out = allocTyped(to, x!.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = castScalar(x!.data[i]!, x!.dtype, to);
      if (out instanceof BigInt64Array || out instanceof BigUint64Array) out[i] = BigInt(v);
      else (out as Float32Array)[i] = Number(v);
    }
    return [hostTensor(to, x!.shape, out)];
  },
});

export type { TensorType, HostTensor };
