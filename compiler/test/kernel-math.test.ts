/**
 * The deterministic float32 math library (compiler/kernel/math.ts) through the real kernels
 * (compiler/kernels/transcendental.ts): native (SIMD) form == scalar form bit for bit, special values,
 * and the documented max-ULP bounds of docs/math.md measured against float64 references over dense
 * sweeps and random samples (subnormals and huge values included). The float64 Math library is only
 * the test's reference; the kernels never call it.
 */
import { test } from 'node:test';
import fs from 'node:fs';
import assert from 'node:assert/strict';
import type { DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { castScalar } from '../../converter/ir/ops/elementwise.ts';
import { runKernelOnce } from '../kernel/harness.ts';
import type { Expr } from '../kernel/ast.ts';
import { MathCtx, atan2, expm1, log1p } from '../kernel/math.ts';
import { runMathN } from './helpers/math-kernel.ts';

const fr = Math.fround;
const arr = (d: HostTensor['data'] | readonly (number | bigint)[]): (number | bigint)[] => Array.from(d as ArrayLike<number | bigint>);
const bitsHex = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

// ------------------------------------------------------------ float64 references

const SQRT_PI = Math.sqrt(Math.PI);
function erf64(x: number): number {
  const a = Math.abs(x);
  if (a >= 3) return Math.sign(x) * (1 - erfc64(a));
  // erf x = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)): positive terms, no cancellation
  let term = a, sum = a;
  for (let n = 1; n < 200 && term > sum * 1e-18; n++) { term *= (2 * a * a) / (2 * n + 1); sum += term; }
  return Math.sign(x) * (2 / SQRT_PI) * Math.exp(-a * a) * sum || x;
}
function erfc64(a: number): number {
  if (a < 3) return 1 - erf64(a);
  let K = a;
  for (let n = 300; n >= 1; n--) K = a + n / 2 / K;
  return Math.exp(-a * a) / (SQRT_PI * K);
}
const sigmoid64 = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus64 = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const geluErf64 = (x: number) => (x >= 0 ? 0.5 * x * (1 + erf64(x / Math.SQRT2)) : 0.5 * x * erfc64(-x / Math.SQRT2));

// ------------------------------------------------------------ ULP error

const TWO_M149 = 2 ** -149;
function ulpOf(y: number): number {
  const a = Math.abs(y);
  if (a < 2 ** -126) return TWO_M149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}
/** Error of float32 `got` against the exact `ref`, in units of the float32 spacing at ref. */
function ulpErr(got: number, ref: number): number {
  if (Number.isNaN(ref)) return Number.isNaN(got) ? 0 : Infinity;
  const r32 = fr(ref);
  if (!Number.isFinite(r32)) return got === r32 ? 0 : Math.abs(got) === 3.4028234663852886e38 && Math.abs(ref) < 3.4028235677973366e38 * 1.0000001 ? 1 : Infinity;
  if (got === ref) return 0;
  if (!Number.isFinite(got)) return Infinity;
  return Math.abs(got - ref) / ulpOf(ref);
}

// ------------------------------------------------------------ samples

let seed = 12345;
function rand(): number { // deterministic xorshift
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
const u32 = new Uint32Array(1), f32v = new Float32Array(u32.buffer);
function randomBits(maxAbs = Infinity): number {
  for (;;) {
    u32[0] = Math.floor(rand() * 4294967296);
    const v = f32v[0]!;
    if (Number.isFinite(v) && Math.abs(v) <= maxAbs) return v;
  }
}
function sweep(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => fr(lo + ((hi - lo) * i) / (n - 1)));
}
function uniform(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, () => fr(lo + (hi - lo) * rand()));
}

function runBoth(op: string, ins: HostTensor[], attrs: Record<string, number | string> = {}): HostTensor {
  const s = runKernelOnce(op, ins, attrs, false).outputs[0]!;
  const n = runKernelOnce(op, ins, attrs, true).outputs[0]!;
  assert.equal(bitsHex(n), bitsHex(s), `${op}: native != scalar`);
  return s;
}

