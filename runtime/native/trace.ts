/**
 * The phase-2 trace of a native run: every tensor's commitment and every graph state S_0 … S_n
 * (docs/commitments.md). S_0 holds the constants and the task's inputs; node k (1-based) adds its
 * outputs to S_{k−1}.
 */
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import type { TensorId } from '../../converter/ir/types.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import fs from 'node:fs';
import path from 'node:path';
import { commitTensor, tensorCommitment } from '../../compiler/commit/tensor.ts';
import type { ChunkedTree } from '../../compiler/commit/constant-tree.ts';
import { chunkedRoot, CONSTANT_TREE_FILE, decodeConstantTrees } from '../../compiler/commit/constant-tree.ts';
import type { Graph } from '../../converter/ir/types.ts';
import { SlotTree } from '../../compiler/commit/graph-state.ts';
import type { NativeExecutor } from './executor.ts';

export interface RunTrace {
  outputs: HostTensor[];
  /** Commitment of every tensor slot after the run. */
  commitments: Bytes32[];
  /** Root of the constants-only state (inputs and node outputs zero). */
  constantState: Bytes32;
  /** states[k] = S_k for k = 0 … number of nodes. */
  states: Bytes32[];
}

/** The constants' cut trees the compiled bundle lists (constant-tree.bin), checked against its constant state; null without them. */
export function bundleConstantTrees(dir: string, g: Graph, constantState: string | undefined): Map<number, ChunkedTree> | null {
  const f = path.join(dir, CONSTANT_TREE_FILE);
  return decodeConstantTrees(g, fs.existsSync(f) ? new Uint8Array(fs.readFileSync(f)) : null, constantState);
}

/**
 * The commitment of every constant from a compiled bundle's constant trees, when they compose to the
 * manifest's constant state; null without them (then every constant is hashed).
 */
export function bundleConstantCommitments(dir: string, ex: NativeExecutor): Map<number, Bytes32> | null {
  const trees = bundleConstantTrees(dir, ex.graph, ex.manifest.model?.constantState);
  if (!trees) return null;
  const out = new Map<number, Bytes32>();
  for (const [id, t] of trees) out.set(id, tensorCommitment(ex.graph.tensors[id]!.dtype, ex.graph.tensors[id]!.shape, chunkedRoot(t)));
  return out;
}

/**
 * `onProgress` (optional) hears of the run and of each tensor committed ('commit', done, total). With
 * `bundleDir` (the compiled bundle `ex` was loaded from), the constants' commitments come from its constant
 * trees, checked against its constant state, as prove-step uses them; else every constant is hashed.
 */
export function traceRun(ex: NativeExecutor, inputs: readonly HostTensor[], onProgress?: (phase: string, done: number, total: number) => void, bundleDir?: string): RunTrace {
  const g = ex.graph;
  onProgress?.('run', 0, 1);
  const outputs = ex.run(inputs);
  onProgress?.('run', 1, 1);
  // the constants' data roots from the compiled bundle's constant trees, checked against its constant state
  // (as prove-step uses them): hashing a 1.1 B model's 4.4 GB of weights again would take a minute
  const known = bundleDir ? bundleConstantCommitments(bundleDir, ex) : null;
  const commitments = g.tensors.map((t, id) => {
    onProgress?.('commit', id, g.tensors.length);
    const c = known?.get(id);
    if (c) return c;
    const v = ex.tensor(id as TensorId);
    return commitTensor(t.dtype, t.shape, new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
  });
  const tree = new SlotTree(g.tensors.length);
  for (const id of g.constants.keys()) tree.set(id, commitments[id]!);
  const constantState = tree.root();
  for (const id of g.inputs) tree.set(id, commitments[id]!);
  const states = [tree.root()];
  for (const n of g.nodes) {
    for (const o of n.outputs) tree.set(o, commitments[o]!);
    states.push(tree.root());
  }
  return { outputs, commitments, constantState, states };
}

export function formatTrace(ex: NativeExecutor, t: RunTrace): string {
  const g = ex.graph;
  const lines = [`constant state  ${toHex(t.constantState)}`, `S_0             ${toHex(t.states[0]!)}  (inputs set)`];
  g.nodes.forEach((n, i) => lines.push(`S_${String(i + 1).padEnd(13)} ${toHex(t.states[i + 1]!)}  ${n.op} ${n.name}`));
  return lines.join('\n');
}
