/**
 * Basic blocks of OPVM code translated to JavaScript, for the interpreter's fast path. Each block runs
 * as straight-line JS over the same register file (int32 halves, a Float32Array alias) and memory views
 * as the switch interpreter, with register indices and immediates as constants.
 *
 * The compiled code implements only the ordinary case of each instruction. Before any instruction that
 * would trap, touch memory outside the dense part, store into the code window, or that is rare and
 * complex (64-bit division, i64 → f32 conversion), it returns with the exact step count and the pc
 * of that instruction, and the switch interpreter executes it. So the compiled path never decides an
 * exceptional case, and both paths compute the same function (tested against the verifier).
 *
 * Blocks are grouped into chunks of at most CHUNK_INSNS instructions (one JS function each, a switch
 * over its block leaders) so that V8 optimises every function; a jump out of a chunk returns to the
 * dispatcher. Compiled chunks are cached by code content.
 */
import { decodeInsn, Op } from '../../compiler/opvm/isa.ts';
import type { Insn } from '../../compiler/opvm/isa.ts';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import { i64ToF32, u64ToF32 } from './softfloat.ts';

/** (R, F, u8, i8, u16, i16, i32, dirty, dense, st, budget, h) → steps executed; st[0] is pc in and out, st[1] the status out. */
export type ChunkFn = (
  R: Int32Array, F: Float32Array, u8: Uint8Array, i8: Int8Array, u16: Uint16Array, i16: Int16Array, i32: Int32Array,
  dirty: Uint8Array, dense: number, st: Int32Array, budget: number, h: typeof HELPERS,
) => number;

export interface CompiledCode {
  /** Chunk function per window index, or -1 when the instruction does not start a block. */
  readonly chunkAt: Int32Array;
  readonly chunks: readonly ChunkFn[];
  /** Instructions in the block starting at each window index (0 when not a leader). */
  readonly blockLen: Int32Array;
}

const CHUNK_INSNS = 160;
const NAN = 0x7fc00000 | 0;

