/**
 * Execution traces of one OPVM run with Merkle commitments (docs/opvm.md §2, §5, §9): `stateAt(s)`,
 * `statesAt(steps)` and `proveStep(s)` answer for any step of a node without replaying it from step 0.
 *
 * `Tracer` (the fast path, for node images with a region layout, runtime/opvm/node-image.ts) runs the
 * node forward once and records **checkpoints** every `every` steps: registers, pc, status and the
 * leaves of the output and scratch regions written since the previous checkpoint (a full copy of those
 * regions whenever the diffs since the last full copy outgrow it). A query restores the nearest
 * checkpoint at or before its step and replays at most `every` steps; queries in increasing order (the
 * cut points of one dissection round) continue from each other. The memory root is composed from one
 * root per region (runtime/opvm/region-merkle.ts): code and inputs (weights) are never re-hashed (their
 * roots are given or hashed once), outputs and scratch along the changed leaves' paths only. When a run
 * writes outside its output and scratch regions (no compiled kernel does), the tracer starts over with
 * `ReplayTracer`, which snapshots and hashes the whole memory; both give the same states and proofs.
 *
 * Checkpoints thin themselves: beyond `maxSnapshots` of them or their byte budget, every other one is
 * merged into the next and the interval doubles, so memory stays bounded for any run length.
 */
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { accessSize, decodeInsn, LEAF_BYTES, MEM_BYTES, MEM_LEAVES, Status } from '../../compiler/opvm/isa.ts';
import { Interpreter } from './interpreter.ts';
import { MerkleMemory } from './merkle-memory.ts';
import { VmMemory } from './memory.ts';
import type { VmState } from './state.ts';
import { encodeHeader } from './state.ts';
import type { StepProof } from './proof.ts';
import { RegionMerkle } from './region-merkle.ts';
import type { ChunkedTree } from '../../compiler/commit/constant-tree.ts';

/** A region of a node image (docs/opvm.md §7); `root` when known (code root, an input's data root). */
export interface ImageRegion {
  kind: 'code' | 'input' | 'output' | 'scratch';
  index: number;
  address: number;
  height: number;
  root?: Uint8Array;
  /** The region's tree cut at some height (a weight's constant tree), instead of `root`. */
  tree?: ChunkedTree;
}

/** A node's initial machine: its memory image and first pc (the code window is decoded ahead). */
export interface NodeImage {
  mem: VmMemory;
  pc: number;
  /** The code region as leaves [first, first + count), decoded once. */
  code?: { first: number; count: number };
  /** The region layout: with it, `Tracer` takes the fast path (checkpoints, region roots). */
  regions?: readonly ImageRegion[];
  /** A fresh copy of this image (the fast path's fallback starts over from it instead of keeping a copy). */
  rebuild?: () => NodeImage;
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
  /** Snapshots (checkpoints) kept before thinning (default: as many as fit 256 MiB of memory copies, 8 … 1024; fast path 4096). */
  maxSnapshots?: number;
  /** Fast path: bytes of checkpoint data kept before thinning (default max(256 MiB, 4 × outputs and scratch)). */
  checkpointBytes?: number;
  /** Use the reference tracer even for an image with a region layout (tests). */
  reference?: boolean;
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

/**
 * The reference tracer: snapshots of the whole memory and a Merkle tree over the whole dense memory.
 * `Tracer` uses it for memory images without a region layout and for runs that write outside their
 * output and scratch regions; the tests compare the fast tracer against it.
 */
export class ReplayTracer {
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
    runWithFault(m, from, to, this.fault);
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
    const proof = stepProofOf(pre, (l) => this.workMem.leaf(l), (l) => this.tree.proof(l));
    if (pre.status !== Status.Running) return { pre, post: pre, proof };
    return { pre, post: this.stateAt(s + 1), proof };
  }
}

/** Registers, pc and status after `step` steps, and the tracked leaves' contents then. */
interface Checkpoint {
  step: number;
  pc: number;
  status: number;
  regs: Int32Array;
  /** Tracked leaf indices written since the previous checkpoint (ascending), with their 32 bytes each in `data`; null: `data` is every tracked leaf. */
  leaves: Int32Array | null;
  data: Uint8Array;
}

/** A contiguous run of tracked leaves: dense leaves [first, first + count) are tracked leaves [base, base + count). */
interface TrackedRange {
  first: number;
  count: number;
  base: number;
}

