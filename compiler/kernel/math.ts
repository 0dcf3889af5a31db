/**
 * Deterministic float32 math for the kernel language (docs/math.md).
 *
 * Every function here builds kernel-language expressions from the primitives of the determinism
 * contract only: f32 + − × ÷ sqrt, floor/ceil/trunc/nearest, min/max, comparisons and select, i32
 * integer ops and f32 ↔ i32 bit reinterpretation. No host Math call survives into the kernel: every
 * coefficient below is an exact float32 literal (fitted offline, or taken from Cephes / musl), so the
 * emitted code, and therefore every result bit, is fixed. There are no branches on data (both sides of
 * a case split are computed and `select`ed), no i64 and no integer division, so the per-element code
 * vectorises in the native form and runs the same operation sequence in every lane.
 *
 * Interface: a {@link MathCtx} wraps the kernel's {@link KernelBuilder}. Functions take the context and
 * f32 expressions and return an f32 expression; any subexpression used more than once is bound to a
 * fresh kernel local, and the `set` statements that compute those locals are appended to `ctx.stmts`.
 * The caller emits `ctx.take()` (the statements, in order) before the statement that uses the value:
 *
 *   const m = new MathCtx(K);
 *   const y = exp(m, m.let(load(x, i)));
 *   body = [...m.take(), store(out, i, y)];
 *
 * (`mathExpr(K, m => …)` returns `{ stmts, value }` in one call.) Arguments may be any expression; a
 * function binds an argument it uses more than once itself.
 */
import type { Expr, Stmt } from './ast.ts';
import * as k from './build.ts';
import type { KernelBuilder } from './build.ts';

// ---------------------------------------------------------------- context


export class MathCtx {
  readonly stmts: Stmt[] = [];
  constructor(readonly K: KernelBuilder, private readonly prefix = 'm') {}

  /** Bind `e` to a fresh local (statement appended to `stmts`) and return a read of it. */
  let(e: Expr, name = 't'): Expr {
    if (e.kind === 'const' || e.kind === 'get' || e.kind === 'index') return e;
    const l = this.K.local(`${this.prefix}_${name}_`, e.type);
    this.stmts.push(k.set(l, e));
    return k.get(l);
  }

  /** The statements accumulated so far (and forget them). */
  take(): Stmt[] {
    return this.stmts.splice(0);
  }
}

/** Build one value with a fresh context: `{ stmts, value }`, stmts to run before value is read. */
export function mathExpr(K: KernelBuilder, f: (m: MathCtx) => Expr): { stmts: Stmt[]; value: Expr } {
  const m = new MathCtx(K);
  const value = f(m);
  return { stmts: m.take(), value };
}

// ---------------------------------------------------------------- primitives

const F = k.f32;
const I = k.i32;
const INF = F(Infinity);
const NAN = F(NaN);
export const bitsOf = (x: Expr) => k.convert('i32.reinterpret_f32', x); // NaN → canonical bits
export const fromBits = (i: Expr) => k.convert('f32.reinterpret_i32', i);
const toI = (x: Expr) => k.convert('i32.trunc_sat_f32_s', x); // NaN → 0, saturating
const toF = (i: Expr) => k.convert('f32.from_i32_s', i);
const isNaN = (x: Expr) => k.ne(x, x);
const imin = (a: Expr, b: Expr) => k.select(k.lt(a, b), a, b);
const imax = (a: Expr, b: Expr) => k.select(k.gt(a, b), a, b);
const fsel = (c: Expr, a: Expr, b: Expr) => k.select(c, a, b);

/** Horner evaluation of c[0] + c[1]·t + … + c[n]·tⁿ (t bound by the caller). */
function horner(t: Expr, c: readonly number[]): Expr {
  let acc: Expr = F(c[c.length - 1]!);
  for (let i = c.length - 2; i >= 0; i--) acc = k.add(k.mul(acc, t), F(c[i]!));
  return acc;
}

/** 2ⁿ for an i32 n in [−126, 127] (a normal float), built from its exponent bits. */
function pow2i(n: Expr): Expr {
  return fromBits(k.shl(k.add(n, I(127)), I(23)));
}

/**
 * y·2ⁿ for i32 n in [−252, 254], in two exact power-of-two steps (n = ⌊n/2⌋ + ⌈n/2⌉) so that a
 * subnormal result is rounded only once, in the last multiplication, and overflow gives ±∞.
 */
export function scale2(m: MathCtx, y: Expr, n: Expr): Expr {
  const nn = m.let(n, 'sn');
  const n1 = m.let(k.shrS(nn, I(1)), 'sn1');
  return k.mul(k.mul(y, pow2i(n1)), pow2i(k.sub(nn, n1)));
}

/** Knuth's two-sum: a + b = s + e exactly (round to nearest, no overflow). */
function twoSum(m: MathCtx, a: Expr, b: Expr): [Expr, Expr] {
  const aa = m.let(a, 'ta'), bb = m.let(b, 'tb');
  const s = m.let(k.add(aa, bb), 'ts');
  const bv = m.let(k.sub(s, aa), 'tv');
  return [s, m.let(k.add(k.sub(aa, k.sub(s, bv)), k.sub(bb, bv)), 'te')];
}

/** Fast two-sum for |a| ≥ |b|: a + b = s + e exactly. */
function fastTwoSum(m: MathCtx, a: Expr, b: Expr): [Expr, Expr] {
  const aa = m.let(a, 'fa'), bb = m.let(b, 'fb');
  const s = m.let(k.add(aa, bb), 'fs');
  return [s, m.let(k.sub(bb, k.sub(s, aa)), 'fe')];
}

/** x with its low 12 significand bits cleared: a 12-bit head, so head·(12-bit constant) is exact. */
function head12(x: Expr): Expr {
  return fromBits(k.and(bitsOf(x), I(0xfffff000 | 0)));
}

