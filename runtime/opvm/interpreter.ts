/**
 * The fast OPVM interpreter (docs/opvm.md §2–§4): a switch-dispatch loop over pre-decoded instructions
 * and typed-array views of the dense memory. It computes exactly the reference semantics of the
 * verifier (runtime/opvm/verify.ts, integer soft-float) with the host's IEEE arithmetic where that is
 * provably the same: binary32 + − × ÷ sqrt are computed in binary64 and rounded once to binary32 on the
 * store into a Float32Array (binary64 has more than 2·24 + 2 bits, so the double rounding is exact), and
 * every NaN result is replaced by the canonical NaN. The i64 → f32 conversions, which binary64 cannot
 * round once, go through the soft-float code.
 *
 * Registers are 64-bit, held as int32 pairs: R[2r] the low half, R[2r + 1] the high half. Operand B of an
 * instruction with the IMM flag is read from a hidden register slot of its own (index 64 + 2·i for
 * the i-th decoded instruction), so operand fetch never branches on the flag. A Float32Array over the
 * same buffer reads and writes the low halves as binary32.
 *
 * Code is decoded once for a window of leaves (the node's code region); a store into the window
 * re-decodes that leaf, and an instruction outside the window is decoded when fetched, so
 * self-modifying and stray programs run exactly as the specification says, only slower.
 *
 * Every dense store sets its leaf's flag in `dirty` (the Merkle tracker reads and clears them).
 */
import { CANONICAL_NAN_F32, LEAF_BYTES, MEM_BYTES, MEM_LEAVES, Op, REGS, Status } from '../../compiler/opvm/isa.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { i64ToF32, u64ToF32 } from './softfloat.ts';
import { VmMemory } from './memory.ts';
import type { CompiledCode } from './block-compiler.ts';
import { compileBlocks, HELPERS } from './block-compiler.ts';

// The 64-bit and bit-count helpers are the compiled blocks' own, so both execution paths share them.
const { popcnt32, ctz32, mulHiU32, setInt, shl64, shr64, rotl64, roundEven } = HELPERS;
/** Compare registers a and b as 64-bit integers: −1, 0 or 1. */
const cmp64 = (R: Int32Array, a: number, b: number, signed: boolean) => HELPERS.cmp64(R[a]!, R[a + 1]!, R[b]!, R[b + 1]!, signed);
import type { VmState } from './state.ts';

/** Fields of a decoded instruction, 8 int32 per instruction. */
const STRIDE = 8;
const F_OP = 0, F_RD = 1, F_RA = 2, F_RB = 3, F_RC = 4, F_OFF = 5, F_TGT = 6;
const IMM_BASE = 2 * REGS;
const NAN = CANONICAL_NAN_F32 | 0;
const TWO32 = 4294967296;
const TWO63 = 9223372036854775808;
const TWO64 = 18446744073709551616;

export interface InterpreterStart {
  pc: number;
  /** Registers (default all zero). */
  regs?: BigUint64Array;
  status?: number;
  /** Leaves to pre-decode: [first, first + count) (default: the leaves from pc up to 64 Ki instructions, inside the dense memory). */
  code?: { first: number; count: number };
  /** Translate the code window's basic blocks to JavaScript (default: when `code` is given). */
  compile?: boolean;
  /** The dirty-leaf flags to set (one per dense leaf; default a fresh array). */
  dirty?: Uint8Array;
}

export class Interpreter {
  readonly mem: VmMemory;
  /** One flag per dense leaf, set by every store into it. */
  readonly dirty: Uint8Array;
  pc: number;
  status: number;
  /** Steps executed by this interpreter (transitions, including the one into a halted or trapped state). */
  steps = 0;

  private readonly R: Int32Array;
  private readonly F: Float32Array;
  private readonly D: Int32Array;
  private readonly codeFirst: number;
  private readonly codeCount: number;
  private readonly u8: Uint8Array;
  private readonly i8: Int8Array;
  private readonly u16: Uint16Array;
  private readonly i16: Int16Array;
  private readonly i32: Int32Array;
  private readonly denseBytes: number;
  /** Sparse leaves written since the last `takeSparseDirty`. */
  readonly sparseDirty = new Set<number>();
  /** The code window as compiled blocks, or null (dropped when a store changes the window). */
  private compiled: CompiledCode | null = null;
  private readonly st = new Int32Array(2);

