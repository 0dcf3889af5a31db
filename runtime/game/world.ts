/**
 * What one party of a dispute believes about one task (docs/game.md): the value of every tensor slot,
 * hence every graph state S_0 … S_n (phase 2), and for the disputed node the OPVM run whose state hashes
 * it claims (phase 1), the node opening it can prove, and step proofs. An honest party's world comes from
 * a native run (runtime/native/); a cheating party's from runtime/game/cheat.ts.
 */
import type { Graph, TensorId } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { keccak256 } from '../../converter/ir/keccak.ts';
import type { CompiledManifest } from '../../compiler/format.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { depthFor, merkleProof } from '../../compiler/commit/merkle.ts';
import { dataRoot, tensorCommitment, typeHash } from '../../compiler/commit/tensor.ts';
import { SlotTree } from '../../compiler/commit/graph-state.ts';
import { LEAF_BYTES, Status } from '../../compiler/opvm/isa.ts';
import { RegionKind } from '../../compiler/opvm/layout.ts';
import { NativeExecutor, RunError } from '../native/executor.ts';
import { readVmBundle } from '../opvm/vm-executor.ts';
import { nodeImage, vmRegion } from '../opvm/node-image.ts';
import type { TraceFault } from '../opvm/tracer.ts';
import { Tracer } from '../opvm/tracer.ts';
import { MerkleMemory } from '../opvm/merkle-memory.ts';
import type { VmState } from '../opvm/state.ts';
import { encodeHeader, stateHash } from '../opvm/state.ts';
import { packProof } from '../opvm/proof.ts';

/** A compiled model as the game needs it: graph, manifest (layouts, commitment) and OPVM code per node. */
export interface GameModel {
  readonly dir: string;
  readonly graph: Graph;
  readonly manifest: CompiledManifest;
  readonly codes: readonly Uint8Array[];
}

export function loadGameModel(dir: string): GameModel {
  const b = readVmBundle(dir);
  if (!b.manifest.model) throw new RunError(`${dir} has no model commitment; compile it again with this opml`);
  return { dir, ...b };
}

/** The NodeOpening of docs/game.md §4.3, field for field. */
export interface NodeOpening {
  opHash: Bytes32;
  codeRoot: Bytes32;
  kinds: number[];
  indexes: number[];
  heights: number[];
  inSlots: number[];
  inTypes: Bytes32[];
  outSlots: number[];
  outTypes: Bytes32[];
  recordPath: Bytes32[];
  inRoots: Bytes32[];
  inPaths: Bytes32[][];
  outRoots: Bytes32[];
  outPaths: Bytes32[][];
  /** The node record's step bound (compile time, docs/opvm.md §8); steps may not exceed it. */
  stepBound: number;
  steps: number;
  finalHeader: Uint8Array;
  outRegionPaths: Bytes32[][];
}

/** How a party's run of one node departs from the honest one (cheating parties only). */
export type NodeDeviation =
  /** The OPVM run takes a wrong step (TraceFault); the node's outputs are what the faulty run computes. */
  | { kind: 'fault'; fault: TraceFault }
  /** The node's outputs were replaced after an honest run; the claimed final state is fabricated to match. */
  | { kind: 'fabricate' };

const hex32 = (b: Uint8Array) => b as Bytes32;

/** Phase-1 data of one node in one world. */
export class NodeRun {
  readonly tracer: Tracer;
  /** N: the step at which the (claimed) run halts. */
  readonly steps: number;
  readonly initialHash: Bytes32;
  readonly finalState: VmState;
  readonly finalHash: Bytes32;
  private readonly finalTree: MerkleMemory | null;

