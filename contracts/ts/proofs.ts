/**
 * Hand-built OPVM states and honest step proofs for contract tests (docs/opvm.md §2, §5): a sparse
 * 2^26-leaf memory of a few non-zero leaves, the state header, and the proof an honest prover sends.
 * Written from the spec, independently of runtime/opvm/verify.ts (which the tests compare against).
 */
import type { Insn } from '../../compiler/opvm/isa.ts';
import { accessSize, encodeInsn, MEM_BYTES, MEM_LEAVES } from '../../compiler/opvm/isa.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import type { VmState } from '../../runtime/opvm/state.ts';
import { encodeHeader, stateHash } from '../../runtime/opvm/state.ts';
import type { StepProof } from '../../runtime/opvm/proof.ts';
import { SparseMem } from '../../runtime/opvm/sparse-mem.ts';

export { SparseMem };

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
