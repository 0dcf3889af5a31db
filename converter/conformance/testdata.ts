/**
 * The ONNX backend test data shipped by Debian's libonnx-testdata: locating cases and reading their
 * input/output TensorProto files.
 */
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { onnx, int64 } from '../onnx/proto.ts';
import type { OnnxTypes } from '../onnx/proto.ts';
import { decodeTensor, irDTypeOf } from '../onnx/tensor.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostFromBytes } from '../ir/host-tensor.ts';
import { ConvertError } from '../errors.ts';

export const TESTDATA_ROOT = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
export const SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;

export interface TestCase {
  suite: string;
  name: string;
  dir: string;
  model: string;
}

export interface PbTensor {
  name: string;
  /** IR dtype, or undefined when the IR cannot carry the element type. */
  dtype: string | undefined;
  onnxType: number;
  dims: number[];
  /** Raw bytes as stored (raw_data), or undefined when the file uses typed fields. */
  proto: ReturnType<typeof onnx.TensorProto.decode>;
}

export function testdataAvailable(): boolean {
  return fs.existsSync(path.join(TESTDATA_ROOT, 'node'));
}

export function listCases(suites: readonly string[] = SUITES): TestCase[] {
  const out: TestCase[] = [];
  for (const suite of suites) {
    const sd = path.join(TESTDATA_ROOT, suite);
    if (!fs.existsSync(sd)) continue;
    for (const name of fs.readdirSync(sd).sort()) {
      const model = path.join(sd, name, 'model.onnx');
      if (fs.existsSync(model)) out.push({ suite, name, dir: path.join(sd, name), model });
    }
  }
  return out;
}

/** The tensors of the first test data set: inputs and expected outputs, in index order. */
export function readDataSet(c: TestCase, set = 0): { inputs: PbTensor[]; outputs: PbTensor[] } {
  const dir = path.join(c.dir, `test_data_set_${set}`);
  const read = (prefix: string) => {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb')) : [];
    files.sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
    return files.map((f) => {
      const p = onnx.TensorProto.decode(fs.readFileSync(path.join(dir, f)));
      const t = p.dataType ?? 0;
      return { name: p.name ?? '', dtype: irDTypeOf(t), onnxType: t, dims: (p.dims ?? []).map((d) => int64(d)), proto: p };
    });
  };
  return { inputs: read('input_'), outputs: read('output_') };
}

/** A test value: a tensor, a sequence of tensors, or an empty optional. */
export type CaseValue = HostTensor | { sequence: HostTensor[] } | { empty: true };

function readProtoTensor(bytes: Uint8Array, file: string): HostTensor {
  const d = decodeTensor(onnx.TensorProto.decode(bytes), path.dirname(file), file, { warn: () => {} }, { exact: true });
  return d.value ?? hostFromBytes(d.type.dtype, d.type.shape, d.source!.read().slice());
}

/** SequenceProto (onnx-data.proto; not in onnx-proto's schema): field 3 holds its tensors. */
function readSequence(bytes: Uint8Array, file: string): HostTensor[] {
  const r = protobuf.Reader.create(bytes);
  const out: HostTensor[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 3 && (tag & 7) === 2) out.push(readProtoTensor(r.bytes(), file));
    else if (tag >>> 3 >= 4 && tag >>> 3 <= 7) throw new ConvertError(`${file}: sequences of sparse tensors, sequences, maps or optionals are not supported`, 'dtype');
    else r.skipType(tag & 7);
  }
  return out;
}

/** OptionalProto: field 3 a tensor, field 5 a sequence; neither: empty. */
function readOptional(bytes: Uint8Array, file: string): CaseValue {
  const r = protobuf.Reader.create(bytes);
  let v: CaseValue = { empty: true };
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 3 && (tag & 7) === 2) v = readProtoTensor(r.bytes(), file);
    else if (tag >>> 3 === 5 && (tag & 7) === 2) v = { sequence: readSequence(r.bytes(), file) };
    else if (tag >>> 3 === 4 || tag >>> 3 >= 6) throw new ConvertError(`${file}: optional sparse tensors, maps and optionals are not supported`, 'dtype');
    else r.skipType(tag & 7);
  }
  return v;
}

/** Read one test data file as the model declares the value: tensor, sequence or optional. */
export function readCaseValue(file: string, type: OnnxTypes.ITypeProto | null | undefined): CaseValue {
  const bytes = fs.readFileSync(file);
  if (type?.sequenceType) return { sequence: readSequence(bytes, file) };
  if (type?.optionalType) return readOptional(bytes, file);
  return readProtoTensor(bytes, file);
}

/** The tensors a value contributes to a flat list of inputs or outputs. */
export function flatTensors(v: CaseValue): HostTensor[] {
  return 'sequence' in v ? v.sequence : 'empty' in v ? [] : [v];
}

/** Inputs and expected outputs of a case's first data set, read by the model's declared types. */
export function readCaseValues(c: TestCase, set = 0): { inputs: CaseValue[]; outputs: CaseValue[] } {
  const m = onnx.ModelProto.decode(fs.readFileSync(c.model));
  const g = m.graph!;
  const inits = new Set((g.initializer ?? []).map((i) => i.name));
  const ins = (g.input ?? []).filter((v) => !inits.has(v.name));
  const dir = path.join(c.dir, `test_data_set_${set}`);
  const list = (prefix: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb')) : [])
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
  return {
    inputs: list('input_').map((f, i) => readCaseValue(path.join(dir, f), ins[i]?.type)),
    outputs: list('output_').map((f, i) => readCaseValue(path.join(dir, f), g.output?.[i]?.type)),
  };
}
