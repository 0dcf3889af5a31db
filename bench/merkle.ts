/**
 * Merkle hashing speed (issue target for the OPVM: ≥ 2 M keccak calls per second per core): the root of
 * 2^20 leaves (2^20 − 1 keccak256 calls on 64 bytes each) and the data root of a 32 MiB tensor.
 */
import { merkleRoot } from '../compiler/commit/merkle.ts';
import { dataRoot } from '../compiler/commit/tensor.ts';
import type { BenchResult } from './run.ts';

export async function benchMerkle(): Promise<BenchResult> {
  const n = 1 << 20;
  const leaves = Array.from({ length: n }, (_, i) => {
    const l = new Uint8Array(32);
    new DataView(l.buffer).setUint32(0, i);
    return l;
  });
  const t0 = performance.now();
  merkleRoot(leaves);
  const s = (performance.now() - t0) / 1000;
  const tensor = new Uint8Array(32 << 20).map((_, i) => i & 0xff);
  const t1 = performance.now();
  dataRoot(tensor);
  const s2 = (performance.now() - t1) / 1000;
  const rate = (n - 1) / s;
  return {
    name: 'merkle', ok: rate >= 2e6,
    figures: { keccak_per_s: Math.round(rate), root_2p20_leaves_s: +s.toFixed(2), data_root_32MiB_s: +s2.toFixed(2) },
    note: 'target ≥ 2 M keccak/s per core (OPVM issue); keccak-f in WebAssembly, one level per call',
  };
}
