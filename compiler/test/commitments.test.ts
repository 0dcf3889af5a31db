import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import { depthFor, leavesOf, merkleProof, merkleRoot, rootFromProof, ZERO_HASHES } from '../commit/merkle.ts';
import { commitTensor, dataRoot, u256 } from '../commit/tensor.ts';
import { SlotTree } from '../commit/graph-state.ts';

const leafArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

test('zero-subtree hashes are Ethereum\'s (deposit contract values)', () => {
  assert.equal(toHex(ZERO_HASHES[0]!), '0x' + '00'.repeat(32));
  assert.equal(toHex(ZERO_HASHES[1]!), '0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5');
  assert.equal(toHex(ZERO_HASHES[2]!), '0xb4c11951957c6f8f642c4af61cd6b24640fec6dc7fc607ee8206a99e92410d30');
});

test('root of explicit leaves: leaves are not hashed, inner = keccak(left ‖ right), zero padding', () => {
  const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2), c = new Uint8Array(32).fill(3);
  const cat = (x: Uint8Array, y: Uint8Array) => keccak256(new Uint8Array([...x, ...y]));
  assert.equal(toHex(merkleRoot([a])), toHex(a));
  assert.equal(toHex(merkleRoot([a, b])), toHex(cat(a, b)));
  assert.equal(toHex(merkleRoot([a, b, c])), toHex(cat(cat(a, b), cat(c, ZERO_HASHES[0]!))));
  assert.equal(toHex(merkleRoot([a], 2)), toHex(cat(cat(a, ZERO_HASHES[0]!), ZERO_HASHES[1]!)));
});

test('every proof verifies against the root, and a changed leaf or path does not (property)', () => {
  fc.assert(fc.property(fc.array(leafArb, { minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(7), (leaves, pick, extra) => {
    const d = depthFor(leaves.length) + (extra % 3);
    const root = toHex(merkleRoot(leaves, d));
    const i = pick % 2 ** d;
    const leaf = leaves[i] ?? ZERO_HASHES[0]!;
    const proof = merkleProof(leaves, i, d);
    assert.equal(proof.length, d);
    assert.equal(toHex(rootFromProof(leaf, i, proof)), root);
    const forged = leaf.slice();
    forged[0] ^= 1;
    assert.notEqual(toHex(rootFromProof(forged, i, proof)), root);
    if (d > 0) {
      const bad = proof.map((p) => p.slice());
      bad[d - 1]![31] ^= 1;
      assert.notEqual(toHex(rootFromProof(leaf, i, bad)), root);
    }
  }), { numRuns: 80 });
});

test('the slot tree updated slot by slot equals the root recomputed from scratch (property)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 70 }), fc.array(fc.tuple(fc.nat(), leafArb), { maxLength: 40 }), (n, writes) => {
    const t = new SlotTree(n);
    const leaves: Uint8Array[] = Array.from({ length: n }, () => new Uint8Array(32));
    for (const [s, v] of writes) {
      t.set(s % n, v);
      leaves[s % n] = v;
    }
    assert.equal(toHex(t.root()), toHex(merkleRoot(leaves, depthFor(n))));
    const i = writes.length ? writes[0]![0] % n : 0;
    assert.equal(toHex(rootFromProof(t.get(i), i, t.proof(i))), toHex(t.root()));
  }), { numRuns: 60 });
});

test('tensor commitments bind data, dtype and shape', () => {
  const bytes = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  assert.equal(leavesOf(bytes).length, 1);
  assert.equal(toHex(dataRoot(new Uint8Array(0))), '0x' + '00'.repeat(32), 'empty tensor: one zero leaf');
  const t = commitTensor('float32', [2, 3], bytes);
  const type = keccak256(new Uint8Array([...u256(1), ...u256(2), ...u256(2), ...u256(3)]));
  const manual = keccak256(new Uint8Array([...dataRoot(bytes), ...type]));
  assert.equal(toHex(t), toHex(manual));
  assert.notEqual(toHex(commitTensor('float32', [3, 2], bytes)), toHex(t), 'shape');
  assert.notEqual(toHex(commitTensor('int32', [2, 3], bytes)), toHex(t), 'dtype');
  const other = bytes.slice();
  other[23] ^= 0x80;
  assert.notEqual(toHex(commitTensor('float32', [2, 3], other)), toHex(t), 'data');
  const long = new Uint8Array(100).map((_, i) => i);
  assert.equal(toHex(dataRoot(long)), toHex(merkleRoot(leavesOf(long), 2)), '4 leaves, the last one zero-padded');
});
