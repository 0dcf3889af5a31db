/**
 * Kernel AST → binaryen function. Two forms from one kernel:
 *  - scalar: loops as written; the form the OPVM lowers (one float operation per AST node);
 *  - native (simd): the innermost parallel loop runs four independent outputs per iteration in
 *    f32x4/i32x4 lanes, then a scalar tail. Each lane performs exactly the scalar operation sequence of
 *    its own output (inner loops are uniform across lanes), so both forms produce the same bits.
 * Every f32 store and every f32→i32 reinterpretation writes the canonical NaN 0x7FC00000.
 *
 * The function takes (start, end): the iteration range of the kernel's top-level parallel loop (if
 * it has exactly one), so an executor can split a kernel across threads by output rows.
 */
import binaryen from 'binaryen';
import type { Buffer, Expr, IndexVar, Kernel, LocalVar, ScalarType, Stmt } from './ast.ts';
import { CMP_OPS, computeType } from './ast.ts';
import { BOUNDARY_DTYPES } from '../../converter/ir/dtype.ts';

/** Boundary dtypes are never vectorised (their casts are bit manipulation over i64 or narrow lanes). */
const BOUNDARY: ReadonlySet<string> = new Set(BOUNDARY_DTYPES);
import { KernelError } from './build.ts';

export interface Layout {
  /** Byte address of a buffer's first element in linear memory. */
  addressOf(b: Buffer): number;
}

export const CANONICAL_NAN = 0x7fc00000;
type Ref = binaryen.ExpressionRef;

const WTYPE: Record<ScalarType, binaryen.Type> = { i32: binaryen.i32, i64: binaryen.i64, f32: binaryen.f32 };

function elemSize(b: Buffer): number {
  switch (b.dtype) {
    case 'float32': case 'int32': case 'uint32': return 4;
    case 'int64': case 'float64': case 'uint64': return 8;
    case 'int16': case 'uint16': case 'float16': case 'bfloat16': return 2;
    default: return 1;
  }
}

/**
 * Is the native form's body a single top-level parallel loop (splittable across threads)? Only the
 * native form is ever split, so this is about Kernel.native when the kernel has one.
 */
export function splitExtent(k: Kernel): number | undefined {
  return topExtent(k.native ?? k.body);
}
function topExtent(body: readonly Stmt[]): number | undefined {
  const [s] = body;
  return body.length === 1 && s!.kind === 'for' && s!.parallel ? s!.hi - s!.lo : undefined;
}

/** Variables mentioned by an expression (for the vectoriser's analysis). */
function dependsOn(e: Expr, v: IndexVar, varying: ReadonlySet<LocalVar>): boolean {
  switch (e.kind) {
    case 'const': return false;
    case 'index': return e.v === v;
    case 'get': return varying.has(e.local);
    case 'load': return dependsOn(e.index, v, varying);
    case 'unary': case 'convert': return dependsOn(e.a, v, varying);
    case 'binary': return dependsOn(e.a, v, varying) || dependsOn(e.b, v, varying);
    case 'select': return dependsOn(e.cond, v, varying) || dependsOn(e.a, v, varying) || dependsOn(e.b, v, varying);
  }
}

/** Coefficient of v in an affine i32 index expression, or undefined when not affine. */
function coefficient(e: Expr, v: IndexVar, varying: ReadonlySet<LocalVar>): number | undefined {
  if (!dependsOn(e, v, varying)) return 0;
  switch (e.kind) {
    case 'index': return e.v === v ? 1 : 0;
    case 'binary': {
      const a = coefficient(e.a, v, varying), b = coefficient(e.b, v, varying);
      if (a === undefined || b === undefined) return undefined;
      if (e.op === 'add') return a + b;
      if (e.op === 'sub') return a - b;
      if (e.op === 'mul') {
        if (e.b.kind === 'const' && b === 0) return a * Number(e.b.value);
        if (e.a.kind === 'const' && a === 0) return b * Number(e.a.value);
        return undefined;
      }
      if (e.op === 'shl' && e.b.kind === 'const') return a * 2 ** Number(e.b.value);
      return undefined;
    }
    default: return undefined;
  }
}

class NotVectorizable extends Error {}

/** An f32 constant that is neither NaN nor ±0 (min/max against it has no NaN or signed-zero case of its own). */
function plainConst(e: Expr): boolean {
  return e.kind === 'const' && e.type === 'f32' && !Number.isNaN(Number(e.value)) && Number(e.value) !== 0;
}

/**
 * An i32 element index as rest + c, with c a constant, when rest is built only of loop indices,
 * non-negative constants, +, × and << (so rest ≥ 0 whenever the index is in range): the native form
 * then puts c into the memory access's constant offset, and accesses that differ by a constant (MatMul's
 * rows of A, a window's taps) share one address computation. undefined when the index has another form.
 */
