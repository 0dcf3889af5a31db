/**
 * binaryen IR (one optimised, flattened function) → virtual OPVM code (lower-vcode.ts). Every wasm
 * local becomes a virtual register; operands that are not a local.get or a constant (the IR is not
 * entirely flat) are evaluated into fresh virtual registers. Structured control flow becomes labels
 * and jumps: `block` labels its end, `loop` its start, `if` a BRZ over its then-arm, `br_if` a BRNZ,
 * `br_table` a compare chain, `return` a HALT. Anything without an OPVM equivalent (f64, trapping
 * float→int, calls, memory.grow …) is a LowerError naming the wasm instruction.
 */
import binaryen from 'binaryen';
import type { Opcode } from './isa.ts';
import { Op } from './isa.ts';
import type { VCode, VInsn, VLoop, VOperand } from './lower-vcode.ts';
import { isImm } from './lower-vcode.ts';

type Ref = binaryen.ExpressionRef;

/** Thrown for a wasm construct the OPVM cannot run; the message names it (lower.ts adds the kernel). */
export class UnsupportedWasm extends Error {}

const B = binaryen as unknown as Record<string, number>;
const opMap = (pairs: [string, Opcode][]): Map<number, Opcode> => {
  const m = new Map<number, Opcode>();
  for (const [name, op] of pairs) {
    const v = B[name];
    if (typeof v !== 'number') throw new Error(`binaryen has no operation ${name}`);
    m.set(v, op);
  }
  return m;
};

/** Reinterpretations between i32 and f32: both are the same low 32 bits of a register. */
const REINTERPRET = new Set([B.ReinterpretFloat32!, B.ReinterpretInt32!]);

const UNARY = opMap([
  ['ClzInt32', Op.I32_CLZ], ['CtzInt32', Op.I32_CTZ], ['PopcntInt32', Op.I32_POPCNT], ['EqZInt32', Op.I32_EQZ],
  ['ExtendS8Int32', Op.I32_EXTEND8_S], ['ExtendS16Int32', Op.I32_EXTEND16_S],
  ['ClzInt64', Op.I64_CLZ], ['CtzInt64', Op.I64_CTZ], ['PopcntInt64', Op.I64_POPCNT], ['EqZInt64', Op.I64_EQZ],
  ['ExtendS8Int64', Op.I64_EXTEND8_S], ['ExtendS16Int64', Op.I64_EXTEND16_S], ['ExtendS32Int64', Op.I64_EXTEND32_S],
  ['NegFloat32', Op.F32_NEG], ['AbsFloat32', Op.F32_ABS], ['SqrtFloat32', Op.F32_SQRT], ['CeilFloat32', Op.F32_CEIL],
  ['FloorFloat32', Op.F32_FLOOR], ['TruncFloat32', Op.F32_TRUNC], ['NearestFloat32', Op.F32_NEAREST],
  ['WrapInt64', Op.I32_WRAP_I64], ['ExtendSInt32', Op.I64_EXTEND_I32_S], ['ExtendUInt32', Op.I64_EXTEND_I32_U],
  ['TruncSatSFloat32ToInt32', Op.I32_TRUNC_SAT_F32_S], ['TruncSatUFloat32ToInt32', Op.I32_TRUNC_SAT_F32_U],
  ['TruncSatSFloat32ToInt64', Op.I64_TRUNC_SAT_F32_S], ['TruncSatUFloat32ToInt64', Op.I64_TRUNC_SAT_F32_U],
  ['ConvertSInt32ToFloat32', Op.F32_CONVERT_I32_S], ['ConvertUInt32ToFloat32', Op.F32_CONVERT_I32_U],
  ['ConvertSInt64ToFloat32', Op.F32_CONVERT_I64_S], ['ConvertUInt64ToFloat32', Op.F32_CONVERT_I64_U],
]);