const FAST_MAX_CHECKPOINTS = 4096;
const FAST_CHECKPOINT_EVERY = 1 << 16;

/** Does `bytes` hold only zeros? */
function allZero(bytes: Uint8Array): boolean {
  const zero = Buffer.alloc(Math.min(bytes.length, 1 << 20));
  for (let a = 0; a < bytes.length; a += zero.length) {
    const n = Math.min(zero.length, bytes.length - a);
    if (Buffer.compare(bytes.subarray(a, a + n), zero.subarray(0, n)) !== 0) return false;
  }
  return true;
}

/** Merge two consecutive diffs (b after a) into one: b's bytes win. */
function mergeDiffs(a: Checkpoint, b: Checkpoint): Checkpoint {
  if (b.leaves === null) return b;
  if (a.leaves === null) {
    const data = a.data.slice();
    for (let i = 0; i < b.leaves.length; i++) data.set(b.data.subarray(32 * i, 32 * i + 32), 32 * b.leaves[i]!);
    return { ...b, leaves: null, data };
  }
  const la = a.leaves, lb = b.leaves;
  const leaves: number[] = [];
  const parts: Uint8Array[] = [];
  let i = 0, j = 0;
  while (i < la.length || j < lb.length) {
    if (j >= lb.length || (i < la.length && la[i]! < lb[j]!)) { leaves.push(la[i]!); parts.push(a.data.subarray(32 * i, 32 * i + 32)); i++; }
    else { if (i < la.length && la[i] === lb[j]) i++; leaves.push(lb[j]!); parts.push(b.data.subarray(32 * j, 32 * j + 32)); j++; }
  }
  const data = new Uint8Array(32 * leaves.length);
  parts.forEach((p, k) => data.set(p, 32 * k));
  return { ...b, leaves: Int32Array.from(leaves), data };
}

export class Tracer {
  /** The reference tracer, when this image has no layout or the run wrote outside its tracked regions. */
  private slow: ReplayTracer | null = null;
  private readonly opts: TracerOptions;
  private readonly image: NodeImage;
  private mem!: VmMemory;
  private m!: Interpreter;
  private flags!: Uint8Array;
  private ranges: TrackedRange[] = [];
  /** Dense leaf ranges outside the output and scratch regions (code, inputs, gaps): never written. */
  private untracked: { first: number; count: number }[] = [];
  private trackedLeaves = 0;
  private frozenCopies: { address: number; bytes: Uint8Array }[] | null = null;
  private merkle!: RegionMerkle;
  private merkleDirty: number[] = [];
  private cps: Checkpoint[] = [];
  private every = FAST_CHECKPOINT_EVERY;
  private maxCount = FAST_MAX_CHECKPOINTS;
  private budget = 0;
  private cpBytes = 0;
  private sinceFull = 0;
  /** Steps executed by the working machine `m` from the initial state. */
  private pos = 0;
  private frontierStep = 0;
  private frontierStatus: number = Status.Running;

  constructor(image: NodeImage, opts: TracerOptions = {}) {
    this.opts = opts;
    this.image = image;
    if (opts.fault && !(Number.isSafeInteger(opts.fault.step) && opts.fault.step >= 1)) throw new RangeError('a fault happens after at least one step');
    if (opts.reference || !image.regions || !this.setup(image, image.regions)) this.slow = new ReplayTracer(image, opts);
  }

