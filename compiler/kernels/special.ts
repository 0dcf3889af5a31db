/**
 * Special-purpose kernels: NegativeLogLikelihoodLoss, Det, MaxUnpool, Col2Im, GridSample, RoiAlign (each
 * equal to the op's host fold bit for bit) and DFT, STFT, Window, MelWeightMatrix (no fold: built on the
 * deterministic sin/cos/log/pow of compiler/kernel/math.ts). Each follows the operation order of its spec
 * in converter/ir/ops/special.ts (docs/ir-ops.md). Data-dependent positions (targets, grid coordinates,
 * roi boxes, indices) are always clamped before a load or store and the documented value is selected, so
 * no kernel reads or writes outside a buffer whatever the input values.
 */
import type { TensorType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import { strides } from '../../converter/ir/host-tensor.ts';
import { col2imGrid } from '../../converter/ir/ops/special.ts';
import type { Expr, LocalVar, Stmt } from '../kernel/ast.ts';
import { computeType } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import { MathCtx, cos, log, pow, sin } from '../kernel/math.ts';
import { defineKernel } from './registry.ts';

const I32_MIN = -2147483648, I32_MAX = 2147483647;
const toF = (e: Expr) => k.convert('f32.from_i32_s', e);
const toI = (e: Expr) => k.convert('i32.trunc_sat_f32_s', e);
const all = (...cs: Expr[]) => cs.reduce((a, b) => k.and(a, b));
const any = (...cs: Expr[]) => cs.reduce((a, b) => k.or(a, b));

/** `lo ≤ v < hi` for an integer value of type i32 or i64 (constants outside i32 handled exactly). */
function inRangeInt(v: Expr, lo: number, hi: number): Expr {
  return k.and(k.ge(v, k.constOf(v.type, lo)), k.lt(v, k.constOf(v.type, hi)));
}

/** `v ≠ c` for an integer v; a constant outside the i32 range never equals an i32 value. */
function neInt(v: Expr, c: number): Expr {
  if (v.type === 'i32' && (c < I32_MIN || c > I32_MAX)) return k.i32(1);
  return k.ne(v, k.constOf(v.type, c));
}

/** An i32 index from an integer value already known (when `ok`) to be in i32 range; 0 otherwise. */
function clampIndex(v: Expr, ok: Expr): Expr {
  const w = v.type === 'i64' ? k.convert('i32.wrap_i64', v) : v;
  return k.select(ok, w, k.i32(0));
}

// ---------------------------------------------------------------- NegativeLogLikelihoodLoss

defineKernel('NegativeLogLikelihoodLoss', (r) => {
  const [tx, tt, tw] = r.inputs as [TensorType, TensorType, TensorType | undefined];
  const [N, C] = tx.shape as unknown as [number, number];
  const D = numel(tx.shape.slice(2));
  const ii = r.attrs.ignore_index as number;
  const red = r.attrs.reduction as string;
  const K = new k.KernelBuilder('NegativeLogLikelihoodLoss');
  const x = K.input('x', 'float32', numel(tx.shape));
  const t = K.input('target', tt.dtype, numel(tt.shape));
  const w = tw ? K.input('weight', 'float32', C) : undefined;
  const y = K.output('y', 'float32', numel(r.outputs[0]!.shape));
  const tv = K.local('t', computeType(tt.dtype));
  const ok = K.local('ok', 'i32');
  const ti = K.local('ti', 'i32');
  /** Statements computing ok/ti for position (n, d); then the loss and weight expressions. */
  const at = (n: Expr, d: Expr): { pre: Stmt[]; loss: Expr; weight: Expr } => {
    const pre = [
      k.set(tv, k.load(t, k.add(k.mul(n, k.i32(D)), d))),
      k.set(ok, k.and(inRangeInt(k.get(tv), 0, C), neInt(k.get(tv), ii))),
      k.set(ti, clampIndex(k.get(tv), k.get(ok))),
    ];
    const v = k.load(x, k.add(k.mul(k.add(k.mul(n, k.i32(C)), k.get(ti)), k.i32(D)), d));
    const wv = w ? k.load(w, k.get(ti)) : k.f32(1);
    return { pre, loss: w ? k.neg(k.mul(v, wv)) : k.neg(v), weight: wv };
  };
  if (red === 'none') {
    return K.build(k.pforShape([N, D], ([n, d]) => {
      const { pre, loss } = at(n!, d!);
      return [...pre, k.store(y, k.add(k.mul(n!, k.i32(D)), d!), k.select(k.get(ok), loss, k.f32(0)))];
    }));
  }
  const S = K.local('S', 'f32'), W = K.local('W', 'f32');
  return K.build([
    k.set(S, k.f32(0)), k.set(W, k.f32(0)),
    k.sfor(N, (n) => [k.sfor(D, (d) => {
      const { pre, loss, weight } = at(n, d);
      return [
        ...pre,
        k.set(S, k.select(k.get(ok), k.add(k.get(S), loss), k.get(S))),
        k.set(W, k.select(k.get(ok), k.add(k.get(W), weight), k.get(W))),
      ];
    })]),
    k.store(y, k.i32(0), red === 'sum' ? k.get(S) : k.div(k.get(S), k.get(W))),
  ]);
});

// ---------------------------------------------------------------- Det

defineKernel('Det', (r) => {
  const tx = r.inputs[0]!;
  const s = tx.shape;
  const M = s[s.length - 1]!;
  const B = numel(s.slice(0, -2));
  const K = new k.KernelBuilder('Det');
  const x = K.input('x', 'float32', numel(s));
  const y = K.output('y', 'float32', B);
  if (M === 0) return K.build([k.pfor(B, (b) => [k.store(y, b, k.f32(1))])]);
  const a = K.scratch('a', 'float32', B * M * M);
  const [neg, done, piv] = ['neg', 'done', 'piv'].map((nm) => K.local(nm, 'i32')) as [LocalVar, LocalVar, LocalVar];
  const [acc, best, v, p, f, tmp] = ['acc', 'best', 'v', 'p', 'f', 'tmp'].map((nm) => K.local(nm, 'f32')) as LocalVar[] as [LocalVar, LocalVar, LocalVar, LocalVar, LocalVar, LocalVar];
  return K.build([k.pfor(B, (b) => {
    const base = k.mul(b, k.i32(M * M));
    const A = (i: Expr, j: Expr) => k.add(base, k.add(k.mul(i, k.i32(M)), j));
    const stages: Stmt[] = [];
    for (let kk = 0; kk < M; kk++) {
      const K_ = k.i32(kk);
      stages.push(k.when(k.eqz(k.get(done)), [
        // 1. pivot: first strictly largest magnitude (a NaN never replaces the pivot)
        k.set(piv, K_),
        k.set(best, k.abs(k.load(a, A(K_, K_)))),
        k.sfor(M, (i) => [
          k.set(v, k.abs(k.load(a, A(i, K_)))),
          k.set(piv, k.select(k.gt(k.get(v), k.get(best)), i, k.get(piv))),
          k.set(best, k.select(k.gt(k.get(v), k.get(best)), k.get(v), k.get(best))),
        ], kk + 1),
        // 2. swap whole rows
        k.when(k.ne(k.get(piv), K_), [
          k.set(neg, k.xor(k.get(neg), k.i32(1))),
          k.sfor(M, (j) => [
            k.set(tmp, k.load(a, A(K_, j))),
            k.store(a, A(K_, j), k.load(a, A(k.get(piv), j))),
            k.store(a, A(k.get(piv), j), k.get(tmp)),
          ]),
        ]),
        // 3. running product
        k.set(p, k.load(a, A(K_, K_))),
        k.set(acc, kk === 0 ? k.get(p) : k.mul(k.get(acc), k.get(p))),
        // 4. zero pivot: the determinant is +0; 5. eliminate below the pivot
        k.when(k.eq(k.get(p), k.f32(0)), [k.set(acc, k.f32(0)), k.set(neg, k.i32(0)), k.set(done, k.i32(1))], [
          k.sfor(M, (i) => [
            k.set(f, k.div(k.load(a, A(i, K_)), k.get(p))),
            k.sfor(M, (j) => [k.store(a, A(i, j), k.sub(k.load(a, A(i, j)), k.mul(k.get(f), k.load(a, A(K_, j)))))], kk + 1),
          ], kk + 1),
        ]),
      ]));
    }
    return [
      k.sfor(M * M, (e) => [k.store(a, k.add(base, e), k.load(x, k.add(base, e)))]),
      k.set(neg, k.i32(0)), k.set(done, k.i32(0)), k.set(acc, k.f32(1)),
      ...stages,
      k.store(y, b, k.select(k.get(neg), k.neg(k.get(acc)), k.get(acc))),
    ];
  })]);
});

// ---------------------------------------------------------------- MaxUnpool

defineKernel('MaxUnpool', (r) => {
  const [tx, ti] = r.inputs as [TensorType, TensorType];
  const is = r.attrs.index_shape as number[], os = r.attrs.output_shape as number[];
  const ni = numel(is), E = numel(tx.shape), O = numel(os);
  const ist = strides(is), ost = strides(os);
  const K = new k.KernelBuilder('MaxUnpool');
  const x = K.input('x', tx.dtype, E);
  const ind = K.input('indices', ti.dtype, E);
  const y = K.output('y', tx.dtype, O);
  const t = computeType(tx.dtype);
  const jv = K.local('j', 'i64');
  const ok = K.local('ok', 'i32');
  const rem = K.local('rem', 'i32');
  const dst = K.local('dst', 'i32');
  const inside = K.local('inside', 'i32');
  const pa = K.local('p', 'i32');
  return K.build([
    k.pfor(O, (o) => [k.store(y, o, k.constOf(t, 0))]),
    k.sfor(E, (e) => {
      const body: Stmt[] = [
        k.set(jv, k.load(ind, e)),
        k.set(ok, inRangeInt(k.get(jv), 0, ni)),
        k.set(rem, clampIndex(k.get(jv), k.get(ok))),
        k.set(dst, k.i32(0)),
        k.set(inside, k.get(ok)),
      ];
      for (let a = 0; a < is.length; a++) {
        body.push(
          k.set(pa, ist[a] === 1 ? k.get(rem) : k.idiv(k.get(rem), k.i32(ist[a]!))),
          k.set(rem, k.sub(k.get(rem), k.mul(k.get(pa), k.i32(ist[a]!)))),
          k.set(inside, k.and(k.get(inside), k.lt(k.get(pa), k.i32(os[a]!)))),
          k.set(dst, k.add(k.get(dst), k.mul(k.get(pa), k.i32(ost[a]!)))),
        );
      }
      body.push(k.when(k.get(inside), [k.store(y, k.get(dst), k.load(x, e))]));
      return body;
    }),
  ]);
});

// ---------------------------------------------------------------- Col2Im

defineKernel('Col2Im', (r) => {
  const tx = r.inputs[0]!;
  const im = r.attrs.image_shape as number[], bl = r.attrs.block_shape as number[], dl = r.attrs.dilations as number[];
  const pd = r.attrs.pads as number[], st = r.attrs.strides as number[];
  const nk = im.length, B = numel(bl);
  const [N, CB, L] = tx.shape as unknown as [number, number, number];
  const C = CB / B;
  const grid = col2imGrid(im, bl, dl, pd, st);
  const bStr = strides(bl), gStr = strides(grid);
  const K = new k.KernelBuilder('Col2Im');
  const x = K.input('x', 'float32', numel(tx.shape));
  const outDims = [N, C, ...im];
  const y = K.output('y', 'float32', numel(outDims));
  const acc = K.local('acc', 'f32');
  const small = im.every((d, i) => d + pd[i]! + pd[i + nk]! + dl[i]! * bl[i]! < 2 ** 24);
  return K.build(k.pforShape(outDims, (idx) => {
    const [n, c, ...p] = idx as [Expr, Expr, ...Expr[]];
    // block offsets b_0 … b_{k−1} in row-major order, i.e. q = c·B + b ascending (the fold's order)
    const rec = (axis: number, b: Expr[]): Stmt[] => {
      if (axis < nk) return [k.sfor(bl[axis]!, (bi) => rec(axis + 1, [...b, bi]))];
      const conds: Expr[] = [];
      let l: Expr = k.i32(0), bf: Expr = k.i32(0);
      for (let i = 0; i < nk; i++) {
        const numer = k.sub(k.add(p[i]!, k.i32(pd[i]!)), k.mul(b[i]!, k.i32(dl[i]!)));
        // g = numer ÷ stride when numer ≥ 0 and divisible: through an f32 division, exact here (the
        // quotient of integers below 2^24 is never rounded up to the next integer), so it vectorises
        const g = st[i] === 1 ? numer : small ? toI(k.floor(k.div(toF(numer), k.f32(st[i]!)))) : k.idiv(numer, k.i32(st[i]!));
        conds.push(k.ge(numer, k.i32(0)), k.lt(g, k.i32(grid[i]!)));
        if (st[i] !== 1) conds.push(k.eq(k.mul(g, k.i32(st[i]!)), numer));
        l = k.add(l, k.mul(g, k.i32(gStr[i]!)));
        bf = k.add(bf, k.mul(b[i]!, k.i32(bStr[i]!)));
      }
      const valid = all(...conds);
      const xi = k.add(k.mul(k.add(k.mul(n, k.i32(CB)), k.add(k.mul(c, k.i32(B)), bf)), k.i32(L)), l);
      const v = k.load(x, k.select(valid, xi, k.i32(0)));
      return [k.set(acc, k.select(valid, k.add(k.get(acc), v), k.get(acc)))];
    };
    return [k.set(acc, k.f32(0)), ...rec(0, []), k.store(y, k.flatIndex(idx, outDims), k.get(acc))];
  }));
});

// ---------------------------------------------------------------- GridSample

/** Largest k with span·2^k finite in float32. */
function topPower(span: number): number {
  let e = 0;
  while (Number.isFinite(Math.fround(span * 2 ** (e + 1)))) e++;
  return e;
}

defineKernel('GridSample', (r) => {
  const [tx, tg] = r.inputs as [TensorType, TensorType];
  const [N, C, H, W] = tx.shape as unknown as [number, number, number, number];
  const [, Ho, Wo] = tg.shape as unknown as [number, number, number];
  const ac = r.attrs.align_corners === 1, pad = r.attrs.padding_mode as string, mode = r.attrs.mode as string;
  const K = new k.KernelBuilder('GridSample');
  const x = K.input('x', 'float32', numel(tx.shape));
  const g = K.input('grid', 'float32', numel(tg.shape));
  const y = K.output('y', 'float32', N * C * Ho * Wo);
  const fl = (nm: string) => K.local(nm, 'f32');
  const il = (nm: string) => K.local(nm, 'i32');

  const unnorm = (v: Expr, S: number) => (ac
    ? k.mul(k.div(k.add(v, k.f32(1)), k.f32(2)), k.f32(S - 1))
    : k.div(k.sub(k.mul(k.add(v, k.f32(1)), k.f32(S)), k.f32(1)), k.f32(2)));
  const clampC = (u: Expr, S: number) => k.min(k.f32(S - 1), k.max(u, k.f32(0)));
  // reflection bounds (lo2, hi2) = (0, 2(S − 1)) with align_corners, else (−1, 2S − 1)
  const LO2 = ac ? 0 : -1, hi2 = (S: number) => (ac ? 2 * (S - 1) : 2 * S - 1);
  /** Reflection padding from diff = u − m (already rounded once), into local `out`; uses scratch locals. */
  const rd = fl('rd'), rr = fl('rr'), rk = fl('rk'), rs = fl('rs');
  const reflect = (diff: Expr, S: number, out: LocalVar): Stmt[] => {
    if (LO2 === hi2(S)) return [k.set(out, k.f32(0))];
    const m = Math.fround(LO2 / 2), span = Math.fround((hi2(S) - LO2) / 2);
    const top = topPower(span);
    // exact fmod(d, span) by binary long division over s = span·2^e, e = top … 0: before each step
    // r < 2s, so r − s is exact (Sterbenz) and the halving of s is exact (s ≥ span ≥ 1)
    const ss: Stmt[] = [
      k.set(rd, k.abs(diff)), k.set(rr, k.get(rd)), k.set(rs, k.f32(span * 2 ** top)),
      k.sfor(top + 1, () => [
        k.set(rr, k.select(k.ge(k.get(rr), k.get(rs)), k.sub(k.get(rr), k.get(rs)), k.get(rr))),
        k.set(rs, k.mul(k.get(rs), k.f32(0.5))),
      ]),
    ];
    ss.push(
      k.set(rr, k.select(k.eq(k.get(rd), k.f32(Infinity)), k.f32(NaN), k.get(rr))),
      k.set(rk, k.floor(k.div(k.get(rd), k.f32(span)))),
      k.set(out, clampC(k.select(k.eq(k.get(rk), k.mul(k.floor(k.mul(k.get(rk), k.f32(0.5))), k.f32(2))),
        k.add(k.get(rr), k.f32(m)),
        k.add(k.sub(k.f32(span), k.get(rr)), k.f32(m))), S)),
    );
    return ss;
  };
  /** Pad a coordinate u (local) in place, for bilinear and nearest. */
  const padCoord = (u: LocalVar, S: number): Stmt[] => {
    if (pad === 'zeros') return [];
    if (pad === 'border') return [k.set(u, clampC(k.get(u), S))];
    return reflect(k.sub(k.get(u), k.f32(Math.fround(LO2 / 2))), S, u);
  };
  const inR = (v: Expr, S: number) => k.and(k.ge(v, k.f32(0)), k.lt(v, k.f32(S)));

  const ux = fl('ux'), uy = fl('uy');
  return K.build(k.pforShape([N, Ho, Wo], ([n, i, j]) => {
    const gi = k.mul(k.add(k.mul(k.add(k.mul(n!, k.i32(Ho)), i!), k.i32(Wo)), j!), k.i32(2));
    const head: Stmt[] = [k.set(ux, unnorm(k.load(g, gi), W)), k.set(uy, unnorm(k.load(g, k.add(gi, k.i32(1))), H))];
    const plane = (c: Expr) => k.mul(k.add(k.mul(n!, k.i32(C)), c), k.i32(H * W));
    const outIdx = (c: Expr) => k.add(k.add(k.mul(k.add(k.mul(n!, k.i32(C)), c), k.i32(Ho * Wo)), k.mul(i!, k.i32(Wo))), j!);
    const V = (c: Expr, ok: Expr, yi: Expr, xi: Expr) => k.select(ok, k.load(x, k.add(plane(c), k.add(k.mul(yi, k.i32(W)), xi))), k.f32(0));

    if (mode === 'nearest') {
      const [yn, xn] = [fl('yn'), fl('xn')];
      const [ok, yi, xi] = [il('ok'), il('yi'), il('xi')];
      return [
        ...head, ...padCoord(ux, W), ...padCoord(uy, H),
        k.set(yn, k.nearest(k.get(uy))), k.set(xn, k.nearest(k.get(ux))),
        k.set(ok, k.and(inR(k.get(yn), H), inR(k.get(xn), W))),
        k.set(yi, k.select(k.get(ok), toI(k.get(yn)), k.i32(0))),
        k.set(xi, k.select(k.get(ok), toI(k.get(xn)), k.i32(0))),
        k.sfor(C, (c) => [k.store(y, outIdx(c), V(c, k.get(ok), k.get(yi), k.get(xi)))]),
      ];
    }
    if (mode === 'bilinear') {
      const [x0, y0, x1, y1, wnw, wne, wsw, wse, acc] = ['x0', 'y0', 'x1', 'y1', 'wnw', 'wne', 'wsw', 'wse', 'acc'].map(fl) as LocalVar[] as LocalVar[];
      const [okx0, okx1, oky0, oky1, ix0, ix1, iy0, iy1] = ['okx0', 'okx1', 'oky0', 'oky1', 'ix0', 'ix1', 'iy0', 'iy1'].map(il) as LocalVar[];
      const G = k.get;
      const idx = (ok: LocalVar, f: LocalVar, dst: LocalVar, S: number): Stmt[] => [
        k.set(ok, inR(G(f), S)), k.set(dst, k.select(G(ok), toI(G(f)), k.i32(0))),
      ];
      const taps: [LocalVar, LocalVar, LocalVar, LocalVar, LocalVar][] = [
        [wnw!, oky0!, okx0!, iy0!, ix0!], [wne!, oky0!, okx1!, iy0!, ix1!], [wsw!, oky1!, okx0!, iy1!, ix0!], [wse!, oky1!, okx1!, iy1!, ix1!],
      ];
      return [
        ...head, ...padCoord(ux, W), ...padCoord(uy, H),
        k.set(x0!, k.floor(G(ux))), k.set(y0!, k.floor(G(uy))),
        k.set(x1!, k.add(G(x0!), k.f32(1))), k.set(y1!, k.add(G(y0!), k.f32(1))),
        k.set(wnw!, k.mul(k.sub(G(x1!), G(ux)), k.sub(G(y1!), G(uy)))),
        k.set(wne!, k.mul(k.sub(G(ux), G(x0!)), k.sub(G(y1!), G(uy)))),
        k.set(wsw!, k.mul(k.sub(G(x1!), G(ux)), k.sub(G(uy), G(y0!)))),
        k.set(wse!, k.mul(k.sub(G(ux), G(x0!)), k.sub(G(uy), G(y0!)))),
        ...idx(okx0!, x0!, ix0!, W), ...idx(okx1!, x1!, ix1!, W), ...idx(oky0!, y0!, iy0!, H), ...idx(oky1!, y1!, iy1!, H),
        k.sfor(C, (c) => [
          k.set(acc!, k.f32(0)),
          ...taps.map(([w, oy, ox, yy, xx]) => {
            const ok = k.and(G(oy), G(ox));
            return k.set(acc!, k.select(ok, k.add(G(acc!), k.mul(G(w), V(c, ok, G(yy), G(xx)))), G(acc!)));
          }),
          k.store(y, outIdx(c), G(acc!)),
        ]),
      ];
    }
    // bicubic: coordinates unpadded; each integer tap index is padded, then truncated
    const G = k.get;
    const A = -0.75;
    const cc2 = (t: Expr) => k.sub(k.mul(k.add(k.mul(k.sub(k.mul(k.f32(A), t), k.f32(5 * A)), t), k.f32(8 * A)), t), k.f32(4 * A));
    const cc1 = (t: Expr) => k.add(k.mul(k.mul(k.sub(k.mul(k.f32(A + 2), t), k.f32(A + 3)), t), t), k.f32(1));
    const [x0, y0, tx0, ty0, omt, tmpF] = ['x0', 'y0', 'tx', 'ty', 'omt', 'tapf'].map(fl) as LocalVar[] as LocalVar[];
    const cx = [0, 1, 2, 3].map((q) => fl(`cx${q}`)), cy = [0, 1, 2, 3].map((q) => fl(`cy${q}`));
    const xI = [0, 1, 2, 3].map((q) => il(`xi${q}`)), yI = [0, 1, 2, 3].map((q) => il(`yi${q}`));
    const xOk = [0, 1, 2, 3].map((q) => il(`xok${q}`)), yOk = [0, 1, 2, 3].map((q) => il(`yok${q}`));
    const coeffs = (t: LocalVar, out: LocalVar[]): Stmt[] => [
      k.set(out[0]!, cc2(k.add(G(t), k.f32(1)))),
      k.set(out[1]!, cc1(G(t))),
      k.set(omt!, k.sub(k.f32(1), G(t))),
      k.set(out[2]!, cc1(G(omt!))),
      k.set(out[3]!, cc2(k.add(G(omt!), k.f32(1)))),
    ];
    /** Tap index base + (q − 1): padded as a float32 value, truncated, range-checked. */
    const tapIdx = (base: LocalVar, q: number, S: number, ok: LocalVar, dst: LocalVar): Stmt[] => {
      const ss: Stmt[] = [];
      if (pad === 'reflection') ss.push(...reflect(k.add(G(base), k.f32(q - 1 - Math.fround(LO2 / 2))), S, tmpF!));
      else {
        ss.push(k.set(tmpF!, k.add(G(base), k.f32(q - 1))));
        if (pad === 'border') ss.push(k.set(tmpF!, clampC(G(tmpF!), S)));
      }
      ss.push(k.set(tmpF!, k.trunc(G(tmpF!))), k.set(ok, inR(G(tmpF!), S)), k.set(dst, k.select(G(ok), toI(G(tmpF!)), k.i32(0))));
      return ss;
    };
    const row = fl('row'), acc = fl('acc');
    return [
      ...head,
      k.set(x0!, k.floor(G(ux))), k.set(tx0!, k.sub(G(ux), G(x0!))),
      k.set(y0!, k.floor(G(uy))), k.set(ty0!, k.sub(G(uy), G(y0!))),
      ...coeffs(tx0!, cx), ...coeffs(ty0!, cy),
      ...[0, 1, 2, 3].flatMap((q) => tapIdx(x0!, q, W, xOk[q]!, xI[q]!)),
      ...[0, 1, 2, 3].flatMap((q) => tapIdx(y0!, q, H, yOk[q]!, yI[q]!)),
      k.sfor(C, (c) => [
        k.set(acc, k.f32(0)),
        ...[0, 1, 2, 3].flatMap((rr_) => [
          k.set(row, k.f32(0)),
          ...[0, 1, 2, 3].map((q) => k.set(row, k.add(G(row), k.mul(V(c, k.and(G(yOk[rr_]!), G(xOk[q]!)), G(yI[rr_]!), G(xI[q]!)), G(cx[q]!))))),
          k.set(acc, k.add(G(acc), k.mul(G(row), G(cy[rr_]!)))),
        ]),
        k.store(y, outIdx(c), G(acc)),
      ]),
    ];
  }));
});

// ---------------------------------------------------------------- RoiAlign

defineKernel('RoiAlign', (r) => {
  const [tx, trois, tbi] = r.inputs as [TensorType, TensorType, TensorType];
  const [N, C, H, W] = tx.shape as unknown as [number, number, number, number];
  const R = trois.shape[0]!;
  const oh = r.attrs.output_height as number, ow = r.attrs.output_width as number, sc = r.attrs.spatial_scale as number;
  const sr = r.attrs.sampling_ratio as number;
  const hp = r.attrs.half_pixel === 1, isMax = r.attrs.mode === 'max';
  const K = new k.KernelBuilder('RoiAlign');
  const x = K.input('x', 'float32', numel(tx.shape));
  const rois = K.input('rois', 'float32', R * 4);
  const bi = K.input('batch_indices', tbi.dtype, R);
  const y = K.output('y', 'float32', R * C * oh * ow);
  const fl = (nm: string) => K.local(nm, 'f32');
  const il = (nm: string) => K.local(nm, 'i32');
  const G = k.get;
  const [bv] = [K.local('b', computeType(tbi.dtype))];
  const [bOk, bI, gh, gw, count] = ['bok', 'bi', 'gh', 'gw', 'count'].map(il) as LocalVar[] as LocalVar[];
  const [sx, sy, ex, ey, rw, rh, bh, bw, ghF, gwF, acc] = ['sx', 'sy', 'ex', 'ey', 'rw', 'rh', 'bh', 'bw', 'ghf', 'gwf', 'acc'].map(fl) as LocalVar[] as LocalVar[];
  const [yv, xv, y0, x0, y1, x1, ly, lx, hy, hx, v] = ['y', 'x', 'y0', 'x0', 'y1', 'x1', 'ly', 'lx', 'hy', 'hx', 'v'].map(fl) as LocalVar[] as LocalVar[];
  const [out, hiY, hiX, iy0, iy1, ix0, ix1] = ['out', 'hiy', 'hix', 'iy0', 'iy1', 'ix0', 'ix1'].map(il) as LocalVar[] as LocalVar[];
  const off = hp ? 0.5 : 0;
  const coordY = (ph: Expr, iy: Expr) => k.add(k.add(G(sy!), k.mul(toF(ph), G(bh!))), k.div(k.mul(k.add(toF(iy), k.f32(0.5)), G(bh!)), G(ghF!)));
  const coordX = (pw: Expr, ix: Expr) => k.add(k.add(G(sx!), k.mul(toF(pw), G(bw!))), k.div(k.mul(k.add(toF(ix), k.f32(0.5)), G(bw!)), G(gwF!)));
  const gridCount = (rs: LocalVar, o: number, dst: LocalVar): Stmt[] => (sr > 0 ? [k.set(dst, k.i32(sr))] : [
    // ⌈rs ÷ o⌉ as an integer; negative or NaN counts as 0
    k.set(v!, k.ceil(k.div(G(rs), k.f32(o)))),
    k.set(dst, k.select(k.gt(G(v!), k.f32(0)), toI(G(v!)), k.i32(0))),
  ]);

  /** One sample at (iy, ix) of bin (ph, pw): v = its value (+0 outside the image), then accumulate. */
  const sample = (c: Expr, ph: Expr, pw: Expr, iy: Expr, ix: Expr): Stmt[] => {
    const P = (yy: LocalVar, xx: LocalVar) => k.load(x, k.add(k.mul(k.add(k.mul(G(bI!), k.i32(C)), c), k.i32(H * W)), k.add(k.mul(G(yy), k.i32(W)), G(xx))));
    const axis = (u: LocalVar, lo: LocalVar, hi: LocalVar, big: LocalVar, l: LocalVar, h: LocalVar, i0: LocalVar, i1: LocalVar, S: number): Stmt[] => [
      k.set(u, k.select(k.le(G(u), k.f32(0)), k.f32(0), G(u))),
      k.set(lo, k.floor(G(u))),
      k.set(big, k.ge(G(lo), k.f32(S - 1))),
      k.set(hi, k.select(G(big), k.f32(S - 1), k.add(G(lo), k.f32(1)))),
      k.set(lo, k.select(G(big), k.f32(S - 1), G(lo))),
      k.set(u, k.select(G(big), G(lo), G(u))),
      k.set(l, k.sub(G(u), G(lo))),
      k.set(h, k.sub(k.f32(1), G(l))),
      // in-image samples have 0 ≤ lo ≤ hi ≤ S − 1; others (and NaN) read element 0 and are not used or give NaN
      k.set(i0, k.select(G(out!), k.i32(0), toI(G(lo)))),
      k.set(i1, k.select(G(out!), k.i32(0), toI(G(hi)))),
    ];
    const t1 = k.mul(k.mul(G(hy!), G(hx!)), P(iy0!, ix0!));
    const t2 = k.mul(k.mul(G(hy!), G(lx!)), P(iy0!, ix1!));
    const t3 = k.mul(k.mul(G(ly!), G(hx!)), P(iy1!, ix0!));
    const t4 = k.mul(k.mul(G(ly!), G(lx!)), P(iy1!, ix1!));
    const val = isMax ? k.max(k.max(k.max(t1, t2), t3), t4) : k.add(k.add(k.add(t1, t2), t3), t4);
    return [
      k.set(yv!, coordY(ph, iy)),
      k.set(xv!, coordX(pw, ix)),
      k.set(out!, any(k.lt(G(yv!), k.f32(-1)), k.gt(G(yv!), k.f32(H)), k.lt(G(xv!), k.f32(-1)), k.gt(G(xv!), k.f32(W)))),
      ...axis(yv!, y0!, y1!, hiY!, ly!, hy!, iy0!, iy1!, H),
      ...axis(xv!, x0!, x1!, hiX!, lx!, hx!, ix0!, ix1!, W),
      k.set(v!, k.select(G(out!), k.f32(0), val)),
      k.set(acc!, isMax ? k.max(G(acc!), G(v!)) : k.add(G(acc!), G(v!))),
    ];
  };

  // per (roi, bin): the roi and the sample ranges, then every channel (the innermost output axis is
  // still pw, so the store stays contiguous across lanes)
  return K.build(k.pforShape([R, oh, ow], ([ri, ph, pw]) => {
    const roi = (q: number) => k.sub(k.mul(k.load(rois, k.add(k.mul(ri!, k.i32(4)), k.i32(q))), k.f32(sc)), k.f32(off));
    const head: Stmt[] = [
      k.set(bv, k.load(bi, ri!)),
      k.set(bOk!, inRangeInt(G(bv), 0, N)),
      k.set(bI!, clampIndex(G(bv), G(bOk!))),
      k.set(sx!, roi(0)), k.set(sy!, roi(1)), k.set(ex!, roi(2)), k.set(ey!, roi(3)),
      k.set(rw!, k.sub(G(ex!), G(sx!))), k.set(rh!, k.sub(G(ey!), G(sy!))),
      ...(hp ? [] : [k.set(rw!, k.max(G(rw!), k.f32(1))), k.set(rh!, k.max(G(rh!), k.f32(1)))]),
      k.set(bh!, k.div(G(rh!), k.f32(oh))), k.set(bw!, k.div(G(rw!), k.f32(ow))),
      ...gridCount(rh!, oh, gh!), ...gridCount(rw!, ow, gw!),
      k.set(ghF!, toF(G(gh!))), k.set(gwF!, toF(G(gw!))),
      k.set(count!, k.mul(G(gh!), G(gw!))),
    ];
    const init = k.set(acc!, isMax ? k.f32(-Infinity) : k.f32(0));
    const finish = (c: Expr, anyOut: Expr | undefined): Stmt[] => {
      const outIdx = k.flatIndex([ri!, c, ph!, pw!], [R, C, oh, ow]);
      // max: the f32.max over the samples (order-independent), 0 without samples; avg: acc ÷ max(count, 1)
      let res: Expr;
      if (isMax) {
        const m = anyOut ? k.select(anyOut, k.max(G(acc!), k.f32(0)), G(acc!)) : G(acc!);
        res = k.select(k.gt(G(count!), k.i32(0)), m, k.f32(0));
      } else res = k.div(G(acc!), toF(k.select(k.gt(G(count!), k.i32(1)), G(count!), k.i32(1))));
      return [k.store(y, outIdx, k.select(G(bOk!), res, k.f32(0)))];
    };
    if (sr > 0) {
      return [...head, k.sfor(C, (c) => [init, k.sfor(sr, (iy) => [k.sfor(sr, (ix) => sample(c, ph!, pw!, iy, ix))]), ...finish(c, undefined)])];
    }
    // sampling_ratio 0: the number of samples depends on the roi. Samples outside [−1, H] × [−1, W] add
    // +0 to an accumulator that is never −0 (avg: a no-op) or take part in the max as +0, so only the
    // in-image samples are visited: the sample coordinate is non-decreasing in the sample index (bh > 0
    // whenever gh > 0), so a binary search finds the in-image index range on each axis. An axis has at
    // most 2(S + 1) + 1 in-image samples (they are more than 0.5 apart when gh ≥ 2); they are visited in
    // chunks of 8 so that the unused part of the window costs little.
    const [ys, ye, xs, xe, lo, hi, mid, pr] = ['ys', 'ye', 'xs', 'xe', 'lo', 'hi', 'mid', 'pr'].map(il) as LocalVar[] as LocalVar[];
    const search = (from: Expr, n: LocalVar, pred: (i: Expr) => Expr, dst: LocalVar): Stmt[] => [
      k.set(lo!, from), k.set(hi!, G(n)),
      k.sfor(32, () => [
        k.set(mid!, k.add(G(lo!), k.shrS(k.sub(G(hi!), G(lo!)), k.i32(1)))),
        k.set(pr!, pred(G(mid!))),
        k.set(hi!, k.select(k.and(k.lt(G(lo!), G(hi!)), G(pr!)), G(mid!), G(hi!))),
        k.set(lo!, k.select(k.and(k.lt(G(lo!), G(hi!)), k.eqz(G(pr!))), k.add(G(mid!), k.i32(1)), G(lo!))),
      ]),
      k.set(dst, G(lo!)),
    ];
    const CH = 8, WY = Math.ceil((2 * (H + 1) + 4) / CH), WX = Math.ceil((2 * (W + 1) + 4) / CH);
    const iyV = il('iy'), ixV = il('ix');
    /** i = start + t for t = 0 … CH·chunks − 1 while i < end, in order. */
    const range = (chunks: number, start: LocalVar, end: LocalVar, iv: LocalVar, body: Stmt[]): Stmt =>
      k.sfor(chunks, (t1) => [k.when(k.lt(k.mul(t1, k.i32(CH)), k.sub(G(end), G(start))), [k.sfor(CH, (t2) => [
        k.set(iv, k.add(G(start), k.add(k.mul(t1, k.i32(CH)), t2))),
        k.when(k.lt(G(iv), G(end)), body),
      ])])]);
    return [
      ...head,
      ...search(k.i32(0), gh!, (i) => k.ge(coordY(ph!, i), k.f32(-1)), ys!),
      ...search(G(ys!), gh!, (i) => k.gt(coordY(ph!, i), k.f32(H)), ye!),
      ...search(k.i32(0), gw!, (i) => k.ge(coordX(pw!, i), k.f32(-1)), xs!),
      ...search(G(xs!), gw!, (i) => k.gt(coordX(pw!, i), k.f32(W)), xe!),
      k.sfor(C, (c) => [
        init,
        range(WY, ys!, ye!, iyV, [range(WX, xs!, xe!, ixV, sample(c, ph!, pw!, G(iyV), G(ixV)))]),
        ...finish(c, any(k.gt(G(ys!), k.i32(0)), k.lt(G(ye!), G(gh!)), k.gt(G(xs!), k.i32(0)), k.lt(G(xe!), G(gw!)))),
      ]),
    ];
  }));
});

// ---------------------------------------------------------------- DFT, STFT, Window, MelWeightMatrix
// Not folded on the host: sin, cos, log and pow are the kernel's deterministic float32 functions
// (compiler/kernel/math.ts), never the host's.

/** 2π rounded to float32. */
const TAU = Math.fround(2 * Math.PI);
/** π rounded to float32. */
const PI = Math.fround(Math.PI);

/**
 * Twiddle tables of a length-L DFT into scratch: tc[q] = cos(θ_q), ts[q] = σ·sin(θ_q) with
 * θ_q = ((2π as float32) × q) ÷ L, each rounded once; σ = −1 forward, +1 inverse.
 */
function twiddles(K: k.KernelBuilder, L: number, inverse: boolean): { tc: ReturnType<k.KernelBuilder['scratch']>; ts: ReturnType<k.KernelBuilder['scratch']>; build: Stmt } {
  const tc = K.scratch('tc', 'float32', L), ts = K.scratch('ts', 'float32', L);
  const build = k.pfor(L, (q) => {
    // θ = π·a/L with a = 2q, reduced exactly to [0, π/4] by symmetry before the float32 angle is formed
    const m = new MathCtx(K, 'tw');
    const a0 = k.mul(q, k.i32(2));
    const negS = m.let(k.gt(a0, k.i32(L)), 'ns'); // θ > π: θ ← 2π − θ, sin negated
    const a1 = m.let(k.select(negS, k.sub(k.i32(2 * L), a0), a0), 'a1');
    const negC = m.let(k.gt(k.mul(a1, k.i32(2)), k.i32(L)), 'nc'); // θ > π/2: θ ← π − θ, cos negated
    const a2 = m.let(k.select(negC, k.sub(k.i32(L), a1), a1), 'a2');
    const swap = m.let(k.gt(k.mul(a2, k.i32(4)), k.i32(L)), 'sw'); // θ > π/4: θ ← π/2 − θ, cos and sin swapped
    const b = k.select(swap, k.sub(k.i32(L), k.mul(a2, k.i32(2))), k.mul(a2, k.i32(2)));
    const ang = m.let(k.div(k.mul(k.f32(PI), toF(b)), k.f32(2 * L)), 'ang'); // φ = (π × b) ÷ 2L
    const c0 = m.let(cos(m, ang), 'c0'), s0 = m.let(sin(m, ang), 's0');
    const c1 = k.select(swap, s0, c0), s1 = k.select(swap, c0, s0);
    const c = k.select(negC, k.neg(c1), c1), s = k.select(negS, k.neg(s1), s1);
    return [...m.take(), k.store(tc, q, c), k.store(ts, q, inverse ? s : k.neg(s))];
  });
  return { tc, ts, build };
}

/**
 * One DFT output component: acc ← acc + t over m = 0 … terms−1 with t = (xr·c) − (xi·s) (comp 0) or
 * (xr·s) + (xi·c) (comp 1), q = (k·m) mod L kept incrementally. Zero-padded terms (m ≥ n) are ±0 and
 * leave the accumulator unchanged (it starts at +0 and so is never −0), so they are not visited.
 */
function dftSum(q: LocalVar, acc: LocalVar, tc: ReturnType<k.KernelBuilder['scratch']>, ts: ReturnType<k.KernelBuilder['scratch']>,
  L: number, terms: number, kk: Expr, comp: Expr, sample: (m: Expr) => { xr: Expr; xi: Expr }): Stmt[] {
  return [
    k.set(acc, k.f32(0)), k.set(q, k.i32(0)),
    k.sfor(terms, (mm) => {
      const { xr, xi } = sample(mm);
      const c = k.load(tc, k.get(q)), s = k.load(ts, k.get(q));
      const t = k.select(k.eqz(comp), k.sub(k.mul(xr, c), k.mul(xi, s)), k.add(k.mul(xr, s), k.mul(xi, c)));
      return [
        k.set(acc, k.add(k.get(acc), t)),
        k.set(q, k.add(k.get(q), kk)),
        k.set(q, k.select(k.ge(k.get(q), k.i32(L)), k.sub(k.get(q), k.i32(L)), k.get(q))),
      ];
    }),
  ];
}

defineKernel('DFT', (r) => {
  const tx = r.inputs[0]!;
  const s = tx.shape, rank = s.length, cIn = s[rank - 1]!;
  const axis = r.attrs.axis as number, L = r.attrs.length as number, inverse = r.attrs.inverse === 1;
  const n = s[axis]!, Kout = r.attrs.onesided === 1 ? Math.floor(L / 2) + 1 : L;
  const pre = numel(s.slice(0, axis)), post = numel(s.slice(axis + 1, rank - 1));
  const K = new k.KernelBuilder('DFT');
  const x = K.input('x', 'float32', numel(s));
  const y = K.output('y', 'float32', pre * Kout * post * 2);
  const { tc, ts, build } = twiddles(K, L, inverse);
  const q = K.local('q', 'i32'), acc = K.local('acc', 'f32');
  const element = (p: Expr, kk: Expr, j: Expr, out: Expr): Stmt[] => {
    const po = k.shrS(j, k.i32(1)), comp = k.and(j, k.i32(1));
    const sample = (mm: Expr) => {
      const base = k.mul(k.add(k.mul(k.add(k.mul(p, k.i32(n)), mm), k.i32(post)), po), k.i32(cIn));
      return { xr: k.load(x, base), xi: cIn === 2 ? k.load(x, k.add(base, k.i32(1))) : k.f32(0) };
    };
    return [
      ...dftSum(q, acc, tc, ts, L, Math.min(n, L), kk, comp, sample),
      k.store(y, out, inverse ? k.div(k.get(acc), k.f32(L)) : k.get(acc)),
    ];
  };
  // innermost loop over the contiguous output axis: (post, component), or (frequency, component)
  const main = post === 1
    ? k.pforShape([pre, Kout * 2], ([p, j]) => element(p!, k.shrS(j!, k.i32(1)), k.and(j!, k.i32(1)), k.flatIndex([p!, j!], [pre, Kout * 2])))
    : k.pforShape([pre, Kout, post * 2], ([p, kk, j]) => element(p!, kk!, j!, k.flatIndex([p!, kk!, j!], [pre, Kout, post * 2])));
  return K.build([build, ...main]);
});

defineKernel('STFT', (r) => {
  const [tx, tw] = r.inputs as [TensorType, TensorType | undefined];
  const [Bn, n, cIn] = tx.shape as unknown as [number, number, number];
  const step = r.attrs.frame_step as number, L = r.attrs.frame_length as number;
  const F = Math.floor((n - L) / step) + 1, Kout = r.attrs.onesided === 1 ? Math.floor(L / 2) + 1 : L;
  const K = new k.KernelBuilder('STFT');
  const x = K.input('signal', 'float32', numel(tx.shape));
  const w = tw ? K.input('window', 'float32', L) : undefined;
  const y = K.output('y', 'float32', Bn * F * Kout * 2);
  const { tc, ts, build } = twiddles(K, L, false);
  const q = K.local('q', 'i32'), acc = K.local('acc', 'f32');
  return K.build([build, ...k.pforShape([Bn, F, Kout * 2], ([b, f, j]) => {
    const sample = (mm: Expr) => {
      const base = k.mul(k.add(k.add(k.mul(b!, k.i32(n)), k.mul(f!, k.i32(step))), mm), k.i32(cIn));
      const win = (v: Expr) => (w ? k.mul(v, k.load(w, mm)) : v);
      return { xr: win(k.load(x, base)), xi: cIn === 2 ? win(k.load(x, k.add(base, k.i32(1)))) : k.f32(0) };
    };
    return [
      ...dftSum(q, acc, tc, ts, L, L, k.shrS(j!, k.i32(1)), k.and(j!, k.i32(1)), sample),
      k.store(y, k.flatIndex([b!, f!, j!], [Bn, F, Kout * 2]), k.get(acc)),
    ];
  })]);
});

defineKernel('Window', (r) => {
  const S = r.attrs.size as number, kind = r.attrs.kind as string;
  const Nd = r.attrs.periodic === 1 ? S : S - 1;
  const f = Math.fround;
  const [a0, a1, a2] = kind === 'hann' ? [0.5, 0.5, 0] : kind === 'hamming' ? [f(25 / 46), f(1 - f(25 / 46)), 0] : [f(0.42), 0.5, f(0.08)];
  const K = new k.KernelBuilder('Window');
  const y = K.output('y', 'float32', S);
  return K.build([k.pfor(S, (i) => {
    const m = new MathCtx(K, 'w');
    const phi = m.let(k.mul(toF(i), k.div(k.f32(TAU), k.f32(Nd))), 'phi');
    const c1 = cos(m, phi);
    const c2 = cos(m, k.mul(phi, k.f32(2)));
    return [...m.take(), k.store(y, i, k.add(k.sub(k.f32(a0), k.mul(k.f32(a1!), c1)), k.mul(k.f32(a2!), c2)))];
  })]);
});

defineKernel('MelWeightMatrix', (r) => {
  const M = r.attrs.num_mel_bins as number, L = r.attrs.dft_length as number, R = r.attrs.sample_rate as number;
  const loHz = r.attrs.lower_edge_hertz as number, hiHz = r.attrs.upper_edge_hertz as number;
  const Kb = Math.floor(L / 2) + 1;
  const K = new k.KernelBuilder('MelWeightMatrix');
  const y = K.output('y', 'float32', Kb * M);
  const fb = K.scratch('bins', 'int32', M + 2);
  const m = new MathCtx(K, 'mel');
  // log10 x = ln x ÷ ln 10, 10^x = pow(10, x): the kernel's own functions
  const LN10 = Math.fround(Math.LN10);
  const mel = (h: Expr) => k.mul(k.f32(2595), k.div(log(m, k.add(k.f32(1), k.div(h, k.f32(700)))), k.f32(LN10)));
  const lo = m.let(mel(k.f32(loHz)), 'lo');
  const hi = m.let(mel(k.f32(hiHz)), 'hi');
  const step = m.let(k.div(k.sub(hi, lo), k.f32(M + 2)), 'step');
  const head = m.take();
  const bins = k.pfor(M + 2, (b) => {
    const mb = new MathCtx(K, 'bin');
    const mm = k.add(k.mul(toF(b), step), lo);
    const hz = k.mul(k.f32(700), k.sub(pow(mb, k.f32(10), k.div(mm, k.f32(2595))), k.f32(1)));
    const v = toI(k.floor(k.div(k.mul(k.f32(L + 1), hz), k.f32(R))));
    return [...mb.take(), k.store(fb, b, v)];
  });
  const [l, c, h] = [K.local('l', 'i32'), K.local('c', 'i32'), K.local('h', 'i32')];
  const G = k.get;
  const fill = k.pforShape([Kb, M], ([j, i]) => {
    const jj = j!;
    const ratio = (a: Expr, b: Expr) => k.div(toF(a), toF(b));
    const up = k.select(k.eq(G(c), G(l)),
      k.select(k.eq(jj, G(c)), k.f32(1), k.f32(0)),
      k.select(k.and(k.le(G(l), jj), k.le(jj, G(c))), ratio(k.sub(jj, G(l)), k.sub(G(c), G(l))), k.f32(0)));
    const down = k.and(k.gt(G(h), G(c)), k.and(k.le(G(c), jj), k.lt(jj, G(h))));
    return [
      k.set(l, k.load(fb, i!)), k.set(c, k.load(fb, k.add(i!, k.i32(1)))), k.set(h, k.load(fb, k.add(i!, k.i32(2)))),
      k.store(y, k.flatIndex([jj, i!], [Kb, M]), k.select(down, ratio(k.sub(G(h), jj), k.sub(G(h), G(c))), up)),
    ];
  });
  return K.build([...head, bins, ...fill]);
});