const INT_BINARY: [string, string][] = [
  ['Add', 'ADD'], ['Sub', 'SUB'], ['Mul', 'MUL'], ['DivS', 'DIV_S'], ['DivU', 'DIV_U'], ['RemS', 'REM_S'], ['RemU', 'REM_U'],
  ['And', 'AND'], ['Or', 'OR'], ['Xor', 'XOR'], ['Shl', 'SHL'], ['ShrS', 'SHR_S'], ['ShrU', 'SHR_U'], ['RotL', 'ROTL'], ['RotR', 'ROTR'],
  ['Eq', 'EQ'], ['Ne', 'NE'], ['LtS', 'LT_S'], ['LtU', 'LT_U'], ['GtS', 'GT_S'], ['GtU', 'GT_U'],
  ['LeS', 'LE_S'], ['LeU', 'LE_U'], ['GeS', 'GE_S'], ['GeU', 'GE_U'],
];
const OPS = Op as Record<string, Opcode>;
const BINARY = opMap([
  ...INT_BINARY.map(([b, o]): [string, Opcode] => [`${b}Int32`, OPS[`I32_${o}`]!]),
  ...INT_BINARY.map(([b, o]): [string, Opcode] => [`${b}Int64`, OPS[`I64_${o}`]!]),
  ['AddFloat32', Op.F32_ADD], ['SubFloat32', Op.F32_SUB], ['MulFloat32', Op.F32_MUL], ['DivFloat32', Op.F32_DIV],
  ['CopySignFloat32', Op.F32_COPYSIGN], ['MinFloat32', Op.F32_MIN], ['MaxFloat32', Op.F32_MAX],
  ['EqFloat32', Op.F32_EQ], ['NeFloat32', Op.F32_NE], ['LtFloat32', Op.F32_LT], ['LeFloat32', Op.F32_LE],
  ['GtFloat32', Op.F32_GT], ['GeFloat32', Op.F32_GE],
]);

/** Binary ops with A op B = B op A (bit for bit, NaNs canonical), and comparisons with their mirror. */
const SWAPPED = new Map<Opcode, Opcode>();
for (const o of [Op.I32_ADD, Op.I32_MUL, Op.I32_AND, Op.I32_OR, Op.I32_XOR, Op.I32_EQ, Op.I32_NE,
  Op.I64_ADD, Op.I64_MUL, Op.I64_AND, Op.I64_OR, Op.I64_XOR, Op.I64_EQ, Op.I64_NE,
  Op.F32_ADD, Op.F32_MUL, Op.F32_MIN, Op.F32_MAX, Op.F32_EQ, Op.F32_NE] as Opcode[]) SWAPPED.set(o, o);
for (const [x, y] of [[Op.I32_LT_S, Op.I32_GT_S], [Op.I32_LT_U, Op.I32_GT_U], [Op.I32_LE_S, Op.I32_GE_S], [Op.I32_LE_U, Op.I32_GE_U],
  [Op.I64_LT_S, Op.I64_GT_S], [Op.I64_LT_U, Op.I64_GT_U], [Op.I64_LE_S, Op.I64_GE_S], [Op.I64_LE_U, Op.I64_GE_U],
  [Op.F32_LT, Op.F32_GT], [Op.F32_LE, Op.F32_GE]] as [Opcode, Opcode][]) { SWAPPED.set(x, y); SWAPPED.set(y, x); }

/** binaryen's C API and runner flags that its typings leave out (present in binaryen 132's build). */
const C = binaryen as unknown as {
  _BinaryenExpressionCopy(ref: Ref, module: number): Ref;
  _BinaryenConstGetValueI32(ref: Ref): number;
  ExpressionRunner: { Flags: { Default: number } };
};

const f32Bits = new Uint32Array(1);
const f32View = new Float32Array(f32Bits.buffer);

/** Text of an expression for error messages (its first line). */
function describe(ref: Ref): string {
  try {
    return binaryen.emitText(ref).trim().split('\n')[0]!.slice(0, 80);
  } catch {
    return `expression id ${binaryen.getExpressionId(ref)}`;
  }
}

export interface WasmAccess {
  /** Access width in bytes and offset, for the caller's alignment checks. */
  (bytes: number, offset: number, what: string): void;
}

