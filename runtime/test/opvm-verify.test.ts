/**
 * runtime/opvm/verify.ts, the reference one-step verifier, on hand-built states and proofs: memory is a
 * sparse set of leaves whose root and sibling paths are computed from compiler/commit/merkle.ts's zero
 * hashes and pair hash (checked against merkleRoot/merkleProof on a dense prefix). Every instruction
 * class with hand-computed results, every trap, fixed points, and the rejection of wrong pre-states,
 * forged paths and missing or superfluous proof parts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Insn } from '../../compiler/opvm/isa.ts';
import { accessSize, encodeInsn, insn, MEM_BYTES, MEM_DEPTH, MEM_LEAVES, Op, OP_NAMES, Status } from '../../compiler/opvm/isa.ts';
import { merkleProof, merkleRoot, rootFromProof, ZERO_HASHES } from '../../compiler/commit/merkle.ts';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import type { VmState } from '../opvm/state.ts';
import { encodeHeader, stateHash } from '../opvm/state.ts';
import type { StepProof } from '../opvm/proof.ts';
import { packProof } from '../opvm/proof.ts';
import { verifyStep, VerifyError } from '../opvm/verify.ts';
import { SparseMem } from '../opvm/sparse-mem.ts';


const PC = 1000;

interface Setup {
  mem: SparseMem;
  pre: VmState;
  preHash: Uint8Array;
}

/** A running state whose memory holds `ins` at leaf `pc` and `data` at byte addresses. */
function setup(ins: Insn | Uint8Array, o: { regs?: Record<number, bigint>; pc?: number; status?: number; data?: [number, Uint8Array][] } = {}): Setup {
  const mem = new SparseMem();
  const pc = o.pc ?? PC;
  if (pc < MEM_LEAVES) mem.leaves.set(pc, ins instanceof Uint8Array ? ins : encodeInsn(ins));
  for (const [a, b] of o.data ?? []) mem.write(a, b);
  const regs = new BigUint64Array(32);
  for (const [k, v] of Object.entries(o.regs ?? {})) regs[Number(k)] = v;
  const pre: VmState = { memRoot: mem.root(), pc, status: o.status ?? 0, regs };
  return { mem, pre, preHash: stateHash(pre) };
}

/** The proof an honest prover sends (independent of verify.ts: written from docs/opvm.md §5). */
function honestProof(s: Setup): StepProof {
  const p: StepProof = { header: encodeHeader(s.pre), insnLeaf: null, insnPath: null, dataLeaf: null, dataPath: null };
  if (s.pre.status !== 0 || s.pre.pc >= MEM_LEAVES) return p;
  p.insnLeaf = s.mem.leaf(s.pre.pc);
  p.insnPath = s.mem.path(s.pre.pc);
  const op = p.insnLeaf[0]!;
  const size = accessSize(op);
  if (size) {
    const a = s.pre.regs[p.insnLeaf[2]! & 31]! & 0xffffffffn;
    const off = BigInt(new DataView(p.insnLeaf.buffer, p.insnLeaf.byteOffset).getUint32(16, true));
    const ea = a + off;
    if (ea + BigInt(size) <= BigInt(MEM_BYTES) && ea % BigInt(size) === 0n) {
      const i = Number(ea / 32n);
      p.dataLeaf = s.mem.leaf(i);
      p.dataPath = s.mem.path(i);
    }
  }
  return p;
}

/** Verify the honest proof of one step and return the post-state (checking postHash = stateHash(post)). */
function run(ins: Insn | Uint8Array, o: Parameters<typeof setup>[1] = {}): VmState & { s: Setup } {
  const s = setup(ins, o);
  const { postHash, post } = verifyStep(s.preHash, honestProof(s));
  assert.equal(toHex(postHash), toHex(stateHash(post)));
  return { ...post, s };
}

/** rd after one instruction r4 ← op(r1, r2) that must not trap. */
function rd(op: number, a: bigint, b = 0n, extra: Partial<Insn> = {}): bigint {
  const post = run(insn(op as never, { rd: 4, ra: 1, rb: 2, ...extra }), { regs: { 1: a, 2: b, 4: 0xdeadbeefdeadbeefn } });
  assert.equal(post.status, 0, `${OP_NAMES.get(op)} trapped`);
  assert.equal(post.pc, PC + 1);
  return post.regs[4]!;
}

function trapOf(op: number, a: bigint, b = 0n): number {
  const post = run(insn(op as never, { rd: 4, ra: 1, rb: 2 }), { regs: { 1: a, 2: b } });
  assert.equal(post.pc, PC, 'a trap leaves pc unchanged');
  assert.equal(post.regs[4], 0n, 'a trap leaves registers unchanged');
  assert.equal(toHex(post.memRoot), toHex(post.s.pre.memRoot));
  return post.status;
}

const rejects = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof VerifyError && re.test(e.message));
const u64 = (x: bigint) => BigInt.asUintN(64, x);
const u32 = (x: bigint) => BigInt.asUintN(32, x);
const hex = (x: bigint) => '0x' + x.toString(16);

