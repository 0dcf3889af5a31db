/**
 * OPVM state and its header encoding (docs/opvm.md §2): memRoot ‖ pc (u32 BE) ‖ status ‖ 000000 ‖
 * r0 … r31 (u64 BE); the state hash is keccak256 of the 296-byte header.
 */
import { HEADER_BYTES, REGS } from '../../compiler/opvm/isa.ts';
import { keccak256 } from '../../converter/ir/keccak.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';

export interface VmState {
  readonly memRoot: Bytes32;
  readonly pc: number;
  readonly status: number;
  /** 32 registers. */
  readonly regs: BigUint64Array;
}

export function encodeHeader(s: VmState): Uint8Array {
  if (s.memRoot.length !== 32) throw new RangeError('memRoot must be 32 bytes');
  if (s.regs.length !== REGS) throw new RangeError(`a state has ${REGS} registers`);
  const out = new Uint8Array(HEADER_BYTES);
  const v = new DataView(out.buffer);
  out.set(s.memRoot, 0);
  v.setUint32(32, s.pc >>> 0, false);
  v.setUint8(36, s.status);
  for (let i = 0; i < REGS; i++) v.setBigUint64(40 + 8 * i, s.regs[i]!, false);
  return out;
}

export function decodeHeader(h: Uint8Array): VmState {
  if (h.length !== HEADER_BYTES) throw new RangeError(`a state header is ${HEADER_BYTES} bytes, got ${h.length}`);
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const regs = new BigUint64Array(REGS);
  for (let i = 0; i < REGS; i++) regs[i] = v.getBigUint64(40 + 8 * i, false);
  return { memRoot: h.slice(0, 32) as Bytes32, pc: v.getUint32(32, false), status: v.getUint8(36), regs };
}

export function stateHash(s: VmState): Bytes32 {
  return keccak256(encodeHeader(s)) as unknown as Bytes32;
}

export function statesEqual(a: VmState, b: VmState): boolean {
  if (a.pc !== b.pc || a.status !== b.status) return false;
  for (let i = 0; i < 32; i++) if (a.memRoot[i] !== b.memRoot[i]) return false;
  for (let i = 0; i < REGS; i++) if (a.regs[i] !== b.regs[i]) return false;
  return true;
}
