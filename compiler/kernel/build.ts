/**
 * Constructors for kernel-language ASTs, with type checks, so that kernels read like the math:
 * `store(y, i, add(load(a, i), load(b, i)))`. Integer division and remainder are only available
 * through the never-trapping forms (x ÷ 0 = 0, MIN ÷ −1 = MIN), as docs/determinism.md requires.
 */
import type { DType } from '../../converter/ir/types.ts';
import type { BinaryOp, Buffer, ConvertOp, Expr, IndexVar, Kernel, LocalVar, ScalarType, Stmt, UnaryOp } from './ast.ts';
import { CMP_OPS, computeType } from './ast.ts';

export class KernelError extends Error {
  override readonly name = 'KernelError';
}

function need(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new KernelError(msg);
}

// ---------------------------------------------------------------- expressions

export const i32 = (v: number): Expr => ({ kind: 'const', type: 'i32', value: v | 0 });
export const i64 = (v: number | bigint): Expr => ({ kind: 'const', type: 'i64', value: BigInt.asIntN(64, BigInt(v)) });
export const f32 = (v: number): Expr => ({ kind: 'const', type: 'f32', value: Math.fround(v) });
export const constOf = (t: ScalarType, v: number | bigint): Expr => (t === 'i32' ? i32(Number(v)) : t === 'i64' ? i64(v) : f32(Number(v)));
export const get = (local: LocalVar): Expr => ({ kind: 'get', type: local.type, local });

export function load(buf: Buffer, index: Expr): Expr {
  need(index.type === 'i32', `load ${buf.name}: index must be i32`);
  return { kind: 'load', type: computeType(buf.dtype), buf, index };
}

function unary(op: UnaryOp, a: Expr, allowed: readonly ScalarType[]): Expr {
  need(allowed.includes(a.type), `${op} on ${a.type}`);
  return { kind: 'unary', type: op === 'eqz' ? 'i32' : a.type, op, a };
}

function isConst(e: Expr, v?: number): e is Extract<Expr, { kind: 'const' }> {
  return e.kind === 'const' && (v === undefined || Number(e.value) === v);
}

