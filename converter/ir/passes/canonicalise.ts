/**
 * Canonical form of a graph (docs/ir.md §Canonical form): nodes that no graph output depends on
 * are removed, then tensors are renumbered as model inputs (declared order), constants (order of
 * first use by the nodes, then by the graph outputs), node outputs (node order). Unused constants
 * are dropped. The result is what the encoding and the model hash are defined over.
 */
import type { ConstantSource, Graph, Node, TensorId, TensorInfo } from '../types.ts';
import { tensorId } from '../types.ts';

export function removeDeadNodes(nodes: readonly Node[], outputs: readonly TensorId[]): Node[] {
  const live = new Set<number>(outputs);
  const kept: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.outputs.some((o) => live.has(o))) {
      kept.push(n);
      for (const x of n.inputs) live.add(x);
    }
  }
  return kept.reverse();
}

export function canonicalise(g: Graph): Graph {
  const nodes = removeDeadNodes(g.nodes, g.outputs);
  const order: TensorId[] = [];
  const seen = new Set<number>();
  const take = (id: TensorId) => {
    if (!seen.has(id)) {
      seen.add(id);
      order.push(id);
    }
  };
  for (const id of g.inputs) take(id);
  for (const n of nodes) for (const i of n.inputs) if (g.constants.has(i)) take(i);
  for (const o of g.outputs) if (g.constants.has(o)) take(o);
  for (const n of nodes) for (const o of n.outputs) take(o);
  for (const o of g.outputs) {
    if (!seen.has(o)) throw new Error(`graph output ${g.tensors[o]?.name ?? o} is produced by no node`);
  }
  const remap = new Map<number, TensorId>(order.map((old, i) => [old, tensorId(i)]));
  const r = (id: TensorId): TensorId => {
    const n = remap.get(id);
    if (n === undefined) throw new Error(`tensor ${g.tensors[id]?.name ?? id} is used but never defined`);
    return n;
  };
  const tensors: TensorInfo[] = order.map((old) => g.tensors[old]!);
  const constants = new Map<TensorId, ConstantSource>();
  for (const old of order) {
    const c = g.constants.get(old);
    if (c) constants.set(r(old), c);
  }
  return {
    tensors,
    inputs: g.inputs.map(r),
    outputs: g.outputs.map(r),
    constants,
    nodes: nodes.map((n) => ({ ...n, inputs: n.inputs.map(r), outputs: n.outputs.map(r) })),
  };
}
