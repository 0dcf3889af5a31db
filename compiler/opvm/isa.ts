/**
 * The OPVM instruction set (docs/opvm.md §1–§4): machine parameters, opcodes, and the fixed 32-byte
 * instruction encoding. Shared by the lowering (compiler/opvm/lower.ts), the interpreter and the
 * verifier (runtime/opvm/).
 */

export const REGS = 32;
export const MEM_DEPTH = 26;
export const LEAF_BYTES = 32;
export const INSN_BYTES = 32;
export const MEM_BYTES = 2 ** (MEM_DEPTH + 5);
export const MEM_LEAVES = 2 ** MEM_DEPTH;
export const HEADER_BYTES = 32 + 4 + 1 + 3 + 8 * REGS;
export const CANONICAL_NAN_F32 = 0x7fc00000;
/** Cap on a node's step count as stated in the game (docs/opvm.md §8). */
export const MAX_STEPS = 2n ** 48n;

/** A register index 0 … 31. */
export type Reg = number & { readonly __reg: unique symbol };
export const reg = (n: number): Reg => {
  if (!(Number.isInteger(n) && n >= 0 && n < REGS)) throw new RangeError(`register ${n} outside r0 … r${REGS - 1}`);
  return n as Reg;
};

export const Status = {
  Running: 0,
  Halted: 1,
  Unreachable: 2,
  Illegal: 3,
  DivByZero: 4,
  Overflow: 5,
  OutOfBounds: 6,
  Unaligned: 7,
} as const;
export type Status = (typeof Status)[keyof typeof Status];
export const STATUS_NAMES: Record<number, string> = {
  0: 'running', 1: 'halted', 2: 'unreachable', 3: 'illegal', 4: 'div-by-zero', 5: 'overflow', 6: 'out-of-bounds', 7: 'unaligned',
};

export const Op = {
  UNREACHABLE: 0x00, HALT: 0x01, JMP: 0x02, BRZ: 0x03, BRNZ: 0x04, MOV: 0x05, SELECT: 0x06,

  I32_ADD: 0x10, I32_SUB: 0x11, I32_MUL: 0x12, I32_DIV_S: 0x13, I32_DIV_U: 0x14, I32_REM_S: 0x15, I32_REM_U: 0x16,
  I32_AND: 0x17, I32_OR: 0x18, I32_XOR: 0x19, I32_SHL: 0x1a, I32_SHR_S: 0x1b, I32_SHR_U: 0x1c, I32_ROTL: 0x1d, I32_ROTR: 0x1e,
  I32_EQ: 0x1f, I32_NE: 0x20, I32_LT_S: 0x21, I32_LT_U: 0x22, I32_GT_S: 0x23, I32_GT_U: 0x24,
  I32_LE_S: 0x25, I32_LE_U: 0x26, I32_GE_S: 0x27, I32_GE_U: 0x28,
  I32_CLZ: 0x30, I32_CTZ: 0x31, I32_POPCNT: 0x32, I32_EQZ: 0x33, I32_EXTEND8_S: 0x34, I32_EXTEND16_S: 0x35,

  I64_ADD: 0x40, I64_SUB: 0x41, I64_MUL: 0x42, I64_DIV_S: 0x43, I64_DIV_U: 0x44, I64_REM_S: 0x45, I64_REM_U: 0x46,
  I64_AND: 0x47, I64_OR: 0x48, I64_XOR: 0x49, I64_SHL: 0x4a, I64_SHR_S: 0x4b, I64_SHR_U: 0x4c, I64_ROTL: 0x4d, I64_ROTR: 0x4e,
  I64_EQ: 0x4f, I64_NE: 0x50, I64_LT_S: 0x51, I64_LT_U: 0x52, I64_GT_S: 0x53, I64_GT_U: 0x54,
  I64_LE_S: 0x55, I64_LE_U: 0x56, I64_GE_S: 0x57, I64_GE_U: 0x58,
  I64_CLZ: 0x60, I64_CTZ: 0x61, I64_POPCNT: 0x62, I64_EQZ: 0x63, I64_EXTEND8_S: 0x64, I64_EXTEND16_S: 0x65, I64_EXTEND32_S: 0x66,

  F32_ADD: 0x70, F32_SUB: 0x71, F32_MUL: 0x72, F32_DIV: 0x73, F32_MIN: 0x74, F32_MAX: 0x75, F32_COPYSIGN: 0x76,
  F32_EQ: 0x77, F32_NE: 0x78, F32_LT: 0x79, F32_GT: 0x7a, F32_LE: 0x7b, F32_GE: 0x7c,
  F32_ABS: 0x80, F32_NEG: 0x81, F32_SQRT: 0x82, F32_CEIL: 0x83, F32_FLOOR: 0x84, F32_TRUNC: 0x85, F32_NEAREST: 0x86,

  I32_WRAP_I64: 0x90, I64_EXTEND_I32_S: 0x91, I64_EXTEND_I32_U: 0x92,
  I32_TRUNC_SAT_F32_S: 0x93, I32_TRUNC_SAT_F32_U: 0x94, I64_TRUNC_SAT_F32_S: 0x95, I64_TRUNC_SAT_F32_U: 0x96,
  F32_CONVERT_I32_S: 0x97, F32_CONVERT_I32_U: 0x98, F32_CONVERT_I64_S: 0x99, F32_CONVERT_I64_U: 0x9a,

  LOAD32: 0xa0, I32_LOAD8_S: 0xa1, I32_LOAD8_U: 0xa2, I32_LOAD16_S: 0xa3, I32_LOAD16_U: 0xa4,
  LOAD64: 0xa5, I64_LOAD8_S: 0xa6, I64_LOAD8_U: 0xa7, I64_LOAD16_S: 0xa8, I64_LOAD16_U: 0xa9, I64_LOAD32_S: 0xaa, I64_LOAD32_U: 0xab,
  STORE8: 0xb0, STORE16: 0xb1, STORE32: 0xb2, STORE64: 0xb3,
} as const;
export type Opcode = (typeof Op)[keyof typeof Op];

