import type { DType } from './types.ts';
import { DTYPES } from './types.ts';

export type TypedArray = Float32Array | Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array;

const SIZES: Record<DType, number> = { float32: 4, int8: 1, uint8: 1, int16: 2, int32: 4, int64: 8, bool: 1 };

/** Bytes per element. */
export function dtypeSize(d: DType): number {
  return SIZES[d];
}

export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}

/** Stable numeric code of a dtype, used by the canonical encoding (docs/ir.md). */
export function dtypeCode(d: DType): number {
  return DTYPES.indexOf(d) + 1;
}

export function isFloat(d: DType): boolean {
  return d === 'float32';
}

export function isInteger(d: DType): boolean {
  return d === 'int8' || d === 'uint8' || d === 'int16' || d === 'int32' || d === 'int64';
}

/** Allocate a zeroed typed array of n elements of dtype d (bool is Uint8Array of 0/1). */
export function allocTyped(d: DType, n: number): TypedArray {
  switch (d) {
    case 'float32': return new Float32Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
  }
}

/** View little-endian bytes as a typed array of dtype d (copies when the bytes are misaligned). */
export function typedFromBytes(d: DType, bytes: Uint8Array): TypedArray {
  const size = dtypeSize(d);
  if (bytes.byteLength % size !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${d} elements`);
  const b = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const n = b.byteLength / size;
  switch (d) {
    case 'float32': return new Float32Array(b.buffer, b.byteOffset, n);
    case 'int8': return new Int8Array(b.buffer, b.byteOffset, n);
    case 'uint8': case 'bool': return new Uint8Array(b.buffer, b.byteOffset, n);
    case 'int16': return new Int16Array(b.buffer, b.byteOffset, n);
    case 'int32': return new Int32Array(b.buffer, b.byteOffset, n);
    case 'int64': return new BigInt64Array(b.buffer, b.byteOffset, n);
  }
}

export function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Inclusive value range of an integer dtype, as bigints. */
export function intRange(d: DType): [bigint, bigint] {
  switch (d) {
    case 'int8': return [-128n, 127n];
    case 'uint8': return [0n, 255n];
    case 'int16': return [-32768n, 32767n];
    case 'int32': return [-2147483648n, 2147483647n];
    case 'int64': return [-(1n << 63n), (1n << 63n) - 1n];
    case 'bool': return [0n, 1n];
    case 'float32': throw new TypeError('float32 has no integer range');
  }
}
