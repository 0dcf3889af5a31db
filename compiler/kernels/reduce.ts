/**
 * Reduction kernels: Reduce{Sum,Mean,Max,Min,Prod,L1,L2,SumSquare,LogSum,LogSumExp}, ArgMax/ArgMin,
 * CumSum, TopK and the softmax family (Softmax, LogSoftmax, Hardmax).
 *
 * Every output element is one iteration of the parallel loops over the kept axes; its reduction runs
 * in sequential loops over the reduced axes in row-major order (the spec's order), starting from the
 * documented identity, one f32 rounding per operation. exp/log are the deterministic kernel functions
 * of compiler/kernel/math.ts.
 */
import type { DType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import { strides } from '../../converter/ir/host-tensor.ts';
import type { Buffer, Expr, LocalVar, ScalarType, Stmt } from '../kernel/ast.ts';
import { computeType } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import { MathCtx, exp, log } from '../kernel/math.ts';
import { defineKernel } from './registry.ts';
import type { KernelRequest } from './registry.ts';
import { dot, loopNest, seqNest } from './data.ts';

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
const F = k.f32;

interface Ax { n: number; st: number }

/** Drop size-1 axes and merge neighbours that are contiguous (outer stride = inner stride · extent). */
function merge(axes: readonly Ax[]): Ax[] {
  const out: Ax[] = [];
  for (const a of axes) {
    if (a.n === 1) continue;
    const last = out[out.length - 1];
    if (last && last.st === a.st * a.n) out[out.length - 1] = { n: last.n * a.n, st: a.st };
    else out.push({ ...a });
  }
  return out;
}

/** Smallest / largest value of an integer dtype as a kernel constant. */
function intLimit(d: DType, which: 'min' | 'max'): Expr {
  const [lo, hi] = d === 'int8' ? [-128, 127] : d === 'uint8' ? [0, 255] : d === 'int16' ? [-32768, 32767] : d === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : [0, 0];
  if (d === 'int64') return k.i64(which === 'min' ? -(2n ** 63n) : 2n ** 63n - 1n);
  return k.i32(which === 'min' ? lo : hi);
}

/** An i32 accumulator wrapped to a narrow integer dtype (sign- or zero-extended back to i32). */
function wrapTo(d: DType, e: Expr): Expr {
  switch (d) {
    case 'int8': return k.shrS(k.shl(e, k.i32(24)), k.i32(24));
    case 'int16': return k.shrS(k.shl(e, k.i32(16)), k.i32(16));
    case 'uint8': return k.and(e, k.i32(255));
    default: return e;
  }
}

/**
 * Loop nest of a reduction over `axes`: parallel loops over the kept axes (output order) and, per
 * output, `over(f)` = sequential loops over the reduced axes in row-major order calling f(srcIndex).
 */
function reduceNest(shape: readonly number[], axes: readonly number[],
  body: (outFlat: Expr, over: (f: (src: Expr) => Stmt[]) => Stmt[]) => Stmt[]): Stmt[] {
  const st = strides(shape);
  const kept = merge(shape.map((n, i) => ({ n, st: st[i]! })).filter((_, i) => !axes.includes(i)));
  const red = merge(shape.map((n, i) => ({ n, st: st[i]! })).filter((_, i) => axes.includes(i)));
  const keptN = kept.map((a) => a.n);
  return loopNest(keptN, (idx) => {
    const base = dot(idx, kept.map((a) => a.st));
    const over = (f: (src: Expr) => Stmt[]) => seqNest(red.map((a) => a.n), (ridx) => f(dot(ridx, red.map((a) => a.st), base)));
    return body(k.flatIndex(idx, keptN), over);
  });
}

/** A local accumulator of a scalar type. */
const acc = (K: k.KernelBuilder, t: ScalarType, name = 'acc'): LocalVar => K.local(name, t);

// ---------------------------------------------------------------- Reduce*

type Step = (a: Expr, v: Expr) => Expr;
interface Red { init: Expr; step: Step; fin?: (a: Expr, n: number, m: MathCtx) => Expr }

function reduceSpec(op: string, d: DType): Red {
  const f = d === 'float32';
  const t = computeType(d);
  const zero = k.constOf(t, 0), one = k.constOf(t, 1);
  const sum: Step = (a, v) => k.add(a, v);
  const sq: Step = (a, v) => k.add(a, k.mul(v, v));
  switch (op) {
    case 'ReduceSum': return { init: zero, step: sum };
    case 'ReduceMean': return {
      init: zero, step: sum,
      fin: (a, n) => (f ? k.div(a, F(n)) : k.idiv(wrapTo(d, a), k.constOf(t, n))),
    };
    case 'ReduceMax': return f ? { init: F(-Infinity), step: (a, v) => k.max(a, v) } : { init: intLimit(d, 'min'), step: (a, v) => k.select(k.gt(v, a), v, a) };
    case 'ReduceMin': return f ? { init: F(Infinity), step: (a, v) => k.min(a, v) } : { init: intLimit(d, 'max'), step: (a, v) => k.select(k.lt(v, a), v, a) };
    case 'ReduceProd': return { init: one, step: (a, v) => k.mul(a, v) };
    case 'ReduceL1': return { init: zero, step: (a, v) => k.add(a, k.abs(v)) };
    case 'ReduceL2': return { init: zero, step: sq, fin: (a) => k.sqrt(a) };
    case 'ReduceSumSquare': return { init: zero, step: sq };
    case 'ReduceLogSum': return { init: zero, step: sum, fin: (a, _n, m) => log(m, a) };
    default: throw new Error(`no reduction ${op}`);
  }
}

function reduceKernel(r: KernelRequest): ReturnType<k.KernelBuilder['build']> {
  const t = r.inputs[0]!;
  const axes = r.attrs.axes as number[];
  const out = r.outputs[0]!;
  const K = new k.KernelBuilder(r.op);
  const x = K.input('x', t.dtype, numel(t.shape));
  const y = K.output('y', out.dtype, numel(out.shape));
  const ct = computeType(t.dtype);
  const a = acc(K, ct);
  const n = prod(axes.map((i) => t.shape[i]!));
  const m = new MathCtx(K);
  if (r.op === 'ReduceLogSumExp') {
    const mx = acc(K, 'f32', 'mx');
    return K.build(reduceNest(t.shape, axes, (o, over) => {
      const body: Stmt[] = [k.set(mx, F(-Infinity)), ...over((s) => [k.set(mx, k.max(k.get(mx), k.load(x, s)))]), k.set(a, F(0))];
      body.push(...over((s) => {
        const e = exp(m, k.sub(k.load(x, s), k.get(mx)));
        return [...m.take(), k.set(a, k.add(k.get(a), e))];
      }));
      const lg = log(m, k.get(a));
      body.push(...m.take());
      // m = ±∞ or NaN: log(Σ exp v) is m itself (−∞ for an all −∞ or empty set)
      const finite = k.lt(k.abs(k.get(mx)), F(Infinity));
      body.push(k.store(y, o, k.select(finite, k.add(k.get(mx), lg), k.get(mx))));
      return body;
    }));
  }
  const spec = reduceSpec(r.op, t.dtype);
  return K.build(reduceNest(t.shape, axes, (o, over) => {
    const body: Stmt[] = [k.set(a, spec.init), ...over((s) => [k.set(a, spec.step(k.get(a), k.load(x, s)))])];
    const v = spec.fin ? spec.fin(k.get(a), n, m) : k.get(a);
    return [...body, ...m.take(), k.store(y, o, v)];
  }));
}

for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp']) {
  defineKernel(op, reduceKernel);
}

