/**
 * IR ops: quantization family. Linear (affine) quantization: real = (q − zero_point) · scale.
 *
 * Conventions fixed here (docs/ir-ops.md is generated from the docs below):
 * - Quantize from float rounds once, half to even (f32.nearest), after an IEEE float32 division.
 * - Integer products accumulate in int32 with two's-complement wrap-around, in a documented order.
 * - Requantization (int32 accumulator → int8/uint8) is integer-only: a fixed-point multiplier and a
 *   right shift computed by the importer from the float32 scales, with round-half-to-even.
 */
import type { DType, TensorType } from '../types.ts';
import { numel, shape } from '../types.ts';
import { defineOp, getOp, IrError } from '../op-registry.ts';
import type { HostTensor } from '../host-tensor.ts';
import { hostTensor, strides } from '../host-tensor.ts';
import { allocTyped, intRange } from '../dtype.ts';
import { requireDType } from './util.ts';
import { matmulShape, windowOutDim, windowPlan } from './nn.ts';
import { wasmMax, wasmMin } from './elementwise.ts';

const f32 = Math.fround;
const Q8: readonly DType[] = ['int8', 'uint8'];

function fmt(s: readonly number[]): string {
  return `[${s.join('x')}]`;
}

/** Round half to even of a finite float (f32.nearest on an exact value). */
function nearestEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** Quantize one float32 value: clamp(nearest(f32(x / scale)) + zp) to the range of `d`; NaN → zp. */
export function quantizeScalar(x: number, scale: number, zp: number, d: DType): number {
  const [lo, hi] = intRange(d);
  const q = f32(x / scale);
  if (q !== q) return zp;
  const v = nearestEven(q) + zp; // exact in f64: |q| rounded is an integer, zp small
  return v < Number(lo) ? Number(lo) : v > Number(hi) ? Number(hi) : v;
}

/** Check a per-tensor (rank 0) or per-axis (rank 1, length dim) parameter. */
function checkParam(t: TensorType, dim: number, what: string): void {
  if (t.shape.length === 0) return;
  if (t.shape.length === 1 && t.shape[0] === dim) return;
  throw new IrError(`${what} must be a scalar (per-tensor) or have shape [${dim}] (per-axis), got ${fmt(t.shape)}`);
}

function axisOf(x: TensorType, attrs: Record<string, unknown>): number {
  const axis = attrs.axis as number;
  if (axis < 0 || axis >= Math.max(1, x.shape.length)) throw new IrError(`axis ${axis} out of range for rank ${x.shape.length}`);
  return axis;
}

/** Index into a per-tensor or per-axis parameter for flat element i of x. */
function paramIndexer(x: readonly number[], p: HostTensor, axis: number): (i: number) => number {
  if (p.shape.length === 0) return () => 0;
  const inner = numel(x.slice(axis + 1));
  const n = x[axis]!;
  return (i) => Math.floor(i / inner) % n;
}

