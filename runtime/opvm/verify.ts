/**
 * The reference one-step verifier of the OPVM (docs/opvm.md §2–§5): from a pre-state hash and a step
 * proof alone it computes the post-state, or rejects the proof. It is the executable form of the spec and
 * the blueprint of the Solidity verifier (contracts/src/OPVM.sol), which mirrors it check for check:
 *
 *   1. keccak256(header) must equal the pre-state hash; the header's three padding bytes must be zero;
 *   2. a halted or trapped state is a fixed point (the proof is the header alone);
 *   3. pc ≥ 2^26 traps 6 (out-of-bounds) without an instruction leaf;
 *   4. otherwise the instruction leaf must be leaf `pc` under memRoot (26 siblings, bottom first);
 *   5. a load or store computes ea = low32(A) + off (no wrap), traps 6 when ea + size > MEM_BYTES, else
 *      traps 7 when ea is not a multiple of size, else needs the data leaf ⌊ea/32⌋ under memRoot; a store
 *      writes its bytes little-endian into that leaf and recomputes memRoot with the same path;
 *   6. a proof with a missing part or a superfluous part is invalid.
 *
 * Registers are bigints (u64); every f32 operation and conversion goes through softfloat.ts on u32 bit
 * patterns. No JS floating point is used: numbers here are only integers (pc, bytes, u32 bit patterns).
 */
import type { Insn } from '../../compiler/opvm/isa.ts';
import { accessSize, decodeInsn, HEADER_BYTES, isStore, MEM_BYTES, MEM_DEPTH, MEM_LEAVES, Op, Status } from '../../compiler/opvm/isa.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { rootFromProof } from '../../compiler/commit/merkle.ts';
import { keccak256 } from '../../converter/ir/keccak.ts';
import type { StepProof } from './proof.ts';
import type { VmState } from './state.ts';
import { decodeHeader, stateHash } from './state.ts';
import * as sf from './softfloat.ts';

export class VerifyError extends Error {
  override readonly name = 'VerifyError';
}

const M32 = 0xffffffffn;
const M64 = 0xffffffffffffffffn;
const INT32_MIN = 0x80000000n;
const INT64_MIN = 0x8000000000000000n;

/** Result of executing one instruction's data operation: a value for rd, or a trap status. */
type Out = { readonly trap: false; readonly value: bigint } | { readonly trap: true; readonly status: number };
const ok = (value: bigint): Out => ({ trap: false, value });
const trap = (status: number): Out => ({ trap: true, status });
const bool = (b: boolean): Out => ok(b ? 1n : 0n);

const low32 = (x: bigint): bigint => x & M32;
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
/** A u32 bigint as the `number` bit pattern softfloat.ts takes (an exact integer conversion). */
const f = (x: bigint): number => Number(x & M32);