// ---------------------------------------------------------------------------------------------------

test('the sparse test memory agrees with merkle.ts (dense prefix, depth 26)', () => {
  const mem = new SparseMem();
  const leaves = Array.from({ length: 37 }, (_, i) => keccak256(new Uint8Array([i])) as Uint8Array);
  leaves.forEach((l, i) => mem.leaves.set(i, l));
  assert.equal(toHex(mem.root()), toHex(merkleRoot(leaves, MEM_DEPTH)));
  for (const i of [0, 5, 36, 40]) {
    assert.deepEqual(mem.path(i).map(toHex), merkleProof(leaves, i, MEM_DEPTH).map(toHex));
    assert.equal(toHex(rootFromProof(mem.leaf(i), i, mem.path(i))), toHex(mem.root()));
  }
  assert.equal(toHex(new SparseMem().root()), toHex(ZERO_HASHES[MEM_DEPTH]!));
});

test('control: UNREACHABLE, HALT, JMP, BRZ/BRNZ on low 32 bits only, MOV, SELECT on low 32 bits of C', () => {
  let p = run(insn(Op.UNREACHABLE));
  assert.deepEqual([p.status, p.pc], [Status.Unreachable, PC]);
  p = run(new Uint8Array(32)); // an all-zero leaf is UNREACHABLE
  assert.equal(p.status, Status.Unreachable);
  p = run(insn(Op.HALT));
  assert.deepEqual([p.status, p.pc], [Status.Halted, PC]);
  p = run(insn(Op.JMP, { target: 0xfffffffe }));
  assert.deepEqual([p.status, p.pc], [0, 0xfffffffe]);
  // BRZ / BRNZ look at low32(A) only.
  assert.equal(run(insn(Op.BRZ, { ra: 3, target: 7 }), { regs: { 3: 0xffffffff00000000n } }).pc, 7);
  assert.equal(run(insn(Op.BRZ, { ra: 3, target: 7 }), { regs: { 3: 0x100000001n } }).pc, PC + 1);
  assert.equal(run(insn(Op.BRNZ, { ra: 3, target: 7 }), { regs: { 3: 0xffffffff00000000n } }).pc, PC + 1);
  assert.equal(run(insn(Op.BRNZ, { ra: 3, target: 7 }), { regs: { 3: 0x80000000n } }).pc, 7);
  // MOV copies all 64 bits; with IMM it loads the constant.
  assert.equal(rd(Op.MOV, 0n, 0xfedcba9876543210n), 0xfedcba9876543210n);
  assert.equal(rd(Op.MOV, 0n, 5n, { immB: true, imm: 0x8000000000000001n }), 0x8000000000000001n);
  // SELECT: rd ← low32(C) ≠ 0 ? A : B, all 64 bits.
  const sel = (c: bigint) => run(insn(Op.SELECT, { rd: 4, ra: 1, rb: 2, rc: 3 }), { regs: { 1: 0xaaaaaaaabbbbbbbbn, 2: 0xccccccccddddddddn, 3: c } }).regs[4];
  assert.equal(sel(1n), 0xaaaaaaaabbbbbbbbn);
  assert.equal(sel(0x100000000n), 0xccccccccddddddddn);
  assert.equal(sel(0x80000000n), 0xaaaaaaaabbbbbbbbn);
  assert.equal(run(insn(Op.SELECT, { rd: 4, ra: 1, rc: 3, immB: true, imm: 9n }), { regs: { 1: 1n, 3: 0n } }).regs[4], 9n);
});

