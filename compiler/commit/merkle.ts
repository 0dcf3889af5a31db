/**
 * Binary keccak256 Merkle trees as docs/commitments.md specifies them (and as the contracts verify
 * them): 32-byte leaves, not hashed; inner node = keccak256(left ‖ right); missing leaves are zero and
 * whole missing subtrees are the precomputed zero-subtree hashes Z_h.
 */
import { keccak256 } from '../../converter/ir/keccak.ts';
import { hashPair, merkleRootFast } from './keccak-pairs.ts';

export type Bytes32 = Uint8Array & { readonly __bytes32: unique symbol };

export const LEAF_BYTES = 32;
export const MAX_DEPTH = 64;

function pair(l: Uint8Array, r: Uint8Array): Bytes32 {
  return hashPair(l, r) as Bytes32;
}

/** Z[h]: the root of an all-zero subtree of height h (Z[0] is the zero leaf). */
export const ZERO_HASHES: readonly Bytes32[] = (() => {
  const z: Bytes32[] = [new Uint8Array(32) as Bytes32];
  for (let h = 1; h <= MAX_DEPTH; h++) {
    const b = new Uint8Array(64);
    b.set(z[h - 1]!, 0);
    b.set(z[h - 1]!, 32);
    z.push(keccak256(b) as unknown as Bytes32);
  }
  return z;
})();

/** Depth of the smallest tree holding n leaves (at least one leaf: depth 0). */
export function depthFor(n: number): number {
  let d = 0;
  while (2 ** d < n) d++;
  return d;
}

/** Split bytes into 32-byte leaves, the last one zero-padded (at least one leaf). */
export function leavesOf(bytes: Uint8Array): Bytes32[] {
  const n = Math.max(1, Math.ceil(bytes.length / LEAF_BYTES));
  const out: Bytes32[] = [];
  for (let i = 0; i < n; i++) {
    const leaf = new Uint8Array(32);
    leaf.set(bytes.subarray(i * 32, Math.min(bytes.length, i * 32 + 32)));
    out.push(leaf as Bytes32);
  }
  return out;
}

/** Root of a depth-`depth` tree whose first leaves are `leaves` and the rest zero. */
export function merkleRoot(leaves: readonly Uint8Array[], depth = depthFor(leaves.length)): Bytes32 {
  if (leaves.length > 2 ** depth) throw new RangeError(`${leaves.length} leaves do not fit a tree of depth ${depth}`);
  const packed = new Uint8Array(32 * leaves.length);
  leaves.forEach((l, i) => packed.set(l, 32 * i));
  return merkleRootFast(packed, depth) as Bytes32;
}

/** Root of a tree whose leaves are `bytes` cut into 32-byte leaves (length a multiple of 32). */
export function merkleRootOfBytes(bytes: Uint8Array, depth: number): Bytes32 {
  return merkleRootFast(bytes, depth) as Bytes32;
}

/** Sibling hashes from the leaf up to the root (bottom first) for leaf `index`. */
export function merkleProof(leaves: readonly Uint8Array[], index: number, depth = depthFor(leaves.length)): Bytes32[] {
  if (!(index >= 0 && index < 2 ** depth)) throw new RangeError(`leaf ${index} outside a tree of depth ${depth}`);
  const proof: Bytes32[] = [];
  let level: Uint8Array[] = [...leaves];
  let i = index;
  for (let h = 0; h < depth; h++) {
    const sib = i ^ 1;
    proof.push((sib < level.length ? level[sib]! : ZERO_HASHES[h]!) as Bytes32);
    const next: Uint8Array[] = [];
    for (let j = 0; j < level.length; j += 2) next.push(pair(level[j]!, j + 1 < level.length ? level[j + 1]! : ZERO_HASHES[h]!));
    level = next;
    i >>= 1;
  }
  return proof;
}

/** The root implied by `leaf` at `index` and its sibling path (bit h of index: 1 = leaf side is right). */
export function rootFromProof(leaf: Uint8Array, index: number, proof: readonly Uint8Array[]): Bytes32 {
  let h = leaf;
  for (let k = 0; k < proof.length; k++) h = Math.floor(index / 2 ** k) % 2 ? pair(proof[k]!, h) : pair(h, proof[k]!);
  return h as Bytes32;
}