defineOp({
  name: 'QuantizeLinear',
  summary: 'float32 → int8/uint8: clamp(round_half_even(x / scale) + zero_point)',
  doc: `Inputs x float32, scale float32, zero_point int8 or uint8 (the output dtype). scale and zero_point are
both scalars (per-tensor; \`axis\` is then 0 and ignored) or both [x.shape[axis]] (per-axis along attr \`axis\`,
normalised). Output: x's shape.
Per element: q = f32(x / scale) (IEEE division); r = q rounded to the nearest integer, ties to even
(f32.nearest); y = clamp(r + zero_point, qmin, qmax) computed exactly (saturating; ±∞ saturate); NaN x gives
y = zero_point. The host fold implements exactly this.`,
  inputs: [3, 3],
  outputs: 1,
  attrs: { axis: 'int' },
  infer([x, s, z], attrs) {
    requireDType(x!, ['float32'], 'QuantizeLinear x');
    requireDType(s!, ['float32'], 'QuantizeLinear scale');
    requireDType(z!, Q8, 'QuantizeLinear zero_point');
    const axis = axisOf(x!, attrs);
    const dim = x!.shape.length ? x!.shape[axis]! : 1;
    checkParam(s!, dim, 'scale');
    checkParam(z!, dim, 'zero_point');
    if (s!.shape.length !== z!.shape.length) throw new IrError(`scale ${fmt(s!.shape)} and zero_point ${fmt(z!.shape)} must have the same shape`);
    return [{ dtype: z!.dtype, shape: x!.shape }];
  },
  fold([x, s, z], attrs) {
    const axis = attrs.axis as number;
    const X = x!.data as Float32Array, S = s!.data as Float32Array, Z = z!.data as Int8Array;
    const is = paramIndexer(x!.shape, s!, axis);
    const out = allocTyped(z!.dtype, X.length) as Int8Array;
    for (let i = 0; i < X.length; i++) { const k = is(i); out[i] = quantizeScalar(X[i]!, S[k]!, Z[k]!, z!.dtype); }
    return [hostTensor(z!.dtype, x!.shape, out)];
  },
});

defineOp({
  name: 'DequantizeLinear',
  summary: 'int8/uint8/int32 → float32: (x − zero_point) · scale',
  doc: `Inputs x int8, uint8 or int32, scale float32, zero_point of x's dtype. scale and zero_point are both scalars
(per-tensor; \`axis\` is then 0 and ignored) or both [x.shape[axis]] (per-axis along attr \`axis\`, normalised).
Output float32 of x's shape.
Per element: d = x − zero_point computed exactly in int32 (wrapping; cannot overflow for 8-bit inputs); y =
f32(f32(d) × scale) — the integer is converted to float32 (round to nearest even), then one rounded multiply.
The host fold implements exactly this.`,
  inputs: [3, 3],
  outputs: 1,
  attrs: { axis: 'int' },
  infer([x, s, z], attrs) {
    requireDType(x!, ['int8', 'uint8', 'int32'], 'DequantizeLinear x');
    requireDType(s!, ['float32'], 'DequantizeLinear scale');
    if (z!.dtype !== x!.dtype) throw new IrError(`zero_point must have x's dtype ${x!.dtype}, got ${z!.dtype}`);
    const axis = axisOf(x!, attrs);
    const dim = x!.shape.length ? x!.shape[axis]! : 1;
    checkParam(s!, dim, 'scale');
    checkParam(z!, dim, 'zero_point');
    if (s!.shape.length !== z!.shape.length) throw new IrError(`scale ${fmt(s!.shape)} and zero_point ${fmt(z!.shape)} must have the same shape`);
    return [{ dtype: 'float32', shape: x!.shape }];
  },
  fold([x, s, z], attrs) {
    const axis = attrs.axis as number;
    const X = x!.data as Int32Array, S = s!.data as Float32Array, Z = z!.data as Int32Array;
    const is = paramIndexer(x!.shape, s!, axis);
    const y = new Float32Array(X.length);
    for (let i = 0; i < X.length; i++) { const k = is(i); y[i] = f32(f32((X[i]! - Z[k]!) | 0) * S[k]!); }
    return [hostTensor('float32', x!.shape, y)];
  },
});