// ---------------------------------------------------------------- single-axis helpers

/** outer · d · inner decomposition of one axis. */
function axisSplit(shape: readonly number[], axis: number) {
  return { outer: prod(shape.slice(0, axis)), d: shape[axis]!, inner: prod(shape.slice(axis + 1)) };
}

/** Parallel loops over the slices along `axis`: body(slice index o·inner + q, base o·d·inner + q). */
function sliceNest(shape: readonly number[], axis: number, body: (slice: Expr, base: Expr, o: Expr, q: Expr) => Stmt[]): Stmt[] {
  const { outer, d, inner } = axisSplit(shape, axis);
  return loopNest([outer, inner], ([o, q]) => body(k.add(k.mul(o!, k.i32(inner)), q!), k.add(k.mul(o!, k.i32(d * inner)), q!), o!, q!));
}

// ---------------------------------------------------------------- ArgMax / ArgMin

for (const op of ['ArgMax', 'ArgMin'] as const) {
  defineKernel(op, (r) => {
    const t = r.inputs[0]!;
    const axis = r.attrs.axis as number;
    const last = (r.attrs.select_last_index as number) !== 0;
    const out = r.outputs[0]!;
    const K = new k.KernelBuilder(op);
    const x = K.input('x', t.dtype, numel(t.shape));
    const y = K.output('y', 'int64', numel(out.shape));
    const ct = computeType(t.dtype);
    const bv = acc(K, ct, 'bv'), bi = acc(K, 'i32', 'bi');
    const { d, inner } = axisSplit(t.shape, axis);
    const better = (v: Expr, b: Expr) => (op === 'ArgMax' ? k.gt(v, b) : k.lt(v, b));
    return K.build(sliceNest(t.shape, axis, (o, base) => [
      k.set(bv, k.load(x, base)), k.set(bi, k.i32(0)),
      k.sfor(d, (j) => {
        const v = k.load(x, k.add(base, k.mul(j, k.i32(inner))));
        const b = k.get(bv);
        let take: Expr = better(v, b);
        if (last) take = k.or(take, k.eq(v, b));
        if (ct === 'f32') {
          const vNaN = k.ne(v, v), bNaN = k.ne(b, b);
          take = k.select(bNaN, last ? vNaN : k.i32(0), k.or(vNaN, take));
        }
        return [k.set(bi, k.select(take, j, k.get(bi))), k.set(bv, k.select(take, v, b))];
      }, 1),
      k.store(y, o, k.convert('i64.extend_i32_s', k.get(bi))),
    ]));
  });
}