/** Lowers one function body. `onAccess` sees every load and store (alignment checks). */
export class WasmLowerer {
  private readonly insns: VInsn[] = [];
  private readonly labels: number[] = [];
  private readonly loops: VLoop[] = [];
  private readonly scopes: { name: string; label: number }[] = [];
  private depth = 0;
  private vregs: number;

  constructor(private readonly m: binaryen.Module, locals: number, private readonly onAccess: WasmAccess) {
    this.vregs = locals;
  }

  /** The body of a function with params (start, end) in locals 0 and 1. */
  lower(body: Ref): VCode {
    this.emit(Op.MOV, 0, null, { imm: 0n }, null, 0, -1, 'start = 0');
    this.emit(Op.MOV, 1, null, { imm: 0x7fffffffn }, null, 0, -1, 'end = 0x7FFFFFFF');
    this.stmt(body);
    this.emit(Op.HALT, -1, null, null, null, 0, -1, 'function end');
    return { insns: this.insns, labels: this.labels, loops: this.loops, vregs: this.vregs };
  }

  private emit(op: Opcode, rd: number, a: VOperand | null, b: VOperand | null, c: VOperand | null, off: number, label: number, what: string): void {
    this.insns.push({ op, rd, a, b, c, off, label, depth: this.depth, what });
  }

  private newLabel(): number {
    this.labels.push(-1);
    return this.labels.length - 1;
  }

  private place(l: number): void {
    this.labels[l] = this.insns.length;
  }

  private fresh(): number {
    return this.vregs++;
  }

  private target(name: string, what: string): number {
    for (let i = this.scopes.length - 1; i >= 0; i--) if (this.scopes[i]!.name === name) return this.scopes[i]!.label;
    throw new UnsupportedWasm(`${what}: branch to unknown label ${name}`);
  }