// ---------------------------------------------------------------------------------------------------
// Proof parts

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(b: Uint8Array): string {
  return '0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** A leaf and its path must both be present and well-formed; `what` names them in errors. */
function requireLeafAndPath(leaf: Uint8Array | null, path: Uint8Array[] | null, what: string): { leaf: Uint8Array; path: Uint8Array[] } {
  if (!leaf) throw new VerifyError(`missing ${what} leaf`);
  if (!path) throw new VerifyError(`missing ${what} path`);
  if (leaf.length !== 32) throw new VerifyError(`${what} leaf is ${leaf.length} bytes, not 32`);
  if (path.length !== MEM_DEPTH) throw new VerifyError(`${what} path has ${path.length} sibling hashes, not ${MEM_DEPTH}`);
  path.forEach((s, k) => {
    if (s.length !== 32) throw new VerifyError(`${what} path sibling ${k} is ${s.length} bytes, not 32`);
  });
  return { leaf, path };
}

function forbidInsn(p: StepProof, why: string): void {
  if (p.insnLeaf) throw new VerifyError(`superfluous instruction leaf: ${why}`);
  if (p.insnPath) throw new VerifyError(`superfluous instruction path: ${why}`);
}

function forbidData(p: StepProof, why: string): void {
  if (p.dataLeaf) throw new VerifyError(`superfluous data leaf: ${why}`);
  if (p.dataPath) throw new VerifyError(`superfluous data path: ${why}`);
}

// ---------------------------------------------------------------------------------------------------
// The step

export function verifyStep(preStateHash: Uint8Array, proof: StepProof): { postHash: Bytes32; post: VmState } {
  if (preStateHash.length !== 32) throw new VerifyError(`pre-state hash is ${preStateHash.length} bytes, not 32`);
  const header = proof.header;
  if (!header || header.length !== HEADER_BYTES) throw new VerifyError(`header is ${header ? header.length : 0} bytes, not ${HEADER_BYTES}`);
  if (!equalBytes(keccak256(header), preStateHash)) {
    throw new VerifyError(`header hashes to ${hex(keccak256(header))}, not to the pre-state ${hex(preStateHash)}`);
  }
  if (header[37] !== 0 || header[38] !== 0 || header[39] !== 0) throw new VerifyError('header padding (bytes 37 … 39) is not zero');
  const pre = decodeHeader(header);

  // Halted or trapped: a fixed point, proved by the header alone.
  if (pre.status !== Status.Running) {
    forbidInsn(proof, `the pre-state is not running (status ${pre.status})`);
    forbidData(proof, `the pre-state is not running (status ${pre.status})`);
    return finish(pre);
  }

  // A fetch outside memory traps without an instruction leaf.
  if (pre.pc >= MEM_LEAVES) {
    forbidInsn(proof, `pc ${pre.pc} is outside memory`);
    forbidData(proof, `pc ${pre.pc} is outside memory`);
    return finish({ ...pre, status: Status.OutOfBounds });
  }

  const ip = requireLeafAndPath(proof.insnLeaf, proof.insnPath, 'instruction');
  if (!equalBytes(rootFromProof(ip.leaf, pre.pc, ip.path), pre.memRoot)) {
    throw new VerifyError(`instruction leaf and path do not prove leaf ${pre.pc} under memRoot`);
  }
  const ins = decodeInsn(ip.leaf);
  const size = accessSize(ins.op);
  if (size === 0) {
    forbidData(proof, `instruction 0x${ins.op.toString(16).padStart(2, '0')} has no data access`);
    return finish(execute(pre, ins));
  }
  return finish(memoryAccess(pre, ins, size, proof));
}

function finish(post: VmState): { postHash: Bytes32; post: VmState } {
  return { postHash: stateHash(post), post };
}

/** Operand A (all 64 bits). */
const opA = (s: VmState, i: Insn): bigint => s.regs[i.ra]!;
/** Operand B: the immediate with IMM, else r[rb] (all 64 bits). */
const opB = (s: VmState, i: Insn): bigint => (i.immB ? i.imm : s.regs[i.rb]!);
/** Operand C (all 64 bits). */
const opC = (s: VmState, i: Insn): bigint => s.regs[i.rc]!;

function trapped(pre: VmState, status: number): VmState {
  return { ...pre, status };
}

/** rd ← value (a u64; 32-bit results are already zero-extended by their producers), pc ← pc + 1. */
function writeRd(pre: VmState, rd: number, value: bigint): VmState {
  const regs = pre.regs.slice();
  regs[rd] = u64(value);
  return { ...pre, regs, pc: (pre.pc + 1) >>> 0 };
}

function result(pre: VmState, ins: Insn, out: Out): VmState {
  return out.trap ? trapped(pre, out.status) : writeRd(pre, ins.rd, out.value);
}

/** Every instruction without a data access. */
function execute(pre: VmState, ins: Insn): VmState {
  const op = ins.op;
  const a = opA(pre, ins);
  const b = opB(pre, ins);
  if (op <= Op.SELECT) return control(pre, ins);
  if (op >= Op.I32_ADD && op <= Op.I32_GE_U) return result(pre, ins, i32Binary(op, low32(a), low32(b)));
  if (op >= Op.I32_CLZ && op <= Op.I32_EXTEND16_S) return result(pre, ins, i32Unary(op, low32(a)));
  if (op >= Op.I64_ADD && op <= Op.I64_GE_U) return result(pre, ins, i64Binary(op, a, b));
  if (op >= Op.I64_CLZ && op <= Op.I64_EXTEND32_S) return result(pre, ins, i64Unary(op, a));
  if (op >= Op.F32_ADD && op <= Op.F32_GE) return result(pre, ins, f32Binary(op, f(a), f(b)));
  if (op >= Op.F32_ABS && op <= Op.F32_NEAREST) return result(pre, ins, f32Unary(op, f(a)));
  if (op >= Op.I32_WRAP_I64 && op <= Op.F32_CONVERT_I64_U) return result(pre, ins, convert(op, a));
  return trapped(pre, Status.Illegal); // loads and stores never reach here (accessSize ≠ 0)
}

// ---------------------------------------------------------------------------------------------------
// Control and moves (0x00 – 0x06)

function control(pre: VmState, ins: Insn): VmState {
  switch (ins.op) {
    case Op.UNREACHABLE: return trapped(pre, Status.Unreachable);
    case Op.HALT: return { ...pre, status: Status.Halted };
    case Op.JMP: return { ...pre, pc: ins.target };
    case Op.BRZ: return { ...pre, pc: low32(opA(pre, ins)) === 0n ? ins.target : (pre.pc + 1) >>> 0 };
    case Op.BRNZ: return { ...pre, pc: low32(opA(pre, ins)) !== 0n ? ins.target : (pre.pc + 1) >>> 0 };
    case Op.MOV: return writeRd(pre, ins.rd, opB(pre, ins));
    case Op.SELECT: return writeRd(pre, ins.rd, low32(opC(pre, ins)) !== 0n ? opA(pre, ins) : opB(pre, ins));
    default: return trapped(pre, Status.Illegal);
  }
}

// ---------------------------------------------------------------------------------------------------
// Integers

function clz(x: bigint, bits: number): bigint {
  let n = 0n;
  for (let k = bits - 1; k >= 0 && ((x >> BigInt(k)) & 1n) === 0n; k--) n++;
  return n;
}

function ctz(x: bigint, bits: number): bigint {
  let n = 0n;
  for (let k = 0; k < bits && ((x >> BigInt(k)) & 1n) === 0n; k++) n++;
  return n;
}

function popcnt(x: bigint): bigint {
  let n = 0n;
  for (let v = x; v !== 0n; v >>= 1n) n += v & 1n;
  return n;
}

/** i32 binary operations on low32 operands a, b (0 … 2^32 − 1); results zero-extended. */
function i32Binary(op: number, a: bigint, b: bigint): Out {
  const k = b & 31n;
  switch (op) {
    case Op.I32_ADD: return ok(u32(a + b));
    case Op.I32_SUB: return ok(u32(a - b));
    case Op.I32_MUL: return ok(u32(a * b));
    case Op.I32_DIV_S:
      if (b === 0n) return trap(Status.DivByZero);
      if (a === INT32_MIN && b === M32) return trap(Status.Overflow);
      return ok(u32(s32(a) / s32(b))); // bigint division truncates toward zero
    case Op.I32_DIV_U:
      if (b === 0n) return trap(Status.DivByZero);
      return ok(a / b);
    case Op.I32_REM_S:
      if (b === 0n) return trap(Status.DivByZero);
      return ok(u32(s32(a) % s32(b))); // the remainder has the dividend's sign; INT_MIN % −1 = 0
    case Op.I32_REM_U:
      if (b === 0n) return trap(Status.DivByZero);
      return ok(a % b);
    case Op.I32_AND: return ok(a & b);
    case Op.I32_OR: return ok(a | b);
    case Op.I32_XOR: return ok(a ^ b);
    case Op.I32_SHL: return ok(u32(a << k));
    case Op.I32_SHR_S: return ok(u32(s32(a) >> k));
    case Op.I32_SHR_U: return ok(a >> k);
    case Op.I32_ROTL: return ok(u32((a << k) | (a >> (32n - k))));
    case Op.I32_ROTR: return ok(u32((a >> k) | (a << (32n - k))));
    case Op.I32_EQ: return bool(a === b);
    case Op.I32_NE: return bool(a !== b);
    case Op.I32_LT_S: return bool(s32(a) < s32(b));
    case Op.I32_LT_U: return bool(a < b);
    case Op.I32_GT_S: return bool(s32(a) > s32(b));
    case Op.I32_GT_U: return bool(a > b);
    case Op.I32_LE_S: return bool(s32(a) <= s32(b));
    case Op.I32_LE_U: return bool(a <= b);
    case Op.I32_GE_S: return bool(s32(a) >= s32(b));
    case Op.I32_GE_U: return bool(a >= b);
    default: return trap(Status.Illegal); // 0x29 – 0x2F
  }
}

/** i32 unary operations on a low32 operand. */
function i32Unary(op: number, a: bigint): Out {
  switch (op) {
    case Op.I32_CLZ: return ok(clz(a, 32));
    case Op.I32_CTZ: return ok(ctz(a, 32));
    case Op.I32_POPCNT: return ok(popcnt(a));
    case Op.I32_EQZ: return bool(a === 0n);
    case Op.I32_EXTEND8_S: return ok(u32(BigInt.asIntN(8, a)));
    case Op.I32_EXTEND16_S: return ok(u32(BigInt.asIntN(16, a)));
    default: return trap(Status.Illegal);
  }
}

/** i64 binary operations on u64 operands. */
function i64Binary(op: number, a: bigint, b: bigint): Out {
  const k = b & 63n;
  switch (op) {
    case Op.I64_ADD: return ok(u64(a + b));
    case Op.I64_SUB: return ok(u64(a - b));
    case Op.I64_MUL: return ok(u64(a * b));
    case Op.I64_DIV_S:
      if (b === 0n) return trap(Status.DivByZero);
      if (a === INT64_MIN && b === M64) return trap(Status.Overflow);
      return ok(u64(s64(a) / s64(b)));
    case Op.I64_DIV_U:
      if (b === 0n) return trap(Status.DivByZero);
      return ok(a / b);
    case Op.I64_REM_S:
      if (b === 0n) return trap(Status.DivByZero);
      return ok(u64(s64(a) % s64(b)));
    case Op.I64_REM_U:
      if (b === 0n) return trap(Status.DivByZero);
      return ok(a % b);
    case Op.I64_AND: return ok(a & b);
    case Op.I64_OR: return ok(a | b);
    case Op.I64_XOR: return ok(a ^ b);
    case Op.I64_SHL: return ok(u64(a << k));
    case Op.I64_SHR_S: return ok(u64(s64(a) >> k));
    case Op.I64_SHR_U: return ok(a >> k);
    case Op.I64_ROTL: return ok(u64((a << k) | (a >> (64n - k))));
    case Op.I64_ROTR: return ok(u64((a >> k) | (a << (64n - k))));
    case Op.I64_EQ: return bool(a === b);
    case Op.I64_NE: return bool(a !== b);
    case Op.I64_LT_S: return bool(s64(a) < s64(b));
    case Op.I64_LT_U: return bool(a < b);
    case Op.I64_GT_S: return bool(s64(a) > s64(b));
    case Op.I64_GT_U: return bool(a > b);
    case Op.I64_LE_S: return bool(s64(a) <= s64(b));
    case Op.I64_LE_U: return bool(a <= b);
    case Op.I64_GE_S: return bool(s64(a) >= s64(b));
    case Op.I64_GE_U: return bool(a >= b);
    default: return trap(Status.Illegal); // 0x59 – 0x5F
  }
}

/** i64 unary operations. */
function i64Unary(op: number, a: bigint): Out {
  switch (op) {
    case Op.I64_CLZ: return ok(clz(a, 64));
    case Op.I64_CTZ: return ok(ctz(a, 64));
    case Op.I64_POPCNT: return ok(popcnt(a));
    case Op.I64_EQZ: return bool(a === 0n);
    case Op.I64_EXTEND8_S: return ok(u64(BigInt.asIntN(8, a)));
    case Op.I64_EXTEND16_S: return ok(u64(BigInt.asIntN(16, a)));
    case Op.I64_EXTEND32_S: return ok(u64(BigInt.asIntN(32, a)));
    default: return trap(Status.Illegal);
  }
}

// ---------------------------------------------------------------------------------------------------
// f32 (softfloat.ts on u32 bit patterns)

const f32 = (bits: number): Out => ok(BigInt(bits >>> 0));

function f32Binary(op: number, a: number, b: number): Out {
  switch (op) {
    case Op.F32_ADD: return f32(sf.f32Add(a, b));
    case Op.F32_SUB: return f32(sf.f32Sub(a, b));
    case Op.F32_MUL: return f32(sf.f32Mul(a, b));
    case Op.F32_DIV: return f32(sf.f32Div(a, b));
    case Op.F32_MIN: return f32(sf.f32Min(a, b));
    case Op.F32_MAX: return f32(sf.f32Max(a, b));
    case Op.F32_COPYSIGN: return f32(sf.f32Copysign(a, b));
    case Op.F32_EQ: return bool(sf.f32Eq(a, b));
    case Op.F32_NE: return bool(sf.f32Ne(a, b));
    case Op.F32_LT: return bool(sf.f32Lt(a, b));
    case Op.F32_GT: return bool(sf.f32Gt(a, b));
    case Op.F32_LE: return bool(sf.f32Le(a, b));
    case Op.F32_GE: return bool(sf.f32Ge(a, b));
    default: return trap(Status.Illegal);
  }
}

function f32Unary(op: number, a: number): Out {
  switch (op) {
    case Op.F32_ABS: return f32(sf.f32Abs(a));
    case Op.F32_NEG: return f32(sf.f32Neg(a));
    case Op.F32_SQRT: return f32(sf.f32Sqrt(a));
    case Op.F32_CEIL: return f32(sf.f32Ceil(a));
    case Op.F32_FLOOR: return f32(sf.f32Floor(a));
    case Op.F32_TRUNC: return f32(sf.f32Trunc(a));
    case Op.F32_NEAREST: return f32(sf.f32Nearest(a));
    default: return trap(Status.Illegal); // 0x7D – 0x7F
  }
}

// ---------------------------------------------------------------------------------------------------
// Conversions (0x90 – 0x9A); `a` is the full 64-bit operand A

function convert(op: number, a: bigint): Out {
  switch (op) {
    case Op.I32_WRAP_I64: return ok(low32(a));
    case Op.I64_EXTEND_I32_S: return ok(u64(s32(low32(a))));
    case Op.I64_EXTEND_I32_U: return ok(low32(a));
    case Op.I32_TRUNC_SAT_F32_S: return f32(sf.f32ToI32Sat(f(a)));
    case Op.I32_TRUNC_SAT_F32_U: return f32(sf.f32ToU32Sat(f(a)));
    case Op.I64_TRUNC_SAT_F32_S: return ok(sf.f32ToI64Sat(f(a)));
    case Op.I64_TRUNC_SAT_F32_U: return ok(sf.f32ToU64Sat(f(a)));
    case Op.F32_CONVERT_I32_S: return f32(sf.i32ToF32(f(a)));
    case Op.F32_CONVERT_I32_U: return f32(sf.u32ToF32(f(a)));
    case Op.F32_CONVERT_I64_S: return f32(sf.i64ToF32(a));
    case Op.F32_CONVERT_I64_U: return f32(sf.u64ToF32(a));
    default: return trap(Status.Illegal);
  }
}

// ---------------------------------------------------------------------------------------------------
// Memory (0xA0 – 0xB3)

/** Little-endian value of `size` bytes of `leaf` at byte offset `at`. */
function readLE(leaf: Uint8Array, at: number, size: number): bigint {
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(leaf[at + k]!);
  return v;
}

/** A copy of `leaf` with the low `size` bytes of `value` written little-endian at byte offset `at`. */
function writeLE(leaf: Uint8Array, at: number, size: number, value: bigint): Uint8Array {
  const out = leaf.slice();
  for (let k = 0; k < size; k++) out[at + k] = Number((value >> BigInt(8 * k)) & 0xffn);
  return out;
}

function memoryAccess(pre: VmState, ins: Insn, size: number, proof: StepProof): VmState {
  const ea = low32(opA(pre, ins)) + BigInt(ins.off); // no wrap: up to 2^33 − 2
  if (ea + BigInt(size) > BigInt(MEM_BYTES)) {
    forbidData(proof, `the access at ${ea} traps out-of-bounds`);
    return trapped(pre, Status.OutOfBounds);
  }
  if (ea % BigInt(size) !== 0n) {
    forbidData(proof, `the access at ${ea} traps unaligned`);
    return trapped(pre, Status.Unaligned);
  }
  const index = Number(ea >> 5n); // < 2^26
  const at = Number(ea & 31n);
  const dp = requireLeafAndPath(proof.dataLeaf, proof.dataPath, 'data');
  if (!equalBytes(rootFromProof(dp.leaf, index, dp.path), pre.memRoot)) {
    throw new VerifyError(`data leaf and path do not prove leaf ${index} under memRoot`);
  }
  if (isStore(ins.op)) return store(pre, ins, size, dp.leaf, dp.path, index, at);
  return load(pre, ins, size, dp.leaf, at);
}

function load(pre: VmState, ins: Insn, size: number, leaf: Uint8Array, at: number): VmState {
  const v = readLE(leaf, at, size);
  switch (ins.op) {
    case Op.LOAD32: return writeRd(pre, ins.rd, v);
    case Op.I32_LOAD8_S: return writeRd(pre, ins.rd, u32(BigInt.asIntN(8, v)));
    case Op.I32_LOAD8_U: return writeRd(pre, ins.rd, v);
    case Op.I32_LOAD16_S: return writeRd(pre, ins.rd, u32(BigInt.asIntN(16, v)));
    case Op.I32_LOAD16_U: return writeRd(pre, ins.rd, v);
    case Op.LOAD64: return writeRd(pre, ins.rd, v);
    case Op.I64_LOAD8_S: return writeRd(pre, ins.rd, u64(BigInt.asIntN(8, v)));
    case Op.I64_LOAD8_U: return writeRd(pre, ins.rd, v);
    case Op.I64_LOAD16_S: return writeRd(pre, ins.rd, u64(BigInt.asIntN(16, v)));
    case Op.I64_LOAD16_U: return writeRd(pre, ins.rd, v);
    case Op.I64_LOAD32_S: return writeRd(pre, ins.rd, u64(BigInt.asIntN(32, v)));
    case Op.I64_LOAD32_U: return writeRd(pre, ins.rd, v);
    default: throw new Error(`unreachable: load opcode 0x${ins.op.toString(16)}`);
  }
}

function store(pre: VmState, ins: Insn, size: number, leaf: Uint8Array, path: Uint8Array[], index: number, at: number): VmState {
  const newLeaf = writeLE(leaf, at, size, opB(pre, ins));
  return { ...pre, memRoot: rootFromProof(newLeaf, index, path), pc: (pre.pc + 1) >>> 0 };
}
