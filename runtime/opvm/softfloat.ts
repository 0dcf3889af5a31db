/**
 * IEEE 754 binary32 in integer arithmetic only (docs/opvm.md §4, f32 and conversions): every value is
 * a bit pattern held as an unsigned 32-bit `number` (0 … 2^32 − 1); 64-bit integers and the few
 * products/quotients wider than 32 bits are `bigint`. No JS floating point is used anywhere (no
 * Math.fround, no typed-array reinterpretation, no arithmetic on non-integral values): this file is
 * the blueprint of the Solidity verifier's float code, where every step is a shift, a mask, a
 * leading-zero count or a sticky bit on a 256-bit word.
 *
 * Rules (the OPVM's, WebAssembly's with NaN canonicalised): round to nearest, ties to even; subnormals
 * kept (no flush to zero); every NaN *result* of an arithmetic operation is 0x7FC00000; ABS, NEG and
 * COPYSIGN are pure bit operations.
 *
 * The structure follows the classic integer soft-float design (as in Berkeley SoftFloat 3): operands are
 * unpacked into sign / biased exponent / significand, the exact result is formed in a wider significand
 * whose lowest bits are round bits, and `roundPack` rounds once. Its convention, used by every caller:
 *
 *     roundPack(sign, exp, sig)  represents  (−1)^sign × sig × 2^(exp − 156)
 *
 * with `sig` < 2^31 normally having its leading 1 at bit 30 and 7 round bits (bits 6 … 0, sticky in
 * bit 0). The packed result is (sign << 31) + (exp << 23) + (sig >> 7): an *addition*, so the leading
 * 1 of the significand (bit 23 after the shift) adds one to the exponent field (exp is the biased
 * exponent minus one), and a rounding carry out of the significand propagates into the exponent.
 */

/** The canonical quiet NaN: the result of every arithmetic operation that yields NaN. */
export const F32_NAN = 0x7fc00000;
export const F32_SIGN = 0x80000000;
export const F32_POS_INF = 0x7f800000;
export const F32_NEG_INF = 0xff800000;

const MASK64 = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------------------------------
// Field access and packing

/** Biased exponent field (0 … 255). */
function expOf(a: number): number {
  return (a >>> 23) & 0xff;
}
/** Fraction field (23 bits, without the hidden bit). */
function fracOf(a: number): number {
  return a & 0x7fffff;
}
function signOf(a: number): number {
  return a >>> 31;
}

/** True when the bit pattern is a NaN (exponent all ones, fraction non-zero). */
export function f32IsNaN(a: number): boolean {
  return (a & 0x7fffffff) > 0x7f800000;
}

/** (sign << 31) + (exp << 23) + sig as u32; see the file comment for why this is an addition. */
function pack(sign: number, exp: number, sig: number): number {
  return ((sign << 31) + (exp << 23) + sig) >>> 0;
}

/**
 * a >> dist with every bit shifted out ORed into bit 0 ("jamming": the sticky bit that keeps a rounding
 * decision exact). a is a u32 number, dist ≥ 0.
 */
function shiftRightJam32(a: number, dist: number): number {
  if (dist === 0) return a;
  if (dist >= 31) return a !== 0 ? 1 : 0;
  const lost = (a << (32 - dist)) !== 0 ? 1 : 0; // low `dist` bits of a, moved to the top
  return ((a >>> dist) | lost) >>> 0;
}

/**
 * Round (nearest, ties to even) and pack (−1)^sign × sig × 2^(exp − 156), sig < 2^31 with its leading 1
 * at bit 30 (or below only when the caller has already made exp = 0 for a subnormal).
 */
function roundPack(sign: number, exp: number, sig: number): number {
  let roundBits = sig & 0x7f;
  if (exp < 0 || exp >= 0xfd) {
    if (exp < 0) {
      // Tiny: denormalise to exponent 0, keeping the shifted-out bits sticky, then round once.
      sig = shiftRightJam32(sig, -exp);
      exp = 0;
      roundBits = sig & 0x7f;
    } else if (exp > 0xfd || sig + 0x40 >= 0x80000000) {
      // Too large, or rounding up would carry into exponent 0xFF: overflow rounds to ±infinity.
      return pack(sign, 0xff, 0);
    }
  }
  sig = (sig + 0x40) >>> 7; // add half an ulp and drop the 7 round bits
  if (roundBits === 0x40) sig &= ~1; // exactly half way: round to the even neighbour
  if (sig === 0) exp = 0;
  return pack(sign, exp, sig);
}

