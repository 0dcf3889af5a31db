/**
 * Sliding-window geometry shared by the convolution and pooling kernels: the window of an output
 * position, visited in row-major kernel-offset order, and the split of the innermost output axis into
 * border and interior ranges (the interior needs no in-range checks).
 */
import type { Attrs } from '../../converter/ir/types.ts';
import type { Expr, Stmt } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';

/** Output channels a convolution computes together per iteration (sharing each input load). */
export const CONV_MBLOCK = 4;
/** Kernel offsets on the innermost window axis are unrolled up to this size. */
export const UNROLL_MAX = 8;

export interface Window {
  S: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  begin: number[];
}

/** Window geometry from resolved attributes (strides, dilations, pads) and the kernel's spatial size. */
export function window(attrs: Attrs, kernel: readonly number[]): Window {
  const S = kernel.length;
  const pads = attrs.pads as number[];
  return { S, kernel: [...kernel], strides: attrs.strides as number[], dilations: attrs.dilations as number[], begin: pads.slice(0, S) };
}

/**
 * Visit the window of output position `o` in row-major kernel-offset order. `body(p, j, inRange)` gets
 * the input positions, kernel offsets and an in-range condition; outer axes (uniform across vector
 * lanes) skip out-of-range positions with `when`, the innermost axis passes its condition to the body
 * with a clamped, in-bounds position (the body keeps its state unchanged with `select`, so the same
 * operations run in both forms). With `interior` the innermost axis is known to be in range (no check,
 * contiguous loads); with `unrollLast` its loop is written out with constant offsets.
 */
export function overWindow(w: Window, inDims: readonly number[], o: readonly Expr[], body: (p: Expr[], j: Expr[], inRange: Expr) => Stmt[], interior = false, unrollLast = false): Stmt[] {
  const rec = (axis: number, p: Expr[], j: Expr[]): Stmt[] => {
    if (axis === w.S) return body(p, j, k.i32(1));
    const loop = axis === w.S - 1 && unrollLast ? k.sforUnrolled : k.sfor;
    return [loop(w.kernel[axis]!, (ji) => {
      const pi = k.add(k.sub(k.mul(o[axis]!, k.i32(w.strides[axis]!)), k.i32(w.begin[axis]!)), k.mul(ji, k.i32(w.dilations[axis]!)));
      const inR = k.and(k.ge(pi, k.i32(0)), k.lt(pi, k.i32(inDims[axis]!)));
      if (axis === w.S - 1) {
        if (interior) return body([...p, pi], [...j, ji], k.i32(1));
        return body([...p, k.select(inR, pi, k.i32(0))], [...j, ji], inR);
      }
      return [k.when(inR, rec(axis + 1, [...p, pi], [...j, ji]))];
    })];
  };
  return rec(0, [], []);
}

/** Output positions [lo, hi) of the last spatial axis whose whole window lies inside the input. */
export function interiorRange(w: Window, inLen: number, outLen: number): [number, number] {
  const a = w.S - 1;
  const s = w.strides[a]!, b = w.begin[a]!, ext = (w.kernel[a]! - 1) * w.dilations[a]!;
  const lo = Math.min(outLen, Math.ceil(b / s));
  const hi = Math.max(lo, Math.min(outLen, Math.floor((inLen - 1 + b - ext) / s) + 1));
  return [lo, hi];
}

/**
 * Loop nest over output positions (…, o_last): the outer output axes as one flat parallel loop, the last
 * spatial axis split into border, interior and border ranges, so the interior runs without in-range
 * selects (a select that keeps the accumulator never fires there: same operations, same bits).
 */
export function outputNest(outer: readonly number[], w: Window, inLast: number, outLast: number, body: (idx: Expr[], interior: boolean) => Stmt[]): Stmt[] {
  const [lo, hi] = interiorRange(w, inLast, outLast);
  return k.pforFlat(outer, (idx) => [
    ...(lo > 0 ? [k.pforRange(0, lo, (o) => body([...idx, o], false))] : []),
    ...(hi > lo ? [k.pforRange(lo, hi, (o) => body([...idx, o], true))] : []),
    ...(outLast > hi ? [k.pforRange(hi, outLast, (o) => body([...idx, o], false))] : []),
  ]);
}
