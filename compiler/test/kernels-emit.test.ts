/**
 * Native-emitter rewrites that change the instructions but not a lane's operations (docs/kernels.md,
 * emission rules): native == scalar bit for bit on kernels built here to exercise each rewrite, with NaN,
 * ±∞, ±0, subnormals and values equal to (or next to) the constants involved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Expr } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import * as M from '../kernel/math.ts';
import { MathCtx } from '../kernel/math.ts';
import { runMathN } from './helpers/math-kernel.ts';

const fr = Math.fround;
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -1.4e-45, 1.1754942e-38, -1.1754942e-38, 3.4028235e38, -3.4028235e38, 1, -1, 0.5, 11, -104, 89];

/** One elementwise kernel y[i] = f(x0[i], x1[i], …) in the scalar or native form; the output's bytes. */
function run(f: (m: MathCtx, xs: Expr[]) => Expr, cols: readonly (readonly number[])[], simd: boolean): string {
  const y = runMathN(f, cols, simd);
  return Buffer.from(y.buffer, y.byteOffset, y.byteLength).toString('hex');
}

/** Neighbours of c (the floats just below and above it), so that ties and near-ties with a constant occur. */
function near(c: number): number[] {
  if (!Number.isFinite(c)) return [c];
  const b = new Float32Array([c]), u = new Uint32Array(b.buffer);
  const out = [c];
  for (const d of [-1, 1]) { u[0] = u[0]! + d; out.push(b[0]!); u[0] = u[0]! - d; }
  return out;
}

const constArb = fc.oneof(fc.constantFrom(...SPECIAL), fc.float({ noNaN: true }), fc.float({ min: -20, max: 20, noNaN: true })).map(fr);

test('min/max against a constant (pseudo-min/max in the native form): native == scalar for NaN, ±∞, ±0, subnormals, ties', () => {
  fc.assert(fc.property(constArb, constArb, fc.array(fc.oneof(fc.constantFrom(...SPECIAL), fc.float()).map(fr), { minLength: 0, maxLength: 40 }), (c1, c2, rand) => {
    // values around both constants and the specials, in every lane position (length not a multiple of 4)
    const xs = [...near(c1), ...near(c2), ...near(-c1), ...SPECIAL, ...rand];
    const forms: ((m: MathCtx, x: Expr) => Expr)[] = [
      (_m, x) => k.max(x, k.f32(c1)),
      (_m, x) => k.max(k.f32(c1), x),
      (_m, x) => k.min(x, k.f32(c1)),
      (_m, x) => k.min(k.f32(c2), x),
      (_m, x) => k.min(k.max(x, k.f32(c1)), k.f32(c2)), // exp's clamp
      // a NaN result used further on: a sum, a comparison, a select and a sign taken from the input
      (m, x) => { const t = m.let(k.max(k.abs(x), k.f32(c1)), 't'); return k.copysign(k.select(k.lt(t, k.f32(c2)), k.add(t, k.f32(1)), k.mul(t, t)), x); },
    ];
    for (const f of forms) {
      const want = run((m, [x]) => f(m, x!), [xs], false);
      assert.equal(run((m, [x]) => f(m, x!), [xs], true), want, `c1 = ${c1}, c2 = ${c2}, ${f.toString()}`);
    }
  }), { numRuns: 60 });
});

test('straight-line bodies run two interleaved groups of four lanes, then one group, then a scalar tail: native == scalar at every length', () => {
  const bitsArb = fc.integer().map((b) => new Float32Array(new Int32Array([b]).buffer)[0]!);
  const valArb = fc.oneof(fc.constantFrom(...SPECIAL), fc.float({ min: -12, max: 12, noNaN: true }).map(fr), bitsArb);
  const fns: [string, (m: MathCtx, xs: Expr[]) => Expr][] = [
    ['exp', (m, [x]) => M.exp(m, x!)],
    ['erf', (m, [x]) => M.erf(m, x!)],
    ['tanh', (m, [x]) => M.tanh(m, x!)],
    ['pow', (m, [x, y]) => M.pow(m, x!, y!)],
    // integer lanes, comparisons, conversions, a select on a lane-dependent condition
    ['mixed', (m, [x, y]) => {
      const b = m.let(k.convert('i32.reinterpret_f32', x!), 'b');
      const n = m.let(k.convert('i32.trunc_sat_f32_s', y!), 'n');
      return k.select(k.gt(b, n), k.add(k.convert('f32.from_i32_s', k.xor(b, n)), y!), k.mul(x!, k.f32(3)));
    }],
  ];
  fc.assert(fc.property(fc.integer({ min: 0, max: 37 }), fc.array(valArb, { minLength: 74, maxLength: 74 }), (n, vals) => {
    const cols = [vals.slice(0, n), vals.slice(37, 37 + n)];
    if (n === 0) return;
    for (const [name, f] of fns) assert.equal(run(f, cols, true), run(f, cols, false), `${name}, ${n} elements`);
  }), { numRuns: 40 });
});