interface Range { name: string; xs: number[]; bound: number }
interface Case { op: string; ref: (x: number) => number; ranges: Range[]; attrs?: Record<string, number>; special: [number, number][] }

const N = 20000;
const R = (name: string, xs: number[], bound: number): Range => ({ name, xs, bound });
const wide = (maxAbs: number) => Array.from({ length: N }, () => randomBits(maxAbs));
const NaN_ = NaN, inf = Infinity;

const CASES: Case[] = [
  { op: 'Exp', ref: Math.exp, ranges: [R('[-104, 89] dense', sweep(-104, 89, N), 1), R('random bits |x| ≤ 100', wide(100), 1)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, 0], [0, 1], [-0, 1], [89, inf], [-110, 0]] },
  { op: 'Log', ref: Math.log, ranges: [R('[0.5, 2] dense', sweep(0.5, 2, N), 1), R('(0, 1e4]', uniform(1e-6, 1e4, N), 1), R('random bits x > 0 (subnormal..max)', wide(inf).map(Math.abs), 1)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, NaN_], [0, -inf], [-0, -inf], [-1, NaN_], [1, 0]] },
  { op: 'Tanh', ref: Math.tanh, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 2), R('random bits', wide(inf), 2)],
    special: [[NaN_, NaN_], [inf, 1], [-inf, -1], [0, 0], [-0, -0]] },
  { op: 'Sigmoid', ref: sigmoid64, ranges: [R('[-20, 20] dense', sweep(-20, 20, N), 2), R('random bits', wide(inf), 2)],
    special: [[NaN_, NaN_], [inf, 1], [-inf, 0], [0, 0.5]] },
  { op: 'Erf', ref: erf64, ranges: [R('[-4, 4] dense', sweep(-4, 4, N), 2), R('random bits', wide(inf), 2)],
    special: [[NaN_, NaN_], [inf, 1], [-inf, -1], [0, 0], [-0, -0]] },
  { op: 'Sin', ref: Math.sin, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 2), R('|x| ≤ 1000', uniform(-1000, 1000, N), 2), R('random bits |x| ≤ 1000', wide(1000), 2),
    R('|x| ≤ 10⁶', uniform(-1e6, 1e6, N), 4)],
    special: [[NaN_, NaN_], [inf, NaN_], [-inf, NaN_], [0, 0], [-0, -0]] },
  { op: 'Cos', ref: Math.cos, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 2), R('|x| ≤ 1000', uniform(-1000, 1000, N), 2), R('random bits |x| ≤ 1000', wide(1000), 2),
    R('|x| ≤ 10⁶', uniform(-1e6, 1e6, N), 4)],
    special: [[NaN_, NaN_], [inf, NaN_], [-inf, NaN_], [0, 1], [-0, 1]] },
  { op: 'Tan', ref: Math.tan, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 3), R('random bits |x| ≤ 1000', wide(1000), 3), R('|x| ≤ 10⁵', uniform(-1e5, 1e5, N), 4)],
    special: [[NaN_, NaN_], [inf, NaN_], [0, 0], [-0, -0]] },
  { op: 'Asin', ref: Math.asin, ranges: [R('[-1, 1] dense', sweep(-1, 1, N), 1), R('random bits |x| ≤ 1', wide(1), 1)],
    special: [[NaN_, NaN_], [2, NaN_], [-1.5, NaN_], [0, 0], [-0, -0], [1, fr(Math.PI / 2)]] },
  { op: 'Acos', ref: Math.acos, ranges: [R('[-1, 1] dense', sweep(-1, 1, N), 2), R('random bits |x| ≤ 1', wide(1), 2)],
    special: [[NaN_, NaN_], [2, NaN_], [1, 0], [-1, fr(Math.PI)]] },
  { op: 'Atan', ref: Math.atan, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 1), R('random bits', wide(inf), 1)],
    special: [[NaN_, NaN_], [inf, fr(Math.PI / 2)], [-inf, -fr(Math.PI / 2)], [0, 0], [-0, -0]] },
  { op: 'Sinh', ref: Math.sinh, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 2), R('random bits |x| ≤ 90', wide(90), 2)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, -inf], [0, 0], [-0, -0], [100, inf]] },
  { op: 'Cosh', ref: Math.cosh, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 2), R('random bits |x| ≤ 90', wide(90), 2)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, inf], [0, 1]] },
  { op: 'Asinh', ref: Math.asinh, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 2), R('random bits', wide(inf), 2)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, -inf], [0, 0], [-0, -0]] },
  { op: 'Acosh', ref: Math.acosh, ranges: [R('[1, 10] dense', sweep(1, 10, N), 2), R('random bits x ≥ 1', wide(inf).map((v) => Math.abs(v) + 1).map(fr), 2)],
    special: [[NaN_, NaN_], [inf, inf], [1, 0], [0.5, NaN_], [-2, NaN_]] },
  { op: 'Atanh', ref: Math.atanh, ranges: [R('[-1, 1] dense', sweep(-0.99999, 0.99999, N), 2), R('random bits |x| < 1', wide(0.9999999), 2)],
    special: [[NaN_, NaN_], [1, inf], [-1, -inf], [2, NaN_], [0, 0], [-0, -0]] },
  { op: 'Softplus', ref: softplus64, ranges: [R('[-20, 20] dense', sweep(-20, 20, N), 2), R('random bits', wide(inf), 2)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, 0], [0, fr(Math.LN2)]] },
  { op: 'Softsign', ref: (x) => x / (1 + Math.abs(x)), ranges: [R('random bits', wide(inf), 2)],
    special: [[NaN_, NaN_], [inf, 1], [-inf, -1], [0, 0]] },
  { op: 'Mish', ref: (x) => x * Math.tanh(softplus64(x)), ranges: [R('[-20, 20] dense', sweep(-20, 20, N), 4), R('random bits x ≥ −87', wide(inf).map((v) => Math.max(v, -87)), 4),
    R('x ∈ [−104, −87] (subnormal results)', sweep(-104, -87, 2000), 2)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, -0], [0, 0]] },
  { op: 'Gelu', ref: geluErf64, ranges: [R('[-10, 10] dense', sweep(-10, 10, N), 4), R('random bits |x| ≤ 13', wide(13), 4)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, -0], [0, 0]] },
  { op: 'Gelu', attrs: { approximate: 1 }, ref: (x) => { const u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x); return x * sigmoid64(2 * u); },
    ranges: [R('[-3, 10] dense', sweep(-3, 10, N), 4), R('[-12, -3] dense (ill-conditioned tail)', sweep(-12, -3, N), 4), R('random bits', wide(inf), 4)],
    special: [[NaN_, NaN_], [inf, inf], [-inf, -0], [0, 0], [-0, -0]] },
  { op: 'Elu', attrs: { alpha: 1 }, ref: (x) => (x < 0 ? Math.expm1(x) : x), ranges: [R('[-20, 5] dense', sweep(-20, 5, N), 2), R('random bits', wide(inf), 2)],
    special: [[NaN_, NaN_], [-inf, -1], [-0, -0]] },
];

