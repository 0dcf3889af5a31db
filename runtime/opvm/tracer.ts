/**
 * Execution traces of one OPVM run with Merkle commitments (docs/opvm.md §2, §5): the run goes forward
 * once, keeping snapshots (registers, pc, status, a copy of memory) every `every` steps; `stateAt(s)`
 * restores the nearest snapshot at or before s into a working memory, replays to s, and brings the
 * working memory's Merkle tree up to date (only the leaves that changed are re-hashed); `proveStep(s)`
 * adds the instruction and data leaves with their paths and steps once more for the post-state.
 *
 * Snapshots thin themselves: when there are more than `maxSnapshots`, every other one is dropped and
 * the interval doubles, so memory stays bounded for any run length and a query replays at most
 * `every` steps.
 */
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { accessSize, decodeInsn, LEAF_BYTES, MEM_BYTES, MEM_LEAVES, Status } from '../../compiler/opvm/isa.ts';
import { Interpreter } from './interpreter.ts';
import { MerkleMemory } from './merkle-memory.ts';
import { VmMemory } from './memory.ts';
import type { VmState } from './state.ts';
import { encodeHeader } from './state.ts';
import type { StepProof } from './proof.ts';

/** A node's initial machine: its memory image and first pc (the code window is decoded ahead). */
export interface NodeImage {
  mem: VmMemory;
  pc: number;
  /** The code region as leaves [first, first + count), decoded once. */
  code?: { first: number; count: number };
}

/**
 * A deliberate fault, for cheating parties in demonstrations and tests: after `step` steps, register
 * `reg` is XORed with `xor`, so the transition into state `step` is wrong and every later state follows
 * from the corrupted one.
 */
export interface TraceFault {
  step: number;
  reg: number;
  xor: bigint;
}

export interface TracerOptions {
  /** Initial snapshot interval in steps (default 2^16). */
  snapshotEvery?: number;
  /** A deliberate fault (never set by honest parties). */
  fault?: TraceFault;
  /** Snapshots kept before thinning (default: as many as fit 256 MiB of memory copies, 8 … 1024). */
  maxSnapshots?: number;
}

interface Snapshot {
  step: number;
  pc: number;
  status: number;
  regs: Int32Array;
  dense: Uint8Array;
  sparse: Map<number, Uint8Array>;
}

const SNAPSHOT_BUDGET = 256 * 1024 * 1024;

export class Tracer {
  private readonly snaps: Snapshot[] = [];
  private every: number;
  private readonly maxSnapshots: number;
  /** The forward run (owns the image's memory). */
  private readonly fwd: Interpreter;
  /** The working machine for queries, its memory and the Merkle tree over that memory. */
  private readonly workMem: VmMemory;
  private readonly tree: MerkleMemory;
  private readonly dirty: Uint8Array;
  private work: Interpreter | null = null;
  private workStep = -1;
  private readonly code: { first: number; count: number } | undefined;
  private readonly fault: TraceFault | undefined;

  constructor(image: NodeImage, opts: TracerOptions = {}) {
    this.code = image.code;
    this.fault = opts.fault;
    if (this.fault && !(Number.isSafeInteger(this.fault.step) && this.fault.step >= 1)) throw new RangeError('a fault happens after at least one step');
    this.fwd = new Interpreter(image.mem, { pc: image.pc, code: image.code });
    this.every = Math.max(1, opts.snapshotEvery ?? 1 << 16);
    const dense = image.mem.dense.length;
    this.maxSnapshots = opts.maxSnapshots ?? Math.max(8, Math.min(1024, Math.floor(SNAPSHOT_BUDGET / dense)));
    this.snapshot();
    this.workMem = image.mem.clone();
    this.tree = new MerkleMemory(this.workMem);
    this.dirty = new Uint8Array(this.workMem.denseLeaves);
  }

  /** Steps executed so far by the forward run. */
  get frontier(): number {
    return this.fwd.steps;
  }

  /** The step at which the run halted or trapped, or null while it has not. */
  get end(): number | null {
    return this.fwd.status !== Status.Running ? this.fwd.steps : null;
  }

  /** Status of the forward run's latest state. */
  get finalStatus(): number {
    return this.fwd.status;
  }

  /** The forward run's memory (the final memory once the run has ended). */
  get finalMemory(): VmMemory {
    return this.fwd.mem;
  }

  private snapshot(): void {
    const f = this.fwd;
    this.snaps.push({ step: f.steps, pc: f.pc, status: f.status, regs: f.rawRegs(), dense: f.mem.dense.slice(), sparse: new Map(f.mem.sparse) });
    if (this.snaps.length > this.maxSnapshots) {
      this.every *= 2;
      const kept = this.snaps.filter((s) => s.step % this.every === 0);
      this.snaps.length = 0;
      this.snaps.push(...kept);
    }
  }

  /** Run forward until the machine halts or traps, or `limit` steps; returns the steps executed so far. */
  runToEnd(limit = Number.MAX_SAFE_INTEGER): number {
    const f = this.fwd;
    while (f.status === Status.Running && f.steps < limit) {
      const toSnap = this.every - (f.steps % this.every);
      this.advance(f, f.steps, Math.min(f.steps + toSnap, limit));
      if (f.status === Status.Running && f.steps % this.every === 0) this.snapshot();
    }
    return f.steps;
  }