/** Normalise sig (leading 1 to bit 30, adjusting exp) and round-pack; sig < 2^31. */
function normRoundPack(sign: number, exp: number, sig: number): number {
  const shift = Math.clz32(sig) - 1;
  exp -= shift;
  if (shift >= 7 && exp >= 0 && exp < 0xfd) {
    // At least 7 leading zeros: the value is exact in 24 bits, no rounding needed.
    return pack(sign, sig !== 0 ? exp : 0, (sig << (shift - 7)) >>> 0);
  }
  return roundPack(sign, exp, (sig << shift) >>> 0);
}

/** A subnormal's fraction (non-zero) normalised: leading 1 at bit 23, and the matching exponent (≤ 0). */
function normSubnormal(frac: number): { exp: number; sig: number } {
  const shift = Math.clz32(frac) - 8;
  return { exp: 1 - shift, sig: frac << shift };
}

// ---------------------------------------------------------------------------------------------------
// Bit operations (no canonicalisation)

export function f32Abs(a: number): number {
  return (a & 0x7fffffff) >>> 0;
}
export function f32Neg(a: number): number {
  return (a ^ F32_SIGN) >>> 0;
}
export function f32Copysign(a: number, b: number): number {
  return ((a & 0x7fffffff) | (b & F32_SIGN)) >>> 0;
}

// ---------------------------------------------------------------------------------------------------
// Addition and subtraction

/** |a| + |b| with the result's sign `sign` (a and b have equal signs). */
function addMags(a: number, b: number, sign: number): number {
  const expA = expOf(a);
  const expB = expOf(b);
  let sigA = fracOf(a);
  let sigB = fracOf(b);
  const expDiff = expA - expB;
  let expZ: number;
  let sigZ: number;
  if (expDiff === 0) {
    // Both subnormal: the fractions add exactly; a carry into bit 23 becomes the smallest normal exponent.
    if (expA === 0) return (a + sigB) >>> 0;
    if (expA === 0xff) return (sigA | sigB) !== 0 ? F32_NAN : a; // NaN, or inf + inf of one sign
    // Same exponent: two hidden bits give 2^24; the sum has one more integer bit.
    expZ = expA;
    sigZ = 0x01000000 + sigA + sigB;
    if ((sigZ & 1) === 0 && expZ < 0xfe) return pack(sign, expZ, sigZ >>> 1); // exact, no rounding
    sigZ <<= 6; // leading 1 to bit 30
  } else {
    // Hidden bit at bit 29 (6 extra low bits for rounding); the smaller operand is shifted right, jammed.
    sigA <<= 6;
    sigB <<= 6;
    if (expDiff < 0) {
      if (expB === 0xff) return sigB !== 0 ? F32_NAN : pack(sign, 0xff, 0);
      expZ = expB;
      // A subnormal has no hidden bit and the exponent of 1, not 0: doubling its fraction accounts for that.
      sigA += expA !== 0 ? 0x20000000 : sigA;
      sigA = shiftRightJam32(sigA, -expDiff);
    } else {
      if (expA === 0xff) return sigA !== 0 ? F32_NAN : a;
      expZ = expA;
      sigB += expB !== 0 ? 0x20000000 : sigB;
      sigB = shiftRightJam32(sigB, expDiff);
    }
    sigZ = 0x20000000 + sigA + sigB; // the larger operand's hidden bit plus both fractions
    if (sigZ < 0x40000000) {
      // No carry: move the leading 1 from bit 29 to bit 30.
      expZ -= 1;
      sigZ <<= 1;
    }
  }
  return roundPack(sign, expZ, sigZ);
}