// ---------------------------------------------------------------- exp family

const LOG2E = 1.4426950216293335;
// log2e = LOG2E + LOG2E_L; LOG2E = LOG2E_HH + LOG2E_HL with a 12-bit head
const LOG2E_L = 1.925963033500011e-08, LOG2E_HH = 1.4423828125, LOG2E_HL = 0.0003122091293334961;
const LN2 = 0.6931471824645996;
// Cephes expf: ln2 = C1 − C2 with C1 = 0.693359375 exact in 9 bits (n·C1 exact for |n| ≤ 2^15).
const EXP_C1 = 0.693359375;
const EXP_C2 = -0.00021219444170128554;
// e^r − 1 − r = r²·P(r), |r| ≤ ln2/2 (Cephes expf, relative error ≈ 1e-7).
const EXP_P = [0.5, 0.1666666567325592, 0.04166579619050026, 0.008333452045917511, 0.001398199936375022, 0.00019875691214110702];

/** e^r − 1 for |r| ≤ ln2/2 (plus a little), r bound. */
function expm1Poly(m: MathCtx, r: Expr): Expr {
  const z = k.mul(r, r);
  return k.add(k.mul(z, horner(r, EXP_P)), r);
}

/** Range reduction of exp: x = n·ln2 + r, x clamped to [lo, hi]. Returns q = e^r − 1 and n (i32; [−150, 128] by default). */
function expCore(m: MathCtx, x: Expr, hi = 89, lo = -104): { q: Expr; n: Expr } {
  const xc = m.let(k.min(k.max(x, F(lo)), F(hi)), 'xc'); // NaN stays NaN
  const nf = m.let(k.nearest(k.mul(xc, F(LOG2E))), 'nf');
  const r = m.let(k.sub(k.sub(xc, k.mul(nf, F(EXP_C1))), k.mul(nf, F(EXP_C2))), 'r');
  return { q: m.let(expm1Poly(m, r), 'q'), n: m.let(toI(nf), 'n') };
}

/** eˣ. ±∞ → +∞/+0, overflow → +∞, underflow → subnormal/+0 (rounded once). */
export function exp(m: MathCtx, x: Expr): Expr {
  const { q, n } = expCore(m, x);
  return scale2(m, k.add(F(1), q), n);
}

/** eˣ − 1, accurate near 0 (expm1(±0) = ±0, expm1(−∞) = −1). */
export function expm1(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const { q, n } = expCore(m, xx);
  const t = m.let(pow2i(imax(imin(n, I(127)), I(-126))), 't');
  const small = k.add(k.sub(t, F(1)), k.mul(t, q)); // t − 1 exact for n ∈ [−24, 24]
  const big = scale2(m, k.add(F(1), q), n);
  return fsel(k.eq(xx, F(0)), xx, fsel(k.gt(n, I(24)), big, small));
}

/** 2^T for T = n + f with i32 n and f32 |f| ≤ ½ + tiny (used by pow). */
function exp2Split(m: MathCtx, n: Expr, f: Expr): Expr {
  const r = m.let(k.mul(f, F(LN2)), 'r2');
  const q = expm1Poly(m, r);
  return scale2(m, k.add(F(1), q), imax(imin(n, I(254)), I(-252)));
}

// ---------------------------------------------------------------- log family

// musl logf / log1pf: log(1+f) = f − f²/2 + s·(f²/2 + R(s²)), s = f/(2+f).
const LG1 = 0.6666666269302368, LG2 = 0.40000972151756287, LG3 = 0.2849878668785095, LG4 = 0.24279078841209412;
const LN2_HI = 0.6931381225585938, LN2_LO = 9.05800061445916e-06;
const SQRT2_BIAS = 0x3f800000 - 0x3f3504f3; // shifts [√½, √2) onto one exponent

interface LogParts { dk: Expr; f: Expr; c: Expr }

/** log(1+f) + dk·ln2 + c, f ∈ [√½−1, √2−1) (musl's summation order). */
function logFromParts(m: MathCtx, p: LogParts): Expr {
  const f = m.let(p.f, 'f');
  const s = m.let(k.div(f, k.add(F(2), f)), 's');
  const z = m.let(k.mul(s, s), 'z');
  const w = m.let(k.mul(z, z), 'w');
  const R = k.add(k.mul(z, k.add(F(LG1), k.mul(w, F(LG3)))), k.mul(w, k.add(F(LG2), k.mul(w, F(LG4)))));
  const hfsq = m.let(k.mul(k.mul(F(0.5), f), f), 'hfsq');
  const dk = m.let(p.dk, 'dk');
  let acc = k.add(k.mul(s, k.add(hfsq, R)), k.add(k.mul(dk, F(LN2_LO)), p.c));
  acc = k.add(k.sub(acc, hfsq), f);
  return k.add(acc, k.mul(dk, F(LN2_HI)));
}

/** Split x > 0 (finite, subnormals included) into 2^k·(1+f), 1+f ∈ [√½, √2). */
function logSplit(m: MathCtx, x: Expr): { kk: Expr; f: Expr } {
  const sub = m.let(k.lt(x, F(1.1754943508222875e-38)), 'sub');
  const xs = k.select(sub, k.mul(x, F(33554432)), x); // ·2^25
  const ix = m.let(k.add(bitsOf(xs), I(SQRT2_BIAS)), 'ix');
  const kk = k.sub(k.sub(k.shrS(ix, I(23)), I(127)), k.select(sub, I(25), I(0)));
  const f = k.sub(fromBits(k.add(k.and(ix, I(0x7fffff)), I(0x3f3504f3))), F(1));
  return { kk: m.let(kk, 'k'), f };
}

