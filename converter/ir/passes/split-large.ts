/**
 * Split nodes too large for one phase-1 dispute (docs/opvm.md §9): a MatMul by a constant matrix
 * B [K, N] whose OPVM run could exceed `maxSteps` becomes column blocks MatMul(A, B[:, j0:j1]) → Y_j,
 * each a node with its own record and output slot, plus Concat(Y_0 … Y_{b−1}) along the last axis
 * into the original output tensor (a tree of Concats of at most 16 inputs each, the most a node
 * opening carries). MatMul's numerics fix every output element's reduction order
 * (acc = +0; for k = 0 … K−1: acc += A[i, k]·B[k, j]) independently of N, so the blocks and the Concat
 * give the unsplit node's bytes bit for bit. Phase 2 then narrows a dispute to one block, and each
 * block's step count stays under the bound. A weight above 1 GiB is split the same way, so that each
 * block fits the 2 GiB OPVM memory.
 *
 * The step count is estimated before compilation from the kernel's cost per multiply-add
 * (MATMUL_STEPS_PER_MAC, above what the compiled kernels take: about 11 steps per multiply-add with one
 * row, fewer with row blocking); the compiled bound (manifest vm.stepBound) is what the game enforces,
 * and runtime/test/split-large.test.ts checks it stays under the threshold.
 */
import type { ConstantSource, Graph, Node, TensorId, TensorInfo } from '../types.ts';
import { numel, shape, tensorId } from '../types.ts';
import { canonicalise } from './canonicalise.ts';

/** No phase-1 dispute over more steps than this (the bound). */
export const MAX_NODE_STEPS = 2 ** 32;
/** No weight slice larger than this: its region (a power of two) must leave room in the 2 GiB OPVM memory (docs/opvm.md §1). */
export const MAX_BLOCK_WEIGHT_BYTES = 2 ** 30;
/** OPVM steps per multiply-add of the MatMul kernel, an upper estimate (measured 11.0 with one row, about 6 with row blocks of 4). */
export const MATMUL_STEPS_PER_MAC = 14;
/** Steps per output element besides its multiply-adds, an upper estimate (address arithmetic, the store, loop heads). */
const MATMUL_STEPS_PER_OUTPUT = 64;
/** Inputs of one node a dispute can open (the contracts' MAX_IO). */
const MAX_NODE_IO = 16;
/** Column blocks are multiples of this (the native kernels' vector width, times 8). */
const BLOCK_ALIGN = 32;

/** Upper estimate of a MatMul node's OPVM steps. */
export function matmulSteps(g: Graph, n: Node): number {
  const a = g.tensors[n.inputs[0]!]!, y = g.tensors[n.outputs[0]!]!;
  const K = a.shape[a.shape.length - 1] ?? 1;
  return numel(y.shape) * (K * MATMUL_STEPS_PER_MAC + MATMUL_STEPS_PER_OUTPUT) + 1024;
}

/** The columns [j0, j1) of a row-major [K, N] float32 matrix, read once for all its blocks. */
function columnBlocks(src: ConstantSource, K: number, N: number, bounds: readonly (readonly [number, number])[]): ConstantSource[] {
  let whole: Uint8Array | null = null;
  let pending = bounds.length;
  return bounds.map(([j0, j1]) => ({
    byteLength: 4 * K * (j1 - j0),
    read(): Uint8Array {
      whole ??= src.read();
      const out = new Uint8Array(4 * K * (j1 - j0));
      const w = 4 * (j1 - j0);
      for (let r = 0; r < K; r++) out.set(whole.subarray(4 * (r * N + j0), 4 * (r * N + j1)), r * w);
      if (--pending <= 0) { whole = null; pending = bounds.length; }
      return out;
    },
  }));
}

/**
 * The graph with every MatMul by a 2-D constant whose estimated steps exceed `maxSteps`, or whose weight
 * exceeds `maxWeightBytes`, split into column blocks and Concats (canonical again); the graph itself
 * when nothing needs splitting.
 */
export function splitLargeNodes(g: Graph, maxSteps = MAX_NODE_STEPS, maxWeightBytes = MAX_BLOCK_WEIGHT_BYTES): Graph {
  const big = g.nodes.filter((n) => n.op === 'MatMul' && g.constants.has(n.inputs[1]!) && g.tensors[n.inputs[1]!]!.shape.length === 2 &&
    g.tensors[n.inputs[1]!]!.dtype === 'float32' && (matmulSteps(g, n) > maxSteps || 4 * numel(g.tensors[n.inputs[1]!]!.shape) > maxWeightBytes));
  if (!big.length) return g;
  const tensors: TensorInfo[] = [...g.tensors];
  const constants = new Map<TensorId, ConstantSource>(g.constants);
  const nodes: Node[] = [];
  const add = (t: TensorInfo) => { tensors.push(t); return tensorId(tensors.length - 1); };
  for (const n of g.nodes) {
    if (!big.includes(n)) { nodes.push(n); continue; }
    const b = g.tensors[n.inputs[1]!]!, y = g.tensors[n.outputs[0]!]!;
    const [K, N] = b.shape as unknown as [number, number];
    const perCol = matmulSteps(g, n) / N;
    let cols = Math.max(1, Math.min(Math.floor(maxSteps / perCol), Math.floor(maxWeightBytes / (4 * K))));
    if (cols >= BLOCK_ALIGN) cols -= cols % BLOCK_ALIGN;
    const bounds: [number, number][] = [];
    for (let j = 0; j < N; j += cols) bounds.push([j, Math.min(N, j + cols)]);
    const sources = columnBlocks(g.constants.get(n.inputs[1]!)!, K, N, bounds);
    const outs = bounds.map(([j0, j1], i) => {
      const w = add({ name: `${b.name}[:, ${j0}:${j1}]`, origin: 'constant', dtype: b.dtype, shape: shape([K, j1 - j0]) });
      constants.set(w, sources[i]!);
      const o = add({ name: `${y.name}/block${i}`, origin: 'node', dtype: y.dtype, shape: shape([...y.shape.slice(0, -1), j1 - j0]) });
      nodes.push({ op: 'MatMul', name: `${n.name}/block${i}`, inputs: [n.inputs[0]!, w], outputs: [o], attrs: n.attrs });
      return o;
    });
    // a tree of Concats of at most MAX_NODE_IO inputs each (a node opening carries at most that many, docs/game.md §4.3)
    const axis = y.shape.length - 1;
    let level = outs.map((id, i) => ({ id, width: bounds[i]![1] - bounds[i]![0] }));
    for (let depth = 0; level.length > MAX_NODE_IO; depth++) {
      const next: { id: TensorId; width: number }[] = [];
      for (let i = 0; i < level.length; i += MAX_NODE_IO) {
        const group = level.slice(i, i + MAX_NODE_IO);
        const width = group.reduce((a, x) => a + x.width, 0);
        const o = add({ name: `${y.name}/concat${depth}.${i / MAX_NODE_IO}`, origin: 'node', dtype: y.dtype, shape: shape([...y.shape.slice(0, -1), width]) });
        nodes.push({ op: 'Concat', name: `${n.name}/concat${depth}.${i / MAX_NODE_IO}`, inputs: group.map((x) => x.id), outputs: [o], attrs: { axis } });
        next.push({ id: o, width });
      }
      level = next;
    }
    nodes.push({ op: 'Concat', name: `${n.name}/concat`, inputs: level.map((x) => x.id), outputs: [n.outputs[0]!], attrs: { axis } });
  }
  return canonicalise({ tensors, inputs: g.inputs, outputs: g.outputs, constants, nodes });
}
