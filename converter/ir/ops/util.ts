/** Helpers shared by the op definitions: broadcasting, axes, elementwise folding. */
import type { DType, Shape, TensorType } from '../types.ts';
import { numel, shape } from '../types.ts';
import { IrError } from '../op-registry.ts';
import type { HostTensor } from '../host-tensor.ts';
import { hostTensor, strides } from '../host-tensor.ts';
import { allocTyped } from '../dtype.ts';

/** Numpy-style multidirectional broadcast of shapes. */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): Shape {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const v = k < 0 ? 1 : s[k]!;
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new IrError(`shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} do not broadcast`);
      d = v;
    }
    // a zero-sized dim broadcasts against 1 and against 0 only
    out.push(shapes.some((s) => { const k = s.length - rank + i; return k >= 0 && s[k] === 0; }) ? 0 : d);
  }
  return shape(out);
}

/** Normalise an axis in [-rank, rank) to [0, rank). */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) throw new IrError(`${what} ${axis} out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

export function requireDType(t: TensorType, allowed: readonly DType[], what: string): void {
  if (!allowed.includes(t.dtype)) throw new IrError(`${what} must be ${allowed.join(' or ')}, got ${t.dtype}`);
}

export function requireSameDType(ts: readonly TensorType[]): DType {
  const d = ts[0]!.dtype;
  for (const t of ts) if (t.dtype !== d) throw new IrError(`inputs must share one dtype, got ${ts.map((x) => x.dtype).join(', ')}`);
  return d;
}

/** For each output index, the flat index into an input broadcast to `out`. */
export function broadcastIndexer(inShape: readonly number[], out: readonly number[]): (flat: number) => number {
  const rank = out.length;
  const inStr = strides(inShape);
  const outStr = strides(out);
  const eff = out.map((_, i) => {
    const k = inShape.length - rank + i;
    return k < 0 || inShape[k] === 1 ? 0 : inStr[k]!;
  });
  if (numel(inShape) === numel(out)) return (f) => f;
  return (f) => {
    let idx = 0;
    for (let i = 0; i < rank; i++) {
      const c = Math.floor(f / outStr[i]!) % out[i]!;
      idx += c * eff[i]!;
    }
    return idx;
  };
}

export type Scalar = number | bigint;

/** Elementwise fold over broadcast inputs; `fn` sees JS numbers (bigints for int64). */
export function foldElementwise(inputs: readonly HostTensor[], outDType: DType, fn: (...xs: Scalar[]) => Scalar): HostTensor {
  const out = broadcastShapes(...inputs.map((t) => t.shape));
  const n = numel(out);
  const data = allocTyped(outDType, n);
  const idx = inputs.map((t) => broadcastIndexer(t.shape, out));
  const args: Scalar[] = new Array(inputs.length);
  for (let f = 0; f < n; f++) {
    for (let j = 0; j < inputs.length; j++) args[j] = inputs[j]!.data[idx[j]!(f)]!;
    const v = fn(...args);
    if (data instanceof BigInt64Array) data[f] = BigInt.asIntN(64, typeof v === 'bigint' ? v : BigInt(v));
    else (data as Float32Array)[f] = Number(v);
  }
  return hostTensor(outDType, out, data);
}

/** Wrap an integer result to the dtype's width (IR integers wrap). */
export function wrapInt(d: DType, v: bigint): bigint {
  switch (d) {
    case 'int8': return BigInt.asIntN(8, v);
    case 'uint8': return BigInt.asUintN(8, v);
    case 'int16': return BigInt.asIntN(16, v);
    case 'int32': return BigInt.asIntN(32, v);
    case 'int64': return BigInt.asIntN(64, v);
    case 'bool': return v === 0n ? 0n : 1n;
    case 'uint16': return BigInt.asUintN(16, v);
    case 'uint32': return BigInt.asUintN(32, v);
    case 'uint64': return BigInt.asUintN(64, v);
    case 'float32': case 'float64': case 'float16': case 'bfloat16': throw new IrError(`wrapInt on ${d}`);
  }
}