/** Helpers the generated code calls for the less common operations. */
export const HELPERS = {
  popcnt32(x: number): number {
    x = x - ((x >>> 1) & 0x55555555);
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  },
  ctz32(x: number): number {
    return x === 0 ? 32 : 31 - Math.clz32(x & -x);
  },
  mulHiU32(a: number, b: number): number {
    const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
    const t = a0 * b0;
    const m1 = a1 * b0 + (t >>> 16);
    const m2 = a0 * b1 + (m1 & 0xffff);
    return (a1 * b1 + Math.floor(m1 / 65536) + Math.floor(m2 / 65536)) | 0;
  },
  /** An integral double in (−2^64, 2^64) into register halves rd, rd + 1, modulo 2^64. */
  setInt(R: Int32Array, rd: number, t: number): void {
    const hi = Math.floor(t / 4294967296);
    R[rd] = (t - hi * 4294967296) | 0;
    R[rd + 1] = hi | 0;
  },
  shl64(R: Int32Array, rd: number, lo: number, hi: number, k: number): void {
    if (k === 0) { R[rd] = lo; R[rd + 1] = hi; } else if (k < 32) { R[rd + 1] = (hi << k) | (lo >>> (32 - k)); R[rd] = lo << k; } else { R[rd + 1] = lo << (k - 32); R[rd] = 0; }
  },
  shr64(R: Int32Array, rd: number, lo: number, hi: number, k: number, signed: boolean): void {
    if (k === 0) { R[rd] = lo; R[rd + 1] = hi; return; }
    if (k < 32) { R[rd] = (lo >>> k) | (hi << (32 - k)); R[rd + 1] = signed ? hi >> k : hi >>> k; } else { R[rd] = signed ? hi >> (k - 32) : hi >>> (k - 32); R[rd + 1] = signed ? hi >> 31 : 0; }
  },
  rotl64(R: Int32Array, rd: number, lo: number, hi: number, k: number): void {
    if (k >= 32) { const t = lo; lo = hi; hi = t; k -= 32; }
    if (k === 0) { R[rd] = lo; R[rd + 1] = hi; return; }
    const nlo = (lo << k) | (hi >>> (32 - k)), nhi = (hi << k) | (lo >>> (32 - k));
    R[rd] = nlo; R[rd + 1] = nhi;
  },
  cmp64(al: number, ah: number, bl: number, bh: number, signed: boolean): number {
    if (ah !== bh) return signed ? (ah < bh ? -1 : 1) : ((ah >>> 0) < (bh >>> 0) ? -1 : 1);
    const x = al >>> 0, y = bl >>> 0;
    return x === y ? 0 : x < y ? -1 : 1;
  },
  roundEven(x: number): number {
    if (!(Math.abs(x) < 8388608)) return x;
    const f = Math.floor(x), d = x - f;
    let r = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
    if (r === 0 && (x < 0 || Object.is(x, -0))) r = -0;
    return r;
  },
  cvtI64(lo: number, hi: number, signed: boolean): number {
    const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return (signed ? i64ToF32(v) : u64ToF32(v)) | 0;
  },
};

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
/** A binary32 bit pattern as a JS literal of its value. */
function f32Literal(bits: number): string {
  u32buf[0] = bits >>> 0;
  const x = f32buf[0]!;
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

/** Instructions the compiled code always leaves to the switch interpreter. */
const ALWAYS_INTERPRET = new Set<number>([Op.I64_DIV_S, Op.I64_DIV_U, Op.I64_REM_S, Op.I64_REM_U]);
const ENDS_BLOCK = new Set<number>([Op.JMP, Op.BRZ, Op.BRNZ, Op.HALT, Op.UNREACHABLE, ...ALWAYS_INTERPRET]);

function definedOp(op: number): boolean {
  return OP_SET.has(op);
}
const OP_SET = new Set<number>(Object.values(Op));

/** JS for one instruction at window index i (pc = first + i), k instructions into its block. */
function insnJs(x: Insn, pc: number, k: number, first: number, count: number): string {
  const bail = `{ st[0] = ${pc}; return n + ${k}; }`;
  const rd = 2 * x.rd, ra = 2 * x.ra, rb = 2 * x.rb, rc = 2 * x.rc;
  const imm = x.immB;
  const immLo = Number(x.imm & 0xffffffffn) | 0, immHi = Number(x.imm >> 32n) | 0;
  const A = `R[${ra}]`, Ah = `R[${ra + 1}]`, Af = `F[${ra}]`;
  const B = imm ? `(${immLo})` : `R[${rb}]`, Bh = imm ? `(${immHi})` : `R[${rb + 1}]`, Bf = imm ? `(${f32Literal(immLo)})` : `F[${rb}]`;
  const w32 = (e: string) => `R[${rd}] = ${e}; R[${rd + 1}] = 0;`;
  const f32 = (e: string) => `{ const x = ${e}; if (x !== x) R[${rd}] = ${NAN}; else F[${rd}] = x; R[${rd + 1}] = 0; }`;
  const i64 = (body: string) => `{ const al = ${A}, ah = ${Ah}, bl = ${B}, bh = ${Bh}; ${body} }`;
  const cmp64 = (signed: boolean, test: string) => i64(`const c = h.cmp64(al, ah, bl, bh, ${signed}); R[${rd}] = c ${test} 0 ? 1 : 0; R[${rd + 1}] = 0;`);
  const ea = `const ea = (${A} >>> 0) + ${x.off >>> 0};`;
  const load = (size: number, e: string, hi: string) =>
    `{ ${ea} if (ea + ${size} > dense${size > 1 ? ` || (ea & ${size - 1}) !== 0` : ''}) ${bail} const v = ${e}; R[${rd}] = v; R[${rd + 1}] = ${hi}; }`;
  const store = (size: number, body: string) =>
    `{ ${ea} if (ea + ${size} > dense${size > 1 ? ` || (ea & ${size - 1}) !== 0` : ''} || (((ea >>> 5) - ${first}) >>> 0) < ${count}) ${bail} ${body} dirty[ea >>> 5] = 1; }`;
  switch (x.op) {
    case Op.MOV: return `R[${rd}] = ${B}; R[${rd + 1}] = ${Bh};`;
    case Op.SELECT: return `if (R[${rc}] !== 0) { R[${rd}] = ${A}; R[${rd + 1}] = ${Ah}; } else { R[${rd}] = ${B}; R[${rd + 1}] = ${Bh}; }`;
    case Op.I32_ADD: return w32(`(${A} + ${B}) | 0`);
    case Op.I32_SUB: return w32(`(${A} - ${B}) | 0`);
    case Op.I32_MUL: return w32(`Math.imul(${A}, ${B})`);
    case Op.I32_DIV_S: return `{ const x = ${A}, y = ${B}; if (y === 0 || (x === -2147483648 && y === -1)) ${bail} ${w32('(x / y) | 0')} }`;
    case Op.I32_DIV_U: return `{ const y = ${B} >>> 0; if (y === 0) ${bail} ${w32(`((${A} >>> 0) / y) | 0`)} }`;
    case Op.I32_REM_S: return `{ const y = ${B}; if (y === 0) ${bail} ${w32(`(${A} % y) | 0`)} }`;
    case Op.I32_REM_U: return `{ const y = ${B} >>> 0; if (y === 0) ${bail} ${w32(`((${A} >>> 0) % y) | 0`)} }`;
    case Op.I32_AND: return w32(`${A} & ${B}`);
    case Op.I32_OR: return w32(`${A} | ${B}`);
    case Op.I32_XOR: return w32(`${A} ^ ${B}`);
    case Op.I32_SHL: return w32(`${A} << ${B}`);
    case Op.I32_SHR_S: return w32(`${A} >> ${B}`);
    case Op.I32_SHR_U: return w32(`(${A} >>> ${B}) | 0`);
    case Op.I32_ROTL: return `{ const x = ${A}, k = ${B} & 31; ${w32('(x << k) | (x >>> (32 - k))')} }`;
    case Op.I32_ROTR: return `{ const x = ${A}, k = ${B} & 31; ${w32('(x >>> k) | (x << (32 - k))')} }`;
    case Op.I32_EQ: return w32(`${A} === ${B} ? 1 : 0`);
    case Op.I32_NE: return w32(`${A} !== ${B} ? 1 : 0`);
    case Op.I32_LT_S: return w32(`${A} < ${B} ? 1 : 0`);
    case Op.I32_LT_U: return w32(`(${A} >>> 0) < (${B} >>> 0) ? 1 : 0`);
    case Op.I32_GT_S: return w32(`${A} > ${B} ? 1 : 0`);
    case Op.I32_GT_U: return w32(`(${A} >>> 0) > (${B} >>> 0) ? 1 : 0`);
    case Op.I32_LE_S: return w32(`${A} <= ${B} ? 1 : 0`);
    case Op.I32_LE_U: return w32(`(${A} >>> 0) <= (${B} >>> 0) ? 1 : 0`);
    case Op.I32_GE_S: return w32(`${A} >= ${B} ? 1 : 0`);
    case Op.I32_GE_U: return w32(`(${A} >>> 0) >= (${B} >>> 0) ? 1 : 0`);
    case Op.I32_CLZ: return w32(`Math.clz32(${A})`);
    case Op.I32_CTZ: return w32(`h.ctz32(${A})`);
    case Op.I32_POPCNT: return w32(`h.popcnt32(${A})`);
    case Op.I32_EQZ: return w32(`${A} === 0 ? 1 : 0`);
    case Op.I32_EXTEND8_S: return w32(`(${A} << 24) >> 24`);
    case Op.I32_EXTEND16_S: return w32(`(${A} << 16) >> 16`);
    case Op.I64_ADD: return i64(`const lo = (al + bl) | 0; R[${rd + 1}] = (ah + bh + ((al >>> 0) + (bl >>> 0) > 4294967295 ? 1 : 0)) | 0; R[${rd}] = lo;`);
    case Op.I64_SUB: return i64(`const lo = (al - bl) | 0; R[${rd + 1}] = (ah - bh - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0; R[${rd}] = lo;`);
    case Op.I64_MUL: return i64(`R[${rd + 1}] = (h.mulHiU32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0; R[${rd}] = Math.imul(al, bl);`);
    case Op.I64_AND: return i64(`R[${rd}] = al & bl; R[${rd + 1}] = ah & bh;`);
    case Op.I64_OR: return i64(`R[${rd}] = al | bl; R[${rd + 1}] = ah | bh;`);
    case Op.I64_XOR: return i64(`R[${rd}] = al ^ bl; R[${rd + 1}] = ah ^ bh;`);
    case Op.I64_SHL: return i64(`h.shl64(R, ${rd}, al, ah, bl & 63);`);
    case Op.I64_SHR_S: return i64(`h.shr64(R, ${rd}, al, ah, bl & 63, true);`);
    case Op.I64_SHR_U: return i64(`h.shr64(R, ${rd}, al, ah, bl & 63, false);`);
    case Op.I64_ROTL: return i64(`h.rotl64(R, ${rd}, al, ah, bl & 63);`);
    case Op.I64_ROTR: return i64(`h.rotl64(R, ${rd}, al, ah, (64 - (bl & 63)) & 63);`);
    case Op.I64_EQ: return i64(`R[${rd}] = al === bl && ah === bh ? 1 : 0; R[${rd + 1}] = 0;`);
    case Op.I64_NE: return i64(`R[${rd}] = al !== bl || ah !== bh ? 1 : 0; R[${rd + 1}] = 0;`);
    case Op.I64_LT_S: return cmp64(true, '<');
    case Op.I64_LT_U: return cmp64(false, '<');
    case Op.I64_GT_S: return cmp64(true, '>');
    case Op.I64_GT_U: return cmp64(false, '>');
    case Op.I64_LE_S: return cmp64(true, '<=');
    case Op.I64_LE_U: return cmp64(false, '<=');
    case Op.I64_GE_S: return cmp64(true, '>=');
    case Op.I64_GE_U: return cmp64(false, '>=');
    case Op.I64_CLZ: return `{ const hh = ${Ah}; ${w32(`hh !== 0 ? Math.clz32(hh) : 32 + Math.clz32(${A})`)} }`;
    case Op.I64_CTZ: return `{ const l = ${A}, hh = ${Ah}; ${w32('l !== 0 ? h.ctz32(l) : hh !== 0 ? 32 + h.ctz32(hh) : 64')} }`;
    case Op.I64_POPCNT: return w32(`h.popcnt32(${A}) + h.popcnt32(${Ah})`);
    case Op.I64_EQZ: return w32(`${A} === 0 && ${Ah} === 0 ? 1 : 0`);
    case Op.I64_EXTEND8_S: return `{ const v = (${A} << 24) >> 24; R[${rd}] = v; R[${rd + 1}] = v >> 31; }`;
    case Op.I64_EXTEND16_S: return `{ const v = (${A} << 16) >> 16; R[${rd}] = v; R[${rd + 1}] = v >> 31; }`;
    case Op.I64_EXTEND32_S: case Op.I64_EXTEND_I32_S: return `{ const v = ${A}; R[${rd}] = v; R[${rd + 1}] = v >> 31; }`;
    case Op.F32_ADD: return f32(`${Af} + ${Bf}`);
    case Op.F32_SUB: return f32(`${Af} - ${Bf}`);
    case Op.F32_MUL: return f32(`${Af} * ${Bf}`);
    case Op.F32_DIV: return f32(`${Af} / ${Bf}`);
    case Op.F32_MIN: return f32(`Math.min(${Af}, ${Bf})`);
    case Op.F32_MAX: return f32(`Math.max(${Af}, ${Bf})`);
    case Op.F32_COPYSIGN: return w32(`(${A} & 0x7fffffff) | (${B} & -2147483648)`);
    case Op.F32_EQ: return w32(`${Af} === ${Bf} ? 1 : 0`);
    case Op.F32_NE: return w32(`${Af} !== ${Bf} ? 1 : 0`);
    case Op.F32_LT: return w32(`${Af} < ${Bf} ? 1 : 0`);
    case Op.F32_GT: return w32(`${Af} > ${Bf} ? 1 : 0`);
    case Op.F32_LE: return w32(`${Af} <= ${Bf} ? 1 : 0`);
    case Op.F32_GE: return w32(`${Af} >= ${Bf} ? 1 : 0`);
    case Op.F32_ABS: return w32(`${A} & 0x7fffffff`);
    case Op.F32_NEG: return w32(`${A} ^ -2147483648`);
    case Op.F32_SQRT: return f32(`Math.sqrt(${Af})`);
    case Op.F32_CEIL: return f32(`Math.ceil(${Af})`);
    case Op.F32_FLOOR: return f32(`Math.floor(${Af})`);
    case Op.F32_TRUNC: return f32(`Math.trunc(${Af})`);
    case Op.F32_NEAREST: return f32(`h.roundEven(${Af})`);
    case Op.I32_WRAP_I64: case Op.I64_EXTEND_I32_U: return w32(A);
    case Op.I32_TRUNC_SAT_F32_S: return `{ const x = ${Af}; ${w32('x !== x ? 0 : x >= 2147483648 ? 2147483647 : x < -2147483648 ? -2147483648 : Math.trunc(x) | 0')} }`;
    case Op.I32_TRUNC_SAT_F32_U: return `{ const x = ${Af}; ${w32('!(x > -1) ? 0 : x >= 4294967296 ? -1 : Math.trunc(x) | 0')} }`;
    case Op.I64_TRUNC_SAT_F32_S:
      return `{ const x = ${Af}; if (x !== x) { R[${rd}] = 0; R[${rd + 1}] = 0; } else if (x >= 9223372036854775808) { R[${rd}] = -1; R[${rd + 1}] = 2147483647; } else if (x < -9223372036854775808) { R[${rd}] = 0; R[${rd + 1}] = -2147483648; } else h.setInt(R, ${rd}, Math.trunc(x)); }`;
    case Op.I64_TRUNC_SAT_F32_U:
      return `{ const x = ${Af}; if (!(x > -1)) { R[${rd}] = 0; R[${rd + 1}] = 0; } else if (x >= 18446744073709551616) { R[${rd}] = -1; R[${rd + 1}] = -1; } else h.setInt(R, ${rd}, Math.trunc(x)); }`;
    case Op.F32_CONVERT_I32_S: return `F[${rd}] = ${A}; R[${rd + 1}] = 0;`;
    case Op.F32_CONVERT_I32_U: return `F[${rd}] = ${A} >>> 0; R[${rd + 1}] = 0;`;
    case Op.F32_CONVERT_I64_S: return w32(`h.cvtI64(${A}, ${Ah}, true)`);
    case Op.F32_CONVERT_I64_U: return w32(`h.cvtI64(${A}, ${Ah}, false)`);
    case Op.LOAD32: return load(4, 'i32[ea >>> 2]', '0');
    case Op.LOAD64: return `{ ${ea} if (ea + 8 > dense || (ea & 7) !== 0) ${bail} const lo = i32[ea >>> 2], hi = i32[(ea >>> 2) + 1]; R[${rd}] = lo; R[${rd + 1}] = hi; }`;
    case Op.I32_LOAD8_S: return load(1, 'i8[ea]', '0');
    case Op.I32_LOAD8_U: return load(1, 'u8[ea]', '0');
    case Op.I32_LOAD16_S: return load(2, 'i16[ea >>> 1]', '0');
    case Op.I32_LOAD16_U: return load(2, 'u16[ea >>> 1]', '0');
    case Op.I64_LOAD8_S: return load(1, 'i8[ea]', 'v >> 31');
    case Op.I64_LOAD8_U: return load(1, 'u8[ea]', '0');
    case Op.I64_LOAD16_S: return load(2, 'i16[ea >>> 1]', 'v >> 31');
    case Op.I64_LOAD16_U: return load(2, 'u16[ea >>> 1]', '0');
    case Op.I64_LOAD32_S: return load(4, 'i32[ea >>> 2]', 'v >> 31');
    case Op.I64_LOAD32_U: return load(4, 'i32[ea >>> 2]', '0');
    case Op.STORE8: return store(1, `u8[ea] = ${B};`);
    case Op.STORE16: return store(2, `u16[ea >>> 1] = ${B};`);
    case Op.STORE32: return store(4, `i32[ea >>> 2] = ${B};`);
    case Op.STORE64: return store(8, `i32[ea >>> 2] = ${B}; i32[(ea >>> 2) + 1] = ${Bh};`);
    default: return bail; // illegal, and the operations left to the interpreter
  }
}

/** The JS that ends a block whose last instruction is x at pc (k instructions before it). */
function blockEnd(x: Insn | null, pc: number, len: number): string {
  if (x === null) return `n += ${len}; pc = ${pc + 1}; continue;`;
  switch (x.op) {
    case Op.JMP: return `n += ${len}; pc = ${x.target >>> 0}; continue;`;
    case Op.BRZ: return `n += ${len}; pc = R[${2 * x.ra}] === 0 ? ${x.target >>> 0} : ${pc + 1}; continue;`;
    case Op.BRNZ: return `n += ${len}; pc = R[${2 * x.ra}] !== 0 ? ${x.target >>> 0} : ${pc + 1}; continue;`;
    case Op.HALT: return `st[0] = ${pc}; st[1] = 1; return n + ${len};`;
    case Op.UNREACHABLE: return `st[0] = ${pc}; st[1] = 2; return n + ${len};`;
    default: return `st[0] = ${pc}; return n + ${len - 1};`; // left to the interpreter
  }
}

const cache = new Map<string, CompiledCode>();
const CACHE_MAX = 512;

/** Compile the code window (leaves [first, first + count) as `bytes`, 32 bytes each). */
export function compileBlocks(bytes: Uint8Array, first: number, count: number): CompiledCode {
  const key = `${first}:${count}:${toHex(keccak256(bytes.subarray(0, 32 * count)))}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const insns: Insn[] = [];
  for (let i = 0; i < count; i++) insns.push(decodeInsn(bytes, 32 * i));
  const leader = new Uint8Array(count + 1);
  leader[0] = 1;
  insns.forEach((x, i) => {
    if (ENDS_BLOCK.has(x.op) || !definedOp(x.op)) leader[i + 1] = 1;
    if (x.op === Op.JMP || x.op === Op.BRZ || x.op === Op.BRNZ) {
      const t = (x.target >>> 0) - first;
      if (t >= 0 && t < count) leader[t] = 1;
    }
  });
  const blockLen = new Int32Array(count);
  const starts: number[] = [];
  for (let i = 0; i < count; i++) if (leader[i]) starts.push(i);
  starts.forEach((s, j) => { blockLen[s] = (starts[j + 1] ?? count) - s; });
  const chunkAt = new Int32Array(count).fill(-1);
  const chunks: ChunkFn[] = [];
  let j = 0;
  while (j < starts.length) {
    const cases: string[] = [];
    let size = 0;
    const idx = chunks.length;
    while (j < starts.length && (size === 0 || size + blockLen[starts[j]!]! <= CHUNK_INSNS)) {
      const s = starts[j]!, len = blockLen[s]!;
      const body: string[] = [`if (n + ${len} > budget) { st[0] = ${first + s}; return n; }`];
      let last: Insn | null = null;
      for (let k = 0; k < len; k++) {
        const x = insns[s + k]!;
        const pc = first + s + k;
        if (k === len - 1 && (ENDS_BLOCK.has(x.op) || !definedOp(x.op))) { last = x; break; }
        body.push(insnJs(x, pc, k, first, count));
      }
      const endPc = first + s + len - 1;
      body.push(last ? (definedOp(last.op) ? blockEnd(last, endPc, len) : `st[0] = ${endPc}; return n + ${len - 1};`) : blockEnd(null, endPc, len));
      cases.push(`case ${first + s}: {\n${body.join('\n')}\n}`);
      chunkAt[s] = idx;
      size += len;
      j++;
    }
    const src = `"use strict";\nlet pc = st[0], n = 0;\nfor (;;) {\nswitch (pc) {\n${cases.join('\n')}\ndefault: st[0] = pc; return n;\n}\n}`;
    chunks.push(new Function('R', 'F', 'u8', 'i8', 'u16', 'i16', 'i32', 'dirty', 'dense', 'st', 'budget', 'h', src) as ChunkFn);
  }
  const out: CompiledCode = { chunkAt, chunks, blockLen };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, out);
  return out;
}
