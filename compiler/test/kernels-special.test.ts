/**
 * Special-op kernels (NegativeLogLikelihoodLoss, Det, MaxUnpool, Col2Im, GridSample, RoiAlign): native
 * (SIMD) form == scalar form == the IR's bit-exact host fold, on random shapes, attributes and values
 * (NaN, ±∞, ±0, subnormals, out-of-range targets/indices/batch indices, coordinates far outside the image).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Attrs, DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { getOp } from '../../converter/ir/op-registry.ts';
import { col2imGrid } from '../../converter/ir/ops/special.ts';
import { runKernelOnce } from '../kernel/harness.ts';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -1.4e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.5, -0.5, 1.5, 2.5, -2.5];
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function bits(t: HostTensor): string {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');
}

/** native == scalar == fold, bit for bit. */
function check(op: string, ins: HostTensor[], attrs: Attrs): void {
  const scalar = runKernelOnce(op, ins, attrs, false).outputs[0]!;
  const native = runKernelOnce(op, ins, attrs, true).outputs[0]!;
  const ctx = () => `${op} ${JSON.stringify(attrs)} shapes ${ins.map((t) => `[${t.shape.join(',')}]`).join(' ')}`;
  assert.equal(bits(native), bits(scalar), `native vs scalar: ${ctx()}`);
  const want = getOp(op).fold!(ins, attrs)[0]!;
  assert.deepEqual([...scalar.shape], [...want.shape], `shape: ${ctx()}`);
  assert.equal(bits(scalar), bits(want), `kernel vs fold: ${ctx()}\n got ${[...scalar.data].slice(0, 16)}\nwant ${[...want.data].slice(0, 16)}`);
}

const floatArb = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...SPECIAL) }, { weight: 1, arbitrary: fc.float() }, { weight: 4, arbitrary: fc.float({ min: -10, max: 10, noNaN: true }) });
/** n float32 values (rounded, so that references computing on them see what the kernel sees). */
const floats = (n: number, arb: fc.Arbitrary<number> = floatArb) => fc.array(arb.map(Math.fround), { minLength: n, maxLength: n });
const dimsArb = (min: number, max: number, lo = 1, hi = 4) => fc.array(fc.integer({ min: lo, max: hi }), { minLength: min, maxLength: max });
const RUNS = 40;

// ---------------------------------------------------------------- NegativeLogLikelihoodLoss

test('NegativeLogLikelihoodLoss: native == scalar == host fold', () => {
  const arb = fc.record({
    N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 5 }), extra: dimsArb(0, 3, 1, 3),
    tdtype: fc.constantFrom<DType>('int32', 'int64'), weighted: fc.boolean(),
    reduction: fc.constantFrom('none', 'sum', 'mean'), ii: fc.constantFrom(-1, 0, 1, 3, -100, 2 ** 40, -(2 ** 35)),
  }).chain((p) => {
    const xs = [p.N, p.C, ...p.extra], ts = [p.N, ...p.extra];
    const tv = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -2, max: p.C + 1 }) }, { weight: 1, arbitrary: fc.constantFrom(p.ii, -2147483648, 2147483647) });
    return fc.record({ p: fc.constant(p), x: floats(numel(xs)), t: fc.array(tv, { minLength: numel(ts), maxLength: numel(ts) }), w: floats(p.C), xs: fc.constant(xs), ts: fc.constant(ts) });
  });
  fc.assert(fc.property(arb, ({ p, x, t, w, xs, ts }) => {
    const target = hostTensor(p.tdtype, ts, p.tdtype === 'int64' ? t.map((v) => BigInt(v)) : t);
    const ins = [hostTensor('float32', xs, x), target, ...(p.weighted ? [hostTensor('float32', [p.C], w)] : [])];
    check('NegativeLogLikelihoodLoss', ins, { reduction: p.reduction, ignore_index: p.ii });
  }), { numRuns: 80 });
  // int64 targets far outside the int32 range, and an all-ignored mean (0 ÷ 0 = NaN)
  const x = hostTensor('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
  check('NegativeLogLikelihoodLoss', [x, hostTensor('int64', [2], [2n ** 62n, -(2n ** 62n) + 1n])], { reduction: 'mean', ignore_index: -1 });
  check('NegativeLogLikelihoodLoss', [x, hostTensor('int64', [2], [4294967297n, 1n])], { reduction: 'sum', ignore_index: -1 });
});

