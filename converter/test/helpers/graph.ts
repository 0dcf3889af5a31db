/** Reading converted graphs in tests. */
import assert from 'node:assert/strict';
import type { Graph, TensorId } from '../../ir/types.ts';
export { opHistogram as histogram } from '../../inspect.ts';

/** A float32 constant's values (asserting the tensor is a constant). */
export function constFloats(g: Graph, id: TensorId): Float32Array {
  const src = g.constants.get(id);
  assert.ok(src, `tensor ${id} (${g.tensors[id]?.name}) is not a constant`);
  const b = src.read();
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
