/**
 * Sequence and optional values in the ONNX front-end. The IR carries tensors only, so a sequence is a
 * list of IR tensors known at convert time (its length and every element's shape are static), and an
 * optional is either its value or "empty". Both live in the importer's value map as handles: negative
 * numbers indexing a per-builder table, never reaching the IR. A graph input of sequence type becomes one
 * IR input per element (named NAME[k]); a graph output of sequence type, one IR output per element.
 */
import type { TensorId } from '../ir/types.ts';
import type { GraphBuilder } from '../ir/builder.ts';

/** A sequence's elements, or null for an empty optional. */
export type Structured = readonly TensorId[] | null;

const tables = new WeakMap<GraphBuilder, Structured[]>();

export function isHandle(id: number): boolean {
  return id < 0;
}

/** A handle for a sequence (a list of tensors) or an empty optional (null). */
export function makeHandle(b: GraphBuilder, v: Structured): TensorId {
  let t = tables.get(b);
  if (!t) tables.set(b, (t = []));
  t.push(v);
  return -t.length as TensorId;
}

export function handleValue(b: GraphBuilder, id: TensorId): Structured {
  const v = tables.get(b)?.[-id - 1];
  if (v === undefined) throw new Error(`unknown sequence handle ${id}`);
  return v;
}

/** The shape of a structured graph input, as the test data (or a user) gives it. */
export type StructuredInput = { kind: 'sequence'; elements: { dtype: string; shape: readonly number[] }[] } | { kind: 'empty' };