defineOp({
  name: 'DynamicQuantizeLinear',
  summary: 'float32 → uint8 with scale and zero point computed from the data range',
  doc: `Input x float32 (any shape). Outputs y uint8 (x's shape), y_scale float32 scalar, y_zero_point uint8 scalar.
lo = f32.min(+0, min over x), hi = f32.max(+0, max over x) (min/max are order-independent; NaN propagates).
y_scale = f32(f32(hi − lo) / 255). If y_scale is 0 or NaN: y_zero_point = 0 and every y = 0. Otherwise
y_zero_point = clamp(nearest_even(f32(f32(0 − lo) / y_scale)), 0, 255) and each y =
QuantizeLinear(x, y_scale, y_zero_point) (see QuantizeLinear). The host fold implements exactly this.`,
  inputs: [1, 1],
  outputs: 3,
  attrs: {},
  infer([x]) {
    requireDType(x!, ['float32'], 'DynamicQuantizeLinear x');
    return [{ dtype: 'uint8', shape: x!.shape }, { dtype: 'float32', shape: shape([]) }, { dtype: 'uint8', shape: shape([]) }];
  },
  fold([x]) {
    const X = x!.data as Float32Array;
    let lo = 0, hi = 0;
    for (const v of X) { lo = wasmMin(lo, v); hi = wasmMax(hi, v); }
    const scale = f32(f32(hi - lo) / 255);
    const y = new Uint8Array(X.length);
    let zp = 0;
    if (scale !== 0 && scale === scale) {
      const z = f32(f32(0 - lo) / scale);
      zp = z !== z ? 0 : Math.min(255, Math.max(0, nearestEven(z)));
      for (let i = 0; i < X.length; i++) y[i] = quantizeScalar(X[i]!, scale, zp, 'uint8');
    }
    return [hostTensor('uint8', x!.shape, y), hostTensor('float32', [], [scale]), hostTensor('uint8', [], [zp])];
  },
});

defineOp({
  name: 'MatMulInteger',
  summary: 'int8/uint8 numpy matmul of (A − a_zero_point) and (B − b_zero_point), int32 result',
  doc: `Inputs A and B int8 or uint8 (each independently), a_zero_point of A's dtype, b_zero_point of B's dtype.
Shapes as MatMul (numpy matmul: rank ≥ 1, batch dims broadcast). a_zero_point is a scalar or [M] (one per row
of A, A of rank ≥ 2); b_zero_point is a scalar or [N] (one per column of B, B of rank ≥ 2). Output int32 with
MatMul's shape. Numerics: \`acc = 0 (int32)\`; for k = 0 … K−1 in increasing order
\`acc = acc + (A[m, k] − azp[m]) × (B[k, n] − bzp[n])\`, all in int32 with two's-complement wrap-around.`,
  inputs: [4, 4],
  outputs: 1,
  attrs: {},
  infer([a, b, az, bz]) {
    requireDType(a!, Q8, 'MatMulInteger A');
    requireDType(b!, Q8, 'MatMulInteger B');
    if (az!.dtype !== a!.dtype || bz!.dtype !== b!.dtype) throw new IrError('zero points must have the dtypes of A and B');
    const { out, m, n } = matmulShape(a!.shape, b!.shape);
    if (az!.shape.length && (a!.shape.length < 2 || az!.shape.length !== 1 || az!.shape[0] !== m)) throw new IrError(`a_zero_point must be a scalar or [${m}] (per row), got ${fmt(az!.shape)}`);
    if (bz!.shape.length && (b!.shape.length < 2 || bz!.shape.length !== 1 || bz!.shape[0] !== n)) throw new IrError(`b_zero_point must be a scalar or [${n}] (per column), got ${fmt(bz!.shape)}`);
    return [{ dtype: 'int32', shape: shape(out) }];
  },
  fold([a, b, az, bz]) {
    const { out, batch, m, k, n } = matmulShape(a!.shape, b!.shape);
    const A = a!.data as Int8Array, B = b!.data as Int8Array, AZ = az!.data as Int8Array, BZ = bz!.data as Int8Array;
    const aBatch = a!.shape.length <= 2 ? [] : a!.shape.slice(0, -2);
    const bBatch = b!.shape.length <= 2 ? [] : b!.shape.slice(0, -2);
    const nb = numel(batch);
    const y = new Int32Array(nb * m * n);
    const bs = strides(batch), aStr = strides(aBatch), bStr = strides(bBatch);
    const off = (idx: number[], dims: readonly number[], str: number[]) => {
      let o = 0;
      for (let i = 0; i < dims.length; i++) o += (dims[i] === 1 ? 0 : idx[batch.length - dims.length + i]!) * str[i]!;
      return o;
    };
    for (let bi = 0; bi < nb; bi++) {
      const idx = bs.map((s, i) => Math.floor(bi / s) % batch[i]!);
      const ao = off(idx, aBatch, aStr) * m * k, bo = off(idx, bBatch, bStr) * k * n;
      for (let i = 0; i < m; i++) {
        const za = AZ.length > 1 ? AZ[i]! : AZ[0]!;
        for (let j = 0; j < n; j++) {
          const zb = BZ.length > 1 ? BZ[j]! : BZ[0]!;
          let acc = 0;
          for (let p = 0; p < k; p++) acc = (acc + Math.imul(A[ao + i * k + p]! - za, B[bo + p * n + j]! - zb)) | 0;
          y[(bi * m + i) * n + j] = acc;
        }
      }
    }
    return [hostTensor('int32', out, y)];
  },
});

