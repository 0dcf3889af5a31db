/** The ONNX protobuf schema (onnx-proto, ONNX 1.10 schema; newer fields we need are read by hand). */
import pkg from 'onnx-proto';
import Long from 'long';
import protobuf from 'protobufjs';

// protobufjs decodes int64 fields as Long when the long package is registered.
protobuf.util.Long = Long as unknown as typeof protobuf.util.Long;
protobuf.configure();

export const onnx = pkg.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** An int64 protobuf field as a JS number (exact up to 2^53; larger magnitudes are clamped to ±2^53). */
export function int64(v: number | Long | { toString(): string } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  const b = BigInt(v.toString());
  const lim = 1n << 53n;
  return Number(b > lim ? lim : b < -lim ? -lim : b);
}

/** An int64 protobuf field as a bigint (exact). */
export function int64Big(v: number | Long | { toString(): string } | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(v);
  return BigInt(v.toString());
}

export const OnnxDataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

export const ONNX_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OnnxDataType).map(([k, v]) => [v, k.toLowerCase()]));
