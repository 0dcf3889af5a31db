/**
 * ONNX model → IR graph. Reads and validates the protobuf, refuses unsupported ops all at once
 * (one message naming every op type, its opset and where it is used), turns initializers into
 * constants, fixes input shapes, and lowers each node through its handler.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OnnxTypes } from './proto.ts';
import { int64, onnx } from './proto.ts';
import type { Graph, TensorId } from '../ir/types.ts';
import { formatShape, shape } from '../ir/types.ts';
import { GraphBuilder } from '../ir/builder.ts';
import { IrError } from '../ir/op-registry.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import type { WarningSink } from '../errors.ts';
import { ConvertError, fileProblem } from '../errors.ts';
import { decodeTensor, irDTypeOf, onnxTypeName } from './tensor.ts';
import { enterBoundary, leaveBoundary } from './boundary.ts';
import { isBoundary, isDType } from '../ir/dtype.ts';
import type { StructuredInput } from './sequence.ts';
import { handleValue, isHandle, makeHandle } from './sequence.ts';
import { OnnxNodeContext } from './context.ts';
import { onnxHandler, onnxRefusal } from './registry.ts';
import './ops/index.ts';

export interface OnnxImportOptions {
  /** Shapes for graph inputs, overriding the model's (required where it has dynamic dims). */
  inputShapes?: ReadonlyMap<string, readonly number[]>;
  /**
   * Graph inputs to freeze as constants (e.g. a Reshape's shape or a Slice's starts fed as inputs):
   * the static IR needs such values at convert time. They are no longer inputs of the converted model.
   */
  frozenInputs?: ReadonlyMap<string, HostTensor>;
  /**
   * Sequence and optional graph inputs: a sequence's element dtypes and shapes (each element becomes an
   * IR input NAME[k]), or an empty optional (converter/onnx/sequence.ts).
   */
  structuredInputs?: ReadonlyMap<string, StructuredInput>;
  warnings?: WarningSink;
}

export interface OnnxImportResult {
  graph: Graph;
  irVersion: number;
  opset: number;
  producer: string;
}

const MIN_IR = 3;
const MAX_IR = 9;

export function readOnnxModel(file: string): OnnxTypes.ModelProto {
  let bytes: Buffer;
  try {
    // A protobuf message cannot exceed 2 GiB: larger weights must live in external-data files.
    const size = fs.statSync(file).size;
    if (size > 2 ** 31) {
      throw new ConvertError(`${file}: ${(size / 2 ** 30).toFixed(1)} GiB, larger than an ONNX protobuf can be (2 GiB); save its weights as external data (onnx.save_model(model, path, save_as_external_data=True)) and convert model.onnx with its data files beside it`, 'malformed');
    }
    bytes = fs.readFileSync(file);
  } catch (e) {
    if (e instanceof ConvertError) throw e;
    throw new ConvertError(`${file}: cannot read ${fileProblem(e)}`, 'malformed');
  }
  let m: OnnxTypes.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ConvertError(`${file}: not an ONNX model (protobuf decoding failed: ${(e as Error).message}); is the file truncated or of another format?`, 'malformed');
  }
  if (!m.graph || (m.graph.output ?? []).length === 0) {
    throw new ConvertError(`${file}: not an ONNX model (no graph with outputs found)`, 'malformed');
  }
  return m;
}

/** Kahn topological order, stable with respect to the file order. */
function topoSort(nodes: readonly OnnxTypes.INodeProto[], available: Set<string>): OnnxTypes.INodeProto[] {
  const produced = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && produced.set(o, i)));
  const sorted: OnnxTypes.INodeProto[] = [];
  const done = new Set<number>();
  let progress = true;
  // Fast path: already sorted (the ONNX rule).
  const have = new Set(available);
  let inOrder = true;
  for (const n of nodes) {
    if ((n.input ?? []).some((x) => x && !have.has(x) && produced.has(x))) { inOrder = false; break; }
    for (const o of n.output ?? []) have.add(o);
  }
  if (inOrder) return [...nodes];
  const ready = new Set(available);
  while (progress && done.size < nodes.length) {
    progress = false;
    nodes.forEach((n, i) => {
      if (done.has(i)) return;
      if ((n.input ?? []).every((x) => !x || ready.has(x) || !produced.has(x))) {
        done.add(i);
        sorted.push(n);
        for (const o of n.output ?? []) ready.add(o);
        progress = true;
      }
    });
  }
  if (done.size < nodes.length) throw new ConvertError('the graph has a cycle', 'invalid-model');
  return sorted;
}