function splitConst(e: Expr): { rest: Expr | undefined; c: number } | undefined {
  if (e.type !== 'i32') return undefined;
  switch (e.kind) {
    case 'const': return Number(e.value) >= 0 ? { rest: undefined, c: Number(e.value) } : undefined;
    case 'index': return { rest: e, c: 0 };
    case 'binary': {
      if (e.op === 'add') {
        const a = splitConst(e.a), b = splitConst(e.b);
        if (!a || !b) return undefined;
        return { rest: a.rest && b.rest ? addI(a.rest, b.rest) : a.rest ?? b.rest, c: a.c + b.c };
      }
      if (e.op === 'sub' && e.b.kind === 'const') {
        const a = splitConst(e.a);
        return a && { rest: a.rest, c: a.c - Number(e.b.value) };
      }
      if ((e.op === 'mul' || e.op === 'shl') && e.b.kind === 'const' && Number(e.b.value) >= 0 && (e.op === 'mul' || Number(e.b.value) < 31)) {
        const f = e.op === 'mul' ? Number(e.b.value) : 2 ** Number(e.b.value);
        const a = splitConst(e.a);
        if (!a) return undefined;
        return { rest: a.rest && (e.op === 'mul' ? mulI(a.rest, Number(e.b.value)) : { ...e, a: a.rest }), c: a.c * f };
      }
      if (e.op === 'mul' && e.a.kind === 'const') return splitConst({ ...e, a: e.b, b: e.a });
      // another product, shift or quotient of non-negative indices: a non-negative rest as a whole
      if ((e.op === 'mul' || e.op === 'shl' || e.op === 'div_u' || e.op === 'rem_u') && nonNegative(e.a) && nonNegative(e.b)) return { rest: e, c: 0 };
      return undefined;
    }
    default: return undefined;
  }
}
function nonNegative(e: Expr): boolean {
  if (e.kind === 'const') return Number(e.value) >= 0;
  if (e.kind === 'index') return true;
  if (e.kind === 'binary' && ['add', 'mul', 'shl', 'div_u', 'rem_u'].includes(e.op)) return nonNegative(e.a) && nonNegative(e.b);
  return false;
}
const addI = (a: Expr, b: Expr): Expr => ({ kind: 'binary', type: 'i32', op: 'add', a, b });
const mulI = (a: Expr, f: number): Expr => (f === 1 ? a : { kind: 'binary', type: 'i32', op: 'mul', a, b: { kind: 'const', type: 'i32', value: f } });

/**
 * The iteration range of one scalar-form loop, by its wasm label: it runs its index from lo to hi − 1,
 * or, when `split`, from max(start, lo) to min(end, hi) − 1 with the function's (start, end) parameters.
 * The OPVM's step bound (compiler/opvm/step-bound.ts) takes its trip counts from here.
 */
export interface LoopRange {
  readonly lo: number;
  readonly hi: number;
  readonly split: boolean;
}

interface VecValue {
  ref: Ref;
  /** true: lanes are all-ones/all-zeros masks (a comparison), not 0/1 values. */
  mask: boolean;
}

export class FunctionEmitter {
  private readonly vars: binaryen.Type[] = [];
  private readonly scalarLocal = new Map<LocalVar, number>();
  private readonly indexLocal = new Map<IndexVar, number>();
  private label = 0;
  private static readonly PARAMS = 2;
  /** Every scalar loop emitted so far, by its wasm loop name. */
  readonly scalarLoops = new Map<string, LoopRange>();

  constructor(private readonly m: binaryen.Module, private readonly k: Kernel, private readonly layout: Layout, private readonly simd: boolean) {}

  /** Add the kernel as function `name(start: i32, end: i32)` to the module. */
  emit(name: string): binaryen.FunctionRef {
    for (const l of this.k.locals) this.scalarLocal.set(l, this.newVar(WTYPE[l.type]));
    const src = this.simd && this.k.native ? this.k.native : this.k.body;
    const split = topExtent(src) !== undefined;
    const body = this.stmts(src, split);
    return this.m.addFunction(name, binaryen.createType([binaryen.i32, binaryen.i32]), binaryen.none, this.vars, this.m.block(null, body, binaryen.none));
  }

  private newVar(t: binaryen.Type): number {
    this.vars.push(t);
    return FunctionEmitter.PARAMS + this.vars.length - 1;
  }