// ---------------------------------------------------------------- Det

test('Det: native == scalar == host fold (pivot ties, zero pivots, NaN, ∞)', () => {
  const small = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -3, max: 3 }).map((v) => v) }, { weight: 3, arbitrary: floatArb });
  const arb = fc.record({ batch: dimsArb(0, 2, 1, 3), M: fc.integer({ min: 0, max: 6 }), ints: fc.boolean() }).chain((p) => {
    const s = [...p.batch, p.M, p.M];
    return fc.record({ s: fc.constant(s), v: floats(numel(s), p.ints ? fc.integer({ min: -2, max: 2 }) : small) });
  });
  fc.assert(fc.property(arb, ({ s, v }) => check('Det', [hostTensor('float32', s, v)], {})), { numRuns: 80 });
  // larger matrices, and enough batch entries for the native loop
  for (const M of [9, 16]) {
    const s = [5, M, M];
    const v = Array.from({ length: numel(s) }, (_, i) => Math.fround(Math.sin(i * 12.9898) * 43758.5453 % 1));
    check('Det', [hostTensor('float32', s, v)], {});
  }
});

// ---------------------------------------------------------------- MaxUnpool

test('MaxUnpool: native == scalar == host fold (any dtype, out-of-range and duplicate indices, crop/pad)', () => {
  const arb = fc.record({
    N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 3 }), sp: dimsArb(1, 3, 1, 3),
    grow: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }), delta: fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 3, maxLength: 3 }),
    dtype: fc.constantFrom<DType>('float32', 'int8', 'uint8', 'int16', 'int32', 'int64'),
  }).chain((p) => {
    const xs = [p.N, p.C, ...p.sp];
    const is = [p.N, p.C, ...p.sp.map((d, a) => d + p.grow[a]!)];
    const os = [p.N, p.C, ...is.slice(2).map((d, a) => Math.max(0, d + p.delta[a]!))];
    const ni = numel(is);
    const idx = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -2, max: ni + 2 }).map(BigInt) }, { weight: 1, arbitrary: fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 2n ** 32n, BigInt(ni)) });
    const vals = p.dtype === 'float32' ? floats(numel(xs)) : fc.array(fc.integer({ min: -128, max: 127 }), { minLength: numel(xs), maxLength: numel(xs) });
    return fc.record({ p: fc.constant(p), xs: fc.constant(xs), is: fc.constant(is), os: fc.constant(os), i: fc.array(idx, { minLength: numel(xs), maxLength: numel(xs) }), v: vals });
  });
  fc.assert(fc.property(arb, ({ p, xs, is, os, i, v }) => {
    const data = p.dtype === 'int64' ? v.map((e) => BigInt(e)) : p.dtype === 'uint8' ? v.map((e) => e & 255) : v;
    check('MaxUnpool', [hostTensor(p.dtype, xs, data), hostTensor('int64', xs, i)], { index_shape: is, output_shape: os });
  }), { numRuns: RUNS * 3 });
});

// ---------------------------------------------------------------- Col2Im

