/**
 * ONNX TensorProto → IR constant. Handles raw_data and the typed repeated fields, external data
 * (weights in side files, read lazily), and converts float16/bfloat16/float64 and the unsigned
 * wide types on import (docs/ir.md §Dtypes), warning where a value changes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OnnxTypes } from './proto.ts';
import { int64, int64Big, onnx, OnnxDataType as T, ONNX_TYPE_NAMES } from './proto.ts';
import type { ConstantSource, DType, TensorType } from '../ir/types.ts';
import { numel, shape } from '../ir/types.ts';
import { dtypeSize } from '../ir/dtype.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import { ConvertError } from '../errors.ts';
import type { WarningSink } from '../errors.ts';
import { halfBitsToFloat } from '../ir/ops/boundary.ts'; // float16 bits → float32 value (exact)

type TensorProto = OnnxTypes.ITensorProto;

/** IR dtype for an ONNX element type as a graph input/output, or undefined if the IR cannot carry it. */
export function irDTypeOf(onnxType: number): DType | undefined {
  switch (onnxType) {
    case T.FLOAT: return 'float32';
    case T.UINT8: return 'uint8';
    case T.INT8: return 'int8';
    case T.INT16: return 'int16';
    case T.INT32: return 'int32';
    case T.INT64: return 'int64';
    case T.BOOL: return 'bool';
    case T.DOUBLE: return 'float64';
    case T.FLOAT16: return 'float16';
    case T.BFLOAT16: return 'bfloat16';
    case T.UINT16: return 'uint16';
    case T.UINT32: return 'uint32';
    case T.UINT64: return 'uint64';
    default: return undefined;
  }
}

/** IR dtype a constant of this ONNX type is converted to on import (a compute dtype). */
export function constDTypeOf(onnxType: number): DType | undefined {
  switch (onnxType) {
    case T.FLOAT16: case T.BFLOAT16: case T.DOUBLE: return 'float32';
    case T.UINT16: return 'int32';
    case T.UINT32: case T.UINT64: return 'int64';
    case T.FLOAT: case T.UINT8: case T.INT8: case T.INT16: case T.INT32: case T.INT64: case T.BOOL: return irDTypeOf(onnxType);
    default: return undefined;
  }
}

export function onnxTypeName(t: number): string {
  return ONNX_TYPE_NAMES[t] ?? `type ${t}`;
}

function bytesView(b: Uint8Array | null | undefined): Uint8Array {
  return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0);
}

function externalSource(t: TensorProto, modelDir: string, what: string): { file: string; offset: number; length: number } {
  const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const loc = kv.get('location');
  if (!loc) throw new ConvertError(`${what}: external data without a location`, 'malformed');
  if (path.isAbsolute(loc) || loc.split(/[\\/]/).includes('..')) {
    throw new ConvertError(`${what}: external data location '${loc}' must be a relative path inside the model's folder`, 'malformed');
  }
  const file = path.join(modelDir, loc);
  if (!fs.existsSync(file)) throw new ConvertError(`${what}: external data file ${file} not found (it must sit beside the model)`, 'malformed');
  const size = fs.statSync(file).size;
  const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
  const length = kv.has('length') ? Number(kv.get('length')) : size - offset;
  if (!(offset >= 0 && length >= 0 && offset + length <= size)) {
    throw new ConvertError(`${what}: external data range ${offset}+${length} lies outside ${file} (${size} bytes)`, 'malformed');
  }
  return { file, offset, length };
}

function readRange(file: string, offset: number, length: number): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const b = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, b, got, length - got, offset + got);
      if (n === 0) throw new ConvertError(`${file}: unexpected end of file`, 'malformed');
      got += n;
    }
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

export interface DecodedConstant {
  type: TensorType;
  /** Present for tensors whose bytes can be read without conversion (lazy, for large weights). */
  source?: ConstantSource;
  /** Present when the values were decoded (typed fields, converted dtypes, small tensors). */
  value?: HostTensor;
}

/**
 * Decode a TensorProto. Raw and external float32/int tensors stay lazy byte sources; everything else
 * is decoded to a host tensor (with dtype conversion).
 */
