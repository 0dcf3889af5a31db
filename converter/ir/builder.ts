/**
 * GraphBuilder: the one way front-ends create IR. Every emitted node is checked against its op
 * schema and shape-inferred at once, and folded into a constant when all its inputs are constant and
 * the op has a bit-exact host evaluator. So Shape-driven subgraphs collapse while importing, and a
 * front-end can ask for any tensor's static type or constant value as soon as it exists.
 */
import type { Attrs, ConstantSource, DType, Graph, Node, TensorId, TensorInfo, TensorType } from './types.ts';
import { formatShape, numel, shapeEquals, tensorId } from './types.ts';
import { dtypeSize } from './dtype.ts';
import type { HostTensor } from './host-tensor.ts';
import { canonicaliseNaNBytes, hostBytes, hostFromBytes } from './host-tensor.ts';
import { checkAttrs, getOp, IrError, outputCount } from './op-registry.ts';
import { canonicalise } from './passes/canonicalise.ts';
import './ops/index.ts';

/** Constant folding produces at most this many bytes per output; larger results stay nodes. */
export const FOLD_LIMIT_BYTES = 64 << 20;
/** Constants up to this size keep their decoded value in memory once read. */
const VALUE_CACHE_BYTES = 1 << 20;

interface ConstEntry {
  source: ConstantSource;
  value?: HostTensor;
}

export interface EmitOptions {
  /** Source node name, used in messages and kept on the node. */
  readonly name?: string;
  /** Names for the output tensors (defaults derive from the node name). */
  readonly outputNames?: readonly string[];
  /** Set false to keep the node even when all its inputs are constant. */
  readonly fold?: boolean;
}

export class GraphBuilder {
  private readonly tensors: TensorInfo[] = [];
  private readonly consts = new Map<TensorId, ConstEntry>();
  private readonly nodes: Node[] = [];
  private readonly inputs: TensorId[] = [];
  private outputs: TensorId[] = [];
  private anon = 0;

  addInput(name: string, type: TensorType): TensorId {
    const id = this.newTensor(name, type, 'input');
    this.inputs.push(id);
    return id;
  }

  /** A constant from a host value. float32 NaNs are made canonical. */
  addConstant(name: string, value: HostTensor): TensorId {
    const bytes = hostBytes(value);
    const source: ConstantSource = { byteLength: bytes.byteLength, read: () => bytes };
    const id = this.newTensor(name, { dtype: value.dtype, shape: value.shape }, 'constant');
    this.consts.set(id, { source, value });
    return id;
  }

  /** A constant whose bytes are read lazily (large weights). float32 NaNs are made canonical on read. */
  addLazyConstant(name: string, type: TensorType, source: ConstantSource): TensorId {
    const expect = numel(type.shape) * dtypeSize(type.dtype);
    if (source.byteLength !== expect) {
      throw new IrError(`constant '${name}': ${source.byteLength} bytes for ${type.dtype}${formatShape(type.shape)}, expected ${expect}`);
    }
    const canonical: ConstantSource =
      type.dtype === 'float32'
        ? { byteLength: source.byteLength, read: () => { const b = source.read(); canonicaliseNaNBytes(b); return b; } }
        : source;
    const id = this.newTensor(name, type, 'constant');
    this.consts.set(id, { source: canonical });
    return id;
  }

  typeOf(id: TensorId): TensorInfo {
    const t = this.tensors[id];
    if (!t) throw new IrError(`no tensor with id ${id}`);
    return t;
  }

  isConstant(id: TensorId): boolean {
    return this.consts.has(id);
  }

  /** The value of a constant tensor, or undefined when the tensor is not constant. */
  constValue(id: TensorId): HostTensor | undefined {
    const c = this.consts.get(id);
    if (!c) return undefined;
    if (c.value) return c.value;
    const t = this.typeOf(id);
    const value = hostFromBytes(t.dtype, t.shape, c.source.read());
    if (c.source.byteLength <= VALUE_CACHE_BYTES) c.value = value;
    return value;
  }

