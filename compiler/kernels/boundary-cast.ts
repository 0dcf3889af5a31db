/**
 * Casts between a boundary dtype (float64, float16, bfloat16, uint16, uint32, uint64) and its compute
 * dtype (docs/ir.md §Dtypes), with integer operations only: the OPVM has no f64 or f16 instructions,
 * so every conversion works on bit patterns. The host reference is converter/ir/ops/boundary.ts; the two
 * implement the same algorithm step for step.
 *
 * float64 and uint64 elements load as their i64 bits, float16/bfloat16/uint16 as i32 zero-extended,
 * uint32 as i32.
 */
import type { DType } from '../../converter/ir/types.ts';
import type { Expr } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import type { MathCtx } from '../kernel/math.ts';

const ltU = (a: Expr, b: Expr) => k.binary('lt_u', a, b);
const geU = (a: Expr, b: Expr) => k.binary('ge_u', a, b);
const gtU = (a: Expr, b: Expr) => k.binary('gt_u', a, b);

/** f32 → float16 bits, round to nearest even; overflow → ±inf; NaN → 0x7E00. */
function f32ToHalf(m: MathCtx, x: Expr): Expr {
  const b = m.let(k.convert('i32.reinterpret_f32', x), 'b');
  const sign = m.let(k.and(k.shrU(b, k.i32(16)), k.i32(0x8000)), 's');
  const a = m.let(k.and(b, k.i32(0x7fffffff)), 'a');
  // subnormal or zero: mantissa = nearest(|x| · 2^24) (exact scaling, one rounding), up to 1024 = 0x0400
  const sub = k.convert('i32.trunc_sat_f32_s', k.nearest(k.mul(k.convert('f32.reinterpret_i32', a), k.f32(2 ** 24))));
  const t = m.let(k.sub(a, k.i32(0x38000000)), 't');
  const normal = k.shrU(k.add(k.add(t, k.i32(0xfff)), k.and(k.shrU(t, k.i32(13)), k.i32(1))), k.i32(13));
  const mag = k.select(gtU(a, k.i32(0x7f800000)), k.i32(0x7e00),
    k.select(geU(a, k.i32(0x477ff000)), k.i32(0x7c00),
      k.select(ltU(a, k.i32(0x38800000)), sub, normal)));
  return k.select(gtU(a, k.i32(0x7f800000)), k.i32(0x7e00), k.or(sign, mag));
}

/** float16 bits → f32 (exact). */
function halfToF32(m: MathCtx, h: Expr): Expr {
  const sign = m.let(k.shl(k.and(h, k.i32(0x8000)), k.i32(16)), 's');
  const e = m.let(k.and(k.shrU(h, k.i32(10)), k.i32(0x1f)), 'e');
  const mant = m.let(k.and(h, k.i32(0x3ff)), 'mt');
  // subnormal: mant · 2^-24, exact in f32
  const sub = k.convert('i32.reinterpret_f32', k.mul(k.convert('f32.from_i32_s', mant), k.f32(2 ** -24)));
  const normal = k.or(k.shl(k.add(e, k.i32(112)), k.i32(23)), k.shl(mant, k.i32(13)));
  const special = k.or(k.i32(0x7f800000), k.shl(mant, k.i32(13)));
  const mag = k.select(k.eqz(e), sub, k.select(k.eq(e, k.i32(31)), special, normal));
  return k.convert('f32.reinterpret_i32', k.or(sign, mag));
}

/** f32 → bfloat16 bits, round to nearest even; NaN → 0x7FC0. */
function f32ToBf16(m: MathCtx, x: Expr): Expr {
  const b = m.let(k.convert('i32.reinterpret_f32', x), 'b');
  const r = k.shrU(k.add(k.add(b, k.i32(0x7fff)), k.and(k.shrU(b, k.i32(16)), k.i32(1))), k.i32(16));
  return k.select(gtU(k.and(b, k.i32(0x7fffffff)), k.i32(0x7f800000)), k.i32(0x7fc0), r);
}