test('i32 binary: wrap, signed/unsigned, shifts mod 32, results zero-extended over registers with high bits', () => {
  const H = 0xffffffff00000000n; // high bits in the operand registers must be ignored
  const cases: [number, bigint, bigint, bigint][] = [
    [Op.I32_ADD, H | 0xffffffffn, 2n, 1n],
    [Op.I32_SUB, 1n, H | 2n, 0xffffffffn],
    [Op.I32_MUL, 0x10000n, 0x10001n, 0x10000n],
    [Op.I32_MUL, 0xffffffffn, 0xffffffffn, 1n],
    [Op.I32_DIV_S, u32(-7n), 2n, u32(-3n)],
    [Op.I32_DIV_S, 7n, u32(-2n), u32(-3n)],
    [Op.I32_DIV_S, 0x80000000n, 2n, 0xc0000000n],
    [Op.I32_DIV_U, u32(-7n), 2n, 0x7ffffffcn],
    [Op.I32_REM_S, u32(-7n), 2n, u32(-1n)],
    [Op.I32_REM_S, 7n, u32(-2n), 1n],
    [Op.I32_REM_S, 0x80000000n, 0xffffffffn, 0n],
    [Op.I32_REM_U, u32(-7n), 2n, 1n],
    [Op.I32_AND, H | 0xf0f0n, 0xff00n, 0xf000n],
    [Op.I32_OR, 0xf0n, H | 0x0fn, 0xffn],
    [Op.I32_XOR, 0xffffffffn, 0x0f0f0f0fn, 0xf0f0f0f0n],
    [Op.I32_SHL, 1n, 33n, 2n],
    [Op.I32_SHL, 0x80000001n, 1n, 2n],
    [Op.I32_SHR_S, 0x80000000n, 31n, 0xffffffffn],
    [Op.I32_SHR_S, 0x80000000n, 32n, 0x80000000n],
    [Op.I32_SHR_U, 0x80000000n, 63n, 1n],
    [Op.I32_ROTL, 0x80000001n, 1n, 3n],
    [Op.I32_ROTL, 0x12345678n, 32n, 0x12345678n],
    [Op.I32_ROTR, 0x80000001n, 1n, 0xc0000000n],
    [Op.I32_ROTR, 0x12345678n, 4n, 0x81234567n],
    [Op.I32_EQ, H | 5n, 5n, 1n],
    [Op.I32_NE, H | 5n, 5n, 0n],
    [Op.I32_LT_S, 0xffffffffn, 0n, 1n],
    [Op.I32_LT_U, 0xffffffffn, 0n, 0n],
    [Op.I32_GT_S, 0xffffffffn, 0n, 0n],
    [Op.I32_GT_U, 0xffffffffn, 0n, 1n],
    [Op.I32_LE_S, 0x80000000n, 0x80000000n, 1n],
    [Op.I32_LE_U, 1n, 0n, 0n],
    [Op.I32_GE_S, 0x7fffffffn, 0x80000000n, 1n],
    [Op.I32_GE_U, 0x7fffffffn, 0x80000000n, 0n],
  ];
  for (const [op, a, b, want] of cases) assert.equal(hex(rd(op, a, b)), hex(want), `${OP_NAMES.get(op)}(${hex(a)}, ${hex(b)})`);
  // IMM operand: B is the low 32 bits of imm.
  assert.equal(rd(Op.I32_ADD, 0xffffffff00000005n, 0n, { immB: true, imm: 0xfffffffffffffffen }), 3n);
});

test('i32 unary', () => {
  const cases: [number, bigint, bigint][] = [
    [Op.I32_CLZ, 0n, 32n], [Op.I32_CLZ, 0xffffffff00000001n, 31n], [Op.I32_CLZ, 0x80000000n, 0n],
    [Op.I32_CTZ, 0n, 32n], [Op.I32_CTZ, 0x100000000n, 32n], [Op.I32_CTZ, 0x80000000n, 31n],
    [Op.I32_POPCNT, 0xffffffffffffffffn, 32n], [Op.I32_POPCNT, 0x00f00080n, 5n],
    [Op.I32_EQZ, 0x100000000n, 1n], [Op.I32_EQZ, 1n, 0n],
    [Op.I32_EXTEND8_S, 0x80n, 0xffffff80n], [Op.I32_EXTEND8_S, 0xffffff7fn, 0x7fn],
    [Op.I32_EXTEND16_S, 0x8000n, 0xffff8000n], [Op.I32_EXTEND16_S, 0x12347fffn, 0x7fffn],
  ];
  for (const [op, a, want] of cases) assert.equal(hex(rd(op, a)), hex(want), `${OP_NAMES.get(op)}(${hex(a)})`);
});

