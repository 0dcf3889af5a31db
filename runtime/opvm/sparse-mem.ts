/**
 * A reference OPVM memory: the full 2^26-leaf Merkle tree of a few non-zero leaves, computed recursively
 * from the definition (docs/commitments.md), independently of runtime/opvm/merkle-memory.ts. Used to
 * hand-build states and step proofs: `verify-step --chain`'s gas figures, the gas benchmark, the tests.
 */
import { MEM_DEPTH } from '../../compiler/opvm/isa.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { ZERO_HASHES } from '../../compiler/commit/merkle.ts';
import { hashPair } from '../../compiler/commit/keccak-pairs.ts';

/** A memory whose non-zero leaves are listed (leaf index → 32 bytes). */
export class SparseMem {
  readonly leaves = new Map<number, Uint8Array>();

  leaf(i: number): Uint8Array {
    return this.leaves.get(i) ?? new Uint8Array(32);
  }

  /** Write bytes at a byte address. */
  write(addr: number, bytes: Uint8Array): void {
    for (let k = 0; k < bytes.length; k++) {
      const a = addr + k;
      const i = Math.floor(a / 32);
      const l = this.leaf(i).slice();
      l[a % 32] = bytes[k]!;
      this.leaves.set(i, l);
    }
  }

  /** Hash of the subtree of height h at index idx. */
  node(h: number, idx: number): Uint8Array {
    const lo = idx * 2 ** h;
    const hi = lo + 2 ** h;
    let any = false;
    for (const i of this.leaves.keys()) if (i >= lo && i < hi) { any = true; break; }
    if (!any) return ZERO_HASHES[h]!;
    if (h === 0) return this.leaf(idx);
    return hashPair(this.node(h - 1, 2 * idx), this.node(h - 1, 2 * idx + 1));
  }

  root(): Bytes32 {
    return this.node(MEM_DEPTH, 0) as Bytes32;
  }

  /** Bottom-first sibling path of leaf i. */
  path(i: number): Uint8Array[] {
    return Array.from({ length: MEM_DEPTH }, (_, k) => this.node(k, Math.floor(i / 2 ** k) ^ 1));
  }
}