// ---------------------------------------------------------------- softmax family

function softmaxKernel(r: KernelRequest): ReturnType<k.KernelBuilder['build']> {
  const t = r.inputs[0]!;
  const axis = r.attrs.axis as number;
  const K = new k.KernelBuilder(r.op);
  const x = K.input('x', 'float32', numel(t.shape));
  const y = K.output('y', 'float32', numel(t.shape));
  const { d, inner } = axisSplit(t.shape, axis);
  if (d === 0 || numel(t.shape) === 0) return K.build([]);
  const mx = acc(K, 'f32', 'mx'), s = acc(K, 'f32', 's');
  const m = new MathCtx(K);
  const at = (base: Expr, j: Expr) => k.add(base, k.mul(j, k.i32(inner)));
  const scalar = sliceNest(t.shape, axis, (_o, base) => {
    const body: Stmt[] = [k.set(mx, F(-Infinity)), k.sfor(d, (j) => [k.set(mx, k.max(k.get(mx), k.load(x, at(base, j))))]), k.set(s, F(0))];
    if (inner === 1) {
      // contiguous slice: the exponentials are independent (a vectorised loop), parked in the output and
      // summed in order from there (the same bits come back: a NaN sum stays NaN)
      body.push(k.pfor(d, (j) => {
        const e = exp(m, k.sub(k.load(x, at(base, j)), k.get(mx)));
        return [...m.take(), k.store(y, at(base, j), e)];
      }));
      body.push(k.sfor(d, (j) => [k.set(s, k.add(k.get(s), k.load(y, at(base, j))))]));
    } else {
      body.push(k.sfor(d, (j) => {
        const e = m.let(exp(m, k.sub(k.load(x, at(base, j)), k.get(mx))), 'e');
        const park = r.op === 'Softmax' ? [k.store(y, at(base, j), e)] : [];
        return [...m.take(), ...park, k.set(s, k.add(k.get(s), e))];
      }));
    }
    const each = inner === 1 ? k.pfor : k.sfor;
    if (r.op === 'Softmax') {
      // y_k = fl(e_k / s), e_k read back from the output
      body.push(each(d, (j) => [k.store(y, at(base, j), k.div(k.load(y, at(base, j)), k.get(s)))]));
    } else {
      const ls = log(m, k.get(s));
      body.push(...m.take(), k.set(s, ls));
      body.push(each(d, (j) => [k.store(y, at(base, j), k.sub(k.sub(k.load(x, at(base, j)), k.get(mx)), k.get(s)))]));
    }
    return body;
  });
  return K.build(scalar, r.op === 'Softmax' && inner === 1 ? softmaxRowsNative(K, x, y, prod(t.shape.slice(0, axis)), d) : undefined);
}