/** Result of a log-like function at the edges of its domain: NaN below, ∞/−∞ at the ends. */
function logSpecial(x: Expr, lo: number, value: Expr): Expr {
  const special = fsel(k.eq(x, F(lo)), F(-Infinity), fsel(k.eq(x, INF), INF, NAN));
  return fsel(k.and(k.gt(x, F(lo)), k.lt(x, INF)), value, special);
}

/** ln x. ln(±0) = −∞, ln(x < 0) = NaN, ln(+∞) = +∞. */
export function log(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const { kk, f } = logSplit(m, xx);
  return logSpecial(xx, 0, logFromParts(m, { dk: toF(kk), f, c: F(0) }));
}

/** ln(1 + x), accurate near 0 (log1p(±0) = ±0, log1p(−1) = −∞, x < −1 → NaN). */
export function log1p(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const u = m.let(k.add(F(1), xx), 'u');
  const iu = m.let(k.add(bitsOf(u), I(SQRT2_BIAS)), 'iu');
  const kk = m.let(k.sub(k.shrS(iu, I(23)), I(127)), 'k');
  // correction term ≈ log(1+x) − log(u) for the rounding of u = 1 + x
  const c0 = k.div(fsel(k.ge(kk, I(2)), k.sub(F(1), k.sub(u, xx)), k.sub(xx, k.sub(u, F(1)))), u);
  const c = fsel(k.and(k.ne(kk, I(0)), k.lt(kk, I(25))), c0, F(0));
  const f = fsel(k.eq(kk, I(0)), xx, k.sub(fromBits(k.add(k.and(iu, I(0x7fffff)), I(0x3f3504f3))), F(1)));
  const v = logFromParts(m, { dk: toF(kk), f, c });
  return fsel(k.eq(xx, F(0)), xx, logSpecial(xx, -1, v));
}

// ---------------------------------------------------------------- hyperbolic and logistic

// Cephes tanhf, |x| < 0.625: tanh x = x + x·z·P(z), z = x².
const TANH_P = [-0.3333328068256378, 0.13331441581249237, -0.05373971536755562, 0.0206390880048275, -0.0057049887254834175];

/** tanh x (tanh(±0) = ±0, ±∞ → ±1). */
export function tanh(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  const z = m.let(k.mul(a, a), 'z');
  const small = k.add(k.mul(k.mul(horner(z, TANH_P), z), a), a);
  const e = m.let(exp(m, k.add(a, a)), 'e');
  const big = k.sub(F(1), k.div(F(2), k.add(e, F(1))));
  return k.copysign(fsel(k.lt(a, F(0.625)), small, big), xx);
}

/**
 * 1 / (1 + e^−x), from one exp of −|x| (no overflow, accurate tails): (x < 0 ? e : 1)/(1 + e) with the
 * denominator kept exact as a two-sum dh + dl and the quotient corrected by −r·dl/dh.
 */
export function sigmoid(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const e = m.let(exp(m, k.neg(k.abs(xx))), 'e');
  const [dh, dl] = fastTwoSum(m, F(1), e); // e ≤ 1
  const r = m.let(k.div(fsel(k.lt(xx, F(0)), e, F(1)), dh), 'r');
  return k.sub(r, k.div(k.mul(r, dl), dh));
}

/** ln(1 + eˣ) = max(x, 0) + log1p(e^−|x|). */
export function softplus(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  return k.add(k.max(xx, F(0)), log1p(m, exp(m, k.neg(k.abs(xx)))));
}

/** x / (1 + |x|), ±∞ → ±1. */
export function softsign(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  return fsel(k.eq(a, INF), k.copysign(F(1), xx), k.div(xx, k.add(F(1), a)));
}

/** eᵃ/2 for a ≥ 0 without overflow before the result does (a ≤ 89.5 kept finite where sinh is). */
function halfExp(m: MathCtx, a: Expr): Expr {
  const { q, n } = expCore(m, a, 95);
  return scale2(m, k.add(F(1), q), k.sub(n, I(1)));
}

// Cephes sinhf, |x| ≤ 1: sinh x = x + x·z·P(z).
const SINH_P = [0.1666671633720398, 0.008330283686518669, 0.00020372190920170397];

/** sinh x (±0 → ±0, ±∞ → ±∞). */
export function sinh(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  const z = m.let(k.mul(a, a), 'z');
  const small = k.add(k.mul(k.mul(horner(z, SINH_P), z), a), a);
  const h = m.let(halfExp(m, a), 'h');
  const big = k.sub(h, k.div(F(0.25), h));
  return k.copysign(fsel(k.le(a, F(1)), small, big), xx);
}

/** cosh x = eᵃ/2 + 1/(4·eᵃ/2), a = |x|. */
export function cosh(m: MathCtx, x: Expr): Expr {
  const h = m.let(halfExp(m, k.abs(x)), 'h');
  return k.add(h, k.div(F(0.25), h));
}

/** asinh x = sign·log1p(…) in three ranges (musl asinhf). */
export function asinh(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  const a2 = m.let(k.mul(a, a), 'a2');
  const sq = m.let(k.sqrt(k.add(a2, F(1))), 'sq');
  const huge = m.let(k.ge(a, F(4096)), 'huge');
  const y = fsel(huge, k.sub(a, F(1)),
    fsel(k.ge(a, F(2)), k.sub(k.add(k.add(a, a), k.div(F(1), k.add(sq, a))), F(1)),
      k.add(a, k.div(a2, k.add(sq, F(1))))));
  const r = k.add(log1p(m, y), fsel(huge, F(LN2), F(0)));
  return k.copysign(r, xx);
}

/** acosh x (x < 1 → NaN, acosh(1) = +0). */
export function acosh(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const t = m.let(k.sub(xx, F(1)), 't');
  const huge = m.let(k.ge(xx, F(4096)), 'huge');
  const y = fsel(huge, t,
    fsel(k.ge(xx, F(2)), k.sub(k.sub(k.add(xx, xx), k.div(F(1), k.add(xx, k.sqrt(k.sub(k.mul(xx, xx), F(1)))))), F(1)),
      k.add(t, k.sqrt(k.add(k.mul(t, t), k.add(t, t))))));
  const r = k.add(log1p(m, y), fsel(huge, F(LN2), F(0)));
  return fsel(k.ge(xx, F(1)), r, NAN);
}