export const OP_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Op).map(([k, v]) => [v, k]));

export function isDefinedOpcode(op: number): boolean {
  return OP_NAMES.has(op);
}

/** Width in bytes of a load or store opcode, or 0 for an instruction without a data access. */
export function accessSize(op: number): 0 | 1 | 2 | 4 | 8 {
  switch (op) {
    case Op.I32_LOAD8_S: case Op.I32_LOAD8_U: case Op.I64_LOAD8_S: case Op.I64_LOAD8_U: case Op.STORE8: return 1;
    case Op.I32_LOAD16_S: case Op.I32_LOAD16_U: case Op.I64_LOAD16_S: case Op.I64_LOAD16_U: case Op.STORE16: return 2;
    case Op.LOAD32: case Op.I64_LOAD32_S: case Op.I64_LOAD32_U: case Op.STORE32: return 4;
    case Op.LOAD64: case Op.STORE64: return 8;
    default: return 0;
  }
}

export function isStore(op: number): boolean {
  return op >= Op.STORE8 && op <= Op.STORE64;
}

export function isBranch(op: number): boolean {
  return op === Op.JMP || op === Op.BRZ || op === Op.BRNZ;
}

export const FLAG_IMM = 1;

/** A decoded instruction (docs/opvm.md §3). */
export interface Insn {
  op: number;
  rd: number;
  ra: number;
  rb: number;
  rc: number;
  /** Operand B is `imm` rather than r[rb]. */
  immB: boolean;
  imm: bigint;
  off: number;
  target: number;
}

export function insn(op: Opcode, fields: Partial<Omit<Insn, 'op'>> = {}): Insn {
  return { op, rd: 0, ra: 0, rb: 0, rc: 0, immB: false, imm: 0n, off: 0, target: 0, ...fields };
}

/** Encode into `out` at byte offset `at` (32 bytes; ignored bytes written as zero). */
export function encodeInsn(i: Insn, out: Uint8Array = new Uint8Array(INSN_BYTES), at = 0): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset + at, INSN_BYTES);
  out.fill(0, at, at + INSN_BYTES);
  v.setUint8(0, i.op);
  v.setUint8(1, i.rd & 31);
  v.setUint8(2, i.ra & 31);
  v.setUint8(3, i.rb & 31);
  v.setUint8(4, i.rc & 31);
  v.setUint8(5, i.immB ? FLAG_IMM : 0);
  v.setBigUint64(8, BigInt.asUintN(64, i.imm), true);
  v.setUint32(16, i.off >>> 0, true);
  v.setUint32(20, i.target >>> 0, true);
  return out;
}

/** Decode any 32 bytes (every value is some instruction). */
export function decodeInsn(leaf: Uint8Array, at = 0): Insn {
  const v = new DataView(leaf.buffer, leaf.byteOffset + at, INSN_BYTES);
  return {
    op: v.getUint8(0), rd: v.getUint8(1) & 31, ra: v.getUint8(2) & 31, rb: v.getUint8(3) & 31, rc: v.getUint8(4) & 31,
    immB: (v.getUint8(5) & FLAG_IMM) !== 0, imm: v.getBigUint64(8, true), off: v.getUint32(16, true), target: v.getUint32(20, true),
  };
}

export function formatInsn(i: Insn): string {
  const name = OP_NAMES.get(i.op) ?? `op${i.op.toString(16)}`;
  const b = i.immB ? `#${i.imm}` : `r${i.rb}`;
  if (isBranch(i.op)) return i.op === Op.JMP ? `${name} @${i.target}` : `${name} r${i.ra}, @${i.target}`;
  if (accessSize(i.op)) return isStore(i.op) ? `${name} [r${i.ra}+${i.off}], ${b}` : `${name} r${i.rd}, [r${i.ra}+${i.off}]`;
  if (i.op === Op.SELECT) return `${name} r${i.rd}, r${i.rc} ? r${i.ra} : ${b}`;
  if (i.op === Op.MOV) return `${name} r${i.rd}, ${b}`;
  if (i.op === Op.HALT || i.op === Op.UNREACHABLE) return name;
  return `${name} r${i.rd}, r${i.ra}, ${b}`;
}
