/**
 * runtime/opvm/softfloat.ts against the host's IEEE binary32 as an oracle: Math.fround of the double
 * result (exact for + − × ÷ sqrt: binary64 has more than 2·24 + 2 bits, so rounding twice is harmless),
 * JS comparisons, Math.min/max, Math.ceil/floor/trunc, and WebAssembly (built with binaryen) for the
 * i64 → f32 conversions that no JS expression rounds once. NaN results must be exactly 0x7FC00000.
 * Operands come from biased generators: NaN payloads, ±inf, ±0, subnormal boundaries, max finite,
 * exponent extremes, near-equal magnitudes (cancellation) and exact ties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as sf from '../opvm/softfloat.ts';

// --- host reinterpretation (tests only: the implementation never uses JS floats) --------------------
const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
const F = (bits: number): number => { u32buf[0] = bits; return f32buf[0]!; };
const B = (x: number): number => { f32buf[0] = x; return u32buf[0]!; };
const isNaNBits = (b: number): boolean => (b & 0x7fffffff) > 0x7f800000;
const hex = (b: number): string => '0x' + (b >>> 0).toString(16).padStart(8, '0');
const pack = (s: number, e: number, f: number): number => ((s << 31) | (e << 23) | f) >>> 0;

/** Expect `got` to be the binary32 `want` (from the oracle), any NaN meaning the canonical NaN. */
function same(got: number, want: number, what: string): void {
  if (isNaNBits(want)) {
    if (got !== sf.F32_NAN) assert.fail(`${what}: expected canonical NaN, got ${hex(got)}`);
  } else if (got !== want) {
    assert.fail(`${what}: expected ${hex(want)}, got ${hex(got)}`);
  }
}

// --- generators ---------------------------------------------------------------------------------------
const SPECIALS = [
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff,
  0x7fffffff, 0xffffffff, 0x7fc00001, 0x00000001, 0x80000001, 0x00000002, 0x00000003, 0x007fffff, 0x807fffff,
  0x00800000, 0x80800000, 0x00800001, 0x00400000, 0x00400001, 0x7f7fffff, 0xff7fffff, 0x7f7ffffe, 0x7f000000,
  0x3f800000, 0xbf800000, 0x3f800001, 0x3f7fffff, 0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000, 0x40000000,
  0x40200000, 0x4b000000, 0x4b000001, 0x4affffff, 0x4b7fffff, 0x4b800000, 0x4f000000, 0xcf000000, 0x4effffff,
  0xceffffff, 0x4f800000, 0x4f7fffff, 0x5f000000, 0xdf000000, 0x5effffff, 0x5f800000, 0x5f7fffff, 0x34000000,
  0x33800000, 0x33000000, 0x0c000000, 0x1f800000, 0x5f7fffff, 0x3e800000, 0x3eaaaaab, 0x40490fdb,
];
const EDGE_EXPS = [0, 1, 2, 3, 22, 23, 24, 25, 0x3f, 0x67, 0x68, 0x69, 0x7d, 0x7e, 0x7f, 0x80, 0x95, 0x96, 0x97, 0x9d, 0x9e, 0x9f, 0xbd, 0xbe, 0xbf, 0xc0, 0xfc, 0xfd, 0xfe, 0xff];
const EDGE_FRACS = [0, 1, 2, 3, 0x400000, 0x3fffff, 0x400001, 0x7fffff, 0x7ffffe, 0x200000, 0x600000, 0x000100, 0x7fff00];

const fracArb = fc.oneof(
  fc.integer({ min: 0, max: 0x7fffff }),
  fc.constantFrom(...EDGE_FRACS),
  // few significant bits: sums and products are then often exact or exact ties
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 20 })).map(([m, k]) => (m << k) & 0x7fffff),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 20 })).map(([m, k]) => (0x7fffff - (m << k)) & 0x7fffff),
);
const expArb = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...EDGE_EXPS), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0xf6, max: 0xff }));
const structuredArb = fc.tuple(fc.integer({ min: 0, max: 1 }), expArb, fracArb).map(([s, e, f]) => pack(s, e, f));
const f32Arb = fc.oneof(
  { weight: 3, arbitrary: structuredArb },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);
/** Small integer significands scaled by powers of two: exact products and exact half-way cases. */
const smallMantArb = fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 0x1fff }), fc.integer({ min: -160, max: 120 }))
  .map(([s, m, e]) => B(Math.fround((s ? -m : m) * 2 ** e)));