/** atanh x = ½·log1p(2x/(1−x)) (|x| = 1 → ±∞, |x| > 1 → NaN). */
export function atanh(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  const d = m.let(k.sub(F(1), a), 'd');
  const a2 = k.add(a, a);
  const y = fsel(k.lt(a, F(0.5)), k.add(a2, k.div(k.mul(a2, a), d)), k.mul(F(2), k.div(a, d)));
  return k.copysign(k.mul(F(0.5), log1p(m, y)), xx);
}

// ---------------------------------------------------------------- erf

const RSQRT2 = 0.7071067690849304;
// erf x = x + x·P(x²) on |x| < 1 (fitted minimax; P(0) = 2/√π − 1).
const ERF_P = [0.12837916612625122, -0.3761262595653534, 0.1128358542919159, -0.026853814721107483, 0.00518833240494132, -0.0008010231540538371, 7.853975694160908e-05];
// erfc a = e^(−a²)/a · S(1/a − ½) on 1 ≤ a ≤ 10 (fitted for relative error, deg 11).
const ERFC_S = [0.5107913613319397, -0.1672108918428421, -0.03663411736488342, 0.11894796788692474, -0.10869618505239487, 0.04296791926026344,
  0.03905423358082771, -0.11029811203479767, 0.14142373204231262, -0.05599772185087204, -0.11463772505521774, 0.120488241314888];

// erfc a = e^(−a²)·R(a − ¾) on ½ ≤ a ≤ 1 (fitted for relative error, deg 7).
const ERFC_R = [0.5069376230239868, -0.3679727017879486, 0.23095828294754028, -0.12983602285385132, 0.06677848845720291, -0.03189552202820778, 0.014597208239138126, -0.0061435094103217125];

/** erf z for |z| < 1, odd: z + z·P(z²). */
function erfSmall(m: MathCtx, z: Expr): Expr {
  const zz = m.let(z, 'z');
  const t = m.let(k.mul(zz, zz), 'zz');
  return k.add(zz, k.mul(zz, horner(t, ERF_P)));
}

/** erfc a = e^(−a²)·S(1/a − ½)/a for a ≥ 1 given e = e^(−a²) (a clamped to 11: erfc is 0 there). */
function erfcFrom(m: MathCtx, a: Expr, e: Expr): Expr {
  const ac = m.let(k.min(a, F(11)), 'ac');
  const inv = m.let(k.div(F(1), ac), 'inv');
  const s = m.let(k.sub(inv, F(0.5)), 'st');
  return k.mul(k.mul(e, horner(s, ERFC_S)), inv);
}

/** e^(−v²) for v ≥ 0 with v² split exactly: v = h + l, v² = h² (exact) + (v − h)(v + h). */
function expNegSquare(m: MathCtx, v: Expr, scale = 1): Expr {
  const vv = m.let(v, 'v');
  const h = m.let(head12(vv), 'vh');
  const e1 = exp(m, k.mul(F(-scale), k.mul(h, h)));
  const e2 = exp(m, k.mul(F(-scale), k.mul(k.sub(vv, h), k.add(vv, h))));
  return k.mul(e1, e2);
}

/** erfc a for a ≥ 1 (0 from a ≈ 10.05 on), relative error ≈ 1 ULP. */
export function erfcPos(m: MathCtx, a: Expr): Expr {
  const ac = m.let(k.min(a, F(11)), 'a');
  return erfcFrom(m, ac, expNegSquare(m, ac));
}

/** erf x (erf(±0) = ±0, ±∞ → ±1). */
export function erf(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  const big = k.sub(F(1), erfcPos(m, k.max(a, F(1))));
  return k.copysign(fsel(k.lt(a, F(1)), erfSmall(m, a), big), xx);
}

/**
 * GELU (erf form) x·½·(1 + erf(x/√2)), accurate (relative) on the negative side too. With z = x/√2,
 * a = |z|: 1 + erf z for z < ½ in magnitude or z > 0 below 1; 2 − erfc a for z ≥ 1; for z ≤ −½ the
 * result is ½x·erfc a with e^(−x²/2) taken from x itself (rounding z first would cost x²·2⁻²⁴ relative
 * error in the tail), and for z ≤ −1 ½x/a = −1/√2 exactly, so x·½·erfc a = −(1/√2)·e^(−x²/2)·S.
 */
export function geluErf(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const z = m.let(k.mul(xx, F(RSQRT2)), 'z');
  const a = m.let(k.abs(z), 'a');
  const hx = m.let(k.mul(xx, F(0.5)), 'hx');
  const e = m.let(expNegSquare(m, k.min(k.abs(xx), F(15.5)), 0.5), 'e'); // e^(−x²/2); erfc(15.5/√2) = 0
  const ac = m.let(k.min(k.max(a, F(1)), F(11)), 'ac');
  const inv = m.let(k.div(F(1), ac), 'inv');
  const eS = m.let(k.mul(e, horner(k.sub(inv, F(0.5)), ERFC_S)), 'eS'); // erfc a = eS/a for a ≥ 1
  const cMid = k.mul(e, horner(k.sub(a, F(0.75)), ERFC_R));
  const viaErf = k.or(k.lt(a, F(0.5)), k.and(k.gt(z, F(0)), k.lt(a, F(1))));
  const neg = fsel(k.lt(a, F(1)), k.mul(hx, cMid), k.mul(F(-RSQRT2), eS));
  const r = fsel(viaErf, k.mul(hx, k.add(F(1), erfSmall(m, z))), fsel(k.gt(z, F(0)), k.mul(hx, k.sub(F(2), k.mul(eS, inv))), neg));
  return fsel(k.eq(xx, F(-Infinity)), F(-0), r);
}