  constructor(mem: VmMemory, start: InterpreterStart) {
    this.mem = mem;
    this.pc = start.pc >>> 0;
    this.status = start.status ?? Status.Running;
    const dense = mem.dense;
    this.denseBytes = dense.length;
    this.u8 = dense;
    this.i8 = new Int8Array(dense.buffer, dense.byteOffset, dense.length);
    this.u16 = new Uint16Array(dense.buffer, dense.byteOffset, dense.length >>> 1);
    this.i16 = new Int16Array(dense.buffer, dense.byteOffset, dense.length >>> 1);
    this.i32 = new Int32Array(dense.buffer, dense.byteOffset, dense.length >>> 2);
    this.dirty = start.dirty ?? new Uint8Array(dense.length / LEAF_BYTES);
    if (this.dirty.length !== dense.length / LEAF_BYTES) throw new RangeError('one dirty flag per dense leaf');
    const leaves = dense.length / LEAF_BYTES;
    let first = start.code?.first ?? this.pc;
    let count = start.code?.count ?? 65536;
    if (first >= leaves) { first = 0; count = 0; }
    count = Math.max(0, Math.min(count, leaves - first));
    this.codeFirst = first;
    this.codeCount = count;
    // One extra decoded slot (index count) for an instruction fetched from outside the window.
    this.D = new Int32Array(STRIDE * (count + 1));
    this.R = new Int32Array(IMM_BASE + 2 * (count + 1));
    this.F = new Float32Array(this.R.buffer);
    if (start.regs) this.setRegs(start.regs);
    for (let i = 0; i < count; i++) this.decode(i, first + i);
    if (count > 0 && (start.compile ?? start.code !== undefined)) {
      this.compiled = compileBlocks(first * LEAF_BYTES + count * LEAF_BYTES <= dense.length ? dense.subarray(first * LEAF_BYTES) : mem.read(first * LEAF_BYTES, count * LEAF_BYTES), first, count);
    }
  }

  /** A store changed leaf `leaf` of the code window: decode it again and stop using compiled blocks. */
  private codeWritten(leaf: number): void {
    this.decode(leaf - this.codeFirst, leaf);
    this.compiled = null;
  }

  /** Decode leaf `leaf` into decoded slot `i` (its IMM value into hidden register slot i). */
  private decode(i: number, leaf: number): void {
    const D = this.D, R = this.R, b = STRIDE * i;
    const m = this.mem;
    let bytes: Uint8Array;
    let at: number;
    if (leaf * LEAF_BYTES < this.denseBytes) { bytes = this.u8; at = leaf * LEAF_BYTES; } else { bytes = m.sparseLeaf(leaf) ?? ZERO_LEAF; at = 0; }
    D[b + F_OP] = bytes[at]!;
    D[b + F_RD] = 2 * (bytes[at + 1]! & 31);
    D[b + F_RA] = 2 * (bytes[at + 2]! & 31);
    const imm = (bytes[at + 5]! & 1) !== 0;
    D[b + F_RB] = imm ? IMM_BASE + 2 * i : 2 * (bytes[at + 3]! & 31);
    D[b + F_RC] = 2 * (bytes[at + 4]! & 31);
    const w = (o: number) => (bytes[at + o]! | (bytes[at + o + 1]! << 8) | (bytes[at + o + 2]! << 16) | (bytes[at + o + 3]! << 24));
    R[IMM_BASE + 2 * i] = w(8);
    R[IMM_BASE + 2 * i + 1] = w(12);
    D[b + F_OFF] = w(16);
    D[b + F_TGT] = w(20);
  }

  /** Registers as unsigned 64-bit values. */
  regs(): BigUint64Array {
    const out = new BigUint64Array(REGS);
    for (let r = 0; r < REGS; r++) out[r] = (BigInt(this.R[2 * r + 1]! >>> 0) << 32n) | BigInt(this.R[2 * r]! >>> 0);
    return out;
  }