/** a + b where a and b have different signs: sign(a) × (|a| − |b|). */
function subMags(a: number, b: number): number {
  let expA = expOf(a);
  const expB = expOf(b);
  let sigA = fracOf(a);
  let sigB = fracOf(b);
  const expDiff = expA - expB;
  let sign = signOf(a);
  if (expDiff === 0) {
    if (expA === 0xff) return F32_NAN; // inf − inf, or a NaN operand
    // Same exponent: the hidden bits cancel and the difference of the fractions is exact.
    let sigDiff = sigA - sigB;
    if (sigDiff === 0) return 0; // exact zero is +0 in round-to-nearest
    if (expA !== 0) expA -= 1;
    if (sigDiff < 0) {
      sign ^= 1;
      sigDiff = -sigDiff;
    }
    // Normalise (leading 1 to bit 23), but never below the subnormal exponent.
    let shift = Math.clz32(sigDiff) - 8;
    let expZ = expA - shift;
    if (expZ < 0) {
      shift = expA;
      expZ = 0;
    }
    return pack(sign, expZ, sigDiff << shift);
  }
  // Different exponents: hidden bit at 30, 7 round bits; the smaller magnitude is shifted right, jammed.
  sigA <<= 7;
  sigB <<= 7;
  let expZ: number;
  let sigX: number;
  let sigY: number;
  let dist: number;
  if (expDiff < 0) {
    sign ^= 1; // |b| is larger: the result takes b's sign
    if (expB === 0xff) return sigB !== 0 ? F32_NAN : pack(sign, 0xff, 0);
    expZ = expB - 1;
    sigX = sigB | 0x40000000;
    sigY = sigA + (expA !== 0 ? 0x40000000 : sigA);
    dist = -expDiff;
  } else {
    if (expA === 0xff) return sigA !== 0 ? F32_NAN : a;
    expZ = expA - 1;
    sigX = sigA | 0x40000000;
    sigY = sigB + (expB !== 0 ? 0x40000000 : sigB);
    dist = expDiff;
  }
  // The difference may lose leading bits (cancellation): normalise before rounding.
  return normRoundPack(sign, expZ, sigX - shiftRightJam32(sigY, dist));
}

export function f32Add(a: number, b: number): number {
  return signOf(a) === signOf(b) ? addMags(a, b, signOf(a)) : subMags(a, b);
}

/** a − b = a + (−b); a NaN operand gives the canonical NaN either way. */
export function f32Sub(a: number, b: number): number {
  return f32Add(a, f32Neg(b));
}

// ---------------------------------------------------------------------------------------------------
// Multiplication, division, square root

export function f32Mul(a: number, b: number): number {
  const sign = signOf(a) ^ signOf(b);
  let expA = expOf(a);
  let expB = expOf(b);
  let sigA = fracOf(a);
  let sigB = fracOf(b);
  if (expA === 0xff) {
    if (sigA !== 0 || (expB === 0xff && sigB !== 0)) return F32_NAN;
    return (expB | sigB) === 0 ? F32_NAN : pack(sign, 0xff, 0); // inf × 0 is NaN
  }
  if (expB === 0xff) {
    if (sigB !== 0) return F32_NAN;
    return (expA | sigA) === 0 ? F32_NAN : pack(sign, 0xff, 0);
  }
  if (expA === 0) {
    if (sigA === 0) return pack(sign, 0, 0);
    ({ exp: expA, sig: sigA } = normSubnormal(sigA));
  }
  if (expB === 0) {
    if (sigB === 0) return pack(sign, 0, 0);
    ({ exp: expB, sig: sigB } = normSubnormal(sigB));
  }
  let expZ = expA + expB - 0x7f;
  // 24-bit × 24-bit significands: the product has 47 or 48 bits. It is formed exactly (one EVM word
  // in Solidity, a bigint here) and its low 17 bits are jammed, leaving 31 bits with 7 round bits.
  const prod = BigInt((sigA | 0x800000) >>> 0) * BigInt((sigB | 0x800000) >>> 0);
  let sigZ = Number(prod >> 17n) | ((prod & 0x1ffffn) !== 0n ? 1 : 0);
  if (sigZ < 0x40000000) {
    expZ -= 1;
    sigZ <<= 1;
  }
  return roundPack(sign, expZ, sigZ >>> 0);
}

