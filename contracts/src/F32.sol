// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title F32 — IEEE 754 binary32 in integer arithmetic (docs/opvm.md §4, f32 and conversions)
 * @notice A line-for-line port of runtime/opvm/softfloat.ts: every value is a bit pattern in the low 32
 * bits of a uint256, 64-bit integers in the low 64 bits. Round to nearest, ties to even; subnormals kept;
 * every NaN result of an arithmetic operation is the canonical NaN 0x7FC00000; ABS, NEG and COPYSIGN are
 * pure bit operations.
 *
 * The soft-float convention (from softfloat.ts): `_roundPack(sign, exp, sig)` represents
 * (−1)^sign × sig × 2^(exp − 156) with sig < 2^31 normally having its leading 1 at bit 30 and 7 round bits
 * (sticky in bit 0); the packed result is (sign << 31) + (exp << 23) + (sig >> 7), an addition, so the
 * leading 1 adds one to the exponent field and a rounding carry propagates into the exponent.
 *
 * Exponents that may go negative are int256; everything else is uint256. All arithmetic is unchecked:
 * every intermediate is bounded as in softfloat.ts (comments there give the bounds).
 */
library F32 {
    uint256 internal constant NAN = 0x7fc00000;
    uint256 internal constant SIGN = 0x80000000;
    uint256 internal constant POS_INF = 0x7f800000;
    uint256 private constant M32 = 0xffffffff;
    uint256 private constant M64 = 0xffffffffffffffff;

    // -----------------------------------------------------------------------------------------------
    // Field access and packing

    function _exp(uint256 a) private pure returns (uint256) {
        return (a >> 23) & 0xff;
    }

    function _frac(uint256 a) private pure returns (uint256) {
        return a & 0x7fffff;
    }

    function _sign(uint256 a) private pure returns (uint256) {
        return (a >> 31) & 1;
    }

    function isNaN(uint256 a) internal pure returns (bool) {
        return (a & 0x7fffffff) > 0x7f800000;
    }

    /// (sign << 31) + (exp << 23) + sig as u32; exp ≥ 0 at every call.
    function _pack(uint256 sign, uint256 exp, uint256 sig) private pure returns (uint256) {
        unchecked {
            return ((sign << 31) + (exp << 23) + sig) & M32;
        }
    }

    /// Number of significant bits of x (0 for 0); x < 2^64.
    function bitLength(uint256 x) internal pure returns (uint256 r) {
        unchecked {
            if (x >> 32 != 0) { x >>= 32; r = 32; }
            if (x >> 16 != 0) { x >>= 16; r += 16; }
            if (x >> 8 != 0) { x >>= 8; r += 8; }
            if (x >> 4 != 0) { x >>= 4; r += 4; }
            if (x >> 2 != 0) { x >>= 2; r += 2; }
            if (x >> 1 != 0) { x >>= 1; r += 1; }
            r += x;
        }
    }

    /// Math.clz32 of a u32 (32 for 0).
    function _clz32(uint256 x) private pure returns (uint256) {
        unchecked {
            return 32 - bitLength(x);
        }
    }

    /// a >> dist with every bit shifted out ORed into bit 0; a < 2^32.
    function _shiftRightJam32(uint256 a, uint256 dist) private pure returns (uint256) {
        unchecked {
            if (dist == 0) return a;
            if (dist >= 31) return a != 0 ? 1 : 0;
            uint256 lost = (a & ((1 << dist) - 1)) != 0 ? 1 : 0;
            return (a >> dist) | lost;
        }
    }

    /// Round (nearest, ties to even) and pack (−1)^sign × sig × 2^(exp − 156).
    function _roundPack(uint256 sign, int256 exp, uint256 sig) private pure returns (uint256) {
        unchecked {
            uint256 roundBits = sig & 0x7f;
            if (exp < 0 || exp >= 0xfd) {
                if (exp < 0) {
                    // Tiny: denormalise to exponent 0, keeping the shifted-out bits sticky, then round once.
                    sig = _shiftRightJam32(sig, uint256(-exp));
                    exp = 0;
                    roundBits = sig & 0x7f;
                } else if (exp > 0xfd || sig + 0x40 >= 0x80000000) {
                    return _pack(sign, 0xff, 0); // overflow rounds to ±infinity
                }
            }
            sig = (sig + 0x40) >> 7;
            if (roundBits == 0x40) sig &= ~uint256(1); // exactly half way: ties to even
            if (sig == 0) exp = 0;
            return _pack(sign, uint256(exp), sig);
        }
    }

    /// Normalise sig (leading 1 to bit 30, adjusting exp) and round-pack; sig < 2^31.
    function _normRoundPack(uint256 sign, int256 exp, uint256 sig) private pure returns (uint256) {
        unchecked {
            uint256 shift = _clz32(sig) - 1;
            exp -= int256(shift);
            if (shift >= 7 && exp >= 0 && exp < 0xfd) {
                return _pack(sign, sig != 0 ? uint256(exp) : 0, (sig << (shift - 7)) & M32);
            }
            return _roundPack(sign, exp, (sig << shift) & M32);
        }
    }

    /// A subnormal's fraction (non-zero) normalised: leading 1 at bit 23, and the matching exponent (≤ 0).
    function _normSubnormal(uint256 frac) private pure returns (int256 exp, uint256 sig) {
        unchecked {
            uint256 shift = _clz32(frac) - 8;
            exp = 1 - int256(shift);
            sig = frac << shift;
        }
    }

    // -----------------------------------------------------------------------------------------------
    // Bit operations (no canonicalisation)

    function abs(uint256 a) internal pure returns (uint256) {
        return a & 0x7fffffff;
    }

    function neg(uint256 a) internal pure returns (uint256) {
        return (a ^ SIGN) & M32;
    }

    function copysign(uint256 a, uint256 b) internal pure returns (uint256) {
        return (a & 0x7fffffff) | (b & SIGN);
    }

    // -----------------------------------------------------------------------------------------------
    // Addition and subtraction

    /// |a| + |b| with the result's sign `sign` (a and b have equal signs).
    function _addMags(uint256 a, uint256 b, uint256 sign) private pure returns (uint256) {
        unchecked {
            uint256 expA = _exp(a);
            uint256 expB = _exp(b);
            uint256 sigA = _frac(a);
            uint256 sigB = _frac(b);
            int256 expZ;
            uint256 sigZ;
            if (expA == expB) {
                // Both subnormal: the fractions add exactly; a carry into bit 23 becomes the smallest normal.
                if (expA == 0) return (a + sigB) & M32;
                if (expA == 0xff) return (sigA | sigB) != 0 ? NAN : a;
                expZ = int256(expA);
                sigZ = 0x01000000 + sigA + sigB;
                if ((sigZ & 1) == 0 && expA < 0xfe) return _pack(sign, expA, sigZ >> 1); // exact
                sigZ <<= 6;
            } else {
                sigA <<= 6;
                sigB <<= 6;
                if (expA < expB) {
                    if (expB == 0xff) return sigB != 0 ? NAN : _pack(sign, 0xff, 0);
                    expZ = int256(expB);
                    sigA += expA != 0 ? 0x20000000 : sigA;
                    sigA = _shiftRightJam32(sigA, expB - expA);
                } else {
                    if (expA == 0xff) return sigA != 0 ? NAN : a;
                    expZ = int256(expA);
                    sigB += expB != 0 ? 0x20000000 : sigB;
                    sigB = _shiftRightJam32(sigB, expA - expB);
                }
                sigZ = 0x20000000 + sigA + sigB;
                if (sigZ < 0x40000000) {
                    expZ -= 1;
                    sigZ <<= 1;
                }
            }
            return _roundPack(sign, expZ, sigZ);
        }
    }

    /// a + b where a and b have different signs: sign(a) × (|a| − |b|).
    function _subMags(uint256 a, uint256 b) private pure returns (uint256) {
        unchecked {
            uint256 expA = _exp(a);
            uint256 expB = _exp(b);
            uint256 sigA = _frac(a);
            uint256 sigB = _frac(b);
            uint256 sign = _sign(a);
            if (expA == expB) {
                if (expA == 0xff) return NAN; // inf − inf, or a NaN operand
                if (sigA == sigB) return 0; // exact zero is +0 in round-to-nearest
                uint256 sigDiff;
                if (sigA < sigB) {
                    sign ^= 1;
                    sigDiff = sigB - sigA;
                } else {
                    sigDiff = sigA - sigB;
                }
                uint256 e = expA != 0 ? expA - 1 : 0;
                // Normalise (leading 1 to bit 23), but never below the subnormal exponent.
                uint256 shift = _clz32(sigDiff) - 8;
                uint256 ez;
                if (shift > e) {
                    shift = e;
                    ez = 0;
                } else {
                    ez = e - shift;
                }
                return _pack(sign, ez, sigDiff << shift);
            }
            // Different exponents: hidden bit at 30, 7 round bits; the smaller magnitude shifted right, jammed.
            sigA <<= 7;
            sigB <<= 7;
            int256 expZ;
            uint256 sigX;
            uint256 sigY;
            uint256 dist;
            if (expA < expB) {
                sign ^= 1; // |b| is larger: the result takes b's sign
                if (expB == 0xff) return sigB != 0 ? NAN : _pack(sign, 0xff, 0);
                expZ = int256(expB) - 1;
                sigX = sigB | 0x40000000;
                sigY = sigA + (expA != 0 ? 0x40000000 : sigA);
                dist = expB - expA;
            } else {
                if (expA == 0xff) return sigA != 0 ? NAN : a;
                expZ = int256(expA) - 1;
                sigX = sigA | 0x40000000;
                sigY = sigB + (expB != 0 ? 0x40000000 : sigB);
                dist = expA - expB;
            }
            return _normRoundPack(sign, expZ, sigX - _shiftRightJam32(sigY, dist));
        }
    }

    function add(uint256 a, uint256 b) internal pure returns (uint256) {
        return _sign(a) == _sign(b) ? _addMags(a, b, _sign(a)) : _subMags(a, b);
    }

    function sub(uint256 a, uint256 b) internal pure returns (uint256) {
        return add(a, neg(b));
    }

    // -----------------------------------------------------------------------------------------------
    // Multiplication, division, square root

    function mul(uint256 a, uint256 b) internal pure returns (uint256) {
        unchecked {
            uint256 sign = _sign(a) ^ _sign(b);
            uint256 ea = _exp(a);
            uint256 eb = _exp(b);
            uint256 sigA = _frac(a);
            uint256 sigB = _frac(b);
            if (ea == 0xff) {
                if (sigA != 0 || (eb == 0xff && sigB != 0)) return NAN;
                return (eb | sigB) == 0 ? NAN : _pack(sign, 0xff, 0); // inf × 0 is NaN
            }
            if (eb == 0xff) {
                if (sigB != 0) return NAN;
                return (ea | sigA) == 0 ? NAN : _pack(sign, 0xff, 0);
            }
            int256 expA = int256(ea);
            int256 expB = int256(eb);
            if (ea == 0) {
                if (sigA == 0) return _pack(sign, 0, 0);
                (expA, sigA) = _normSubnormal(sigA);
            }
            if (eb == 0) {
                if (sigB == 0) return _pack(sign, 0, 0);
                (expB, sigB) = _normSubnormal(sigB);
            }
            int256 expZ = expA + expB - 0x7f;
            // 24 × 24-bit significands: the exact 47- or 48-bit product; its low 17 bits are jammed.
            uint256 prod = (sigA | 0x800000) * (sigB | 0x800000);
            uint256 sigZ = (prod >> 17) | ((prod & 0x1ffff) != 0 ? 1 : 0);
            if (sigZ < 0x40000000) {
                expZ -= 1;
                sigZ <<= 1;
            }
            return _roundPack(sign, expZ, sigZ);
        }
    }

    function div(uint256 a, uint256 b) internal pure returns (uint256) {
        unchecked {
            uint256 sign = _sign(a) ^ _sign(b);
            uint256 ea = _exp(a);
            uint256 eb = _exp(b);
            uint256 sigA = _frac(a);
            uint256 sigB = _frac(b);
            if (ea == 0xff) {
                if (sigA != 0 || eb == 0xff) return NAN; // NaN, inf / inf, inf / NaN
                return _pack(sign, 0xff, 0);
            }
            if (eb == 0xff) return sigB != 0 ? NAN : _pack(sign, 0, 0); // finite / inf = ±0
            int256 expA = int256(ea);
            int256 expB = int256(eb);
            if (eb == 0) {
                if (sigB == 0) return (ea | sigA) == 0 ? NAN : _pack(sign, 0xff, 0); // 0/0 NaN, x/0 inf
                (expB, sigB) = _normSubnormal(sigB);
            }
            if (ea == 0) {
                if (sigA == 0) return _pack(sign, 0, 0);
                (expA, sigA) = _normSubnormal(sigA);
            }
            int256 expZ = expA - expB + 0x7e;
            sigA |= 0x800000;
            sigB |= 0x800000;
            // Scale the dividend so the quotient has its leading 1 at bit 30; the remainder is the sticky bit.
            uint256 num;
            if (sigA < sigB) {
                expZ -= 1;
                num = sigA << 31;
            } else {
                num = sigA << 30;
            }
            uint256 q = num / sigB;
            uint256 sticky = num % sigB != 0 ? 1 : 0;
            return _roundPack(sign, expZ, q | sticky);
        }
    }

    /// floor(sqrt(n)) for 2^60 ≤ n < 2^62 by Newton's iteration from 2^31 (≥ the root; the iterates
    /// decrease strictly until the floor root). softfloat.ts uses the bit-by-bit method: the same function.
    function isqrt62(uint256 n) internal pure returns (uint256 x) {
        unchecked {
            x = 1 << 31;
            uint256 y = (x + n / x) >> 1;
            while (y < x) {
                x = y;
                y = (x + n / x) >> 1;
            }
        }
    }

    function sqrt(uint256 a) internal pure returns (uint256) {
        unchecked {
            uint256 sign = _sign(a);
            uint256 ea = _exp(a);
            uint256 sig = _frac(a);
            if (ea == 0xff) {
                if (sig != 0) return NAN;
                return sign == 0 ? a : NAN; // sqrt(+inf) = +inf, sqrt(−inf) = NaN
            }
            if (sign != 0) return (ea | sig) == 0 ? a : NAN; // sqrt(−0) = −0; negative → NaN
            int256 exp = int256(ea);
            if (ea == 0) {
                if (sig == 0) return a; // +0
                (exp, sig) = _normSubnormal(sig);
            }
            // a = m × 2^(e − 23), e the unbiased exponent, made even so that it halves exactly.
            int256 e = exp - 0x7f;
            uint256 m = sig | 0x800000;
            if ((e & 1) != 0) {
                m <<= 1;
                e -= 1;
            }
            // n = m × 2^37 ∈ [2^60, 2^62): a 31-bit root (7 round bits); a non-zero remainder is sticky.
            uint256 n = m << 37;
            uint256 root = isqrt62(n);
            uint256 sigZ = root | (n != root * root ? 1 : 0);
            return _roundPack(0, e / 2 + 126, sigZ);
        }
    }

    // -----------------------------------------------------------------------------------------------
    // Comparisons, min and max

    /// A signed integer ordered as the float value (−0 and +0 both 0); only for non-NaN operands.
    function _orderKey(uint256 a) private pure returns (int256) {
        int256 mag = int256(a & 0x7fffffff);
        return _sign(a) != 0 ? -mag : mag;
    }

    function eq(uint256 a, uint256 b) internal pure returns (bool) {
        if (isNaN(a) || isNaN(b)) return false;
        return _orderKey(a) == _orderKey(b);
    }

    function ne(uint256 a, uint256 b) internal pure returns (bool) {
        return !eq(a, b);
    }

    function lt(uint256 a, uint256 b) internal pure returns (bool) {
        if (isNaN(a) || isNaN(b)) return false;
        return _orderKey(a) < _orderKey(b);
    }

    function le(uint256 a, uint256 b) internal pure returns (bool) {
        if (isNaN(a) || isNaN(b)) return false;
        return _orderKey(a) <= _orderKey(b);
    }

    function gt(uint256 a, uint256 b) internal pure returns (bool) {
        return lt(b, a);
    }

    function ge(uint256 a, uint256 b) internal pure returns (bool) {
        return le(b, a);
    }

    /// NaN if either operand is NaN; for equal keys a | b makes min(−0, +0) = −0.
    function min(uint256 a, uint256 b) internal pure returns (uint256) {
        if (isNaN(a) || isNaN(b)) return NAN;
        int256 ka = _orderKey(a);
        int256 kb = _orderKey(b);
        if (ka == kb) return a | b;
        return ka < kb ? a : b;
    }

    /// NaN if either operand is NaN; for equal keys a & b makes max(−0, +0) = +0.
    function max(uint256 a, uint256 b) internal pure returns (uint256) {
        if (isNaN(a) || isNaN(b)) return NAN;
        int256 ka = _orderKey(a);
        int256 kb = _orderKey(b);
        if (ka == kb) return a & b;
        return ka > kb ? a : b;
    }

    // -----------------------------------------------------------------------------------------------
    // Rounding to an integral value

    uint256 internal constant CEIL = 0;
    uint256 internal constant FLOOR = 1;
    uint256 internal constant TRUNC = 2;
    uint256 internal constant NEAREST = 3;

    function roundToInt(uint256 a, uint256 mode) internal pure returns (uint256) {
        unchecked {
            uint256 exp = _exp(a);
            uint256 sign = _sign(a);
            if (exp <= 0x7e) {
                // |a| < 1 (zeros and subnormals included): the result is ±0 or ±1, sign kept.
                if ((a & 0x7fffffff) == 0) return a;
                uint256 zero = sign != 0 ? SIGN : 0;
                uint256 one = zero | 0x3f800000;
                if (mode == NEAREST) return exp == 0x7e && _frac(a) != 0 ? one : zero; // 0.5 ties to 0
                if (mode == FLOOR) return sign != 0 ? one : zero;
                if (mode == CEIL) return sign != 0 ? zero : one;
                return zero;
            }
            if (exp >= 0x96) {
                // |a| ≥ 2^23: already integral (or infinite, or NaN).
                return exp == 0xff && _frac(a) != 0 ? NAN : a;
            }
            // 1 ≤ |a| < 2^23: rounding on the bit pattern; a carry out of the fraction bumps the exponent.
            uint256 lastBit = 1 << (0x96 - exp);
            uint256 roundMask = lastBit - 1;
            uint256 z = a;
            if (mode == NEAREST) {
                z += lastBit >> 1;
                if ((z & roundMask) == 0) z &= ~lastBit; // exactly half: ties to even
            } else if ((mode == FLOOR && sign != 0) || (mode == CEIL && sign == 0)) {
                z += roundMask; // away from zero for any non-zero fraction
            }
            return z & ~roundMask & M32;
        }
    }

    // -----------------------------------------------------------------------------------------------
    // Float → integer, truncating and saturating (WebAssembly's trunc_sat)

    /// Truncated magnitude of a finite a with exponent ≥ 0x7F and |a| < 2^64.
    function _truncMagnitude(uint256 a) private pure returns (uint256) {
        unchecked {
            uint256 m = _frac(a) | 0x800000;
            uint256 exp = _exp(a); // a = m × 2^(exp − 150)
            return exp >= 150 ? m << (exp - 150) : m >> (150 - exp);
        }
    }

    function toI32Sat(uint256 a) internal pure returns (uint256) {
        unchecked {
            uint256 exp = _exp(a);
            if (exp == 0xff && _frac(a) != 0) return 0; // NaN
            if (exp < 0x7f) return 0; // |a| < 1
            if (exp >= 0x7f + 31) return _sign(a) != 0 ? 0x80000000 : 0x7fffffff;
            uint256 mag = _truncMagnitude(a);
            return _sign(a) != 0 ? (0 - mag) & M32 : mag;
        }
    }

    function toU32Sat(uint256 a) internal pure returns (uint256) {
        unchecked {
            uint256 exp = _exp(a);
            if (exp == 0xff && _frac(a) != 0) return 0;
            if (_sign(a) != 0 || exp < 0x7f) return 0;
            if (exp >= 0x7f + 32) return M32;
            return _truncMagnitude(a);
        }
    }

    function toI64Sat(uint256 a) internal pure returns (uint256) {
        unchecked {
            uint256 exp = _exp(a);
            if (exp == 0xff && _frac(a) != 0) return 0;
            if (exp < 0x7f) return 0;
            if (exp >= 0x7f + 63) return _sign(a) != 0 ? 1 << 63 : (1 << 63) - 1;
            uint256 mag = _truncMagnitude(a);
            return _sign(a) != 0 ? (0 - mag) & M64 : mag;
        }
    }

    function toU64Sat(uint256 a) internal pure returns (uint256) {
        unchecked {
            uint256 exp = _exp(a);
            if (exp == 0xff && _frac(a) != 0) return 0;
            if (_sign(a) != 0 || exp < 0x7f) return 0;
            if (exp >= 0x7f + 64) return M64;
            return _truncMagnitude(a);
        }
    }

    // -----------------------------------------------------------------------------------------------
    // Integer → float, rounded once

    /// (−1)^sign × mag rounded to binary32, mag < 2^32.
    function _fromU32(uint256 sign, uint256 mag) private pure returns (uint256) {
        unchecked {
            if (mag == 0) return 0; // integer zero converts to +0
            uint256 lz = _clz32(mag);
            // Leading 1 to bit 30; a 32-bit mag shifts right by one with bit 0 jammed. exp − 156 = 1 − lz.
            uint256 sig = lz >= 1 ? mag << (lz - 1) : (mag >> 1) | (mag & 1);
            return _roundPack(sign, 157 - int256(lz), sig);
        }
    }

    /// (−1)^sign × mag rounded once to binary32, mag < 2^64.
    function _fromU64(uint256 sign, uint256 mag) private pure returns (uint256) {
        unchecked {
            if (mag >> 32 == 0) return _fromU32(sign, mag);
            uint256 bits = bitLength(mag); // 33 … 64
            // Keep the top 31 bits (leading 1 at bit 30), jam the rest: mag ≈ sig × 2^(bits − 31).
            uint256 dist = bits - 31;
            uint256 sticky = (mag & ((1 << dist) - 1)) != 0 ? 1 : 0;
            return _roundPack(sign, int256(bits) + 125, (mag >> dist) | sticky);
        }
    }

    /// f32.convert_i32_s of the u32 bit pattern a.
    function fromI32(uint256 a) internal pure returns (uint256) {
        unchecked {
            uint256 sign = (a >> 31) & 1;
            return _fromU32(sign, sign != 0 ? (0 - a) & M32 : a & M32);
        }
    }

    function fromU32(uint256 a) internal pure returns (uint256) {
        return _fromU32(0, a & M32);
    }

    /// f32.convert_i64_s of the u64 bit pattern a.
    function fromI64(uint256 a) internal pure returns (uint256) {
        unchecked {
            uint256 sign = (a >> 63) & 1;
            return _fromU64(sign, sign != 0 ? (0 - a) & M64 : a & M64);
        }
    }

    function fromU64(uint256 a) internal pure returns (uint256) {
        return _fromU64(0, a & M64);
    }
}