// ---------------------------------------------------------------- trigonometric

const TWO_OVER_PI = 0.6366197466850281;

// π/2 = C1 + C2 + C3 + C4: three 12-bit heads (products with 12-bit halves of n are exact) and a tail.
const PIO2_C = [1.5703125, 0.0004837512969970703, 7.549533620476723e-08, 2.5633440682570896e-12];
const PIO2_HI = 1.5707963705062866, PIO2_LO = -4.371138828673793e-08;
const PI_HI = 3.1415927410125732, PI_LO = -8.742277657347586e-08;
const PIO4_HI = 0.7853981852531433, PIO4_LO = -2.1855694143368964e-08;
// Cephes sinf/cosf/tanf on |r| ≤ π/4.
const SIN_P = [-0.16666655242443085, 0.008332161232829094, -0.00019515295571181923];
const COS_P = [0.04166664555668831, -0.0013887316454201937, 2.44331567955669e-05];
const TAN_P = [0.33333155512809753, 0.1333879977464676, 0.05341127887368202, 0.024430135264992714, 0.0031199222430586815, 0.00938540231436491];

/** x = n·π/2 + r, |r| ≤ π/4 (Cody–Waite with n split into 12-bit halves); q = n mod 4 (i32). */
function trigReduce(m: MathCtx, x: Expr): { r: Expr; q: Expr } {
  const nf = m.let(k.nearest(k.mul(x, F(TWO_OVER_PI))), 'nf');
  const nh = m.let(head12(nf), 'nh');
  const nl = m.let(k.sub(nf, nh), 'nl');
  let r = x;
  for (const c of PIO2_C.slice(0, 3)) r = k.sub(k.sub(r, k.mul(nh, F(c))), k.mul(nl, F(c)));
  r = k.sub(r, k.mul(nf, F(PIO2_C[3]!)));
  const q = toI(k.sub(nf, k.mul(F(4), k.floor(k.mul(nf, F(0.25))))));
  return { r: m.let(r, 'r'), q: m.let(q, 'q') };
}

function sinPoly(r: Expr, z: Expr): Expr {
  return k.add(r, k.mul(k.mul(r, z), horner(z, SIN_P)));
}
function cosPoly(z: Expr): Expr {
  return k.add(k.sub(k.mul(k.mul(horner(z, COS_P), z), z), k.mul(F(0.5), z)), F(1));
}

function sincos(m: MathCtx, x: Expr, cos: boolean): Expr {
  const xx = m.let(x, 'x');
  const { r, q } = trigReduce(m, xx);
  const z = m.let(k.mul(r, r), 'z');
  const s = m.let(sinPoly(r, z), 's');
  const c = m.let(cosPoly(z), 'c');
  const odd = k.ne(k.and(q, I(1)), I(0));
  const v = m.let(cos ? fsel(odd, s, c) : fsel(odd, c, s), 'v');
  const negate = k.ne(k.and(cos ? k.add(q, I(1)) : q, I(2)), I(0));
  const res = fsel(negate, k.neg(v), v);
  return cos ? res : fsel(k.eq(xx, F(0)), xx, res);
}

/** sin x (±0 → ±0, ±∞ → NaN). Accurate reduction for |x| < 2^16 or so (docs/math.md). */
export const sin = (m: MathCtx, x: Expr) => sincos(m, x, false);
/** cos x (±∞ → NaN). */
export const cos = (m: MathCtx, x: Expr) => sincos(m, x, true);

/** tan x (±0 → ±0, ±∞ → NaN). */
export function tan(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const { r, q } = trigReduce(m, xx);
  const z = m.let(k.mul(r, r), 'z');
  const t = m.let(k.add(k.mul(k.mul(horner(z, TAN_P), z), r), r), 't');
  const res = fsel(k.ne(k.and(q, I(1)), I(0)), k.div(F(-1), t), t);
  return fsel(k.eq(xx, F(0)), xx, res);
}

// Cephes asinf on |x| ≤ ½: asin x = x + x·z·P(z), z = x².
const ASIN_P = [0.16666752099990845, 0.07495300471782684, 0.04547002539038658, 0.024181311950087547, 0.04216320067644119];

function asinPoly(m: MathCtx, s: Expr, z: Expr): Expr {
  const ss = m.let(s, 'as');
  const zz = m.let(z, 'az');
  return k.add(k.mul(k.mul(horner(zz, ASIN_P), zz), ss), ss);
}

/**
 * asin x (|x| > 1 → NaN, ±0 → ±0). |x| ≤ ½: Cephes polynomial. |x| > ½: π/2 − 2·asin(s), s = √((1−a)/2),
 * with fdlibm's float scheme for ½ < a ≤ 0.975: s = w + c exactly (w = head12(s), c = (t − w²)/(s + w))
 * and π/2 = 2·(π/4)_hi + (π/2)_lo, so the cancellation against π/2 is exact.
 */
export function asin(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  const big = m.let(k.gt(a, F(0.5)), 'big');
  const t = m.let(fsel(big, k.mul(F(0.5), k.sub(F(1), a)), k.mul(a, a)), 'z');
  const s = m.let(fsel(big, k.sqrt(t), a), 's');
  const r = m.let(k.mul(horner(t, ASIN_P), t), 'r'); // asin s = s + s·r
  const small = k.add(k.mul(s, r), s);
  const nearOne = k.sub(F(PIO2_HI), k.sub(k.mul(F(2), k.add(s, k.mul(s, r))), F(PIO2_LO)));
  const w = m.let(head12(s), 'w');
  const c = k.div(k.sub(t, k.mul(w, w)), k.add(s, w));
  const p = k.sub(k.mul(k.mul(F(2), s), r), k.sub(F(PIO2_LO), k.mul(F(2), c)));
  const q = k.sub(F(PIO4_HI), k.mul(F(2), w));
  const mid = k.sub(F(PIO4_HI), k.sub(p, q));
  return k.copysign(fsel(big, fsel(k.gt(a, F(0.975)), nearOne, mid), small), xx);
}