defineOp({
  name: 'ConvInteger',
  summary: 'Conv of (X − x_zero_point) and (W − w_zero_point) over int8/uint8, int32 result',
  doc: `Inputs X (N, C, D…) and W (M, C/group, k…), each int8 or uint8, x_zero_point (scalar, X's dtype) and
w_zero_point (scalar or [M] per output channel, W's dtype). attrs and output shape exactly as Conv; output int32.
Numerics: the loop order of Conv with int32 arithmetic (two's-complement wrap):
\`acc = 0; acc = acc + (X[…] − xzp) × (W[…] − wzp[m])\`; padding positions contribute nothing (as if they held
x_zero_point).`,
  inputs: [4, 4],
  outputs: 1,
  attrs: { group: 'int', strides: 'ints', dilations: 'ints', pads: 'ints' },
  infer([x, w, xz, wz], attrs) {
    requireDType(x!, Q8, 'ConvInteger X');
    requireDType(w!, Q8, 'ConvInteger W');
    if (xz!.dtype !== x!.dtype || wz!.dtype !== w!.dtype) throw new IrError('zero points must have the dtypes of X and W');
    if (x!.shape.length < 3 || w!.shape.length !== x!.shape.length) throw new IrError(`X ${fmt(x!.shape)} must be (N, C, spatial…) and W ${fmt(w!.shape)} of the same rank`);
    const sp = x!.shape.length - 2;
    const g = attrs.group as number;
    const C = x!.shape[1]!, M = w!.shape[0]!;
    if (g < 1 || C % g !== 0 || M % g !== 0 || w!.shape[1]! * g !== C) throw new IrError(`group ${g} does not fit X channels ${C} and W ${fmt(w!.shape)}`);
    if (xz!.shape.length !== 0) throw new IrError(`x_zero_point must be a scalar, got ${fmt(xz!.shape)}`);
    if (wz!.shape.length && (wz!.shape.length !== 1 || wz!.shape[0] !== M)) throw new IrError(`w_zero_point must be a scalar or [${M}], got ${fmt(wz!.shape)}`);
    const st = attrs.strides as number[], di = attrs.dilations as number[], pads = attrs.pads as number[];
    if (st.length !== sp || di.length !== sp || pads.length !== 2 * sp) throw new IrError(`strides, dilations need ${sp} values and pads ${2 * sp}`);
    const out = [];
    for (let i = 0; i < sp; i++) out.push(windowOutDim(x!.shape[2 + i]!, w!.shape[2 + i]!, st[i]!, di[i]!, pads[i]!, pads[sp + i]!));
    return [{ dtype: 'int32', shape: shape([x!.shape[0]!, M, ...out]) }];
  },
  fold(ins, attrs) {
    const [x, w, xz, wz] = ins;
    const outShape = getOp('ConvInteger').infer(ins, attrs)[0]!.shape;
    const [N, C] = x!.shape as unknown as [number, number];
    const M = w!.shape[0]!, G = attrs.group as number, Cg = C / G, Mg = M / G;
    const inSp = x!.shape.slice(2), kSp = w!.shape.slice(2), outSp = outShape.slice(2);
    const { terms } = windowPlan(inSp, outSp, kSp, attrs.strides as number[], attrs.dilations as number[], attrs.pads as number[]);
    const X = x!.data as Int8Array, W = w!.data as Int8Array, XZ = xz!.data[0] as number, WZ = wz!.data as Int8Array;
    const P = numel(inSp), K = numel(kSp), O = numel(outSp);
    const y = new Int32Array(N * M * O);
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) {
        const g = Math.floor(m / Mg), zw = WZ.length > 1 ? WZ[m]! : WZ[0]!;
        for (let o = 0; o < O; o++) {
          const t = terms[o]!;
          let acc = 0;
          for (let c = 0; c < Cg; c++) {
            const xb = (n * C + g * Cg + c) * P, wb = (m * Cg + c) * K;
            for (let i = 0; i < t.length; i += 2) acc = (acc + Math.imul(X[xb + t[i]!]! - XZ, W[wb + t[i + 1]!]! - zw)) | 0;
          }
          y[(n * M + m) * O + o] = acc;
        }
      }
    }
    return [hostTensor('int32', outShape, y)];
  },
});