test('i64 binary and unary', () => {
  const MIN = 0x8000000000000000n;
  const cases: [number, bigint, bigint, bigint][] = [
    [Op.I64_ADD, u64(-1n), 2n, 1n],
    [Op.I64_SUB, 1n, 2n, u64(-1n)],
    [Op.I64_MUL, 0x100000000n, 0x100000001n, 0x100000000n],
    [Op.I64_MUL, u64(-1n), u64(-1n), 1n],
    [Op.I64_DIV_S, u64(-7n), 2n, u64(-3n)],
    [Op.I64_DIV_S, MIN, 2n, 0xc000000000000000n],
    [Op.I64_DIV_U, u64(-7n), 2n, 0x7ffffffffffffffcn],
    [Op.I64_REM_S, u64(-7n), 2n, u64(-1n)],
    [Op.I64_REM_S, MIN, u64(-1n), 0n],
    [Op.I64_REM_U, u64(-7n), 2n, 1n],
    [Op.I64_AND, 0xff00ff00ff00ff00n, 0x0ff00ff00ff00ff0n, 0x0f000f000f000f00n],
    [Op.I64_OR, 0xf0n, 0x0fn, 0xffn],
    [Op.I64_XOR, u64(-1n), 1n, u64(-2n)],
    [Op.I64_SHL, 1n, 65n, 2n],
    [Op.I64_SHR_S, MIN, 63n, u64(-1n)],
    [Op.I64_SHR_U, MIN, 127n, 1n],
    [Op.I64_ROTL, MIN | 1n, 1n, 3n],
    [Op.I64_ROTR, 1n, 1n, MIN],
    [Op.I64_ROTR, 0x0123456789abcdefn, 64n, 0x0123456789abcdefn],
    [Op.I64_EQ, 5n, 5n, 1n], [Op.I64_NE, 5n, 0x100000005n, 1n],
    [Op.I64_LT_S, u64(-1n), 0n, 1n], [Op.I64_LT_U, u64(-1n), 0n, 0n],
    [Op.I64_GT_S, u64(-1n), 0n, 0n], [Op.I64_GT_U, u64(-1n), 0n, 1n],
    [Op.I64_LE_S, MIN, MIN, 1n], [Op.I64_LE_U, 1n, 0n, 0n],
    [Op.I64_GE_S, MIN - 1n, MIN, 1n], [Op.I64_GE_U, MIN - 1n, MIN, 0n],
  ];
  for (const [op, a, b, want] of cases) assert.equal(hex(rd(op, a, b)), hex(want), `${OP_NAMES.get(op)}(${hex(a)}, ${hex(b)})`);
  const unary: [number, bigint, bigint][] = [
    [Op.I64_CLZ, 0n, 64n], [Op.I64_CLZ, 0x100000000n, 31n], [Op.I64_CTZ, 0n, 64n], [Op.I64_CTZ, 0x100000000n, 32n],
    [Op.I64_POPCNT, u64(-1n), 64n], [Op.I64_EQZ, 0n, 1n], [Op.I64_EQZ, MIN, 0n],
    [Op.I64_EXTEND8_S, 0x180n, u64(-128n)], [Op.I64_EXTEND16_S, 0x18000n, u64(-32768n)],
    [Op.I64_EXTEND32_S, 0x0000000180000000n, 0xffffffff80000000n], [Op.I64_EXTEND32_S, 0xffffffff7fffffffn, 0x7fffffffn],
  ];
  for (const [op, a, want] of unary) assert.equal(hex(rd(op, a)), hex(want), `${OP_NAMES.get(op)}(${hex(a)})`);
});

test('integer traps: division by zero (4), INT_MIN / −1 (5); pc, registers and memory unchanged', () => {
  for (const op of [Op.I32_DIV_S, Op.I32_DIV_U, Op.I32_REM_S, Op.I32_REM_U]) assert.equal(trapOf(op, 7n, 0xffffffff00000000n), Status.DivByZero);
  for (const op of [Op.I64_DIV_S, Op.I64_DIV_U, Op.I64_REM_S, Op.I64_REM_U]) assert.equal(trapOf(op, 7n, 0n), Status.DivByZero);
  assert.equal(trapOf(Op.I32_DIV_S, 0x80000000n, 0xffffffffn), Status.Overflow);
  assert.equal(trapOf(Op.I32_DIV_S, 0xffffffff80000000n, 0x00000000ffffffffn), Status.Overflow); // low 32 bits only
  assert.equal(trapOf(Op.I64_DIV_S, 0x8000000000000000n, u64(-1n)), Status.Overflow);
  // Not an overflow in 64 bits: low32-looking operands.
  assert.equal(hex(rd(Op.I64_DIV_S, 0x80000000n, 0xffffffffn)), hex(0n));
});