test('Col2Im: native == scalar == host fold', () => {
  const arb = fc.record({
    k: fc.integer({ min: 1, max: 3 }), N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 2 }),
    im: dimsArb(3, 3, 1, 7), bl: dimsArb(3, 3, 1, 3), dl: dimsArb(3, 3, 1, 2), pads: dimsArb(6, 6, 0, 2), st: dimsArb(3, 3, 1, 3),
  }).map((p) => {
    const k = p.k;
    const a = { image_shape: p.im.slice(0, k), block_shape: p.bl.slice(0, k), dilations: p.dl.slice(0, k), pads: [...p.pads.slice(0, k), ...p.pads.slice(3, 3 + k)], strides: p.st.slice(0, k) };
    return { p, a, grid: col2imGrid(a.image_shape, a.block_shape, a.dilations, a.pads, a.strides) };
  }).filter(({ grid }) => grid.every((g) => g >= 1)).chain(({ p, a, grid }) => {
    const xs = [p.N, p.C * numel(a.block_shape), numel(grid)];
    return fc.record({ a: fc.constant(a), xs: fc.constant(xs), v: floats(numel(xs)) });
  });
  fc.assert(fc.property(arb, ({ a, xs, v }) => check('Col2Im', [hostTensor('float32', xs, v)], a)), { numRuns: RUNS * 3 });
});

// ---------------------------------------------------------------- GridSample

test('GridSample: native == scalar == host fold (every mode × padding × align_corners)', () => {
  const coord = fc.oneof(
    { weight: 8, arbitrary: fc.float({ min: Math.fround(-1.6), max: Math.fround(1.6), noNaN: true }) },
    { weight: 2, arbitrary: fc.float({ min: -40, max: 40, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(...SPECIAL, 1, -1, 0.25, -0.75, 1e7, -1e7, 3e9, -3e9, 1e30) },
    { weight: 1, arbitrary: fc.float() },
  );
  for (const mode of ['bilinear', 'nearest', 'bicubic']) for (const padding_mode of ['zeros', 'border', 'reflection']) for (const align_corners of [0, 1]) {
    const arb = fc.record({ N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 1, max: 5 }), W: fc.integer({ min: 1, max: 5 }), Ho: fc.integer({ min: 1, max: 4 }), Wo: fc.integer({ min: 1, max: 9 }) })
      .chain((p) => fc.record({ p: fc.constant(p), x: floats(p.N * p.C * p.H * p.W), g: floats(p.N * p.Ho * p.Wo * 2, coord) }));
    fc.assert(fc.property(arb, ({ p, x, g }) => {
      check('GridSample', [hostTensor('float32', [p.N, p.C, p.H, p.W], x), hostTensor('float32', [p.N, p.Ho, p.Wo, 2], g)], { mode, padding_mode, align_corners });
    }), { numRuns: 10 });
  }
});

// ---------------------------------------------------------------- RoiAlign