const clampExp = (e: number): number => Math.max(0, Math.min(255, e));
const pairArb: fc.Arbitrary<[number, number]> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(f32Arb, f32Arb) },
  // exponents close together (alignment shifts 0 … 30, ties at half an ulp)
  { weight: 3, arbitrary: fc.tuple(f32Arb, fc.integer({ min: -30, max: 30 }), fracArb, fc.integer({ min: 0, max: 1 }))
    .map(([a, d, f, s]): [number, number] => [a, pack(s, clampExp(((a >>> 23) & 0xff) + d), f)]) },
  // near-equal magnitudes, either sign: cancellation
  { weight: 2, arbitrary: fc.tuple(f32Arb, fc.integer({ min: -4, max: 4 }), fc.boolean())
    .map(([a, k, neg]): [number, number] => [a, ((a + k) ^ (neg ? 0x80000000 : 0)) >>> 0]) },
  { weight: 2, arbitrary: fc.tuple(smallMantArb, smallMantArb) },
);

const RUNS = 40_000;

// --- binary arithmetic -------------------------------------------------------------------------------
const BINARY: [string, (a: number, b: number) => number, (x: number, y: number) => number][] = [
  ['add', sf.f32Add, (x, y) => x + y],
  ['sub', sf.f32Sub, (x, y) => x - y],
  ['mul', sf.f32Mul, (x, y) => x * y],
  ['div', sf.f32Div, (x, y) => x / y],
  ['min', sf.f32Min, (x, y) => Math.min(x, y)],
  ['max', sf.f32Max, (x, y) => Math.max(x, y)],
];

for (const [name, impl, oracle] of BINARY) {
  test(`f32 ${name}: every pair of special values`, () => {
    for (const a of SPECIALS) for (const b of SPECIALS) same(impl(a, b), B(Math.fround(oracle(F(a), F(b)))), `${name}(${hex(a)}, ${hex(b)})`);
  });
  test(`f32 ${name}: ${RUNS} biased random pairs`, () => {
    fc.assert(fc.property(pairArb, ([a, b]) => {
      same(impl(a, b), B(Math.fround(oracle(F(a), F(b)))), `${name}(${hex(a)}, ${hex(b)})`);
      same(impl(b, a), B(Math.fround(oracle(F(b), F(a)))), `${name}(${hex(b)}, ${hex(a)})`);
    }), { numRuns: RUNS });
  });
}

test('f32 add/mul/div: exact ties round to even (hand-made cases)', () => {
  // 1 + 2^-24 is exactly half-way between 1 and 1 + 2^-23: ties to 1 (even).
  assert.equal(sf.f32Add(0x3f800000, 0x33800000), 0x3f800000);
  // (1 + 2^-23) + 2^-24 is half-way between two neighbours: ties to 1 + 2^-22 (even).
  assert.equal(sf.f32Add(0x3f800001, 0x33800000), 0x3f800002);
  // 2^-149 × 0.5 = half the smallest subnormal: ties to 0; × 1.5 ties to 2^-148.
  assert.equal(sf.f32Mul(0x00000001, 0x3f000000), 0x00000000);
  assert.equal(sf.f32Mul(0x00000001, 0x3fc00000), 0x00000002);
  assert.equal(sf.f32Div(0x00000003, 0x40000000), 0x00000002);
  // Max finite + half an ulp overflows to inf; + just under half an ulp stays.
  assert.equal(sf.f32Add(0x7f7fffff, 0x73000000), 0x7f800000);
  assert.equal(sf.f32Add(0x7f7fffff, 0x72ffffff), 0x7f7fffff);
  // x − x = +0, (−0) + (−0) = −0, (−0) − (−0) = +0.
  assert.equal(sf.f32Sub(0x40490fdb, 0x40490fdb), 0);
  assert.equal(sf.f32Add(0x80000000, 0x80000000), 0x80000000);
  assert.equal(sf.f32Sub(0x80000000, 0x80000000), 0);
  // NaN payloads never survive arithmetic.
  assert.equal(sf.f32Add(0x7f800001, 0), sf.F32_NAN);
  assert.equal(sf.f32Mul(0xffffffff, 0x3f800000), sf.F32_NAN);
  assert.equal(sf.f32Mul(0x7f800000, 0), sf.F32_NAN);
  assert.equal(sf.f32Div(0, 0x80000000), sf.F32_NAN);
  assert.equal(sf.f32Sub(0x7f800000, 0x7f800000), sf.F32_NAN);
  assert.equal(sf.f32Min(0x80000000, 0), 0x80000000);
  assert.equal(sf.f32Min(0, 0x80000000), 0x80000000);
  assert.equal(sf.f32Max(0x80000000, 0), 0);
  assert.equal(sf.f32Max(0, 0x80000000), 0);
});

