/**
 * The OPVM memory's Merkle tree (runtime/opvm/merkle-memory.ts) against a plain reference: after random
 * writes into the dense part and beyond it (sparse leaves), with incremental updates, the root equals a
 * tree computed from scratch over every non-zero leaf, and every proof (dense, sparse, never-written
 * leaves) leads from its leaf to that root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MEM_DEPTH, MEM_LEAVES } from '../../compiler/opvm/isa.ts';
import { rootFromProof, ZERO_HASHES } from '../../compiler/commit/merkle.ts';
import { hashPair } from '../../compiler/commit/keccak-pairs.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { VmMemory } from '../opvm/memory.ts';
import { MerkleMemory } from '../opvm/merkle-memory.ts';

/** Root of the depth-MEM_DEPTH tree whose non-zero leaves are given (index → 32 bytes). */
function referenceRoot(leaves: Map<number, Uint8Array>): string {
  let level = new Map(leaves);
  for (let h = 0; h < MEM_DEPTH; h++) {
    const next = new Map<number, Uint8Array>();
    for (const i of level.keys()) {
      const p = Math.floor(i / 2);
      if (!next.has(p)) next.set(p, hashPair(level.get(2 * p) ?? ZERO_HASHES[h]!, level.get(2 * p + 1) ?? ZERO_HASHES[h]!));
    }
    level = next;
  }
  return toHex(level.get(0) ?? ZERO_HASHES[MEM_DEPTH]!);
}

function nonZeroLeaves(mem: VmMemory): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (let i = 0; i < mem.denseLeaves; i++) {
    const l = mem.leaf(i);
    if (l.some((b) => b !== 0)) out.set(i, l);
  }
  for (const [i, l] of mem.sparse) if (l.some((b) => b !== 0)) out.set(i, l.slice());
  return out;
}

const write = fc.record({
  leaf: fc.oneof(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 64, max: MEM_LEAVES - 1 }), fc.constantFrom(64, 65, 127, 128, MEM_LEAVES - 1)),
  at: fc.integer({ min: 0, max: 31 }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

test('Merkle memory: incremental roots and proofs equal a from-scratch tree (dense and sparse leaves)', () => {
  fc.assert(fc.property(fc.array(fc.array(write, { maxLength: 6 }), { minLength: 1, maxLength: 4 }), (rounds) => {
    const mem = VmMemory.create(64 * 32);
    mem.write(0, Uint8Array.from({ length: 100 }, (_, i) => i + 1));
    const tree = new MerkleMemory(mem);
    const dirty = new Uint8Array(mem.denseLeaves);
    for (const round of rounds) {
      let sparse = false;
      for (const w of round) {
        const n = Math.min(w.bytes.length, 32 - w.at);
        mem.write(32 * w.leaf + w.at, w.bytes.subarray(0, n));
        if (w.leaf < mem.denseLeaves) dirty[w.leaf] = 1; else sparse = true;
      }
      tree.updateDirty(dirty);
      if (sparse) tree.sparseChanged();
      const want = referenceRoot(nonZeroLeaves(mem));
      assert.equal(toHex(tree.root()), want);
      for (const i of [0, 1, 63, 64, 99999, MEM_LEAVES - 1, ...round.map((w) => w.leaf)]) {
        assert.equal(toHex(rootFromProof(mem.leaf(i), i, tree.proof(i))), want, `proof of leaf ${i}`);
      }
    }
  }), { numRuns: 60 });
});

test('Merkle memory: a full rebuild equals the incremental tree', () => {
  const mem = VmMemory.create(1024 * 32);
  const tree = new MerkleMemory(mem);
  const dirty = new Uint8Array(mem.denseLeaves);
  for (let k = 0; k < 200; k++) {
    const leaf = (k * 7919) % 1024;
    mem.write(32 * leaf + (k % 32), Uint8Array.of(k & 0xff));
    dirty[leaf] = 1;
    if (k % 17 === 0) tree.updateDirty(dirty);
  }
  tree.updateDirty(dirty);
  const incremental = toHex(tree.root());
  tree.rebuild();
  assert.equal(toHex(tree.root()), incremental);
  assert.equal(incremental, referenceRoot(nonZeroLeaves(mem)));
});