export function decodeTensor(t: TensorProto, modelDir: string, what: string, warn: WarningSink, opts: { exact?: boolean } = {}): DecodedConstant {
  const onnxType = t.dataType ?? 0;
  const dims = (t.dims ?? []).map((d) => int64(d));
  if (dims.some((d) => d < 0)) throw new ConvertError(`${what}: negative dimension in [${dims.join(', ')}]`, 'malformed');
  // exact: keep the stored element type (a boundary dtype for float64/float16/…), as model inputs and outputs are.
  const dtype = opts.exact ? irDTypeOf(onnxType) : constDTypeOf(onnxType);
  if (!dtype) throw new ConvertError(`${what}: element type ${onnxTypeName(onnxType)} is not supported (the IR carries float32, int8/16/32/64, uint8 and bool, and float64, float16, bfloat16, uint16/32/64 at a model's interface)`, 'dtype');
  const n = numel(dims);
  const s = shape(dims);
  const external = t.dataLocation === 1;
  const direct = irDTypeOf(onnxType) === dtype;

  // Byte source for the tensor's stored element type (raw_data or external file).
  let rawLen: number | undefined;
  let readRaw: (() => Uint8Array) | undefined;
  if (external) {
    const ex = externalSource(t, modelDir, what);
    rawLen = ex.length;
    readRaw = () => readRange(ex.file, ex.offset, ex.length);
  } else if (t.rawData && t.rawData.length > 0) {
    const rb = bytesView(t.rawData);
    rawLen = rb.byteLength;
    readRaw = () => rb;
  }
  const storedSize: Record<number, number> = { [T.FLOAT16]: 2, [T.BFLOAT16]: 2, [T.DOUBLE]: 8, [T.UINT16]: 2, [T.UINT32]: 4, [T.UINT64]: 8 };
  if (readRaw) {
    const elt = direct ? dtypeSize(dtype) : storedSize[onnxType]!;
    if (rawLen !== n * elt) {
      throw new ConvertError(`${what}: ${rawLen} data bytes for ${n} ${onnxTypeName(onnxType)} elements (expected ${n * elt}); the file is truncated or corrupt`, 'malformed');
    }
    if (direct) return { type: { dtype, shape: s }, source: { byteLength: n * dtypeSize(dtype), read: readRaw } };
    return { type: { dtype, shape: s }, value: convertRaw(readRaw(), onnxType, dtype, s, what, warn) };
  }

  // Typed repeated fields.
  if (opts.exact && (onnxType === T.FLOAT16 || onnxType === T.BFLOAT16)) {
    const bits = (t.int32Data ?? []).map((v) => v & 0xffff);
    if (bits.length !== n) throw new ConvertError(`${what}: ${bits.length} values for shape [${dims.join(', ')}] (${n} elements)`, 'malformed');
    return { type: { dtype, shape: s }, value: hostTensor(dtype, dims, Uint16Array.from(bits)) };
  }
  const vals: (number | bigint)[] = [];
  switch (onnxType) {
    case T.FLOAT: for (const v of t.floatData ?? []) vals.push(v); break;
    case T.INT32: case T.INT16: case T.INT8: case T.UINT16: case T.UINT8: case T.BOOL:
      for (const v of t.int32Data ?? []) vals.push(v); break;
    case T.FLOAT16: for (const v of t.int32Data ?? []) vals.push(halfBitsToFloat(v & 0xffff)); break;
    case T.BFLOAT16: for (const v of t.int32Data ?? []) vals.push(new Float32Array(new Uint32Array([(v & 0xffff) << 16]).buffer)[0]!); break;
    case T.INT64: for (const v of t.int64Data ?? []) vals.push(int64Big(v)); break;
    case T.DOUBLE: for (const v of t.doubleData ?? []) vals.push(v); break;
    case T.UINT32: case T.UINT64: for (const v of t.uint64Data ?? []) vals.push(BigInt.asUintN(64, int64Big(v))); break;
  }
  if (vals.length !== n) {
    throw new ConvertError(`${what}: ${vals.length} values for shape [${dims.join(', ')}] (${n} elements)`, 'malformed');
  }
  if (opts.exact) return { type: { dtype, shape: s }, value: hostTensor(dtype, dims, vals) };
  if (onnxType === T.DOUBLE) warnPrecision(vals as number[], what, warn);
  if (onnxType === T.UINT64) {
    if ((vals as bigint[]).some((v) => v >= 1n << 63n)) throw new ConvertError(`${what}: uint64 values above 2^63−1 cannot be represented as int64`, 'dtype');
  }
  return { type: { dtype, shape: s }, value: hostTensor(dtype, dims, vals.map((v) => (dtype === 'int64' ? BigInt(v) : Number(v)))) };
}

function warnPrecision(vals: readonly number[], what: string, warn: WarningSink) {
  let changed = 0;
  for (const v of vals) if (v === v && Math.fround(v) !== v) changed++;
  if (changed) warn.warn(`${what}: float64 converted to float32; ${changed} of ${vals.length} values lost precision`);
}

function convertRaw(bytes: Uint8Array, onnxType: number, dtype: DType, dims: readonly number[], what: string, warn: WarningSink): HostTensor {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = numel(dims);
  const vals: (number | bigint)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    switch (onnxType) {
      case T.FLOAT16: vals[i] = halfBitsToFloat(dv.getUint16(i * 2, true)); break;
      case T.BFLOAT16: vals[i] = new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0]!; break;
      case T.DOUBLE: vals[i] = dv.getFloat64(i * 8, true); break;
      case T.UINT16: vals[i] = dv.getUint16(i * 2, true); break;
      case T.UINT32: vals[i] = BigInt(dv.getUint32(i * 4, true)); break;
      case T.UINT64: {
        const v = dv.getBigUint64(i * 8, true);
        if (v >= 1n << 63n) throw new ConvertError(`${what}: uint64 values above 2^63−1 cannot be represented as int64`, 'dtype');
        vals[i] = v;
        break;
      }
    }
  }
  if (onnxType === T.DOUBLE) warnPrecision(vals as number[], what, warn);
  return hostTensor(dtype, dims, vals);
}

/** Encode a host tensor as an ONNX TensorProto with raw_data, as the ONNX test data lays tensors out. */
export function encodeTensorProto(name: string, t: HostTensor): Uint8Array {
  const code: Record<DType, number> = {
    float32: T.FLOAT, uint8: T.UINT8, int8: T.INT8, int16: T.INT16, int32: T.INT32, int64: T.INT64, bool: T.BOOL,
    float64: T.DOUBLE, float16: T.FLOAT16, bfloat16: T.BFLOAT16, uint16: T.UINT16, uint32: T.UINT32, uint64: T.UINT64,
  };
  const rawData = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return onnx.TensorProto.encode(onnx.TensorProto.create({ name, dataType: code[t.dtype], dims: [...t.shape], rawData })).finish();
}