export function importOnnx(model: OnnxTypes.ModelProto, file: string, opts: OnnxImportOptions = {}): OnnxImportResult {
  const warnings: WarningSink = opts.warnings ?? { warn: () => {} };
  const modelDir = path.dirname(path.resolve(file));
  const irVersion = int64(model.irVersion);
  if (irVersion < MIN_IR) throw new ConvertError(`${file}: ONNX IR version ${irVersion} is too old (this converter reads IR ${MIN_IR}–${MAX_IR})`, 'malformed');
  if (irVersion > MAX_IR) warnings.warn(`${file}: ONNX IR version ${irVersion} is newer than ${MAX_IR}; converting anyway`);
  let opset = 0;
  for (const o of model.opsetImport ?? []) if (!o.domain || o.domain === 'ai.onnx') opset = int64(o.version);
  if (opset === 0) opset = 1;
  const g = model.graph!;

  // 1. Refuse unsupported ops all at once.
  const missing = new Map<string, { nodes: string[]; reason?: string; category?: string }>();
  (g.node ?? []).forEach((n, i) => {
    const domain = n.domain ?? '';
    const op = n.opType ?? '';
    if (onnxHandler(domain, op)) return;
    const key = domain && domain !== 'ai.onnx' ? `${domain}.${op}` : op;
    const e = missing.get(key) ?? { nodes: [], ...onnxRefusal(domain, op) };
    e.nodes.push(n.name || `#${i}`);
    missing.set(key, e);
  });
  if (missing.size) {
    const details = [...missing].sort().map(([op, e]) => {
      const where = e.nodes.slice(0, 3).map((x) => `'${x}'`).join(', ') + (e.nodes.length > 3 ? ` and ${e.nodes.length - 3} more` : '');
      return `${op} (opset ${opset}): ${e.reason ? e.reason + '; ' : ''}used by ${where}`;
    });
    const categories = new Set([...missing.values()].map((e) => e.category ?? 'unsupported-op'));
    const category = categories.size === 1 ? ([...categories][0] as ConvertError['category']) : 'unsupported-op';
    throw new ConvertError(`${file}: ${missing.size} unsupported op type${missing.size > 1 ? 's' : ''}:`, category, details);
  }
  if ((g.sparseInitializer ?? []).length) throw new ConvertError(`${file}: sparse initializers are not supported`, 'unsupported-attr');

  const b = new GraphBuilder();
  const values = new Map<string, TensorId>();

  // 2. Initializers become constants (large ones stay lazy).
  for (const init of g.initializer ?? []) {
    const name = init.name ?? '';
    const d = decodeTensor(init, modelDir, `initializer '${name}'`, warnings);
    values.set(name, d.value ? b.addConstant(name, d.value) : b.addLazyConstant(name, d.type, d.source!));
  }

  // 3. Graph inputs (IR < 4 also lists initializers as inputs; those stay constants).
  const dynamicInputs: string[] = [];
  const used = new Set<string>();
  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (values.has(name)) continue;
    let tt = vi.type?.tensorType;
    const st = opts.structuredInputs?.get(name);
    if (!tt && st) {
      used.add(name);
      if (st.kind === 'empty') { values.set(name, makeHandle(b, null)); continue; }
      const items = st.elements.map((e, k) => {
        if (!isDType(e.dtype)) throw new ConvertError(`${file}: input '${name}' element ${k} has dtype ${e.dtype}`, 'dtype');
        return enterBoundary(b, b.addInput(`${name}[${k}]`, { dtype: e.dtype, shape: shape(e.shape) }), `${name}[${k}]`);
      });
      values.set(name, makeHandle(b, items));
      continue;
    }
    if (!tt && vi.type?.optionalType?.elemType?.tensorType) tt = vi.type.optionalType.elemType.tensorType; // a present optional tensor
    if (!tt) throw new ConvertError(`${file}: input '${name}' is a sequence or optional value; give its elements (the IR carries tensors; see converter/onnx/sequence.ts)`, 'dtype');
    const dtype = irDTypeOf(tt.elemType ?? 0);
    if (!dtype) throw new ConvertError(`${file}: input '${name}' has element type ${onnxTypeName(tt.elemType ?? 0)}; the IR carries float32, int8/16/32/64, uint8 and bool, and float64, float16, bfloat16, uint16/32/64 at the model's interface`, 'dtype');
    const declared = (tt.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && int64(d.dimValue) > 0 ? int64(d.dimValue) : d.dimParam || '?'));
    const frozen = opts.frozenInputs?.get(name);
    if (frozen) {
      used.add(name);
      if (frozen.dtype !== dtype) throw new ConvertError(`--freeze-input ${name}: the file holds ${frozen.dtype}, the model declares ${dtype}`, 'invalid-model');
      values.set(name, b.addConstant(name, frozen));
      if (isBoundary(dtype)) values.set(name, enterBoundary(b, values.get(name)!, name));
      continue;
    }
    const given = opts.inputShapes?.get(name);
    let dims: number[];
    if (given) {
      used.add(name);
      if (tt.shape && declared.length !== given.length) throw new ConvertError(`--input-shape ${name}=${given.join('x')}: the model declares rank ${declared.length} ([${declared.join('x')}])`, 'invalid-model');
      declared.forEach((d, i) => {
        if (typeof d === 'number' && d !== given[i]) throw new ConvertError(`--input-shape ${name}=${given.join('x')}: dimension ${i} is fixed to ${d} by the model`, 'invalid-model');
      });
      dims = [...given];
    } else if (!tt.shape) {
      dynamicInputs.push(`${name}: shape not declared`);
      continue;
    } else if (declared.some((d) => typeof d !== 'number')) {
      dynamicInputs.push(`${name}: [${declared.join('x')}]`);
      continue;
    } else dims = declared as number[];
    if (dtype === 'float64') warnings.warn(`input '${name}' is float64: computed at float32 precision (the IR has no float64 arithmetic)`);
    values.set(name, enterBoundary(b, b.addInput(name, { dtype, shape: shape(dims) }), name));
  }
  if (dynamicInputs.length) {
    throw new ConvertError(
      `${file}: input shapes must be static; give the missing dimensions with --input-shape NAME=DxDx… (e.g. --input-shape ${dynamicInputs[0]!.split(':')[0]}=1x3x224x224):`,
      'dynamic-shape', dynamicInputs);
  }
  for (const k of [...(opts.inputShapes?.keys() ?? []), ...(opts.frozenInputs?.keys() ?? [])]) {
    if (!used.has(k)) throw new ConvertError(`--input-shape/--freeze-input names '${k}', which is not an input of ${file} (inputs: ${(g.input ?? []).filter((v) => !values.has(v.name ?? '') || used.has(v.name ?? '')).map((v) => v.name).join(', ')})`, 'invalid-model');
  }

  // 4. Nodes, in topological order.
  runNodes(b, g.node ?? [], opset, values, modelDir, warnings);

  // 5. Outputs.
  const outs: TensorId[] = [];
  for (const vi of g.output ?? []) {
    const name = vi.name ?? '';
    let id = values.get(name);
    if (id === undefined) throw new ConvertError(`${file}: graph output '${name}' is produced by no node`, 'invalid-model');
    if (isHandle(id)) {
      // A sequence output is one IR output per element (an empty optional, none).
      const elemType = (vi.type?.sequenceType ?? vi.type?.optionalType?.elemType?.sequenceType)?.elemType?.tensorType?.elemType
        ?? vi.type?.optionalType?.elemType?.tensorType?.elemType;
      const d = elemType ? irDTypeOf(elemType) : undefined;
      for (const item of handleValue(b, id) ?? []) outs.push(d ? leaveBoundary(b, item, d, name) : item);
      continue;
    }
    const tt = vi.type?.tensorType ?? vi.type?.optionalType?.elemType?.tensorType;
    const outD = tt?.elemType ? irDTypeOf(tt.elemType) : undefined;
    if (outD) id = leaveBoundary(b, id, outD, name);
    const t = b.typeOf(id);
    if (tt && tt.elemType && irDTypeOf(tt.elemType) !== t.dtype) {
      const declared = irDTypeOf(tt.elemType);
      if (!declared) throw new ConvertError(`${file}: output '${name}' has element type ${onnxTypeName(tt.elemType)}, which the IR does not carry`, 'dtype');
      throw new ConvertError(`${file}: output '${name}' is declared ${declared} but computes to ${t.dtype}`, 'invalid-model');
    }
    const declaredDims = (tt?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? int64(d.dimValue) : -1));
    if (tt?.shape && (declaredDims.length !== t.shape.length || declaredDims.some((d, i) => d > 0 && d !== t.shape[i]))) {
      warnings.warn(`output '${name}': inferred shape ${formatShape(t.shape)} differs from the declared [${declaredDims.map((d) => (d < 0 ? '?' : d)).join('x')}]`);
    }
    outs.push(id);
  }
  b.setOutputs(outs);
  return { graph: b.build(), irVersion, opset, producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') };
}

