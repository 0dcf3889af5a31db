/**
 * More neural-network kernels: ConvTranspose, MaxPoolWithIndices, LpPool, Resize, the normalisations
 * (Instance, Layer, Group, MeanVariance, Lp) and LRN. Each follows the operation order of its spec in
 * docs/ir-ops.md exactly (converter/ir/ops/nn.ts); where the op has a host fold the kernel equals it
 * bit for bit. pow (LpPool, LRN) comes from the deterministic math library (compiler/kernel/math.ts).
 */
import type { Attrs, DType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import { strides } from '../../converter/ir/host-tensor.ts';
import type { Buffer, Expr, Stmt } from '../kernel/ast.ts';
import { computeType } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import { castScalar } from '../../converter/ir/ops/elementwise.ts';
import { MathCtx, pow } from '../kernel/math.ts';
import { defineKernel } from './registry.ts';
import { overWindow, window } from './window.ts';
import type { KernelRequest } from './registry.ts';

const f32 = Math.fround;
const I = k.i32;
const F = k.f32;
const toI = (x: Expr) => k.convert('i32.trunc_sat_f32_s', x);
const toF = (i: Expr) => k.convert('f32.from_i32_s', i);
/** Integer clamp of an i32 expression to [lo, hi] (selects only: vectorisable). */
const clampI = (e: Expr, lo: number, hi: number) => k.select(k.lt(e, I(lo)), I(lo), k.select(k.gt(e, I(hi)), I(hi), e));
const sumOf = (es: readonly Expr[]) => es.reduce((a, b) => k.add(a, b), I(0) as Expr);

const spatialOffset = (p: readonly Expr[], dims: readonly number[]) => {
  const st = strides(dims);
  return sumOf(p.map((pi, a) => k.mul(pi, I(st[a]!))));
};

// ---------------------------------------------------------------- ConvTranspose

/**
 * q = num / s for 0 ≤ num ≤ maxNum when s divides num, by a multiply and a shift (vectorisable):
 * with M = ceil(2^sh / s) and num = q·s < 2^sh, floor(num·M / 2^sh) = q exactly. `ok` is true iff
 * num ≥ 0 and s divides num (checked by q·s = num, so inexact quotients of non-multiples never pass).
 */
function exactDiv(num: Expr, s: number, maxNum: number): { q: Expr; ok: Expr } {
  if (s === 1) return { q: num, ok: k.ge(num, I(0)) };
  let sh = 1;
  while (2 ** sh <= maxNum) sh++;
  const M = Math.ceil(2 ** sh / s);
  const safe = k.select(k.ge(num, I(0)), num, I(0));
  let q: Expr;
  if ((maxNum + 1) * M < 2 ** 32 && sh < 32) q = k.shrU(k.mul(safe, I(M)), I(sh));
  else q = k.idiv(safe, I(s));
  return { q, ok: k.and(k.ge(num, I(0)), k.eq(k.mul(q, I(s)), num)) };
}

/** Output channels computed together per ConvTranspose iteration. */
const CT_MBLOCK = 4;

defineKernel('ConvTranspose', (r) => {
  const [tx, tw, tb] = r.inputs;
  const to = r.outputs[0]!;
  const [N, C, ...D] = tx!.shape;
  const [, Mg, ...kern] = tw!.shape;
  const O = to.shape.slice(2);
  const G = r.attrs.group as number;
  const Cg = C! / G;
  const M = Mg! * G;
  const w = window(r.attrs, kern);
  const S = w.S;
  const B = new k.KernelBuilder('ConvTranspose');
  const x = B.input('x', 'float32', numel(tx!.shape));
  const wt = B.input('w', 'float32', numel(tw!.shape));
  const bias = tb ? B.input('b', 'float32', numel(tb.shape)) : undefined;
  const y = B.output('y', 'float32', numel(to.shape));
  // output channels computed together per iteration (sharing each input load), inside one group
  const MB = Mg! % CT_MBLOCK === 0 ? CT_MBLOCK : 1;
  const accs = Array.from({ length: MB }, (_, t) => B.local(`acc${t}`, 'f32'));
  const xv = B.local('xv', 'f32');
  const P = numel(D), K = numel(kern);
  const dStr = strides(D), kStr = strides(kern);
  const outDims = [N!, M, ...O];
  return B.build(k.pforShape([N!, M / MB, ...O], (idx) => {
    const [n, mb, ...o] = idx as [Expr, Expr, ...Expr[]];
    const m0 = MB === 1 ? mb : k.mul(mb, I(MB));
    const g = G === 1 ? I(0) : k.divIndex(m0, Mg!);
    const mi0 = G === 1 ? m0 : k.sub(m0, k.mul(g, I(Mg!)));
    // term for kernel offsets j: q_a = (o_a + begin_a − j_a·d_a) / s_a, present when integral and in [0, D_a)
    const rec = (c: Expr, a: number, qOff: Expr, jOff: Expr): Stmt[] => {
      if (a === S) return [];
      return [k.sfor(w.kernel[a]!, (j) => {
        const num = k.sub(k.add(o[a]!, I(w.begin[a]!)), k.mul(j, I(w.dilations[a]!)));
        const maxNum = O[a]! - 1 + w.begin[a]!;
        const { q, ok } = exactDiv(num, w.strides[a]!, Math.max(0, maxNum));
        const inR = k.and(ok, k.lt(q, I(D[a]!)));
        const qo = k.add(qOff, k.mul(q, I(dStr[a]!)));
        const jo = k.add(jOff, k.mul(j, I(kStr[a]!)));
        if (a < S - 1) return [k.when(inR, rec(c, a + 1, qo, jo))];
        const ci = k.add(k.mul(g, I(Cg)), c);
        const xi = k.add(k.mul(k.add(k.mul(n, I(C!)), ci), I(P)), k.select(inR, qo, I(0)));
        return [
          k.set(xv, k.load(x, xi)),
          ...accs.map((acc, t) => {
            const wi = k.add(k.mul(k.add(k.mul(ci, I(Mg!)), k.add(mi0, I(t))), I(K)), jo);
            return k.set(acc, k.select(inR, k.add(k.get(acc), k.mul(k.get(xv), k.load(wt, wi))), k.get(acc)));
          }),
        ];
      })];
    };
    return [
      ...accs.map((acc) => k.set(acc, F(0))),
      k.sfor(Cg, (c) => rec(c, 0, I(0), I(0))),
      ...accs.map((acc, t) => {
        const m = k.add(m0, I(t));
        return k.store(y, k.flatIndex([n, m, ...o], outDims), bias ? k.add(k.get(acc), k.load(bias, m)) : k.get(acc));
      }),
    ];
  }));
});

// ---------------------------------------------------------------- MaxPoolWithIndices, LpPool

defineKernel('MaxPoolWithIndices', (r) => {
  const tx = r.inputs[0]!;
  const to = r.outputs[0]!;
  const [N, C, ...D] = tx.shape;
  const O = to.shape.slice(2);
  const w = window(r.attrs, r.attrs.kernel_shape as number[]);
  const B = new k.KernelBuilder('MaxPoolWithIndices');
  const x = B.input('x', tx.dtype, numel(tx.shape));
  const y = B.output('y', to.dtype, numel(to.shape));
  const yi = B.output('indices', 'int64', numel(to.shape));
  const t = computeType(tx.dtype);
  const acc = B.local('acc', t);
  const at = B.local('at', 'i32');
  const P = numel(D);
  const colMajor = r.attrs.storage_order === 1;
  // spatial offset strides of the index output: row-major, or column-major (Σ p_i·D_0·…·D_{i−1})
  const idxStr = colMajor ? D.map((_, i) => numel(D.slice(0, i))) : strides(D);
  const lowest = tx.dtype === 'float32' ? F(-Infinity) : I(tx.dtype === 'int8' ? -128 : 0);
  const same = (v: Expr, r0: Expr) => (t === 'f32' ? k.eq(k.convert('i32.reinterpret_f32', v), k.convert('i32.reinterpret_f32', r0)) : k.eq(v, r0));
  return B.build(k.pforShape([N!, C!, ...O], (idx) => {
    const [n, c, ...o] = idx as [Expr, Expr, ...Expr[]];
    const nc = k.add(k.mul(n, I(C!)), c);
    const base = k.mul(nc, I(P));
    const out = k.flatIndex(idx, [N!, C!, ...O]);
    return [
      k.set(acc, lowest),
      ...overWindow(w, D, o, (p, _j, inR) => {
        const v = k.load(x, k.add(base, spatialOffset(p, D)));
        const next = t === 'f32' ? k.max(k.get(acc), v) : k.select(k.gt(v, k.get(acc)), v, k.get(acc));
        return [k.set(acc, k.select(inR, next, k.get(acc)))];
      }),
      // the first position in scan order holding the result (bitwise; NaN matches NaN)
      k.set(at, I(-1)),
      ...overWindow(w, D, o, (p, _j, inR) => {
        const v = k.load(x, k.add(base, spatialOffset(p, D)));
        const hit = k.and(k.and(inR, k.lt(k.get(at), I(0))), same(v, k.get(acc)));
        const pos = k.add(base, sumOf(p.map((pi, a) => k.mul(pi, I(idxStr[a]!)))));
        return [k.set(at, k.select(hit, pos, k.get(at)))];
      }),
      // a window that reaches no input position (possible with dilation) keeps the dtype's lowest value, index −1
      k.store(y, out, k.get(acc)),
      k.store(yi, out, k.convert('i64.extend_i32_s', k.get(at))),
    ];
  }));
});

defineKernel('LpPool', (r) => {
  const tx = r.inputs[0]!;
  const to = r.outputs[0]!;
  const [N, C, ...D] = tx.shape;
  const O = to.shape.slice(2);
  const w = window(r.attrs, r.attrs.kernel_shape as number[]);
  const p = r.attrs.p as number;
  const B = new k.KernelBuilder('LpPool');
  const x = B.input('x', 'float32', numel(tx.shape));
  const y = B.output('y', 'float32', numel(to.shape));
  const sum = B.local('sum', 'f32');
  const P = numel(D);
  return B.build(k.pforShape([N!, C!, ...O], (idx) => {
    const [n, c, ...o] = idx as [Expr, Expr, ...Expr[]];
    const base = k.mul(k.add(k.mul(n, I(C!)), c), I(P));
    const fin = new MathCtx(B, 'lpy');
    const res = p === 1 ? k.get(sum) : p === 2 ? k.sqrt(k.get(sum)) : pow(fin, k.get(sum), F(f32(1 / p)));
    return [
      k.set(sum, F(0)),
      ...overWindow(w, D, o, (pp, _j, inR) => {
        const m = new MathCtx(B, 'lpx');
        const v = m.let(k.load(x, k.add(base, spatialOffset(pp, D))), 'v');
        const term = p === 1 ? k.abs(v) : p === 2 ? k.mul(v, v) : pow(m, k.abs(v), F(p));
        return [...m.take(), k.set(sum, k.select(inR, k.add(k.get(sum), term), k.get(sum)))];
      }),
      ...fin.take(),
      k.store(y, k.flatIndex(idx, [N!, C!, ...O]), res),
    ];
  }));
});

// ---------------------------------------------------------------- grouped reductions (norms)

type Nest = (parallel: boolean, f: (red: Expr[], off: Expr) => Stmt[]) => Stmt[];

/**
 * For every index of the axes not in `axes` (a parallel loop), `body` gets those indices, the base
 * offset and `nest`, which builds loops over the reduced axes in row-major order (sequential for the
 * reductions, parallel for the outputs: the innermost is then the vectorised loop).
 */
function grouped(dims: readonly number[], axes: readonly number[], body: (other: Expr[], nest: Nest) => Stmt[]): Stmt[] {
  const str = strides(dims);
  const otherAxes = dims.map((_, i) => i).filter((i) => !axes.includes(i));
  return k.pforFlat(otherAxes.map((a) => dims[a]!), (oi) => {
    const base = sumOf(otherAxes.map((a, i) => k.mul(oi[i]!, I(str[a]!))));
    const nest: Nest = (parallel, f) => {
      const rec = (i: number, red: Expr[], off: Expr): Stmt[] => {
        if (i === axes.length) return f(red, off);
        const a = axes[i]!;
        const loop = parallel ? k.pfor : k.sfor;
        return [loop(dims[a]!, (j) => rec(i + 1, [...red, j], k.add(off, k.mul(j, I(str[a]!)))))];
      };
      return rec(0, [], base);
    };
    return body(oi, nest);
  });
}

/** Statements computing mean and var (the norm docs' two passes) of the elements visited by `nest`. */
function meanVar(B: k.KernelBuilder, x: Buffer, nest: Nest, K: number) {
  const s = B.local('s', 'f32'), v = B.local('v', 'f32'), mean = B.local('mean', 'f32'), vr = B.local('var', 'f32');
  const stmts: Stmt[] = [
    k.set(s, F(0)),
    ...nest(false, (_r, off) => [k.set(s, k.add(k.get(s), k.load(x, off)))]),
    k.set(mean, k.div(k.get(s), F(K))),
    k.set(v, F(0)),
    ...nest(false, (_r, off) => {
      const d = k.sub(k.load(x, off), k.get(mean));
      return [k.set(s, d), k.set(v, k.add(k.get(v), k.mul(k.get(s), k.get(s))))];
    }),
    k.set(vr, k.div(k.get(v), F(K))),
  ];
  return { stmts, mean: k.get(mean), variance: k.get(vr) };
}

/** InstanceNormalization (groups = C) and GroupNormalization: X viewed as (N, G, C/G, P). */
function groupNorm(r: KernelRequest, groups: number) {
  const tx = r.inputs[0]!;
  const [N, C, ...Dsp] = tx.shape;
  const P = numel(Dsp), Cg = C! / groups;
  const B = new k.KernelBuilder(r.op);
  const x = B.input('x', 'float32', numel(tx.shape));
  const scale = B.input('scale', 'float32', C!);
  const bias = B.input('B', 'float32', C!);
  const y = B.output('y', 'float32', numel(tx.shape));
  const den = B.local('den', 'f32');
  const eps = F(r.attrs.epsilon as number);
  return B.build(grouped([N!, groups, Cg, P], [2, 3], ([, g], nest) => {
    const mv = meanVar(B, x, nest, Cg * P);
    return [
      ...mv.stmts,
      k.set(den, k.sqrt(k.add(mv.variance, eps))),
      ...nest(true, ([cc], off) => {
        const c = k.add(k.mul(g!, I(Cg)), cc!);
        const q = k.div(k.sub(k.load(x, off), mv.mean), k.get(den));
        return [k.store(y, off, k.add(k.mul(q, k.load(scale, c)), k.load(bias, c)))];
      }),
    ];
  }));
}

defineKernel('InstanceNormalization', (r) => groupNorm(r, r.inputs[0]!.shape[1]!));
defineKernel('GroupNormalization', (r) => groupNorm(r, r.attrs.num_groups as number));

/** Flat index into a tensor of shape `bs` broadcast (right-aligned) to `dims`, from indices over dims. */
function broadcastIndex(idx: readonly Expr[], bs: readonly number[], dims: readonly number[]): Expr {
  const st = strides(bs);
  return sumOf(bs.map((d, a) => (d === 1 ? I(0) : k.mul(idx[dims.length - bs.length + a]!, I(st[a]!)))));
}

defineKernel('LayerNormalization', (r) => {
  const [tx, ts, tb] = r.inputs;
  const dims = tx!.shape;
  const axis = r.attrs.axis as number;
  const tail = dims.slice(axis);
  const K = numel(tail);
  const B = new k.KernelBuilder('LayerNormalization');
  const x = B.input('x', 'float32', numel(dims));
  const scale = B.input('scale', 'float32', numel(ts!.shape));
  const bias = tb ? B.input('B', 'float32', numel(tb.shape)) : undefined;
  const y = B.output('y', 'float32', numel(dims));
  const three = r.attrs.num_outputs === 3;
  const L = numel(dims.slice(0, axis));
  const meanOut = three ? B.output('mean', 'float32', L) : undefined;
  const invOut = three ? B.output('inv_std', 'float32', L) : undefined;
  const inv = B.local('inv', 'f32');
  const eps = F(r.attrs.epsilon as number);
  const tailAxes = tail.map((_, i) => axis + i);
  return B.build(grouped(dims, tailAxes, (lead, nest) => {
    const mv = meanVar(B, x, nest, K);
    const l = k.flatIndex(lead, dims.slice(0, axis));
    return [
      ...mv.stmts,
      k.set(inv, k.div(F(1), k.sqrt(k.add(mv.variance, eps)))),
      ...(three ? [k.store(meanOut!, l, mv.mean), k.store(invOut!, l, k.get(inv))] : []),
      ...nest(true, (red, off) => {
        const d = k.sub(k.load(x, off), mv.mean);
        const rr = k.mul(k.mul(d, k.get(inv)), k.load(scale, broadcastIndex(red, ts!.shape, tail)));
        return [k.store(y, off, bias ? k.add(rr, k.load(bias, broadcastIndex(red, tb!.shape, tail))) : rr)];
      }),
    ];
  }));
});

const MVN_EPS = f32(1e-9);

defineKernel('MeanVarianceNormalization', (r) => {
  const dims = r.inputs[0]!.shape;
  const axes = r.attrs.axes as number[];
  const K = numel(axes.map((a) => dims[a]!));
  const B = new k.KernelBuilder('MeanVarianceNormalization');
  const x = B.input('x', 'float32', numel(dims));
  const y = B.output('y', 'float32', numel(dims));
  const s = B.local('s', 'f32'), q = B.local('q', 'f32'), m = B.local('m', 'f32'), den = B.local('den', 'f32'), xv = B.local('xv', 'f32');
  return B.build(grouped(dims, axes, (_o, nest) => [
    k.set(s, F(0)),
    k.set(q, F(0)),
    ...nest(false, (_r, off) => [
      k.set(xv, k.load(x, off)),
      k.set(s, k.add(k.get(s), k.get(xv))),
      k.set(q, k.add(k.get(q), k.mul(k.get(xv), k.get(xv)))),
    ]),
    k.set(m, k.div(k.get(s), F(K))),
    // var = m2 − m·m; sd = sqrt(var); den = sd + 1e-9
    k.set(den, k.add(k.sqrt(k.sub(k.div(k.get(q), F(K)), k.mul(k.get(m), k.get(m)))), F(MVN_EPS))),
    ...nest(true, (_r, off) => [k.store(y, off, k.div(k.sub(k.load(x, off), k.get(m)), k.get(den)))]),
  ]));
});

defineKernel('LpNormalization', (r) => {
  const dims = r.inputs[0]!.shape;
  const axis = r.attrs.axis as number;
  const p = r.attrs.p as number;
  const B = new k.KernelBuilder('LpNormalization');
  const x = B.input('x', 'float32', numel(dims));
  const y = B.output('y', 'float32', numel(dims));
  const nrm = B.local('n', 'f32');
  return B.build(grouped(dims, dims.length ? [axis] : [], (_o, nest) => [
    k.set(nrm, F(0)),
    ...nest(false, (_r, off) => {
      const v = k.load(x, off);
      return [k.set(nrm, k.add(k.get(nrm), p === 1 ? k.abs(v) : k.mul(v, v)))];
    }),
    ...(p === 2 ? [k.set(nrm, k.sqrt(k.get(nrm)))] : []),
    ...nest(true, (_r, off) => [k.store(y, off, k.div(k.load(x, off), k.get(nrm)))]),
  ]));
});

// ---------------------------------------------------------------- LRN

defineKernel('LRN', (r) => {
  const tx = r.inputs[0]!;
  const [N, C, ...Dsp] = tx.shape;
  const P = numel(Dsp);
  const size = r.attrs.size as number;
  const lo = Math.floor((size - 1) / 2);
  const B = new k.KernelBuilder('LRN');
  const x = B.input('x', 'float32', numel(tx.shape));
  const y = B.output('y', 'float32', numel(tx.shape));
  const sq = B.local('sq', 'f32');
  const coef = F(f32(f32(r.attrs.alpha as number) / size));
  return B.build(k.pforShape([N!, C!, P], ([n, c, p]) => {
    const m = new MathCtx(B, 'lrn');
    const t = k.add(F(r.attrs.bias as number), k.mul(coef, k.get(sq)));
    const tb = pow(m, t, F(r.attrs.beta as number));
    const at = (ci: Expr) => k.add(k.mul(k.add(k.mul(n!, I(C!)), ci), I(P)), p!);
    return [
      k.set(sq, F(0)),
      // channels c − lo … c − lo + size − 1, those inside [0, C) in increasing order (uniform across lanes)
      k.sfor(size, (j) => {
        const ci = k.add(k.sub(c!, I(lo)), j);
        const v = k.load(x, at(ci));
        return [k.when(k.and(k.ge(ci, I(0)), k.lt(ci, I(C!))), [k.set(sq, k.add(k.get(sq), k.mul(v, v)))])];
      }),
      ...m.take(),
      k.store(y, at(c!), k.div(k.load(x, at(c!)), tb)),
    ];
  }));
});

// ---------------------------------------------------------------- Resize

interface AxisTaps {
  /** statements to run first (they set locals) */
  stmts: Stmt[];
  idx: Expr[];
  w: Expr[];
  outside?: Expr;
}

/** Per-axis taps of Resize for output index o (i32), computed with the doc's float steps. */
function resizeAxis(B: k.KernelBuilder, attrs: Attrs, axis: number, r: number, inLen: number, outLen: number, o: Expr): AxisTaps {
  const mode = attrs.mode as string, coord = attrs.coordinate_transformation_mode as string;
  const s = f32((attrs.scales as number[])[axis]!);
  const roi = attrs.roi as number[];
  const start = roi.length ? f32(roi[axis]!) : 0, end = roi.length ? f32(roi[r + axis]!) : 1;
  const L = s === f32(outLen / inLen) ? outLen : f32(s * inLen);
  const stmts: Stmt[] = [];
  const bind = (e: Expr, t: 'f32' | 'i32', name: string): Expr => {
    const l = B.local(`rz${axis}_${name}`, t);
    stmts.push(k.set(l, e));
    return k.get(l);
  };
  const of = toF(o);
  const halfPix = () => k.sub(k.div(k.add(of, F(0.5)), F(s)), F(0.5));
  let xe: Expr;
  switch (coord) {
    case 'half_pixel': xe = halfPix(); break;
    case 'pytorch_half_pixel': xe = L > 1 ? halfPix() : F(0); break;
    case 'half_pixel_symmetric': {
      const adj = f32(outLen / L);
      const off = f32(f32(inLen / 2) * f32(1 - adj));
      xe = k.sub(k.add(F(off), k.div(k.add(of, F(0.5)), F(s))), F(0.5));
      break;
    }
    case 'align_corners': xe = L === 1 ? F(0) : k.div(k.mul(of, F(inLen - 1)), F(f32(L - 1))); break;
    case 'asymmetric': xe = k.div(of, F(s)); break;
    case 'tf_half_pixel_for_nn': xe = k.div(k.add(of, F(0.5)), F(s)); break;
    case 'tf_crop_and_resize': {
      const base = f32(start * (inLen - 1));
      xe = L === 1
        ? F(f32(f32(f32(f32(end - start) * (inLen - 1)) / 2) + base))
        : k.add(k.div(k.mul(k.mul(of, F(f32(end - start))), F(inLen - 1)), F(f32(L - 1))), F(base));
      break;
    }
    default: throw new k.KernelError(`Resize: unknown coordinate_transformation_mode ${coord}`);
  }
  const x = bind(xe, 'f32', 'x');
  const outside = coord === 'tf_crop_and_resize' ? k.or(k.lt(x, F(0)), k.gt(x, F(inLen - 1))) : undefined;
  const clampIdx = (i: Expr) => clampI(i, 0, inLen - 1);
  if (mode === 'nearest') {
    const nm = attrs.nearest_mode as string;
    const fl = bind(k.floor(x), 'f32', 'fl');
    const t = k.sub(x, fl);
    let rr: Expr;
    switch (nm) {
      case 'round_prefer_floor': rr = k.select(k.gt(t, F(0.5)), k.add(fl, F(1)), fl); break;
      case 'round_prefer_ceil': rr = k.select(k.ge(t, F(0.5)), k.add(fl, F(1)), fl); break;
      case 'floor': rr = fl; break;
      case 'ceil': rr = k.ceil(x); break;
      default: throw new k.KernelError(`Resize: unknown nearest_mode ${nm}`);
    }
    return { stmts, idx: [bind(clampIdx(toI(rr)), 'i32', 'i')], w: [], outside };
  }
  if (mode === 'linear') {
    const xc = bind(k.select(k.lt(x, F(0)), F(0), k.select(k.gt(x, F(inLen - 1)), F(inLen - 1), x)), 'f32', 'xc');
    const fl = bind(k.floor(xc), 'f32', 'fl');
    const t = bind(k.sub(xc, fl), 'f32', 't');
    const fi = bind(toI(fl), 'i32', 'fi');
    return {
      stmts,
      idx: [bind(clampIdx(fi), 'i32', 'i0'), bind(clampIdx(k.add(fi, I(1))), 'i32', 'i1')],
      w: [bind(k.sub(F(1), t), 'f32', 'w0'), t],
      outside,
    };
  }
  // cubic
  const a = f32(attrs.cubic_coeff_a as number);
  const fl = bind(k.floor(x), 'f32', 'fl');
  const t = bind(k.sub(x, fl), 'f32', 't');
  const near = (z: Expr) => k.add(k.mul(k.mul(k.sub(k.mul(F(f32(a + 2)), z), F(f32(a + 3))), z), z), F(1));
  const far = (z: Expr) => k.sub(k.mul(k.add(k.mul(k.sub(k.mul(F(a), z), F(f32(5 * a))), z), F(f32(8 * a))), z), F(f32(4 * a)));
  const z0 = bind(k.add(F(1), t), 'f32', 'z0'), z2 = bind(k.sub(F(1), t), 'f32', 'z2'), z3 = bind(k.sub(F(2), t), 'f32', 'z3');
  let ws = [bind(far(z0), 'f32', 'c0'), bind(near(t), 'f32', 'c1'), bind(near(z2), 'f32', 'c2'), bind(far(z3), 'f32', 'c3')];
  // fl as an integer, clamped far enough out that the four taps keep their in-range status
  const fi = bind(clampI(toI(fl), -8, inLen + 8), 'i32', 'fi');
  const raw = [-1, 0, 1, 2].map((d) => k.add(fi, I(d)));
  if (attrs.exclude_outside) {
    const keep = raw.map((i) => k.and(k.ge(i, I(0)), k.lt(i, I(inLen))));
    let sum: Expr = F(0);
    ws.forEach((wv, j) => { sum = bind(k.select(keep[j]!, k.add(sum, wv), sum), 'f32', `s${j}`); });
    ws = ws.map((wv, j) => bind(k.select(keep[j]!, k.div(wv, sum), F(0)), 'f32', `e${j}`));
  }
  return { stmts, idx: raw.map((i, j) => bind(clampIdx(i), 'i32', `i${j}`)), w: ws, outside };
}

/** The extrapolation value in X's dtype, by Cast's rules (as the IR doc and fold define it). */
function extrapolationConst(dtype: ReturnType<typeof computeType>, d: DType, ext: number): Expr {
  return k.constOf(dtype, castScalar(ext, 'float32', d));
}

defineKernel('Resize', (r) => {
  const tx = r.inputs[0]!;
  const to = r.outputs[0]!;
  const inDims = tx.shape;
  const sizes = to.shape;
  const R = sizes.length;
  const B = new k.KernelBuilder('Resize');
  const x = B.input('x', tx.dtype, numel(inDims));
  const y = B.output('y', to.dtype, numel(sizes));
  const t = computeType(tx.dtype);
  const inStr = strides(inDims);
  const nearest = r.attrs.mode === 'nearest';
  const accs = Array.from({ length: R }, (_, a) => B.local(`acc${a}`, t));
  const ext = extrapolationConst(t, tx.dtype, r.attrs.extrapolation_value as number);
  const element = (o: Expr[], taps: AxisTaps[]): Stmt[] => {
    let value: Expr;
    const pre: Stmt[] = [];
    if (R === 0) value = k.load(x, I(0));
    else if (nearest) value = k.load(x, sumOf(taps.map((tp, a) => k.mul(tp.idx[0]!, I(inStr[a]!)))));
    else {
      // separable: last axis innermost, each 1-D sum from +0 in tap order
      const rec = (a: number, off: Expr): Stmt[] => {
        const out: Stmt[] = [k.set(accs[a]!, F(0))];
        if (a < R - 1 && inDims[a] === 1) {
          // every tap of a length-1 axis reads index 0: the inner sum is the same value for each tap
          out.unshift(...rec(a + 1, off));
          taps[a]!.w.forEach((wj) => out.push(k.set(accs[a]!, k.add(k.get(accs[a]!), k.mul(wj, k.get(accs[a + 1]!))))));
          return out;
        }
        taps[a]!.idx.forEach((ii, j) => {
          const at = k.add(off, k.mul(ii, I(inStr[a]!)));
          if (a === R - 1) out.push(k.set(accs[a]!, k.add(k.get(accs[a]!), k.mul(taps[a]!.w[j]!, k.load(x, at)))));
          else out.push(...rec(a + 1, at), k.set(accs[a]!, k.add(k.get(accs[a]!), k.mul(taps[a]!.w[j]!, k.get(accs[a + 1]!)))));
        });
        return out;
      };
      pre.push(...rec(0, I(0)));
      value = k.get(accs[0]!);
    }
    const outs = taps.map((tp) => tp.outside).filter((e): e is Expr => !!e);
    if (outs.length) value = k.select(outs.reduce((p, q) => k.or(p, q)), ext, value);
    return [...pre, k.store(y, k.flatIndex(o, sizes), value)];
  };
  if (R === 0) return B.build(element([], []));
  const outerTaps: AxisTaps[] = [];
  return B.build(k.pforFlat(sizes.slice(0, -1), (oi) => {
    const outerStmts: Stmt[] = [];
    oi.forEach((o, a) => {
      const tp = resizeAxis(B, r.attrs, a, R, inDims[a]!, sizes[a]!, o);
      outerTaps[a] = tp;
      outerStmts.push(...tp.stmts);
    });
    return [...outerStmts, k.pfor(sizes[R - 1]!, (o) => {
      const tp = resizeAxis(B, r.attrs, R - 1, R, inDims[R - 1]!, sizes[R - 1]!, o);
      return [...tp.stmts, ...element([...oi, o], [...outerTaps.slice(0, R - 1), tp])];
    })];
  }));
});