  private stmt(ref: Ref): void {
    const id = binaryen.getExpressionId(ref);
    switch (id) {
      case binaryen.BlockId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.BlockInfo;
        if (info.type !== binaryen.none && info.type !== binaryen.unreachable) throw new UnsupportedWasm(`${describe(ref)}: block with a value (the IR is not flat)`);
        if (!info.name) { for (const c of info.children) this.stmt(c); return; }
        const l = this.newLabel();
        this.scopes.push({ name: info.name, label: l });
        for (const c of info.children) this.stmt(c);
        this.scopes.pop();
        this.place(l);
        return;
      }
      case binaryen.LoopId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.LoopInfo;
        if (info.type !== binaryen.none && info.type !== binaryen.unreachable) throw new UnsupportedWasm(`${describe(ref)}: loop with a value`);
        const l = this.newLabel();
        this.place(l);
        this.loops.push({ label: l, name: info.name || null });
        this.depth++;
        if (info.name) this.scopes.push({ name: info.name, label: l });
        this.stmt(info.body);
        if (info.name) this.scopes.pop();
        this.depth--;
        return;
      }
      case binaryen.IfId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.IfInfo;
        if (info.type !== binaryen.none && info.type !== binaryen.unreachable) throw new UnsupportedWasm(`${describe(ref)}: if with a value`);
        const cond = this.operand(info.condition);
        const lElse = this.newLabel();
        this.emit(Op.BRZ, -1, cond, null, null, 0, lElse, 'if');
        this.stmt(info.ifTrue);
        if (info.ifFalse) {
          const lEnd = this.newLabel();
          this.emit(Op.JMP, -1, null, null, null, 0, lEnd, 'else');
          this.place(lElse);
          this.stmt(info.ifFalse);
          this.place(lEnd);
        } else {
          this.place(lElse);
        }
        return;
      }
      case binaryen.BreakId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.BreakInfo;
        if (info.value) throw new UnsupportedWasm(`${describe(ref)}: branch with a value`);
        const l = this.target(info.name, 'br');
        if (info.condition) this.emit(Op.BRNZ, -1, this.operand(info.condition), null, null, 0, l, 'br_if');
        else this.emit(Op.JMP, -1, null, null, null, 0, l, 'br');
        return;
      }
      case binaryen.SwitchId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.SwitchInfo;
        if (info.value) throw new UnsupportedWasm(`${describe(ref)}: br_table with a value`);
        const x = this.operand(info.condition);
        const t = this.fresh();
        info.names.forEach((name, i) => {
          this.emit(Op.I32_EQ, t, x, { imm: BigInt(i) }, null, 0, -1, 'br_table');
          this.emit(Op.BRNZ, -1, { reg: t }, null, null, 0, this.target(name, 'br_table'), 'br_table');
        });
        this.emit(Op.JMP, -1, null, null, null, 0, this.target(info.defaultName ?? '', 'br_table'), 'br_table');
        return;
      }
      case binaryen.LocalSetId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.LocalSetInfo;
        if (info.isTee) throw new UnsupportedWasm(`${describe(ref)}: local.tee (the IR is not flat)`);
        this.expr(info.value, info.index);
        return;
      }
      case binaryen.StoreId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.StoreInfo;
        if (info.isAtomic) throw new UnsupportedWasm(`${describe(ref)}: atomic store`);
        const op = info.bytes === 1 ? Op.STORE8 : info.bytes === 2 ? Op.STORE16 : info.bytes === 4 ? Op.STORE32 : info.bytes === 8 ? Op.STORE64 : undefined;
        const vt = binaryen.getExpressionType(info.value);
        if (op === undefined || vt === binaryen.f64 || vt === binaryen.v128) throw new UnsupportedWasm(`${describe(ref)}: store without an OPVM equivalent`);
        this.onAccess(info.bytes, info.offset, describe(ref));
        const ptr = this.operand(info.ptr);
        const value = this.operand(info.value);
        this.emit(op, -1, ptr, value, null, info.offset, -1, 'store');
        return;
      }
      case binaryen.DropId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.DropInfo;
        const vid = binaryen.getExpressionId(info.value);
        if (vid !== binaryen.LocalGetId && vid !== binaryen.ConstId) this.expr(info.value, this.fresh());
        return;
      }
      case binaryen.ReturnId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.ReturnInfo;
        if (info.value) throw new UnsupportedWasm(`${describe(ref)}: return with a value`);
        this.emit(Op.HALT, -1, null, null, null, 0, -1, 'return');
        return;
      }
      case binaryen.NopId: return;
      case binaryen.UnreachableId:
        this.emit(Op.UNREACHABLE, -1, null, null, null, 0, -1, 'unreachable');
        return;
      default:
        throw new UnsupportedWasm(`${describe(ref)}: no OPVM equivalent`);
    }
  }

  /** A value as an operand: a local, a constant, or a fresh register holding the evaluated expression. */
  private operand(ref: Ref): VOperand {
    const id = binaryen.getExpressionId(ref);
    if (id === binaryen.LocalGetId) return { reg: (binaryen.getExpressionInfo(ref) as binaryen.LocalGetInfo).index };
    if (id === binaryen.ConstId) return { imm: this.constant(ref) };
    const t = this.fresh();
    this.expr(ref, t);
    return { reg: t };
  }

  /** A constant in register form: i32 and f32 bits zero-extended, i64 as u64. */
  private constant(ref: Ref): bigint {
    const info = binaryen.getExpressionInfo(ref) as binaryen.ConstInfo;
    switch (info.type) {
      case binaryen.i32: return BigInt((info.value as number) >>> 0);
      case binaryen.i64: {
        // binaryen 132 reports an i64 constant as a bigint (older versions as {low, high}).
        const v = info.value as unknown;
        if (typeof v === 'bigint') return BigInt.asUintN(64, v);
        const lh = v as { low: number; high: number };
        return (BigInt(lh.high >>> 0) << 32n) | BigInt(lh.low >>> 0);
      }
      case binaryen.f32: {
        const x = info.value as number;
        if (x === x) { f32View[0] = x; return BigInt(f32Bits[0]!); }
        // A NaN's payload does not survive the trip through a JS number: let binaryen reinterpret it.
        const runner = new binaryen.ExpressionRunner(this.m, C.ExpressionRunner.Flags.Default, 0, 0);
        const bits = runner.runAndDispose(this.m.i32.reinterpret(C._BinaryenExpressionCopy(ref, this.m.ptr)));
        return BigInt(C._BinaryenConstGetValueI32(bits) >>> 0);
      }
      default: throw new UnsupportedWasm(`${describe(ref)}: constant of a type the OPVM lacks`);
    }
  }

  /** Evaluate `ref` into virtual register `dst`. */
  private expr(ref: Ref, dst: number): void {
    const id = binaryen.getExpressionId(ref);
    const ty = binaryen.getExpressionType(ref);
    if (ty === binaryen.f64 || ty === binaryen.v128) throw new UnsupportedWasm(`${describe(ref)}: ${ty === binaryen.f64 ? 'f64' : 'v128'} value`);
    switch (id) {
      case binaryen.LocalGetId: {
        const src = (binaryen.getExpressionInfo(ref) as binaryen.LocalGetInfo).index;
        if (src !== dst) this.emit(Op.MOV, dst, null, { reg: src }, null, 0, -1, 'local.get');
        return;
      }
      case binaryen.ConstId:
        this.emit(Op.MOV, dst, null, { imm: this.constant(ref) }, null, 0, -1, 'const');
        return;
      case binaryen.UnaryId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.UnaryInfo;
        const a = this.operand(info.value);
        if (REINTERPRET.has(info.op)) {
          this.emit(Op.MOV, dst, null, a, null, 0, -1, 'reinterpret');
          return;
        }
        const op = UNARY.get(info.op);
        if (op === undefined) throw new UnsupportedWasm(`${describe(ref)}: no OPVM equivalent`);
        this.emit(op, dst, a, null, null, 0, -1, describe(ref));
        return;
      }
      case binaryen.BinaryId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.BinaryInfo;
        let op = BINARY.get(info.op);
        if (op === undefined) throw new UnsupportedWasm(`${describe(ref)}: no OPVM equivalent`);
        let a = this.operand(info.left), b = this.operand(info.right);
        const mirror = SWAPPED.get(op);
        if (isImm(a) && !isImm(b) && mirror !== undefined) { [a, b] = [b, a]; op = mirror; }
        this.emit(op, dst, a, b, null, 0, -1, 'binary');
        return;
      }
      case binaryen.SelectId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.SelectInfo;
        const a = this.operand(info.ifTrue), b = this.operand(info.ifFalse), c = this.operand(info.condition);
        this.emit(Op.SELECT, dst, a, b, c, 0, -1, 'select');
        return;
      }
      case binaryen.LoadId: {
        const info = binaryen.getExpressionInfo(ref) as binaryen.LoadInfo;
        if (info.isAtomic) throw new UnsupportedWasm(`${describe(ref)}: atomic load`);
        const op = loadOp(info.type, info.bytes, info.isSigned);
        if (op === undefined) throw new UnsupportedWasm(`${describe(ref)}: load without an OPVM equivalent`);
        this.onAccess(info.bytes, info.offset, describe(ref));
        this.emit(op, dst, this.operand(info.ptr), null, null, info.offset, -1, 'load');
        return;
      }
      default:
        throw new UnsupportedWasm(`${describe(ref)}: no OPVM equivalent`);
    }
  }
}

function loadOp(type: binaryen.Type, bytes: number, signed: boolean): Opcode | undefined {
  if (type === binaryen.f32) return bytes === 4 ? Op.LOAD32 : undefined;
  if (type === binaryen.i32) {
    if (bytes === 4) return Op.LOAD32;
    if (bytes === 2) return signed ? Op.I32_LOAD16_S : Op.I32_LOAD16_U;
    if (bytes === 1) return signed ? Op.I32_LOAD8_S : Op.I32_LOAD8_U;
  }
  if (type === binaryen.i64) {
    if (bytes === 8) return Op.LOAD64;
    if (bytes === 4) return signed ? Op.I64_LOAD32_S : Op.I64_LOAD32_U;
    if (bytes === 2) return signed ? Op.I64_LOAD16_S : Op.I64_LOAD16_U;
    if (bytes === 1) return signed ? Op.I64_LOAD8_S : Op.I64_LOAD8_U;
  }
  return undefined;
}
