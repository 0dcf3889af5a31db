/**
 * Kernels for the transcendental and composite activations (built on compiler/kernel/math.ts), and for
 * the remaining elementwise IR ops: Shrink, ThresholdedRelu, IsInf, Mod, BitShift, Bitwise*, Cast.
 * Every per-element computation is straight-line code (selects, no data-dependent branches), so the
 * native form vectorises it wherever the op's dtypes allow.
 */
import type { DType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import type { Expr, Kernel } from '../kernel/ast.ts';
import { computeType } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import * as M from '../kernel/math.ts';
import { MathCtx } from '../kernel/math.ts';
import { broadcastIndex } from './elementwise.ts';
import { defineKernel } from './registry.ts';
import { boundaryCast, isBoundaryCast } from './boundary-cast.ts';
import type { KernelRequest } from './registry.ts';

type MapFn = (m: MathCtx, vals: Expr[], inTypes: DType[], outType: DType) => Expr;

/**
 * Elementwise map whose per-element value may need statements (math locals): loads are bound to
 * locals, the math statements run, then the store. One flat loop when no input broadcasts.
 */
function mapMath(r: KernelRequest, f: MapFn): Kernel {
  const K = new k.KernelBuilder(r.op);
  const out = r.outputs[0]!;
  const ins = r.inputs.map((t, j) => K.input(`x${j}`, t.dtype, numel(t.shape)));
  const y = K.output('y', out.dtype, numel(out.shape));
  const dims = [...out.shape];
  const inTypes = r.inputs.map((t) => t.dtype);
  const body = (outIdx: Expr, inIdx: (j: number) => Expr) => {
    const m = new MathCtx(K);
    const vals = ins.map((b, j) => m.let(k.load(b, inIdx(j)), `in${j}`));
    const v = f(m, vals, inTypes, out.dtype);
    return [...m.take(), k.store(y, outIdx, v)];
  };
  const n = numel(dims);
  const broadcasts = r.inputs.some((t) => numel(t.shape) !== n && numel(t.shape) !== 1);
  if (!broadcasts) {
    return K.build([k.pfor(n, (i) => body(i, (j) => (numel(r.inputs[j]!.shape) === 1 && n !== 1 ? k.i32(0) : i)))]);
  }
  return K.build(k.pforShape(dims, (idx) => body(k.flatIndex(idx, dims), (j) => broadcastIndex(idx, r.inputs[j]!, dims))));
}

const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : d);
const unary = (op: string, f: (m: MathCtx, x: Expr, r: KernelRequest) => Expr) =>
  defineKernel(op, (r) => mapMath(r, (m, [x]) => f(m, x!, r)));

// ---------------------------------------------------------------- float32 math

unary('Exp', (m, x) => M.exp(m, x));
unary('Log', (m, x) => M.log(m, x));
unary('Sin', (m, x) => M.sin(m, x));
unary('Cos', (m, x) => M.cos(m, x));
unary('Tan', (m, x) => M.tan(m, x));
unary('Asin', (m, x) => M.asin(m, x));
unary('Acos', (m, x) => M.acos(m, x));
unary('Atan', (m, x) => M.atan(m, x));
unary('Sinh', (m, x) => M.sinh(m, x));
unary('Cosh', (m, x) => M.cosh(m, x));
unary('Asinh', (m, x) => M.asinh(m, x));
unary('Acosh', (m, x) => M.acosh(m, x));
unary('Atanh', (m, x) => M.atanh(m, x));
unary('Tanh', (m, x) => M.tanh(m, x));
unary('Erf', (m, x) => M.erf(m, x));
unary('Sigmoid', (m, x) => M.sigmoid(m, x));
unary('Softplus', (m, x) => M.softplus(m, x));
unary('Softsign', (m, x) => M.softsign(m, x));
unary('Mish', (m, x) => M.mish(m, x));
unary('Elu', (m, x, r) => M.elu(m, x, num(r.attrs.alpha, 1)));
unary('Celu', (m, x, r) => M.celu(m, x, num(r.attrs.alpha, 1)));
unary('Selu', (m, x, r) => M.selu(m, x, num(r.attrs.alpha, 1.67326319217681884765625), num(r.attrs.gamma, 1.05070102214813232421875)));
unary('Gelu', (m, x, r) => (num(r.attrs.approximate, 0) ? M.geluTanh(m, x) : M.geluErf(m, x)));
unary('HardSigmoid', (_m, x, r) =>
  k.max(k.f32(0), k.min(k.f32(1), k.add(k.mul(k.f32(num(r.attrs.alpha, 0.2)), x), k.f32(num(r.attrs.beta, 0.5))))));
