/**
 * Core types of the OPML graph IR (docs/ir.md). The IR is a static-shaped, topologically ordered
 * graph over typed tensors. Tensor ids are dense indices into the graph's tensor table; after
 * canonicalisation they are ordered inputs, then constants, then node outputs, and they become the
 * graph-state slots of the dispute game.
 */

/**
 * Element types the IR can carry. The first seven are compute dtypes (ops compute in them); the
 * boundary dtypes after them (float64, float16, bfloat16, uint16, uint32, uint64) appear only as graph
 * inputs and outputs and as Cast operands: front-ends compute in float32 / int32 / int64 and Cast at the
 * model's interface (docs/ir.md §Dtypes). Appended, so the dtype codes of the first seven never change.
 */
export const DTYPES = ['float32', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool', 'float64', 'float16', 'bfloat16', 'uint16', 'uint32', 'uint64'] as const;
export type DType = (typeof DTYPES)[number];

/** A static tensor shape: every dimension is a known non-negative integer. Rank 0 is a scalar. */
export type Shape = readonly number[] & { readonly __shape: unique symbol };

/** Index of a tensor in the graph's tensor table (and, after canonicalisation, its state slot). */
export type TensorId = number & { readonly __tensorId: unique symbol };

export function shape(dims: readonly number[]): Shape {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`invalid dimension ${d} in shape [${dims.join(', ')}]`);
  }
  return Object.freeze([...dims]) as unknown as Shape;
}

export function tensorId(n: number): TensorId {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid tensor id ${n}`);
  return n as TensorId;
}

export function numel(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

export function shapeEquals(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(s: readonly number[]): string {
  return `[${s.join('x')}]`;
}

/** Type of a tensor: its element type and static shape. */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/**
 * Attribute values. The op's schema fixes each attribute's kind; ints are safe JS integers, floats
 * are float32 values (already rounded with Math.fround), strings are short enumerations.
 */
export type AttrKind = 'int' | 'float' | 'ints' | 'floats' | 'string' | 'dtype';
export type AttrValue = number | string | readonly number[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Where a tensor comes from. */
export type TensorOrigin = 'input' | 'constant' | 'node';

export interface TensorInfo extends TensorType {
  /** Human-readable name (from the source model); not part of the model hash. */
  readonly name: string;
  readonly origin: TensorOrigin;
}

export interface Node {
  /** IR op name from the vocabulary in docs/ir.md. */
  readonly op: string;
  /** Source node name, for messages only; not part of the model hash. */
  readonly name: string;
  readonly inputs: readonly TensorId[];
  readonly outputs: readonly TensorId[];
  /** Every attribute of the op's schema, defaults filled in. */
  readonly attrs: Attrs;
}

/** Bytes of a constant, possibly read lazily (large weights stay on disk until written). */
export interface ConstantSource {
  readonly byteLength: number;
  /** Little-endian element bytes, exactly numel(shape) * dtypeSize(dtype) long. */
  read(): Uint8Array;
}

export interface Graph {
  readonly tensors: readonly TensorInfo[];
  readonly inputs: readonly TensorId[];
  readonly outputs: readonly TensorId[];
  /** Constant tensor id → its bytes. */
  readonly constants: ReadonlyMap<TensorId, ConstantSource>;
  readonly nodes: readonly Node[];
}
