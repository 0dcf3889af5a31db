/**
 * Tensor commitments (docs/commitments.md): the data root is the Merkle root of the tensor's
 * little-endian bytes in 32-byte leaves, padded to a power-of-two number of leaves; the type hash binds
 * the dtype and the shape in EVM words, and the commitment binds both:
 *   typeHash = keccak256(u256(dtypeCode) ‖ u256(rank) ‖ u256(d_0) ‖ … ‖ u256(d_{rank−1}))
 *   T = keccak256(dataRoot ‖ typeHash).
 */
import type { DType } from '../../converter/ir/types.ts';
import { dtypeCode } from '../../converter/ir/dtype.ts';
import { keccak256 } from '../../converter/ir/keccak.ts';
import type { Bytes32 } from './merkle.ts';
import { depthFor, merkleRootOfBytes } from './merkle.ts';

export function dataRoot(bytes: Uint8Array): Bytes32 {
  const leaves = Math.max(1, Math.ceil(bytes.length / 32));
  if (bytes.length === leaves * 32) return merkleRootOfBytes(bytes, depthFor(leaves));
  const padded = new Uint8Array(leaves * 32);
  padded.set(bytes);
  return merkleRootOfBytes(padded, depthFor(leaves));
}

/** A 32-byte big-endian word of a non-negative safe integer. */
export function u256(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a word: ${n}`);
  const w = new Uint8Array(32);
  new DataView(w.buffer).setBigUint64(24, BigInt(n));
  return w;
}

/** keccak256(u256(dtypeCode) ‖ u256(rank) ‖ u256(d_0) ‖ …): the type part of a tensor commitment. */
export function typeHash(dtype: DType, shape: readonly number[]): Bytes32 {
  const b = new Uint8Array(32 * (2 + shape.length));
  b.set(u256(dtypeCode(dtype)), 0);
  b.set(u256(shape.length), 32);
  shape.forEach((d, i) => b.set(u256(d), 64 + 32 * i));
  return keccak256(b) as unknown as Bytes32;
}

/** T = keccak256(dataRoot ‖ typeHash): a verifier that knows a tensor's type hash opens T to its data root. */
export function tensorCommitment(dtype: DType, shape: readonly number[], root: Uint8Array): Bytes32 {
  const b = new Uint8Array(64);
  b.set(root, 0);
  b.set(typeHash(dtype, shape), 32);
  return keccak256(b) as unknown as Bytes32;
}

/** Commitment of a tensor given by its dtype, shape and little-endian bytes. */
export function commitTensor(dtype: DType, shape: readonly number[], bytes: Uint8Array): Bytes32 {
  return tensorCommitment(dtype, shape, dataRoot(bytes));
}