unary('HardSwish', (_m, x) => k.mul(x, k.max(k.f32(0), k.min(k.f32(1), k.add(k.mul(k.f32(1 / 6), x), k.f32(0.5))))));
unary('ThresholdedRelu', (_m, x, r) => k.select(k.gt(x, k.f32(num(r.attrs.alpha, 1))), x, k.select(k.ne(x, x), x, k.f32(0))));
unary('IsInf', (_m, x, r) => {
  const pos = num(r.attrs.detect_positive, 1), neg = num(r.attrs.detect_negative, 1);
  const p = pos ? k.eq(x, k.f32(Infinity)) : k.i32(0);
  const n = neg ? k.eq(x, k.f32(-Infinity)) : k.i32(0);
  return k.or(p, n);
});
defineKernel('Pow', (r) => mapMath(r, (m, [x, y]) => M.pow(m, x!, y!)));

// ---------------------------------------------------------------- Shrink (any numeric dtype)

defineKernel('Shrink', (r) => mapMath(r, (m, [x], [d]) => {
  const lambd = num(r.attrs.lambd, 0.5), bias = num(r.attrs.bias, 0);
  const xf = d === 'float32' ? x! : m.let(d === 'int64' ? k.convert('f32.from_i64_s', x!) : k.convert('f32.from_i32_s', x!), 'xf');
  const v = k.select(k.lt(xf, k.f32(-lambd)), k.add(xf, k.f32(bias)), k.select(k.gt(xf, k.f32(lambd)), k.sub(xf, k.f32(bias)), k.f32(0)));
  if (d === 'float32') return v;
  return d === 'int64' ? k.convert('i64.trunc_sat_f32_s', v) : k.convert('i32.trunc_sat_f32_s', v);
}));

// ---------------------------------------------------------------- Mod

/**
 * Exact float fmod by binary long division: r = |a|; for j = 276 … 0, if r ≥ |b|·2^j then r −= |b|·2^j
 * (exact by Sterbenz). The loop is sequential and uniform across lanes (2^j is a per-iteration
 * constant), so the native form still vectorises across outputs.
 */
function fmodKernel(r: KernelRequest): Kernel {
  const K = new k.KernelBuilder('Mod');
  const out = r.outputs[0]!;
  const dims = [...out.shape];
  const [ta, tb] = r.inputs as [typeof out, typeof out];
  const A = K.input('a', 'float32', numel(ta.shape));
  const B = K.input('b', 'float32', numel(tb.shape));
  const y = K.output('y', 'float32', numel(dims));
  const ra = K.local('ra', 'f32'), rb = K.local('rb', 'f32'), rem = K.local('rem', 'f32'), t = K.local('t', 'f32');
  const body = (outIdx: Expr, ia: Expr, ib: Expr) => [
    k.set(ra, k.load(A, ia)),
    k.set(rb, k.abs(k.load(B, ib))),
    k.set(rem, k.abs(k.get(ra))),
    k.sfor(277, (j) => {
      // 2^(276−j) = 2^e1 · 2^e2 · 2^e3, each exponent ≤ 127: scalar, uniform across lanes
      const e = k.sub(k.i32(276), j);
      const cap = (v: Expr) => k.select(k.gt(v, k.i32(127)), k.i32(127), v);
      const e1 = cap(e), e2 = cap(k.sub(e, e1)), e3 = k.sub(k.sub(e, e1), e2);
      const p = (n: Expr) => M.fromBits(k.shl(k.add(n, k.i32(127)), k.i32(23)));
      return [
        k.set(t, k.mul(k.mul(k.mul(k.get(rb), p(e1)), p(e2)), p(e3))),
        k.set(rem, k.select(k.ge(k.get(rem), k.get(t)), k.sub(k.get(rem), k.get(t)), k.get(rem))),
      ];
    }),
    k.store(y, outIdx, k.select(k.or(k.ne(k.get(rb), k.get(rb)), k.or(k.eq(k.get(rb), k.f32(0)), k.eq(k.abs(k.get(ra)), k.f32(Infinity)))),
      k.f32(NaN), k.copysign(k.get(rem), k.get(ra)))),
  ];
  return K.build(k.pforShape(dims, (idx) => body(k.flatIndex(idx, dims), broadcastIndex(idx, ta, dims), broadcastIndex(idx, tb, dims))));
}

