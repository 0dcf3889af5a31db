/**
 * Native arena layout (docs/kernels.md, "The arena"): the graph's nodes are cut into consecutive runs,
 * each run with its own wasm32 linear memory ("memory"), at most `limit` bytes (default: one wasm32
 * memory, 4 GiB − 64 KiB). A memory holds, at fixed 64-byte-aligned offsets, every tensor its nodes read
 * or write (constants, model inputs, node outputs, and outputs of earlier memories' nodes that its nodes
 * read), followed by a scratch area shared by its kernels (nodes run one after another). Kernels are
 * specialised to the absolute addresses of their memory.
 *
 * A model that fits one memory gets exactly one, laid out as before (every tensor by ascending id), so
 * small models run with no copies at all. Beyond that, the executor loads each memory's constants into it,
 * writes the inputs into every memory that holds them, and before a memory's first node runs copies in
 * the tensors it reads from earlier memories (activations: small next to the weights).
 */
import type { Graph, TensorId } from '../converter/ir/types.ts';
import { numel } from '../converter/ir/types.ts';
import { dtypeSize } from '../converter/ir/dtype.ts';

export const ARENA_ALIGN = 64;
export const PAGE = 65536;
/** The most one wasm32 memory holds (65535 pages: V8 allows 65536, we keep one page of headroom). */
export const WASM32_LIMIT = 2 ** 32 - PAGE;

export class ArenaError extends Error {
  override readonly name = 'ArenaError';
}

export interface ArenaMemory {
  /** Nodes firstNode … endNode − 1 run in this memory. */
  firstNode: number;
  endNode: number;
  /** Tensors with a slot in this memory, ascending, and their byte offsets (parallel arrays). */
  tensors: number[];
  offsets: number[];
  scratchOffset: number;
  scratchBytes: number;
  bytes: number;
  pages: number;
}

export interface ArenaLayout {
  /** Byte offset of each tensor, by tensor id, in its home memory. */
  readonly offsets: readonly number[];
  /**
   * Home memory of each tensor: its producer's for a node output, else the first memory that holds it.
   * A tensor's value is read from its home (and copied from there into later memories that read it).
   */
  homes: number[];
  memories: ArenaMemory[];
  /** Memory 0's scratch area (the whole arena's when there is one memory). */
  readonly scratchOffset: number;
  readonly scratchBytes: number;
  /** Total over all memories. */
  readonly bytes: number;
  readonly pages: number;
}

const align = (n: number, a = ARENA_ALIGN) => Math.ceil(n / a) * a;

export function tensorBytes(g: Graph, id: TensorId): number {
  const t = g.tensors[id]!;
  return numel(t.shape) * dtypeSize(t.dtype);
}

/** Bytes a tensor's slot takes (a 0-byte tensor still gets its own address). */
const slotBytes = (g: Graph, id: number) => align(Math.max(tensorBytes(g, id as TensorId), 1));

const fmtBytes = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

/**
 * Cut the nodes into memories of at most `limit` bytes (greedily, in node order) and lay each out.
 * `scratch[i]` is node i's scratch bytes. Throws ArenaError naming the node when a single node's tensors
 * and scratch exceed `limit` (such a node must be split, docs/kernels.md).
 */
export function planArena(g: Graph, scratch: number | readonly number[], limit = WASM32_LIMIT): ArenaLayout {
  const scratchOf = (i: number) => (typeof scratch === 'number' ? scratch : scratch[i] ?? 0);
  if (!(limit >= 2 * ARENA_ALIGN)) throw new RangeError(`arena limit ${limit} is too small`);
  // Tensors no node reads or writes (an output that is an input or a constant, an unused input) live in memory 0.
  const used = new Set<number>();
  for (const n of g.nodes) for (const t of [...n.inputs, ...n.outputs]) used.add(t);
  const groups: { first: number; end: number; ids: Set<number>; sum: number; scratch: number }[] = [];
  let cur = { first: 0, end: 0, ids: new Set<number>(), sum: 0, scratch: 0 };
  for (let id = 0; id < g.tensors.length; id++) if (!used.has(id)) { cur.ids.add(id); cur.sum += slotBytes(g, id); }
  const total = (sum: number, s: number) => align(ARENA_ALIGN + sum + s);
  g.nodes.forEach((n, i) => {
    const fresh = (ids: Set<number>) => [...new Set([...n.inputs, ...n.outputs])].filter((t) => !ids.has(t));
    let add = fresh(cur.ids);
    let addBytes = add.reduce((a, t) => a + slotBytes(g, t), 0);
    if (total(cur.sum + addBytes, Math.max(cur.scratch, scratchOf(i))) > limit && cur.end > cur.first) {
      groups.push(cur);
      cur = { first: i, end: i, ids: new Set(), sum: 0, scratch: 0 };
      add = fresh(cur.ids);
      addBytes = add.reduce((a, t) => a + slotBytes(g, t), 0);
    }
    const need = total(cur.sum + addBytes, Math.max(cur.scratch, scratchOf(i)));
    if (need > limit) {
      throw new ArenaError(`node ${i + 1} '${n.name}' (${n.op}) needs ${fmtBytes(need)} of memory for its inputs, outputs and scratch, ` +
        `more than one ${limit === WASM32_LIMIT ? 'wasm32 memory holds (4 GiB)' : `arena memory holds (${fmtBytes(limit)})`}; such a node must be split into smaller nodes`);
    }
    for (const t of add) cur.ids.add(t);
    cur.sum += addBytes;
    cur.scratch = Math.max(cur.scratch, scratchOf(i));
    cur.end = i + 1;
  });
  groups.push(cur);

  const offsets: number[] = new Array(g.tensors.length).fill(0);
  const homes: number[] = new Array(g.tensors.length).fill(-1);
  g.nodes.forEach((n, i) => {
    const m = groups.findIndex((x) => i >= x.first && i < x.end);
    for (const o of n.outputs) homes[o] = m;
  });
  const memories: ArenaMemory[] = groups.map((grp, m) => {
    // Ascending id: with one memory this is exactly the single-arena layout (so kernels are unchanged).
    const tensors = [...grp.ids].sort((a, b) => a - b);
    let at = ARENA_ALIGN; // address 0..63 stays unused so that no tensor sits at the null address
    const offs = tensors.map((id) => {
      const o = at;
      at += slotBytes(g, id);
      if (homes[id] === -1 || homes[id] === m) { homes[id] = m; offsets[id] = o; }
      return o;
    });
    const bytes = align(at + grp.scratch);
    return { firstNode: grp.first, endNode: grp.end, tensors, offsets: offs, scratchOffset: at, scratchBytes: grp.scratch, bytes, pages: Math.max(1, Math.ceil(bytes / PAGE)) };
  });
  const m0 = memories[0]!;
  return {
    offsets, homes, memories, scratchOffset: m0.scratchOffset, scratchBytes: m0.scratchBytes,
    bytes: memories.reduce((a, m) => a + m.bytes, 0), pages: memories.reduce((a, m) => a + m.pages, 0),
  };
}

/** Index of the memory node `i` runs in. */
export function memoryOfNode(a: Pick<ArenaLayout, 'memories'>, i: number): number {
  const ms = a.memories;
  let lo = 0, hi = ms.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ms[mid]!.firstNode <= i) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Offset of tensor `id` in memory `m` (undefined when the memory does not hold it). */
export function offsetIn(mem: ArenaMemory, id: number): number | undefined {
  const ts = mem.tensors;
  let lo = 0, hi = ts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] === id) return mem.offsets[mid];
    if (ts[mid]! < id) lo = mid + 1; else hi = mid - 1;
  }
  return undefined;
}