  /**
   * The native form's address of element `index` + `extra`: the index's constant part goes into the
   * access's offset when splitConst allows (the same byte address as addr, computed with fewer operations).
   */
  private vaddr(b: Buffer, index: Expr, extra: number): { ptr: Ref; offset: number } {
    const size = elemSize(b);
    const base = this.layout.addressOf(b);
    const sp = splitConst(index);
    if (sp) {
      const offset = base + (sp.c + extra) * size;
      if (offset >= 0 && offset < 2 ** 32) {
        if (!sp.rest) return { ptr: this.m.i32.const(0), offset };
        const r = this.expr(sp.rest);
        return { ptr: size === 1 ? r : this.m.i32.shl(r, this.m.i32.const(Math.log2(size))), offset };
      }
    }
    const { ptr, offset } = this.addr(b, this.expr(index));
    return { ptr, offset: offset + extra * size };
  }

  private addr(b: Buffer, index: Ref): { ptr: Ref; offset: number } {
    const size = elemSize(b);
    const base = this.layout.addressOf(b);
    const ptr = size === 1 ? index : this.m.i32.shl(index, this.m.i32.const(Math.log2(size)));
    return { ptr, offset: base };
  }

  // ------------------------------------------------------------ scalar form

  private stmts(ss: readonly Stmt[], splitTop = false): Ref[] {
    return ss.map((s) => this.stmt(s, splitTop));
  }

  private stmt(s: Stmt, splitTop = false): Ref {
    const m = this.m;
    switch (s.kind) {
      case 'store': return this.storeScalar(s.buf, this.expr(s.index), this.expr(s.value));
      case 'set': return m.local.set(this.scalarLocal.get(s.local)!, this.expr(s.value));
      case 'if': return m.if(this.expr(s.cond), m.block(null, this.stmts(s.then)), s.else.length ? m.block(null, this.stmts(s.else)) : undefined);
      case 'for': {
        const iv = this.newVar(binaryen.i32);
        this.indexLocal.set(s.v, iv);
        const lo = splitTop ? this.maxI32(m.local.get(0, binaryen.i32), m.i32.const(s.lo)) : m.i32.const(s.lo);
        const hi = splitTop ? this.minI32(m.local.get(1, binaryen.i32), m.i32.const(s.hi)) : m.i32.const(s.hi);
        const hiVar = this.newVar(binaryen.i32);
        const parts: Ref[] = [m.local.set(iv, lo), m.local.set(hiVar, hi)];
        if (this.simd && s.parallel && this.isInnermostParallel(s)) {
          try {
            const u = this.unrollFactor(s);
            if (u > 1) parts.push(this.vectorLoop(s, iv, hiVar, u));
            parts.push(this.vectorLoop(s, iv, hiVar, 1));
          } catch (e) {
            if (!(e instanceof NotVectorizable)) throw e;
            parts.length = 2; // a kernel that does not vectorise at all keeps only the scalar loop
          }
        }
        parts.push(this.scalarLoop(s, iv, hiVar, splitTop));
        return m.block(null, parts);
      }
    }
  }

  private maxI32(a: Ref, b: Ref): Ref {
    const m = this.m;
    const t = this.newVar(binaryen.i32), u = this.newVar(binaryen.i32);
    return m.block(null, [m.local.set(t, a), m.local.set(u, b), m.select(m.i32.gt_s(m.local.get(t, binaryen.i32), m.local.get(u, binaryen.i32)), m.local.get(t, binaryen.i32), m.local.get(u, binaryen.i32))], binaryen.i32);
  }
  private minI32(a: Ref, b: Ref): Ref {
    const m = this.m;
    const t = this.newVar(binaryen.i32), u = this.newVar(binaryen.i32);
    return m.block(null, [m.local.set(t, a), m.local.set(u, b), m.select(m.i32.lt_s(m.local.get(t, binaryen.i32), m.local.get(u, binaryen.i32)), m.local.get(t, binaryen.i32), m.local.get(u, binaryen.i32))], binaryen.i32);
  }

  /** while (iv < hi) { body; iv++ } — iv continues from wherever the vector loop stopped. */
  private scalarLoop(s: Extract<Stmt, { kind: 'for' }>, iv: number, hiVar: number, split: boolean): Ref {
    const m = this.m;
    const brk = `b${this.label}`, cont = `l${this.label++}`;
    this.scalarLoops.set(cont, { lo: s.lo, hi: s.hi, split });
    const cond = m.i32.lt_s(m.local.get(iv, binaryen.i32), m.local.get(hiVar, binaryen.i32));
    return m.block(brk, [
      m.br(brk, m.i32.eqz(cond)),
      m.loop(cont, m.block(null, [
        ...this.stmts(s.body),
        m.local.set(iv, m.i32.add(m.local.get(iv, binaryen.i32), m.i32.const(1))),
        m.br(cont, m.i32.lt_s(m.local.get(iv, binaryen.i32), m.local.get(hiVar, binaryen.i32))),
      ])),
    ]);
  }