/** acos x (|x| > 1 → NaN). */
export function acos(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  const big = m.let(k.gt(a, F(0.5)), 'big');
  const z = m.let(fsel(big, k.mul(F(0.5), k.sub(F(1), a)), k.mul(xx, xx)), 'z');
  const p = m.let(asinPoly(m, fsel(big, k.sqrt(z), xx), z), 'p');
  const p2 = m.let(k.add(p, p), 'p2');
  return fsel(big, fsel(k.gt(xx, F(0)), p2, k.sub(F(PI_HI), k.sub(p2, F(PI_LO)))), k.sub(F(PIO2_HI), k.sub(p, F(PIO2_LO))));
}

// musl atanf: reduction to |t| ≤ 7/16 around 0, ½, 1, 3/2, ∞; atan t = t − t·(s1 + s2) (odd/even split).
const ATAN_HI = [0.46364760398864746, 0.7853981256484985, 0.9827936887741089, 1.570796251296997];
const ATAN_LO = [5.01215824399992e-09, 3.774894707930798e-08, 3.447321716976148e-08, 7.549789415861596e-08];
const AT = [0.333333283662796, -0.19999158382415771, 0.14253635704517365, -0.106480173766613, 0.06168760731816292];

/** atan x (±∞ → ±π/2, ±0 → ±0). */
export function atan(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const a = m.let(k.abs(xx), 'a');
  const id0 = m.let(k.lt(a, F(0.6875)), 'id0'); // 7/16 ≤ a < 11/16 (with a ≥ 7/16)
  const id1 = m.let(k.lt(a, F(1.1875)), 'id1');
  const id2 = m.let(k.lt(a, F(2.4375)), 'id2');
  const small = m.let(k.lt(a, F(0.4375)), 'small');
  const t = m.let(fsel(small, a, fsel(id0, k.div(k.sub(k.mul(F(2), a), F(1)), k.add(F(2), a)),
    fsel(id1, k.div(k.sub(a, F(1)), k.add(a, F(1))),
      fsel(id2, k.div(k.sub(a, F(1.5)), k.add(F(1), k.mul(F(1.5), a))), k.div(F(-1), a))))), 't');
  const z = m.let(k.mul(t, t), 'z');
  const w = m.let(k.mul(z, z), 'w');
  const s1 = k.mul(z, k.add(F(AT[0]!), k.mul(w, k.add(F(AT[2]!), k.mul(w, F(AT[4]!))))));
  const s2 = k.mul(w, k.add(F(AT[1]!), k.mul(w, F(AT[3]!))));
  const ts = m.let(k.mul(t, k.add(s1, s2)), 'ts');
  const pick = (c: readonly number[]) => fsel(id0, F(c[0]!), fsel(id1, F(c[1]!), fsel(id2, F(c[2]!), F(c[3]!))));
  const big = k.sub(pick(ATAN_HI), k.sub(k.sub(ts, pick(ATAN_LO)), t));
  return k.copysign(fsel(small, k.sub(t, ts), big), xx);
}

/**
 * atan2(y, x), the angle of (x, y) in [−π, π], with the IEEE / C99 special cases: atan2(±0, +0) = ±0,
 * atan2(±0, −0) = ±π, atan2(±y, ±∞) and atan2(±∞, ±x) by quadrant (±π/4, ±3π/4 for both infinite).
 * t = atan(min(|x|,|y|)/max(|x|,|y|)) ∈ [0, π/4], then π/2 ∓ t or π − t with π/2, π split hi/lo.
 */
export function atan2(m: MathCtx, y: Expr, x: Expr): Expr {
  const yy = m.let(y, 'y'), xx = m.let(x, 'x');
  const ax = m.let(k.abs(xx), 'ax'), ay = m.let(k.abs(yy), 'ay');
  const swap = m.let(k.gt(ay, ax), 'swap');
  const r0 = fsel(swap, k.div(ax, ay), k.div(ay, ax));
  const r = fsel(k.and(k.eq(ax, INF), k.eq(ay, INF)), F(1), fsel(k.and(k.eq(ax, F(0)), k.eq(ay, F(0))), F(0), r0));
  const t0 = m.let(atan(m, r), 't0');
  const xneg = m.let(k.lt(bitsOf(xx), I(0)), 'xneg');
  // |y| > |x|: π/2 ∓ t; |y| ≤ |x|: t or π − t (no cancellation: t ≤ π/4)
  const viaPio2 = k.add(fsel(xneg, k.add(F(PIO2_HI), t0), k.sub(F(PIO2_HI), t0)), F(PIO2_LO));
  const t = fsel(swap, viaPio2, fsel(xneg, k.add(k.sub(F(PI_HI), t0), F(PI_LO)), t0));
  return fsel(k.or(isNaN(xx), isNaN(yy)), NAN, k.copysign(t, yy));
}

// ---------------------------------------------------------------- pow

/**
 * xʸ with C99 / numpy special cases: pow(x, ±0) = 1 and pow(1, y) = 1 (even for NaN), pow(−1, ±∞) = 1,
 * negative finite x with non-integral finite y → NaN, negative x with odd integral y → negative result,
 * pow(±0, y<0) = ±∞ / +∞, pow(±∞, y) and y = ±∞ by |x| vs 1. y = 1, 2, −1, ½ are exact (x, x·x, 1/x, √x).
 * Otherwise 2^(y·log2|x|) with y·k (k = exponent of x) computed exactly from 12-bit halves of y, so the
 * error grows only with |y·log2(m)|, m ∈ [√½, √2) (docs/math.md).
 */
