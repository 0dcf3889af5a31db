import type { DType } from './types.ts';
import { DTYPES } from './types.ts';

export type TypedArray = Float32Array | Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array | Float64Array | Uint16Array | Uint32Array | BigUint64Array;

const SIZES: Record<DType, number> = { float32: 4, int8: 1, uint8: 1, int16: 2, int32: 4, int64: 8, bool: 1, float64: 8, float16: 2, bfloat16: 2, uint16: 2, uint32: 4, uint64: 8 };

/** Boundary dtypes: graph inputs/outputs and Cast operands only (docs/ir.md §Dtypes). */
export const BOUNDARY_DTYPES: readonly DType[] = ['float64', 'float16', 'bfloat16', 'uint16', 'uint32', 'uint64'];

export function isBoundary(d: DType): boolean {
  return BOUNDARY_DTYPES.includes(d);
}

/** The compute dtype a boundary dtype's values are computed in (exact, except float64 → float32 rounds). */
export function computeDType(d: DType): DType {
  switch (d) {
    case 'float64': case 'float16': case 'bfloat16': return 'float32';
    case 'uint16': return 'int32';
    case 'uint32': case 'uint64': return 'int64';
    default: return d;
  }
}

/** A host-side float of a floating boundary dtype (float16/bfloat16 stored as their bits in a Uint16Array). */
export function isFloatStorage(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

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
  return d === 'int8' || d === 'uint8' || d === 'int16' || d === 'int32' || d === 'int64' || d === 'uint16' || d === 'uint32' || d === 'uint64';
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
    case 'float64': return new Float64Array(n);
    case 'float16': case 'bfloat16': case 'uint16': return new Uint16Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'uint64': return new BigUint64Array(n);
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
    case 'float64': return new Float64Array(b.buffer, b.byteOffset, n);
    case 'float16': case 'bfloat16': case 'uint16': return new Uint16Array(b.buffer, b.byteOffset, n);
    case 'uint32': return new Uint32Array(b.buffer, b.byteOffset, n);
    case 'uint64': return new BigUint64Array(b.buffer, b.byteOffset, n);
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
    case 'uint16': return [0n, 65535n];
    case 'uint32': return [0n, 4294967295n];
    case 'uint64': return [0n, (1n << 64n) - 1n];
    case 'float32': case 'float64': case 'float16': case 'bfloat16': throw new TypeError(`${d} has no integer range`);
  }
}