export function binary(op: BinaryOp, a: Expr, b: Expr): Expr {
  const shift = op === 'shl' || op === 'shr_s' || op === 'shr_u';
  need(a.type === b.type, `${op}: operand types ${a.type} and ${b.type} differ`);
  const intOnly: BinaryOp[] = ['div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'lt_u', 'le_u', 'gt_u', 'ge_u'];
  const floatOnly: BinaryOp[] = ['div', 'min', 'max', 'copysign'];
  need(!(a.type === 'f32' && intOnly.includes(op)), `${op} is not defined on f32`);
  need(!(a.type !== 'f32' && floatOnly.includes(op)), `${op} is not defined on ${a.type}`);
  // Fold i32 index arithmetic on constants, so specialised kernels stay small.
  if (a.type === 'i32' && isConst(a) && isConst(b)) {
    const x = Number(a.value), y = Number(b.value);
    switch (op) {
      case 'add': return i32(x + y);
      case 'sub': return i32(x - y);
      case 'mul': return i32(Math.imul(x, y));
    }
  }
  if (a.type === 'i32' && !shift) {
    if (op === 'add' && isConst(b, 0)) return a;
    if (op === 'add' && isConst(a, 0)) return b;
    if (op === 'sub' && isConst(b, 0)) return a;
    if (op === 'mul' && isConst(b, 1)) return a;
    if (op === 'mul' && isConst(a, 1)) return b;
    if (op === 'mul' && (isConst(a, 0) || isConst(b, 0))) return i32(0);
  }
  return { kind: 'binary', type: CMP_OPS.has(op) ? 'i32' : a.type, op, a, b };
}

export const add = (a: Expr, b: Expr) => binary('add', a, b);
export const sub = (a: Expr, b: Expr) => binary('sub', a, b);
export const mul = (a: Expr, b: Expr) => binary('mul', a, b);
/** f32 division (IEEE, correctly rounded). */
export const div = (a: Expr, b: Expr) => binary('div', a, b);
export const min = (a: Expr, b: Expr) => binary('min', a, b);
export const max = (a: Expr, b: Expr) => binary('max', a, b);
export const eq = (a: Expr, b: Expr) => binary('eq', a, b);
export const ne = (a: Expr, b: Expr) => binary('ne', a, b);
export const lt = (a: Expr, b: Expr) => binary('lt', a, b);
export const le = (a: Expr, b: Expr) => binary('le', a, b);
export const gt = (a: Expr, b: Expr) => binary('gt', a, b);
export const ge = (a: Expr, b: Expr) => binary('ge', a, b);
export const and = (a: Expr, b: Expr) => binary('and', a, b);
export const or = (a: Expr, b: Expr) => binary('or', a, b);
export const xor = (a: Expr, b: Expr) => binary('xor', a, b);
export const shl = (a: Expr, b: Expr) => binary('shl', a, b);
export const shrS = (a: Expr, b: Expr) => binary('shr_s', a, b);
export const shrU = (a: Expr, b: Expr) => binary('shr_u', a, b);
export const copysign = (a: Expr, b: Expr) => binary('copysign', a, b);
export const neg = (a: Expr) => (a.type === 'f32' ? unary('neg', a, ['f32']) : sub(constOf(a.type, 0), a));
export const abs = (a: Expr) => (a.type === 'f32' ? unary('abs', a, ['f32']) : select(lt(a, constOf(a.type, 0)), neg(a), a));
export const sqrt = (a: Expr) => unary('sqrt', a, ['f32']);
export const floor = (a: Expr) => unary('floor', a, ['f32']);
export const ceil = (a: Expr) => unary('ceil', a, ['f32']);
export const trunc = (a: Expr) => unary('trunc', a, ['f32']);
/** Round half to even. */
export const nearest = (a: Expr) => unary('nearest', a, ['f32']);
export const eqz = (a: Expr) => unary('eqz', a, ['i32', 'i64']);
export const clz = (a: Expr) => unary('clz', a, ['i32', 'i64']);

export function select(cond: Expr, a: Expr, b: Expr): Expr {
  need(cond.type === 'i32', 'select condition must be i32');
  need(a.type === b.type, `select arms ${a.type} and ${b.type} differ`);
  return { kind: 'select', type: a.type, cond, a, b };
}

const CONVERT_TYPES: Record<ConvertOp, [ScalarType, ScalarType]> = {
  'f32.from_i32_s': ['i32', 'f32'], 'f32.from_i32_u': ['i32', 'f32'], 'f32.from_i64_s': ['i64', 'f32'],
  'i32.trunc_sat_f32_s': ['f32', 'i32'], 'i64.trunc_sat_f32_s': ['f32', 'i64'],
  'i64.extend_i32_s': ['i32', 'i64'], 'i64.extend_i32_u': ['i32', 'i64'], 'i32.wrap_i64': ['i64', 'i32'],
  'i32.reinterpret_f32': ['f32', 'i32'], 'f32.reinterpret_i32': ['i32', 'f32'],
};
export function convert(op: ConvertOp, a: Expr): Expr {
  const [from, to] = CONVERT_TYPES[op];
  need(a.type === from, `${op} takes ${from}, got ${a.type}`);
  return { kind: 'convert', type: to, op, a };
}

/** Integer division truncating toward zero that never traps: x ÷ 0 = 0, MIN ÷ −1 = MIN. */
export function idiv(a: Expr, b: Expr): Expr {
  need(a.type !== 'f32', 'idiv is for integers');
  const zero = constOf(a.type, 0), one = constOf(a.type, 1), m1 = constOf(a.type, -1);
  const safeB = select(eqz(b), one, select(eq(b, m1), one, b));
  const q = binary('div_s', a, safeB);
  return select(eqz(b), zero, select(eq(b, m1), sub(zero, a), q));
}

/** Integer remainder with the sign of the dividend that never traps: x mod 0 = 0, MIN mod −1 = 0. */
export function irem(a: Expr, b: Expr): Expr {
  need(a.type !== 'f32', 'irem is for integers');
  const zero = constOf(a.type, 0), one = constOf(a.type, 1), m1 = constOf(a.type, -1);
  const safeB = select(eqz(b), one, select(eq(b, m1), one, b));
  return select(eqz(b), zero, select(eq(b, m1), zero, binary('rem_s', a, safeB)));
}

// ---------------------------------------------------------------- kernels

let varCounter = 0;

export class KernelBuilder {
  private readonly buffers: Buffer[] = [];
  private readonly locals: LocalVar[] = [];

  constructor(readonly name: string) {}

  input(name: string, dtype: DType, numel: number): Buffer {
    return this.buffer(name, dtype, numel, 'input');
  }
  output(name: string, dtype: DType, numel: number): Buffer {
    return this.buffer(name, dtype, numel, 'output');
  }
  scratch(name: string, dtype: DType, numel: number): Buffer {
    return this.buffer(name, dtype, numel, 'scratch');
  }
  private buffer(name: string, dtype: DType, numel: number, role: Buffer['role']): Buffer {
    need(Number.isSafeInteger(numel) && numel >= 0, `buffer ${name}: bad size ${numel}`);
    const b: Buffer = { name, dtype, numel, role };
    this.buffers.push(b);
    return b;
  }

  local(name: string, type: ScalarType): LocalVar {
    const l: LocalVar = { name: `${name}${this.locals.length}`, type };
    this.locals.push(l);
    return l;
  }

  /** The kernel; `native`, when given, is the native form's body (Kernel.native). */
  build(body: readonly Stmt[], native?: readonly Stmt[]): Kernel {
    return { name: this.name, buffers: [...this.buffers], locals: [...this.locals], body: [...body], ...(native ? { native: [...native] } : {}) };
  }
}

function loop(n: number, parallel: boolean, body: (i: Expr) => readonly Stmt[], lo = 0): Stmt {
  need(Number.isSafeInteger(n) && Number.isSafeInteger(lo), 'loop bounds must be integers');
  const v: IndexVar = { name: `i${varCounter++}` };
  return { kind: 'for', v, lo, hi: n, parallel, body: body({ kind: 'index', type: 'i32', v }) };
}

/** A loop over independent outputs: may be vectorised and split across threads. */
export const pfor = (n: number, body: (i: Expr) => readonly Stmt[]) => loop(n, true, body);
/** A loop over independent outputs lo … hi−1 (a sub-range of an axis, e.g. the interior of a window). */
export const pforRange = (lo: number, hi: number, body: (i: Expr) => readonly Stmt[]) => loop(Math.max(lo, hi), true, body, lo);
/** A sequential loop (reductions run in this order). */
export const sfor = (n: number, body: (i: Expr) => readonly Stmt[], lo = 0) => loop(n, false, body, lo);

/** A sequential loop written out n times with constant indices (same order; small kernels only). */
export function sforUnrolled(n: number, body: (i: Expr) => readonly Stmt[]): Stmt {
  const stmts: Stmt[] = [];
  for (let i = 0; i < n; i++) stmts.push(...body(i32(i)));
  return { kind: 'if', cond: i32(1), then: stmts, else: [] };
}

/** a ÷ c for a non-negative index and a constant c > 0 (cannot trap). */
export function divIndex(a: Expr, c: number): Expr {
  need(Number.isInteger(c) && c > 0, `divIndex by ${c}`);
  return c === 1 ? a : binary('div_u', a, i32(c));
}

/** a mod c for a non-negative index and a constant c > 0 (cannot trap). */
export function remIndex(a: Expr, c: number): Expr {
  need(Number.isInteger(c) && c > 0, `remIndex by ${c}`);
  return c === 1 ? i32(0) : binary('rem_u', a, i32(c));
}

/**
 * One flat parallel loop over all of `dims` (row-major), per-axis indices recovered by constant
 * division: a long top-level loop that an executor can split across threads.
 */
export function pforFlat(dims: readonly number[], body: (idx: Expr[]) => readonly Stmt[]): Stmt[] {
  if (dims.length === 0) return [...body([])];
  if (dims.length === 1) return [pfor(dims[0]!, (i) => body([i]))];
  const total = dims.reduce((a, b) => a * b, 1);
  return [pfor(total, (flat) => {
    const idx: Expr[] = [];
    let stride = total;
    dims.forEach((d, a) => {
      stride /= d;
      const q = divIndex(flat, stride);
      idx.push(a === 0 ? q : remIndex(q, d));
    });
    return body(idx);
  })];
}

/**
 * Parallel loops over a shape; `body` gets the per-axis indices. The innermost axis is its own loop
 * (the vectorised one); all others are merged into one flat loop (see pforFlat).
 */
export function pforShape(dims: readonly number[], body: (idx: Expr[]) => readonly Stmt[]): Stmt[] {
  if (dims.length <= 1) return pforFlat(dims, body);
  return pforFlat(dims.slice(0, -1), (idx) => [pfor(dims.at(-1)!, (i) => body([...idx, i]))]);
}

export function store(buf: Buffer, index: Expr, value: Expr): Stmt {
  need(index.type === 'i32', `store ${buf.name}: index must be i32`);
  need(value.type === computeType(buf.dtype), `store ${buf.name}: value ${value.type} for ${buf.dtype}`);
  return { kind: 'store', buf, index, value };
}

export function set(local: LocalVar, value: Expr): Stmt {
  need(local.type === value.type, `set ${local.name}: ${value.type} into ${local.type}`);
  return { kind: 'set', local, value };
}

export function when(cond: Expr, then: readonly Stmt[], otherwise: readonly Stmt[] = []): Stmt {
  need(cond.type === 'i32', 'if condition must be i32');
  return { kind: 'if', cond, then, else: otherwise };
}

/** Row-major flat index from per-axis indices and a shape. */
export function flatIndex(idx: readonly Expr[], dims: readonly number[]): Expr {
  let e: Expr = i32(0);
  let stride = 1;
  for (let k = dims.length - 1; k >= 0; k--) {
    if (dims[k] !== 1) e = add(e, mul(idx[k]!, i32(stride)));
    stride *= dims[k]!;
  }
  return e;
}