/** Lower a list of ONNX nodes into the builder (also used to inline If branches). */
export function runNodes(
  b: GraphBuilder,
  nodes: readonly OnnxTypes.INodeProto[],
  opset: number,
  values: Map<string, TensorId>,
  modelDir: string,
  warnings: WarningSink,
): void {
  const sorted = topoSort(nodes, new Set(values.keys()));
  sorted.forEach((n, i) => {
    const ctx = new OnnxNodeContext(b, n, opset, values, modelDir, warnings, i);
    ctx.inlineGraph = (graph, bind) => {
      const sub = new Map(values);
      for (const [k, v] of bind ?? []) sub.set(k, v);
      for (const init of graph.initializer ?? []) {
        const d = decodeTensor(init, modelDir, `initializer '${init.name}'`, warnings);
        sub.set(init.name ?? '', d.value ? b.addConstant(init.name ?? '', d.value) : b.addLazyConstant(init.name ?? '', d.type, d.source!));
      }
      runNodes(b, graph.node ?? [], opset, sub, modelDir, warnings);
      return (graph.output ?? []).map((o) => {
        const id = sub.get(o.name ?? '');
        if (id === undefined) return ctx.fail(`subgraph output '${o.name}' is produced by no node`, 'invalid-model');
        return id;
      });
    };
    const handler = onnxHandler(n.domain ?? '', n.opType ?? '')!;
    try {
      handler(ctx);
    } catch (e) {
      if (e instanceof ConvertError) throw e;
      if (e instanceof IrError) ctx.fail(e.message, 'invalid-model');
      throw e;
    }
  });
}