  private storeScalar(b: Buffer, index: Ref, value: Ref): Ref {
    const m = this.m;
    const { ptr, offset } = this.addr(b, index);
    switch (b.dtype) {
      case 'float32': return m.f32.store(offset, 4, ptr, this.canonical(value));
      case 'int32': return m.i32.store(offset, 4, ptr, value);
      case 'int64': case 'float64': case 'uint64': return m.i64.store(offset, 8, ptr, value);
      case 'uint32': return m.i32.store(offset, 4, ptr, value);
      case 'int16': case 'uint16': case 'float16': case 'bfloat16': return m.i32.store16(offset, 2, ptr, value);
      case 'bool': return m.i32.store8(offset, 1, ptr, m.i32.ne(value, m.i32.const(0)));
      default: return m.i32.store8(offset, 1, ptr, value);
    }
  }

  /** v if it is not NaN, else the canonical NaN. */
  private canonical(v: Ref): Ref {
    const m = this.m;
    const t = this.newVar(binaryen.f32);
    return m.block(null, [
      m.local.set(t, v),
      m.select(m.f32.eq(m.local.get(t, binaryen.f32), m.local.get(t, binaryen.f32)), m.local.get(t, binaryen.f32), m.f32.reinterpret(m.i32.const(CANONICAL_NAN))),
    ], binaryen.f32);
  }

  private loadScalar(b: Buffer, index: Ref): Ref {
    const m = this.m;
    const { ptr, offset } = this.addr(b, index);
    switch (b.dtype) {
      case 'float32': return m.f32.load(offset, 4, ptr);
      case 'int32': return m.i32.load(offset, 4, ptr);
      case 'int64': case 'float64': case 'uint64': return m.i64.load(offset, 8, ptr);
      case 'uint32': return m.i32.load(offset, 4, ptr);
      case 'int16': return m.i32.load16_s(offset, 2, ptr);
      case 'uint16': case 'float16': case 'bfloat16': return m.i32.load16_u(offset, 2, ptr);
      case 'int8': return m.i32.load8_s(offset, 1, ptr);
      default: return m.i32.load8_u(offset, 1, ptr);
    }
  }

  private expr(e: Expr): Ref {
    const m = this.m;
    switch (e.kind) {
      case 'const':
        return e.type === 'i32' ? m.i32.const(Number(e.value)) : e.type === 'i64' ? m.i64.const(BigInt(e.value) as unknown as number) : m.f32.const(Number(e.value));
      case 'index': {
        const l = this.indexLocal.get(e.v);
        if (l === undefined) throw new KernelError(`index ${e.v.name} used outside its loop`);
        return m.local.get(l, binaryen.i32);
      }
      case 'get': return m.local.get(this.scalarLocal.get(e.local)!, WTYPE[e.type]);
      case 'load': return this.loadScalar(e.buf, this.expr(e.index));
      case 'select': return m.select(this.expr(e.cond), this.expr(e.a), this.expr(e.b));
      case 'unary': {
        const a = this.expr(e.a);
        if (e.type === 'f32' || (e.op !== 'eqz' && e.a.type === 'f32')) return (m.f32 as unknown as Record<string, (x: Ref) => Ref>)[e.op]!(a);
        const ns = (e.a.type === 'i64' ? m.i64 : m.i32) as unknown as Record<string, (x: Ref) => Ref>;
        return ns[e.op]!(a);
      }
      case 'binary': {
        const a = this.expr(e.a), b = this.expr(e.b);
        const t = e.a.type;
        const ns = (t === 'f32' ? m.f32 : t === 'i64' ? m.i64 : m.i32) as unknown as Record<string, (x: Ref, y: Ref) => Ref>;
        let op: string = e.op;
        if (t !== 'f32' && ['lt', 'le', 'gt', 'ge'].includes(op)) op += '_s';
        if (t !== 'f32' && (op === 'lt_u_s')) op = 'lt_u';
        return ns[op]!(a, b);
      }
      case 'convert': {
        const a = this.expr(e.a);
        switch (e.op) {
          case 'f32.from_i32_s': return m.f32.convert_s.i32(a);
          case 'f32.from_i32_u': return m.f32.convert_u.i32(a);
          case 'f32.from_i64_s': return m.f32.convert_s.i64(a);
          case 'i32.trunc_sat_f32_s': return m.i32.trunc_s_sat.f32(a);
          case 'i64.trunc_sat_f32_s': return m.i64.trunc_s_sat.f32(a);
          case 'i64.extend_i32_s': return m.i64.extend_s(a);
          case 'i64.extend_i32_u': return m.i64.extend_u(a);
          case 'i32.wrap_i64': return m.i32.wrap(a);
          case 'i32.reinterpret_f32': return m.i32.reinterpret(this.canonical(a));
          case 'f32.reinterpret_i32': return m.f32.reinterpret(a);
        }
      }
    }
  }

