/**
 * Each constant's data-root tree cut at height `CHUNK_HEIGHT` (docs/opvm.md §9): the nodes of that
 * height (one per 2^CHUNK_HEIGHT leaves = 32 KiB of weights) are kept in the compiled bundle
 * (`constant-tree.bin`), so a reader gets a weight's data root from a few thousand hashes instead of
 * hashing the whole tensor, and a Merkle path to any leaf of it from one 32 KiB chunk plus those nodes.
 * The compiler computes them while it computes the constant state (it hashes every constant once
 * anyway); a reader checks them against the manifest's constant state before trusting them.
 *
 * File: "OPMLCT01" ‖ u32 count ‖ per constant in slot order: u32 slot ‖ u8 chunkHeight ‖ u8 depth ‖
 * u16 0 ‖ u32 nodes ‖ nodes × 32 bytes (little-endian integers).
 */
import type { Graph } from '../../converter/ir/types.ts';
import type { Bytes32 } from './merkle.ts';
import { ZERO_HASHES } from './merkle.ts';
import { hashPair, hashPairsInto, merkleRootFast } from './keccak-pairs.ts';
import { SlotTree } from './graph-state.ts';
import { tensorCommitment } from './tensor.ts';

export const CONSTANT_TREE_FILE = 'constant-tree.bin';
export const CHUNK_HEIGHT = 10;
const MAGIC = 'OPMLCT01';

/** A data-root tree known from its nodes at height `height` (the rest of the tree above them is hashed on demand). */
export interface ChunkedTree {
  /** Depth of the whole tree (the data root's height). */
  depth: number;
  /** Height of `nodes` (≤ depth). */
  height: number;
  /** The first nodes of that height, 32 bytes each; the rest are zero subtrees. */
  nodes: Uint8Array;
}

/** Levels from `base` (nodes of height `baseHeight`, the rest zero subtrees) up to height `top`; levels[0] is base. */
export function levelsAbove(base: Uint8Array, baseHeight: number, top: number): Uint8Array[] {
  const levels: Uint8Array[] = [base];
  let n = base.length / 32;
  for (let l = baseHeight + 1; l <= top; l++) {
    const prev = levels[levels.length - 1]!;
    const m = (n + 1) >>> 1;
    const out = new Uint8Array(32 * Math.max(1, m));
    const pairs = n >>> 1;
    if (pairs) hashPairsInto(prev.subarray(0, 64 * pairs), out);
    if (n & 1) out.set(hashPair(prev.subarray(32 * (n - 1), 32 * n), ZERO_HASHES[l - 1]!), 32 * pairs);
    if (n === 0) out.set(ZERO_HASHES[l]!, 0);
    levels.push(out);
    n = Math.max(1, m);
  }
  return levels;
}

/** Root of a chunked tree. */
export function chunkedRoot(t: ChunkedTree): Bytes32 {
  return levelsAbove(t.nodes, t.height, t.depth).at(-1)!.slice(0, 32) as Bytes32;
}

/** The chunked tree of a tensor's bytes (the data root's tree, docs/commitments.md). */
export function chunkedTree(bytes: Uint8Array): ChunkedTree {
  const leaves = Math.max(1, Math.ceil(bytes.length / 32));
  let depth = 0;
  while (2 ** depth < leaves) depth++;
  const height = Math.min(CHUNK_HEIGHT, depth);
  const chunk = 32 * 2 ** height;
  const count = Math.ceil(leaves / 2 ** height);
  const nodes = new Uint8Array(32 * count);
  for (let i = 0; i < count; i++) {
    let part = bytes.subarray(i * chunk, Math.min(bytes.length, (i + 1) * chunk));
    if (part.length % 32 !== 0 || part.length === 0) {
      const p = new Uint8Array(Math.max(32, Math.ceil(part.length / 32) * 32));
      p.set(part);
      part = p;
    }
    nodes.set(merkleRootFast(part, height), 32 * i);
  }
  return { depth, height, nodes };
}

/** Every constant's chunked tree (slot → tree). */
export function constantTrees(g: Graph): Map<number, ChunkedTree> {
  const out = new Map<number, ChunkedTree>();
  for (const [id, c] of g.constants) out.set(id, chunkedTree(c.read()));
  return out;
}

export function encodeConstantTrees(trees: ReadonlyMap<number, ChunkedTree>): Uint8Array {
  const ids = [...trees.keys()].sort((a, b) => a - b);
  let size = 12;
  for (const id of ids) size += 12 + trees.get(id)!.nodes.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  v.setUint32(8, ids.length, true);
  let at = 12;
  for (const id of ids) {
    const t = trees.get(id)!;
    v.setUint32(at, id, true);
    v.setUint8(at + 4, t.height);
    v.setUint8(at + 5, t.depth);
    v.setUint32(at + 8, t.nodes.length / 32, true);
    out.set(t.nodes, at + 12);
    at += 12 + t.nodes.length;
  }
  return out;
}

/**
 * Decode a constant-tree file and check it against the graph's constants and the manifest's constant
 * state; null when it is missing, malformed or does not compose to that state.
 */
export function decodeConstantTrees(g: Graph, file: Uint8Array | null, constantStateHex: string | undefined): Map<number, ChunkedTree> | null {
  if (!file || !constantStateHex || file.length < 12 || new TextDecoder().decode(file.subarray(0, 8)) !== MAGIC) return null;
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const count = v.getUint32(8, true);
  const out = new Map<number, ChunkedTree>();
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 12 > file.length) return null;
    const id = v.getUint32(at, true), height = v.getUint8(at + 4), depth = v.getUint8(at + 5), n = v.getUint32(at + 8, true);
    if (at + 12 + 32 * n > file.length || height > depth || n > 2 ** (depth - height)) return null;
    out.set(id, { depth, height, nodes: file.slice(at + 12, at + 12 + 32 * n) });
    at += 12 + 32 * n;
  }
  if (at !== file.length || out.size !== g.constants.size) return null;
  const tree = new SlotTree(g.tensors.length);
  for (const id of g.constants.keys()) {
    const t = out.get(id);
    if (!t) return null;
    const tt = g.tensors[id]!;
    tree.set(id, tensorCommitment(tt.dtype, tt.shape, chunkedRoot(t)));
  }
  return '0x' + Buffer.from(tree.root()).toString('hex') === constantStateHex.toLowerCase() ? out : null;
}