test('RoiAlign: native == scalar == host fold (avg/max, sampling ratios, half_pixel, boxes outside the image)', () => {
  const finite = fc.oneof({ weight: 6, arbitrary: fc.float({ min: -4, max: 12, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(0, -0, NaN, 1e-40, 30, -30) });
  const wild = fc.oneof({ weight: 4, arbitrary: finite }, { weight: 1, arbitrary: fc.constantFrom(Infinity, -Infinity, 1e30, -1e30) });
  const arb = fc.record({
    N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 6 }), W: fc.integer({ min: 1, max: 6 }),
    R: fc.integer({ min: 1, max: 3 }), oh: fc.integer({ min: 1, max: 3 }), ow: fc.integer({ min: 1, max: 4 }), sr: fc.integer({ min: 0, max: 3 }),
    sc: fc.constantFrom(1, 0.5, 0.25, 2, 0.0625), hp: fc.constantFrom(0, 1), mode: fc.constantFrom('avg', 'max'), bdtype: fc.constantFrom<DType>('int32', 'int64'),
  }).chain((p) => fc.record({
    p: fc.constant(p), x: floats(p.N * p.C * p.H * p.W),
    // with sampling_ratio 0 the number of samples follows the box size: keep boxes finite (the fold loops over every sample)
    rois: floats(p.R * 4, p.sr === 0 ? finite : wild),
    b: fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: p.N - 1 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, p.N, -2147483648) }), { minLength: p.R, maxLength: p.R }),
  }));
  fc.assert(fc.property(arb, ({ p, x, rois, b }) => {
    const bi = hostTensor(p.bdtype, [p.R], p.bdtype === 'int64' ? b.map(BigInt) : b);
    check('RoiAlign', [hostTensor('float32', [p.N, p.C, p.H, p.W], x), hostTensor('float32', [p.R, 4], rois), bi],
      { mode: p.mode, output_height: p.oh, output_width: p.ow, sampling_ratio: p.sr, spatial_scale: p.sc, half_pixel: p.hp });
  }), { numRuns: 120 });
  // big boxes with sampling_ratio 0 (many samples per bin, most of them outside the image)
  const x = hostTensor('float32', [1, 2, 5, 6], Array.from({ length: 60 }, (_, i) => (i % 7) - 3.25));
  for (const mode of ['avg', 'max']) for (const hp of [0, 1]) {
    const rois = hostTensor('float32', [3, 4], [-40, -30, 50, 45, 2.5, -100, 3.5, 200, -7, 1, 9, 3.75]);
    check('RoiAlign', [x, rois, hostTensor('int32', [3], [0, 0, 0])], { mode, output_height: 2, output_width: 3, sampling_ratio: 0, spatial_scale: 1, half_pixel: hp });
    // about 20 in-image samples per axis and bin: several chunks of the sample window
    const big = hostTensor('float32', [1, 1, 19, 21], Array.from({ length: 19 * 21 }, (_, i) => Math.fround(Math.sin(i) * 3)));
    check('RoiAlign', [big, hostTensor('float32', [2, 4], [-60, -50, 80, 70, 0.5, 1.25, 17.5, 18]), hostTensor('int64', [2], [0n, 0n])], { mode, output_height: 1, output_width: 2, sampling_ratio: 0, spatial_scale: 1, half_pixel: hp });
  }
});

// ---------------------------------------------------------------- DFT, STFT, Window, MelWeightMatrix
// No host fold: the reference follows the spec step by step in float32, taking sin, cos, log and pow
// values from the kernel math library itself (through the Sin/Cos/Log/Pow kernels, the same functions),
// so the comparison is exact. Zero-padded terms are included here as the spec writes them.

const f = Math.fround;
const TAU = f(2 * Math.PI);
function mathOf(op: string, ...args: number[][]): Float32Array {
  const ins = args.map((a) => hostTensor('float32', [a.length], a));
  return runKernelOnce(op, ins, {}, false).outputs[0]!.data as Float32Array;
}
function twiddleRef(L: number, inverse: boolean): { c: Float32Array; s: Float32Array } {
  const red = Array.from({ length: L }, (_, q) => {
    let a = 2 * q;
    const negS = a > L; if (negS) a = 2 * L - a;
    const negC = 2 * a > L; if (negC) a = L - a;
    const swap = 4 * a > L;
    return { negS, negC, swap, phi: f(f(f(Math.PI) * (swap ? L - 2 * a : 2 * a)) / (2 * L)) };
  });
  const c0 = mathOf('Cos', red.map((x) => x.phi)), s0 = mathOf('Sin', red.map((x) => x.phi));
  const c = Float32Array.from(red, (x, q) => { const v = x.swap ? s0[q]! : c0[q]!; return x.negC ? -v : v; });
  const s = Float32Array.from(red, (x, q) => { const v = x.swap ? c0[q]! : s0[q]!; return x.negS ? -v : v; });
  return { c, s: inverse ? s : s.map((v) => -v) };
}
/** DFT of one signal given as (re, im) pairs over m = 0 … L−1 (zeros past its end). */
function dft1(sig: (m: number) => [number, number], L: number, Kout: number, tw: { c: Float32Array; s: Float32Array }, inverse: boolean): number[] {
  const out: number[] = [];
  for (let kk = 0; kk < Kout; kk++) {
    let re = 0, im = 0;
    for (let m = 0; m < L; m++) {
      const q = (kk * m) % L;
      const c = tw.c[q]!, s = tw.s[q]!;
      const [xr, xi] = sig(m);
      re = f(re + f(f(xr * c) - f(xi * s)));
      im = f(im + f(f(xr * s) + f(xi * c)));
    }
    out.push(inverse ? f(re / L) : re, inverse ? f(im / L) : im);
  }
  return out;
}
function checkRef(op: string, ins: HostTensor[], attrs: Attrs, want: number[]): void {
  const scalar = runKernelOnce(op, ins, attrs, false).outputs[0]!;
  const native = runKernelOnce(op, ins, attrs, true).outputs[0]!;
  const ctx = `${op} ${JSON.stringify(attrs)} shapes ${ins.map((t) => `[${t.shape.join(',')}]`).join(' ')}`;
  assert.equal(bits(native), bits(scalar), `native vs scalar: ${ctx}`);
  assert.equal(bits(scalar), bits(hostTensor('float32', scalar.shape, want)), `kernel vs reference: ${ctx}\n got ${[...scalar.data].slice(0, 12)}\nwant ${want.slice(0, 12)}`);
}