test('f32 arithmetic, comparisons and conversions (through softfloat.ts), NaN canonical, results zero-extended', () => {
  const H = 0xabcdef0100000000n;
  const one = 0x3f800000n, two = 0x40000000n, three = 0x40400000n;
  const cases: [number, bigint, bigint, bigint][] = [
    [Op.F32_ADD, H | 0x3fc00000n, 0x40100000n, 0x40700000n], // 1.5 + 2.25 = 3.75
    [Op.F32_ADD, one, 0x33800000n, one], // 1 + 2^-24: tie to even
    [Op.F32_ADD, 0x7f7fffffn, 0x7f7fffffn, 0x7f800000n], // overflow to +inf
    [Op.F32_ADD, 1n, 1n, 2n], // subnormals kept
    [Op.F32_SUB, 0x7f800000n, 0x7f800000n, 0x7fc00000n],
    [Op.F32_SUB, 0x80000000n, 0x80000000n, 0n],
    [Op.F32_MUL, one, 0xffc00123n, 0x7fc00000n], // NaN payload dropped
    [Op.F32_MUL, 0x00000001n, 0x3f000000n, 0n],
    [Op.F32_DIV, one, three, 0x3eaaaaabn],
    [Op.F32_DIV, one, 0x80000000n, 0xff800000n],
    [Op.F32_DIV, 0n, 0n, 0x7fc00000n],
    [Op.F32_MIN, 0x80000000n, 0n, 0x80000000n], [Op.F32_MIN, 0n, 0x80000000n, 0x80000000n],
    [Op.F32_MAX, 0x80000000n, 0n, 0n], [Op.F32_MIN, 0x7f800001n, one, 0x7fc00000n],
    [Op.F32_COPYSIGN, 0x7fc00123n, 0x80000000n, 0xffc00123n], // bits only, no canonicalisation
    [Op.F32_EQ, 0n, 0x80000000n, 1n], [Op.F32_EQ, 0x7fc00000n, 0x7fc00000n, 0n], [Op.F32_NE, 0x7fc00000n, 0x7fc00000n, 1n],
    [Op.F32_LT, 0xbf800000n, one, 1n], [Op.F32_GT, 0x7fc00000n, one, 0n], [Op.F32_LE, two, two, 1n], [Op.F32_GE, one, two, 0n],
  ];
  for (const [op, a, b, want] of cases) assert.equal(hex(rd(op, a, b)), hex(want), `${OP_NAMES.get(op)}(${hex(a)}, ${hex(b)})`);
  const unary: [number, bigint, bigint][] = [
    [Op.F32_ABS, 0xffc00123n, 0x7fc00123n], [Op.F32_NEG, H | 0x7fc00123n, 0xffc00123n],
    [Op.F32_SQRT, 0x40800000n, two], [Op.F32_SQRT, two, 0x3fb504f3n], [Op.F32_SQRT, 0x80000000n, 0x80000000n], [Op.F32_SQRT, 0xbf800000n, 0x7fc00000n],
    [Op.F32_CEIL, 0xbf000000n, 0x80000000n], [Op.F32_FLOOR, 0xbf000000n, 0xbf800000n], [Op.F32_TRUNC, 0x40600000n, 0x40400000n],
    [Op.F32_NEAREST, 0x40200000n, two], [Op.F32_NEAREST, 0x40600000n, 0x40800000n], [Op.F32_CEIL, 0x7fa00000n, 0x7fc00000n],
    // conversions
    [Op.I32_WRAP_I64, 0x123456789n, 0x23456789n],
    [Op.I64_EXTEND_I32_S, 0xffffffff80000000n, 0xffffffff80000000n], [Op.I64_EXTEND_I32_S, 0x1234567800000001n, 1n],
    [Op.I64_EXTEND_I32_U, 0xffffffff80000000n, 0x80000000n],
    [Op.I32_TRUNC_SAT_F32_S, 0xc0600000n, u32(-3n)], [Op.I32_TRUNC_SAT_F32_S, 0x7fc00000n, 0n], [Op.I32_TRUNC_SAT_F32_S, 0xff800000n, 0x80000000n],
    [Op.I32_TRUNC_SAT_F32_U, 0xc0600000n, 0n], [Op.I32_TRUNC_SAT_F32_U, 0x7f800000n, 0xffffffffn],
    [Op.I64_TRUNC_SAT_F32_S, 0xc0600000n, u64(-3n)], [Op.I64_TRUNC_SAT_F32_S, 0x7f800000n, 0x7fffffffffffffffn],
    [Op.I64_TRUNC_SAT_F32_U, 0x5f800000n, u64(-1n)], [Op.I64_TRUNC_SAT_F32_U, 0x4f800000n, 0x100000000n],
    [Op.F32_CONVERT_I32_S, 0xffffffffn, 0xbf800000n], [Op.F32_CONVERT_I32_S, 16777217n, 0x4b800000n],
    [Op.F32_CONVERT_I32_U, 0xffffffffn, 0x4f800000n], [Op.F32_CONVERT_I32_U, 0x1ffffffff00000003n & u64(-1n), three],
    [Op.F32_CONVERT_I64_S, u64(-1n), 0xbf800000n], [Op.F32_CONVERT_I64_S, (1n << 60n) + (1n << 36n) + 1n, 0x5d800001n],
    [Op.F32_CONVERT_I64_U, u64(-1n), 0x5f800000n],
  ];
  for (const [op, a, want] of unary) assert.equal(hex(rd(op, a)), hex(want), `${OP_NAMES.get(op)}(${hex(a)})`);
});

// ---------------------------------------------------------------------------------------------------
// Memory

const DATA = 64 * 1024; // byte address of a 32-byte test pattern
const PATTERN = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 0x81) & 0xff);

function load(op: number, ea: number, off = 0): bigint {
  return run(insn(op as never, { rd: 4, ra: 1, off }), { regs: { 1: BigInt(ea - off) | 0xffffffff00000000n, 4: u64(-1n) }, data: [[DATA, PATTERN]] }).regs[4]!;
}

