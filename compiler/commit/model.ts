/**
 * The model commitment (docs/commitments.md): one record per node (op, OPVM code root, memory-layout
 * hash, input and output slots with their tensor types, OPVM step bound), a Merkle root over the records, and the
 * constant-state root, bound with the graph's input and output slots into one keccak256 word the
 * contract stores when a model is registered.
 */
import type { DType, Graph, TensorId } from '../../converter/ir/types.ts';
import { keccak256 } from '../../converter/ir/keccak.ts';
import type { Bytes32 } from './merkle.ts';
import { merkleRoot } from './merkle.ts';
import { tensorCommitment, typeHash, u256 } from './tensor.ts';
import type { ChunkedTree } from './constant-tree.ts';
import { chunkedRoot, chunkedTree } from './constant-tree.ts';

export { typeHash };
import { SlotTree } from './graph-state.ts';
import { MAX_STEPS } from '../opvm/isa.ts';

/** Version 2: node records carry the node's OPVM step bound (docs/opvm.md §8). */
export const MODEL_COMMITMENT_VERSION = 2;

const kc = (b: Uint8Array) => keccak256(b) as unknown as Bytes32;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** keccak256(u256(nIn) ‖ (u256(slot) ‖ typeHash)… ‖ u256(nOut) ‖ (u256(slot) ‖ typeHash)…). */
export function ioHash(g: Graph, inputs: readonly TensorId[], outputs: readonly TensorId[]): Bytes32 {
  const part = (ids: readonly TensorId[]) => [u256(ids.length), ...ids.flatMap((id) => [u256(id), typeHash(g.tensors[id]!.dtype, g.tensors[id]!.shape)])];
  return kc(concat([...part(inputs), ...part(outputs)]));
}

export interface NodeRecordFields {
  op: string;
  codeRoot: Uint8Array;
  layoutHash: Uint8Array;
  io: Uint8Array;
  /** Most OPVM steps the node's program takes to halt, for any input (1 … MAX_STEPS; docs/opvm.md §8). */
  stepBound: number;
}

/** What the model commitment needs of each compiled node. */
export interface CompiledNodeCommitment {
  codeRoot: Uint8Array;
  layoutHash: Uint8Array;
  stepBound: number;
}

/** R = keccak256(keccak256(utf8(op)) ‖ codeRoot ‖ layoutHash ‖ ioHash ‖ u256(stepBound)). */
export function nodeRecord(f: NodeRecordFields): Bytes32 {
  if (!(Number.isSafeInteger(f.stepBound) && f.stepBound >= 1 && BigInt(f.stepBound) <= MAX_STEPS)) {
    throw new RangeError(`step bound ${f.stepBound} of node ${f.op} is not an integer in 1 … 2^48`);
  }
  return kc(concat([keccak256(new TextEncoder().encode(f.op)), f.codeRoot, f.layoutHash, f.io, u256(f.stepBound)]));
}

/** The constants-only graph state (inputs and node outputs zero). */
export function constantStateRoot(g: Graph): Bytes32 {
  return constantState(g).root;
}

/** The constants-only graph state and each constant's data-root tree cut at CHUNK_HEIGHT (compiler/commit/constant-tree.ts). */
export function constantState(g: Graph): { root: Bytes32; trees: Map<number, ChunkedTree> } {
  const tree = new SlotTree(g.tensors.length);
  const trees = new Map<number, ChunkedTree>();
  for (const [id, c] of g.constants) {
    const t = g.tensors[id]!;
    const ct = chunkedTree(c.read());
    trees.set(id, ct);
    tree.set(id, tensorCommitment(t.dtype, t.shape, chunkedRoot(ct)));
  }
  return { root: tree.root(), trees };
}

export interface ModelCommitment {
  commitment: Bytes32;
  /** Each constant's chunked data-root tree (slot → tree), when modelCommitment computed the constant state itself. */
  constantTrees?: Map<number, ChunkedTree>;
  recordsRoot: Bytes32;
  records: Bytes32[];
  constantState: Bytes32;
  io: Bytes32;
}

/**
 * M = keccak256(u256(version) ‖ recordsRoot ‖ u256(nodes) ‖ constantState ‖ u256(slots) ‖ ioHash(graph inputs,
 * graph outputs)); recordsRoot is the Merkle root over the node records (node k, 1-based, at leaf k − 1).
 */
export function modelCommitment(g: Graph, nodes: readonly CompiledNodeCommitment[], givenConstantState?: Bytes32): ModelCommitment {
  const cs = givenConstantState ? null : constantState(g);
  const constantStateHash = givenConstantState ?? cs!.root;
  if (nodes.length !== g.nodes.length) throw new RangeError(`${nodes.length} compiled nodes for ${g.nodes.length} graph nodes`);
  const records = g.nodes.map((n, i) => nodeRecord({ op: n.op, codeRoot: nodes[i]!.codeRoot, layoutHash: nodes[i]!.layoutHash, io: ioHash(g, n.inputs, n.outputs), stepBound: nodes[i]!.stepBound }));
  const recordsRoot = merkleRoot(records.length ? records : [new Uint8Array(32)]);
  const io = ioHash(g, g.inputs, g.outputs);
  const commitment = kc(concat([u256(MODEL_COMMITMENT_VERSION), recordsRoot, u256(g.nodes.length), constantStateHash, u256(g.tensors.length), io]));
  return { commitment, recordsRoot, records, constantState: constantStateHash, io, ...(cs ? { constantTrees: cs.trees } : {}) };
}
