/**
 * Golden step vectors for every OPVM opcode with its edge cases (test-vectors/opvm-steps.json): each
 * vector is a tiny program whose leading MOVs set the operands, then the instruction under test; the
 * vector holds the proof of that one step (pre-state, packed proof, post-state). The contracts must map
 * every pre-state and proof to the same post-state.
 */
import type { Insn, Opcode } from '../../compiler/opvm/isa.ts';
import { encodeInsn, insn, MEM_BYTES, Op, OP_NAMES, STATUS_NAMES } from '../../compiler/opvm/isa.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { VmMemory } from '../opvm/memory.ts';
import { Tracer } from '../opvm/tracer.ts';
import { stateHash } from '../opvm/state.ts';
import { packProof } from '../opvm/proof.ts';

export interface StepVector {
  name: string;
  op: string;
  preState: string;
  postState: string;
  /** Packed proof (docs/opvm.md §5) as 0x-hex. */
  proof: string;
  status: string;
  /** rd after the step, as 0x-hex u64 (for instructions with a destination). */
  rd: string | null;
}

const CODE_AT = 1024; // leaf index of the first instruction
const DATA_AT = 64 * 1024; // byte address of the data area
const F = (x: number) => { const b = new DataView(new ArrayBuffer(4)); b.setFloat32(0, x); return BigInt(b.getUint32(0)); };
const u32 = (x: number) => BigInt(x >>> 0);
const u64 = (x: bigint) => BigInt.asUintN(64, x);

interface Case {
  name: string;
  /** Register values before the instruction (r1, r2, r3 are A, B, C). */
  regs: bigint[];
  insn: Insn;
  /** Bytes at DATA_AT before the instruction. */
  data?: Uint8Array;
  /** Prove the step after the instruction instead (fixed points, a fetch out of bounds). */
  next?: boolean;
}

function vectorOf(c: Case): StepVector {
  const prog: Insn[] = c.regs.map((v, i) => insn(Op.MOV, { rd: i + 1, immB: true, imm: v }));
  prog.push(c.insn);
  const mem = VmMemory.create(128 * 1024);
  const code = new Uint8Array(prog.length * 32);
  prog.forEach((p, i) => encodeInsn(p, code, 32 * i));
  mem.write(CODE_AT * 32, code);
  if (c.data) mem.write(DATA_AT, c.data);
  const t = new Tracer({ mem, pc: CODE_AT });
  t.runToEnd(prog.length + 1);
  const { pre, post, proof } = t.proveStep(prog.length - (c.next ? 0 : 1));
  return {
    name: c.name, op: OP_NAMES.get(c.insn.op) ?? `0x${c.insn.op.toString(16)}`,
    preState: toHex(stateHash(pre)), postState: toHex(stateHash(post)), proof: toHex(packProof(proof)),
    status: STATUS_NAMES[post.status] ?? String(post.status),
    rd: post.status === 0 ? `0x${post.regs[c.insn.rd]!.toString(16).padStart(16, '0')}` : null,
  };
}

const I32_EDGE: [bigint, bigint][] = [
  [5n, 3n], [u32(-7), 2n], [0x7fffffffn, 1n], [0x80000000n, 0xffffffffn], [0x80000000n, 0n], [0xffffffffn, 32n],
  [1n, 33n], [0x12345678n, 0x9abcdef0n],
];
const I64_EDGE: [bigint, bigint][] = [
  [5n, 3n], [u64(-7n), 2n], [0x7fffffffffffffffn, 1n], [0x8000000000000000n, u64(-1n)], [0x8000000000000000n, 0n],
  [u64(-1n), 64n], [1n, 65n], [0x0123456789abcdefn, 0xfedcba9876543210n],
];
const NAN = 0x7fc00000n, NEG_NAN_PAYLOAD = 0xffc00123n;
const F32_EDGE: [bigint, bigint][] = [
  [F(1.5), F(2.25)], [NAN, F(1)], [NEG_NAN_PAYLOAD, F(1)], [F(Infinity), F(-Infinity)], [F(0), F(-0)], [F(-0), F(0)],
  [1n, 1n] /* min subnormals */, [0x007fffffn, 0x00000001n] /* max subnormal + min subnormal */, [F(1), 0x33800000n] /* 1 + 2^-24: tie */,
  [0x7f7fffffn, 0x7f7fffffn] /* max finite: overflow */, [F(1), F(3)], [F(-2), F(0)],
];