export function pow(m: MathCtx, x: Expr, y: Expr): Expr {
  const xx = m.let(x, 'px');
  const yy = m.let(y, 'py');
  const ax = m.let(k.abs(xx), 'ax');
  const ay = m.let(k.abs(yy), 'ay');
  // log2|x| = k + lfh + lfl (double-float), m = 1 + f ∈ [√½, √2)
  const { kk, f: f0 } = logSplit(m, ax);
  const f = m.let(f0, 'f'); // exact (Sterbenz)
  const fh = m.let(head12(f), 'fh');
  const fl = m.let(k.sub(f, fh), 'fl');
  const hh = k.mul(k.mul(F(0.5), fh), fh); // exact
  const hl = k.mul(k.mul(F(0.5), fl), k.add(f, fh)); // f²/2 = hh + hl (hl rounded, 2⁻¹² smaller)
  const s = m.let(k.div(f, k.add(F(2), f)), 's');
  const z = m.let(k.mul(s, s), 'z');
  const w = m.let(k.mul(z, z), 'w');
  const R = k.add(k.mul(z, k.add(F(LG1), k.mul(w, F(LG3)))), k.mul(w, k.add(F(LG2), k.mul(w, F(LG4)))));
  const tail = k.mul(s, k.add(k.mul(k.mul(F(0.5), f), f), R)); // s·(f²/2 + R), |tail| ≲ f³/4
  const [l1, e1] = twoSum(m, f, k.neg(hh));
  const [lnh, lnl] = fastTwoSum(m, l1, k.add(k.sub(e1, hl), tail)); // ln m = lnh + lnl
  // × log2e in double-float: 12-bit halves give exact partial products
  const ah = m.let(head12(lnh), 'lh');
  const al = m.let(k.sub(lnh, ah), 'll');
  const p2 = k.add(k.mul(ah, F(LOG2E_HL)), k.mul(al, F(LOG2E_HH))); // ≈ 2⁻¹² of the leading product
  const p3 = k.add(k.mul(al, F(LOG2E_HL)), k.add(k.mul(lnh, F(LOG2E_L)), k.mul(lnl, F(LOG2E))));
  const [q1, q2] = twoSum(m, k.mul(ah, F(LOG2E_HH)), p2);
  const [lfh, lfl] = fastTwoSum(m, q1, k.add(q2, p3));
  // y·(k + lfh + lfl): exact partial products, integer parts taken before any rounding
  const kf = m.let(toF(kk), 'kf');
  const yh = m.let(head12(yy), 'yh');
  const yl = m.let(k.sub(yy, yh), 'yl');
  const bh = m.let(head12(lfh), 'bh');
  const bl = m.let(k.sub(lfh, bh), 'bl');
  const parts = [k.mul(yh, kf), k.mul(yl, kf), k.mul(yh, bh), k.mul(yh, bl), k.mul(yl, bh), k.mul(yl, bl)].map((e) => m.let(e, 'A'));
  const ints = parts.map((e) => m.let(k.nearest(e), 'nA'));
  // compensated sum of the (exact) fractional residuals
  let S: Expr = k.sub(parts[0]!, ints[0]!);
  let C: Expr = k.mul(yy, lfl);
  for (let i = 1; i < parts.length; i++) {
    const [s1, e] = twoSum(m, S, k.sub(parts[i]!, ints[i]!));
    S = s1;
    C = k.add(C, e);
  }
  const Sh = m.let(S, 'S');
  const nS = m.let(k.nearest(Sh), 'nS');
  const Sv = m.let(k.add(k.sub(Sh, nS), C), 'Sf'); // |Sv| ≤ ½ + tiny
  let n: Expr = toI(nS);
  for (const e of ints) n = k.add(n, toI(e));
  const T = m.let(k.mul(yy, k.add(kf, lfh)), 'T'); // estimate, for overflow/underflow only
  let mag: Expr = fsel(k.gt(T, F(300)), INF, fsel(k.lt(T, F(-300)), F(0), exp2Split(m, n, Sv)));
  // |x| = 0 or ∞, |y| = ∞
  const ypos = m.let(k.gt(yy, F(0)), 'ypos');
  mag = fsel(k.eq(ay, INF), fsel(k.eq(k.gt(ax, F(1)), ypos), INF, F(0)), mag);
  mag = fsel(k.eq(ax, F(0)), fsel(ypos, F(0), INF), fsel(k.eq(ax, INF), fsel(ypos, INF, F(0)), mag));
  // sign and domain
  const yInt = m.let(k.eq(k.trunc(yy), yy), 'yint');
  const half = m.let(k.mul(yy, F(0.5)), 'yhalf');
  const odd = k.and(k.and(yInt, k.lt(ay, F(16777216))), k.ne(k.trunc(half), half));
  const negX = m.let(k.lt(bitsOf(xx), I(0)), 'negx');
  let res: Expr = fsel(k.and(negX, odd), k.neg(mag), mag);
  res = fsel(k.and(k.and(k.lt(xx, F(0)), k.lt(ax, INF)), k.eqz(yInt)), NAN, res);
  // exact small exponents
  res = fsel(k.eq(yy, F(2)), k.mul(xx, xx), res);
  res = fsel(k.eq(yy, F(1)), xx, res);
  res = fsel(k.eq(yy, F(-1)), k.div(F(1), xx), res);
  res = fsel(k.eq(yy, F(0.5)), fsel(k.eq(xx, F(-Infinity)), INF, k.add(k.sqrt(xx), F(0))), res);
  res = fsel(k.or(isNaN(xx), isNaN(yy)), NAN, res);
  const one = k.or(k.or(k.eq(yy, F(0)), k.eq(xx, F(1))), k.and(k.eq(xx, F(-1)), k.eq(ay, INF)));
  return fsel(one, F(1), res);
}

// ---------------------------------------------------------------- activations