export function f32Div(a: number, b: number): number {
  const sign = signOf(a) ^ signOf(b);
  let expA = expOf(a);
  let expB = expOf(b);
  let sigA = fracOf(a);
  let sigB = fracOf(b);
  if (expA === 0xff) {
    if (sigA !== 0 || expB === 0xff) return F32_NAN; // NaN, inf / inf, inf / NaN
    return pack(sign, 0xff, 0);
  }
  if (expB === 0xff) return sigB !== 0 ? F32_NAN : pack(sign, 0, 0); // finite / inf = ±0
  if (expB === 0) {
    if (sigB === 0) return (expA | sigA) === 0 ? F32_NAN : pack(sign, 0xff, 0); // 0/0 NaN, x/0 inf
    ({ exp: expB, sig: sigB } = normSubnormal(sigB));
  }
  if (expA === 0) {
    if (sigA === 0) return pack(sign, 0, 0);
    ({ exp: expA, sig: sigA } = normSubnormal(sigA));
  }
  let expZ = expA - expB + 0x7e;
  sigA |= 0x800000;
  sigB |= 0x800000;
  // Scale the dividend so the quotient has its leading 1 at bit 30 (31 bits: 24 + 7 round bits);
  // the remainder is the sticky bit.
  let num: bigint;
  if (sigA < sigB) {
    expZ -= 1;
    num = BigInt(sigA) << 31n;
  } else {
    num = BigInt(sigA) << 30n;
  }
  const den = BigInt(sigB);
  const q = Number(num / den);
  const sticky = num % den !== 0n ? 1 : 0;
  return roundPack(sign, expZ, (q | sticky) >>> 0);
}

/** floor(sqrt(n)) and n − floor(sqrt(n))² by the bit-by-bit (restoring) method; n < 2^62. */
function isqrt62(n: bigint): { root: bigint; rem: bigint } {
  let root = 0n;
  let bit = 1n << 60n; // the highest power of four ≤ 2^62
  let rem = n;
  while (bit > rem) bit >>= 2n;
  while (bit !== 0n) {
    if (rem >= root + bit) {
      rem -= root + bit;
      root = (root >> 1n) + bit;
    } else {
      root >>= 1n;
    }
    bit >>= 2n;
  }
  return { root, rem };
}

export function f32Sqrt(a: number): number {
  const sign = signOf(a);
  let exp = expOf(a);
  let sig = fracOf(a);
  if (exp === 0xff) {
    if (sig !== 0) return F32_NAN;
    return sign === 0 ? a : F32_NAN; // sqrt(+inf) = +inf, sqrt(−inf) = NaN
  }
  if (sign !== 0) return (exp | sig) === 0 ? a : F32_NAN; // sqrt(−0) = −0; negative → NaN
  if (exp === 0) {
    if (sig === 0) return a; // +0
    ({ exp, sig } = normSubnormal(sig));
  }
  // a = sig24 × 2^(e − 23) with e the unbiased exponent; make e even so it halves exactly.
  let e = exp - 0x7f;
  let m = sig | 0x800000; // [2^23, 2^24)
  if ((e & 1) !== 0) {
    m <<= 1; // [2^24, 2^25)
    e -= 1;
  }
  // n = m × 2^37 ∈ [2^60, 2^62): its root has 31 bits (leading 1 at bit 30, 7 round bits);
  // a non-zero remainder is the sticky bit (the root is then irrational, never a tie).
  const n = BigInt(m) << 37n;
  const { root, rem } = isqrt62(n);
  const sigZ = Number(root) | (rem !== 0n ? 1 : 0);
  // sqrt(a) = root × 2^((e − 60) / 2), i.e. exp − 156 = (e − 60) / 2.
  return roundPack(0, (e >> 1) + 126, sigZ >>> 0);
}

// ---------------------------------------------------------------------------------------------------
// Comparisons, min and max

/** A signed integer ordered as the float value (−0 and +0 both 0); only for non-NaN operands. */
function orderKey(a: number): number {
  const mag = a & 0x7fffffff;
  return signOf(a) !== 0 ? -mag : mag;
}

