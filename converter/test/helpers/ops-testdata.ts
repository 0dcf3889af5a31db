/**
 * Helpers for the ops-* tests: run ONNX backend test-data cases with their test inputs turned into
 * initializers, so every node with a host evaluator folds and the graph outputs are constants whose
 * values can be compared with the expected outputs.
 */
import path from 'node:path';
import { listCases, readDataSet } from '../../conformance/testdata.ts';
import type { TestCase } from '../../conformance/testdata.ts';
import { checkCase } from '../../conformance/shapes.ts';
import { importOnnx, readOnnxModel } from '../../onnx/import.ts';
import { decodeTensor } from '../../onnx/tensor.ts';
import type { OnnxTypes } from '../../onnx/proto.ts';
import { hostFromBytes } from '../../ir/host-tensor.ts';
import type { HostTensor } from '../../ir/host-tensor.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Attrs, DType, TensorId } from '../../ir/types.ts';
import { shape } from '../../ir/types.ts';

export function casesMatching(re: RegExp): TestCase[] {
  return listCases(['node', 'pytorch-converted', 'pytorch-operator', 'simple']).filter((c) => re.test(`${c.suite}/${c.name}`));
}

/** Convert a case with all graph inputs made constant; outputs are host tensors (undefined when not folded). */
export function foldCase(c: TestCase): { got: (HostTensor | undefined)[]; want: HostTensor[] } {
  const model = readOnnxModel(c.model);
  const data = readDataSet(c);
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((i) => i.name));
  const gin = (g.input ?? []).filter((v) => !inits.has(v.name));
  gin.forEach((vi, i) => {
    const t = data.inputs[i];
    if (t) {
      t.proto.name = vi.name ?? '';
      g.initializer = [...(g.initializer ?? []), t.proto] as typeof g.initializer;
    }
  });
  g.input = [];
  // float64 models (einsum, cumsum … test data): constants convert to float32 on import; retype the outputs too.
  for (const o of g.output ?? []) if (o.type?.tensorType?.elemType === 11) o.type.tensorType.elemType = 1;
  const r = importOnnx(model, c.model, {});
  const warn = { warn() {} };
  const dec = (p: OnnxTypes.ITensorProto) => {
    const d = decodeTensor(p, path.dirname(c.model), 'expected output', warn);
    return d.value ?? hostFromBytes(d.type.dtype, d.type.shape, d.source!.read());
  };
  const got = r.graph.outputs.map((id) => {
    const s = r.graph.constants.get(id);
    const t = r.graph.tensors[id]!;
    return s ? hostFromBytes(t.dtype, t.shape, s.read()) : undefined;
  });
  return { got, want: data.outputs.map((t) => dec(t.proto)) };
}

/** undefined when equal (floats within a relative tolerance), else the first difference. */
export function compareHost(got: HostTensor, want: HostTensor, tol = 0): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype} vs ${want.dtype}`;
  if (got.shape.join() !== want.shape.join()) return `shape [${got.shape}] vs [${want.shape}]`;
  for (let i = 0; i < got.data.length; i++) {
    const a = got.data[i]!;
    const b = want.data[i]!;
    if (typeof a === 'number' && typeof b === 'number') {
      if ((Number.isNaN(a) && Number.isNaN(b)) || a === b) continue;
      if (Math.abs(a - b) <= tol * Math.max(1, Math.abs(b))) continue;
      return `element ${i}: ${a} vs ${b}`;
    }
    if (a !== b) return `element ${i}: ${a} vs ${b}`;
  }
  return undefined;
}

/** Shape conformance of the cases matching re: failures other than the allowed categories. */
export function shapeFailures(re: RegExp, allowed: readonly string[] = ['dynamic-shape', 'dtype']): string[] {
  return casesMatching(re)
    .map(checkCase)
    .filter((r) => r.status !== 'pass' && !(r.status === 'unsupported' && allowed.includes(r.category ?? '')))
    .map((r) => `${r.case.name}: ${r.status} ${r.category}: ${r.reason}`);
}

/** Fold one IR op over constant inputs with a fresh builder; returns the output values. */
export function foldOp(op: string, inputs: readonly HostTensor[], attrs: Attrs): HostTensor[] {
  const b = new GraphBuilder();
  const ids = inputs.map((t, i) => b.addConstant(`in${i}`, t));
  const outs = b.emit(op, ids, attrs);
  return outs.map((id: TensorId) => {
    const v = b.constValue(id);
    if (!v) throw new Error(`${op} did not fold`);
    return v;
  });
}

/** Infer one IR op's output types from input types (inputs are graph inputs, nothing folds). */
export function inferOp(op: string, inputs: readonly { dtype: string; shape: number[] }[], attrs: Attrs): string[] {
  const b = new GraphBuilder();
  const ids = inputs.map((t, i) => b.addInput(`in${i}`, { dtype: t.dtype as DType, shape: shape(t.shape) }));
  return b.emit(op, ids, attrs).map((id) => { const t = b.typeOf(id); return `${t.dtype}[${t.shape.join(',')}]`; });
}
