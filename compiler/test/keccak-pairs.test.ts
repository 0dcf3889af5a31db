import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import { depthFor, ZERO_HASHES } from '../commit/merkle.ts';

/** Reference Merkle root straight from the spec with hash-wasm's keccak256 (independent of the fast path). */
function merkleRoot(leaves: readonly Uint8Array[], depth = depthFor(leaves.length)): Uint8Array {
  let level: Uint8Array[] = [...leaves];
  for (let h = 0; h < depth; h++) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(keccak256(new Uint8Array([...level[i]!, ...(level[i + 1] ?? ZERO_HASHES[h]!)])));
    level = next.length ? next : [ZERO_HASHES[h + 1]!];
  }
  return level[0] ?? ZERO_HASHES[depth]!;
}
import { hashPair, hashPairsInto, keccak256of64, merkleRootFast, ZERO_HASHES_FAST } from '../commit/keccak-pairs.ts';
import { buildKeccakPairsWasm } from '../commit/keccak-pairs-build.ts';
import { KECCAK_PAIRS_WASM_BASE64 } from '../commit/keccak-pairs-wasm.ts';

const block64 = fc.uint8Array({ minLength: 64, maxLength: 64 });

test('keccak256 of 64 zero bytes', () => {
  assert.equal(toHex(keccak256of64(new Uint8Array(64))), '0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5');
  assert.equal(toHex(keccak256of64(new Uint8Array(64).fill(0xff))), toHex(keccak256(new Uint8Array(64).fill(0xff))));
});

test('64-byte keccak256 equals hash-wasm keccak256 (random inputs)', () => {
  fc.assert(fc.property(block64, (b) => toHex(keccak256of64(b)) === toHex(keccak256(b))), { numRuns: 2000 });
});

test('hashPairsInto hashes every 64-byte block, chunked and in place', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 40 }), fc.integer(), (m, seed) => {
    const level = new Uint8Array(64 * m);
    let s = seed | 0;
    for (let i = 0; i < level.length; i++) { s = (Math.imul(s, 1103515245) + 12345) | 0; level[i] = s >>> 24; }
    const expected = Array.from({ length: m }, (_, i) => toHex(keccak256(level.subarray(64 * i, 64 * i + 64))));
    const out = new Uint8Array(32 * m);
    hashPairsInto(level, out);
    for (let i = 0; i < m; i++) assert.equal(toHex(out.subarray(32 * i, 32 * i + 32)), expected[i]);
    hashPairsInto(level, level); // aliasing
    for (let i = 0; i < m; i++) assert.equal(toHex(level.subarray(32 * i, 32 * i + 32)), expected[i]);
  }), { numRuns: 50 });
  // more than one internal chunk (16384 pairs)
  const m = 40000, level = new Uint8Array(64 * m);
  for (let i = 0; i < level.length; i++) level[i] = (i * 131 + (i >>> 7)) & 0xff;
  const out = new Uint8Array(32 * m);
  hashPairsInto(level, out);
  for (const i of [0, 1, 16383, 16384, 16385, 32767, 32768, m - 1])
    assert.equal(toHex(out.subarray(32 * i, 32 * i + 32)), toHex(keccak256(level.subarray(64 * i, 64 * i + 64))));
  assert.throws(() => hashPairsInto(new Uint8Array(63), new Uint8Array(32)), RangeError);
  assert.throws(() => hashPairsInto(new Uint8Array(128), new Uint8Array(32)), RangeError);
});

test('zero-subtree hashes match merkle.ts', () => {
  for (let h = 0; h <= 64; h++) assert.equal(toHex(ZERO_HASHES_FAST[h]!), toHex(ZERO_HASHES[h]!));
  assert.equal(toHex(hashPair(ZERO_HASHES[3]!, ZERO_HASHES[3]!)), toHex(ZERO_HASHES[4]!));
});

test('merkleRootFast equals the reference Merkle root (random leaf counts and depths)', () => {
  const arb = fc.integer({ min: 0, max: 70 }).chain((n) => {
    let min = 0;
    while (2 ** min < n) min++;
    return fc.tuple(
      fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: n, maxLength: n }),
      fc.option(fc.integer({ min, max: min + 12 }), { nil: undefined }),
    );
  });
  fc.assert(fc.property(arb, ([leaves, depth]) => {
    const packed = new Uint8Array(32 * leaves.length);
    leaves.forEach((l, i) => packed.set(l, 32 * i));
    const before = toHex(packed);
    const fast = merkleRootFast(packed, depth);
    assert.equal(toHex(packed), before, 'input not modified');
    assert.equal(toHex(fast), toHex(depth === undefined ? merkleRoot(leaves) : merkleRoot(leaves, depth)));
  }), { numRuns: 300 });
  assert.equal(toHex(merkleRootFast(new Uint8Array(0), 64)), toHex(ZERO_HASHES[64]!));
  const one = new Uint8Array(32).fill(7);
  assert.equal(toHex(merkleRootFast(one, 64)), toHex(merkleRoot([one], 64)));
  assert.throws(() => merkleRootFast(new Uint8Array(32 * 5), 2), RangeError);
  assert.throws(() => merkleRootFast(new Uint8Array(31)), RangeError);
});

test('larger tree: 5000 leaves at depth 20', () => {
  const leaves: Uint8Array[] = [];
  const packed = new Uint8Array(32 * 5000);
  for (let i = 0; i < 5000; i++) { const l = new Uint8Array(32); l[0] = i & 0xff; l[31] = i >> 8; leaves.push(l); packed.set(l, 32 * i); }
  assert.equal(toHex(merkleRootFast(packed, 20)), toHex(merkleRoot(leaves, 20)));
});

test('every build variant (unroll, rowwise, unoptimised) computes the same keccak256', () => {
  const m = 37, inputs = new Uint8Array(64 * m);
  for (let i = 0; i < inputs.length; i++) inputs[i] = (i * 197 + 11) & 0xff;
  inputs.fill(0, 0, 64);
  const expected = Array.from({ length: m }, (_, i) => toHex(keccak256(inputs.subarray(64 * i, 64 * i + 64))));
  for (const unroll of [1, 2, 3, 24]) for (const rowwise of [true, false]) for (const optimize of [3, -1]) {
    const e = new WebAssembly.Instance(new WebAssembly.Module(buildKeccakPairsWasm({ unroll, rowwise, optimize })), {}).exports as
      { mem: WebAssembly.Memory; hashPairs: (i: number, o: number, n: number) => void };
    new Uint8Array(e.mem.buffer).set(inputs, 1024);
    e.hashPairs(1024, 1024, m);
    const h = new Uint8Array(e.mem.buffer);
    for (let i = 0; i < m; i++) assert.equal(toHex(h.subarray(1024 + 32 * i, 1024 + 32 * i + 32)), expected[i], `unroll ${unroll} rowwise ${rowwise} opt ${optimize} #${i}`);
  }
  assert.throws(() => buildKeccakPairsWasm({ unroll: 5 }), RangeError);
});

test('the embedded keccak module equals a fresh binaryen build (regenerate: keccak-pairs-build.ts --write)', () => {
  assert.equal(Buffer.from(buildKeccakPairsWasm()).toString('base64'), KECCAK_PAIRS_WASM_BASE64);
});