test('loads: every width and extension, little-endian, base register high bits ignored', () => {
  // PATTERN bytes at DATA + 8: 0x29 0x4e 0x73 0x98 0xbd 0xe2 0x07 0x2c
  const le = (at: number, n: number) => { let v = 0n; for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(PATTERN[at + k]!); return v; };
  assert.equal(hex(load(Op.LOAD32, DATA + 8, 8)), hex(le(8, 4)));
  assert.equal(hex(load(Op.LOAD64, DATA + 8)), hex(le(8, 8)));
  assert.equal(hex(load(Op.LOAD64, DATA + 24)), hex(le(24, 8)));
  for (const at of [0, 3, 12, 31]) {
    const b = le(at, 1);
    const sb = BigInt.asIntN(8, b);
    assert.equal(load(Op.I32_LOAD8_U, DATA + at), b);
    assert.equal(load(Op.I32_LOAD8_S, DATA + at), u32(sb));
    assert.equal(load(Op.I64_LOAD8_U, DATA + at), b);
    assert.equal(load(Op.I64_LOAD8_S, DATA + at), u64(sb));
  }
  for (const at of [0, 2, 14, 30]) {
    const h = le(at, 2);
    assert.equal(load(Op.I32_LOAD16_U, DATA + at), h);
    assert.equal(load(Op.I32_LOAD16_S, DATA + at), u32(BigInt.asIntN(16, h)));
    assert.equal(load(Op.I64_LOAD16_U, DATA + at), h);
    assert.equal(load(Op.I64_LOAD16_S, DATA + at), u64(BigInt.asIntN(16, h)));
  }
  for (const at of [0, 4, 28]) {
    const w = le(at, 4);
    assert.equal(load(Op.LOAD32, DATA + at), w);
    assert.equal(load(Op.I64_LOAD32_U, DATA + at), w);
    assert.equal(load(Op.I64_LOAD32_S, DATA + at), u64(BigInt.asIntN(32, w)));
  }
  // PATTERN[0] = 0x81: negative byte
  assert.equal(hex(load(Op.I64_LOAD8_S, DATA)), hex(0xffffffffffffff81n));
  assert.equal(hex(load(Op.I32_LOAD8_S, DATA)), hex(0xffffff81n));
  // The last bytes of memory are addressable; a never-written leaf reads as zero.
  assert.equal(load(Op.LOAD64, MEM_BYTES - 8), 0n);
  assert.equal(load(Op.I32_LOAD8_U, MEM_BYTES - 1), 0n);
});

test('stores: bytes little-endian into the leaf, memRoot recomputed with the same path; IMM stores the immediate', () => {
  const cases: [number, number, bigint][] = [[Op.STORE8, 1, 0x8877665544332211n], [Op.STORE16, 2, 0x8877665544332211n], [Op.STORE32, 4, 0x8877665544332211n], [Op.STORE64, 8, 0x8877665544332211n]];
  for (const [op, size, v] of cases) {
    for (const at of [0, 32 - size, 16]) {
      const post = run(insn(op as never, { ra: 1, rb: 2, off: 4 }), { regs: { 1: BigInt(DATA + at - 4), 2: v }, data: [[DATA, PATTERN]] });
      const want = new SparseMem();
      want.leaves.set(PC, encodeInsn(insn(op as never, { ra: 1, rb: 2, off: 4 })));
      want.write(DATA, PATTERN);
      want.write(DATA + at, Uint8Array.from({ length: size }, (_, k) => Number((v >> BigInt(8 * k)) & 0xffn)));
      assert.equal(toHex(post.memRoot), toHex(want.root()), `${OP_NAMES.get(op)} at +${at}`);
      assert.equal(post.pc, PC + 1);
      assert.deepEqual([...post.regs], [...post.s.pre.regs]);
    }
  }
  // IMM: B is the immediate; the far end of memory (a never-written leaf).
  const post = run(insn(Op.STORE64, { ra: 1, immB: true, imm: 0x0102030405060708n }), { regs: { 1: BigInt(MEM_BYTES - 8) } });
  const want = new SparseMem();
  want.leaves.set(PC, encodeInsn(insn(Op.STORE64, { ra: 1, immB: true, imm: 0x0102030405060708n })));
  want.write(MEM_BYTES - 8, Uint8Array.from([8, 7, 6, 5, 4, 3, 2, 1]));
  assert.equal(toHex(post.memRoot), toHex(want.root()));
  // A store over its own instruction leaf changes memory, not the already-fetched instruction.
  const self = run(insn(Op.STORE8, { ra: 1, immB: true, imm: 0x42n }), { regs: { 1: BigInt(PC * 32 + 31) } });
  assert.equal(self.status, 0);
});

test('memory traps: bounds checked before alignment; ea = low32(A) + off without wrapping (up to 2^33 − 2)', () => {
  const t = (op: number, a: bigint, off: number) => {
    const post = run(insn(op as never, { rd: 4, ra: 1, rb: 2, off }), { regs: { 1: a, 2: 7n } });
    assert.equal(post.pc, PC);
    assert.equal(toHex(post.memRoot), toHex(post.s.pre.memRoot));
    assert.equal(post.regs[4], 0n);
    return post.status;
  };
  for (const op of [Op.LOAD32, Op.LOAD64, Op.I32_LOAD16_S, Op.STORE16, Op.STORE32, Op.STORE64]) {
    assert.equal(t(op, BigInt(DATA + 1), 0), Status.Unaligned, `${OP_NAMES.get(op)} unaligned`);
    assert.equal(t(op, BigInt(MEM_BYTES), 0), Status.OutOfBounds);
    assert.equal(t(op, 0xffffffffn, 0xffffffff), Status.OutOfBounds); // ea = 2^33 − 2: no wrap to a small address
    assert.equal(t(op, 0n, 0xffffffff), Status.OutOfBounds);
    assert.equal(t(op, BigInt(MEM_BYTES - 1), 0), Status.OutOfBounds); // both out of bounds and unaligned: bounds first
    assert.equal(t(op, 1n, MEM_BYTES - 1), Status.OutOfBounds);
  }
  for (const op of [Op.I32_LOAD8_U, Op.STORE8]) {
    assert.equal(t(op, BigInt(MEM_BYTES), 0), Status.OutOfBounds);
    assert.equal(t(op, 0xfffffffen, 2), Status.OutOfBounds); // low32 + off = 2^32
  }
  // A base with high bits set: only low32(A) counts, so 0x1_0000_0000 + DATA is in bounds.
  assert.equal(load(Op.LOAD32, DATA), load(Op.LOAD32, DATA, 0));
  const post = run(insn(Op.LOAD64, { rd: 4, ra: 1 }), { regs: { 1: 0x100000000n + BigInt(MEM_BYTES - 8) } });
  assert.equal(post.status, 0);
});

