/**
 * The phase-2 trace of a native run: every tensor's commitment and every graph state S_0 … S_n
 * (docs/commitments.md). S_0 holds the constants and the task's inputs; node k (1-based) adds its
 * outputs to S_{k−1}.
 */
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import type { TensorId } from '../../converter/ir/types.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { commitTensor } from '../../compiler/commit/tensor.ts';
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

/** `onProgress` (optional) hears of the run and of each tensor committed ('commit', done, total). */
export function traceRun(ex: NativeExecutor, inputs: readonly HostTensor[], onProgress?: (phase: string, done: number, total: number) => void): RunTrace {
  const g = ex.graph;
  onProgress?.('run', 0, 1);
  const outputs = ex.run(inputs);
  onProgress?.('run', 1, 1);
  const commitments = g.tensors.map((t, id) => {
    onProgress?.('commit', id, g.tensors.length);
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