// --- comparisons -------------------------------------------------------------------------------------
const CMP: [string, (a: number, b: number) => boolean, (x: number, y: number) => boolean][] = [
  ['eq', sf.f32Eq, (x, y) => x === y], ['ne', sf.f32Ne, (x, y) => x !== y],
  ['lt', sf.f32Lt, (x, y) => x < y], ['gt', sf.f32Gt, (x, y) => x > y],
  ['le', sf.f32Le, (x, y) => x <= y], ['ge', sf.f32Ge, (x, y) => x >= y],
];
test(`f32 comparisons: special pairs and ${RUNS / 2} biased random pairs each`, () => {
  for (const [name, impl, oracle] of CMP) {
    for (const a of SPECIALS) for (const b of SPECIALS) assert.equal(impl(a, b), oracle(F(a), F(b)), `${name}(${hex(a)}, ${hex(b)})`);
    fc.assert(fc.property(pairArb, ([a, b]) => {
      assert.equal(impl(a, b), oracle(F(a), F(b)), `${name}(${hex(a)}, ${hex(b)})`);
    }), { numRuns: RUNS / 2 });
  }
});

// --- unary: every exponent, both signs, edge and random fractions -----------------------------------
function nearestOracle(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 2 ** 23) return x;
  let r = Math.round(x); // ties toward +inf …
  if (Math.abs(r - x) === 0.5 && r % 2 !== 0) r -= 1; // … fixed to ties-to-even
  return r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r;
}
const UNARY: [string, (a: number) => number, (x: number) => number][] = [
  ['sqrt', sf.f32Sqrt, (x) => Math.sqrt(x)],
  ['ceil', sf.f32Ceil, (x) => Math.ceil(x)],
  ['floor', sf.f32Floor, (x) => Math.floor(x)],
  ['trunc', sf.f32Trunc, (x) => Math.trunc(x)],
  ['nearest', sf.f32Nearest, nearestOracle],
];
/** 256 exponents × 2 signs × (edge fractions + 500 pseudo-random fractions) = 262 656 operands. */
function* sweep(): Generator<number> {
  let seed = 0x9e3779b9;
  for (let e = 0; e < 256; e++) {
    for (let s = 0; s < 2; s++) {
      for (const f of EDGE_FRACS) yield pack(s, e, f);
      for (let i = 0; i < 500; i++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        yield pack(s, e, (seed >>> 9) & 0x7fffff);
      }
    }
  }
}
for (const [name, impl, oracle] of UNARY) {
  test(`f32 ${name}: sweep over every exponent and sign`, () => {
    for (const a of sweep()) same(impl(a), B(Math.fround(oracle(F(a)))), `${name}(${hex(a)})`);
  });
}
test('f32 nearest, ceil, floor: half-way and sign-of-zero cases', () => {
  const cases: [number, number, (a: number) => number][] = [
    [0x3f000000, 0x00000000, sf.f32Nearest], [0xbf000000, 0x80000000, sf.f32Nearest], // ±0.5 → ±0
    [0x3fc00000, 0x40000000, sf.f32Nearest], [0x40200000, 0x40000000, sf.f32Nearest], // 1.5 → 2, 2.5 → 2
    [0xbfc00000, 0xc0000000, sf.f32Nearest], [0x3f400000, 0x3f800000, sf.f32Nearest], // −1.5 → −2, 0.75 → 1
    [0xbf000000, 0x80000000, sf.f32Ceil], [0x00000001, 0x3f800000, sf.f32Ceil], // ceil(−0.5) = −0, ceil(2^-149) = 1
    [0x80000001, 0xbf800000, sf.f32Floor], [0x3f7fffff, 0x00000000, sf.f32Floor],
    [0x4b7fffff, 0x4b7fffff, sf.f32Nearest], // 2^24 − 1 is integral
    [0x4afffffd, 0x4afffffc, sf.f32Nearest], [0x4afffffb, 0x4afffffc, sf.f32Nearest], // 2^23 − 1.5 and − 2.5 → 2^23 − 2
  ];
  for (const [a, want, f] of cases) assert.equal(f(a), want, `${f.name}(${hex(a)})`);
  assert.equal(sf.f32Sqrt(0x80000000), 0x80000000);
  assert.equal(sf.f32Sqrt(0xbf800000), sf.F32_NAN);
  assert.equal(sf.f32Sqrt(0x7f800000), 0x7f800000);
  assert.equal(sf.f32Sqrt(0x40800000), 0x40000000);
});

