/**
 * Graph states (docs/commitments.md): S_k is the Merkle root over the tensor slots of a canonical graph
 * (slot i = tensor id i), each leaf the tensor's commitment once it is defined in state k, else zero.
 * The tree keeps every level, so setting a slot updates its path only (depth hashes).
 */
import type { Bytes32 } from './merkle.ts';
import { depthFor, ZERO_HASHES } from './merkle.ts';
import { hashPair } from './keccak-pairs.ts';

export class SlotTree {
  readonly depth: number;
  /** levels[h][i]: node i at height h (leaves at h = 0); missing nodes are zero subtrees. */
  private readonly levels: Map<number, Uint8Array>[];

  constructor(readonly slots: number) {
    this.depth = depthFor(slots);
    this.levels = Array.from({ length: this.depth + 1 }, () => new Map());
  }

  private node(h: number, i: number): Uint8Array {
    return this.levels[h]!.get(i) ?? ZERO_HASHES[h]!;
  }

  clone(): SlotTree {
    const t = new SlotTree(this.slots);
    this.levels.forEach((m, h) => { for (const [i, v] of m) t.levels[h]!.set(i, v); });
    return t;
  }

  get(slot: number): Uint8Array {
    return this.node(0, slot);
  }

  /** Set slot `slot` to a tensor commitment (or zero) and update the path to the root. */
  set(slot: number, value: Uint8Array): void {
    if (!(slot >= 0 && slot < this.slots)) throw new RangeError(`slot ${slot} outside 0 … ${this.slots - 1}`);
    if (value.length !== 32) throw new RangeError('slot values are 32 bytes');
    this.levels[0]!.set(slot, value);
    let i = slot;
    for (let h = 0; h < this.depth; h++) {
      const parent = hashPair(this.node(h, i & ~1), this.node(h, i | 1));
      i >>= 1;
      this.levels[h + 1]!.set(i, parent);
    }
  }

  root(): Bytes32 {
    return this.node(this.depth, 0) as Bytes32;
  }

  /** Sibling path of `slot`, bottom first. */
  proof(slot: number): Bytes32[] {
    const out: Bytes32[] = [];
    let i = slot;
    for (let h = 0; h < this.depth; h++) {
      out.push(this.node(h, i ^ 1) as Bytes32);
      i >>= 1;
    }
    return out;
  }
}
