/** What an ONNX op handler sees: the node's inputs, attributes and opset, and a way to emit IR. */
import type { OnnxTypes } from './proto.ts';
import { int64 } from './proto.ts';
import type { Attrs, TensorId, TensorInfo } from '../ir/types.ts';
import type { GraphBuilder } from '../ir/builder.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { toNumbers } from '../ir/host-tensor.ts';
import { IrError } from '../ir/op-registry.ts';
import type { ConvertErrorCategory, WarningSink } from '../errors.ts';
import { ConvertError } from '../errors.ts';
import { decodeTensor } from './tensor.ts';

const A = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export class OnnxNodeContext {
  readonly opType: string;
  readonly name: string;
  /**
   * Lowers a subgraph (an If branch, a loop body) in this scope, with its inputs bound to `bind`, and
   * returns its outputs; set by the importer.
   */
  inlineGraph: (g: OnnxTypes.IGraphProto, bind?: ReadonlyMap<string, TensorId>) => TensorId[] = () => this.fail('subgraphs are not supported here');
  private readonly attrMap: Map<string, OnnxTypes.IAttributeProto>;

  constructor(
    readonly b: GraphBuilder,
    readonly node: OnnxTypes.INodeProto,
    /** Opset version of the default domain. */
    readonly opset: number,
    private readonly values: Map<string, TensorId>,
    readonly modelDir: string,
    private readonly warnings: WarningSink,
    index: number,
  ) {
    this.opType = node.opType ?? '';
    this.name = node.name || `${this.opType}_${index}`;
    this.attrMap = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  }

  // ------------------------------------------------------------ inputs

  /** Number of inputs listed (including empty optional ones). */
  get nIn(): number {
    return (this.node.input ?? []).length;
  }
  /** Number of outputs listed. */
  get nOut(): number {
    return (this.node.output ?? []).length;
  }
  /** True when input i is given (not missing, not the empty name). */
  has(i: number): boolean {
    return !!(this.node.input ?? [])[i];
  }
  /** True when output i is wanted. */
  hasOut(i: number): boolean {
    return !!(this.node.output ?? [])[i];
  }
  in(i: number): TensorId {
    const id = this.inAny(i);
    if (id < 0) this.fail(`input ${i} is a sequence or optional value, which this op does not take`, 'invalid-model');
    return id;
  }
  /** Input i as bound: a tensor, or a sequence/optional handle (converter/onnx/sequence.ts). */
  inAny(i: number): TensorId {
    const name = (this.node.input ?? [])[i];
    if (!name) this.fail(`input ${i} is required`);
    const id = this.values.get(name);
    if (id === undefined) this.fail(`input '${name}' is not produced by any earlier node, initializer or graph input`, 'invalid-model');
    return id;
  }
  /** All given inputs from index `from` on (variadic ops). */
  ins(from = 0): TensorId[] {
    const out: TensorId[] = [];
    for (let i = from; i < this.nIn; i++) if (this.has(i)) out.push(this.in(i));
    return out;
  }
  type(i: number): TensorInfo {
    return this.b.typeOf(this.in(i));
  }
  rank(i: number): number {
    return this.type(i).shape.length;
  }
  /** Value of input i if it is a constant (after folding), else undefined. */
  constOf(i: number): HostTensor | undefined {
    return this.has(i) ? this.b.constValue(this.in(i)) : undefined;
  }
  /** Input i must be a constant; its values as numbers. */
  constInts(i: number, what: string): number[] {
    const v = this.constOf(i);
    if (!v) this.fail(`${what} (input ${i}) must be a constant or computable from shapes; a value known only at run time would make the output shape dynamic`, 'dynamic-shape');
    return toNumbers(v);
  }
  constFloats(i: number, what: string): number[] {
    return this.constInts(i, what);
  }

  // ------------------------------------------------------------ attributes

  hasAttr(name: string): boolean {
    return this.attrMap.has(name);
  }
  private attr(name: string): OnnxTypes.IAttributeProto | undefined {
    return this.attrMap.get(name);
  }
  int(name: string, def?: number): number {
    const a = this.attr(name);
    if (!a) return def ?? this.fail(`attribute '${name}' is required`);
    if (a.type && a.type !== A.INT) this.fail(`attribute '${name}' must be an int`, 'malformed');
    return int64(a.i);
  }
  float(name: string, def?: number): number {
    const a = this.attr(name);
    if (!a) return Math.fround(def ?? this.fail(`attribute '${name}' is required`));
    if (a.type && a.type !== A.FLOAT) this.fail(`attribute '${name}' must be a float`, 'malformed');
    return Math.fround(a.f ?? 0);
  }
  ints(name: string, def?: readonly number[]): number[] {
    const a = this.attr(name);
    if (!a) return def ? [...def] : this.fail(`attribute '${name}' is required`);
    if (a.type && a.type !== A.INTS) this.fail(`attribute '${name}' must be a list of ints`, 'malformed');
    return (a.ints ?? []).map((v) => int64(v));
  }
  floats(name: string, def?: readonly number[]): number[] {
    const a = this.attr(name);
    if (!a) return def ? [...def] : this.fail(`attribute '${name}' is required`);
    if (a.type && a.type !== A.FLOATS) this.fail(`attribute '${name}' must be a list of floats`, 'malformed');
    return (a.floats ?? []).map((v) => Math.fround(v));
  }
  string(name: string, def?: string): string {
    const a = this.attr(name);
    if (!a) return def ?? this.fail(`attribute '${name}' is required`);
    if (a.type && a.type !== A.STRING) this.fail(`attribute '${name}' must be a string`, 'malformed');
    return new TextDecoder().decode(a.s ?? new Uint8Array());
  }
  strings(name: string, def?: readonly string[]): string[] {
    const a = this.attr(name);
    if (!a) return def ? [...def] : this.fail(`attribute '${name}' is required`);
    return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
  }
  /** A tensor-valued attribute, decoded (e.g. Constant.value, ConstantOfShape.value). */
  tensorAttr(name: string): HostTensor | undefined {
    const a = this.attr(name);
    if (!a) return undefined;
    if (!a.t) this.fail(`attribute '${name}' must be a tensor`, 'malformed');
    const d = decodeTensor(a.t, this.modelDir, `node '${this.name}' attribute '${name}'`, this.warnings);
    if (d.value) return d.value;
    return this.b.constValue(this.b.addLazyConstant(`${this.name}.${name}`, d.type, d.source!));
  }
  /** A graph-valued attribute (If branches). */
  graphAttr(name: string): OnnxTypes.IGraphProto | undefined {
    return this.attr(name)?.g ?? undefined;
  }

  // ------------------------------------------------------------ emitting

  emit(op: string, inputs: readonly TensorId[], attrs: Attrs): TensorId[] {
    try {
      return this.b.emit(op, inputs, attrs, { name: this.name });
    } catch (e) {
      if (e instanceof IrError) this.fail(e.message.replace(/^\S+ node '[^']*' /, `lowered to ${op} `), 'invalid-model');
      throw e;
    }
  }
  emit1(op: string, inputs: readonly TensorId[], attrs: Attrs = {}): TensorId {
    return this.emit(op, inputs, attrs)[0]!;
  }
  /** A constant created on behalf of this node. */
  constant(value: HostTensor, suffix = 'const'): TensorId {
    return this.b.addConstant(`${this.name}.${suffix}`, value);
  }
  /** Bind the node's ONNX outputs (in order) to IR tensors; unwanted outputs are skipped. */
  out(...ids: TensorId[]): void {
    const names = this.node.output ?? [];
    ids.forEach((id, i) => {
      const n = names[i];
      if (!n) return;
      this.values.set(n, id);
      if (id >= 0 && this.b.typeOf(id).origin === 'node') this.b.rename(id, n);
    });
    for (let i = ids.length; i < names.length; i++) {
      if (names[i]) this.fail(`output ${i} ('${names[i]}') is not supported by this converter`, 'unsupported-attr');
    }
  }

  warn(message: string): void {
    this.warnings.warn(`node '${this.name}' (${this.opType}): ${message}`);
  }

  fail(message: string, category: ConvertErrorCategory = 'unsupported-attr'): never {
    throw new ConvertError(`node '${this.name}' (${this.opType}, opset ${this.opset}): ${message}`, category);
  }
}
