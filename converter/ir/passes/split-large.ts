/**
 * Split nodes too large for one phase-1 dispute (docs/opvm.md §9): a MatMul by a constant matrix
 * B [K, N] whose OPVM run could exceed `maxSteps` becomes column blocks MatMul(A, B[:, j0:j1]) → Y_j,
 * a Conv (one group) by constant weights W [M, …] and bias becomes output-channel blocks
 * Conv(X, W[j0:j1], b[j0:j1]) → Y_j; each block is a node with its own record, weight slice and output
 * slot, and Concats along the split axis (a tree of at most 16 inputs each, the most a node opening
 * carries) put the blocks together into the original output tensor. The ops' numerics fix every output
 * element's reduction order independently of the other outputs (MatMul: acc = +0; for k: acc +=
 * A[i, k]·B[k, j]; Conv: over input channels, then kernel offsets, then the bias), and Concat only
 * copies, so the split graph computes the unsplit node's bytes bit for bit. Phase 2 then narrows a
 * dispute to one block, and each block's step count stays under the bound. A weight above 1 GiB is
 * split the same way, so that each block fits the 2 GiB OPVM memory.
 *
 * The step count is estimated before compilation from the kernels' cost per multiply-add
 * (MATMUL_STEPS_PER_MAC, CONV_STEPS_PER_MAC, above what the compiled kernels take); the compiled bound
 * (manifest vm.stepBound) is what the game enforces, and runtime/test/split-large.test.ts checks that
 * the estimate bounds it.
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

/** Upper estimate of a MatMul node's OPVM steps. */
export function matmulSteps(g: Graph, n: Node): number {
  const a = g.tensors[n.inputs[0]!]!, y = g.tensors[n.outputs[0]!]!;
  const K = a.shape[a.shape.length - 1] ?? 1;
  return numel(y.shape) * (K * MATMUL_STEPS_PER_MAC + MATMUL_STEPS_PER_OUTPUT) + 1024;
}

/** OPVM steps per multiply-add of the Conv kernel, an upper estimate (measured about 10.5 with blocks of 4 output channels). */
export const CONV_STEPS_PER_MAC = 24;
const CONV_STEPS_PER_OUTPUT = 128;

/** Upper estimate of a Conv node's OPVM steps. */
export function convSteps(g: Graph, n: Node): number {
  const w = g.tensors[n.inputs[1]!]!, y = g.tensors[n.outputs[0]!]!;
  return numel(y.shape) * (numel(w.shape.slice(1)) * CONV_STEPS_PER_MAC + CONV_STEPS_PER_OUTPUT) + 1024;
}

/** Upper estimate of a node's OPVM steps, for the ops this pass splits (else null). */
export function estimatedSteps(g: Graph, n: Node): number | null {
  return n.op === 'MatMul' ? matmulSteps(g, n) : n.op === 'Conv' ? convSteps(g, n) : null;
}

/** Slices of a constant, each read from one read of the whole (shared by all slices of one split). */
function slices(src: ConstantSource, parts: readonly { byteLength: number; cut: (whole: Uint8Array, out: Uint8Array) => void }[]): ConstantSource[] {
  let whole: Uint8Array | null = null;
  let pending = parts.length;
  return parts.map((p) => ({
    byteLength: p.byteLength,
    read(): Uint8Array {
      whole ??= src.read();
      const out = new Uint8Array(p.byteLength);
      p.cut(whole, out);
      if (--pending <= 0) { whole = null; pending = parts.length; }
      return out;
    },
  }));
}

/** The columns [j0, j1) of a row-major [K, N] matrix of 4-byte elements. */
function columnSlices(src: ConstantSource, K: number, N: number, bounds: readonly (readonly [number, number])[]): ConstantSource[] {
  return slices(src, bounds.map(([j0, j1]) => ({
    byteLength: 4 * K * (j1 - j0),
    cut: (whole, out) => { const w = 4 * (j1 - j0); for (let r = 0; r < K; r++) out.set(whole.subarray(4 * (r * N + j0), 4 * (r * N + j1)), r * w); },
  })));
}

/** The rows [j0, j1) of a tensor whose first axis has rows of `rowBytes` bytes. */
function rowSlices(src: ConstantSource, rowBytes: number, bounds: readonly (readonly [number, number])[]): ConstantSource[] {
  return slices(src, bounds.map(([j0, j1]) => ({ byteLength: rowBytes * (j1 - j0), cut: (whole, out) => out.set(whole.subarray(rowBytes * j0, rowBytes * j1)) })));
}

/** How a node splits: `units` output columns (MatMul) or channels (Conv) along `axis` of its output. */
interface SplitPlan {
  units: number;
  axis: number;
  align: number;
  steps: number;
  weightBytesPerUnit: number;
  /** The inputs of the block over units [j0, j1) (the slices made once for all blocks). */
  blockInputs(bounds: readonly (readonly [number, number])[]): { inputs: TensorId[]; constants: [TensorInfo, ConstantSource][] }[];
}