  /** The fast path's state; false when the image does not qualify (sparse leaves, non-zero bytes outside its regions). */
  private setup(image: NodeImage, regions: readonly ImageRegion[]): boolean {
    const mem = image.mem;
    if (mem.sparse.size) return false;
    const leaves = mem.denseLeaves;
    const rs = regions.map((r) => ({ ...r, first: r.address / LEAF_BYTES, count: 2 ** r.height })).sort((a, b) => a.first - b.first);
    let at = 0;
    const gaps: { first: number; count: number }[] = [];
    for (const r of rs) {
      if (!(Number.isInteger(r.first) && r.first % r.count === 0 && r.first >= at && r.first + r.count <= leaves)) return false;
      if (r.first > at) gaps.push({ first: at, count: r.first - at });
      at = r.first + r.count;
    }
    if (at < leaves) gaps.push({ first: at, count: leaves - at });
    for (const gp of gaps) if (!allZero(mem.dense.subarray(gp.first * LEAF_BYTES, (gp.first + gp.count) * LEAF_BYTES))) return false;
    const frozen = (k: ImageRegion['kind']) => k === 'code' || k === 'input';
    let base = 0;
    for (const r of rs) {
      if (frozen(r.kind)) this.untracked.push({ first: r.first, count: r.count });
      else { this.ranges.push({ first: r.first, count: r.count, base }); base += r.count; }
    }
    this.untracked.push(...gaps);
    this.trackedLeaves = base;
    if (!image.rebuild) {
      this.frozenCopies = rs.filter((r) => frozen(r.kind)).map((r) => {
        const bytes = mem.dense.subarray(r.first * LEAF_BYTES, (r.first + r.count) * LEAF_BYTES);
        let n = bytes.length;
        while (n > 0 && bytes[n - 1] === 0) n--;
        return { address: r.address, bytes: bytes.slice(0, n) };
      });
    }
    this.mem = mem;
    this.flags = new Uint8Array(leaves);
    this.merkle = new RegionMerkle(mem.dense, rs.map((r) => ({ first: r.first, height: r.height, frozen: frozen(r.kind), ...(r.root ? { root: r.root } : {}), ...(r.tree ? { tree: r.tree } : {}) })));
    this.m = new Interpreter(mem, { pc: image.pc, code: image.code, dirty: this.flags });
    this.every = Math.max(1, this.opts.snapshotEvery ?? FAST_CHECKPOINT_EVERY);
    this.maxCount = Math.max(2, this.opts.maxSnapshots ?? FAST_MAX_CHECKPOINTS);
    this.budget = this.opts.checkpointBytes ?? Math.max(256 * 2 ** 20, 4 * LEAF_BYTES * this.trackedLeaves);
    this.cps.push({ step: 0, pc: this.m.pc, status: this.m.status, regs: this.m.rawRegs(), leaves: null, data: this.trackedCopy() });
    this.cpBytes = this.cps[0]!.data.length;
    this.frontierStatus = this.m.status;
    return true;
  }

  /** True while queries use the fast path (checkpoints and region roots). */
  get fast(): boolean {
    return this.slow === null;
  }

  get frontier(): number {
    return this.slow ? this.slow.frontier : this.frontierStep;
  }

  get end(): number | null {
    if (this.slow) return this.slow.end;
    return this.frontierStatus !== Status.Running ? this.frontierStep : null;
  }

  get finalStatus(): number {
    return this.slow ? this.slow.finalStatus : this.frontierStatus;
  }

  /** The memory at the forward run's latest state (valid until the next query). */
  get finalMemory(): VmMemory {
    if (this.slow) return this.slow.finalMemory;
    this.machineAt(this.frontierStep);
    return this.slow ? (this.slow as ReplayTracer).finalMemory : this.mem;
  }

  private trackedCopy(): Uint8Array {
    const out = new Uint8Array(LEAF_BYTES * this.trackedLeaves);
    for (const r of this.ranges) out.set(this.mem.dense.subarray(r.first * LEAF_BYTES, (r.first + r.count) * LEAF_BYTES), r.base * LEAF_BYTES);
    return out;
  }

  /** The tracked leaves the machine wrote since the last harvest (dense indices, ascending); clears their flags. */
  private harvest(): number[] {
    const out: number[] = [];
    const f = this.flags;
    for (const r of this.ranges) {
      const sub = f.subarray(r.first, r.first + r.count);
      for (let i = sub.indexOf(1); i >= 0; i = sub.indexOf(1, i + 1)) { out.push(r.first + i); sub[i] = 0; }
    }
    return out;
  }

  private trackedIndex(leaf: number): number {
    for (const r of this.ranges) if (leaf >= r.first && leaf < r.first + r.count) return r.base + leaf - r.first;
    throw new RangeError(`leaf ${leaf} is not tracked`);
  }

  /** Record a checkpoint at the machine's current step (the forward run's frontier). */
  private checkpoint(): void {
    const written = this.harvest();
    for (const l of written) this.merkleDirty.push(l);
    const m = this.m;
    this.sinceFull += written.length * LEAF_BYTES;
    let cp: Checkpoint;
    if (this.sinceFull >= LEAF_BYTES * this.trackedLeaves) {
      cp = { step: this.pos, pc: m.pc, status: m.status, regs: m.rawRegs(), leaves: null, data: this.trackedCopy() };
      this.sinceFull = 0;
    } else {
      const data = new Uint8Array(LEAF_BYTES * written.length);
      written.forEach((l, i) => data.set(this.mem.dense.subarray(l * LEAF_BYTES, l * LEAF_BYTES + LEAF_BYTES), i * LEAF_BYTES));
      cp = { step: this.pos, pc: m.pc, status: m.status, regs: m.rawRegs(), leaves: Int32Array.from(written, (l) => this.trackedIndex(l)), data };
    }
    this.cps.push(cp);
    this.cpBytes += cp.data.length + (cp.leaves?.byteLength ?? 0);
    if (this.cps.length > this.maxCount || this.cpBytes > this.budget) this.thin();
  }