export function f32Eq(a: number, b: number): boolean {
  if (f32IsNaN(a) || f32IsNaN(b)) return false;
  return orderKey(a) === orderKey(b);
}
export function f32Ne(a: number, b: number): boolean {
  return !f32Eq(a, b);
}
export function f32Lt(a: number, b: number): boolean {
  if (f32IsNaN(a) || f32IsNaN(b)) return false;
  return orderKey(a) < orderKey(b);
}
export function f32Le(a: number, b: number): boolean {
  if (f32IsNaN(a) || f32IsNaN(b)) return false;
  return orderKey(a) <= orderKey(b);
}
export function f32Gt(a: number, b: number): boolean {
  return f32Lt(b, a);
}
export function f32Ge(a: number, b: number): boolean {
  return f32Le(b, a);
}

/** NaN if either operand is NaN; for equal keys (±0 pairs, identical values) a | b makes min(−0, +0) = −0. */
export function f32Min(a: number, b: number): number {
  if (f32IsNaN(a) || f32IsNaN(b)) return F32_NAN;
  const ka = orderKey(a);
  const kb = orderKey(b);
  if (ka === kb) return (a | b) >>> 0;
  return ka < kb ? a : b;
}

/** NaN if either operand is NaN; for equal keys a & b makes max(−0, +0) = +0. */
export function f32Max(a: number, b: number): number {
  if (f32IsNaN(a) || f32IsNaN(b)) return F32_NAN;
  const ka = orderKey(a);
  const kb = orderKey(b);
  if (ka === kb) return (a & b) >>> 0;
  return ka > kb ? a : b;
}

// ---------------------------------------------------------------------------------------------------
// Rounding to an integral value

type RoundMode = 'ceil' | 'floor' | 'trunc' | 'nearest';

function roundToInt(a: number, mode: RoundMode): number {
  const exp = expOf(a);
  const sign = signOf(a);
  if (exp <= 0x7e) {
    // |a| < 1 (including zeros and subnormals): the result is ±0 or ±1, sign kept.
    if ((a & 0x7fffffff) === 0) return a;
    const zero = sign !== 0 ? F32_SIGN : 0;
    const one = (zero | 0x3f800000) >>> 0;
    switch (mode) {
      case 'nearest': return exp === 0x7e && fracOf(a) !== 0 ? one : zero; // (0.5, 1) → 1; 0.5 ties to 0
      case 'floor': return sign !== 0 ? one : zero; // −1 for negatives, +0 for positives
      case 'ceil': return sign !== 0 ? zero : one; // −0 for negatives, +1 for positives
      case 'trunc': return zero;
    }
  }
  if (exp >= 0x96) {
    // |a| ≥ 2^23: already integral (or infinite, or NaN).
    return exp === 0xff && fracOf(a) !== 0 ? F32_NAN : a;
  }
  // 1 ≤ |a| < 2^23: the fraction bits below `lastBit` are the fractional part. Rounding operates on the
  // bit pattern; a carry out of the fraction bumps the exponent, which is the correct result.
  const lastBit = 1 << (0x96 - exp);
  const roundMask = lastBit - 1;
  let z = a;
  if (mode === 'nearest') {
    z += lastBit >>> 1;
    if ((z & roundMask) === 0) z &= ~lastBit; // it was exactly half: clear the odd bit (ties to even)
  } else if ((mode === 'floor' && sign !== 0) || (mode === 'ceil' && sign === 0)) {
    z += roundMask; // away from zero for any non-zero fraction
  }
  return (z & ~roundMask) >>> 0;
}

export function f32Ceil(a: number): number {
  return roundToInt(a, 'ceil');
}
export function f32Floor(a: number): number {
  return roundToInt(a, 'floor');
}
export function f32Trunc(a: number): number {
  return roundToInt(a, 'trunc');
}
export function f32Nearest(a: number): number {
  return roundToInt(a, 'nearest');
}

// ---------------------------------------------------------------------------------------------------
// Float → integer, truncating and saturating (WebAssembly's trunc_sat)

/** Truncated magnitude of a finite |a| < 2^(bits) as a bigint (a's exponent ≥ 0x7F). */
function truncMagnitude(a: number): bigint {
  const m = BigInt((fracOf(a) | 0x800000) >>> 0);
  const shift = expOf(a) - 150; // a = m × 2^shift
  return shift >= 0 ? m << BigInt(shift) : m >> BigInt(-shift);
}

