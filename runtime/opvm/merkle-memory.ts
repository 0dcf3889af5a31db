/**
 * The Merkle tree of an OPVM memory (docs/opvm.md §1–§2, docs/commitments.md): depth MEM_DEPTH over
 * 32-byte leaves. The dense part of a VmMemory (2^hd leaves from address 0) keeps every level of its
 * subtree, updated incrementally from dirty-leaf flags, one batched keccak call per level; above it, and
 * for the rare sparse leaves beyond it, the tree is composed from zero-subtree hashes and a small map
 * per level.
 */
import { LEAF_BYTES, MEM_DEPTH } from '../../compiler/opvm/isa.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { ZERO_HASHES } from '../../compiler/commit/merkle.ts';
import { hashPair, hashPairsInto } from '../../compiler/commit/keccak-pairs.ts';
import type { VmMemory } from './memory.ts';

export class MerkleMemory {
  /** levels[h] holds the 2^(hd−h) nodes of height h of the dense subtree (levels[0] is the dense memory itself). */
  private readonly levels: Uint8Array[];
  /** Height of the dense subtree. */
  readonly denseHeight: number;
  /** Above-dense and sparse nodes per height (index → hash); rebuilt lazily when sparse leaves exist. */
  private upper: Map<number, Uint8Array>[] | null = null;
  private upperValid = false;

  constructor(readonly mem: VmMemory) {
    const leaves = mem.denseLeaves;
    this.denseHeight = Math.log2(leaves);
    if (!Number.isInteger(this.denseHeight)) throw new RangeError('dense memory must be a power-of-two number of leaves');
    this.levels = [mem.dense];
    for (let h = 1; h <= this.denseHeight; h++) this.levels.push(new Uint8Array(LEAF_BYTES * (leaves >>> h)));
    this.rebuild();
  }

  /** Hash every level from the memory (after the memory was replaced wholesale). */
  rebuild(): void {
    for (let h = 1; h <= this.denseHeight; h++) hashPairsInto(this.levels[h - 1]!, this.levels[h]!);
    this.upperValid = false;
  }

  /** Re-hash the paths above the given dense leaves (indices, any order, duplicates allowed). */
  updateLeaves(leaves: Iterable<number>): void {
    let idx = new Set<number>();
    for (const l of leaves) idx.add(l >>> 1);
    for (let h = 1; h <= this.denseHeight && idx.size; h++) {
      const below = this.levels[h - 1]!, level = this.levels[h]!;
      const list = [...idx];
      const buf = new Uint8Array(64 * list.length);
      list.forEach((p, i) => buf.set(below.subarray(64 * p, 64 * p + 64), 64 * i));
      hashPairsInto(buf, buf);
      const next = new Set<number>();
      list.forEach((p, i) => { level.set(buf.subarray(32 * i, 32 * i + 32), 32 * p); next.add(p >>> 1); });
      idx = next;
    }
    this.upperValid = false;
  }

  /** Re-hash the paths above every leaf whose flag is set in `dirty` (one per dense leaf), clearing the flags. */
  updateDirty(dirty: Uint8Array): number {
    const list: number[] = [];
    for (let i = dirty.indexOf(1); i >= 0; i = dirty.indexOf(1, i + 1)) { list.push(i); dirty[i] = 0; }
    if (list.length) this.updateLeaves(list);
    return list.length;
  }

  /** Sparse leaves changed: the upper map is rebuilt on the next root or proof. */
  sparseChanged(): void {
    this.upperValid = false;
  }

  private denseRoot(): Uint8Array {
    return this.levels[this.denseHeight]!.subarray(0, 32);
  }

  private buildUpper(): Map<number, Uint8Array>[] {
    if (this.upperValid && this.upper) return this.upper;
    const maps: Map<number, Uint8Array>[] = [];
    let cur = new Map<number, Uint8Array>();
    for (const [i, leaf] of this.mem.sparse) cur.set(i, leaf);
    for (let h = 0; h < MEM_DEPTH; h++) {
      if (h === this.denseHeight) cur.set(0, this.denseRoot());
      maps.push(cur);
      const next = new Map<number, Uint8Array>();
      for (const i of cur.keys()) {
        const p = i >>> 1;
        if (next.has(p)) continue;
        const l = cur.get(2 * p) ?? ZERO_HASHES[h]!;
        const r = cur.get(2 * p + 1) ?? ZERO_HASHES[h]!;
        next.set(p, hashPair(l, r));
      }
      cur = next;
    }
    maps.push(cur);
    this.upper = maps;
    this.upperValid = true;
    return maps;
  }

  /** The memory root (depth MEM_DEPTH). */
  root(): Bytes32 {
    if (this.mem.sparse.size === 0) {
      let acc: Uint8Array = this.denseRoot();
      for (let h = this.denseHeight; h < MEM_DEPTH; h++) acc = hashPair(acc, ZERO_HASHES[h]!);
      return acc.slice() as Bytes32;
    }
    return this.buildUpper()[MEM_DEPTH]!.get(0)!.slice() as Bytes32;
  }

  /** The 32 bytes of leaf i (a copy). */
  leaf(i: number): Uint8Array {
    return this.mem.leaf(i);
  }

  /** Sibling hashes of leaf i from the bottom up (MEM_DEPTH of them). */
  proof(i: number): Bytes32[] {
    const out: Bytes32[] = [];
    const hd = this.denseHeight;
    const sparse = this.mem.sparse.size > 0;
    const upper = sparse ? this.buildUpper() : null;
    let idx = i;
    // Without sparse leaves, the node of height h ≥ hd at index 0 is the dense root folded with zeros.
    let denseUp: Uint8Array = this.denseRoot();
    for (let h = 0; h < MEM_DEPTH; h++) {
      const sib = idx ^ 1;
      let s: Uint8Array;
      if (h < hd && idx < 2 ** (hd - h)) s = this.levels[h]!.subarray(32 * sib, 32 * sib + 32);
      else if (upper) s = upper[h]!.get(sib) ?? ZERO_HASHES[h]!;
      else s = h >= hd && sib === 0 ? denseUp : ZERO_HASHES[h]!;
      if (h >= hd) denseUp = hashPair(denseUp, ZERO_HASHES[h]!);
      out.push(s.slice() as Bytes32);
      idx = Math.floor(idx / 2);
    }
    return out;
  }
}