/** Measured maxima, printed for docs/math.md. */
const measured: string[] = [];

for (const c of CASES) {
  const label = `${c.op}${c.attrs ? JSON.stringify(c.attrs) : ''}`;
  test(`${label}: native == scalar, special values, max ULP within the documented bounds`, () => {
    const xs = [...c.ranges.flatMap((r) => r.xs), ...c.special.map(([x]) => x)];
    const out = runBoth(c.op, [hostTensor('float32', [xs.length], xs)], c.attrs).data as Float32Array;
    let at = 0;
    for (const r of c.ranges) {
      let worst = 0, worstX = 0;
      for (const x of r.xs) {
        const e = ulpErr(out[at++]!, c.ref(x));
        if (e > worst) { worst = e; worstX = x; }
      }
      measured.push(`${label} ${r.name}: ${worst.toFixed(3)} ULP (at x = ${worstX})`);
      assert.ok(worst <= r.bound, `${label} over ${r.name}: ${worst} ULP at x = ${worstX} > ${r.bound}`);
    }
    for (const [x, want] of c.special) {
      const got = out[at++]!;
      assert.ok(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)), `${label}(${x}) = ${got}, expected ${want}`);
    }
  });
}

test('Pow: special cases (C99 / numpy), exact small exponents, native == scalar, ULP bounds', () => {
  const specials: [number, number, number][] = [
    [NaN, 0, 1], [1, NaN, 1], [-1, inf, 1], [-1, -inf, 1], [NaN, 1, NaN], [2, NaN, NaN], [-8, 1 / 3, NaN], [-2, 3, -8], [-2, 2, 4],
    [-0, -1, -inf], [0, -1, inf], [-0, -2, inf], [-0, 3, -0], [0, 3, 0], [0.5, inf, 0], [0.5, -inf, inf], [2, inf, inf], [2, -inf, 0],
    [inf, -1, 0], [inf, 2, inf], [-inf, 3, -inf], [-inf, 2, inf], [-inf, -3, -0], [-inf, 0.5, inf], [-0, 0.5, 0], [4, 0.5, 2],
    [3, 2, 9], [fr(1.1), 2, fr(fr(1.1) * fr(1.1))], [7, -1, fr(1 / 7)], [2, 10, 1024], [2, -149, 2 ** -149], [2, 128, inf],
  ];
  const xs: number[] = specials.map((s) => s[0]), ys: number[] = specials.map((s) => s[1]);
  const ranges: [string, number[], number[], number][] = [];
  const add = (name: string, gx: () => number, gy: () => number, bound: number) => {
    const a = Array.from({ length: N }, gx), b = Array.from({ length: N }, gy);
    ranges.push([name, a, b, bound]);
    xs.push(...a); ys.push(...b);
  };
  add('x ∈ (0, 10], y ∈ [−10, 10]', () => fr(rand() * 10 + 1e-3), () => fr(rand() * 20 - 10), 2);
  add('x ∈ (0, 2], y ∈ [−2, 2]', () => fr(rand() * 2 + 1e-6), () => fr(rand() * 4 - 2), 2);
  add('x < 0, integral y ∈ [−20, 20]', () => fr(-rand() * 4), () => Math.round(rand() * 40 - 20), 2);
  add('x ∈ [0.9, 1.1], y ∈ [−1000, 1000]', () => fr(0.9 + rand() * 0.2), () => fr(rand() * 2000 - 1000), 2);
  add('x ∈ [2⁻⁵, 2⁵], |y·log2 x| up to ~150 (subnormal and near-overflow results)', () => fr(2 ** (rand() * 10 - 5)), () => fr((rand() * 300 - 150) / 5), 2);
  add('random bits, finite result', () => randomBits(), () => fr(rand() * 8 - 4), 2);
  const out = runBoth('Pow', [hostTensor('float32', [xs.length], xs), hostTensor('float32', [ys.length], ys)]).data as Float32Array;
  specials.forEach(([x, y, want], i) => {
    const got = out[i]!;
    assert.ok(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)), `pow(${x}, ${y}) = ${got}, expected ${want}`);
  });
  let at = specials.length;
  for (const [name, a, b, bound] of ranges) {
    let worst = 0, wx = 0, wy = 0;
    for (let i = 0; i < a.length; i++, at++) {
      const ref = Math.pow(a[i]!, b[i]!);
      if (!Number.isFinite(fr(ref)) || fr(ref) === 0) continue;
      const e = ulpErr(out[at]!, ref);
      if (e > worst) { worst = e; wx = a[i]!; wy = b[i]!; }
    }
    measured.push(`Pow ${name}: ${worst.toFixed(3)} ULP (at ${wx} ^ ${wy})`);
    assert.ok(worst <= bound, `Pow over ${name}: ${worst} ULP at ${wx}^${wy}`);
  }
});

