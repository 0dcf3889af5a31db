/**
 * Data-movement kernels: Concat, Split, Slice, Pad, Expand, Tile, Gather, GatherElements, GatherND,
 * ScatterElements, ScatterND, Trilu, OneHot, ReverseSequence. None computes on values except the
 * scatter reductions, which follow their spec's sequential update order exactly.
 *
 * Copies are written as loop nests over the output (innermost = contiguous output axis, vectorised);
 * out-of-range gather indices select the documented zero from a clamped, always-in-bounds load.
 * Scatters first copy data to the output, then apply the updates one by one in row-major order of the
 * updates tensor in sequential loops (duplicate targets: last wins / left fold), as their spec says.
 */
import type { DType, TensorType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import { strides } from '../../converter/ir/host-tensor.ts';
import type { Buffer, Expr, Stmt } from '../kernel/ast.ts';
import { computeType } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import { defineKernel } from './registry.ts';

// ---------------------------------------------------------------- helpers

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
export const zeroOf = (d: DType): Expr => k.constOf(computeType(d), 0);

/** Loops of one kind over `dims` (innermost last), skipping axes of size 1 (their index is the constant 0). */
function nest(loop: (n: number, body: (i: Expr) => readonly Stmt[]) => Stmt, dims: readonly number[], body: (idx: Expr[]) => readonly Stmt[]): Stmt[] {
  if (dims.some((d) => d === 0)) return [];
  const live = dims.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const rec = (j: number, acc: Expr[]): Stmt[] => {
    if (j === live.length) {
      const idx = dims.map(() => k.i32(0));
      live.forEach((a, t) => { idx[a] = acc[t]!; });
      return [...body(idx)];
    }
    return [loop(dims[live[j]!]!, (i) => rec(j + 1, [...acc, i]))];
  };
  return rec(0, []);
}

/** Nested parallel loops over `dims` (size-1 axes skipped); no statement at all when the space is empty. */
export const loopNest = (dims: readonly number[], body: (idx: Expr[]) => readonly Stmt[]): Stmt[] => nest(k.pfor, dims, body);

/** Sequential row-major loops over `dims` (size-1 axes skipped). */
export const seqNest = (dims: readonly number[], body: (idx: Expr[]) => readonly Stmt[]): Stmt[] => nest((n, b) => k.sfor(n, b), dims, body);

/** Σ idx[a]·str[a] (terms with a zero stride or a constant-0 index dropped). */
export function dot(idx: readonly Expr[], str: readonly number[], base: Expr = k.i32(0)): Expr {
  let e = base;
  idx.forEach((x, a) => { if (str[a] !== 0) e = k.add(e, k.mul(x, k.i32(str[a]!))); });
  return e;
}

/** One axis of an affine copy: extent, source stride, destination stride (in elements). */
interface CopyAxis { n: number; src: number; dst: number }

/**
 * dst[dstBase + Σ i_a·dst_a] = src[srcBase + Σ i_a·src_a] over the axes (outermost first): drops size-1
 * axes and merges neighbours that are contiguous in both buffers, so copies get long inner loops.
 */
function affineCopy(x: Buffer, y: Buffer, axes: readonly CopyAxis[], srcBase = 0, dstBase = 0): Stmt[] {
  if (axes.some((a) => a.n === 0)) return [];
  const merged: CopyAxis[] = [];
  for (const a of axes) {
    if (a.n === 1) continue;
    const last = merged[merged.length - 1];
    if (last && last.src === a.src * a.n && last.dst === a.dst * a.n) merged[merged.length - 1] = { n: last.n * a.n, src: a.src, dst: a.dst };
    else merged.push({ ...a });
  }
  return loopNest(merged.map((a) => a.n), (idx) => [
    k.store(y, dot(idx, merged.map((a) => a.dst), k.i32(dstBase)), k.load(x, dot(idx, merged.map((a) => a.src), k.i32(srcBase)))),
  ]);
}

/** load(buf, index), or the constant `fallback` when the buffer is empty (never read an empty region). */
function loadOr(buf: Buffer, index: Expr, fallback: Expr): Expr {
  return buf.numel === 0 ? fallback : k.load(buf, index);
}

/**
 * The documented index rule against dimension d: i < 0 → i + d (once); ok = result in [0, d); idx is the
 * result when ok, else 0 (always a safe address). Works on i32 or i64 index values.
 */
export function normIndex(v: Expr, d: number): { idx: Expr; ok: Expr } {
  const c = (n: number) => k.constOf(v.type, n);
  const w = k.select(k.lt(v, c(0)), k.add(v, c(d)), v);
  const ok = k.and(k.ge(w, c(0)), k.lt(w, c(d)));
  const safe = k.select(ok, w, c(0));
  return { idx: v.type === 'i64' ? k.convert('i32.wrap_i64', safe) : safe, ok };
}

// ---------------------------------------------------------------- Concat / Split

defineKernel('Concat', (r) => {
  const axis = r.attrs.axis as number;
  const out = r.outputs[0]!;
  const K = new k.KernelBuilder('Concat');
  const xs = r.inputs.map((t, i) => K.input(`x${i}`, t.dtype, numel(t.shape)));
  const y = K.output('y', out.dtype, numel(out.shape));
  const outer = prod(out.shape.slice(0, axis));
  const inner = prod(out.shape.slice(axis + 1));
  const total = out.shape[axis]! * inner;
  const parts = (o: Expr): Stmt[] => {
    let off = 0;
    const ss: Stmt[] = [];
    r.inputs.forEach((t, i) => {
      const chunk = t.shape[axis]! * inner;
      if (chunk > 0) ss.push(k.pfor(chunk, (q) => [k.store(y, k.add(k.add(k.mul(o, k.i32(total)), k.i32(off)), q), k.load(xs[i]!, k.add(k.mul(o, k.i32(chunk)), q)))]));
      off += chunk;
    });
    return ss;
  };
  if (outer === 0 || total === 0) return K.build([]);
  return K.build(outer === 1 ? parts(k.i32(0)) : [k.pfor(outer, parts)]);
});

defineKernel('Split', (r) => {
  const axis = r.attrs.axis as number;
  const t = r.inputs[0]!;
  const K = new k.KernelBuilder('Split');
  const x = K.input('x', t.dtype, numel(t.shape));
  const ys = r.outputs.map((o, i) => K.output(`y${i}`, o.dtype, numel(o.shape)));
  const outer = prod(t.shape.slice(0, axis));
  const inner = prod(t.shape.slice(axis + 1));
  const total = t.shape[axis]! * inner;
  const parts = (o: Expr): Stmt[] => {
    let off = 0;
    const ss: Stmt[] = [];
    r.outputs.forEach((ot, i) => {
      const chunk = ot.shape[axis]! * inner;
      if (chunk > 0) ss.push(k.pfor(chunk, (q) => [k.store(ys[i]!, k.add(k.mul(o, k.i32(chunk)), q), k.load(x, k.add(k.add(k.mul(o, k.i32(total)), k.i32(off)), q)))]));
      off += chunk;
    });
    return ss;
  };
  if (outer === 0 || total === 0) return K.build([]);
  return K.build(outer === 1 ? parts(k.i32(0)) : [k.pfor(outer, parts)]);
});

// ---------------------------------------------------------------- Slice / Pad / Expand / Tile

defineKernel('Slice', (r) => {
  const t = r.inputs[0]!;
  const out = r.outputs[0]!.shape;
  const starts = r.attrs.starts as number[], steps = r.attrs.steps as number[];
  const K = new k.KernelBuilder('Slice');
  const x = K.input('x', t.dtype, numel(t.shape));
  const y = K.output('y', t.dtype, numel(out));
  if (numel(out) === 0) return K.build([]);
  const st = strides(t.shape), ost = strides(out);
  const base = starts.reduce((a, s, i) => a + s * st[i]!, 0);
  return K.build(affineCopy(x, y, out.map((n, i) => ({ n, src: steps[i]! * st[i]!, dst: ost[i]! })), base));
});

defineKernel('Expand', (r) => {
  const t = r.inputs[0]!;
  const out = r.outputs[0]!.shape;
  const K = new k.KernelBuilder('Expand');
  const x = K.input('x', t.dtype, numel(t.shape));
  const y = K.output('y', t.dtype, numel(out));
  const xs = [...new Array<number>(out.length - t.shape.length).fill(1), ...t.shape];
  const st = strides(xs), ost = strides(out);
  return K.build(affineCopy(x, y, out.map((n, i) => ({ n, src: xs[i] === 1 ? 0 : st[i]!, dst: ost[i]! }))));
});

defineKernel('Tile', (r) => {
  const t = r.inputs[0]!;
  const out = r.outputs[0]!.shape;
  const rep = r.attrs.repeats as number[];
  const K = new k.KernelBuilder('Tile');
  const x = K.input('x', t.dtype, numel(t.shape));
  const y = K.output('y', t.dtype, numel(out));
  const st = strides(t.shape), ost = strides(out);
  // output coordinate on axis i = rep_i·d_i + c_i: copy loops over (repetition, source coordinate) pairs
  const axes: CopyAxis[] = [];
  t.shape.forEach((d, i) => {
    axes.push({ n: rep[i]!, src: 0, dst: d * ost[i]! });
    axes.push({ n: d, src: st[i]!, dst: ost[i]! });
  });
  return K.build(affineCopy(x, y, axes));
});

defineKernel('Pad', (r) => {
  const t = r.inputs[0]!;
  const out = r.outputs[0]!.shape;
  const R = t.shape.length;
  const pads = r.attrs.pads as number[];
  const mode = r.attrs.mode as string;
  const K = new k.KernelBuilder('Pad');
  const x = K.input('x', t.dtype, numel(t.shape));
  const v = K.input('value', t.dtype, 1);
  const y = K.output('y', t.dtype, numel(out));
  const ost = strides(out), st = strides(t.shape);
  if (numel(out) === 0) return K.build([]);
  const value = k.load(v, k.i32(0));
  if (numel(t.shape) === 0) return K.build(loopNest(out, (o) => [k.store(y, k.flatIndex(o, out), value)]));
  return K.build(loopNest(out, (o) => {
    let ok: Expr = k.i32(1);
    let src: Expr = k.i32(0);
    for (let i = 0; i < R; i++) {
      const d = t.shape[i]!, b = pads[i]!, e = pads[i + R]!;
      const j = k.sub(o[i]!, k.i32(b));
      let s: Expr;
      if (b <= 0 && e <= 0) s = j; // only cropped: always in range
      else if (mode === 'constant') {
        const inR = k.and(k.ge(j, k.i32(0)), k.lt(j, k.i32(d)));
        ok = ok.kind === 'const' ? inR : k.and(ok, inR);
        s = k.select(inR, j, k.i32(0));
      } else if (mode === 'edge') {
        s = k.select(k.lt(j, k.i32(0)), k.i32(0), k.select(k.ge(j, k.i32(d)), k.i32(d - 1), j));
      } else if (mode === 'wrap') {
        if (b <= d && e <= d) s = k.select(k.lt(j, k.i32(0)), k.add(j, k.i32(d)), k.select(k.ge(j, k.i32(d)), k.sub(j, k.i32(d)), j));
        else s = k.irem(k.add(k.irem(j, k.i32(d)), k.i32(d)), k.i32(d));
      } else if (d === 1) s = k.i32(0); // reflect of a single element
      else {
        const p = 2 * (d - 1);
        // one reflection per side is enough when the pads are narrower than the axis
        if (b <= d - 1 && e <= d - 1) s = k.select(k.lt(j, k.i32(0)), k.sub(k.i32(0), j), k.select(k.ge(j, k.i32(d)), k.sub(k.i32(p), j), j));
        else {
          const m = k.irem(k.add(k.irem(j, k.i32(p)), k.i32(p)), k.i32(p));
          s = k.select(k.ge(m, k.i32(d)), k.sub(k.i32(p), m), m);
        }
      }
      src = k.add(src, k.mul(s, k.i32(st[i]!)));
    }
    const val = k.load(x, src);
    return [k.store(y, dot(o, ost), ok.kind === 'const' ? val : k.select(ok, val, value))];
  }));
});

// ---------------------------------------------------------------- gathers

defineKernel('Gather', (r) => {
  const [t, ti] = r.inputs as [TensorType, TensorType];
  const axis = r.attrs.axis as number;
  const out = r.outputs[0]!;
  const K = new k.KernelBuilder('Gather');
  const x = K.input('data', t.dtype, numel(t.shape));
  const ind = K.input('indices', ti.dtype, numel(ti.shape));
  const y = K.output('y', t.dtype, numel(out.shape));
  const outer = prod(t.shape.slice(0, axis));
  const inner = prod(t.shape.slice(axis + 1));
  const D = t.shape[axis]!;
  const nI = numel(ti.shape);
  const z = zeroOf(t.dtype);
  return K.build(loopNest([outer, nI, inner], ([o, j, q]) => {
    const { idx, ok } = normIndex(k.load(ind, j!), D);
    const val = loadOr(x, k.add(k.mul(k.add(k.mul(o!, k.i32(D)), idx), k.i32(inner)), q!), z);
    return [k.store(y, k.add(k.mul(k.add(k.mul(o!, k.i32(nI)), j!), k.i32(inner)), q!), k.select(ok, val, z))];
  }));
});

defineKernel('GatherElements', (r) => {
  const [t, ti] = r.inputs as [TensorType, TensorType];
  const axis = r.attrs.axis as number;
  const K = new k.KernelBuilder('GatherElements');
  const x = K.input('data', t.dtype, numel(t.shape));
  const ind = K.input('indices', ti.dtype, numel(ti.shape));
  const y = K.output('y', t.dtype, numel(ti.shape));
  const st = strides(t.shape), ist = strides(ti.shape);
  const z = zeroOf(t.dtype);
  return K.build(loopNest(ti.shape, (c) => {
    const f = dot(c, ist);
    const { idx, ok } = normIndex(k.load(ind, f), t.shape[axis]!);
    const src = k.add(dot(c.map((e, i) => (i === axis ? k.i32(0) : e)), st), k.mul(idx, k.i32(st[axis]!)));
    return [k.store(y, f, k.select(ok, loadOr(x, src, z), z))];
  }));
});

defineKernel('GatherND', (r) => {
  const [t, ti] = r.inputs as [TensorType, TensorType];
  const b = r.attrs.batch_dims as number;
  const out = r.outputs[0]!;
  const q = ti.shape.length;
  const m = ti.shape[q - 1]!;
  const B = prod(t.shape.slice(0, b));
  const T = prod(ti.shape.slice(b, q - 1));
  const slice = prod(t.shape.slice(b + m));
  const perBatch = prod(t.shape.slice(b));
  const st = strides(t.shape.slice(b));
  const K = new k.KernelBuilder('GatherND');
  const x = K.input('data', t.dtype, numel(t.shape));
  const ind = K.input('indices', ti.dtype, numel(ti.shape));
  const y = K.output('y', t.dtype, numel(out.shape));
  const off = K.local('off', 'i32');
  const okL = K.local('ok', 'i32');
  const z = zeroOf(t.dtype);
  return K.build(loopNest([B, T], ([bi, tt]) => {
    const row = k.add(k.mul(bi!, k.i32(T)), tt!);
    let ok: Expr = k.i32(1);
    let src: Expr = k.mul(bi!, k.i32(perBatch));
    for (let a = 0; a < m; a++) {
      const { idx, ok: oka } = normIndex(k.load(ind, k.add(k.mul(row, k.i32(m)), k.i32(a))), t.shape[b + a]!);
      ok = a === 0 ? oka : k.and(ok, oka);
      src = k.add(src, k.mul(idx, k.i32(st[a]!)));
    }
    const copy = (s: Expr): Stmt => k.store(y, k.add(k.mul(row, k.i32(slice)), s), k.select(k.get(okL), loadOr(x, k.add(k.get(off), s), z), z));
    return [k.set(okL, ok), k.set(off, src), ...(slice === 1 ? [copy(k.i32(0))] : [k.pfor(slice, (s) => [copy(s)])])];
  }));
});

// ---------------------------------------------------------------- scatters

/** The scatter combine of the spec: out = combine(a, u). */
function combine(d: DType, red: string, a: Expr, u: Expr): Expr {
  if (red === 'none') return u;
  if (d === 'float32') return red === 'add' ? k.add(a, u) : red === 'mul' ? k.mul(a, u) : red === 'max' ? k.max(a, u) : k.min(a, u);
  if (d === 'bool') return red === 'add' || red === 'max' ? k.or(a, u) : k.and(a, u);
  // integers: i32/i64 arithmetic, wrapped to the dtype by the store
  switch (red) {
    case 'add': return k.add(a, u);
    case 'mul': return k.mul(a, u);
    case 'max': return k.select(k.gt(u, a), u, a);
    default: return k.select(k.lt(u, a), u, a);
  }
}

defineKernel('ScatterElements', (r) => {
  const [t, ti, tu] = r.inputs as [TensorType, TensorType, TensorType];
  const axis = r.attrs.axis as number;
  const red = r.attrs.reduction as string;
  const K = new k.KernelBuilder('ScatterElements');
  const x = K.input('data', t.dtype, numel(t.shape));
  const ind = K.input('indices', ti.dtype, numel(ti.shape));
  const upd = K.input('updates', tu.dtype, numel(tu.shape));
  const y = K.output('y', t.dtype, numel(t.shape));
  const st = strides(t.shape), ist = strides(ti.shape);
  const n = numel(t.shape);
  const copy = n > 0 ? [k.pfor(n, (i) => [k.store(y, i, k.load(x, i))])] : [];
  // updates in row-major order of the updates tensor, one at a time (duplicates: last wins / fold in order)
  const apply = seqNest(ti.shape, (c) => {
    const f = dot(c, ist);
    const { idx, ok } = normIndex(k.load(ind, f), t.shape[axis]!);
    const dst = k.add(dot(c.map((e, i) => (i === axis ? k.i32(0) : e)), st), k.mul(idx, k.i32(st[axis]!)));
    return [k.when(ok, [k.store(y, dst, combine(t.dtype, red, k.load(y, dst), k.load(upd, f)))])];
  });
  return K.build([...copy, ...apply]);
});

defineKernel('ScatterND', (r) => {
  const [t, ti, tu] = r.inputs as [TensorType, TensorType, TensorType];
  const red = r.attrs.reduction as string;
  const q = ti.shape.length;
  const kk = ti.shape[q - 1]!;
  const st = strides(t.shape);
  const slice = prod(t.shape.slice(kk));
  const J = prod(ti.shape.slice(0, q - 1));
  const K = new k.KernelBuilder('ScatterND');
  const x = K.input('data', t.dtype, numel(t.shape));
  const ind = K.input('indices', ti.dtype, numel(ti.shape));
  const upd = K.input('updates', tu.dtype, numel(tu.shape));
  const y = K.output('y', t.dtype, numel(t.shape));
  const off = K.local('off', 'i32');
  const n = numel(t.shape);
  const copy = n > 0 ? [k.pfor(n, (i) => [k.store(y, i, k.load(x, i))])] : [];
  if (J === 0 || slice === 0) return K.build(copy);
  // update slices in order; the elements of one slice hit distinct targets, so they may run in parallel
  const apply = k.sfor(J, (j) => {
    let ok: Expr = k.i32(1);
    let dst: Expr = k.i32(0);
    for (let a = 0; a < kk; a++) {
      const { idx, ok: oka } = normIndex(k.load(ind, k.add(k.mul(j, k.i32(kk)), k.i32(a))), t.shape[a]!);
      ok = a === 0 ? oka : k.and(ok, oka);
      dst = k.add(dst, k.mul(idx, k.i32(st[a]!)));
    }
    const one = (s: Expr): Stmt => k.store(y, k.add(k.get(off), s), combine(t.dtype, red, k.load(y, k.add(k.get(off), s)), k.load(upd, k.add(k.mul(j, k.i32(slice)), s))));
    return [k.set(off, dst), k.when(ok, slice === 1 ? [one(k.i32(0))] : [k.pfor(slice, (s) => [one(s)])])];
  });
  return K.build([...copy, apply]);
});

// ---------------------------------------------------------------- Trilu, OneHot, ReverseSequence

defineKernel('Trilu', (r) => {
  const [t, tk] = r.inputs as [TensorType, TensorType | undefined];
  const upper = (r.attrs.upper as number) !== 0;
  const R = t.shape.length;
  const rows = t.shape[R - 2]!, cols = t.shape[R - 1]!;
  const batch = prod(t.shape.slice(0, R - 2));
  const K = new k.KernelBuilder('Trilu');
  const x = K.input('x', t.dtype, numel(t.shape));
  const kin = tk ? K.input('k', 'int64', 1) : undefined;
  const y = K.output('y', t.dtype, numel(t.shape));
  // j − i fits in i32; clamping the offset to the i32 range keeps every comparison's result
  const I32_MIN = -(2 ** 31), I32_MAX = 2 ** 31 - 1;
  let init: Expr;
  if (kin) {
    const kv = k.load(kin, k.i32(0));
    const c = k.select(k.lt(kv, k.i64(I32_MIN)), k.i64(I32_MIN), k.select(k.gt(kv, k.i64(I32_MAX)), k.i64(I32_MAX), kv));
    init = k.convert('i32.wrap_i64', c);
  } else init = k.i32(Math.min(I32_MAX, Math.max(I32_MIN, r.attrs.k as number)));
  const z = zeroOf(t.dtype);
  return K.build(loopNest([batch, rows, cols], ([b, i, j]) => {
    const dj = k.sub(j!, i!);
    const keep = upper ? k.ge(dj, init) : k.le(dj, init);
    const f = k.add(k.mul(k.add(k.mul(b!, k.i32(rows)), i!), k.i32(cols)), j!);
    return [k.store(y, f, k.select(keep, k.load(x, f), z))];
  }));
});

defineKernel('OneHot', (r) => {
  const [ti, tv] = r.inputs as [TensorType, TensorType];
  const axis = r.attrs.axis as number;
  const depth = r.attrs.depth as number;
  const out = r.outputs[0]!;
  const outer = prod(ti.shape.slice(0, axis));
  const inner = prod(ti.shape.slice(axis));
  const K = new k.KernelBuilder('OneHot');
  const ind = K.input('indices', ti.dtype, numel(ti.shape));
  const vals = K.input('values', tv.dtype, 2);
  const y = K.output('y', tv.dtype, numel(out.shape));
  const offV = k.load(vals, k.i32(0)), onV = k.load(vals, k.i32(1));
  return K.build(loopNest([outer, depth, inner], ([o, c, q]) => {
    const v = k.load(ind, k.add(k.mul(o!, k.i32(inner)), q!));
    let hit: Expr;
    if (ti.dtype === 'float32') {
      // truncate toward zero (saturating; NaN never matches), then i < 0 → i + depth
      const i = k.convert('i32.trunc_sat_f32_s', v);
      const w = k.select(k.lt(i, k.i32(0)), k.add(i, k.i32(depth)), i);
      hit = k.and(k.eq(v, v), k.eq(w, c!));
    } else {
      const cst = (n: number) => k.constOf(v.type, n);
      const w = k.select(k.lt(v, cst(0)), k.add(v, cst(depth)), v);
      hit = k.eq(w, v.type === 'i64' ? k.convert('i64.extend_i32_s', c!) : c!);
    }
    const f = k.add(k.mul(k.add(k.mul(o!, k.i32(depth)), c!), k.i32(inner)), q!);
    return [k.store(y, f, k.select(hit, onV, offV))];
  }));
});

defineKernel('ReverseSequence', (r) => {
  const [t, tl] = r.inputs as [TensorType, TensorType];
  const bAxis = r.attrs.batch_axis as number, tAxis = r.attrs.time_axis as number;
  const K = new k.KernelBuilder('ReverseSequence');
  const x = K.input('x', t.dtype, numel(t.shape));
  const lens = K.input('sequence_lens', tl.dtype, numel(tl.shape));
  const y = K.output('y', t.dtype, numel(t.shape));
  const T = t.shape[tAxis]!;
  const st = strides(t.shape);
  return K.build(loopNest(t.shape, (c) => {
    const lv = k.load(lens, c[bAxis]!);
    const cst = (n: number) => k.constOf(lv.type, n);
    const lc = k.select(k.lt(lv, cst(0)), cst(0), k.select(k.gt(lv, cst(T)), cst(T), lv));
    const L = lv.type === 'i64' ? k.convert('i32.wrap_i64', lc) : lc;
    const f = dot(c, st);
    const ct = c[tAxis]!;
    const src = k.select(k.lt(ct, L), k.add(f, k.mul(k.sub(k.sub(L, k.i32(1)), k.add(ct, ct)), k.i32(st[tAxis]!))), f);
    return [k.store(y, f, k.load(x, src))];
  }));
});
