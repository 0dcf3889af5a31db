/**
 * A tensor held in host memory with its values: what constant folding computes with, and what
 * front-ends read when an input must be a constant (a Reshape's shape, a Slice's starts …).
 */
import type { DType, Shape } from './types.ts';
import { numel, shape as mkShape } from './types.ts';
import type { TypedArray } from './dtype.ts';
import { allocTyped, bytesOf, typedFromBytes } from './dtype.ts';

export interface HostTensor {
  readonly dtype: DType;
  readonly shape: Shape;
  /**
   * Row-major values; bool is 0/1 in a Uint8Array, int64 a BigInt64Array, uint64 a BigUint64Array,
   * float16 and bfloat16 their bit patterns in a Uint16Array.
   */
  readonly data: TypedArray;
}

export const CANONICAL_NAN_BITS = 0x7fc00000;

export function hostTensor(dtype: DType, dims: readonly number[], data?: TypedArray | readonly (number | bigint)[]): HostTensor {
  const s = mkShape(dims);
  const n = numel(s);
  let arr: TypedArray;
  if (data === undefined) arr = allocTyped(dtype, n);
  else if (ArrayBuffer.isView(data)) arr = data as TypedArray;
  else {
    arr = allocTyped(dtype, n);
    const src = data as readonly (number | bigint)[];
    if (arr instanceof BigInt64Array || arr instanceof BigUint64Array) for (let i = 0; i < n; i++) arr[i] = BigInt(src[i]!);
    else for (let i = 0; i < n; i++) (arr as Float32Array)[i] = Number(src[i]!);
  }
  if (arr.length !== n) throw new RangeError(`tensor of shape [${dims.join(', ')}] needs ${n} values, got ${arr.length}`);
  if (dtype === 'float32') canonicaliseNaNs(arr as Float32Array);
  return { dtype, shape: s, data: arr };
}

/** Rewrite every NaN to the canonical quiet NaN 0x7FC00000, in place. */
export function canonicaliseNaNs(a: Float32Array): void {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v !== v) bits[i] = CANONICAL_NAN_BITS;
  }
}

/** Same, over little-endian float32 bytes (length a multiple of 4). */
export function canonicaliseNaNBytes(bytes: Uint8Array): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let o = 0; o + 4 <= bytes.byteLength; o += 4) {
    const b = dv.getUint32(o, true);
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0 && b !== CANONICAL_NAN_BITS) dv.setUint32(o, CANONICAL_NAN_BITS, true);
  }
}

export function hostFromBytes(dtype: DType, dims: readonly number[], bytes: Uint8Array): HostTensor {
  return hostTensor(dtype, dims, typedFromBytes(dtype, bytes));
}

export function hostBytes(t: HostTensor): Uint8Array {
  return bytesOf(t.data);
}

/** Values as JS numbers (int64 converted; callers use this for shapes, axes and other small integers). */
export function toNumbers(t: HostTensor): number[] {
  const out: number[] = new Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) out[i] = Number(t.data[i]!);
  return out;
}

/** Row-major strides of a shape, in elements. */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}