/** float64 bits (i64) → f32, round to nearest even; overflow → ±inf; NaN → canonical. */
function f64ToF32(m: MathCtx, bits: Expr): Expr {
  const sign = m.let(k.shl(k.convert('i32.wrap_i64', k.shrU(bits, k.i64(63))), k.i32(31)), 's');
  const a = m.let(k.and(bits, k.i64(0x7fffffffffffffffn)), 'a');
  // normal f32 range: rebias the exponent, drop 29 mantissa bits rounding to nearest even
  const t = m.let(k.sub(a, k.i64(0x3800000000000000n)), 't');
  const normal = k.convert('i32.wrap_i64', k.shrU(k.add(k.add(t, k.i64(0xfffffff)), k.and(k.shrU(t, k.i64(29)), k.i64(1))), k.i64(29)));
  // f32 subnormal range: round(m · 2^(e − 926)), m with its implicit bit, shift = 926 − e ≥ 30
  const e = m.let(k.shrU(a, k.i64(52)), 'e');
  const mant = m.let(k.or(k.and(a, k.i64(0xfffffffffffffn)), k.i64(1n << 52n)), 'm');
  const sh = m.let(k.sub(k.i64(926), e), 'sh');
  const shc = m.let(k.select(gtU(sh, k.i64(63)), k.i64(63), sh), 'shc');
  const q = m.let(k.shrU(mant, shc), 'q');
  const rem = m.let(k.sub(mant, k.shl(q, shc)), 'r');
  const half = m.let(k.shl(k.i64(1), k.sub(shc, k.i64(1))), 'h');
  const up = k.or(gtU(rem, half), k.and(k.eq(rem, half), k.convert('i32.wrap_i64', k.and(q, k.i64(1)))));
  const subn = k.select(gtU(sh, k.i64(53)), k.i32(0), k.add(k.convert('i32.wrap_i64', q), up));
  const mag = k.select(gtU(a, k.i64(0x7ff0000000000000n)), k.i32(0x7fc00000),
    k.select(geU(a, k.i64(0x47effffff0000000n)), k.i32(0x7f800000),
      k.select(ltU(a, k.i64(0x3810000000000000n)), subn, normal)));
  return k.convert('f32.reinterpret_i32', k.select(gtU(a, k.i64(0x7ff0000000000000n)), mag, k.or(sign, mag)));
}

/** f32 → float64 bits (exact); NaN → 0x7FF8000000000000. */
function f32ToF64(m: MathCtx, x: Expr): Expr {
  const b = m.let(k.convert('i32.reinterpret_f32', x), 'b');
  const sign = m.let(k.shl(k.convert('i64.extend_i32_u', k.shrU(b, k.i32(31))), k.i64(63)), 's');
  const a = m.let(k.and(b, k.i32(0x7fffffff)), 'a');
  const a64 = m.let(k.convert('i64.extend_i32_u', a), 'a64');
  const normal = k.add(k.shl(a64, k.i64(29)), k.i64(0x3800000000000000n)); // rebias the exponent by 1023 − 127
  // subnormal: leading bit p = 31 − clz(a); exponent p − 149 + 1023, mantissa a << (52 − p) without its leading bit
  const p = m.let(k.convert('i64.extend_i32_u', k.sub(k.i32(31), k.clz(a))), 'p');
  const subn = k.or(k.shl(k.add(p, k.i64(874)), k.i64(52)), k.and(k.shl(a64, k.sub(k.i64(52), p)), k.i64(0xfffffffffffffn)));
  const mag = k.select(k.eqz(a), k.i64(0),
    k.select(ltU(a, k.i32(0x00800000)), subn,
      k.select(k.eq(a, k.i32(0x7f800000)), k.i64(0x7ff0000000000000n), normal)));
  return k.select(gtU(a, k.i32(0x7f800000)), k.i64(0x7ff8000000000000n), k.or(sign, mag));
}

/** Is this cast one between a boundary dtype and its compute dtype? */
export function isBoundaryCast(from: DType, to: DType): boolean {
  const pairs = ['float64>float32', 'float16>float32', 'bfloat16>float32', 'uint16>int32', 'uint32>int64', 'uint64>int64'];
  return pairs.includes(`${from}>${to}`) || pairs.includes(`${to}>${from}`);
}

/** The cast of one loaded element (see the module comment for how boundary dtypes load). */
export function boundaryCast(m: MathCtx, x: Expr, from: DType, to: DType): Expr {
  switch (`${from}>${to}`) {
    case 'float32>float64': return f32ToF64(m, x);
    case 'float64>float32': return f64ToF32(m, x);
    case 'float32>float16': return f32ToHalf(m, x);
    case 'float16>float32': return halfToF32(m, x);
    case 'float32>bfloat16': return f32ToBf16(m, x);
    case 'bfloat16>float32': return k.convert('f32.reinterpret_i32', k.shl(x, k.i32(16)));
    case 'int32>uint16': return x; // the 16-bit store wraps
    case 'uint16>int32': return x; // loaded zero-extended
    case 'int64>uint32': return k.convert('i32.wrap_i64', x);
    // (written as a masked sign extension: binaryen's optimiser folds load + extend_u into load32_s)
    case 'uint32>int64': return k.and(k.convert('i64.extend_i32_s', x), k.i64(0xffffffff));
    case 'int64>uint64': case 'uint64>int64': return x;
  }
  throw new k.KernelError(`Cast ${from} → ${to}: a boundary dtype casts only to and from its compute dtype`);
}