  setRegs(regs: BigUint64Array): void {
    for (let r = 0; r < REGS; r++) {
      this.R[2 * r] = Number(regs[r]! & 0xffffffffn) | 0;
      this.R[2 * r + 1] = Number(regs[r]! >> 32n) | 0;
    }
  }

  /** Raw register halves (length 64); a copy. */
  rawRegs(): Int32Array {
    return this.R.slice(0, IMM_BASE);
  }

  setRawRegs(raw: Int32Array): void {
    this.R.set(raw.subarray(0, IMM_BASE));
  }

  state(memRoot: Bytes32): VmState {
    return { memRoot, pc: this.pc, status: this.status, regs: this.regs() };
  }

  /** Sparse leaves written since the last call. */
  takeSparseDirty(): number[] {
    const out = [...this.sparseDirty];
    this.sparseDirty.clear();
    return out;
  }

  /** Execute up to `maxSteps` steps (fewer when the machine halts or traps); returns the number executed. */
  run(maxSteps: number): number {
    if (this.status !== Status.Running) return 0;
    const c = this.compiled;
    if (c === null) return this.interpret(maxSteps);
    const R = this.R, F = this.F, st = this.st, first = this.codeFirst, count = this.codeCount;
    let done = 0;
    while (done < maxSteps && this.status === Status.Running) {
      if (this.compiled === null) { done += this.interpret(maxSteps - done); break; }
      const ix = (this.pc - first) >>> 0;
      const chunk = ix < count ? c.chunkAt[ix]! : -1;
      if (chunk >= 0) {
        const left = maxSteps - done;
        if (c.blockLen[ix]! > left) { done += this.interpret(left); break; }
        st[0] = this.pc;
        st[1] = 0;
        const k = c.chunks[chunk]!(R, F, this.u8, this.i8, this.u16, this.i16, this.i32, this.dirty, this.denseBytes, st, left, HELPERS);
        done += k;
        this.steps += k;
        this.pc = st[0]! >>> 0;
        if (st[1] !== 0) { this.status = st[1]!; break; }
        if (k > 0) continue;
      }
      // Not at a block start, or the block's first instruction needs the interpreter: one exact step.
      done += this.interpret(1);
    }
    return done;
  }