  constructor(readonly world: TaskWorld, readonly k: number, deviation?: NodeDeviation) {
    const { graph: g, manifest, codes } = world.model;
    const n = g.nodes[k - 1]!;
    const vm = manifest.nodes[k - 1]!.vm!;
    // the inputs' data roots are known (every slot's is), so the tracer never hashes the weights
    const image = nodeImage(g, n, vm, codes[k - 1]!, (id) => world.values[id]!, (id) => world.dataRoots[id]);
    this.tracer = new Tracer(image, deviation?.kind === 'fault' ? { fault: deviation.fault } : {});
    this.steps = this.tracer.runToEnd();
    if (this.tracer.finalStatus !== Status.Halted) throw new RunError(`node ${k} '${n.name}' (${n.op}) does not halt in the OPVM (status ${this.tracer.finalStatus})`);
    this.initialHash = stateHash(this.tracer.stateAt(0));
    const honestFinal = this.tracer.stateAt(this.steps);
    if (deviation?.kind === 'fabricate') {
      // Write the claimed outputs into the final memory and commit to that memory instead.
      const mem = this.tracer.finalMemory.clone();
      n.outputs.forEach((o, i) => mem.write(vmRegion(vm, 'output', i).address, world.values[o]!));
      this.finalTree = new MerkleMemory(mem);
      this.finalState = { ...honestFinal, memRoot: this.finalTree.root() };
    } else {
      this.finalTree = null;
      this.finalState = honestFinal;
    }
    this.finalHash = stateHash(this.finalState);
  }

  /** The state hash this world claims after s steps of node k. */
  stateHash(s: number): Bytes32 {
    if (s >= this.steps) return this.finalHash;
    return stateHash(this.tracer.stateAt(s));
  }

  /** The packed proof of the step from state s (docs/opvm.md §5); honest runs only. */
  stepProof(s: number): Uint8Array {
    return packProof(this.tracer.proveStep(s).proof);
  }

  /** The opening of docs/game.md §4.3 for node k. */
  opening(): NodeOpening {
    const w = this.world;
    const { graph: g, manifest } = w.model;
    const k = this.k;
    const n = g.nodes[k - 1]!;
    const vm = manifest.nodes[k - 1]!.vm!;
    const before = w.slotTree(k - 1);
    const transition = before.clone();
    const outPaths: Bytes32[][] = [];
    for (const o of n.outputs) {
      outPaths.push(transition.proof(o));
      transition.set(o, w.commitments[o]!);
    }
    const regionPath = (i: number): Bytes32[] => {
      const r = vmRegion(vm, 'output', i);
      const leaf = r.address / LEAF_BYTES;
      const full = this.finalTree ? this.finalTree.proof(leaf) : this.tracer.memoryProof(this.steps, leaf);
      return full.slice(r.height);
    };
    const records = manifest.nodes.map((x) => hexBytes(x.vm!.record));
    return {
      opHash: hex32(keccak256(new TextEncoder().encode(n.op))),
      codeRoot: hexBytes(vm.codeRoot),
      kinds: vm.regions.map((r) => RegionKind[r.kind]),
      indexes: vm.regions.map((r) => r.index),
      heights: vm.regions.map((r) => r.height),
      inSlots: [...n.inputs],
      inTypes: n.inputs.map((id) => typeHash(g.tensors[id]!.dtype, g.tensors[id]!.shape)),
      outSlots: [...n.outputs],
      outTypes: n.outputs.map((id) => typeHash(g.tensors[id]!.dtype, g.tensors[id]!.shape)),
      recordPath: merkleProof(records, k - 1, depthFor(records.length)),
      inRoots: n.inputs.map((id) => w.dataRoots[id]!),
      inPaths: n.inputs.map((id) => before.proof(id)),
      outRoots: n.outputs.map((id) => w.dataRoots[id]!),
      outPaths,
      stepBound: vm.stepBound,
      steps: this.steps,
      finalHeader: encodeHeader(this.finalState),
      outRegionPaths: n.outputs.map((_, i) => regionPath(i)),
    };
  }
}

