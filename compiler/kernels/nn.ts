/**
 * Neural-network kernels: MatMul, Conv, pools, BatchNormalization. Each follows the operation order
 * of its spec in docs/ir-ops.md exactly; outputs along the innermost axis are vectorised.
 */
import type { TensorType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import { strides } from '../../converter/ir/host-tensor.ts';
import { matmulShape } from '../../converter/ir/ops/nn.ts';
import type { Expr, Stmt } from '../kernel/ast.ts';
import { computeType } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import { defineKernel } from './registry.ts';
import { MATMUL_PANEL } from '../native-layout.ts';
import { CONV_MBLOCK, outputNest, overWindow, UNROLL_MAX, window } from './window.ts';

/** Flat offset of a broadcast batch operand from the output batch indices. */
export function batchOffset(idx: readonly Expr[], dims: readonly number[], outRank: number, matrixSize: number): Expr {
  let e: Expr = k.i32(0);
  let stride = matrixSize;
  for (let a = dims.length - 1; a >= 0; a--) {
    const oa = outRank - dims.length + a;
    if (dims[a] !== 1) e = k.add(e, k.mul(idx[oa]!, k.i32(stride)));
    stride *= dims[a]!;
  }
  return e;
}

/** Rows of A computed together per iteration (each B load is reused for all of them). */
const MATMUL_MBLOCK = 4;

defineKernel('MatMul', (r) => {
  const [ta, tb] = r.inputs as [TensorType, TensorType];
  const { out, batch, m, k: K, n } = matmulShape(ta.shape, tb.shape);
  const aBatch = ta.shape.length <= 2 ? [] : ta.shape.slice(0, -2);
  const bBatch = tb.shape.length <= 2 ? [] : tb.shape.slice(0, -2);
  const B = new k.KernelBuilder('MatMul');
  const a = B.input('a', 'float32', numel(ta.shape));
  const b = B.input('b', 'float32', numel(tb.shape));
  const y = B.output('y', 'float32', numel(out));
  const MB = m % MATMUL_MBLOCK === 0 ? MATMUL_MBLOCK : 1;
  const accs = Array.from({ length: MB }, (_, t) => B.local(`acc${t}`, 'f32'));
  const bv = B.local('bv', 'f32');
  // Each output element: acc = +0; for p in 0..K−1: acc = acc + A[i, p]·B[p, j] (the spec's order).
  // `bAt(p)` is where B[p, j] lies: row-major by default, panel-major for a packed B (packedNative).
  const tile = (bi: Expr[], i0: Expr, j: Expr, bAt?: (p: Expr) => Expr): Stmt[] => {
    const ao = batchOffset(bi, aBatch, batch.length, m * K);
    const bo = batchOffset(bi, bBatch, batch.length, K * n);
    const row = (t: number) => k.add(i0, k.i32(t));
    return [
      ...accs.map((acc) => k.set(acc, k.f32(0))),
      k.sfor(K, (p) => [
        k.set(bv, k.load(b, bAt ? bAt(p) : k.add(bo, k.add(k.mul(p, k.i32(n)), j)))),
        ...accs.map((acc, t) => k.set(acc, k.add(k.get(acc), k.mul(k.load(a, k.add(ao, k.add(k.mul(row(t), k.i32(K)), p))), k.get(bv))))),
      ]),
      ...accs.map((acc, t) => k.store(y, k.add(k.mul(k.add(k.mul(batchFlat(bi, batch), k.i32(m)), row(t)), k.i32(n)), j), k.get(acc))),
    ];
  };
  const i0Of = (ib: Expr) => (MB === 1 ? ib : k.mul(ib, k.i32(MB)));
  const body = k.pforFlat([...batch, m / MB], (outer) => [k.pfor(n, (j) => tile(outer.slice(0, batch.length), i0Of(outer[batch.length]!), j))]);
  // Native form: the same outputs by column panels of NB, every row block of a panel in turn, so the
  // panel of B (K × NB floats) stays in cache instead of all of B being read once per row block.
  if (r.packedB) return B.build(body, packedNative());
  const NB = n % 16 === 0 ? 16 : n % 8 === 0 ? 8 : 0;
  const native = NB && m / MB > 1 && n > NB
    ? k.pforFlat([...batch, n / NB], (outer) => [k.pfor(m / MB, (ib) => [k.pfor(NB, (jj) =>
      tile(outer.slice(0, batch.length), i0Of(ib), k.add(k.mul(outer[batch.length]!, k.i32(NB)), jj)))])])
    : undefined;
  return B.build(body, native);

  /**
   * Native form over a packed B ([n / P][K][P], compiler/native-layout.ts): column panels of P, every row
   * block of a panel in turn (one row: the panel alone), each output by the same operations as `tile`;
   * the panel the reduction streams is one contiguous run of K × P floats.
   */
  function packedNative(): Stmt[] {
    const P = MATMUL_PANEL;
    if (tb.shape.length !== 2 || n % P !== 0) throw new Error(`MatMul '${r.name}': packed B needs a 2-D B with a multiple of ${P} columns, got ${tb.shape.join('×')}`);
    const panelTile = (bi: Expr[], i0: Expr, q: Expr, jj: Expr): Stmt[] =>
      tile(bi, i0, k.add(k.mul(q, k.i32(P)), jj), (p) => k.add(k.mul(q, k.i32(K * P)), k.add(k.mul(p, k.i32(P)), jj)));
    return k.pforFlat([...batch, n / P], (outer) => {
      const bi = outer.slice(0, batch.length), q = outer[batch.length]!;
      return m / MB > 1
        ? [k.pfor(m / MB, (ib) => [k.pfor(P, (jj) => panelTile(bi, i0Of(ib), q, jj))])]
        : [k.pfor(P, (jj) => panelTile(bi, k.i32(0), q, jj))];
    });
  }
});

function batchFlat(idx: readonly Expr[], dims: readonly number[]): Expr {
  return k.flatIndex(idx, dims);
}


defineKernel('Conv', (r) => {
  const [tx, tw, tb] = r.inputs as [TensorType, TensorType, TensorType | undefined];
  const to = r.outputs[0]!;
  const [N, C, ...D] = tx.shape;
  const [M, Cg, ...kern] = tw.shape;
  const O = to.shape.slice(2);
  const group = r.attrs.group as number;
  const Mg = M! / group;
  const w = window(r.attrs, kern);
  const B = new k.KernelBuilder('Conv');
  const x = B.input('x', 'float32', numel(tx.shape));
  const wt = B.input('w', 'float32', numel(tw.shape));
  const bias = tb ? B.input('b', 'float32', numel(tb.shape)) : undefined;
  const y = B.output('y', 'float32', numel(to.shape));
  // Block output channels when every block stays inside one group.
  const MB = Mg % CONV_MBLOCK === 0 ? CONV_MBLOCK : 1;
  const accs = Array.from({ length: MB }, (_, t) => B.local(`acc${t}`, 'f32'));
  const xv = B.local('xv', 'f32');
  const P = numel(D);
  const dStr = strides(D);
  const kStr = strides(kern);
  const K = numel(kern);
  const outDims = [N!, M!, ...O];
  const unroll = w.kernel[w.S - 1]! <= UNROLL_MAX;
  return B.build(outputNest([N!, M! / MB, ...O.slice(0, -1)], w, D.at(-1)!, O.at(-1)!, (idx, interior) => {
    const [n, mb, ...o] = idx as [Expr, Expr, ...Expr[]];
    const m0 = MB === 1 ? mb : k.mul(mb, k.i32(MB));
    const cBase = Mg === M ? k.i32(0) : k.mul(k.idiv(m0, k.i32(Mg)), k.i32(Cg!));
    const term = (c: Expr) => overWindow(w, D, o, (p, j, inR) => {
      const xi = k.add(k.mul(k.add(k.mul(n, k.i32(C!)), k.add(cBase, c)), k.i32(P)), p.reduce((e, pi, a) => k.add(e, k.mul(pi, k.i32(dStr[a]!))), k.i32(0) as Expr));
      const jOff = j.reduce((e, ji, a) => k.add(e, k.mul(ji, k.i32(kStr[a]!))), k.i32(0) as Expr);
      return [
        k.set(xv, k.load(x, xi)),
        ...accs.map((acc, t) => {
          const wi = k.add(k.mul(k.add(k.mul(k.add(m0, k.i32(t)), k.i32(Cg!)), c), k.i32(K)), jOff);
          const next = k.add(k.get(acc), k.mul(k.get(xv), k.load(wt, wi)));
          return k.set(acc, interior ? next : k.select(inR, next, k.get(acc)));
        }),
      ];
    }, interior, unroll);
    return [
      ...accs.map((acc) => k.set(acc, k.f32(0))),
      k.sfor(Cg!, (c) => term(c)),
      ...accs.map((acc, t) => {
        const m = k.add(m0, k.i32(t));
        return k.store(y, k.flatIndex([n, m, ...o], outDims), bias ? k.add(k.get(acc), k.load(bias, m)) : k.get(acc));
      }),
    ];
  }));
});

function poolKernel(r: Parameters<Parameters<typeof defineKernel>[1]>[0], kind: 'max' | 'avg') {
  const tx = r.inputs[0]!;
  const to = r.outputs[0]!;
  const [N, C, ...D] = tx.shape;
  const O = to.shape.slice(2);
  const w = window(r.attrs, r.attrs.kernel_shape as number[]);
  const B = new k.KernelBuilder(kind === 'max' ? 'MaxPool' : 'AveragePool');
  const x = B.input('x', tx.dtype, numel(tx.shape));
  const y = B.output('y', to.dtype, numel(to.shape));
  const t = computeType(tx.dtype);
  const acc = B.local('acc', t);
  const cnt = B.local('cnt', 'i32');
  const P = numel(D);
  const dStr = strides(D);
  const pads = r.attrs.pads as number[];
  const includePad = kind === 'avg' && r.attrs.count_include_pad === 1;
  const lowest = tx.dtype === 'float32' ? k.f32(-Infinity) : k.i32(tx.dtype === 'int8' ? -128 : 0);
  return B.build(outputNest([N!, C!, ...O.slice(0, -1)], w, D.at(-1)!, O.at(-1)!, (idx, interior) => {
    const [n, c, ...o] = idx as [Expr, Expr, ...Expr[]];
    const base = k.mul(k.add(k.mul(n, k.i32(C!)), c), k.i32(P));
    let divisor: Expr | undefined;
    if (includePad) {
      // window positions inside the padded extent [−begin, D + end), per axis, multiplied
      divisor = k.i32(1);
      for (let a = 0; a < w.S; a++) {
        const start = k.sub(k.mul(o[a]!, k.i32(w.strides[a]!)), k.i32(w.begin[a]!));
        const hiLimit = D[a]! + pads[w.S + a]!;
        // count of j in [0, k) with −begin ≤ start + j·d < D + end; start ≥ −begin always holds
        const last = k.add(start, k.i32((w.kernel[a]! - 1) * w.dilations[a]!));
        const over = k.select(k.ge(last, k.i32(hiLimit)), k.add(k.idiv(k.sub(k.sub(last, k.i32(hiLimit)), k.i32(0)), k.i32(w.dilations[a]!)), k.i32(1)), k.i32(0));
        divisor = k.mul(divisor, k.sub(k.i32(w.kernel[a]!), over));
      }
    }
    return [
      k.set(acc, kind === 'max' ? lowest : k.f32(0)),
      k.set(cnt, k.i32(0)),
      ...overWindow(w, D, o, (p, _j, inR) => {
        const v = k.load(x, k.add(base, p.reduce((e, pi, a) => k.add(e, k.mul(pi, k.i32(dStr[a]!))), k.i32(0) as Expr)));
        const next = kind === 'max' ? (t === 'f32' ? k.max(k.get(acc), v) : k.select(k.gt(v, k.get(acc)), v, k.get(acc))) : k.add(k.get(acc), v);
        return interior ? [k.set(acc, next), k.set(cnt, k.add(k.get(cnt), k.i32(1)))] : [k.set(acc, k.select(inR, next, k.get(acc))), k.set(cnt, k.add(k.get(cnt), inR))];
      }, interior, w.kernel[w.S - 1]! <= UNROLL_MAX),
      k.store(y, k.flatIndex(idx, [N!, C!, ...O]),
        kind === 'max' ? k.get(acc) : k.div(k.get(acc), k.convert('f32.from_i32_s', divisor ?? k.get(cnt)))),
    ];
  }));
}

defineKernel('MaxPool', (r) => poolKernel(r, 'max'));
defineKernel('AveragePool', (r) => poolKernel(r, 'avg'));

function globalPool(r: Parameters<Parameters<typeof defineKernel>[1]>[0], kind: 'max' | 'avg') {
  const tx = r.inputs[0]!;
  const [N, C, ...D] = tx.shape;
  const P = numel(D);
  const B = new k.KernelBuilder(kind === 'max' ? 'GlobalMaxPool' : 'GlobalAveragePool');
  const x = B.input('x', tx.dtype, numel(tx.shape));
  const y = B.output('y', tx.dtype, N! * C!);
  const t = computeType(tx.dtype);
  const acc = B.local('acc', t);
  const lowest = tx.dtype === 'float32' ? k.f32(-Infinity) : k.i32(tx.dtype === 'int8' ? -128 : 0);
  return B.build([k.pfor(N! * C!, (nc) => [
    k.set(acc, kind === 'max' ? lowest : k.f32(0)),
    k.sfor(P, (p) => {
      const v = k.load(x, k.add(k.mul(nc, k.i32(P)), p));
      return [k.set(acc, kind === 'max' ? (t === 'f32' ? k.max(k.get(acc), v) : k.select(k.gt(v, k.get(acc)), v, k.get(acc))) : k.add(k.get(acc), v))];
    }),
    k.store(y, nc, kind === 'max' ? k.get(acc) : k.div(k.get(acc), k.f32(P))),
  ])]);
}
defineKernel('GlobalMaxPool', (r) => globalPool(r, 'max'));
defineKernel('GlobalAveragePool', (r) => globalPool(r, 'avg'));

defineKernel('BatchNormalization', (r) => {
  const tx = r.inputs[0]!;
  const [N, C, ...D] = tx.shape;
  const P = numel(D);
  const B = new k.KernelBuilder('BatchNormalization');
  const x = B.input('x', 'float32', numel(tx.shape));
  const [scale, bias, mean, vr] = ['scale', 'B', 'mean', 'var'].map((nm) => B.input(nm, 'float32', C!));
  const y = B.output('y', 'float32', numel(tx.shape));
  const eps = k.f32(r.attrs.epsilon as number);
  return B.build(k.pforShape([N!, C!, P], ([n, c, p]) => {
    const i = k.add(k.mul(k.add(k.mul(n!, k.i32(C!)), c!), k.i32(P)), p!);
    const s = k.sqrt(k.add(k.load(vr!, c!), eps));
    const q = k.div(k.sub(k.load(x, i), k.load(mean!, c!)), s);
    return [k.store(y, i, k.add(k.mul(q, k.load(scale!, c!)), k.load(bias!, c!)))];
  }));
});
