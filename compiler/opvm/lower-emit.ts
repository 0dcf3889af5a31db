/**
 * Allocated virtual code → OPVM bytecode (32 bytes per instruction, docs/opvm.md §3). A constant in
 * operand position B uses IMM; a constant elsewhere, and every spilled operand, is first put in one of
 * the temporaries r29 – r31 (MOV, or LOAD64 from its spill slot); a spilled result is computed into r29
 * and stored to its slot with STORE64. Copies between values that share a register vanish. Branch
 * targets become absolute leaf indices (codeBase + instruction index). How many instructions come out
 * depends only on the code's structure and the allocation, never on constant or address values.
 */
import type { Insn } from './isa.ts';
import { encodeInsn, INSN_BYTES, insn, Op } from './isa.ts';
import type { VCode, VOperand } from './lower-vcode.ts';
import { isImm } from './lower-vcode.ts';
import type { Allocation } from './lower-regalloc.ts';

export const TEMPS = [29, 30, 31] as const;

export interface EmitOptions {
  codeBase: number;
  spillBase: number;
}

export interface Emitted {
  insns: Insn[];
  code: Uint8Array;
  /** Label id → index of the emitted instruction it precedes. */
  labelAt: number[];
}

export function emitCode(code: VCode, alloc: Allocation, o: EmitOptions): Emitted {
  const out: Insn[] = [];
  const pos = new Int32Array(code.insns.length + 1);
  const branches: { at: number; label: number }[] = [];
  const slotAddr = (loc: number) => o.spillBase + 8 * (-1 - loc);
  const locOf = (v: number): number => {
    const l = alloc.where[v];
    if (l === null || l === undefined) throw new RangeError(`virtual register ${v} has no location`);
    return l;
  };

  code.insns.forEach((vi, i) => {
    pos[i] = out.length;
    if (i === 2 && alloc.zeroReg >= 0) out.push(insn(Op.MOV, { rd: alloc.zeroReg, immB: true, imm: 0n }));
    if (i === 2) pos[i] = out.length;
    if (vi.op === Op.MOV && vi.rd >= 0 && vi.b && !isImm(vi.b) && locOf(vi.rd) === locOf(vi.b.reg)) return;
    let t = 0;
    const pre: Insn[] = [];
    const src = (opnd: VOperand): number => {
      if (isImm(opnd)) {
        const r = TEMPS[t++]!;
        pre.push(insn(Op.MOV, { rd: r, immB: true, imm: opnd.imm }));
        return r;
      }
      const l = locOf(opnd.reg);
      if (l >= 0) return l;
      const r = TEMPS[t++]!;
      pre.push(insn(Op.LOAD64, { rd: r, ra: alloc.zeroReg, off: slotAddr(l) }));
      return r;
    };
    const ra = vi.a ? src(vi.a) : 0;
    let rb = 0, immB = false, imm = 0n;
    if (vi.b) {
      if (isImm(vi.b)) { immB = true; imm = vi.b.imm; } else rb = src(vi.b);
    }
    const rc = vi.c ? src(vi.c) : 0;
    let rd = 0;
    let post: Insn | null = null;
    if (vi.rd >= 0) {
      const l = locOf(vi.rd);
      if (l >= 0) rd = l;
      else {
        rd = TEMPS[0];
        post = insn(Op.STORE64, { ra: alloc.zeroReg, rb: rd, off: slotAddr(l) });
      }
    }
    out.push(...pre);
    if (vi.label >= 0) branches.push({ at: out.length, label: vi.label });
    out.push(insn(vi.op, { rd, ra, rb, rc, immB, imm, off: vi.off }));
    if (post) out.push(post);
  });
  pos[code.insns.length] = out.length;
  for (const { at, label } of branches) out[at]!.target = o.codeBase + pos[code.labels[label]!]!;
  const bytes = new Uint8Array(out.length * INSN_BYTES);
  out.forEach((x, i) => encodeInsn(x, bytes, i * INSN_BYTES));
  return { insns: out, code: bytes, labelAt: code.labels.map((l) => pos[l]!) };
}
