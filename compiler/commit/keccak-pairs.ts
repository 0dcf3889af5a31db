/**
 * Fast keccak256 (Ethereum padding 0x01…0x80, rate 136) specialised for Merkle hashing: every input is
 * exactly 64 bytes (left ‖ right), so it fits one block and one keccak-f[1600] permutation.
 *
 * keccak-f[1600] is generated here as WebAssembly with binaryen: 25 i64 lanes as locals, a loop over
 * the 24 rounds (theta, rho+pi, chi, iota; round constants from a 192-byte table at address 0), built,
 * optimised (level 3) and instantiated synchronously at module load (the build itself takes ~10 ms;
 * importing binaryen is the expensive part and the compiler already pays it).
 * The export `hashPairs(inPtr, outPtr, count)` hashes `count` consecutive 64-byte inputs into
 * consecutive 32-byte digests; in-place use (outPtr == inPtr) is safe because input i is read
 * completely before output i (which only overlaps inputs ≤ i) is written. A Merkle level of 2m leaves
 * is therefore exactly one hashPairs call over the same buffer.
 */
import { KECCAK_PAIRS_WASM_BASE64 } from './keccak-pairs-wasm.ts';

// The module is built by keccak-pairs-build.ts (binaryen) and embedded as base64 so that hashing does not
// load binaryen; compiler/test/keccak-pairs.test.ts checks the embedded bytes against a fresh build
// (regenerate with `node --import tsx compiler/commit/keccak-pairs-build.ts --write`).
const KECCAK_PAIRS_WASM = new Uint8Array(Buffer.from(KECCAK_PAIRS_WASM_BASE64, 'base64'));
const PAGE = 65536;
const MAX_PAGES = 65536;
/** Data starts after the round-constant table. */
const DATA = 256;
const instance = new WebAssembly.Instance(new WebAssembly.Module(KECCAK_PAIRS_WASM), {});
const exp = instance.exports as { mem: WebAssembly.Memory; hashPairs: (inPtr: number, outPtr: number, count: number) => void };
const wasmHashPairs = exp.hashPairs;
const memory = exp.mem;
let heap = new Uint8Array(memory.buffer);

/** Make wasm memory at least `bytes` long (refreshing the byte view after growth). */
function ensure(bytes: number): void {
  if (bytes > memory.buffer.byteLength) {
    const pages = Math.ceil((bytes - memory.buffer.byteLength) / PAGE);
    memory.grow(pages);
  }
  if (heap.buffer !== memory.buffer || heap.byteLength !== memory.buffer.byteLength) heap = new Uint8Array(memory.buffer);
}

/** Working chunk for hashPairsInto: 16384 pairs = 1 MiB of input per wasm call. */
const CHUNK_PAIRS = 16384;

/**
 * keccak256 of each consecutive 64-byte block of `level` (m = level.length / 64 blocks) into the
 * corresponding 32-byte slot of `out`: a Merkle level of 2m leaves → its m parents. `out` may alias
 * `level` (same buffer, same offset).
 */
export function hashPairsInto(level: Uint8Array, out: Uint8Array): void {
  if (level.length % 64 !== 0) throw new RangeError(`hashPairsInto: input length ${level.length} is not a multiple of 64`);
  const m = level.length / 64;
  if (out.length < 32 * m) throw new RangeError(`hashPairsInto: output holds ${out.length} bytes, ${32 * m} needed`);
  ensure(DATA + 64 * Math.min(m, CHUNK_PAIRS));
  for (let i = 0; i < m; i += CHUNK_PAIRS) {
    const k = Math.min(CHUNK_PAIRS, m - i);
    heap.set(level.subarray(64 * i, 64 * (i + k)), DATA);
    wasmHashPairs(DATA, DATA, k);
    out.set(heap.subarray(DATA, DATA + 32 * k), 32 * i);
  }
}

/** keccak256(left ‖ right) of two 32-byte nodes. */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32) throw new RangeError('hashPair: nodes must be 32 bytes');
  ensure(DATA + 64);
  heap.set(left, DATA);
  heap.set(right, DATA + 32);
  wasmHashPairs(DATA, DATA, 1);
  return heap.slice(DATA, DATA + 32);
}

/** keccak256 of exactly 64 bytes. */
export function keccak256of64(data: Uint8Array): Uint8Array {
  if (data.length !== 64) throw new RangeError(`keccak256of64: input is ${data.length} bytes, not 64`);
  return hashPair(data.subarray(0, 32), data.subarray(32));
}

/** Z[h]: root of an all-zero subtree of height h (same values as merkle.ts's ZERO_HASHES). */
export const ZERO_HASHES_FAST: readonly Uint8Array[] = (() => {
  const z: Uint8Array[] = [new Uint8Array(32)];
  for (let h = 1; h <= 64; h++) z.push(hashPair(z[h - 1]!, z[h - 1]!));
  return z;
})();

/**
 * Root of a depth-`depth` tree whose first leaves are the 32-byte leaves packed in `leaves` and the
 * rest zero (whole missing subtrees are ZERO_HASHES[h]) — equal to merkle.ts's merkleRoot. Depth
 * defaults to the smallest tree that holds the leaves. All levels are hashed in place in wasm memory.
 */
export function merkleRootFast(leaves: Uint8Array, depth?: number): Uint8Array {
  if (leaves.length % 32 !== 0) throw new RangeError(`merkleRootFast: leaves length ${leaves.length} is not a multiple of 32`);
  let n = leaves.length / 32;
  let d = depth ?? 0;
  if (depth === undefined) while (2 ** d < n) d++;
  if (!(Number.isInteger(d) && d >= 0 && d <= 64)) throw new RangeError(`merkleRootFast: bad depth ${depth}`);
  if (n > 2 ** d) throw new RangeError(`${n} leaves do not fit a tree of depth ${d}`);
  if (n === 0) return ZERO_HASHES_FAST[d]!.slice();
  ensure(DATA + 32 * (n + 1));
  heap.set(leaves, DATA);
  for (let h = 0; h < d; h++) {
    if (n & 1) {
      heap.set(ZERO_HASHES_FAST[h]!, DATA + 32 * n);
      n++;
    }
    wasmHashPairs(DATA, DATA, n >>> 1);
    n >>>= 1;
  }
  return heap.slice(DATA, DATA + 32);
}