/** y = clamp(zp + round_half_even(acc · mult / 2^shift)), the Requantize rule on bigints. */
export function requantizeScalar(acc: number, mult: number, shift: number, zp: number, d: DType): number {
  const p = BigInt(acc) * BigInt(mult);
  let q: bigint;
  if (shift === 0) q = p;
  else {
    const den = 1n << BigInt(shift);
    q = p >> BigInt(shift); // floor
    const rem = p - (q << BigInt(shift));
    const half = den >> 1n;
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  }
  const [lo, hi] = intRange(d);
  let v = q + BigInt(zp);
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return Number(v);
}

defineOp({
  name: 'Requantize',
  summary: 'int32 accumulator → int8/uint8 with an integer fixed-point multiplier (round half to even)',
  doc: `Inputs acc int32 (any shape), zero_point int8 or uint8 scalar (the output dtype). attrs \`multipliers\`
(ints in [0, 2³¹)), \`shifts\` (ints in [0, 62]) — one value each (per-tensor) or acc.shape[axis] values (per-axis
along attr \`axis\`, normalised; ignored when per-tensor). Output: acc's shape, zero_point's dtype.
Integer-only: p = acc × multiplier as an exact int64 product (|p| < 2⁶²); q = p / 2^shift rounded to the
nearest integer, ties to even (q = p >> shift arithmetic; rem = p − (q << shift); q += 1 when rem > 2^(shift−1),
or rem = 2^(shift−1) and q is odd; shift 0: q = p); y = clamp(q + zero_point, qmin, qmax) in int64.
The importer derives multiplier and shift from a real scale ratio R (e.g. a_scale·b_scale / y_scale) computed
exactly from the float32 values: shift is chosen so that multiplier = round_half_even(R · 2^shift) lies in
[2³⁰, 2³¹) when possible (shift ≤ 62), so R ≈ multiplier / 2^shift with 31 significant bits.`,
  inputs: [2, 2],
  outputs: 1,
  attrs: { multipliers: 'ints', shifts: 'ints', axis: 'int' },
  infer([acc, z], attrs) {
    requireDType(acc!, ['int32'], 'Requantize acc');
    requireDType(z!, Q8, 'Requantize zero_point');
    if (z!.shape.length !== 0) throw new IrError(`zero_point must be a scalar, got ${fmt(z!.shape)}`);
    const ms = attrs.multipliers as number[], ss = attrs.shifts as number[];
    if (ms.length !== ss.length || ms.length === 0) throw new IrError('multipliers and shifts must be non-empty and of equal length');
    for (const m of ms) if (m < 0 || m >= 2 ** 31) throw new IrError(`multiplier ${m} out of [0, 2^31)`);
    for (const s of ss) if (s < 0 || s > 62) throw new IrError(`shift ${s} out of [0, 62]`);
    if (ms.length > 1) {
      const axis = axisOf(acc!, attrs);
      if (acc!.shape[axis] !== ms.length) throw new IrError(`${ms.length} multipliers for axis ${axis} of length ${acc!.shape[axis]}`);
    }
    return [{ dtype: z!.dtype, shape: acc!.shape }];
  },
  fold([acc, z], attrs) {
    const ms = attrs.multipliers as number[], ss = attrs.shifts as number[];
    const A = acc!.data as Int32Array;
    const zp = Number(z!.data[0]);
    const inner = ms.length > 1 ? numel(acc!.shape.slice((attrs.axis as number) + 1)) : 1;
    const out = allocTyped(z!.dtype, A.length) as Int8Array;
    for (let i = 0; i < A.length; i++) {
      const k = ms.length > 1 ? Math.floor(i / inner) % ms.length : 0;
      out[i] = requantizeScalar(A[i]!, ms[k]!, ss[k]!, zp, z!.dtype);
    }
    return [hostTensor(z!.dtype, acc!.shape, out)];
  },
});