/**
 * Native form of Softmax over contiguous rows: R = 4 (or 2) rows per iteration, each row's steps side by
 * side, so the rows' max and sum chains (scalar, one dependent operation per element) overlap instead of
 * running one after another. Every row keeps the scalar form's sequence: mx = max(mx, x_j) in order, the
 * vectorised e_j = exp(x_j − mx) stored (canonical NaN), s = s + y_j in order, y_j = y_j ÷ s.
 */
function softmaxRowsNative(K: k.KernelBuilder, x: Buffer, y: Buffer, outer: number, d: number): Stmt[] | undefined {
  const R = [4, 2].find((q) => outer % q === 0 && outer >= 2 * q);
  if (!R || d < 4) return undefined;
  const mxs = Array.from({ length: R }, () => acc(K, 'f32', 'mx')), ss = Array.from({ length: R }, () => acc(K, 'f32', 's'));
  const m = new MathCtx(K);
  return [k.pfor(outer / R, (g) => {
    const base = (q: number) => k.add(k.mul(g, k.i32(R * d)), k.i32(q * d));
    const rows = mxs.map((_, q) => q);
    return [
      ...rows.map((q) => k.set(mxs[q]!, F(-Infinity))),
      k.sfor(d, (j) => rows.map((q) => k.set(mxs[q]!, k.max(k.get(mxs[q]!), k.load(x, k.add(base(q), j)))))),
      ...rows.map((q) => k.set(ss[q]!, F(0))),
      k.pfor(d, (j) => rows.flatMap((q) => {
        const e = exp(m, k.sub(k.load(x, k.add(base(q), j)), k.get(mxs[q]!)));
        return [...m.take(), k.store(y, k.add(base(q), j), e)];
      })),
      k.sfor(d, (j) => rows.map((q) => k.set(ss[q]!, k.add(k.get(ss[q]!), k.load(y, k.add(base(q), j)))))),
      k.pfor(d, (j) => rows.map((q) => k.store(y, k.add(base(q), j), k.div(k.load(y, k.add(base(q), j)), k.get(ss[q]!))))),
    ];
  })];
}
defineKernel('Softmax', softmaxKernel);
defineKernel('LogSoftmax', softmaxKernel);

defineKernel('Hardmax', (r) => {
  const t = r.inputs[0]!;
  const axis = r.attrs.axis as number;
  const K = new k.KernelBuilder('Hardmax');
  const x = K.input('x', 'float32', numel(t.shape));
  const y = K.output('y', 'float32', numel(t.shape));
  const { d, inner } = axisSplit(t.shape, axis);
  if (d === 0 || numel(t.shape) === 0) return K.build([]);
  const bv = acc(K, 'f32', 'bv'), bi = acc(K, 'i32', 'bi');
  const at = (base: Expr, j: Expr) => k.add(base, k.mul(j, k.i32(inner)));
  return K.build(sliceNest(t.shape, axis, (_o, base) => [
    k.set(bv, k.load(x, base)), k.set(bi, k.i32(0)),
    k.sfor(d, (j) => {
      const v = k.load(x, at(base, j));
      const b = k.get(bv);
      // the first maximum, or the first NaN
      const take = k.and(k.eq(b, b), k.or(k.ne(v, v), k.gt(v, b)));
      return [k.set(bi, k.select(take, j, k.get(bi))), k.set(bv, k.select(take, v, b))];
    }, 1),
    (inner === 1 ? k.pfor : k.sfor)(d, (j) => [k.store(y, at(base, j), k.select(k.eq(j, k.get(bi)), F(1), F(0)))]),
  ]));
});