  /** The switch interpreter: every instruction, every case. */
  private interpret(maxSteps: number): number {
    if (this.status !== Status.Running) return 0;
    const D = this.D, R = this.R, F = this.F;
    const u8 = this.u8, i8 = this.i8, u16 = this.u16, i16 = this.i16, i32 = this.i32, dirty = this.dirty;
    const dense = this.denseBytes, first = this.codeFirst, count = this.codeCount;
    let pc = this.pc;
    let n = 0;
    let status = 0;
    while (n < maxSteps) {
      let ix = (pc - first) >>> 0;
      if (ix >= count) {
        if (pc >= MEM_LEAVES) { status = Status.OutOfBounds; n++; break; }
        ix = count;
        this.decode(count, pc);
      }
      const b = ix * STRIDE;
      const rd = D[b + F_RD]!, ra = D[b + F_RA]!, rb = D[b + F_RB]!;
      switch (D[b + F_OP]) {
        // ---- control and moves
        case Op.UNREACHABLE: status = Status.Unreachable; break;
        case Op.HALT: status = Status.Halted; break;
        case Op.JMP: pc = D[b + F_TGT]! >>> 0; n++; continue;
        case Op.BRZ: pc = R[ra] === 0 ? D[b + F_TGT]! >>> 0 : (pc + 1) >>> 0; n++; continue;
        case Op.BRNZ: pc = R[ra] !== 0 ? D[b + F_TGT]! >>> 0 : (pc + 1) >>> 0; n++; continue;
        case Op.MOV: R[rd] = R[rb]!; R[rd + 1] = R[rb + 1]!; break;
        case Op.SELECT: {
          const s = R[D[b + F_RC]!] !== 0 ? ra : rb;
          const lo = R[s]!, hi = R[s + 1]!;
          R[rd] = lo; R[rd + 1] = hi;
          break;
        }
        // ---- i32
        case Op.I32_ADD: R[rd] = (R[ra]! + R[rb]!) | 0; R[rd + 1] = 0; break;
        case Op.I32_SUB: R[rd] = (R[ra]! - R[rb]!) | 0; R[rd + 1] = 0; break;
        case Op.I32_MUL: R[rd] = Math.imul(R[ra]!, R[rb]!); R[rd + 1] = 0; break;
        case Op.I32_DIV_S: {
          const x = R[ra]!, y = R[rb]!;
          if (y === 0) { status = Status.DivByZero; break; }
          if (x === -2147483648 && y === -1) { status = Status.Overflow; break; }
          R[rd] = (x / y) | 0; R[rd + 1] = 0; break;
        }
        case Op.I32_DIV_U: {
          const y = R[rb]! >>> 0;
          if (y === 0) { status = Status.DivByZero; break; }
          R[rd] = ((R[ra]! >>> 0) / y) | 0; R[rd + 1] = 0; break;
        }
        case Op.I32_REM_S: {
          const y = R[rb]!;
          if (y === 0) { status = Status.DivByZero; break; }
          R[rd] = (R[ra]! % y) | 0; R[rd + 1] = 0; break;
        }
        case Op.I32_REM_U: {
          const y = R[rb]! >>> 0;
          if (y === 0) { status = Status.DivByZero; break; }
          R[rd] = ((R[ra]! >>> 0) % y) | 0; R[rd + 1] = 0; break;
        }
        case Op.I32_AND: R[rd] = R[ra]! & R[rb]!; R[rd + 1] = 0; break;
        case Op.I32_OR: R[rd] = R[ra]! | R[rb]!; R[rd + 1] = 0; break;
        case Op.I32_XOR: R[rd] = R[ra]! ^ R[rb]!; R[rd + 1] = 0; break;
        case Op.I32_SHL: R[rd] = R[ra]! << R[rb]!; R[rd + 1] = 0; break;
        case Op.I32_SHR_S: R[rd] = R[ra]! >> R[rb]!; R[rd + 1] = 0; break;
        case Op.I32_SHR_U: R[rd] = R[ra]! >>> R[rb]!; R[rd + 1] = 0; break;
        case Op.I32_ROTL: { const x = R[ra]!, k = R[rb]! & 31; R[rd] = (x << k) | (x >>> (32 - k)); R[rd + 1] = 0; break; }
        case Op.I32_ROTR: { const x = R[ra]!, k = R[rb]! & 31; R[rd] = (x >>> k) | (x << (32 - k)); R[rd + 1] = 0; break; }
        case Op.I32_EQ: R[rd] = R[ra] === R[rb] ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_NE: R[rd] = R[ra] !== R[rb] ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_LT_S: R[rd] = R[ra]! < R[rb]! ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_LT_U: R[rd] = R[ra]! >>> 0 < R[rb]! >>> 0 ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_GT_S: R[rd] = R[ra]! > R[rb]! ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_GT_U: R[rd] = R[ra]! >>> 0 > R[rb]! >>> 0 ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_LE_S: R[rd] = R[ra]! <= R[rb]! ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_LE_U: R[rd] = R[ra]! >>> 0 <= R[rb]! >>> 0 ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_GE_S: R[rd] = R[ra]! >= R[rb]! ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_GE_U: R[rd] = R[ra]! >>> 0 >= R[rb]! >>> 0 ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_CLZ: R[rd] = Math.clz32(R[ra]!); R[rd + 1] = 0; break;
        case Op.I32_CTZ: R[rd] = ctz32(R[ra]!); R[rd + 1] = 0; break;
        case Op.I32_POPCNT: R[rd] = popcnt32(R[ra]!); R[rd + 1] = 0; break;
        case Op.I32_EQZ: R[rd] = R[ra] === 0 ? 1 : 0; R[rd + 1] = 0; break;
        case Op.I32_EXTEND8_S: R[rd] = (R[ra]! << 24) >> 24; R[rd + 1] = 0; break;
        case Op.I32_EXTEND16_S: R[rd] = (R[ra]! << 16) >> 16; R[rd + 1] = 0; break;
        // ---- i64
        case Op.I64_ADD: {
          const al = R[ra]!, bl = R[rb]!;
          const carry = (al >>> 0) + (bl >>> 0) > 0xffffffff ? 1 : 0;
          const hi = (R[ra + 1]! + R[rb + 1]! + carry) | 0;
          R[rd] = (al + bl) | 0; R[rd + 1] = hi; break;
        }
        case Op.I64_SUB: {
          const al = R[ra]!, bl = R[rb]!;
          const borrow = (al >>> 0) < (bl >>> 0) ? 1 : 0;
          const hi = (R[ra + 1]! - R[rb + 1]! - borrow) | 0;
          R[rd] = (al - bl) | 0; R[rd + 1] = hi; break;
        }
        case Op.I64_MUL: {
          const al = R[ra]!, ah = R[ra + 1]!, bl = R[rb]!, bh = R[rb + 1]!;
          const hi = (mulHiU32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
          R[rd] = Math.imul(al, bl); R[rd + 1] = hi; break;
        }
        case Op.I64_DIV_S: case Op.I64_DIV_U: case Op.I64_REM_S: case Op.I64_REM_U: {
          const op = D[b + F_OP]!;
          const signed = op === Op.I64_DIV_S || op === Op.I64_REM_S;
          const x = get64(R, ra, signed), y = get64(R, rb, signed);
          if (y === 0n) { status = Status.DivByZero; break; }
          if (op === Op.I64_DIV_S && x === -(1n << 63n) && y === -1n) { status = Status.Overflow; break; }
          set64(R, rd, op === Op.I64_DIV_S || op === Op.I64_DIV_U ? x / y : x % y);
          break;
        }
        case Op.I64_AND: { const hi = R[ra + 1]! & R[rb + 1]!; R[rd] = R[ra]! & R[rb]!; R[rd + 1] = hi; break; }
        case Op.I64_OR: { const hi = R[ra + 1]! | R[rb + 1]!; R[rd] = R[ra]! | R[rb]!; R[rd + 1] = hi; break; }
        case Op.I64_XOR: { const hi = R[ra + 1]! ^ R[rb + 1]!; R[rd] = R[ra]! ^ R[rb]!; R[rd + 1] = hi; break; }
        case Op.I64_SHL: shl64(R, rd, R[ra]!, R[ra + 1]!, R[rb]! & 63); break;
        case Op.I64_SHR_S: shr64(R, rd, R[ra]!, R[ra + 1]!, R[rb]! & 63, true); break;
        case Op.I64_SHR_U: shr64(R, rd, R[ra]!, R[ra + 1]!, R[rb]! & 63, false); break;
        case Op.I64_ROTL: rotl64(R, rd, R[ra]!, R[ra + 1]!, R[rb]! & 63); break;
        case Op.I64_ROTR: rotl64(R, rd, R[ra]!, R[ra + 1]!, (64 - (R[rb]! & 63)) & 63); break;
        case Op.I64_EQ: { const v = R[ra] === R[rb] && R[ra + 1] === R[rb + 1] ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_NE: { const v = R[ra] !== R[rb] || R[ra + 1] !== R[rb + 1] ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_LT_S: { const v = cmp64(R, ra, rb, true) < 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_LT_U: { const v = cmp64(R, ra, rb, false) < 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_GT_S: { const v = cmp64(R, ra, rb, true) > 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_GT_U: { const v = cmp64(R, ra, rb, false) > 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_LE_S: { const v = cmp64(R, ra, rb, true) <= 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_LE_U: { const v = cmp64(R, ra, rb, false) <= 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_GE_S: { const v = cmp64(R, ra, rb, true) >= 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_GE_U: { const v = cmp64(R, ra, rb, false) >= 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_CLZ: { const h = R[ra + 1]!; const v = h !== 0 ? Math.clz32(h) : 32 + Math.clz32(R[ra]!); R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_CTZ: {
          const l = R[ra]!, h = R[ra + 1]!;
          const v = l !== 0 ? ctz32(l) : h !== 0 ? 32 + ctz32(h) : 64;
          R[rd] = v; R[rd + 1] = 0; break;
        }
        case Op.I64_POPCNT: { const v = popcnt32(R[ra]!) + popcnt32(R[ra + 1]!); R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_EQZ: { const v = R[ra] === 0 && R[ra + 1] === 0 ? 1 : 0; R[rd] = v; R[rd + 1] = 0; break; }
        case Op.I64_EXTEND8_S: { const v = (R[ra]! << 24) >> 24; R[rd] = v; R[rd + 1] = v >> 31; break; }
        case Op.I64_EXTEND16_S: { const v = (R[ra]! << 16) >> 16; R[rd] = v; R[rd + 1] = v >> 31; break; }
        case Op.I64_EXTEND32_S: { const v = R[ra]!; R[rd] = v; R[rd + 1] = v >> 31; break; }
        // ---- f32 (binary64 arithmetic rounded once on the Float32Array store; NaN canonical)
        case Op.F32_ADD: { const x = F[ra]! + F[rb]!; if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_SUB: { const x = F[ra]! - F[rb]!; if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_MUL: { const x = F[ra]! * F[rb]!; if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_DIV: { const x = F[ra]! / F[rb]!; if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_MIN: { const x = Math.min(F[ra]!, F[rb]!); if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_MAX: { const x = Math.max(F[ra]!, F[rb]!); if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_COPYSIGN: R[rd] = (R[ra]! & 0x7fffffff) | (R[rb]! & -2147483648); R[rd + 1] = 0; break;
        case Op.F32_EQ: R[rd] = F[ra] === F[rb] ? 1 : 0; R[rd + 1] = 0; break;
        case Op.F32_NE: R[rd] = F[ra] !== F[rb] ? 1 : 0; R[rd + 1] = 0; break;
        case Op.F32_LT: R[rd] = F[ra]! < F[rb]! ? 1 : 0; R[rd + 1] = 0; break;
        case Op.F32_GT: R[rd] = F[ra]! > F[rb]! ? 1 : 0; R[rd + 1] = 0; break;
        case Op.F32_LE: R[rd] = F[ra]! <= F[rb]! ? 1 : 0; R[rd + 1] = 0; break;
        case Op.F32_GE: R[rd] = F[ra]! >= F[rb]! ? 1 : 0; R[rd + 1] = 0; break;
        case Op.F32_ABS: R[rd] = R[ra]! & 0x7fffffff; R[rd + 1] = 0; break;
        case Op.F32_NEG: R[rd] = R[ra]! ^ -2147483648; R[rd + 1] = 0; break;
        case Op.F32_SQRT: { const x = Math.sqrt(F[ra]!); if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_CEIL: { const x = Math.ceil(F[ra]!); if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_FLOOR: { const x = Math.floor(F[ra]!); if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_TRUNC: { const x = Math.trunc(F[ra]!); if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        case Op.F32_NEAREST: { const x = roundEven(F[ra]!); if (x !== x) R[rd] = NAN; else F[rd] = x; R[rd + 1] = 0; break; }
        // ---- conversions
        case Op.I32_WRAP_I64: R[rd] = R[ra]!; R[rd + 1] = 0; break;
        case Op.I64_EXTEND_I32_S: { const v = R[ra]!; R[rd] = v; R[rd + 1] = v >> 31; break; }
        case Op.I64_EXTEND_I32_U: R[rd] = R[ra]!; R[rd + 1] = 0; break;
        case Op.I32_TRUNC_SAT_F32_S: {
          const x = F[ra]!;
          R[rd] = x !== x ? 0 : x >= 2147483648 ? 2147483647 : x < -2147483648 ? -2147483648 : Math.trunc(x) | 0;
          R[rd + 1] = 0; break;
        }
        case Op.I32_TRUNC_SAT_F32_U: {
          const x = F[ra]!;
          R[rd] = !(x > -1) ? 0 : x >= TWO32 ? -1 : Math.trunc(x) | 0;
          R[rd + 1] = 0; break;
        }
        case Op.I64_TRUNC_SAT_F32_S: {
          const x = F[ra]!;
          if (x !== x) { R[rd] = 0; R[rd + 1] = 0; } else if (x >= TWO63) { R[rd] = -1; R[rd + 1] = 0x7fffffff; } else if (x < -TWO63) { R[rd] = 0; R[rd + 1] = -2147483648; } else setInt(R, rd, Math.trunc(x));
          break;
        }
        case Op.I64_TRUNC_SAT_F32_U: {
          const x = F[ra]!;
          if (!(x > -1)) { R[rd] = 0; R[rd + 1] = 0; } else if (x >= TWO64) { R[rd] = -1; R[rd + 1] = -1; } else setInt(R, rd, Math.trunc(x));
          break;
        }
        case Op.F32_CONVERT_I32_S: F[rd] = R[ra]!; R[rd + 1] = 0; break;
        case Op.F32_CONVERT_I32_U: F[rd] = R[ra]! >>> 0; R[rd + 1] = 0; break;
        case Op.F32_CONVERT_I64_S: R[rd] = i64ToF32(get64(R, ra, false)) | 0; R[rd + 1] = 0; break;
        case Op.F32_CONVERT_I64_U: R[rd] = u64ToF32(get64(R, ra, false)) | 0; R[rd + 1] = 0; break;
        // ---- memory: dense fast path; the slow path handles bounds, sparse leaves and traps
        case Op.LOAD32: {
          const ea = (R[ra]! >>> 0) + (D[b + F_OFF]! >>> 0);
          if (ea + 4 > dense || (ea & 3) !== 0) { status = this.slowAccess(D[b + F_OP]!, ea, rd, rb); if (status) break; }
          else { R[rd] = i32[ea >>> 2]!; R[rd + 1] = 0; }
          break;
        }
        case Op.LOAD64: {
          const ea = (R[ra]! >>> 0) + (D[b + F_OFF]! >>> 0);
          if (ea + 8 > dense || (ea & 7) !== 0) { status = this.slowAccess(D[b + F_OP]!, ea, rd, rb); if (status) break; }
          else { const w = ea >>> 2; R[rd] = i32[w]!; R[rd + 1] = i32[w + 1]!; }
          break;
        }
        case Op.I32_LOAD8_S: case Op.I32_LOAD8_U: case Op.I32_LOAD16_S: case Op.I32_LOAD16_U:
        case Op.I64_LOAD8_S: case Op.I64_LOAD8_U: case Op.I64_LOAD16_S: case Op.I64_LOAD16_U: case Op.I64_LOAD32_S: case Op.I64_LOAD32_U: {
          const op = D[b + F_OP]!;
          const ea = (R[ra]! >>> 0) + (D[b + F_OFF]! >>> 0);
          const size = ACCESS_SIZE[op]!;
          if (ea + size > dense || (ea & (size - 1)) !== 0) { status = this.slowAccess(op, ea, rd, rb); if (status) break; }
          else {
            let v: number;
            switch (op) {
              case Op.I32_LOAD8_S: case Op.I64_LOAD8_S: v = i8[ea]!; break;
              case Op.I32_LOAD8_U: case Op.I64_LOAD8_U: v = u8[ea]!; break;
              case Op.I32_LOAD16_S: case Op.I64_LOAD16_S: v = i16[ea >>> 1]!; break;
              case Op.I32_LOAD16_U: case Op.I64_LOAD16_U: v = u16[ea >>> 1]!; break;
              default: v = i32[ea >>> 2]!;
            }
            R[rd] = v;
            R[rd + 1] = op === Op.I64_LOAD8_S || op === Op.I64_LOAD16_S || op === Op.I64_LOAD32_S ? v >> 31 : 0;
          }
          break;
        }
        case Op.STORE32: {
          const ea = (R[ra]! >>> 0) + (D[b + F_OFF]! >>> 0);
          if (ea + 4 > dense || (ea & 3) !== 0) { status = this.slowAccess(Op.STORE32, ea, rd, rb); if (status) break; }
          else {
            i32[ea >>> 2] = R[rb]!;
            const leaf = ea >>> 5;
            dirty[leaf] = 1;
            if (((leaf - first) >>> 0) < count) this.codeWritten(leaf);
          }
          break;
        }
        case Op.STORE8: case Op.STORE16: case Op.STORE64: {
          const op = D[b + F_OP]!;
          const ea = (R[ra]! >>> 0) + (D[b + F_OFF]! >>> 0);
          const size = ACCESS_SIZE[op]!;
          if (ea + size > dense || (ea & (size - 1)) !== 0) { status = this.slowAccess(op, ea, rd, rb); if (status) break; }
          else {
            if (op === Op.STORE8) u8[ea] = R[rb]!;
            else if (op === Op.STORE16) u16[ea >>> 1] = R[rb]!;
            else { const w = ea >>> 2; i32[w] = R[rb]!; i32[w + 1] = R[rb + 1]!; }
            const leaf = ea >>> 5;
            dirty[leaf] = 1;
            if (((leaf - first) >>> 0) < count) this.codeWritten(leaf);
          }
          break;
        }
        default: status = Status.Illegal;
      }
      n++;
      if (status !== 0) break;
      pc = (pc + 1) >>> 0;
    }
    this.pc = pc;
    this.status = status;
    this.steps += n;
    return n;
  }

  /**
   * A memory access the fast path does not take: out of bounds (trap), unaligned (trap) or beyond the
   * dense part (sparse leaves). Returns the trap status, or 0 when the access was performed.
   */
  private slowAccess(op: number, ea: number, rd: number, rb: number): number {
    const size = ACCESS_SIZE[op]!;
    if (ea + size > MEM_BYTES) return Status.OutOfBounds;
    if (ea % size !== 0) return Status.Unaligned;
    const R = this.R;
    if (op >= Op.STORE8) {
      const bytes = new Uint8Array(8);
      const v = new DataView(bytes.buffer);
      v.setInt32(0, R[rb]!, true);
      v.setInt32(4, R[rb + 1]!, true);
      this.mem.write(ea, bytes.subarray(0, size));
      const leaf = Math.floor(ea / LEAF_BYTES);
      if (ea < this.denseBytes) this.dirty[leaf] = 1;
      else this.sparseDirty.add(leaf);
      if (leaf - this.codeFirst >= 0 && leaf - this.codeFirst < this.codeCount) this.codeWritten(leaf);
      return 0;
    }
    const raw = this.mem.read(ea, size);
    const v = new DataView(raw.buffer);
    let lo: number, hi = 0;
    switch (op) {
      case Op.LOAD32: lo = v.getInt32(0, true); break;
      case Op.LOAD64: lo = v.getInt32(0, true); hi = v.getInt32(4, true); break;
      case Op.I32_LOAD8_S: lo = v.getInt8(0); break;
      case Op.I32_LOAD8_U: case Op.I64_LOAD8_U: lo = v.getUint8(0); break;
      case Op.I32_LOAD16_S: lo = v.getInt16(0, true); break;
      case Op.I32_LOAD16_U: case Op.I64_LOAD16_U: lo = v.getUint16(0, true); break;
      case Op.I64_LOAD8_S: lo = v.getInt8(0); hi = lo >> 31; break;
      case Op.I64_LOAD16_S: lo = v.getInt16(0, true); hi = lo >> 31; break;
      case Op.I64_LOAD32_S: lo = v.getInt32(0, true); hi = lo >> 31; break;
      case Op.I64_LOAD32_U: lo = v.getInt32(0, true); break;
      default: throw new Error(`not a load: ${op}`);
    }
    R[rd] = lo;
    R[rd + 1] = hi;
    return 0;
  }
}

const ZERO_LEAF = new Uint8Array(LEAF_BYTES);

const ACCESS_SIZE = new Uint8Array(256);
for (const [op, size] of [
  [Op.LOAD32, 4], [Op.I32_LOAD8_S, 1], [Op.I32_LOAD8_U, 1], [Op.I32_LOAD16_S, 2], [Op.I32_LOAD16_U, 2], [Op.LOAD64, 8],
  [Op.I64_LOAD8_S, 1], [Op.I64_LOAD8_U, 1], [Op.I64_LOAD16_S, 2], [Op.I64_LOAD16_U, 2], [Op.I64_LOAD32_S, 4], [Op.I64_LOAD32_U, 4],
  [Op.STORE8, 1], [Op.STORE16, 2], [Op.STORE32, 4], [Op.STORE64, 8],
] as const) ACCESS_SIZE[op] = size;

function get64(R: Int32Array, r: number, signed: boolean): bigint {
  const v = (BigInt(R[r + 1]! >>> 0) << 32n) | BigInt(R[r]! >>> 0);
  return signed ? BigInt.asIntN(64, v) : v;
}

function set64(R: Int32Array, r: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  R[r] = Number(u & 0xffffffffn) | 0;
  R[r + 1] = Number(u >> 32n) | 0;
}