// ---------------------------------------------------------------- multiplier derivation (importer side)

/** A finite float32/float64 as an exact rational m · 2^e with integer m. */
function exactBinary(x: number): { m: bigint; e: number } {
  if (!Number.isFinite(x)) throw new IrError(`scale ${x} is not finite`);
  if (x === 0) return { m: 0n, e: 0 };
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0), lo = dv.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const ex = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (ex === 0) e = -1074;
  else { mant |= 1n << 52n; e = ex - 1075; }
  return { m: sign * mant, e };
}

/**
 * Fixed-point form of R = Π num / Π den (float32 values, exact rational arithmetic):
 * multiplier = round_half_even(R · 2^shift) in [2^30, 2^31) with shift in [0, 62] where possible.
 * Throws when R is not positive or ≥ 2^31.
 */
export function fixedPointMultiplier(num: readonly number[], den: readonly number[]): { multiplier: number; shift: number } {
  let nm = 1n, ne = 0, dm = 1n, de = 0;
  for (const v of num) { const b = exactBinary(v); nm *= b.m; ne += b.e; }
  for (const v of den) { const b = exactBinary(v); dm *= b.m; de += b.e; }
  if (dm === 0n) throw new IrError('scale ratio divides by a zero scale');
  if (nm < 0n) { nm = -nm; dm = -dm; }
  if (nm === 0n) return { multiplier: 0, shift: 0 };
  if (dm < 0n) throw new IrError('scale ratio is negative; scales must be positive');
  // R = nm / dm · 2^(ne − de). value(shift) = R · 2^shift = nm · 2^(ne − de + shift) / dm.
  const rhe = (shift: number): bigint => {
    const k = ne - de + shift;
    const n = k >= 0 ? nm << BigInt(k) : nm;
    const d = k >= 0 ? dm : dm << BigInt(-k);
    const q = n / d, r = n - q * d;
    return 2n * r > d || (2n * r === d && (q & 1n) === 1n) ? q + 1n : q;
  };
  const LO = 1n << 30n, HI = 1n << 31n;
  // estimate log2(R) and search around it
  const est = Math.floor(Math.log2(Number(nm)) - Math.log2(Number(dm)) + ne - de);
  let shift = 30 - est;
  for (let iter = 0; iter < 8; iter++) {
    const v = rhe(shift);
    if (v >= HI) shift--;
    else if (v < LO) shift++;
    else break;
  }
  if (shift < 0) throw new IrError('scale ratio ≥ 2^31 cannot be requantized');
  if (shift > 62) shift = 62;
  let v = rhe(shift);
  if (v >= HI) { shift--; v = rhe(shift); }
  return { multiplier: Number(v), shift };
}

export type { HostTensor };