function binaryCases(): Case[] {
  const out: Case[] = [];
  const ops = (lo: number, hi: number) => Object.entries(Op).filter(([, v]) => v >= lo && v <= hi) as [string, Opcode][];
  for (const [name, op] of ops(0x10, 0x28)) I32_EDGE.forEach(([a, b], i) => out.push({ name: `${name}#${i}`, regs: [a, b], insn: insn(op, { rd: 4, ra: 1, rb: 2 }) }));
  for (const [name, op] of ops(0x40, 0x58)) I64_EDGE.forEach(([a, b], i) => out.push({ name: `${name}#${i}`, regs: [a, b], insn: insn(op, { rd: 4, ra: 1, rb: 2 }) }));
  for (const [name, op] of ops(0x70, 0x7c)) F32_EDGE.forEach(([a, b], i) => out.push({ name: `${name}#${i}`, regs: [a, b], insn: insn(op, { rd: 4, ra: 1, rb: 2 }) }));
  // IMM operand B, and a 32-bit result zero-extended over a register whose high half was set.
  out.push({ name: 'I32_ADD-imm', regs: [0xffffffff00000005n], insn: insn(Op.I32_ADD, { rd: 1, ra: 1, immB: true, imm: 0xfffffffffffffffen }) });
  return out;
}

function unaryCases(): Case[] {
  const out: Case[] = [];
  const ops = (lo: number, hi: number) => Object.entries(Op).filter(([, v]) => v >= lo && v <= hi) as [string, Opcode][];
  const i32v = [0n, 1n, 0x80000000n, 0xffffffffn, 0x00f00080n, 0x7fffn];
  const i64v = [0n, 1n, 0x8000000000000000n, u64(-1n), 0x00000000ffff8080n, 0x0000000180000000n];
  const f32v = [NAN, NEG_NAN_PAYLOAD, F(Infinity), F(-Infinity), F(0), F(-0), 1n, 0x007fffffn, F(2.5), F(-2.5), F(3.5), F(-0.5), F(1e10), F(-3e9), F(4.5e18), F(2 ** 63), F(-(2 ** 31)), F(2 ** 32), F(16777217)];
  for (const [name, op] of ops(0x30, 0x35)) i32v.forEach((a, i) => out.push({ name: `${name}#${i}`, regs: [a], insn: insn(op, { rd: 4, ra: 1 }) }));
  for (const [name, op] of ops(0x60, 0x66)) i64v.forEach((a, i) => out.push({ name: `${name}#${i}`, regs: [a], insn: insn(op, { rd: 4, ra: 1 }) }));
  for (const [name, op] of ops(0x80, 0x86)) f32v.forEach((a, i) => out.push({ name: `${name}#${i}`, regs: [a], insn: insn(op, { rd: 4, ra: 1 }) }));
  const conv: [string, Opcode, bigint[]][] = [
    ['I32_WRAP_I64', Op.I32_WRAP_I64, i64v], ['I64_EXTEND_I32_S', Op.I64_EXTEND_I32_S, i32v], ['I64_EXTEND_I32_U', Op.I64_EXTEND_I32_U, i32v],
    ['I32_TRUNC_SAT_F32_S', Op.I32_TRUNC_SAT_F32_S, f32v], ['I32_TRUNC_SAT_F32_U', Op.I32_TRUNC_SAT_F32_U, f32v],
    ['I64_TRUNC_SAT_F32_S', Op.I64_TRUNC_SAT_F32_S, f32v], ['I64_TRUNC_SAT_F32_U', Op.I64_TRUNC_SAT_F32_U, f32v],
    ['F32_CONVERT_I32_S', Op.F32_CONVERT_I32_S, [...i32v, 16777217n, 0x7fffffc1n]],
    ['F32_CONVERT_I32_U', Op.F32_CONVERT_I32_U, [...i32v, 16777217n, 0xffffff7fn, 0xffffff80n]],
    ['F32_CONVERT_I64_S', Op.F32_CONVERT_I64_S, [...i64v, (1n << 53n) + 1n, (1n << 60n) + (1n << 36n) + 1n, u64(-((1n << 60n) + (1n << 36n)))]],
    ['F32_CONVERT_I64_U', Op.F32_CONVERT_I64_U, [...i64v, (1n << 53n) + 1n, 0xffffff7fffffffffn, 0xffffff8000000000n]],
  ];
  for (const [name, op, vals] of conv) vals.forEach((a, i) => out.push({ name: `${name}#${i}`, regs: [a], insn: insn(op, { rd: 4, ra: 1 }) }));
  return out;
}

