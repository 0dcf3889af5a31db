/**
 * Reading and writing tensors for `opml run`: ONNX TensorProto (.pb), NumPy (.npy) and JSON
 * (nested arrays, or {"dims": [...], "data": [...]}), with errors that name the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DType } from '../ir/types.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostFromBytes, hostTensor } from '../ir/host-tensor.ts';
import { onnx } from '../onnx/proto.ts';
import { constDTypeOf, decodeTensor, encodeTensorProto } from '../onnx/tensor.ts';
import { ConvertError, fileProblem } from '../errors.ts';
import { numel } from '../ir/types.ts';
import { dtypeSize } from '../ir/dtype.ts';

export class TensorFileError extends Error {
  override readonly name = 'TensorFileError';
}

export function readTensorFile(file: string, want?: { dtype: DType; shape: readonly number[] }): HostTensor {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new TensorFileError(`${file}: cannot read ${fileProblem(e)}`);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.npy' || buf.subarray(0, 6).toString('latin1') === '\x93NUMPY') return readNpy(file, buf);
  if (ext === '.json') return readJson(file, buf, want);
  return readPb(file, buf, want);
}

/**
 * A TensorProto keeps its element type (float64, float16 … are boundary dtypes a model may take), unless
 * the model wants that type's compute dtype (a float64 file for a float32 input), which it converts to.
 */
function readPb(file: string, buf: Buffer, want?: { dtype: DType }): HostTensor {
  let p;
  try {
    p = onnx.TensorProto.decode(buf);
  } catch (e) {
    throw new TensorFileError(`${file}: not an ONNX TensorProto (${(e as Error).message}); inputs may be .pb, .npy or .json`);
  }
  try {
    const exact = !want || want.dtype !== constDTypeOf(p.dataType ?? 0);
    const d = decodeTensor(p, path.dirname(file), file, { warn: () => {} }, { exact });
    if (d.value) return d.value;
    return hostFromBytes(d.type.dtype, d.type.shape, d.source!.read().slice());
  } catch (e) {
    if (e instanceof ConvertError) throw new TensorFileError(e.message);
    throw e;
  }
}


const NPY_DTYPES: Record<string, DType> = { '<f4': 'float32', '|i1': 'int8', '|u1': 'uint8', '<i2': 'int16', '<i4': 'int32', '<i8': 'int64', '|b1': 'bool' };

function readNpy(file: string, buf: Buffer): HostTensor {
  if (buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new TensorFileError(`${file}: not a .npy file; save the array with numpy.save`);
  const major = buf[6]!;
  const hstart = major === 1 ? 10 : 12;
  if (buf.length < hstart) throw new TensorFileError(`${file}: truncated .npy file (${buf.length} bytes, no header); save the array again`);
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (buf.length < hstart + hlen) throw new TensorFileError(`${file}: truncated .npy file (its header needs ${hstart + hlen} bytes, the file has ${buf.length}); save the array again`);
  const header = buf.subarray(hstart, hstart + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new TensorFileError(`${file}: unreadable .npy header; save the array again with numpy.save`);
  const dtype = NPY_DTYPES[descr];
  if (!dtype) throw new TensorFileError(`${file}: .npy dtype ${descr} is not supported (float32, int8/16/32/64, uint8, bool; little-endian)`);
  if (fortran) throw new TensorFileError(`${file}: Fortran-ordered .npy arrays are not supported; save with C order`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new TensorFileError(`${file}: unreadable .npy shape (${shapeText}); save the array again`);
  const data = buf.subarray(hstart + hlen);
  const need = numel(dims) * dtypeSize(dtype);
  if (data.length !== need) {
    throw new TensorFileError(`${file}: ${data.length < need ? 'truncated: ' : ''}${data.length} data bytes, ${descr}[${dims.join('x')}] needs ${need}; save the array again`);
  }
  return hostFromBytes(dtype, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
}

function readJson(file: string, buf: Buffer, want?: { dtype: DType; shape: readonly number[] }): HostTensor {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new TensorFileError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  let dims: number[];
  let flat: unknown[];
  let dtype: DType = want?.dtype ?? 'float32';
  const form = 'give nested arrays of numbers, or {"dims": [...], "data": [...]}';
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as { dims?: unknown; data?: unknown; dtype?: DType };
    if (!Array.isArray(o.data)) throw new TensorFileError(`${file}: a JSON object without a "data" array; ${form}`);
    if (o.dims !== undefined && (!Array.isArray(o.dims) || o.dims.some((d) => !Number.isSafeInteger(d) || (d as number) < 0))) {
      throw new TensorFileError(`${file}: "dims" must be an array of sizes; ${form}`);
    }
    flat = o.data;
    dims = (o.dims as number[] | undefined) ?? [flat.length];
    if (o.dtype) dtype = o.dtype;
  } else {
    dims = [];
    let cur = v;
    while (Array.isArray(cur)) { dims.push(cur.length); cur = cur[0]; }
    flat = (v as unknown[]).flat?.(dims.length) ?? [v];
    if (!Array.isArray(v)) flat = [v];
  }
  const bad = flat.find((x) => typeof x !== 'number' && typeof x !== 'boolean');
  if (bad !== undefined) throw new TensorFileError(`${file}: holds ${JSON.stringify(bad)?.slice(0, 20) ?? String(bad)}, not a number; ${form}`);
  if (flat.length !== numel(dims)) {
    throw new TensorFileError(`${file}: ${flat.length} values, shape [${dims.join('x')}] needs ${numel(dims)}; make the nested arrays rectangular`);
  }
  const nums = flat.map((x) => Number(x));
  return hostTensor(dtype, dims, dtype === 'int64' ? nums.map((x) => BigInt(Math.trunc(x))) : nums);
}

export function writeTensorPb(file: string, name: string, t: HostTensor): void {
  fs.writeFileSync(file, encodeTensorProto(name, t));
}
