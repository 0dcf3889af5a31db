/**
 * Virtual OPVM code: the lowering's intermediate form between binaryen's flat IR and bytecode. Each
 * instruction is one OPVM opcode over *virtual* registers (wasm locals and fresh temporaries) whose
 * operands may still be constants in any position; register allocation (lower-regalloc.ts) maps the
 * virtual registers to r0 … r28 or spill slots, and emission (lower-emit.ts) materialises constants
 * and spilled operands in the temporaries r29 – r31. Branch targets are labels resolved at emission.
 */
import type { Opcode } from './isa.ts';
import { Op } from './isa.ts';

/** An operand: a virtual register or a 64-bit constant (already in register form: i32/f32 zero-extended). */
export type VOperand = { readonly reg: number } | { readonly imm: bigint };

export interface VInsn {
  readonly op: Opcode;
  /** Virtual register written, or -1. */
  readonly rd: number;
  readonly a: VOperand | null;
  readonly b: VOperand | null;
  readonly c: VOperand | null;
  /** Load/store address offset. */
  readonly off: number;
  /** Branch target label, or -1. */
  readonly label: number;
  /** Loop nesting depth (for spill weights). */
  readonly depth: number;
  /** What produced it, for error messages (a wasm instruction name). */
  readonly what: string;
}

/** A wasm `loop`: its label (placed at the loop's first instruction) and its wasm name, if it has one. */
export interface VLoop {
  readonly label: number;
  readonly name: string | null;
}

export interface VCode {
  readonly insns: VInsn[];
  /** Label id → index of the instruction it precedes (insns.length: the end). */
  readonly labels: number[];
  /** Every wasm loop, in code order: the only source of backward branches. */
  readonly loops: readonly VLoop[];
  /** Number of virtual registers (ids 0 … vregs − 1). */
  vregs: number;
}

export const isReg = (o: VOperand | null): o is { readonly reg: number } => o !== null && 'reg' in o;
export const isImm = (o: VOperand | null): o is { readonly imm: bigint } => o !== null && 'imm' in o;

/** Virtual registers an instruction reads. */
export function usesOf(i: VInsn): number[] {
  const u: number[] = [];
  if (isReg(i.a)) u.push(i.a.reg);
  if (isReg(i.b)) u.push(i.b.reg);
  if (isReg(i.c)) u.push(i.c.reg);
  return u;
}

/** Indices of the instructions control may reach after insn `at`. */
export function successors(code: VCode, at: number): number[] {
  const i = code.insns[at]!;
  switch (i.op) {
    case Op.JMP: return [code.labels[i.label]!];
    case Op.BRZ: case Op.BRNZ: return [at + 1, code.labels[i.label]!];
    case Op.HALT: case Op.UNREACHABLE: return [];
    default: return [at + 1];
  }
}
