// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {F32} from "../src/F32.sol";

/**
 * F32 fuzzed against properties that need no reference implementation: correct rounding of add, sub, mul,
 * div and sqrt checked exactly with integer bounds (the result lies between the midpoints to its
 * neighbours), commutativity, identities, canonical NaN results, ordering of the comparisons, min/max,
 * rounding to integral values and conversions. (The bit-exact comparison with runtime/opvm/softfloat.ts is
 * contracts/test/opvm-anvil.test.ts; the golden vectors are test/Vectors.t.sol.)
 */
contract F32Test is Test {
    uint256 internal constant NAN = 0x7fc00000;

    function _isNaN(uint256 x) internal pure returns (bool) {
        return (x & 0x7fffffff) > 0x7f800000;
    }

    function _isInf(uint256 x) internal pure returns (bool) {
        return (x & 0x7fffffff) == 0x7f800000;
    }

    function _finite(uint256 x) internal pure returns (bool) {
        return (x & 0x7f800000) != 0x7f800000;
    }

    function _zero(uint256 x) internal pure returns (bool) {
        return x & 0x7fffffff == 0;
    }

    /// |x| = m × 2^e for a finite x.
    function _decode(uint256 x) internal pure returns (uint256 m, int256 e) {
        uint256 ex = (x >> 23) & 0xff;
        uint256 f = x & 0x7fffff;
        if (ex == 0) return (f, -149);
        return (f | 0x800000, int256(ex) - 150);
    }

    /// A × 2^p ≤ B × 2^q (exponent gaps under 200 bits).
    function _le(uint256 a, int256 p, uint256 b, int256 q) internal pure returns (bool) {
        if (p >= q) {
            uint256 d = uint256(p - q);
            require(d < 200, "exponent gap");
            return (a << d) <= b;
        }
        uint256 d2 = uint256(q - p);
        require(d2 < 200, "exponent gap");
        return a <= (b << d2);
    }

    /// Scaled midpoints of a positive finite non-zero r = m × 2^e: lo·2^(e−2) and hi·2^(e−2).
    function _mids(uint256 r) internal pure returns (uint256 lo, uint256 hi, int256 e) {
        uint256 m;
        (m, e) = _decode(r);
        // At the bottom of a binade (above the subnormals) the neighbour below is half as far.
        lo = 4 * m - (m == 0x800000 && e > -149 ? 1 : 2);
        hi = 4 * m + 2;
    }

    /// r (finite, non-zero, not the largest finite magnitude) is V = num × 2^pn / den rounded to nearest.
    function _assertRounded(uint256 r, uint256 num, int256 pn, uint256 den, string memory what) internal pure {
        (uint256 lo, uint256 hi, int256 e) = _mids(r & 0x7fffffff);
        // lo·2^(e−2) ≤ num·2^pn/den ≤ hi·2^(e−2)  ⇔  lo·den·2^e ≤ 4·num·2^pn ≤ hi·den·2^e
        assertTrue(_le(lo * den, e, 4 * num, pn), string.concat(what, ": result too large"));
        assertTrue(_le(4 * num, pn, hi * den, e), string.concat(what, ": result too small"));
    }

    // -----------------------------------------------------------------------------------------------
    // Correct rounding

    /// forge-config: default.fuzz.runs = 4000
    function testFuzz_mulRounded(uint32 a, uint32 b) public pure {
        uint256 r = F32.mul(a, b);
        if (!_finite(a) || !_finite(b) || _zero(a) || _zero(b)) return;
        assertEq((r >> 31) & 1, ((a ^ b) >> 31) & 1, "mul sign");
        if (_isInf(r) || _zero(r) || r & 0x7fffffff == 0x7f7fffff) return; // overflow, underflow: elsewhere
        (uint256 ma, int256 ea) = _decode(a);
        (uint256 mb, int256 eb) = _decode(b);
        _assertRounded(r, ma * mb, ea + eb, 1, "mul");
    }

    /// forge-config: default.fuzz.runs = 4000
    function testFuzz_divRounded(uint32 a, uint32 b) public pure {
        uint256 r = F32.div(a, b);
        if (!_finite(a) || !_finite(b) || _zero(a) || _zero(b)) return;
        assertEq((r >> 31) & 1, ((a ^ b) >> 31) & 1, "div sign");
        if (_isInf(r) || _zero(r) || r & 0x7fffffff == 0x7f7fffff) return;
        (uint256 ma, int256 ea) = _decode(a);
        (uint256 mb, int256 eb) = _decode(b);
        _assertRounded(r, ma, ea - eb, mb, "div");
    }

    /// forge-config: default.fuzz.runs = 4000
    function testFuzz_sqrtRounded(uint32 a) public pure {
        uint256 x = a & 0x7fffffff;
        uint256 r = F32.sqrt(x);
        if (!_finite(x) || _zero(x)) return;
        (uint256 mx, int256 ex) = _decode(x);
        (uint256 lo, uint256 hi, int256 e) = _mids(r);
        // lo²·2^(2e−4) ≤ x ≤ hi²·2^(2e−4)
        assertTrue(_le(lo * lo, 2 * e, 16 * mx, ex), "sqrt too large");
        assertTrue(_le(16 * mx, ex, hi * hi, 2 * e), "sqrt too small");
        // Negative non-zero operands give NaN; sqrt(−0) = −0.
        assertEq(F32.sqrt(x | 0x80000000), NAN, "sqrt of a negative");
    }

    /// forge-config: default.fuzz.runs = 4000
    function testFuzz_addRounded(uint32 a, uint32 b) public pure {
        uint256 r = F32.add(a, b);
        if (!_finite(a) || !_finite(b)) return;
        (uint256 ma, int256 ea) = _decode(a);
        (uint256 mb, int256 eb) = _decode(b);
        if (ea - eb > 100 || eb - ea > 100) return;
        int256 p = ea < eb ? ea : eb;
        uint256 xa = ma << uint256(ea - p);
        uint256 xb = mb << uint256(eb - p);
        bool sa = (a >> 31) & 1 == 1;
        bool sb = (b >> 31) & 1 == 1;
        uint256 num;
        bool neg;
        if (sa == sb) {
            num = xa + xb;
            neg = sa;
        } else if (xa >= xb) {
            num = xa - xb;
            neg = sa;
        } else {
            num = xb - xa;
            neg = sb;
        }
        if (num == 0) {
            // An exact zero sum is +0, except (−0) + (−0) = −0.
            assertEq(r, sa && sb ? 0x80000000 : 0, "exact zero");
            return;
        }
        assertEq((r >> 31) & 1, neg ? 1 : 0, "add sign");
        if (_isInf(r) || r & 0x7fffffff == 0x7f7fffff) return;
        assertTrue(!_zero(r), "a non-zero sum never rounds to zero (subnormals are kept)");
        _assertRounded(r, num, p, 1, "add");
    }

    // -----------------------------------------------------------------------------------------------
    // Algebraic properties and special values

    function testFuzz_commutative(uint32 a, uint32 b) public pure {
        assertEq(F32.add(a, b), F32.add(b, a), "a + b == b + a");
        assertEq(F32.mul(a, b), F32.mul(b, a), "a * b == b * a");
        assertEq(F32.sub(a, b), F32.add(a, F32.neg(b)), "a - b == a + (-b)");
        assertEq(F32.min(a, b), F32.min(b, a), "min commutative");
        assertEq(F32.max(a, b), F32.max(b, a), "max commutative");
        assertEq(F32.eq(a, b), F32.eq(b, a), "eq symmetric");
    }

    function testFuzz_identities(uint32 a) public pure {
        if (_isNaN(a)) {
            assertEq(F32.mul(a, 0x3f800000), NAN, "NaN * 1");
            assertEq(F32.add(a, 0x80000000), NAN, "NaN + -0");
            return;
        }
        assertEq(F32.mul(a, 0x3f800000), a, "x * 1 == x");
        assertEq(F32.div(a, 0x3f800000), a, "x / 1 == x");
        assertEq(F32.add(a, 0x80000000), a, "x + (-0) == x");
        assertEq(F32.mul(a, 0xbf800000), a ^ 0x80000000, "x * -1 == -x");
        if (_finite(a)) assertEq(F32.sub(a, a), 0, "x - x == +0");
        else assertEq(F32.sub(a, a), NAN, "inf - inf is NaN");
        assertEq(F32.abs(F32.neg(a)), a & 0x7fffffff, "abs(neg x)");
        assertEq(F32.copysign(a, 0x80000000), a | 0x80000000, "copysign");
    }

    function testFuzz_nanResultsCanonical(uint32 a, uint32 b) public pure {
        uint256[12] memory rs = [
            F32.add(a, b), F32.sub(a, b), F32.mul(a, b), F32.div(a, b), F32.min(a, b), F32.max(a, b), F32.sqrt(a),
            F32.roundToInt(a, F32.CEIL), F32.roundToInt(a, F32.FLOOR), F32.roundToInt(a, F32.TRUNC),
            F32.roundToInt(a, F32.NEAREST), F32.sqrt(b)
        ];
        for (uint256 i = 0; i < rs.length; i++) {
            if (_isNaN(rs[i])) assertEq(rs[i], NAN, string.concat("canonical NaN #", vm.toString(i)));
            assertTrue(rs[i] < (1 << 32), "32-bit result");
        }
        if (_isNaN(a) || _isNaN(b)) {
            assertEq(F32.add(a, b), NAN, "NaN operand");
            assertEq(F32.min(a, b), NAN, "min with NaN");
            assertTrue(!F32.eq(a, b) && F32.ne(a, b) && !F32.lt(a, b) && !F32.le(a, b) && !F32.gt(a, b) && !F32.ge(a, b), "comparisons with NaN");
        }
    }

    function testFuzz_ordering(uint32 a, uint32 b) public pure {
        if (_isNaN(a) || _isNaN(b)) return;
        assertEq(F32.lt(a, b), F32.gt(b, a), "lt/gt");
        assertEq(F32.le(a, b), F32.ge(b, a), "le/ge");
        assertEq(F32.eq(a, b), F32.le(a, b) && F32.ge(a, b), "eq = le and ge");
        assertTrue(F32.lt(a, b) || F32.ge(a, b), "total order of non-NaN values");
        uint256 lo = F32.min(a, b);
        uint256 hi = F32.max(a, b);
        assertTrue(F32.le(lo, hi), "min <= max");
        assertTrue(lo == a || lo == b || (_zero(a) && _zero(b)), "min is an operand");
        if (_zero(a) && _zero(b)) {
            assertEq(lo, (a | b) & 0x80000000, "min(-0, +0) = -0");
            assertEq(hi, (a & b) & 0x80000000, "max(-0, +0) = +0");
        }
    }

    /// forge-config: default.fuzz.runs = 4000
    function testFuzz_roundToIntegral(uint32 a) public pure {
        if (_isNaN(a)) return;
        uint256 fl = F32.roundToInt(a, F32.FLOOR);
        uint256 ce = F32.roundToInt(a, F32.CEIL);
        uint256 tr = F32.roundToInt(a, F32.TRUNC);
        uint256 ne = F32.roundToInt(a, F32.NEAREST);
        assertTrue(F32.le(fl, a) && F32.ge(ce, a), "floor <= x <= ceil");
        if (_finite(a)) assertTrue(F32.le(F32.sub(ce, fl), 0x3f800000), "ceil - floor <= 1");
        assertEq(tr, (a >> 31) & 1 == 1 ? ce : fl, "trunc rounds toward zero");
        assertTrue(ne == fl || ne == ce, "nearest is floor or ceil");
        // The sign is kept (−0.5 → −0, not +0).
        assertEq((fl >> 31) & 1, (a >> 31) & 1, "floor sign");
        assertEq((ce >> 31) & 1, (a >> 31) & 1, "ceil sign");
        assertEq((ne >> 31) & 1, (a >> 31) & 1, "nearest sign");
        assertEq(F32.roundToInt(fl, F32.NEAREST), fl, "an integral value is a fixed point");
        if (_finite(a)) {
            // nearest: no farther than half from x
            uint256 half = 0x3f000000;
            assertTrue(F32.le(F32.abs(F32.sub(ne, a)), half), "|nearest(x) - x| <= 0.5");
        }
    }

    function testFuzz_smallIntegersRoundTrip(int32 n) public pure {
        int256 v = int256(n) % (1 << 24); // exact in binary32
        uint256 bits = uint256(uint32(int32(v)));
        uint256 f = F32.fromI32(bits);
        assertEq(F32.toI32Sat(f), bits, "i32 -> f32 -> i32");
        assertEq(F32.fromI64(uint256(uint64(int64(v)))), f, "i64 and i32 conversions agree");
        assertEq(F32.toI64Sat(f), uint256(uint64(int64(v))), "f32 -> i64");
        if (v >= 0) {
            assertEq(F32.fromU32(bits), f, "u32");
            assertEq(F32.fromU64(bits), f, "u64");
            assertEq(F32.toU32Sat(f), bits, "f32 -> u32");
            assertEq(F32.toU64Sat(f), bits, "f32 -> u64");
        } else {
            assertEq(F32.toU32Sat(f), 0, "negative -> u32 saturates to 0");
        }
        assertEq(F32.roundToInt(f, F32.TRUNC), v == 0 ? 0 : f, "integral");
    }

    /// forge-config: default.fuzz.runs = 4000
    function testFuzz_conversionsRoundOnce(uint64 x) public pure {
        // u64 -> f32 is the correctly rounded value of x.
        uint256 f = F32.fromU64(x);
        if (x == 0) return assertEq(f, 0, "0");
        _assertRounded(f, x, 0, 1, "u64 -> f32");
        // trunc_sat of the result is within the rounding error and saturates at 2^64 − 1.
        uint256 back = F32.toU64Sat(f);
        assertTrue(back <= type(uint64).max, "u64 range");
    }

    function testFuzz_truncSatBounds(uint32 a) public pure {
        uint256 i = F32.toI32Sat(a);
        uint256 u = F32.toU32Sat(a);
        assertTrue(i < (1 << 32) && u < (1 << 32), "32-bit results");
        assertTrue(F32.toI64Sat(a) < (1 << 64) && F32.toU64Sat(a) < (1 << 64), "64-bit results");
        if (_isNaN(a)) {
            assertEq(i + u + F32.toI64Sat(a) + F32.toU64Sat(a), 0, "NaN -> 0");
            return;
        }
        // The truncated value converted back does not exceed |a|.
        if ((a >> 31) & 1 == 0) {
            assertTrue(F32.le(F32.fromU32(u), a) || u == 0xffffffff, "u32 trunc <= a");
        }
    }

    function test_specials() public pure {
        assertEq(F32.div(0x3f800000, 0), 0x7f800000, "1/+0 = +inf");
        assertEq(F32.div(0x3f800000, 0x80000000), 0xff800000, "1/-0 = -inf");
        assertEq(F32.div(0, 0), NAN, "0/0");
        assertEq(F32.mul(0x7f800000, 0), NAN, "inf * 0");
        assertEq(F32.add(0x7f7fffff, 0x73000000), 0x7f800000, "max + half ulp overflows");
        assertEq(F32.add(0x7f7fffff, 0x72ffffff), 0x7f7fffff, "max + under half ulp");
        assertEq(F32.add(0x3f800000, 0x33800000), 0x3f800000, "1 + 2^-24 ties to even");
        assertEq(F32.add(0x3f800001, 0x33800000), 0x3f800002, "ties to even (up)");
        assertEq(F32.mul(1, 0x3f000000), 0, "half the smallest subnormal ties to 0");
        assertEq(F32.mul(1, 0x3fc00000), 2, "1.5 x smallest subnormal ties to 2");
        assertEq(F32.sqrt(0x7f800000), 0x7f800000, "sqrt(inf)");
        assertEq(F32.sqrt(0xff800000), NAN, "sqrt(-inf)");
        assertEq(F32.sqrt(0x80000000), 0x80000000, "sqrt(-0)");
        assertEq(F32.roundToInt(0x3f000000, F32.NEAREST), 0, "nearest(0.5) = 0");
        assertEq(F32.roundToInt(0x3fc00000, F32.NEAREST), 0x40000000, "nearest(1.5) = 2");
        assertEq(F32.roundToInt(0x40200000, F32.NEAREST), 0x40000000, "nearest(2.5) = 2");
        assertEq(F32.fromI64(1 << 63), 0xdf000000, "i64 min");
        assertEq(F32.fromU64(type(uint64).max), 0x5f800000, "u64 max rounds up to 2^64");
        assertEq(F32.toI32Sat(0x4f000000), 0x7fffffff, "2^31 saturates");
        assertEq(F32.toI32Sat(0xcf000000), 0x80000000, "-2^31 is exact");
        assertEq(F32.toI64Sat(0xdf000000), 1 << 63, "-2^63 is exact");
    }
}
