/**
 * Quantization kernels: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger,
 * ConvInteger, Requantize. Each follows its spec in docs/ir-ops.md (converter/ir/ops/quant.ts) and equals
 * the IR's host fold bit for bit. Float steps are the spec's, one rounding per operation; integer products
 * accumulate in wrapping int32 (i32 lanes vectorise); Requantize is an exact int64 fixed-point multiply with
 * a round-half-to-even shift (scalar: i64 does not vectorise).
 */
import type { DType, TensorType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import { strides } from '../../converter/ir/host-tensor.ts';
import { intRange } from '../../converter/ir/dtype.ts';
import { matmulShape } from '../../converter/ir/ops/nn.ts';
import type { Expr, Stmt } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import { defineKernel } from './registry.ts';
import { CONV_MBLOCK, outputNest, overWindow, UNROLL_MAX, window } from './window.ts';
import { batchOffset } from './nn.ts';

const qRange = (d: DType): [number, number] => {
  const [lo, hi] = intRange(d);
  return [Number(lo), Number(hi)];
};

/**
 * QuantizeLinear's rule on one value: clamp(nearest(f32(x / s)) + zp, qmin, qmax), NaN → zp.
 * r = nearest(x / s) is an integral float (or ±∞, NaN); clamping it to [qmin − zp, qmax − zp] (small exact
 * integers) with f32 max/min is exact, saturates ±∞ and keeps NaN; trunc_sat maps NaN to 0, so the final
 * integer add gives zp for NaN and clamp(r + zp) otherwise, all in i32 lanes.
 */
function quantizeExpr(x: Expr, s: Expr, zp: Expr, d: DType): Expr {
  const [lo, hi] = qRange(d);
  const r = k.nearest(k.div(x, s));
  const zf = zp.kind === 'const' ? k.f32(Number(zp.value)) : k.convert('f32.from_i32_s', zp);
  const loF = zp.kind === 'const' ? k.f32(lo - Number(zp.value)) : k.sub(k.f32(lo), zf);
  const hiF = zp.kind === 'const' ? k.f32(hi - Number(zp.value)) : k.sub(k.f32(hi), zf);
  const c = k.min(k.max(r, loF), hiF);
  return k.add(k.convert('i32.trunc_sat_f32_s', c), zp);
}

/**
 * Parallel loops over the elements of `shape` for a per-tensor (perAxis false) or per-axis parameter:
 * `body(flat, p)` gets the flat element index and the parameter index. Per-axis, the axis is an outer
 * (uniform) loop unless it is the last non-trivial axis, when the parameter loads are contiguous.
 */
function paramLoops(shape: readonly number[], axis: number, perAxis: boolean, body: (i: Expr, p: Expr) => Stmt[]): Stmt[] {
  if (!perAxis) return [k.pfor(numel(shape), (i) => body(i, k.i32(0)))];
  const outer = numel(shape.slice(0, axis)), dim = shape[axis]!, inner = numel(shape.slice(axis + 1));
  if (inner === 1) return k.pforShape([outer, dim], ([o, d]) => body(k.add(k.mul(o!, k.i32(dim)), d!), d!));
  return k.pforShape([outer, dim, inner], ([o, d, j]) => body(k.add(k.mul(k.add(k.mul(o!, k.i32(dim)), d!), k.i32(inner)), j!), d!));
}

defineKernel('QuantizeLinear', (r) => {
  const [tx, ts, tz] = r.inputs as [TensorType, TensorType, TensorType];
  const to = r.outputs[0]!;
  const K = new k.KernelBuilder('QuantizeLinear');
  const x = K.input('x', 'float32', numel(tx.shape));
  const s = K.input('scale', 'float32', numel(ts.shape));
  const z = K.input('zero_point', tz.dtype, numel(tz.shape));
  const y = K.output('y', to.dtype, numel(to.shape));
  const perAxis = numel(ts.shape) > 1;
  return K.build(paramLoops(tx.shape, r.attrs.axis as number, perAxis, (i, p) => [
    k.store(y, i, quantizeExpr(k.load(x, i), k.load(s, p), k.load(z, p), tz.dtype)),
  ]));
});

defineKernel('DequantizeLinear', (r) => {
  const [tx, ts, tz] = r.inputs as [TensorType, TensorType, TensorType];
  const K = new k.KernelBuilder('DequantizeLinear');
  const x = K.input('x', tx.dtype, numel(tx.shape));
  const s = K.input('scale', 'float32', numel(ts.shape));
  const z = K.input('zero_point', tz.dtype, numel(tz.shape));
  const y = K.output('y', 'float32', numel(tx.shape));
  const perAxis = numel(ts.shape) > 1;
  return K.build(paramLoops(tx.shape, r.attrs.axis as number, perAxis, (i, p) => [
    k.store(y, i, k.mul(k.convert('f32.from_i32_s', k.sub(k.load(x, i), k.load(z, p))), k.load(s, p))),
  ]));
});

/** Partial reductions of DynamicQuantizeLinear's range (a multiple of 4: whole vectors). */
const DQ_LANES = 64;

defineKernel('DynamicQuantizeLinear', (r) => {
  const tx = r.inputs[0]!;
  const N = numel(tx.shape);
  const K = new k.KernelBuilder('DynamicQuantizeLinear');
  const x = K.input('x', 'float32', N);
  const y = K.output('y', 'uint8', N);
  const ys = K.output('y_scale', 'float32', 1);
  const yz = K.output('y_zero_point', 'uint8', 1);
  const lo = K.local('lo', 'f32'), hi = K.local('hi', 'f32'), scale = K.local('scale', 'f32'), zp = K.local('zp', 'i32');
  // lo/hi: f32.min/max are exact, commutative and associative (NaN propagates, −0 < +0), so the range is
  // found in DQ_LANES independent partial reductions (vectorised, each starting from +0) over the strided
  // elements, then the tail and the partials are folded in sequentially: the same values as one pass.
  const L = N >= 4 * DQ_LANES ? DQ_LANES : 0;
  const T = L ? Math.floor(N / L) : 0;
  const partial: Stmt[] = [];
  if (L) {
    const pLo = K.scratch('part_lo', 'float32', L), pHi = K.scratch('part_hi', 'float32', L);
    const a = K.local('plo', 'f32'), b = K.local('phi', 'f32');
    partial.push(
      k.pfor(L, (l) => [
        k.set(a, k.f32(0)),
        k.set(b, k.f32(0)),
        k.sfor(T, (t) => [k.set(a, k.min(k.get(a), k.load(x, k.add(k.mul(t, k.i32(L)), l)))), k.set(b, k.max(k.get(b), k.load(x, k.add(k.mul(t, k.i32(L)), l))))]),
        k.store(pLo, l, k.get(a)),
        k.store(pHi, l, k.get(b)),
      ]),
      k.sfor(L, (l) => [k.set(lo, k.min(k.get(lo), k.load(pLo, l))), k.set(hi, k.max(k.get(hi), k.load(pHi, l)))]),
    );
  }
  return K.build([
    k.set(lo, k.f32(0)),
    k.set(hi, k.f32(0)),
    ...partial,
    k.sfor(N, (i) => [k.set(lo, k.min(k.get(lo), k.load(x, i))), k.set(hi, k.max(k.get(hi), k.load(x, i)))], L * T),
    k.set(scale, k.div(k.sub(k.get(hi), k.get(lo)), k.f32(255))),
    k.store(ys, k.i32(0), k.get(scale)),
    k.when(k.and(k.ne(k.get(scale), k.f32(0)), k.eq(k.get(scale), k.get(scale))), [
      // zp = clamp(nearest(f32(0 − lo) / scale), 0, 255); NaN → 0 (min/max keep NaN, trunc_sat gives 0)
      k.set(zp, k.convert('i32.trunc_sat_f32_s', k.min(k.max(k.nearest(k.div(k.sub(k.f32(0), k.get(lo)), k.get(scale))), k.f32(0)), k.f32(255)))),
      k.pfor(N, (i) => [k.store(y, i, quantizeExpr(k.load(x, i), k.get(scale), k.get(zp), 'uint8'))]),
    ], [
      k.set(zp, k.i32(0)),
      k.pfor(N, (i) => [k.store(y, i, k.i32(0))]),
    ]),
    k.store(yz, k.i32(0), k.get(zp)),
  ]);
});


defineKernel('MatMulInteger', (r) => {
  const [ta, tb, taz, tbz] = r.inputs as [TensorType, TensorType, TensorType, TensorType];
  const { out, batch, m, k: Kd, n } = matmulShape(ta.shape, tb.shape);
  const aBatch = ta.shape.length <= 2 ? [] : ta.shape.slice(0, -2);
  const bBatch = tb.shape.length <= 2 ? [] : tb.shape.slice(0, -2);
  const B = new k.KernelBuilder('MatMulInteger');
  const a = B.input('a', ta.dtype, numel(ta.shape));
  const b = B.input('b', tb.dtype, numel(tb.shape));
  const az = B.input('a_zero_point', taz.dtype, numel(taz.shape));
  const bz = B.input('b_zero_point', tbz.dtype, numel(tbz.shape));
  const y = B.output('y', 'int32', numel(out));
  const acc = B.local('acc', 'i32'), za = B.local('za', 'i32'), zb = B.local('zb', 'i32');
  const dims = [...batch, m, n];
  return B.build(k.pforShape(dims, (idx) => {
    const bi = idx.slice(0, batch.length);
    const [i, j] = [idx[batch.length]!, idx[batch.length + 1]!];
    const ao = batchOffset(bi, aBatch, batch.length, m * Kd);
    const bo = batchOffset(bi, bBatch, batch.length, Kd * n);
    return [
      k.set(za, k.load(az, numel(taz.shape) > 1 ? i : k.i32(0))),
      k.set(zb, k.load(bz, numel(tbz.shape) > 1 ? j : k.i32(0))),
      k.set(acc, k.i32(0)),
      k.sfor(Kd, (p) => [k.set(acc, k.add(k.get(acc), k.mul(
        k.sub(k.load(a, k.add(ao, k.add(k.mul(i, k.i32(Kd)), p))), k.get(za)),
        k.sub(k.load(b, k.add(bo, k.add(k.mul(p, k.i32(n)), j))), k.get(zb)))))]),
      k.store(y, k.add(k.mul(k.add(k.mul(k.flatIndex(bi, batch), k.i32(m)), i), k.i32(n)), j), k.get(acc)),
    ];
  }));
});

// ---------------------------------------------------------------- ConvInteger (window helpers in window.ts)


defineKernel('ConvInteger', (r) => {
  const [tx, tw, txz, twz] = r.inputs as [TensorType, TensorType, TensorType, TensorType];
  const to = r.outputs[0]!;
  const [N, C, ...D] = tx.shape;
  const [M, Cg, ...kern] = tw.shape;
  const O = to.shape.slice(2);
  const group = r.attrs.group as number;
  const Mg = M! / group;
  const w = window(r.attrs, kern);
  const B = new k.KernelBuilder('ConvInteger');
  const x = B.input('x', tx.dtype, numel(tx.shape));
  const wt = B.input('w', tw.dtype, numel(tw.shape));
  const xz = B.input('x_zero_point', txz.dtype, numel(txz.shape));
  const wz = B.input('w_zero_point', twz.dtype, numel(twz.shape));
  const y = B.output('y', 'int32', numel(to.shape));
  const MB = Mg % CONV_MBLOCK === 0 ? CONV_MBLOCK : 1;
  const accs = Array.from({ length: MB }, (_, t) => B.local(`acc${t}`, 'i32'));
  const xv = B.local('xv', 'i32'), zx = B.local('zx', 'i32');
  const zws = accs.map((_, t) => B.local(`zw${t}`, 'i32'));
  const P = numel(D);
  const dStr = strides(D);
  const kStr = strides(kern);
  const K = numel(kern);
  const outDims = [N!, M!, ...O];
  const unroll = w.kernel[w.S - 1]! <= UNROLL_MAX;
  const perChannel = numel(twz.shape) > 1;
  if (numel(to.shape) === 0) return B.build([]);
  return B.build(outputNest([N!, M! / MB, ...O.slice(0, -1)], w, D.at(-1)!, O.at(-1)!, (idx, interior) => {
    const [n, mb, ...o] = idx as [Expr, Expr, ...Expr[]];
    const m0 = MB === 1 ? mb : k.mul(mb, k.i32(MB));
    const cBase = Mg === M ? k.i32(0) : k.mul(k.idiv(m0, k.i32(Mg)), k.i32(Cg!));
    const term = (c: Expr) => overWindow(w, D, o, (p, j, inR) => {
      const xi = k.add(k.mul(k.add(k.mul(n, k.i32(C!)), k.add(cBase, c)), k.i32(P)), p.reduce((e, pi, a) => k.add(e, k.mul(pi, k.i32(dStr[a]!))), k.i32(0) as Expr));
      const jOff = j.reduce((e, ji, a) => k.add(e, k.mul(ji, k.i32(kStr[a]!))), k.i32(0) as Expr);
      return [
        k.set(xv, k.sub(k.load(x, xi), k.get(zx))),
        ...accs.map((acc, t) => {
          const m = k.add(m0, k.i32(t));
          const wi = k.add(k.mul(k.add(k.mul(m, k.i32(Cg!)), c), k.i32(K)), jOff);
          const next = k.add(k.get(acc), k.mul(k.get(xv), k.sub(k.load(wt, wi), k.get(zws[t]!))));
          return k.set(acc, interior ? next : k.select(inR, next, k.get(acc)));
        }),
      ];
    }, interior, unroll);
    return [
      k.set(zx, k.load(xz, k.i32(0))),
      ...zws.map((zw, t) => k.set(zw, k.load(wz, perChannel ? k.add(m0, k.i32(t)) : k.i32(0)))),
      ...accs.map((acc) => k.set(acc, k.i32(0))),
      k.sfor(Cg!, (c) => term(c)),
      ...accs.map((acc, t) => k.store(y, k.flatIndex([n, k.add(m0, k.i32(t)), ...o], outDims), k.get(acc))),
    ];
  }));
});

// ---------------------------------------------------------------- Requantize

/**
 * The Requantize rule on int64: p = acc × mult; q = round_half_even(p / 2^shift); clamp(q + zp).
 * `shift` may be a constant (number) or an i32 expression in [0, 62].
 */
function requantizeExpr(acc: Expr, mult: Expr, shift: number | Expr, zp: Expr, d: DType): Expr {
  const [lo, hi] = qRange(d);
  const p = k.mul(k.convert('i64.extend_i32_s', acc), mult);
  let q: Expr;
  if (typeof shift === 'number') {
    if (shift === 0) q = p;
    else {
      const fl = k.shrS(p, k.i64(shift));
      const rem = k.sub(p, k.shl(fl, k.i64(shift)));
      const half = k.i64(1n << BigInt(shift - 1));
      const up = k.or(k.gt(rem, half), k.and(k.eq(rem, half), k.ne(k.and(fl, k.i64(1)), k.i64(0))));
      q = k.add(fl, k.convert('i64.extend_i32_u', up));
    }
  } else {
    const s64 = k.convert('i64.extend_i32_u', shift);
    const fl = k.shrS(p, s64);
    const rem = k.sub(p, k.shl(fl, s64));
    // half = 2^(shift−1), meaningless for shift 0 (selected away below)
    const half = k.shrU(k.shl(k.i64(1), s64), k.i64(1));
    const up = k.or(k.gt(rem, half), k.and(k.eq(rem, half), k.ne(k.and(fl, k.i64(1)), k.i64(0))));
    q = k.select(k.eqz(shift), p, k.add(fl, k.convert('i64.extend_i32_u', up)));
  }
  const v = k.add(q, k.convert('i64.extend_i32_s', zp));
  const c = k.select(k.lt(v, k.i64(lo)), k.i64(lo), k.select(k.gt(v, k.i64(hi)), k.i64(hi), v));
  return k.convert('i32.wrap_i64', c);
}

/** Largest per-axis parameter count selected by a per-row select chain in Requantize. */
const CHAIN_MAX = 256;

defineKernel('Requantize', (r) => {
  const [ta, tz] = r.inputs as [TensorType, TensorType];
  const ms = r.attrs.multipliers as number[], ss = r.attrs.shifts as number[];
  const Nn = numel(ta.shape);
  const K = new k.KernelBuilder('Requantize');
  const acc = K.input('acc', 'int32', Nn);
  const z = K.input('zero_point', tz.dtype, 1);
  const y = K.output('y', tz.dtype, Nn);
  if (ms.length === 1) {
    return K.build([k.pfor(Nn, (i) => [k.store(y, i, requantizeExpr(k.load(acc, i), k.i64(ms[0]!), ss[0]!, k.load(z, k.i32(0)), tz.dtype))])]);
  }
  const axis = r.attrs.axis as number;
  const dim = ta.shape[axis]!;
  const outer = numel(ta.shape.slice(0, axis)), inner = numel(ta.shape.slice(axis + 1));
  if (inner >= dim && dim <= CHAIN_MAX) {
    // Per-axis with long rows (e.g. per output channel of a convolution): one top-level parallel loop over
    // rows (splittable across threads); each row picks its constants with a select chain (≤ 1 op per element).
    const mL = K.local('mult', 'i64'), sL = K.local('shift', 'i32');
    const chain = (d: Expr, c: (j: number) => Expr): Expr => {
      let e = c(dim - 1);
      for (let j = dim - 2; j >= 0; j--) e = k.select(k.eq(d, k.i32(j)), c(j), e);
      return e;
    };
    return K.build(k.pforFlat([outer, dim], ([o, d]) => [
      k.set(mL, chain(d!, (j) => k.i64(ms[j]!))),
      k.set(sL, chain(d!, (j) => k.i32(ss[j]!))),
      k.pfor(inner, (j) => {
        const i = k.add(k.mul(k.add(k.mul(o!, k.i32(dim)), d!), k.i32(inner)), j);
        return [k.store(y, i, requantizeExpr(k.load(acc, i), k.get(mL), k.get(sL), k.load(z, k.i32(0)), tz.dtype))];
      }),
    ]));
  }
  // Per-axis with short rows: the multipliers and shifts go into scratch tables, indexed per element.
  const mt = K.scratch('multipliers', 'int32', dim);
  const st = K.scratch('shifts', 'int32', dim);
  const init: Stmt[] = [];
  for (let d = 0; d < dim; d++) init.push(k.store(mt, k.i32(d), k.i32(ms[d]!)), k.store(st, k.i32(d), k.i32(ss[d]!)));
  return K.build([
    ...init,
    ...paramLoops(ta.shape, axis, true, (i, p) => [k.store(y, i, requantizeExpr(
      k.load(acc, i), k.convert('i64.extend_i32_u', k.load(mt, p)), k.load(st, p), k.load(z, k.i32(0)), tz.dtype))]),
  ]);
});