  /** Double the interval: drop the checkpoints off the new grid (never the first or the last), merging their diffs into the next kept one. */
  private thin(): void {
    while (this.cps.length > 2 && (this.cps.length > this.maxCount || this.cpBytes > this.budget)) {
      this.every *= 2;
      const kept: Checkpoint[] = [];
      let carry: Checkpoint | null = null;
      this.cps.forEach((c, i) => {
        const merged = carry ? mergeDiffs(carry, c) : c;
        if (i === 0 || i === this.cps.length - 1 || c.step % this.every === 0) { kept.push(merged); carry = null; } else carry = merged;
      });
      this.cps = kept;
      this.cpBytes = kept.reduce((a, c) => a + c.data.length + (c.leaves?.byteLength ?? 0), 0);
    }
  }

  /** Put the machine at checkpoint ci: its registers, and the tracked leaves' bytes (changed leaves flagged for the tree). */
  private restore(ci: number): void {
    for (const l of this.harvest()) this.merkleDirty.push(l);
    let k = ci;
    while (this.cps[k]!.leaves !== null) k--;
    const target = this.cps[k]!.data.slice();
    for (let j = k + 1; j <= ci; j++) {
      const c = this.cps[j]!;
      for (let i = 0; i < c.leaves!.length; i++) target.set(c.data.subarray(32 * i, 32 * i + 32), 32 * c.leaves![i]!);
    }
    const dense = this.mem.dense;
    const a = new Int32Array(dense.buffer, dense.byteOffset, dense.length >>> 2);
    const b = new Int32Array(target.buffer, target.byteOffset, target.length >>> 2);
    for (const r of this.ranges) {
      for (let t = 0; t < r.count; t++) {
        const wa = 8 * (r.first + t), wb = 8 * (r.base + t);
        if (a[wa] !== b[wb] || a[wa + 1] !== b[wb + 1] || a[wa + 2] !== b[wb + 2] || a[wa + 3] !== b[wb + 3] ||
          a[wa + 4] !== b[wb + 4] || a[wa + 5] !== b[wb + 5] || a[wa + 6] !== b[wb + 6] || a[wa + 7] !== b[wb + 7]) {
          for (let w = 0; w < 8; w++) a[wa + w] = b[wb + w]!;
          this.merkleDirty.push(r.first + t);
        }
      }
    }
    const cp = this.cps[ci]!;
    this.m.pc = cp.pc;
    this.m.status = cp.status;
    this.m.setRawRegs(cp.regs);
    this.pos = cp.step;
  }

  /** Run the machine from this.pos to step `to` (or its end), applying the fault when it passes it. */
  private advance(to: number): void {
    const m = this.m, before = m.steps;
    runWithFault(m, this.pos, to, this.opts.fault);
    this.pos += m.steps - before;
  }

  /** Did the run write outside its output and scratch regions? Then start over with the reference tracer. */
  private checkConfined(): void {
    let outside = this.m.sparseDirty.size > 0 || this.mem.sparse.size > 0;
    for (const u of this.untracked) if (!outside && this.flags.subarray(u.first, u.first + u.count).indexOf(1) >= 0) outside = true;
    if (!outside) return;
    let image: NodeImage;
    if (this.image.rebuild) image = this.image.rebuild();
    else {
      const mem = VmMemory.create(this.mem.dense.length);
      for (const f of this.frozenCopies!) mem.write(f.address, f.bytes);
      const init = this.cps[0]!.data;
      for (const r of this.ranges) mem.write(r.first * LEAF_BYTES, init.subarray(r.base * LEAF_BYTES, (r.base + r.count) * LEAF_BYTES));
      image = { mem, pc: this.image.pc, ...(this.image.code ? { code: this.image.code } : {}) };
    }
    const frontier = this.frontierStep;
    this.cps = [];
    this.slow = new ReplayTracer(image, this.opts);
    this.slow.runToEnd(frontier);
  }