test('fetch with pc ≥ 2^26 traps 6 without an instruction leaf; pc = 2^26 − 1 is fetched', () => {
  for (const pc of [MEM_LEAVES, MEM_LEAVES + 1, 0xffffffff]) {
    const p = run(insn(Op.HALT), { pc });
    assert.deepEqual([p.status, p.pc], [Status.OutOfBounds, pc]);
  }
  const last = run(insn(Op.I32_ADD, { rd: 1, ra: 1, immB: true, imm: 1n }), { pc: MEM_LEAVES - 1 });
  assert.deepEqual([last.status, last.pc, last.regs[1]], [0, MEM_LEAVES, 1n]);
});

test('fixed points: a halted or trapped state steps to itself (header-only proof)', () => {
  for (const status of [Status.Halted, Status.Unreachable, Status.Illegal, Status.OutOfBounds, Status.Unaligned, 0xff]) {
    const s = setup(insn(Op.I32_ADD, { rd: 1 }), { status, regs: { 1: 5n } });
    const p = honestProof(s);
    assert.equal(p.insnLeaf, null);
    const { postHash, post } = verifyStep(s.preHash, p);
    assert.equal(toHex(postHash), toHex(s.preHash));
    assert.equal(post.status, status);
    assert.equal(packProof(p).length, 296);
  }
});

test('every opcode this table does not define traps 3 (illegal); ignored instruction bytes never change the meaning', () => {
  for (let op = 0; op < 256; op++) {
    if (OP_NAMES.has(op)) continue;
    const leaf = encodeInsn(insn(Op.HALT, { rd: 1, ra: 1 }));
    leaf[0] = op;
    const p = run(leaf, { regs: { 1: 0x1234n } });
    assert.deepEqual([p.status, p.pc, p.regs[1]], [Status.Illegal, PC, 0x1234n], `opcode 0x${op.toString(16)}`);
  }
  // bytes 6, 7, 24 … 31, flag bits other than IMM and register bits above 4 are ignored
  const plain = encodeInsn(insn(Op.I64_ADD, { rd: 4, ra: 1, rb: 2 }));
  const noisy = plain.slice();
  noisy[1] |= 0xe0; noisy[2] |= 0x60; noisy[3] |= 0xa0; noisy[4] = 0xff; noisy[5] = 0xfe; noisy[6] = 0x55; noisy[7] = 0xaa;
  for (let k = 24; k < 32; k++) noisy[k] = k * 7;
  const regs = { 1: 40n, 2: 2n };
  assert.equal(run(noisy, { regs }).regs[4], run(plain, { regs }).regs[4]);
  assert.equal(run(noisy, { regs }).regs[4], 42n);
});

// ---------------------------------------------------------------------------------------------------
// Rejections

test('rejected: wrong pre-state, non-zero header padding, wrong header length', () => {
  const s = setup(insn(Op.HALT));
  const p = honestProof(s);
  const wrong = s.preHash.slice();
  wrong[0] ^= 1;
  rejects(() => verifyStep(wrong, p), /pre-state/);
  rejects(() => verifyStep(s.preHash, { ...p, header: p.header.subarray(0, 295) }), /header is 295 bytes/);
  const padded = p.header.slice();
  padded[38] = 1;
  rejects(() => verifyStep(keccak256(padded), { ...p, header: padded }), /padding/);
  // A different but consistent header with its own hash is a different pre-state: accepted for that hash.
  const other = setup(insn(Op.HALT), { regs: { 3: 1n } });
  rejects(() => verifyStep(s.preHash, honestProof(other)), /pre-state/);
});