  // ------------------------------------------------------------ native SIMD form

  private isInnermostParallel(s: Extract<Stmt, { kind: 'for' }>): boolean {
    const hasParallel = (ss: readonly Stmt[]): boolean =>
      ss.some((x) => (x.kind === 'for' && (x.parallel || hasParallel(x.body))) || (x.kind === 'if' && (hasParallel(x.then) || hasParallel(x.else))));
    return !hasParallel(s.body);
  }

  /** Locals whose value differs between lanes (fixpoint over the loop body). */
  private varyingLocals(body: readonly Stmt[], v: IndexVar): Set<LocalVar> {
    const varying = new Set<LocalVar>();
    let changed = true;
    const visit = (ss: readonly Stmt[]) => {
      for (const s of ss) {
        if (s.kind === 'set' && !varying.has(s.local) && dependsOn(s.value, v, varying)) { varying.add(s.local); changed = true; }
        if (s.kind === 'for') visit(s.body);
        if (s.kind === 'if') { visit(s.then); visit(s.else); }
      }
    };
    while (changed) { changed = false; visit(body); }
    return varying;
  }

  /**
   * How many groups of four lanes one iteration of the vector loop runs: a loop with a sequential loop
   * inside (a reduction) carries a chain of dependent float operations per varying local, so several
   * independent groups are interleaved to hide their latency and share uniform loads (e.g. MatMul: four
   * rows × 2 groups = a 4×8 tile, one row × 8 groups = 32 columns). Each lane still runs its own output's
   * scalar sequence; only independent outputs are interleaved. A straight-line body (an elementwise map)
   * runs two groups for the same reason: a long body (erf, pow) is one chain of dependent operations per
   * group, and two chains side by side keep the pipeline fuller (Erf 43 → 35 µs, Pow 136 → 89 µs on 8192
   * elements); with three or four the vector registers run out.
   */
  private unrollFactor(s: Extract<Stmt, { kind: 'for' }>): number {
    const hasLoop = (ss: readonly Stmt[]): boolean => ss.some((x) => x.kind === 'for' || (x.kind === 'if' && (hasLoop(x.then) || hasLoop(x.else))));
    if (!hasLoop(s.body)) return s.hi - s.lo >= 8 ? 2 : 1;
    const v = this.varyingLocals(s.body, s.v).size;
    // One accumulator and one loaded value per output (MatMul's single row, a decode step): 8 groups, so
    // one row of B supplies two cache lines per step of the reduction; else about 12 registers' worth.
    const candidates = v <= 2 ? [8, 4] : [Math.min(4, Math.floor(12 / Math.max(1, v)))];
    return candidates.find((u) => u >= 2 && s.hi - s.lo >= 4 * u) ?? 1;
  }

  /** while (iv + 4u <= hi) { body on lanes iv..iv+4u−1, as u interleaved groups of four; iv += 4u } */
  private vectorLoop(s: Extract<Stmt, { kind: 'for' }>, iv: number, hiVar: number, groups: number): Ref {
    const m = this.m;
    const varying = this.varyingLocals(s.body, s.v);
    const vlocals = new Map<LocalVar, number[]>();
    for (const l of varying) {
      if (l.type === 'i64') throw new NotVectorizable();
      vlocals.set(l, Array.from({ length: groups }, () => this.newVar(binaryen.v128)));
    }
    const ctx: VecCtx = { v: s.v, iv, varying, vlocals, groups, group: 0 };
    const body = this.vstmts(s.body, ctx);
    const brk = `vb${this.label}`, cont = `vl${this.label++}`;
    const fits = () => m.i32.le_s(m.i32.add(m.local.get(iv, binaryen.i32), m.i32.const(4 * groups)), m.local.get(hiVar, binaryen.i32));
    return m.block(brk, [
      m.br(brk, m.i32.eqz(fits())),
      m.loop(cont, m.block(null, [
        ...body,
        m.local.set(iv, m.i32.add(m.local.get(iv, binaryen.i32), m.i32.const(4 * groups))),
        m.br(cont, fits()),
      ])),
    ]);
  }

  private vstmts(ss: readonly Stmt[], c: VecCtx): Ref[] {
    return ss.map((s) => this.vstmt(s, c));
  }

