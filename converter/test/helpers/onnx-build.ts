/**
 * Build small ONNX models in tests with onnx-proto, so that tests exercise the real decoder on
 * real protobuf bytes (the same path as a file exported by PyTorch).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from '../../onnx/proto.ts';

export const F = onnx.TensorProto.DataType;

export type AttrInput = number | number[] | string | Float32Array;

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrInput>;
  floatAttrs?: string[];
}

export function valueInfo(name: string, elemType: number, dims: (number | string)[] | undefined) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims === undefined ? undefined : { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

export function floatTensor(name: string, dims: number[], values: Float32Array | number[]) {
  const a = values instanceof Float32Array ? values : Float32Array.from(values);
  return onnx.TensorProto.create({ name, dataType: F.FLOAT, dims, rawData: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) });
}

export function int64Tensor(name: string, dims: number[], values: number[]) {
  const a = BigInt64Array.from(values.map(BigInt));
  return onnx.TensorProto.create({ name, dataType: F.INT64, dims, rawData: new Uint8Array(a.buffer) });
}

function attr(name: string, v: AttrInput, isFloat: boolean) {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return isFloat ? { name, type: A.FLOAT, f: v } : { name, type: A.INT, i: v };
  if (v instanceof Float32Array) return { name, type: A.FLOATS, floats: [...v] };
  return isFloat ? { name, type: A.FLOATS, floats: v as number[] } : { name, type: A.INTS, ints: v as number[] };
}

export interface ModelSpec {
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  nodes: NodeSpec[];
  initializers?: ReturnType<typeof floatTensor>[];
  opset?: number;
  irVersion?: number;
  docString?: string;
}

export function buildModel(s: ModelSpec): Uint8Array {
  const m = onnx.ModelProto.create({
    irVersion: s.irVersion ?? 8,
    producerName: 'opml-test',
    docString: s.docString ?? '',
    opsetImport: [{ domain: '', version: s.opset ?? 13 }],
    graph: {
      name: 'g',
      input: s.inputs,
      output: s.outputs,
      initializer: s.initializers ?? [],
      node: s.nodes.map((n, i) => ({
        opType: n.op,
        name: n.name ?? `${n.op}_${i}`,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v, (n.floatAttrs ?? []).includes(k))),
      })),
    },
  });
  return onnx.ModelProto.encode(m).finish();
}

export function tmpDir(prefix = 'opml-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeModel(dir: string, s: ModelSpec, file = 'model.onnx'): string {
  const p = path.join(dir, file);
  fs.writeFileSync(p, buildModel(s));
  return p;
}