/** i32.trunc_sat_f32_s: result as u32 bits. */
export function f32ToI32Sat(a: number): number {
  const exp = expOf(a);
  if (exp === 0xff && fracOf(a) !== 0) return 0; // NaN
  if (exp < 0x7f) return 0; // |a| < 1
  if (exp >= 0x7f + 31) return signOf(a) !== 0 ? 0x80000000 : 0x7fffffff; // |a| ≥ 2^31 (or inf)
  const mag = Number(truncMagnitude(a)); // < 2^31
  return signOf(a) !== 0 ? (-mag) >>> 0 : mag;
}

/** i32.trunc_sat_f32_u: result as u32 bits. */
export function f32ToU32Sat(a: number): number {
  const exp = expOf(a);
  if (exp === 0xff && fracOf(a) !== 0) return 0;
  if (signOf(a) !== 0 || exp < 0x7f) return 0; // negatives (truncated or saturated) and |a| < 1
  if (exp >= 0x7f + 32) return 0xffffffff;
  return Number(truncMagnitude(a));
}

/** i64.trunc_sat_f32_s: result as u64 bits. */
export function f32ToI64Sat(a: number): bigint {
  const exp = expOf(a);
  if (exp === 0xff && fracOf(a) !== 0) return 0n;
  if (exp < 0x7f) return 0n;
  if (exp >= 0x7f + 63) return signOf(a) !== 0 ? 1n << 63n : (1n << 63n) - 1n;
  const mag = truncMagnitude(a);
  return signOf(a) !== 0 ? (-mag) & MASK64 : mag;
}

/** i64.trunc_sat_f32_u: result as u64 bits. */
export function f32ToU64Sat(a: number): bigint {
  const exp = expOf(a);
  if (exp === 0xff && fracOf(a) !== 0) return 0n;
  if (signOf(a) !== 0 || exp < 0x7f) return 0n;
  if (exp >= 0x7f + 64) return MASK64;
  return truncMagnitude(a);
}

// ---------------------------------------------------------------------------------------------------
// Integer → float, rounded once

/** (−1)^sign × mag rounded to binary32, mag a u32 number. */
function fromU32(sign: number, mag: number): number {
  if (mag === 0) return 0; // integer zero converts to +0
  const lz = Math.clz32(mag);
  // Leading 1 to bit 30: mag × 2^(lz − 1), or for a 32-bit mag a right shift by one with bit 0 jammed.
  // In both cases exp − 156 = 1 − lz.
  const sig = lz >= 1 ? (mag << (lz - 1)) >>> 0 : (mag >>> 1) | (mag & 1);
  return roundPack(sign, 157 - lz, sig);
}

/** (−1)^sign × mag rounded once to binary32, mag < 2^64. */
function fromU64(sign: number, mag: bigint): number {
  const hi = Number(mag >> 32n);
  if (hi === 0) return fromU32(sign, Number(mag));
  const bits = 64 - Math.clz32(hi); // 33 … 64 significant bits
  // Keep the top 31 bits (leading 1 at bit 30), jam the rest: mag ≈ sig × 2^(bits − 31).
  const dist = BigInt(bits - 31);
  const sticky = (mag & ((1n << dist) - 1n)) !== 0n ? 1 : 0;
  const sig = Number(mag >> dist) | sticky;
  return roundPack(sign, bits + 125, sig >>> 0);
}

/** f32.convert_i32_s of the u32 bit pattern a. */
export function i32ToF32(a: number): number {
  const sign = a >>> 31;
  return fromU32(sign, sign !== 0 ? (-a) >>> 0 : a >>> 0); // |−2^31| = 2^31 fits a u32
}
/** f32.convert_i32_u. */
export function u32ToF32(a: number): number {
  return fromU32(0, a >>> 0);
}
/** f32.convert_i64_s of the u64 bit pattern a. */
export function i64ToF32(a: bigint): number {
  const sign = Number((a >> 63n) & 1n);
  return fromU64(sign, sign !== 0 ? (-a) & MASK64 : a & MASK64); // |−2^63| = 2^63 fits a u64
}
/** f32.convert_i64_u. */
export function u64ToF32(a: bigint): number {
  return fromU64(0, a & MASK64);
}
