/** keccak256 as the EVM computes it (not NIST SHA3-256). */
import { keccak_256 } from '@noble/hashes/sha3.js';

export type Hash32 = Uint8Array & { readonly __hash32: unique symbol };

export function keccak256(data: Uint8Array): Hash32 {
  return keccak_256(data) as Hash32;
}

/** Incremental keccak256 over chunks (large weights are hashed as they stream to disk). */
export function keccakStream(): { update(chunk: Uint8Array): void; digest(): Hash32 } {
  const h = keccak_256.create();
  return {
    update: (c) => { h.update(c); },
    digest: () => h.digest() as Hash32,
  };
}

export function toHex(b: Uint8Array): string {
  return '0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  const h = s.startsWith('0x') ? s.slice(2) : s;
  if (h.length % 2 !== 0 || /[^0-9a-fA-F]/.test(h)) throw new Error(`not a hex string: ${s.slice(0, 20)}…`);
  return new Uint8Array(Buffer.from(h, 'hex'));
}