  /**
   * A store or a varying set, once per group of lanes. With several groups, each uniform subexpression
   * (e.g. MatMul's A element) is computed once, splatted into a local before the groups, and shared.
   */
  private perGroup(c: VecCtx, one: (g: VecCtx) => Ref): Ref {
    if (c.groups === 1) return one(c);
    const g: VecCtx = { ...c, shared: new Map(), pre: [] };
    const parts: Ref[] = [];
    for (let u = 0; u < c.groups; u++) parts.push(one({ ...g, group: u }));
    return this.m.block(null, [...g.pre!, ...parts]);
  }

  private vstmt(s: Stmt, c: VecCtx): Ref {
    const m = this.m;
    switch (s.kind) {
      case 'store': {
        if (coefficient(s.index, c.v, c.varying) !== 1) throw new NotVectorizable();
        return this.perGroup(c, (g) => {
          const val = this.vexpr(s.value, g);
          return this.vstore(s.buf, s.index, s.value.type, val, g.group);
        });
      }
      case 'set': {
        if (!c.varying.has(s.local)) {
          if (dependsOn(s.value, c.v, c.varying)) throw new NotVectorizable();
          return m.local.set(this.scalarLocal.get(s.local)!, this.expr(s.value));
        }
        return this.perGroup(c, (g) => m.local.set(c.vlocals.get(s.local)![g.group]!, this.unmask(this.vexpr(s.value, g))));
      }
      case 'if': {
        if (dependsOn(s.cond, c.v, c.varying)) throw new NotVectorizable();
        return m.if(this.expr(s.cond), m.block(null, this.vstmts(s.then, c)), s.else.length ? m.block(null, this.vstmts(s.else, c)) : undefined);
      }
      case 'for': {
        if (s.parallel) throw new NotVectorizable();
        const iv = this.newVar(binaryen.i32);
        this.indexLocal.set(s.v, iv);
        const hiVar = this.newVar(binaryen.i32);
        const brk = `b${this.label}`, cont = `l${this.label++}`;
        return m.block(brk, [
          m.local.set(iv, m.i32.const(s.lo)),
          m.local.set(hiVar, m.i32.const(s.hi)),
          m.br(brk, m.i32.ge_s(m.local.get(iv, binaryen.i32), m.local.get(hiVar, binaryen.i32))),
          m.loop(cont, m.block(null, [
            ...this.vstmts(s.body, c),
            m.local.set(iv, m.i32.add(m.local.get(iv, binaryen.i32), m.i32.const(1))),
            m.br(cont, m.i32.lt_s(m.local.get(iv, binaryen.i32), m.local.get(hiVar, binaryen.i32))),
          ])),
        ]);
      }
    }
  }

  /** Convert a comparison mask to 0/1 lanes (the scalar form's i32 booleans). */
  private unmask(v: VecValue): Ref {
    return v.mask ? this.m.v128.and(v.ref, this.m.i32x4.splat(this.m.i32.const(1))) : v.ref;
  }
  private asMask(v: VecValue): Ref {
    return v.mask ? v.ref : this.m.i32x4.ne(v.ref, this.m.i32x4.splat(this.m.i32.const(0)));
  }

  private splat(t: ScalarType, scalar: Ref): Ref {
    if (t === 'i64') throw new NotVectorizable();
    return t === 'f32' ? this.m.f32x4.splat(scalar) : this.m.i32x4.splat(scalar);
  }

  /** A uniform expression in every lane; a 32-bit load splats straight from memory. */
  private splatExpr(e: Expr): Ref {
    if (e.kind === 'load' && (e.buf.dtype === 'float32' || e.buf.dtype === 'int32')) {
      const { ptr, offset } = this.vaddr(e.buf, e.index, 0);
      return this.m.v128.load32_splat(offset, 4, ptr);
    }
    return this.splat(e.type, this.expr(e));
  }

  private vstore(b: Buffer, index0: Expr, t: ScalarType, v: VecValue, group: number): Ref {
    if (BOUNDARY.has(b.dtype)) throw new NotVectorizable();
    const m = this.m;
    const { ptr, offset } = this.vaddr(b, index0, 4 * group);
    let ref = this.unmask(v);
    if (b.dtype === 'float32') {
      const tmp = this.newVar(binaryen.v128);
      const canon = m.f32x4.splat(m.f32.reinterpret(m.i32.const(CANONICAL_NAN)));
      ref = m.block(null, [m.local.set(tmp, ref), m.v128.bitselect(m.local.get(tmp, binaryen.v128), canon, m.f32x4.eq(m.local.get(tmp, binaryen.v128), m.local.get(tmp, binaryen.v128)))], binaryen.v128);
      return m.v128.store(offset, 4, ptr, ref);
    }
    if (b.dtype === 'int32') return m.v128.store(offset, 4, ptr, ref);
    if (t !== 'i32') throw new NotVectorizable();
    // Narrow stores lane by lane (wrap semantics, like the scalar i32.store8/16).
    const tmp = this.newVar(binaryen.v128);
    const p = this.newVar(binaryen.i32);
    const size = elemSize(b);
    const parts: Ref[] = [m.local.set(tmp, ref), m.local.set(p, ptr)];
    for (let l = 0; l < 4; l++) {
      let lane = m.i32x4.extract_lane(m.local.get(tmp, binaryen.v128), l as unknown as Ref);
      if (b.dtype === 'bool') lane = m.i32.ne(lane, m.i32.const(0));
      const at = m.i32.add(m.local.get(p, binaryen.i32), m.i32.const(l * size));
      parts.push(size === 2 ? m.i32.store16(offset, 2, at, lane) : m.i32.store8(offset, 1, at, lane));
    }
    return m.block(null, parts);
  }