function hexBytes(h: string): Bytes32 {
  return Uint8Array.from(Buffer.from(h.slice(2), 'hex')) as Bytes32;
}

const constantRootCache = new WeakMap<GameModel, Map<number, Bytes32>>();

/** The data roots of a model's constants (hashed once per model: they are the same in every task). */
export function constantDataRoots(m: GameModel): ReadonlyMap<number, Bytes32> {
  let r = constantRootCache.get(m);
  if (!r) {
    r = new Map();
    for (const [id, c] of m.graph.constants) r.set(id, dataRoot(c.read()));
    constantRootCache.set(m, r);
  }
  return r;
}

export class TaskWorld {
  readonly dataRoots: Bytes32[];
  readonly commitments: Bytes32[];
  readonly constantState: Bytes32;
  /** states[k] = S_k. */
  readonly states: Bytes32[];
  private readonly trees = new Map<number, SlotTree>();
  private readonly runs = new Map<number, NodeRun>();

  /**
   * `values[slot]` is every tensor's little-endian bytes in this world (the constants' are the model's,
   * whose data roots are hashed once per model); `deviations` says how its run of a node departs from the
   * honest one (cheating worlds only).
   */
  constructor(readonly model: GameModel, readonly values: readonly Uint8Array[], private readonly deviations: ReadonlyMap<number, NodeDeviation> = new Map()) {
    const g = model.graph;
    if (values.length !== g.tensors.length) throw new RangeError(`${values.length} slot values for ${g.tensors.length} slots`);
    const constants = constantDataRoots(model);
    this.dataRoots = values.map((v, id) => constants.get(id) ?? dataRoot(v));
    this.commitments = g.tensors.map((t, id) => tensorCommitment(t.dtype, t.shape, this.dataRoots[id]!));
    const tree = new SlotTree(g.tensors.length);
    for (const id of g.constants.keys()) tree.set(id, this.commitments[id]!);
    this.constantState = tree.root();
    for (const id of g.inputs) tree.set(id, this.commitments[id]!);
    this.states = [tree.root()];
    this.trees.set(0, tree.clone());
    g.nodes.forEach((n, i) => {
      for (const o of n.outputs) tree.set(o, this.commitments[o]!);
      this.states.push(tree.root());
      if ((i + 1) % 16 === 0) this.trees.set(i + 1, tree.clone());
    });
  }

  /** An honest world: every tensor from a native run on `inputs`. */
  static fromNative(model: GameModel, ex: NativeExecutor, inputs: readonly HostTensor[]): TaskWorld {
    ex.run(inputs);
    const values = model.graph.tensors.map((_, id) => {
      const t = ex.tensor(id as TensorId);
      return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
    });
    return new TaskWorld(model, values);
  }

  get nodes(): number {
    return this.model.graph.nodes.length;
  }

  /** The slot tree of S_k (a fresh copy). */
  slotTree(k: number): SlotTree {
    let base = k;
    while (!this.trees.has(base)) base--;
    const t = this.trees.get(base)!.clone();
    const g = this.model.graph;
    for (let j = base; j < k; j++) for (const o of g.nodes[j]!.outputs) t.set(o, this.commitments[o]!);
    return t;
  }

  /** The graph outputs' bytes. */
  outputs(): Uint8Array[] {
    return this.model.graph.outputs.map((o) => this.values[o]!);
  }

  /** Paths of the graph outputs' slots under S_n (docs/game.md §3.2). */
  outputPaths(): Bytes32[][] {
    const t = this.slotTree(this.nodes);
    return this.model.graph.outputs.map((o) => t.proof(o));
  }

  /** Phase-1 data of node k (1-based); one node's run is kept at a time. */
  nodeRun(k: number): NodeRun {
    let r = this.runs.get(k);
    if (!r) {
      this.runs.clear();
      r = new NodeRun(this, k, this.deviations.get(k));
      this.runs.set(k, r);
    }
    return r;
  }
}