test('rejected: forged instruction or data path, a leaf that is not at the index', () => {
  const s = setup(insn(Op.LOAD32, { rd: 4, ra: 1 }), { regs: { 1: BigInt(DATA) }, data: [[DATA, PATTERN]] });
  const p = honestProof(s);
  assert.ok(p.dataLeaf);
  verifyStep(s.preHash, p);
  for (const k of [0, 13, 25]) {
    const path = p.insnPath!.map((x) => x.slice());
    path[k]![31] ^= 1;
    rejects(() => verifyStep(s.preHash, { ...p, insnPath: path }), /instruction leaf and path/);
    const dpath = p.dataPath!.map((x) => x.slice());
    dpath[k]![0] ^= 0x80;
    rejects(() => verifyStep(s.preHash, { ...p, dataPath: dpath }), /data leaf and path/);
  }
  const leaf = p.insnLeaf!.slice();
  leaf[31] ^= 1; // an ignored byte, but the leaf must still be the one in memory
  rejects(() => verifyStep(s.preHash, { ...p, insnLeaf: leaf }), /instruction leaf and path/);
  const dleaf = p.dataLeaf!.slice();
  dleaf[5] ^= 1;
  rejects(() => verifyStep(s.preHash, { ...p, dataLeaf: dleaf }), /data leaf and path/);
  // The data leaf of a neighbouring index with its own (valid) path does not prove leaf ⌊ea/32⌋.
  const nb = DATA / 32 + 1;
  rejects(() => verifyStep(s.preHash, { ...p, dataLeaf: s.mem.leaf(nb), dataPath: s.mem.path(nb) }), /data leaf and path/);
  // Too short a path, a short sibling.
  rejects(() => verifyStep(s.preHash, { ...p, insnPath: p.insnPath!.slice(0, 25) }), /25 sibling hashes/);
  rejects(() => verifyStep(s.preHash, { ...p, dataPath: [...p.dataPath!.slice(0, 25), new Uint8Array(31)] }), /sibling 25 is 31 bytes/);
});

test('rejected: missing and superfluous proof parts', () => {
  // Halted: no instruction leaf, no data leaf.
  const halted = setup(insn(Op.HALT), { status: Status.Halted });
  const hp = honestProof(halted);
  rejects(() => verifyStep(halted.preHash, { ...hp, insnLeaf: halted.mem.leaf(PC), insnPath: halted.mem.path(PC) }), /superfluous instruction leaf/);
  rejects(() => verifyStep(halted.preHash, { ...hp, dataLeaf: new Uint8Array(32), dataPath: halted.mem.path(0) }), /superfluous data leaf/);
  // pc out of range: no instruction leaf.
  const far = setup(insn(Op.HALT), { pc: MEM_LEAVES });
  rejects(() => verifyStep(far.preHash, { ...honestProof(far), insnLeaf: new Uint8Array(32), insnPath: far.mem.path(0) }), /superfluous instruction leaf/);
  // Running: the instruction leaf and its path are required.
  const add = setup(insn(Op.I32_ADD, { rd: 1 }));
  const ap = honestProof(add);
  rejects(() => verifyStep(add.preHash, { ...ap, insnLeaf: null, insnPath: null }), /missing instruction leaf/);
  rejects(() => verifyStep(add.preHash, { ...ap, insnPath: null }), /missing instruction path/);
  rejects(() => verifyStep(add.preHash, { ...ap, insnLeaf: null }), /missing instruction leaf/);
  // A data leaf for an instruction without a data access.
  rejects(() => verifyStep(add.preHash, { ...ap, dataLeaf: add.mem.leaf(0), dataPath: add.mem.path(0) }), /superfluous data leaf/);
  rejects(() => verifyStep(add.preHash, { ...ap, dataPath: add.mem.path(0) }), /superfluous data path/);
  // A load without its data leaf.
  const ld = setup(insn(Op.LOAD32, { rd: 4, ra: 1 }), { regs: { 1: BigInt(DATA) } });
  const lp = honestProof(ld);
  rejects(() => verifyStep(ld.preHash, { ...lp, dataLeaf: null, dataPath: null }), /missing data leaf/);
  rejects(() => verifyStep(ld.preHash, { ...lp, dataPath: null }), /missing data path/);
  // A data leaf for an access that traps (unaligned, out of bounds).
  for (const a of [BigInt(DATA + 2), BigInt(MEM_BYTES)]) {
    const tr = setup(insn(Op.STORE32, { ra: 1 }), { regs: { 1: a } });
    const tp = honestProof(tr);
    assert.equal(tp.dataLeaf, null);
    rejects(() => verifyStep(tr.preHash, { ...tp, dataLeaf: tr.mem.leaf(DATA / 32), dataPath: tr.mem.path(DATA / 32) }), /superfluous data leaf: .* traps/);
  }
});

test('proof sizes: 1160 bytes without a data access, 2024 with one, 296 for fixed points', () => {
  assert.equal(packProof(honestProof(setup(insn(Op.I32_ADD)))).length, 1160);
  assert.equal(packProof(honestProof(setup(insn(Op.LOAD32, { ra: 1 }), { regs: { 1: BigInt(DATA) } }))).length, 2024);
  assert.equal(packProof(honestProof(setup(insn(Op.LOAD32, { ra: 1 }), { regs: { 1: BigInt(DATA + 1) } }))).length, 1160);
  assert.equal(packProof(honestProof(setup(insn(Op.HALT), { pc: MEM_LEAVES }))).length, 296);
});