  /**
   * Add a node of IR op `op`. Returns its output tensor ids (constants when it folded).
   * Throws IrError naming the node when the inputs or attributes do not fit the op.
   */
  emit(op: string, inputs: readonly TensorId[], attrs: Attrs, opts: EmitOptions = {}): TensorId[] {
    const def = getOp(op);
    const label = opts.name ? `${op} node '${opts.name}'` : `${op} node`;
    try {
      checkAttrs(def, attrs);
      if (inputs.length < def.inputs[0] || inputs.length > def.inputs[1]) {
        const [lo, hi] = def.inputs;
        throw new IrError(`takes ${lo === hi ? lo : `${lo} to ${hi}`} inputs, got ${inputs.length}`);
      }
      const inTypes = inputs.map((i) => this.typeOf(i));
      const outTypes = def.infer(inTypes, attrs);
      const nOut = outputCount(def, attrs);
      if (outTypes.length !== nOut) throw new IrError(`inferred ${outTypes.length} outputs, schema says ${nOut}`);
      const base = opts.name || `${op}_${this.anon++}`;
      const names = outTypes.map((_, i) => opts.outputNames?.[i] || (nOut === 1 ? base : `${base}:${i}`));

      const foldable =
        opts.fold !== false &&
        def.fold !== undefined &&
        inputs.every((i) => this.consts.has(i)) &&
        outTypes.every((t) => numel(t.shape) * dtypeSize(t.dtype) <= FOLD_LIMIT_BYTES);
      if (foldable) {
        const values = def.fold!(inputs.map((i) => this.constValue(i)!), attrs);
        return values.map((v, i) => {
          const want = outTypes[i]!;
          if (v.dtype !== want.dtype || !shapeEquals(v.shape, want.shape)) {
            throw new IrError(`folding produced ${v.dtype}${formatShape(v.shape)}, inference said ${want.dtype}${formatShape(want.shape)}`);
          }
          return this.addConstant(names[i]!, v);
        });
      }
      const outs = outTypes.map((t, i) => this.newTensor(names[i]!, t, 'node'));
      this.nodes.push({ op, name: opts.name ?? '', inputs: [...inputs], outputs: outs, attrs: { ...attrs } });
      return outs;
    } catch (e) {
      if (e instanceof IrError && !e.message.startsWith(label)) {
        const ins = inputs.map((i) => { const t = this.tensors[i]; return t ? `${t.dtype}${formatShape(t.shape)}` : `#${i}`; });
        throw new IrError(`${label} (inputs ${ins.join(', ') || 'none'}): ${e.message}`);
      }
      throw e;
    }
  }

  /** Emit a single-output op and return that output. */
  emit1(op: string, inputs: readonly TensorId[], attrs: Attrs, opts: EmitOptions = {}): TensorId {
    const outs = this.emit(op, inputs, attrs, opts);
    if (outs.length !== 1) throw new IrError(`${op} has ${outs.length} outputs, expected 1`);
    return outs[0]!;
  }

  setOutputs(ids: readonly TensorId[]): void {
    for (const id of ids) this.typeOf(id);
    this.outputs = [...ids];
  }

  /** Rename a tensor (front-ends give graph outputs their model names). */
  rename(id: TensorId, name: string): void {
    const t = this.typeOf(id);
    this.tensors[id] = { ...t, name };
  }

  /** The finished graph: dead nodes removed, tensors renumbered canonically. */
  build(): Graph {
    return canonicalise({
      tensors: this.tensors,
      inputs: this.inputs,
      outputs: this.outputs,
      constants: new Map([...this.consts].map(([id, c]) => [id, c.source])),
      nodes: this.nodes,
    });
  }

  private newTensor(name: string, type: TensorType, origin: TensorInfo['origin']): TensorId {
    const id = tensorId(this.tensors.length);
    this.tensors.push({ name, dtype: type.dtype, shape: type.shape, origin });
    return id;
  }
}

export function typeString(t: { dtype: DType; shape: readonly number[] }): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}