  /** Run m from step `from` to step `to` (or its end), applying the fault when the run passes it. */
  private advance(m: Interpreter, from: number, to: number): void {
    const fault = this.fault;
    if (fault && from < fault.step && fault.step <= to) {
      m.run(fault.step - from);
      if (m.status === Status.Running) {
        const regs = m.regs();
        regs[fault.reg] = BigInt.asUintN(64, regs[fault.reg]! ^ fault.xor);
        m.setRegs(regs);
      }
      m.run(to - fault.step);
    } else m.run(to - from);
  }

  /** The working machine positioned at step s (s beyond the end: the final fixed point). */
  private machineAt(s: number): Interpreter {
    if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`step ${s} is not a step index`);
    if (s > this.fwd.steps && this.fwd.status === Status.Running) this.runToEnd(s);
    const end = this.end;
    if (end !== null && s > end) s = end;
    if (this.work && this.workStep <= s && this.workStep >= this.snapAtOrBefore(s).step) {
      this.advance(this.work, this.workStep, s);
      this.workStep = s;
      return this.work;
    }
    const snap = this.snapAtOrBefore(s);
    this.restore(snap);
    this.work = new Interpreter(this.workMem, { pc: snap.pc, status: snap.status, code: this.code, dirty: this.dirty });
    this.work.setRawRegs(snap.regs);
    this.advance(this.work, snap.step, s);
    this.workStep = s;
    return this.work;
  }

  private snapAtOrBefore(s: number): Snapshot {
    let lo = 0, hi = this.snaps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.snaps[mid]!.step <= s) lo = mid; else hi = mid - 1;
    }
    return this.snaps[lo]!;
  }

  /** Copy a snapshot's memory into the working memory, flagging the leaves that change. */
  private restore(snap: Snapshot): void {
    const a = new Int32Array(this.workMem.dense.buffer, this.workMem.dense.byteOffset, this.workMem.dense.length >>> 2);
    const b = new Int32Array(snap.dense.buffer, snap.dense.byteOffset, snap.dense.length >>> 2);
    const dirty = this.dirty;
    for (let w = 0; w < a.length; w += 8) {
      if (a[w] !== b[w] || a[w + 1] !== b[w + 1] || a[w + 2] !== b[w + 2] || a[w + 3] !== b[w + 3] ||
        a[w + 4] !== b[w + 4] || a[w + 5] !== b[w + 5] || a[w + 6] !== b[w + 6] || a[w + 7] !== b[w + 7]) {
        for (let k = 0; k < 8; k++) a[w + k] = b[w + k]!;
        dirty[w >>> 3] = 1;
      }
    }
    const sparse = this.workMem.sparse;
    let sparseChanged = sparse.size !== snap.sparse.size;
    for (const [i, leaf] of snap.sparse) if (sparse.get(i) !== leaf) { sparse.set(i, leaf); sparseChanged = true; }
    for (const i of [...sparse.keys()]) if (!snap.sparse.has(i)) { sparse.delete(i); sparseChanged = true; }
    if (sparseChanged) this.tree.sparseChanged();
  }

  /** Bring the Merkle tree up to date with the working memory. */
  private syncTree(m: Interpreter): void {
    this.tree.updateDirty(this.dirty);
    if (m.takeSparseDirty().length) this.tree.sparseChanged();
  }

  private stateOf(m: Interpreter): VmState {
    this.syncTree(m);
    return { memRoot: this.tree.root(), pc: m.pc, status: m.status, regs: m.regs() };
  }

  /** The state after s steps from the initial state (state 0). */
  stateAt(s: number): VmState {
    return this.stateOf(this.machineAt(s));
  }

  /** Sibling path (bottom first) of memory leaf `leaf` in state s. */
  memoryProof(s: number, leaf: number): Bytes32[] {
    this.stateOf(this.machineAt(s));
    return this.tree.proof(leaf);
  }

  /** Proof of the transition from state s to state s + 1 (docs/opvm.md §5). */
  proveStep(s: number): { pre: VmState; post: VmState; proof: StepProof } {
    const m = this.machineAt(s);
    const pre = this.stateOf(m);
    const proof: StepProof = { header: encodeHeader(pre), insnLeaf: null, insnPath: null, dataLeaf: null, dataPath: null };
    if (pre.status === Status.Running && pre.pc < MEM_LEAVES) {
      proof.insnLeaf = this.workMem.leaf(pre.pc);
      proof.insnPath = this.tree.proof(pre.pc);
      const i = decodeInsn(proof.insnLeaf);
      const size = accessSize(i.op);
      if (size > 0) {
        const ea = Number(pre.regs[i.ra]! & 0xffffffffn) + i.off;
        if (ea + size <= MEM_BYTES && ea % size === 0) {
          const leaf = Math.floor(ea / LEAF_BYTES);
          proof.dataLeaf = this.workMem.leaf(leaf);
          proof.dataPath = this.tree.proof(leaf);
        }
      }
    }
    if (pre.status !== Status.Running) return { pre, post: pre, proof };
    return { pre, post: this.stateAt(s + 1), proof };
  }
}
