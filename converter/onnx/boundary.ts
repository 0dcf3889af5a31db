/**
 * Boundary dtypes in the ONNX front-end (docs/ir.md §Dtypes): a graph input of element type double,
 * float16, bfloat16, uint16, uint32 or uint64 enters the IR with that dtype and is cast at once to its
 * compute dtype (float32, float32, float32, int32, int64, int64); a graph output declared with one is
 * cast back from its compute dtype. Inside the graph every value is a compute dtype; the boundary dtype
 * a value stands for is remembered here, so Cast and CastLike to float16/bfloat16/uint16/uint32 round or
 * wrap to the target's value set. float64 values are computed in float32 (the IR has no float64
 * arithmetic), as float64 constants already are.
 */
import type { DType, TensorId } from '../ir/types.ts';
import type { GraphBuilder } from '../ir/builder.ts';
import { computeDType, isBoundary } from '../ir/dtype.ts';

const boundary = new WeakMap<GraphBuilder, Map<TensorId, DType>>();

/** The boundary dtype the compute-dtype tensor `id` stands for, or its own dtype. */
export function declaredDType(b: GraphBuilder, id: TensorId): DType {
  return boundary.get(b)?.get(id) ?? b.typeOf(id).dtype;
}

export function markBoundary(b: GraphBuilder, id: TensorId, d: DType): void {
  if (!isBoundary(d)) return;
  let m = boundary.get(b);
  if (!m) boundary.set(b, (m = new Map()));
  m.set(id, d);
}

/** A graph input of a boundary dtype, cast to its compute dtype. */
export function enterBoundary(b: GraphBuilder, id: TensorId, name: string): TensorId {
  const d = b.typeOf(id).dtype;
  if (!isBoundary(d)) return id;
  const [y] = b.emit('Cast', [id], { to: computeDType(d) }, { name: `${name}.to_${computeDType(d)}` });
  markBoundary(b, y!, d);
  return y!;
}

/** A graph output declared with dtype `d`: cast from its compute dtype when `d` is a boundary dtype. */
export function leaveBoundary(b: GraphBuilder, id: TensorId, d: DType, name: string): TensorId {
  if (!isBoundary(d) || b.typeOf(id).dtype !== computeDType(d)) return id;
  return b.emit('Cast', [id], { to: d }, { name: `${name}.to_${d}` })[0]!;
}

/**
 * Cast `x` (a compute dtype) to the ONNX element type `to` given as an IR dtype, possibly a boundary one:
 * the result is in `to`'s compute dtype and holds only values of `to` (float16 rounds, uint16 wraps …).
 */
export function castToDeclared(b: GraphBuilder, x: TensorId, to: DType, name: string): TensorId {
  const emit = (id: TensorId, d: DType) => (b.typeOf(id).dtype === d ? id : b.emit('Cast', [id], { to: d }, { name })[0]!);
  const c = computeDType(to);
  let y = emit(x, c);
  if (to === 'float16' || to === 'bfloat16' || to === 'uint16' || to === 'uint32') {
    if (declaredDType(b, x) !== to) y = emit(emit(y, to), c);
  }
  markBoundary(b, y, to);
  return y;
}
