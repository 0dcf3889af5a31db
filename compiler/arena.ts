/**
 * Native arena layout: every tensor of the graph (inputs, constants, node outputs) at a fixed,
 * 64-byte-aligned offset of one linear memory, followed by a scratch area shared by all kernels
 * (nodes run one after another). Kernels are specialised to these absolute addresses.
 */
import type { Graph, TensorId } from '../converter/ir/types.ts';
import { numel } from '../converter/ir/types.ts';
import { dtypeSize } from '../converter/ir/dtype.ts';

export const ARENA_ALIGN = 64;
export const PAGE = 65536;

export interface ArenaLayout {
  /** Byte offset of each tensor, by tensor id. */
  readonly offsets: readonly number[];
  readonly scratchOffset: number;
  readonly scratchBytes: number;
  readonly bytes: number;
  readonly pages: number;
}

const align = (n: number, a = ARENA_ALIGN) => Math.ceil(n / a) * a;

export function tensorBytes(g: Graph, id: TensorId): number {
  const t = g.tensors[id]!;
  return numel(t.shape) * dtypeSize(t.dtype);
}

export function planArena(g: Graph, scratchBytes: number): ArenaLayout {
  // Address 0..63 stays unused so that no tensor sits at the null address.
  let at = ARENA_ALIGN;
  const offsets: number[] = [];
  for (let id = 0; id < g.tensors.length; id++) {
    offsets.push(at);
    at = align(at + Math.max(tensorBytes(g, id as TensorId), 1));
  }
  const scratchOffset = at;
  const bytes = align(at + scratchBytes);
  if (bytes > 2 ** 32 - PAGE) throw new RangeError(`model needs ${bytes} bytes of memory; the native arena is limited to 4 GiB`);
  return { offsets, scratchOffset, scratchBytes, bytes, pages: Math.max(1, Math.ceil(bytes / PAGE)) };
}