test('DFT: native == scalar == float32 reference of the spec (real/complex, any axis, padding/truncation, inverse, onesided)', () => {
  const arb = fc.record({ dims: dimsArb(1, 3, 1, 5), c: fc.constantFrom(1, 2), axisSeed: fc.nat(), L: fc.integer({ min: 1, max: 12 }), inverse: fc.constantFrom(0, 1), onesided: fc.constantFrom(0, 1) })
    .chain((p) => fc.record({ p: fc.constant(p), v: floats(numel(p.dims) * p.c) }));
  fc.assert(fc.property(arb, ({ p, v }) => {
    const s = [...p.dims, p.c], r = s.length, axis = p.axisSeed % (r - 1);
    const n = s[axis]!, L = p.L, Kout = p.onesided ? Math.floor(L / 2) + 1 : L;
    const pre = numel(s.slice(0, axis)), post = numel(s.slice(axis + 1, r - 1));
    const tw = twiddleRef(L, p.inverse === 1);
    const want = new Array<number>(pre * Kout * post * 2);
    for (let a = 0; a < pre; a++) for (let b = 0; b < post; b++) {
      const sig = (m: number): [number, number] => {
        if (m >= n) return [0, 0];
        const base = ((a * n + m) * post + b) * p.c;
        return [v[base]!, p.c === 2 ? v[base + 1]! : 0];
      };
      dft1(sig, L, Kout, tw, p.inverse === 1).forEach((val, e) => { want[((a * Kout + (e >> 1)) * post + b) * 2 + (e & 1)] = val; });
    }
    checkRef('DFT', [hostTensor('float32', s, v)], { axis, length: L, inverse: p.inverse, onesided: p.onesided }, want);
  }), { numRuns: 40 });
});

test('STFT: native == scalar == float32 reference of the spec (with and without window)', () => {
  const arb = fc.record({ B: fc.integer({ min: 1, max: 2 }), n: fc.integer({ min: 1, max: 14 }), c: fc.constantFrom(1, 2), Lseed: fc.nat(), step: fc.integer({ min: 1, max: 4 }), onesided: fc.constantFrom(0, 1), win: fc.boolean() })
    .chain((p) => {
      const L = 1 + (p.Lseed % p.n);
      return fc.record({ p: fc.constant(p), L: fc.constant(L), v: floats(p.B * p.n * p.c), w: floats(L) });
    });
  fc.assert(fc.property(arb, ({ p, L, v, w }) => {
    const F = Math.floor((p.n - L) / p.step) + 1, Kout = p.onesided ? Math.floor(L / 2) + 1 : L;
    const tw = twiddleRef(L, false);
    const want: number[] = [];
    for (let b = 0; b < p.B; b++) for (let fr = 0; fr < F; fr++) {
      const sig = (m: number): [number, number] => {
        const base = (b * p.n + fr * p.step + m) * p.c;
        const win = (x: number) => (p.win ? f(x * w[m]!) : x);
        return [win(v[base]!), p.c === 2 ? win(v[base + 1]!) : 0];
      };
      want.push(...dft1(sig, L, Kout, tw, false));
    }
    const ins = [hostTensor('float32', [p.B, p.n, p.c], v), ...(p.win ? [hostTensor('float32', [L], w)] : [])];
    checkRef('STFT', ins, { frame_step: p.step, frame_length: L, onesided: p.onesided }, want);
  }), { numRuns: 40 });
});

