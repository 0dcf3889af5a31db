/**
 * The kernel language: a small typed AST of loops, loads, stores and scalar arithmetic over i32, i64 and
 * f32, written once per IR op and specialised to a node's shapes (all sizes are constants). It is emitted
 * to binaryen IR in two forms (emit-wasm.ts): a plain scalar form, which the OPVM lowers to bytecode, and
 * a native form that vectorises the innermost parallel loop across independent outputs. Both forms run the
 * same float operations, in the same order, for every output element (docs/kernels.md).
 */
import type { DType } from '../../converter/ir/types.ts';

export type ScalarType = 'i32' | 'i64' | 'f32';

/** A tensor operand of a kernel; element indices are i32, addresses come from the layout. */
export interface Buffer {
  readonly name: string;
  readonly dtype: DType;
  readonly numel: number;
  readonly role: 'input' | 'output' | 'scratch';
}

export interface IndexVar {
  readonly name: string;
}

export interface LocalVar {
  readonly name: string;
  readonly type: ScalarType;
}

export type UnaryOp =
  | 'neg' | 'abs' | 'sqrt' | 'floor' | 'ceil' | 'trunc' | 'nearest' // f32
  | 'eqz' | 'clz' | 'popcnt'; // integers

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max' | 'copysign' // f32 (add/sub/mul for ints too)
  | 'div_s' | 'div_u' | 'rem_s' | 'rem_u' // integers: emitted only through safe wrappers (never trap)
  | 'and' | 'or' | 'xor' | 'shl' | 'shr_s' | 'shr_u'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' // signed for ints, ordered for f32; result i32 0/1
  | 'lt_u' | 'le_u' | 'gt_u' | 'ge_u';

export type ConvertOp =
  | 'f32.from_i32_s' | 'f32.from_i32_u' | 'f32.from_i64_s'
  | 'i32.trunc_sat_f32_s' | 'i64.trunc_sat_f32_s'
  | 'i64.extend_i32_s' | 'i64.extend_i32_u' | 'i32.wrap_i64'
  | 'i32.reinterpret_f32' | 'f32.reinterpret_i32';

export type Expr =
  | { readonly kind: 'const'; readonly type: ScalarType; readonly value: number | bigint }
  | { readonly kind: 'index'; readonly type: 'i32'; readonly v: IndexVar }
  | { readonly kind: 'get'; readonly type: ScalarType; readonly local: LocalVar }
  | { readonly kind: 'load'; readonly type: ScalarType; readonly buf: Buffer; readonly index: Expr }
  | { readonly kind: 'unary'; readonly type: ScalarType; readonly op: UnaryOp; readonly a: Expr }
  | { readonly kind: 'binary'; readonly type: ScalarType; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr }
  | { readonly kind: 'select'; readonly type: ScalarType; readonly cond: Expr; readonly a: Expr; readonly b: Expr }
  | { readonly kind: 'convert'; readonly type: ScalarType; readonly op: ConvertOp; readonly a: Expr };

export type Stmt =
  | { readonly kind: 'for'; readonly v: IndexVar; readonly lo: number; readonly hi: number; readonly parallel: boolean; readonly body: readonly Stmt[] }
  | { readonly kind: 'store'; readonly buf: Buffer; readonly index: Expr; readonly value: Expr }
  | { readonly kind: 'set'; readonly local: LocalVar; readonly value: Expr }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else: readonly Stmt[] };

export interface Kernel {
  readonly name: string;
  readonly buffers: readonly Buffer[];
  readonly locals: readonly LocalVar[];
  readonly body: readonly Stmt[];
  /**
   * Optional body of the native form only: the same outputs, each computed by the same float operation
   * sequence as in `body`, visited in another order (e.g. MatMul by column panels, so a panel of B stays in
   * cache for every row block). The scalar form, and so the OPVM, always runs `body`; the kernel tests
   * check native == scalar bit for bit.
   */
  readonly native?: readonly Stmt[];
}

/**
 * The scalar type a dtype's elements load as. Boundary dtypes (docs/ir.md §Dtypes) load as bits:
 * float64 and uint64 as i64, float16, bfloat16 and uint16 as i32 zero-extended, uint32 as i32.
 */
export function computeType(d: DType): ScalarType {
  return d === 'float32' ? 'f32' : d === 'int64' || d === 'float64' || d === 'uint64' ? 'i64' : 'i32';
}

export const CMP_OPS: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'lt_u', 'le_u', 'gt_u', 'ge_u']);