// 2·√(2/π) and 0.044715 as double-floats (hi + lo)
const GELU_K = [1.5957691669464111, -4.534068054340423e-08];
const GELU_A = [0.044714998453855515, 1.5461444347053543e-09];

/** Dekker's exact product: a·b = p + e (12-bit halves make every partial product exact). */
function twoProd(m: MathCtx, a: Expr, b: Expr): [Expr, Expr] {
  const aa = m.let(a, 'pa'), bb = m.let(b, 'pb');
  const p = m.let(k.mul(aa, bb), 'pp');
  const ah = m.let(head12(aa), 'pah'), bh = m.let(head12(bb), 'pbh');
  const al = m.let(k.sub(aa, ah), 'pal'), bl = m.let(k.sub(bb, bh), 'pbl');
  const e = k.add(k.add(k.add(k.sub(k.mul(ah, bh), p), k.mul(ah, bl)), k.mul(al, bh)), k.mul(al, bl));
  return [p, m.let(e, 'pe')];
}

/**
 * GELU, tanh form: x·½·(1 + tanh u) = x·sigmoid(2u), 2u = 2√(2/π)·(x + 0.044715x³). The far negative
 * side is ill-conditioned (relative condition ≈ |x·2u′(x)|, up to ~230), so 2u is computed as a
 * double-float vh + vl (exact products, constants split hi/lo) and e^(−|2u|) corrected by the low part;
 * below 2u = −17.5, x·sigmoid(2u) = x·e^(2u) is formed as scale2(x·(1+q)·(1+vl), n), rounding once.
 */
export function geluTanh(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const xc = m.let(k.min(k.max(xx, F(-11)), F(11)), 'xc'); // beyond: x (> 11) or −0 (< −11)
  const [s2h, s2l] = twoProd(m, xc, xc);
  const [c1, e1] = twoProd(m, s2h, xc);
  const c1l = m.let(k.add(e1, k.mul(s2l, xc)), 'c1l'); // x³ = c1 + c1l
  const [d1, e2] = twoProd(m, F(GELU_A[0]!), c1);
  const dl = k.add(k.add(e2, k.mul(F(GELU_A[0]!), c1l)), k.mul(F(GELU_A[1]!), c1)); // A·x³ = d1 + dl
  const [g, e3] = twoSum(m, xc, d1);
  const gl = m.let(k.add(e3, dl), 'gl'); // x + A·x³ = g + gl
  const [v0, e4] = twoProd(m, F(GELU_K[0]!), g);
  const [vh, vl] = fastTwoSum(m, v0, k.add(k.add(e4, k.mul(F(GELU_K[0]!), gl)), k.mul(F(GELU_K[1]!), g))); // 2u = vh + vl
  // general: sigmoid(vh + vl) with e^(−|v|) = E·(1 − sgn·vl), sgn = sign(vh)
  const neg = m.let(k.lt(vh, F(0)), 'vneg');
  const E = m.let(exp(m, k.neg(k.abs(vh))), 'E');
  const Ec = m.let(k.sub(E, k.mul(E, fsel(neg, k.neg(vl), vl))), 'Ec');
  const [dh, dlo] = fastTwoSum(m, F(1), Ec);
  const r = m.let(k.div(fsel(neg, Ec, F(1)), dh), 'sr');
  const general = k.mul(xc, k.sub(r, k.div(k.mul(r, dlo), dh)));
  // tail: x·e^v, one rounding
  const { q, n } = expCore(m, vh, 89, -120); // n ≥ −174: scale2 still exact
  const xp = m.let(k.mul(xc, k.add(F(1), q)), 'xp');
  const tail = scale2(m, k.add(xp, k.mul(xp, vl)), n);
  return fsel(k.gt(xx, F(11)), xx, fsel(k.lt(xx, F(-11)), F(-0), fsel(k.lt(vh, F(-17.5)), tail, general)));
}

/** x·tanh(softplus x) = x·n/(n+2), n = eˣ(eˣ+2); x for x > 20, x·eˣ (one rounding) below −20; −∞ → −0. */
export function mish(m: MathCtx, x: Expr): Expr {
  const xx = m.let(x, 'x');
  const { q, n } = expCore(m, k.min(xx, F(20)));
  const p = m.let(k.add(F(1), q), 'p');
  const e = m.let(scale2(m, p, n), 'e');
  const nn = m.let(k.mul(e, k.add(e, F(2))), 'n');
  const r = k.mul(xx, k.div(nn, k.add(nn, F(2))));
  // x < −20: n/(n+2) = eˣ to float precision; x·p·2ⁿ rounds once (subnormal results included)
  const tail = scale2(m, k.mul(xx, p), n);
  return fsel(k.gt(xx, F(20)), xx, fsel(k.eq(xx, F(-Infinity)), F(-0), fsel(k.lt(xx, F(-20)), tail, r)));
}

/** ELU: x < 0 ? α·expm1(x) : x. */
export function elu(m: MathCtx, x: Expr, alpha: number): Expr {
  const xx = m.let(x, 'x');
  return fsel(k.lt(xx, F(0)), k.mul(F(alpha), expm1(m, xx)), xx);
}

/** SELU: γ·(x ≤ 0 ? α·expm1(x) : x). */
export function selu(m: MathCtx, x: Expr, alpha: number, gamma: number): Expr {
  const xx = m.let(x, 'x');
  return k.mul(F(gamma), fsel(k.le(xx, F(0)), k.mul(F(alpha), expm1(m, xx)), xx));
}

/** CELU: max(0, x) + min(0, α·expm1(x/α)). */
export function celu(m: MathCtx, x: Expr, alpha: number): Expr {
  const xx = m.let(x, 'x');
  return k.add(k.max(F(0), xx), k.min(F(0), k.mul(F(alpha), expm1(m, k.div(xx, F(alpha))))));
}