test('Window: native == scalar == float32 reference of the spec (hann, hamming, blackman; periodic/symmetric; sizes 0, 1)', () => {
  const A: Record<string, [number, number, number]> = { hann: [0.5, 0.5, 0], hamming: [f(25 / 46), f(1 - f(25 / 46)), 0], blackman: [f(0.42), 0.5, f(0.08)] };
  for (const kind of ['hann', 'hamming', 'blackman']) for (const periodic of [0, 1]) for (const S of [0, 1, 2, 7, 10, 33]) {
    const Nd = periodic ? S : S - 1;
    const inc = f(TAU / Nd);
    const phi = Array.from({ length: S }, (_, i) => f(i * inc));
    const [a0, a1, a2] = A[kind]!;
    const c1 = S ? mathOf('Cos', phi) : [], c2 = S ? mathOf('Cos', phi.map((p) => f(p * 2))) : [];
    const want = phi.map((_, i) => f(f(a0 - f(a1 * c1[i]!)) + f(a2 * c2[i]!)));
    if (S === 1 && periodic === 0) assert.ok(Number.isNaN(want[0]), 'S = 1 symmetric is NaN');
    checkRef('Window', [], { kind, size: S, periodic }, want);
  }
});

test('MelWeightMatrix: native == scalar == float32 reference of the spec', () => {
  const LN10 = f(Math.LN10);
  for (const [M, L, R, lo, hi] of [[8, 16, 8192, 0, 4096], [5, 31, 16000, 20, 7600], [1, 1, 100, 0, 50], [10, 64, 44100, 300, 8000], [3, 8, 1000, 0, 10000]] as const) {
    const log10 = (x: number) => f(mathOf('Log', [x])[0]! / LN10);
    const mel = (h: number) => f(2595 * log10(f(1 + f(h / 700))));
    const mlo = mel(f(lo)), mhi = mel(f(hi));
    const step = f(f(mhi - mlo) / (M + 2));
    const mm = Array.from({ length: M + 2 }, (_, b) => f(f(b * step) + mlo));
    const p10 = mathOf('Pow', mm.map(() => 10), mm.map((v) => f(v / 2595)));
    const fb = mm.map((_, b) => Math.floor(f(f((L + 1) * f(700 * f(p10[b]! - 1))) / R)));
    const Kb = Math.floor(L / 2) + 1;
    const out = new Array<number>(Kb * M).fill(0);
    const put = (j: number, i: number, v: number) => { if (j >= 0 && j < Kb) out[j * M + i] = v; };
    for (let i = 0; i < M; i++) {
      const [l, c, h] = [fb[i]!, fb[i + 1]!, fb[i + 2]!];
      if (c === l) put(c, i, 1);
      else for (let j = l; j <= c; j++) put(j, i, f((j - l) / (c - l)));
      if (h > c) for (let j = c; j < h; j++) put(j, i, f((h - j) / (h - c)));
    }
    checkRef('MelWeightMatrix', [], { num_mel_bins: M, dft_length: L, sample_rate: R, lower_edge_hertz: f(lo), upper_edge_hertz: f(hi) }, out);
  }
});
