/**
 * Token selection for `opml generate`, deterministic on every engine (docs/generate.md §Sampling):
 *
 * - greedy: arg-max of the float32 logits, ties to the lowest id (a NaN never wins);
 * - sampling: a splitmix64 stream from the seed (integer-only), and float32 arithmetic for the
 *   distribution: every + − × ÷ is rounded to float32 (Math.fround of the double result, which is the
 *   correctly rounded float32 result for these operations), exp is a fixed range reduction and polynomial
 *   built from them. No Math.exp/log/pow, so the chosen token depends only on the logits' bits, the seed
 *   and the step.
 */

/** splitmix64 (Steele, Lea, Flood 2014): 64-bit state, one multiply-xorshift mix per draw. */
export class SplitMix64 {
  private s: bigint;
  constructor(seed: bigint | number) {
    this.s = BigInt.asUintN(64, BigInt(seed));
  }
  next(): bigint {
    this.s = BigInt.asUintN(64, this.s + 0x9e3779b97f4a7c15n);
    let z = this.s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }
  /** A float32 uniform in [0, 1): the top 24 bits over 2^24 (exact in float32). */
  nextUnit(): number {
    return Number(this.next() >> 40n) / 16777216;
  }
}

const f = Math.fround;
const LN2_HI = 0.693359375; // 9 significant bits: n·LN2_HI is exact for |n| < 2^15
const LN2_LO = f(-2.12194440e-4);
const LOG2E = f(1.44269504088896341);
const bits = new Int32Array(1);
const asFloat = new Float32Array(bits.buffer);

/** 2^n as a float32 for an integer n in [−126, 127], from its exponent bits. */
function pow2(n: number): number {
  bits[0] = (n + 127) << 23;
  return asFloat[0]!;
}

/**
 * e^x for float32 x ≤ 0, in float32 arithmetic: x = n·ln2 + r (|r| ≤ ln2/2, Cody–Waite with ln2 split in
 * two), e^r by its degree-6 Taylor polynomial (Horner, relative error < 2e-7 on that range), times 2^n.
 * Below −87 the result is 0 (under float32's normal range; such weights never matter next to e^0 = 1).
 */
export function exp32(x: number): number {
  x = f(x);
  if (!(x <= 0)) return x > 0 ? NaN : 0; // only called with x = l − max ≤ 0; NaN logits weigh 0
  if (x < -87) return 0;
  const n = Math.floor(f(x * LOG2E) + 0.5); // round half up: an integer in [−126, 0]
  const r = f(f(x - f(n * LN2_HI)) - f(n * LN2_LO));
  let p = f(1 / 720);
  for (const c of [1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1]) p = f(f(p * r) + f(c));
  return f(p * pow2(n));
}

/** Arg-max of float32 logits, ties to the lowest id; NaN never wins (all NaN: id 0). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bv = -Infinity;
  let found = false;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v !== v) continue;
    if (!found || v > bv) { best = i; bv = v; found = true; }
  }
  return best;
}

export interface SampleOptions {
  /** Softmax temperature (> 0), used as a float32. Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or ≥ vocabulary: all). Default 0. */
  topK?: number;
}

/**
 * Draw a token from softmax(logits / temperature) restricted to the top-k, with one 24-bit draw of
 * `rng`. Candidates are ordered by logit (descending, ties by lower id); weights w = e^(l − max) and
 * their running float32 sum in that order; the token is the first whose running sum exceeds u · total.
 */
export function sampleToken(logits: ArrayLike<number>, rng: SplitMix64, o: SampleOptions = {}): number {
  const t = f(o.temperature ?? 1);
  if (!(t > 0)) throw new RangeError('temperature must be > 0');
  const scaled = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    scaled[i] = v !== v ? -Infinity : f(f(v) / t);
  }
  const order = [...scaled.keys()].sort((a, b) => (scaled[b]! > scaled[a]! ? 1 : scaled[b]! < scaled[a]! ? -1 : a - b));
  const k = o.topK && o.topK > 0 ? Math.min(o.topK, order.length) : order.length;
  const max = scaled[order[0]!]!;
  if (max === -Infinity) return order[0]!;
  const cum = new Float32Array(k);
  let total = 0;
  for (let j = 0; j < k; j++) {
    const l = scaled[order[j]!]!;
    total = f(total + (l === -Infinity ? 0 : exp32(f(l - max))));
    cum[j] = total;
  }
  const r = f(rng.nextUnit() * total);
  for (let j = 0; j < k; j++) if (r < cum[j]!) return order[j]!;
  return order[k - 1]!;
}
