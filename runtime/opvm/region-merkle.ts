/**
 * The Merkle tree of a node's OPVM memory built from its regions (docs/opvm.md §7, §9): the root is
 * composed from one root per region, so nothing outside the regions is ever hashed (a 2^26-leaf tree
 * whose other subtrees are zero).
 *
 * * **Frozen** regions (code, inputs: the weights) never change during a run. Their roots are given
 *   (the code root and the tensors' data roots, known from the commitments) or hashed once over the
 *   region's non-zero prefix; their inner levels are built only when a proof needs a path into them.
 * * **Tracked** regions (outputs, scratch) keep every level and are re-hashed incrementally, only along
 *   the paths of the leaves that changed.
 *
 * Leaves outside every region must stay zero; the tracer checks that and otherwise falls back to the
 * whole-memory tree (runtime/opvm/merkle-memory.ts).
 */
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { ZERO_HASHES } from '../../compiler/commit/merkle.ts';
import { hashPair, hashPairsInto, merkleRootFast } from '../../compiler/commit/keccak-pairs.ts';
import { LEAF_BYTES, MEM_DEPTH } from '../../compiler/opvm/isa.ts';
import type { ChunkedTree } from '../../compiler/commit/constant-tree.ts';
import { levelsAbove } from '../../compiler/commit/constant-tree.ts';

export interface MerkleRegion {
  /** First leaf (the region's byte address ÷ 32); a multiple of 2^height. */
  first: number;
  height: number;
  frozen: boolean;
  /** The region root when it is known (frozen regions only). */
  root?: Uint8Array;
  /** The region's tree cut at some height, when known (frozen regions: a weight's constant tree). */
  tree?: ChunkedTree;
}

interface RegionState {
  first: number;
  height: number;
  frozen: boolean;
  root: Uint8Array;
  /** levels[l]: the nodes of height l present (frozen: a prefix, the rest zero subtrees; tracked: all). */
  levels: Uint8Array[] | null;
  /** Frozen regions with a known cut tree: the levels from its cut height up, and the last chunk hashed below it. */
  tree?: ChunkedTree;
  upper?: Uint8Array[];
  chunk?: { index: number; levels: Uint8Array[] };
}

/** Index of the last leaf of `bytes` (a multiple of 32 long) that is not all zero, or −1. */
function lastNonZeroLeaf(bytes: Uint8Array): number {
  const w = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  for (let i = w.length - 1; i >= 0; i--) if (w[i] !== 0) return i >>> 3;
  return -1;
}

/** All levels of a subtree over `base` (n leaves; nodes past the data are zero subtrees, not stored). */
function buildLevels(base: Uint8Array, height: number, full: boolean): Uint8Array[] {
  const levels: Uint8Array[] = [base];
  let n = base.length / LEAF_BYTES;
  for (let l = 1; l <= height; l++) {
    const prev = levels[l - 1]!;
    const m = full ? n >>> 1 : (n + 1) >>> 1;
    const out = new Uint8Array(LEAF_BYTES * Math.max(1, m));
    const pairs = n >>> 1;
    if (pairs) hashPairsInto(prev.subarray(0, 64 * pairs), out);
    if (n & 1) out.set(hashPair(prev.subarray(32 * (n - 1), 32 * n), ZERO_HASHES[l - 1]!), 32 * pairs);
    if (n === 0) out.set(ZERO_HASHES[l]!, 0);
    levels.push(out);
    n = m;
  }
  return levels;
}

export class RegionMerkle {
  private readonly regions: RegionState[];
  /** Hashes above the regions, by height·2^26 + index (cleared whenever a tracked region changes). */
  private upper = new Map<number, Uint8Array>();

  /** `dense`: the memory's dense bytes, which hold every region (tracked levels alias it). */
  constructor(private readonly dense: Uint8Array, regions: readonly MerkleRegion[]) {
    this.regions = regions.map((r) => {
      const bytes = this.bytesOf(r.first, r.height);
      if (r.frozen) {
        if (r.tree && r.tree.depth === r.height) {
          const upper = levelsAbove(r.tree.nodes, r.tree.height, r.height);
          return { first: r.first, height: r.height, frozen: true, root: upper.at(-1)!.subarray(0, 32), levels: null, tree: r.tree, upper };
        }
        let root = r.root;
        if (!root) {
          const n = lastNonZeroLeaf(bytes) + 1;
          root = merkleRootFast(bytes.subarray(0, 32 * n), r.height);
        }
        return { first: r.first, height: r.height, frozen: true, root, levels: null };
      }
      const levels = buildLevels(bytes, r.height, true);
      return { first: r.first, height: r.height, frozen: false, root: levels[r.height]!.subarray(0, 32), levels };
    }).sort((a, b) => a.first - b.first);
  }

