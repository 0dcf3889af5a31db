/**
 * Hand-built OPVM states and honest step proofs for contract tests (docs/opvm.md §2, §5): a sparse
 * 2^26-leaf memory of a few non-zero leaves, the state header, and the proof an honest prover sends.
 * Written from the spec, independently of runtime/opvm/verify.ts (which the tests compare against).
 */
import type { Insn } from '../../compiler/opvm/isa.ts';
import { accessSize, encodeInsn, MEM_BYTES, MEM_DEPTH, MEM_LEAVES } from '../../compiler/opvm/isa.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { ZERO_HASHES } from '../../compiler/commit/merkle.ts';
import { hashPair } from '../../compiler/commit/keccak-pairs.ts';
import type { VmState } from '../../runtime/opvm/state.ts';
import { encodeHeader, stateHash } from '../../runtime/opvm/state.ts';
import type { StepProof } from '../../runtime/opvm/proof.ts';

/** A memory whose non-zero leaves are listed (leaf index → 32 bytes). */
export class SparseMem {
  readonly leaves = new Map<number, Uint8Array>();

  leaf(i: number): Uint8Array {
    return this.leaves.get(i) ?? new Uint8Array(32);
  }

  /** Write bytes at a byte address. */
  write(addr: number, bytes: Uint8Array): void {
    for (let k = 0; k < bytes.length; k++) {
      const a = addr + k;
      const i = Math.floor(a / 32);
      const l = this.leaf(i).slice();
      l[a % 32] = bytes[k]!;
      this.leaves.set(i, l);
    }
  }

  /** Hash of the subtree of height h at index idx. */
  node(h: number, idx: number): Uint8Array {
    const lo = idx * 2 ** h;
    const hi = lo + 2 ** h;
    let any = false;
    for (const i of this.leaves.keys()) if (i >= lo && i < hi) { any = true; break; }
    if (!any) return ZERO_HASHES[h]!;
    if (h === 0) return this.leaf(idx);
    return hashPair(this.node(h - 1, 2 * idx), this.node(h - 1, 2 * idx + 1));
  }

  root(): Bytes32 {
    return this.node(MEM_DEPTH, 0) as Bytes32;
  }

  /** Bottom-first sibling path of leaf i. */
  path(i: number): Uint8Array[] {
    return Array.from({ length: MEM_DEPTH }, (_, k) => this.node(k, Math.floor(i / 2 ** k) ^ 1));
  }
}

export interface BuiltStep {
  mem: SparseMem;
  pre: VmState;
  preHash: Bytes32;
  proof: StepProof;
}

/** A state with `insn` at leaf `pc`, extra memory contents, and the honest proof of its next step. */
export function buildStep(ins: Insn | Uint8Array, o: { regs?: readonly bigint[] | Record<number, bigint>; pc?: number; status?: number; data?: [number, Uint8Array][] } = {}): BuiltStep {
  const mem = new SparseMem();
  const pc = o.pc ?? 1000;
  for (const [a, b] of o.data ?? []) mem.write(a, b);
  if (pc < MEM_LEAVES) mem.leaves.set(pc, ins instanceof Uint8Array ? ins.slice() : encodeInsn(ins));
  const regs = new BigUint64Array(32);
  for (const [k, v] of Object.entries(o.regs ?? {})) regs[Number(k)] = BigInt.asUintN(64, v);
  const pre: VmState = { memRoot: mem.root(), pc, status: o.status ?? 0, regs };
  return { mem, pre, preHash: stateHash(pre), proof: honestProof(mem, pre) };
}

/** The proof an honest prover sends for the step from `pre` (docs/opvm.md §5). */
export function honestProof(mem: SparseMem, pre: VmState): StepProof {
  const p: StepProof = { header: encodeHeader(pre), insnLeaf: null, insnPath: null, dataLeaf: null, dataPath: null };
  if (pre.status !== 0 || pre.pc >= MEM_LEAVES) return p;
  const leaf = mem.leaf(pre.pc);
  p.insnLeaf = leaf;
  p.insnPath = mem.path(pre.pc);
  const size = accessSize(leaf[0]!);
  if (size) {
    const a = pre.regs[leaf[2]! & 31]! & 0xffffffffn;
    const off = BigInt(new DataView(leaf.buffer, leaf.byteOffset).getUint32(16, true));
    const ea = a + off;
    if (ea + BigInt(size) <= BigInt(MEM_BYTES) && ea % BigInt(size) === 0n) {
      const i = Number(ea / 32n);
      p.dataLeaf = mem.leaf(i);
      p.dataPath = mem.path(i);
    }
  }
  return p;
}