test('broadcasting Pow, HardSigmoid, HardSwish, Selu, Celu, ThresholdedRelu, Shrink, IsInf: values and native == scalar', () => {
  const x = hostTensor('float32', [2, 5], [-3, -1, -0, 0.5, 4, NaN, Infinity, -Infinity, 1e-40, 2.5]);
  const e = hostTensor('float32', [5], [2, 0.5, 3, -1, 0]);
  const p = runBoth('Pow', [x, e]).data;
  assert.deepEqual(arr(p), [9, NaN, -0, 2, 1, NaN, Infinity, -Infinity, fr(1 / fr(1e-40)), 1]);
  const hs = runBoth('HardSigmoid', [x], { alpha: 0.2, beta: 0.5 }).data;
  assert.deepEqual(arr(hs).slice(0, 5), [0, fr(0.3), 0.5, fr(0.6), 1]);
  const hw = runBoth('HardSwish', [x]).data;
  assert.deepEqual(arr(hw).slice(0, 4), [-0, fr(-1 * fr(fr(fr(1 / 6) * -1) + 0.5)), -0, fr(0.5 * fr(fr(fr(1 / 6) * 0.5) + 0.5))]);
  runBoth('Selu', [x], { alpha: 1.6732632, gamma: 1.0507009 });
  runBoth('Celu', [x], { alpha: 2 });
  const tr = runBoth('ThresholdedRelu', [x], { alpha: 1 }).data;
  assert.deepEqual(arr(tr), [0, 0, 0, 0, 4, NaN, Infinity, 0, 0, 2.5]);
  const sh = runBoth('Shrink', [x], { lambd: 1, bias: 0.5 }).data;
  assert.deepEqual(arr(sh), [-2.5, 0, 0, 0, 3.5, 0, Infinity, -Infinity, 0, 2]);
  const si = runBoth('Shrink', [hostTensor('int8', [4], [-5, -1, 1, 7])], { lambd: 1.5, bias: 1 }).data;
  assert.deepEqual(arr(si), [-4, 0, 0, 6]);
  const inf1 = runBoth('IsInf', [x], { detect_positive: 1, detect_negative: 0 }).data;
  assert.deepEqual(arr(inf1), [0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  const inf2 = runBoth('IsInf', [x], { detect_positive: 1, detect_negative: 1 }).data;
  assert.deepEqual(arr(inf2), [0, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
});

test('Mod: exact float fmod, integer fmod / floor modulo', () => {
  const as = [5.5, -5.5, 5.5, -5.5, 1e30, 3.4e38, 1e-40, 7, 0, -0, Infinity, 3, NaN, 3, 1.5e-45, 100];
  const bs = [2, 2, -2, -2, 3, 1.1e-38, 3e-41, 0, 5, 5, 2, Infinity, 1, NaN, 1e-45, 0.1];
  const out = runBoth('Mod', [hostTensor('float32', [as.length], as), hostTensor('float32', [bs.length], bs)], { fmod: 1 }).data as Float32Array;
  // exact fmod reference on float32 values through BigInt scaling
  const exact = (a: number, b: number): number => {
    if (Number.isNaN(a) || Number.isNaN(b) || b === 0 || !Number.isFinite(a)) return NaN;
    if (!Number.isFinite(b)) return a;
    const S = 2n ** 160n;
    const toBig = (v: number) => { let m = BigInt(Math.round(Math.abs(v) * 2 ** 149)); return m; };
    const r = toBig(a) % toBig(b);
    void S;
    const mag = Number(r) * 2 ** -149;
    return a < 0 || Object.is(a, -0) ? -mag : mag;
  };
  as.forEach((a, i) => {
    const want = fr(exact(fr(a), fr(bs[i]!)));
    const got = out[i]!;
    assert.ok(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)), `fmod(${a}, ${bs[i]}) = ${got}, expected ${want}`);
  });
  for (const d of ['int8', 'uint8', 'int16', 'int32'] as DType[]) {
    const a = d === 'uint8' ? [7, 200, 0, 255] : [7, -7, 7, -7, 0, -128];
    const b = d === 'uint8' ? [3, 7, 5, 0] : [3, 3, -3, -3, 0, -1];
    for (const fmod of [0, 1]) {
      const got = arr(runBoth('Mod', [hostTensor(d, [a.length], a), hostTensor(d, [b.length], b)], { fmod }).data).map(Number);
      const want = a.map((x, i) => {
        const y = b[i]!;
        if (y === 0) return 0;
        let r = x % y;
        if (!fmod && r !== 0 && (r < 0) !== (y < 0)) r += y;
        return r === 0 ? 0 : r;
      });
      assert.deepEqual(got, want, `Mod ${d} fmod=${fmod}`);
    }
  }
  const got64 = runBoth('Mod', [hostTensor('int64', [3], [-7n, 9n, -(2n ** 63n)]), hostTensor('int64', [3], [3n, -4n, -1n])], { fmod: 0 }).data;
  assert.deepEqual(arr(got64), [2n, -3n, 0n]);
});

test('BitShift and Bitwise ops', () => {
  const a = hostTensor('uint8', [5], [1, 255, 16, 3, 128]);
  const s = hostTensor('uint8', [5], [1, 4, 8, 0, 7]);
  assert.deepEqual(arr(runBoth('BitShift', [a, s], { direction: 0 }).data), [2, 240, 0, 3, 0]);
  assert.deepEqual(arr(runBoth('BitShift', [a, s], { direction: 1 }).data), [0, 15, 0, 3, 1]);
  for (const d of ['int8', 'uint8', 'int16', 'int32'] as DType[]) {
    const x = hostTensor(d, [3], d === 'uint8' ? [0, 5, 255] : [0, 5, -7]);
    const y = hostTensor(d, [3], d === 'uint8' ? [3, 6, 15] : [3, 6, 100]);
    const xv = arr(x.data).map(Number), yv = arr(y.data).map(Number);
    const wrap = (v: number) => Number(castScalar(v, 'int32', d));
    assert.deepEqual(arr(runBoth('BitwiseAnd', [x, y]).data), xv.map((v, i) => wrap(v & yv[i]!)));
    assert.deepEqual(arr(runBoth('BitwiseOr', [x, y]).data), xv.map((v, i) => wrap(v | yv[i]!)));
    assert.deepEqual(arr(runBoth('BitwiseXor', [x, y]).data), xv.map((v, i) => wrap(v ^ yv[i]!)));
    assert.deepEqual(arr(runBoth('BitwiseNot', [x]).data), xv.map((v) => wrap(~v)));
  }
  assert.deepEqual(arr(runBoth('BitwiseNot', [hostTensor('int64', [2], [0n, 5n])]).data), [-1n, -6n]);
});

test('Cast between every dtype pair follows the IR rules (== host castScalar)', () => {
  const DT: DType[] = ['float32', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool'];
  const vals: Partial<Record<DType, (number | bigint)[]>> = {
    float32: [0, -0, 1.5, -1.5, 2.5, 127.9, 128, -129, 255.5, 256, 40000, -40000, 3e9, -3e9, 1e20, -1e20, NaN, Infinity, -Infinity, 1e-40],
    int8: [-128, -1, 0, 1, 127], uint8: [0, 1, 128, 255], int16: [-32768, -129, 128, 255, 256, 32767],
    int32: [-2147483648, -65537, -129, 0, 255, 256, 16777217, 2147483647],
    int64: [-(2n ** 63n), -(2n ** 31n) - 1n, -129n, 0n, 256n, 2n ** 31n, 16777217n, 2n ** 63n - 1n],
    bool: [0, 1],
  };
  for (const from of DT) for (const to of DT) {
    const x = hostTensor(from, [vals[from]!.length], vals[from]);
    const got = runBoth('Cast', [x], { to }).data;
    const want = arr(x.data).map((v) => castScalar(v, from, to));
    assert.deepEqual(arr(got).map(String), want.map(String), `Cast ${from} → ${to}`);
  }
});

test('Cast int64 → float32 rounds once, to nearest even (no double rounding through float64)', () => {
  // 2^60 + 2^36 + 1 lies just above the float32 midpoint 2^60 + 2^36: correct rounding goes up.
  const v = 2n ** 60n + 2n ** 36n + 1n;
  const got = runBoth('Cast', [hostTensor('int64', [2], [v, -v])], { to: 'float32' }).data;
  assert.deepEqual(arr(got), [2 ** 60 + 2 ** 37, -(2 ** 60 + 2 ** 37)]);
});

const runMath = (f: (m: MathCtx, x: Expr) => Expr, xs: readonly number[], simd: boolean) => runMathN((m, [x]) => f(m, x!), [xs], simd);

for (const [name, f, ref, ranges, special] of [
  ['expm1', expm1, Math.expm1, [R('[-30, 89] dense', sweep(-30, 89, N), 2), R('[-1, 1] dense', sweep(-1, 1, N), 2), R('random bits |x| ≤ 100', wide(100), 2)],
    [[NaN, NaN], [Infinity, Infinity], [-Infinity, -1], [0, 0], [-0, -0], [89, Infinity], [1e-30, 1e-30]]],
  ['log1p', log1p, Math.log1p, [R('(−1, 1] dense', sweep(-0.9999999, 1, N), 2), R('random bits x > −1', wide(inf).map((v) => (v <= -1 ? -v : v)), 2)],
    [[NaN, NaN], [Infinity, Infinity], [-1, -Infinity], [-2, NaN], [0, 0], [-0, -0], [-1e-30, -1e-30]]],
] as const) {
  test(`math.ts ${name} directly: native == scalar, special values, max ULP within the documented bounds`, () => {
    const xs = [...ranges.flatMap((r) => r.xs), ...special.map(([x]) => x)];
    const a = runMath(f, xs, false), b = runMath(f, xs, true);
    assert.equal(Buffer.from(b.buffer).toString('hex'), Buffer.from(a.buffer).toString('hex'), `${name}: native != scalar`);
    let at = 0;
    for (const r of ranges) {
      let worst = 0, wx = 0;
      for (const x of r.xs) { const e = ulpErr(a[at++]!, ref(x)); if (e > worst) { worst = e; wx = x; } }
      measured.push(`${name} ${r.name}: ${worst.toFixed(3)} ULP (at x = ${wx})`);
      assert.ok(worst <= r.bound, `${name} over ${r.name}: ${worst} ULP at x = ${wx}`);
    }
    for (const [x, want] of special) {
      const got = a[at++]!;
      assert.ok(Object.is(got, fr(want)) || (Number.isNaN(got) && Number.isNaN(want)), `${name}(${x}) = ${got}, expected ${want}`);
    }
  });
}

test('math.ts atan2 directly: quadrants, IEEE special cases, native == scalar, max ULP', () => {
  const P = Math.PI;
  const special: [number, number, number][] = [
    [0, 0, 0], [-0, 0, -0], [0, -0, P], [-0, -0, -P], [0, -1, P], [-0, -1, -P], [0, 1, 0], [-0, 1, -0], [1, 0, P / 2], [-1, -0, -P / 2],
    [1, Infinity, 0], [-1, Infinity, -0], [1, -Infinity, P], [-1, -Infinity, -P], [Infinity, 1, P / 2], [-Infinity, -1, -P / 2],
    [Infinity, Infinity, P / 4], [Infinity, -Infinity, 3 * P / 4], [-Infinity, -Infinity, -3 * P / 4], [NaN, 1, NaN], [1, NaN, NaN],
  ];
  const ys = special.map((t) => t[0]), xs = special.map((t) => t[1]);
  const n0 = ys.length;
  for (let i = 0; i < N; i++) { ys.push(fr(rand() * 20 - 10)); xs.push(fr(rand() * 20 - 10)); }
  for (let i = 0; i < N; i++) { ys.push(randomBits()); xs.push(randomBits()); }
  const a = runMathN((m, [y, x]) => atan2(m, y!, x!), [ys, xs], false), b = runMathN((m, [y, x]) => atan2(m, y!, x!), [ys, xs], true);
  assert.equal(Buffer.from(b.buffer).toString('hex'), Buffer.from(a.buffer).toString('hex'), 'atan2: native != scalar');
  special.forEach(([y, x, want], i) => assert.ok(Object.is(a[i]!, fr(want)) || (Number.isNaN(a[i]!) && Number.isNaN(want)), `atan2(${y}, ${x}) = ${a[i]}, expected ${want}`));
  let worst = 0, wy = 0, wx = 0;
  for (let i = n0; i < ys.length; i++) {
    const e = ulpErr(a[i]!, Math.atan2(ys[i]!, xs[i]!));
    if (e > worst) { worst = e; wy = ys[i]!; wx = xs[i]!; }
  }
  measured.push(`atan2 random pairs: ${worst.toFixed(3)} ULP (at ${wy}, ${wx})`);
  assert.ok(worst <= 2, `atan2: ${worst} ULP at (${wy}, ${wx})`);
});

test('every float kernel of transcendental.ts vectorises (the native module carries a SIMD loop)', () => {
  const x = hostTensor('float32', [8], [0.5, 1, 2, 3, -1, -2, 0.25, 4]);
  const unary = ['Exp', 'Log', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Tanh', 'Erf', 'Sigmoid',
    'Softplus', 'Softsign', 'HardSwish', 'Mish', 'Elu', 'Celu', 'Selu', 'HardSigmoid', 'Gelu', 'ThresholdedRelu', 'IsInf'];
  for (const op of unary) {
    const s = runKernelOnce(op, [x], {}, false).wasmBytes, n = runKernelOnce(op, [x], {}, true).wasmBytes;
    assert.ok(n > s * 1.5, `${op}: native ${n} bytes vs scalar ${s}: not vectorised`);
  }
  for (const [op, attrs] of [['Pow', {}], ['Mod', { fmod: 1 }]] as const) {
    const s = runKernelOnce(op, [x, x], attrs, false).wasmBytes, n = runKernelOnce(op, [x, x], attrs, true).wasmBytes;
    assert.ok(n > s * 1.5, `${op}: native ${n} bytes vs scalar ${s}: not vectorised`);
  }
});

test('every coefficient constant of math.ts is committed as an exact float32 value', () => {
  const src = fs.readFileSync(new URL('../kernel/math.ts', import.meta.url), 'utf8');
  const consts = src.split('\n').filter((l) => /^const [A-Z]/.test(l) || /^ {2}-?\d/.test(l));
  let n = 0;
  for (const line of consts) {
    for (const m of line.matchAll(/(?<![\w.])-?(\d+\.\d*(?:e[+-]?\d+)?|\d+e[+-]?\d+)(?![\w.])/gi)) {
      const v = Number(m[0]);
      n++;
      assert.equal(Math.fround(v), v, `${m[0]} in "${line.trim().slice(0, 60)}…" is not a float32`);
    }
  }
  assert.ok(n > 90, `only ${n} literals found`);
});

test('measured maxima (for docs/math.md)', () => {
  console.log(measured.join('\n'));
});