function controlAndMemoryCases(): Case[] {
  const data = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 0x81) & 0xff);
  const at = BigInt(DATA_AT);
  const out: Case[] = [
    { name: 'UNREACHABLE', regs: [], insn: insn(Op.UNREACHABLE) },
    { name: 'HALT', regs: [], insn: insn(Op.HALT) },
    { name: 'illegal-0xff', regs: [], insn: { ...insn(Op.HALT), op: 0xff } },
    { name: 'JMP', regs: [], insn: insn(Op.JMP, { target: 7 }) },
    { name: 'BRZ-taken', regs: [0xffffffff00000000n], insn: insn(Op.BRZ, { ra: 1, target: 9 }) },
    { name: 'BRZ-not-taken', regs: [1n], insn: insn(Op.BRZ, { ra: 1, target: 9 }) },
    { name: 'BRNZ-taken', regs: [1n], insn: insn(Op.BRNZ, { ra: 1, target: 9 }) },
    { name: 'BRNZ-not-taken', regs: [0n], insn: insn(Op.BRNZ, { ra: 1, target: 9 }) },
    { name: 'MOV-reg', regs: [0x0123456789abcdefn], insn: insn(Op.MOV, { rd: 5, rb: 1 }) },
    { name: 'MOV-imm', regs: [], insn: insn(Op.MOV, { rd: 5, immB: true, imm: 0xfedcba9876543210n }) },
    { name: 'SELECT-true', regs: [11n, 22n, 0x100000001n], insn: insn(Op.SELECT, { rd: 4, ra: 1, rb: 2, rc: 3 }) },
    { name: 'SELECT-false-high-bits', regs: [11n, 22n, 0x100000000n], insn: insn(Op.SELECT, { rd: 4, ra: 1, rb: 2, rc: 3 }) },
    { name: 'fetch-out-of-bounds', regs: [], insn: insn(Op.JMP, { target: 2 ** 26 }), next: true },
    { name: 'halted-fixed-point', regs: [], insn: insn(Op.HALT), next: true },
    { name: 'trapped-fixed-point', regs: [], insn: insn(Op.UNREACHABLE), next: true },
  ];
  const loads: [string, Opcode, number][] = [
    ['LOAD32', Op.LOAD32, 4], ['I32_LOAD8_S', Op.I32_LOAD8_S, 1], ['I32_LOAD8_U', Op.I32_LOAD8_U, 1], ['I32_LOAD16_S', Op.I32_LOAD16_S, 2],
    ['I32_LOAD16_U', Op.I32_LOAD16_U, 2], ['LOAD64', Op.LOAD64, 8], ['I64_LOAD8_S', Op.I64_LOAD8_S, 1], ['I64_LOAD8_U', Op.I64_LOAD8_U, 1],
    ['I64_LOAD16_S', Op.I64_LOAD16_S, 2], ['I64_LOAD16_U', Op.I64_LOAD16_U, 2], ['I64_LOAD32_S', Op.I64_LOAD32_S, 4], ['I64_LOAD32_U', Op.I64_LOAD32_U, 4],
  ];
  for (const [name, op, size] of loads) {
    out.push({ name: `${name}-aligned`, regs: [at], insn: insn(op, { rd: 4, ra: 1, off: 8 }), data });
    out.push({ name: `${name}-last-in-leaf`, regs: [at + BigInt(32 - size)], insn: insn(op, { rd: 4, ra: 1 }), data });
    if (size > 1) out.push({ name: `${name}-unaligned`, regs: [at + 1n], insn: insn(op, { rd: 4, ra: 1 }), data });
    out.push({ name: `${name}-out-of-bounds`, regs: [BigInt(MEM_BYTES - size) + 0x100000000n], insn: insn(op, { rd: 4, ra: 1, off: size }), data });
  }
  const stores: [string, Opcode, number][] = [['STORE8', Op.STORE8, 1], ['STORE16', Op.STORE16, 2], ['STORE32', Op.STORE32, 4], ['STORE64', Op.STORE64, 8]];
  for (const [name, op, size] of stores) {
    out.push({ name: `${name}-reg`, regs: [at, 0x8877665544332211n], insn: insn(op, { ra: 1, rb: 2, off: 16 }), data });
    out.push({ name: `${name}-imm`, regs: [at], insn: insn(op, { ra: 1, immB: true, imm: 0xf0e0d0c0b0a09080n, off: 32 - size }), data });
    out.push({ name: `${name}-far-sparse`, regs: [BigInt(MEM_BYTES - 64)], insn: insn(op, { ra: 1, immB: true, imm: 0xabn }) });
    if (size > 1) out.push({ name: `${name}-unaligned`, regs: [at + 1n, 1n], insn: insn(op, { ra: 1, rb: 2 }), data });
    out.push({ name: `${name}-out-of-bounds`, regs: [BigInt(MEM_BYTES), 1n], insn: insn(op, { ra: 1, rb: 2 }), data });
  }
  return out;
}

export function opcodeVectors(): StepVector[] {
  return [...controlAndMemoryCases(), ...binaryCases(), ...unaryCases()].map(vectorOf);
}