function planOf(g: Graph, n: Node): SplitPlan | null {
  const f32Const = (id: TensorId | undefined) => id !== undefined && g.constants.has(id) && g.tensors[id]!.dtype === 'float32';
  if (n.op === 'MatMul' && f32Const(n.inputs[1]) && g.tensors[n.inputs[1]!]!.shape.length === 2) {
    const b = g.tensors[n.inputs[1]!]!;
    const [K, N] = b.shape as unknown as [number, number];
    return {
      units: N, axis: g.tensors[n.outputs[0]!]!.shape.length - 1, align: 32, steps: matmulSteps(g, n), weightBytesPerUnit: 4 * K,
      blockInputs: (bounds) => {
        const src = columnSlices(g.constants.get(n.inputs[1]!)!, K, N, bounds);
        return bounds.map(([j0, j1], i) => ({ inputs: [n.inputs[0]!], constants: [[{ name: `${b.name}[:, ${j0}:${j1}]`, origin: 'constant', dtype: b.dtype, shape: shape([K, j1 - j0]) }, src[i]!]] }));
      },
    };
  }
  if (n.op === 'Conv' && n.attrs.group === 1 && f32Const(n.inputs[1]) && (n.inputs.length < 3 || f32Const(n.inputs[2]))) {
    const w = g.tensors[n.inputs[1]!]!;
    const M = w.shape[0]!, per = numel(w.shape.slice(1));
    const bias = n.inputs.length >= 3 ? g.tensors[n.inputs[2]!]! : null;
    return {
      units: M, axis: 1, align: 4, steps: convSteps(g, n), weightBytesPerUnit: 4 * per,
      blockInputs: (bounds) => {
        const ws = rowSlices(g.constants.get(n.inputs[1]!)!, 4 * per, bounds);
        const bs = bias ? rowSlices(g.constants.get(n.inputs[2]!)!, 4, bounds) : null;
        return bounds.map(([j0, j1], i) => ({
          inputs: [n.inputs[0]!],
          constants: [
            [{ name: `${w.name}[${j0}:${j1}]`, origin: 'constant', dtype: w.dtype, shape: shape([j1 - j0, ...w.shape.slice(1)]) }, ws[i]!] as [TensorInfo, ConstantSource],
            ...(bias ? [[{ name: `${bias.name}[${j0}:${j1}]`, origin: 'constant', dtype: bias.dtype, shape: shape([j1 - j0]) }, bs![i]!] as [TensorInfo, ConstantSource]] : []),
          ],
        }));
      },
    };
  }
  return null;
}

/**
 * The graph with every MatMul by a 2-D constant, and every Conv (one group) by constant weights, whose
 * estimated steps exceed `maxSteps` or whose weight exceeds `maxWeightBytes`, split into blocks of output
 * columns or channels and Concats (canonical again); the graph itself when nothing needs splitting.
 */
export function splitLargeNodes(g: Graph, maxSteps = MAX_NODE_STEPS, maxWeightBytes = MAX_BLOCK_WEIGHT_BYTES): Graph {
  const plans = new Map<Node, SplitPlan>();
  for (const n of g.nodes) {
    const p = planOf(g, n);
    if (p && p.units > 1 && (p.steps > maxSteps || p.weightBytesPerUnit * p.units > maxWeightBytes)) plans.set(n, p);
  }
  if (!plans.size) return g;
  const tensors: TensorInfo[] = [...g.tensors];
  const constants = new Map<TensorId, ConstantSource>(g.constants);
  const nodes: Node[] = [];
  const add = (t: TensorInfo) => { tensors.push(t); return tensorId(tensors.length - 1); };
  for (const n of g.nodes) {
    const plan = plans.get(n);
    if (!plan) { nodes.push(n); continue; }
    const y = g.tensors[n.outputs[0]!]!;
    let cols = Math.max(1, Math.min(Math.floor(maxSteps / (plan.steps / plan.units)), Math.floor(maxWeightBytes / plan.weightBytesPerUnit)));
    if (cols >= plan.align) cols -= cols % plan.align;
    const bounds: [number, number][] = [];
    for (let j = 0; j < plan.units; j += cols) bounds.push([j, Math.min(plan.units, j + cols)]);
    const axis = plan.axis;
    const withWidth = (width: number) => shape(y.shape.map((d, i) => (i === axis ? width : d)));
    const outs = plan.blockInputs(bounds).map((b, i) => {
      const ids = b.constants.map(([info, src]) => { const id = add(info); constants.set(id, src); return id; });
      const o = add({ name: `${y.name}/block${i}`, origin: 'node', dtype: y.dtype, shape: withWidth(bounds[i]![1] - bounds[i]![0]) });
      nodes.push({ op: n.op, name: `${n.name}/block${i}`, inputs: [...b.inputs, ...ids], outputs: [o], attrs: n.attrs });
      return o;
    });
    // a tree of Concats of at most MAX_NODE_IO inputs each (a node opening carries at most that many, docs/game.md §4.3)
    let level = outs.map((id, i) => ({ id, width: bounds[i]![1] - bounds[i]![0] }));
    for (let depth = 0; level.length > MAX_NODE_IO; depth++) {
      const next: { id: TensorId; width: number }[] = [];
      for (let i = 0; i < level.length; i += MAX_NODE_IO) {
        const group = level.slice(i, i + MAX_NODE_IO);
        const width = group.reduce((a, x) => a + x.width, 0);
        const o = add({ name: `${y.name}/concat${depth}.${i / MAX_NODE_IO}`, origin: 'node', dtype: y.dtype, shape: withWidth(width) });
        nodes.push({ op: 'Concat', name: `${n.name}/concat${depth}.${i / MAX_NODE_IO}`, inputs: group.map((x) => x.id), outputs: [o], attrs: { axis } });
        next.push({ id: o, width });
      }
      level = next;
    }
    nodes.push({ op: 'Concat', name: `${n.name}/concat`, inputs: level.map((x) => x.id), outputs: [n.outputs[0]!], attrs: { axis } });
  }
  return canonicalise({ tensors, inputs: g.inputs, outputs: g.outputs, constants, nodes });
}
