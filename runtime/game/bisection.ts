/**
 * The bisection arithmetic of docs/game.md §4.1, shared by both phases and both parties: the cut points
 * of an interval, the hashes a submitter posts, and the segment an honest challenger chooses.
 */
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { toHex } from '../../converter/ir/keccak.ts';

import { MAX_DISSECTION, MIN_DISSECTION } from './options.ts';

/** p_j = lo + ⌊(hi − lo)·j / m⌋ for j = 0 … m, with m = min(k, hi − lo). */
export function cutPoints(lo: number, hi: number, k: number): number[] {
  if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && hi - lo >= 1)) throw new RangeError(`interval [${lo}, ${hi}] cannot be bisected`);
  if (!(Number.isInteger(k) && k >= MIN_DISSECTION && k <= MAX_DISSECTION)) throw new RangeError(`dissection ${k} outside ${MIN_DISSECTION} … ${MAX_DISSECTION}`);
  const m = Math.min(k, hi - lo);
  const span = BigInt(hi - lo);
  return Array.from({ length: m + 1 }, (_, j) => lo + Number((span * BigInt(j)) / BigInt(m)));
}

/** The hashes a submitter posts for [lo, hi]: its own hashes at the inner cut points. */
export function midsFor(lo: number, hi: number, k: number, hashAt: (p: number) => Bytes32): Bytes32[] {
  return cutPoints(lo, hi, k).slice(1, -1).map(hashAt);
}

/**
 * The segment an honest challenger chooses: the first whose end it disagrees with (its start is then
 * agreed). `claimedHi` is the submitter's hash at hi. Returns null when it agrees with every claim,
 * which cannot happen when it disagreed with the claim at hi.
 */
export function chooseSegment(lo: number, hi: number, k: number, mids: readonly Uint8Array[], claimedHi: Uint8Array, ownAt: (p: number) => Uint8Array): number | null {
  const points = cutPoints(lo, hi, k);
  const claims = [...mids, claimedHi];
  if (claims.length !== points.length - 1) throw new RangeError(`${mids.length} mids for ${points.length - 2} inner cut points`);
  for (let j = 0; j < claims.length; j++) if (toHex(ownAt(points[j + 1]!)) !== toHex(claims[j]!)) return j;
  return null;
}