  runToEnd(limit = Number.MAX_SAFE_INTEGER): number {
    if (this.slow) return this.slow.runToEnd(limit);
    if (this.frontierStatus !== Status.Running || this.frontierStep >= limit) return this.frontierStep;
    if (this.pos !== this.frontierStep) this.restore(this.cps.length - 1);
    const m = this.m;
    while (m.status === Status.Running && this.pos < limit) {
      const next = Math.min((Math.floor(this.pos / this.every) + 1) * this.every, limit);
      this.advance(next);
      if (this.pos % this.every === 0 || m.status !== Status.Running || this.pos >= limit) this.checkpoint();
    }
    this.frontierStep = this.pos;
    this.frontierStatus = m.status;
    this.checkConfined();
    return this.frontier;
  }

  private cpAtOrBefore(s: number): number {
    let lo = 0, hi = this.cps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.cps[mid]!.step <= s) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  /** The machine positioned at step s (s beyond the end: the final fixed point); false when the tracer fell back to the reference path. */
  private machineAt(s: number): boolean {
    if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`step ${s} is not a step index`);
    if (s > this.frontierStep && this.frontierStatus === Status.Running) this.runToEnd(s);
    if (this.slow) return false;
    if (s > this.frontierStep) s = this.frontierStep;
    const ci = this.cpAtOrBefore(s);
    if (!(this.pos <= s && this.pos >= this.cps[ci]!.step)) this.restore(ci);
    this.advance(s);
    return true;
  }

  private current(): VmState {
    for (const l of this.harvest()) this.merkleDirty.push(l);
    this.merkle.update(this.merkleDirty);
    this.merkleDirty = [];
    const m = this.m;
    return { memRoot: this.merkle.root(), pc: m.pc, status: m.status, regs: m.regs() };
  }

  /** The state after s steps from the initial state (state 0). */
  stateAt(s: number): VmState {
    if (this.slow || !this.machineAt(s)) return this.slow!.stateAt(s);
    return this.current();
  }

  /** The states after each of `steps` (e.g. a dissection round's cut points), in one forward pass. */
  statesAt(steps: readonly number[]): VmState[] {
    const order = steps.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
    const out: VmState[] = new Array(steps.length);
    for (const [s, i] of order) out[i] = this.stateAt(s);
    return out;
  }

  /** Sibling path (bottom first) of memory leaf `leaf` in state s. */
  memoryProof(s: number, leaf: number): Bytes32[] {
    if (this.slow || !this.machineAt(s)) return this.slow!.memoryProof(s, leaf);
    this.current();
    return this.merkle.proof(leaf);
  }

  /** Proof of the transition from state s to state s + 1 (docs/opvm.md §5). */
  proveStep(s: number): { pre: VmState; post: VmState; proof: StepProof } {
    if (this.slow || !this.machineAt(s)) return this.slow!.proveStep(s);
    const pre = this.current();
    const proof = stepProofOf(pre, (l) => this.mem.leaf(l), (l) => this.merkle.proof(l));
    if (pre.status !== Status.Running) return { pre, post: pre, proof };
    return { pre, post: this.stateAt(s + 1), proof };
  }
}

/**
 * The step proof of docs/opvm.md §5 from a pre-state: its header, and while it runs the instruction leaf
 * with its path and, for an aligned in-memory load or store, the data leaf with its path (both tracers).
 */
function stepProofOf(pre: VmState, leaf: (i: number) => Uint8Array, path: (i: number) => Bytes32[]): StepProof {
  const proof: StepProof = { header: encodeHeader(pre), insnLeaf: null, insnPath: null, dataLeaf: null, dataPath: null };
  if (pre.status !== Status.Running || pre.pc >= MEM_LEAVES) return proof;
  proof.insnLeaf = leaf(pre.pc);
  proof.insnPath = path(pre.pc);
  const i = decodeInsn(proof.insnLeaf);
  const size = accessSize(i.op);
  if (size > 0) {
    const ea = Number(pre.regs[i.ra]! & 0xffffffffn) + i.off;
    if (ea + size <= MEM_BYTES && ea % size === 0) {
      const l = Math.floor(ea / LEAF_BYTES);
      proof.dataLeaf = leaf(l);
      proof.dataPath = path(l);
    }
  }
  return proof;
}

/** Run m from step `from` to step `to` (or its end); a fault whose step the run passes flips its register bits. */
function runWithFault(m: Interpreter, from: number, to: number, fault: TraceFault | undefined): void {
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