// ---------------------------------------------------------------- CumSum

defineKernel('CumSum', (r) => {
  const t = r.inputs[0]!;
  const axis = r.attrs.axis as number;
  const ex = (r.attrs.exclusive as number) !== 0;
  const rev = (r.attrs.reverse as number) !== 0;
  const K = new k.KernelBuilder('CumSum');
  const x = K.input('x', t.dtype, numel(t.shape));
  const y = K.output('y', t.dtype, numel(t.shape));
  const ct = computeType(t.dtype);
  const a = acc(K, ct);
  const { d, inner } = axisSplit(t.shape, axis);
  if (d === 0) return K.build([]);
  return K.build(sliceNest(t.shape, axis, (_o, base) => [
    k.set(a, k.constOf(ct, 0)),
    k.sfor(d, (j) => {
      const i = k.add(base, k.mul(rev ? k.sub(k.i32(d - 1), j) : j, k.i32(inner)));
      const next = k.set(a, k.add(k.get(a), k.load(x, i)));
      return ex ? [k.store(y, i, k.get(a)), next] : [next, k.store(y, i, k.get(a))];
    }),
  ]));
});

// ---------------------------------------------------------------- TopK

defineKernel('TopK', (r) => {
  const t = r.inputs[0]!;
  const axis = r.attrs.axis as number;
  const kk = r.attrs.k as number;
  const largest = (r.attrs.largest as number) !== 0;
  const K = new k.KernelBuilder('TopK');
  const x: Buffer = K.input('x', t.dtype, numel(t.shape));
  const outN = numel(r.outputs[0]!.shape);
  const vals = K.output('values', t.dtype, outN);
  const idxs = K.output('indices', 'int64', outN);
  const { outer, d, inner } = axisSplit(t.shape, axis);
  if (outN === 0) return K.build([]);
  const ct = computeType(t.dtype);
  const pv = acc(K, ct, 'pv'), pi = acc(K, 'i32', 'pi');
  const bv = acc(K, ct, 'bv'), bi = acc(K, 'i32', 'bi'), has = acc(K, 'i32', 'has');
  /** Does (a, ia) come before (b, ib) in the spec's total order? */
  const before = (a: Expr, ia: Expr, b: Expr, ib: Expr): Expr => {
    const num = k.select(k.eq(a, b), k.lt(ia, ib), largest ? k.gt(a, b) : k.lt(a, b));
    if (ct !== 'f32') return num;
    const an = k.ne(a, a), bn = k.ne(b, b);
    const nan = k.select(k.and(an, bn), k.lt(ia, ib), largest ? an : bn);
    return k.select(k.or(an, bn), nan, num);
  };
  // selection: the j-th output is the first element (in the total order) after the (j−1)-th
  return K.build(loopNest([outer, inner], ([o, q]) => {
    const base = k.add(k.mul(o!, k.i32(d * inner)), q!);
    const obase = k.add(k.mul(o!, k.i32(kk * inner)), q!);
    return [
      k.set(pv, k.constOf(ct, 0)), k.set(pi, k.i32(0)),
      k.sfor(kk, (j) => [
        k.set(has, k.i32(0)), k.set(bi, k.i32(0)), k.set(bv, k.constOf(ct, 0)),
        k.sfor(d, (i) => {
          const v = k.load(x, k.add(base, k.mul(i, k.i32(inner))));
          const after = k.or(k.eqz(j), before(k.get(pv), k.get(pi), v, i));
          const ok = k.and(after, k.or(k.eqz(k.get(has)), before(v, i, k.get(bv), k.get(bi))));
          return [k.set(bi, k.select(ok, i, k.get(bi))), k.set(bv, k.select(ok, v, k.get(bv))), k.set(has, k.or(k.get(has), ok))];
        }),
        k.store(vals, k.add(obase, k.mul(j, k.i32(inner))), k.get(bv)),
        k.store(idxs, k.add(obase, k.mul(j, k.i32(inner))), k.convert('i64.extend_i32_s', k.get(bi))),
        k.set(pv, k.get(bv)), k.set(pi, k.get(bi)),
      ]),
    ];
  }));
});