  private bytesOf(first: number, height: number): Uint8Array {
    return this.dense.subarray(first * LEAF_BYTES, (first + 2 ** height) * LEAF_BYTES);
  }

  /** Re-hash the paths above the given tracked leaves (any order, duplicates allowed). */
  update(leaves: ArrayLike<number>, count = leaves.length): void {
    if (count === 0) return;
    for (const r of this.regions) {
      if (r.frozen) continue;
      const end = r.first + 2 ** r.height;
      let idx = new Set<number>();
      for (let i = 0; i < count; i++) {
        const l = leaves[i]!;
        if (l >= r.first && l < end) idx.add((l - r.first) >>> 1);
      }
      const levels = r.levels!;
      for (let h = 1; h <= r.height && idx.size; h++) {
        const below = levels[h - 1]!, level = levels[h]!;
        const list = [...idx];
        const buf = new Uint8Array(64 * list.length);
        for (let i = 0; i < list.length; i++) buf.set(below.subarray(64 * list[i]!, 64 * list[i]! + 64), 64 * i);
        hashPairsInto(buf, buf);
        const next = new Set<number>();
        for (let i = 0; i < list.length; i++) { level.set(buf.subarray(32 * i, 32 * i + 32), 32 * list[i]!); next.add(list[i]! >>> 1); }
        idx = next;
      }
    }
    this.upper.clear();
  }

  private regionAt(h: number, idx: number): RegionState | 'none' | 'mixed' {
    const lo = idx * 2 ** h, hi = lo + 2 ** h;
    for (const r of this.regions) {
      const rEnd = r.first + 2 ** r.height;
      if (r.first <= lo && hi <= rEnd) return r;
      if (r.first < hi && lo < rEnd) return 'mixed';
    }
    return 'none';
  }

  private frozenLevels(r: RegionState): Uint8Array[] {
    if (!r.levels) {
      const bytes = this.bytesOf(r.first, r.height);
      r.levels = buildLevels(bytes.subarray(0, 32 * (lastNonZeroLeaf(bytes) + 1)), r.height, false);
    }
    return r.levels;
  }

  /** Node (h, i) inside a frozen region known by its cut tree: above the cut from its levels, below it by hashing one chunk. */
  private treeNode(r: RegionState, h: number, i: number): Uint8Array {
    const t = r.tree!;
    let level: Uint8Array;
    if (h >= t.height) level = r.upper![h - t.height]!;
    else {
      const c = Math.floor(i / 2 ** (t.height - h));
      if (r.chunk?.index !== c) {
        const leaves = 2 ** t.height;
        const bytes = this.bytesOf(r.first + c * leaves, t.height);
        r.chunk = { index: c, levels: buildLevels(bytes, t.height, true) };
      }
      level = r.chunk.levels[h]!;
      i -= c * 2 ** (t.height - h);
    }
    return 32 * i < level.length ? level.subarray(32 * i, 32 * i + 32) : ZERO_HASHES[h]!;
  }

  /** The node of height h at index idx of the whole memory tree. */
  node(h: number, idx: number): Uint8Array {
    const key = h * 2 ** MEM_DEPTH + idx;
    const hit = this.upper.get(key);
    if (hit) return hit;
    const at = this.regionAt(h, idx);
    let v: Uint8Array;
    if (at === 'none') v = ZERO_HASHES[h]!;
    else if (at === 'mixed') v = hashPair(this.node(h - 1, 2 * idx), this.node(h - 1, 2 * idx + 1));
    else if (at.height === h) v = at.root;
    else if (at.tree) return this.treeNode(at, h, idx - at.first / 2 ** h);
    else {
      const levels = at.frozen ? this.frozenLevels(at) : at.levels!;
      const i = idx - at.first / 2 ** h;
      const level = levels[h]!;
      v = 32 * i < level.length ? level.subarray(32 * i, 32 * i + 32) : ZERO_HASHES[h]!;
      return v; // inside a region: not cached (tracked levels change in place)
    }
    this.upper.set(key, v);
    return v;
  }

  root(): Bytes32 {
    return this.node(MEM_DEPTH, 0).slice() as Bytes32;
  }

  /** Sibling hashes of leaf i from the bottom up (MEM_DEPTH of them). */
  proof(i: number): Bytes32[] {
    const out: Bytes32[] = [];
    for (let h = 0; h < MEM_DEPTH; h++) out.push(this.node(h, Math.floor(i / 2 ** h) ^ 1).slice() as Bytes32);
    return out;
  }
}