defineKernel('Mod', (r) => {
  if (r.inputs[0]!.dtype === 'float32') return fmodKernel(r);
  const fm = num(r.attrs.fmod, 0);
  return mapMath(r, (m, [a, b], [d]) => {
    const t = computeType(d);
    const z = k.constOf(t, 0);
    if (fm === 2) { // unsigned remainder, x mod 0 = 0 (never traps)
      const bb = m.let(b!, 'b');
      return k.select(k.eqz(bb), z, k.binary('rem_u', a!, k.select(k.eqz(bb), k.constOf(t, 1), bb)));
    }
    const rem = m.let(k.irem(a!, b!), 'rem');
    if (fm) return rem;
    const fix = k.and(k.ne(rem, z), k.ne(k.lt(rem, z), k.lt(b!, z)));
    return k.select(fix, k.add(rem, b!), rem);
  });
});

// ---------------------------------------------------------------- bits

defineKernel('BitShift', (r) => mapMath(r, (_m, [a, s], [d]) => {
  const t = computeType(d!);
  const sh = r.attrs.direction ? k.shrU(a!, s!) : k.shl(a!, s!);
  const width = d === 'int64' ? 64 : d === 'int32' ? 32 : 8;
  return k.select(k.binary('ge_u', s!, k.constOf(t, width)), k.constOf(t, 0), sh);
}));
defineKernel('BitwiseAnd', (r) => mapMath(r, (_m, [a, b]) => k.and(a!, b!)));
defineKernel('BitwiseOr', (r) => mapMath(r, (_m, [a, b]) => k.or(a!, b!)));
defineKernel('BitwiseXor', (r) => mapMath(r, (_m, [a, b]) => k.xor(a!, b!)));
defineKernel('BitwiseNot', (r) => mapMath(r, (_m, [x], [d]) => k.xor(x!, k.constOf(computeType(d), -1))));

// ---------------------------------------------------------------- Cast

const INT_RANGE: Partial<Record<DType, [number, number]>> = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767] };

/** Cast one value (docs/determinism.md, IR doc of Cast). */
export function castExpr(x: Expr, from: DType, to: DType): Expr {
  if (from === to) return x;
  const src = computeType(from);
  if (to === 'bool') return k.ne(x, k.constOf(src, 0)); // NaN ≠ 0 → true
  if (to === 'float32') return src === 'i64' ? k.convert('f32.from_i64_s', x) : k.convert('f32.from_i32_s', x);
  if (src === 'f32') {
    if (to === 'int64') return k.convert('i64.trunc_sat_f32_s', x);
    const range = INT_RANGE[to];
    if (!range) return k.convert('i32.trunc_sat_f32_s', x); // truncates, saturates to i32, NaN → 0
    const [lo, hi] = range;
    // clamp the float first (exact: lo, hi are floats) so the i32 conversion is already in range
    return k.convert('i32.trunc_sat_f32_s', k.min(k.max(x, k.f32(lo)), k.f32(hi)));
  }
  // integer → integer: wrap (narrow stores wrap; i64 ↔ i32 explicitly)
  if (to === 'int64') return src === 'i64' ? x : k.convert('i64.extend_i32_s', x);
  return src === 'i64' ? k.convert('i32.wrap_i64', x) : x;
}

defineKernel('Cast', (r) => mapMath(r, (m, [x], [d], to) => (isBoundaryCast(d!, to) ? boundaryCast(m, x!, d!, to) : castExpr(x!, d!, to))));
