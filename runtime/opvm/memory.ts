/**
 * OPVM memory (docs/opvm.md §1–§2): 2^31 bytes = 2^26 leaves of 32 bytes, held as a dense prefix
 * (a power-of-two byte array the interpreter accesses through typed-array views) plus a sparse map of
 * the leaves beyond it that were ever written. Also the dirty-leaf set the interpreter fills on stores
 * when Merkle tracking is on (runtime/opvm/merkle-memory.ts consumes it).
 *
 * Invariant: a sparse leaf array is never mutated in place by this module or the interpreter (a write
 * replaces it with a new array), so a shallow copy of `sparse` is a snapshot.
 */
import { LEAF_BYTES, MEM_BYTES, MEM_LEAVES } from '../../compiler/opvm/isa.ts';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('the OPVM runtime needs a little-endian host');

const ZERO_LEAF = new Uint8Array(LEAF_BYTES);

export class VmMemory {
  /** Dense bytes [0, dense.length): dense.length is a power of two, 32 ≤ length ≤ MEM_BYTES. */
  readonly dense: Uint8Array;
  /** Leaves beyond the dense part that were ever written (leaf index → 32 bytes). */
  readonly sparse: Map<number, Uint8Array>;

  private constructor(dense: Uint8Array, sparse: Map<number, Uint8Array>) {
    this.dense = dense;
    this.sparse = sparse;
  }

  /** A zero memory whose dense part holds `denseBytes` rounded up to a power of two (min 32). */
  static create(denseBytes: number): VmMemory {
    if (!(Number.isInteger(denseBytes) && denseBytes >= 0 && denseBytes <= MEM_BYTES)) {
      throw new RangeError(`dense size ${denseBytes} must be an integer in [0, ${MEM_BYTES}]`);
    }
    let n = LEAF_BYTES;
    while (n < denseBytes) n *= 2;
    return new VmMemory(new Uint8Array(n), new Map());
  }

  /** Number of leaves in the dense part. */
  get denseLeaves(): number {
    return this.dense.length / LEAF_BYTES;
  }

  private static check(addr: number, len: number): void {
    if (!(Number.isInteger(addr) && Number.isInteger(len) && addr >= 0 && len >= 0 && addr + len <= MEM_BYTES)) {
      throw new RangeError(`memory range [${addr}, ${addr}+${len}) outside [0, ${MEM_BYTES})`);
    }
  }

  /** Copy of bytes [addr, addr+len) (any range inside MEM_BYTES; never-written bytes read as zero). */
  read(addr: number, len: number): Uint8Array {
    VmMemory.check(addr, len);
    const out = new Uint8Array(len);
    const d = this.dense.length;
    if (addr < d) out.set(this.dense.subarray(addr, Math.min(d, addr + len)));
    for (let a = Math.max(addr, d); a < addr + len;) {
      const leafIdx = Math.floor(a / LEAF_BYTES);
      const inLeaf = a - leafIdx * LEAF_BYTES;
      const n = Math.min(LEAF_BYTES - inLeaf, addr + len - a);
      const leaf = this.sparse.get(leafIdx);
      if (leaf) out.set(leaf.subarray(inLeaf, inLeaf + n), a - addr);
      a += n;
    }
    return out;
  }

  /** Write bytes at addr (host access, e.g. loading an image); sparse leaves are replaced, not mutated. */
  write(addr: number, data: Uint8Array): void {
    VmMemory.check(addr, data.length);
    const d = this.dense.length;
    const end = addr + data.length;
    if (addr < d) this.dense.set(data.subarray(0, Math.min(d, end) - addr), addr);
    for (let a = Math.max(addr, d); a < end;) {
      const leafIdx = Math.floor(a / LEAF_BYTES);
      const inLeaf = a - leafIdx * LEAF_BYTES;
      const n = Math.min(LEAF_BYTES - inLeaf, end - a);
      const leaf = new Uint8Array(LEAF_BYTES);
      const old = this.sparse.get(leafIdx);
      if (old) leaf.set(old);
      leaf.set(data.subarray(a - addr, a - addr + n), inLeaf);
      this.sparse.set(leafIdx, leaf);
      a += n;
    }
  }

  /** Copy of leaf i (zeros if never written). */
  leaf(i: number): Uint8Array {
    if (!(Number.isInteger(i) && i >= 0 && i < MEM_LEAVES)) throw new RangeError(`leaf ${i} outside [0, ${MEM_LEAVES})`);
    const a = i * LEAF_BYTES;
    if (a < this.dense.length) return this.dense.slice(a, a + LEAF_BYTES);
    return (this.sparse.get(i) ?? ZERO_LEAF).slice();
  }

  /** The stored leaf beyond the dense part, or undefined (no copy; do not mutate). */
  sparseLeaf(i: number): Uint8Array | undefined {
    return this.sparse.get(i);
  }

  /** Replace sparse leaf i (i ≥ denseLeaves) by `leaf` (kept, not copied). */
  setSparseLeaf(i: number, leaf: Uint8Array): void {
    if (i < this.denseLeaves) throw new RangeError(`leaf ${i} is in the dense part`);
    this.sparse.set(i, leaf);
  }

  clone(): VmMemory {
    const sparse = new Map<number, Uint8Array>();
    for (const [k, v] of this.sparse) sparse.set(k, v.slice());
    return new VmMemory(this.dense.slice(), sparse);
  }
}

/**
 * Leaves written since the last Merkle update: a flag per dense leaf plus the list of flagged leaves
 * (each listed once), and a set for sparse leaves. The interpreter appends to `list` inline on stores.
 */
export class DirtyLeaves {
  readonly flags: Uint8Array;
  readonly list: Int32Array;
  count = 0;
  readonly sparse = new Set<number>();

  constructor(denseLeaves: number) {
    this.flags = new Uint8Array(denseLeaves);
    this.list = new Int32Array(denseLeaves);
  }

  mark(leaf: number): void {
    if (leaf < this.flags.length) {
      if (this.flags[leaf] === 0) {
        this.flags[leaf] = 1;
        this.list[this.count++] = leaf;
      }
    } else this.sparse.add(leaf);
  }

  /** Mark every leaf overlapping [addr, addr+len). */
  markRange(addr: number, len: number): void {
    if (len <= 0) return;
    const last = Math.floor((addr + len - 1) / LEAF_BYTES);
    for (let l = Math.floor(addr / LEAF_BYTES); l <= last; l++) this.mark(l);
  }

  get empty(): boolean {
    return this.count === 0 && this.sparse.size === 0;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.flags[this.list[i]!] = 0;
    this.count = 0;
    this.sparse.clear();
  }
}