  private vload(b: Buffer, index: Expr, c: VecCtx): VecValue {
    const m = this.m;
    const coef = coefficient(index, c.v, c.varying);
    const t: ScalarType = computeType(b.dtype);
    if (t === 'i64' || BOUNDARY.has(b.dtype)) throw new NotVectorizable();
    if (coef === 1) {
      const { ptr, offset } = this.vaddr(b, index, 4 * c.group);
      switch (b.dtype) {
        case 'float32': case 'int32': return { ref: m.v128.load(offset, 4, ptr), mask: false };
        case 'int16': return { ref: m.i32x4.extend_low_i16x8_s(m.v128.load64_zero(offset, 2, ptr)), mask: false };
        case 'int8': return { ref: m.i32x4.extend_low_i16x8_s(m.i16x8.extend_low_i8x16_s(m.v128.load32_zero(offset, 1, ptr))), mask: false };
        default: return { ref: m.i32x4.extend_low_i16x8_u(m.i16x8.extend_low_i8x16_u(m.v128.load32_zero(offset, 1, ptr))), mask: false };
      }
    }
    // Gather: four scalar loads.
    const idx = this.newVar(binaryen.v128);
    const acc = this.newVar(binaryen.v128);
    const parts: Ref[] = [m.local.set(idx, this.unmask(this.vexpr(index, c))), m.local.set(acc, m.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))];
    for (let l = 0; l < 4; l++) {
      const lane = this.loadScalar(b, m.i32x4.extract_lane(m.local.get(idx, binaryen.v128), l as unknown as Ref));
      const cur = m.local.get(acc, binaryen.v128);
      parts.push(m.local.set(acc, t === 'f32' ? m.f32x4.replace_lane(cur, l as unknown as Ref, lane) : m.i32x4.replace_lane(cur, l as unknown as Ref, lane)));
    }
    parts.push(m.local.get(acc, binaryen.v128));
    return { ref: m.block(null, parts, binaryen.v128), mask: false };
  }

  private vexpr(e: Expr, c: VecCtx): VecValue {
    const m = this.m;
    if (e.type === 'i64') throw new NotVectorizable();
    if (!dependsOn(e, c.v, c.varying)) {
      if (!c.shared || e.kind === 'const') return { ref: this.splatExpr(e), mask: false };
      let t = c.shared.get(e);
      if (t === undefined) {
        t = this.newVar(binaryen.v128);
        c.shared.set(e, t);
        c.pre!.push(m.local.set(t, this.splatExpr(e)));
      }
      return { ref: m.local.get(t, binaryen.v128), mask: false };
    }
    switch (e.kind) {
      case 'index': {
        const base = m.i32x4.splat(m.local.get(c.iv, binaryen.i32));
        const o = 4 * c.group;
        return { ref: m.i32x4.add(base, m.v128.const([o, 0, 0, 0, o + 1, 0, 0, 0, o + 2, 0, 0, 0, o + 3, 0, 0, 0])), mask: false };
      }
      case 'get': return { ref: m.local.get(c.vlocals.get(e.local)![c.group]!, binaryen.v128), mask: false };
      case 'load': return this.vload(e.buf, e.index, c);
      case 'select': {
        const cond = this.asMask(this.vexpr(e.cond, c));
        return { ref: m.v128.bitselect(this.unmask(this.vexpr(e.a, c)), this.unmask(this.vexpr(e.b, c)), cond), mask: false };
      }
      case 'unary': {
        if (e.a.type === 'i64') throw new NotVectorizable();
        const a = this.unmask(this.vexpr(e.a, c));
        if (e.a.type === 'f32') return { ref: (m.f32x4 as unknown as Record<string, (x: Ref) => Ref>)[e.op]!(a), mask: false };
        if (e.op === 'eqz') return { ref: m.i32x4.eq(a, m.i32x4.splat(m.i32.const(0))), mask: true };
        throw new NotVectorizable();
      }
      case 'binary': return this.vbinary(e, c);
      case 'convert': {
        const a = this.unmask(this.vexpr(e.a, c));
        switch (e.op) {
          case 'f32.from_i32_s': return { ref: m.f32x4.convert_i32x4_s(a), mask: false };
          case 'f32.from_i32_u': return { ref: m.f32x4.convert_i32x4_u(a), mask: false };
          case 'i32.trunc_sat_f32_s': return { ref: m.i32x4.trunc_sat_f32x4_s(a), mask: false };
          case 'f32.reinterpret_i32': return { ref: a, mask: false };
          case 'i32.reinterpret_f32': {
            const tmp = this.newVar(binaryen.v128);
            const canon = m.f32x4.splat(m.f32.reinterpret(m.i32.const(CANONICAL_NAN)));
            return { ref: m.block(null, [m.local.set(tmp, a), m.v128.bitselect(m.local.get(tmp, binaryen.v128), canon, m.f32x4.eq(m.local.get(tmp, binaryen.v128), m.local.get(tmp, binaryen.v128)))], binaryen.v128), mask: false };
          }
          default: throw new NotVectorizable();
        }
      }
      case 'const': throw new KernelError('unreachable: constants are uniform');
    }
  }

  private vbinary(e: Extract<Expr, { kind: 'binary' }>, c: VecCtx): VecValue {
    const m = this.m;
    const t = e.a.type;
    if (t === 'i64') throw new NotVectorizable();
    if (e.op === 'shl' || e.op === 'shr_s' || e.op === 'shr_u') {
      if (dependsOn(e.b, c.v, c.varying)) throw new NotVectorizable();
      const a = this.unmask(this.vexpr(e.a, c));
      const amt = m.i32.and(this.expr(e.b), m.i32.const(31));
      return { ref: (m.i32x4 as unknown as Record<string, (x: Ref, y: Ref) => Ref>)[e.op]!(a, amt), mask: false };
    }
    const a = this.unmask(this.vexpr(e.a, c)), b = this.unmask(this.vexpr(e.b, c));
    if (t === 'f32') {
      if (e.op === 'copysign') {
        const mag = m.v128.and(a, m.i32x4.splat(m.i32.const(0x7fffffff)));
        const sign = m.v128.and(b, m.i32x4.splat(m.i32.const(0x80000000 | 0)));
        return { ref: m.v128.or(mag, sign), mask: false };
      }
      // min/max against a constant that is neither NaN nor ±0 (exp's clamp, erf's range limits): the
      // pseudo-min/max (one x86 instruction instead of about eight) gives the same value, since no
      // signed-zero tie can occur, and a NaN for a NaN operand (the operand itself).
      if ((e.op === 'min' || e.op === 'max') && (plainConst(e.a) || plainConst(e.b))) {
        const [x, cst] = plainConst(e.b) ? [a, b] : [b, a];
        return { ref: e.op === 'min' ? m.f32x4.pmin(x, cst) : m.f32x4.pmax(x, cst), mask: false };
      }
      const f = (m.f32x4 as unknown as Record<string, (x: Ref, y: Ref) => Ref>)[e.op];
      if (!f) throw new NotVectorizable();
      return { ref: f(a, b), mask: CMP_OPS.has(e.op) };
    }
    const ns = m.i32x4 as unknown as Record<string, (x: Ref, y: Ref) => Ref>;
    const v128 = m.v128 as unknown as Record<string, (x: Ref, y: Ref) => Ref>;
    switch (e.op) {
      case 'add': case 'sub': case 'mul': case 'eq': case 'ne': return { ref: ns[e.op]!(a, b), mask: CMP_OPS.has(e.op) };
      case 'and': case 'or': case 'xor': return { ref: v128[e.op]!(a, b), mask: false };
      case 'lt': case 'le': case 'gt': case 'ge': return { ref: ns[`${e.op}_s`]!(a, b), mask: true };
      case 'lt_u': case 'le_u': case 'gt_u': case 'ge_u': return { ref: ns[e.op]!(a, b), mask: true };
      default: throw new NotVectorizable();
    }
  }
}

interface VecCtx {
  v: IndexVar;
  iv: number;
  varying: ReadonlySet<LocalVar>;
  /** Per varying local, one v128 local per group of four lanes. */
  vlocals: Map<LocalVar, number[]>;
  /** Groups of four lanes per vector-loop iteration, and the one being emitted (lanes iv+4·group …). */
  groups: number;
  group: number;
  /** With several groups: uniform subexpressions of the current statement, splatted once into locals … */
  shared?: Map<Expr, number>;
  /** … by these statements, emitted before the statement's groups. */
  pre?: Ref[];
}