test('f32 abs, neg, copysign are bit operations that keep NaN payloads', () => {
  fc.assert(fc.property(f32Arb, f32Arb, (a, b) => {
    assert.equal(sf.f32Abs(a), (a & 0x7fffffff) >>> 0);
    assert.equal(sf.f32Neg(a), (a ^ 0x80000000) >>> 0);
    assert.equal(sf.f32Copysign(a, b), ((a & 0x7fffffff) | (b & 0x80000000)) >>> 0);
    if (!isNaNBits(a)) {
      assert.equal(sf.f32Abs(a), B(Math.abs(F(a))));
      assert.equal(sf.f32Neg(a), B(-F(a)));
    }
  }), { numRuns: 5000 });
});

// --- float → integer, saturating ---------------------------------------------------------------------
function satOracle(x: number, lo: bigint, hi: bigint): bigint {
  if (Number.isNaN(x)) return 0n;
  if (x === Infinity) return hi;
  if (x === -Infinity) return lo;
  const t = BigInt(Math.trunc(x));
  return t < lo ? lo : t > hi ? hi : t;
}
const SAT: [string, (a: number) => number | bigint, bigint, bigint, number][] = [
  ['i32_s', sf.f32ToI32Sat, -(2n ** 31n), 2n ** 31n - 1n, 32],
  ['i32_u', sf.f32ToU32Sat, 0n, 2n ** 32n - 1n, 32],
  ['i64_s', sf.f32ToI64Sat, -(2n ** 63n), 2n ** 63n - 1n, 64],
  ['i64_u', sf.f32ToU64Sat, 0n, 2n ** 64n - 1n, 64],
];
for (const [name, impl, lo, hi, bits] of SAT) {
  test(`trunc_sat f32 → ${name}: sweep over every exponent and sign`, () => {
    for (const a of sweep()) {
      const want = BigInt.asUintN(bits, satOracle(F(a), lo, hi));
      assert.equal(BigInt(impl(a)), want, `${name}(${hex(a)})`);
    }
  });
}

// --- integer → float, rounded once -------------------------------------------------------------------
const u64Arb = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  // k significant bits, so every bit length (and so every rounding position) is exercised
  fc.tuple(fc.integer({ min: 0, max: 64 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([k, r]) => k === 0 ? 0n : (1n << BigInt(k - 1)) | (r & ((1n << BigInt(k - 1)) - 1n))),
  // ties: an odd 25-bit significand (its last bit exactly half an ulp) shifted, ± 1
  fc.tuple(fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 39 }), fc.integer({ min: -1, max: 1 }))
    .map(([m, k, d]) => BigInt.asUintN(64, ((BigInt(m | 0x1000000) * 2n + 1n) << BigInt(k)) + BigInt(d))),
  fc.constantFrom(0n, 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 63n, 2n ** 63n - 1n, 2n ** 64n - 1n, 2n ** 24n + 1n, 2n ** 25n + 3n, 0xffffff80n, 0xffffff7fn),
);

test(`i32/u32 → f32: sweep of bit lengths and ${RUNS} biased values`, () => {
  const check = (a: number): void => {
    same(sf.i32ToF32(a), B(Math.fround(a | 0)), `i32ToF32(${hex(a)})`);
    same(sf.u32ToF32(a), B(Math.fround(a >>> 0)), `u32ToF32(${hex(a)})`);
  };
  for (let k = 0; k < 32; k++) for (let d = -3; d <= 3; d++) check(((1 << k) + d) >>> 0);
  fc.assert(fc.property(u64Arb, (x) => check(Number(x & 0xffffffffn))), { numRuns: RUNS });
});

test(`i64/u64 → f32 against WebAssembly: ${RUNS} biased values`, async () => {
  const { default: binaryen } = await import('binaryen');
  const m = new binaryen.Module();
  m.setFeatures(binaryen.Features.All);
  const p = binaryen.createType([binaryen.i64]);
  m.addFunction('s', p, binaryen.i32, [], m.i32.reinterpret(m.f32.convert_s.i64(m.local.get(0, binaryen.i64))));
  m.addFunction('u', p, binaryen.i32, [], m.i32.reinterpret(m.f32.convert_u.i64(m.local.get(0, binaryen.i64))));
  m.addFunctionExport('s', 's');
  m.addFunctionExport('u', 'u');
  assert.ok(m.validate());
  const inst = new WebAssembly.Instance(new WebAssembly.Module(m.emitBinary()), {});
  m.dispose();
  const ex = inst.exports as unknown as { s: (x: bigint) => number; u: (x: bigint) => number };
  fc.assert(fc.property(u64Arb, (x) => {
    assert.equal(sf.i64ToF32(x), ex.s(BigInt.asIntN(64, x)) >>> 0, `i64ToF32(${x})`);
    assert.equal(sf.u64ToF32(x), ex.u(BigInt.asIntN(64, x)) >>> 0, `u64ToF32(${x})`);
  }), { numRuns: RUNS });
});
