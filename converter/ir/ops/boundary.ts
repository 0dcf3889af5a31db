/**
 * Host reference of the casts between a boundary dtype and its compute dtype (docs/ir.md §Dtypes),
 * bit for bit what compiler/kernels/boundary-cast.ts computes: float32 ↔ float64 / float16 / bfloat16
 * round to nearest even where they narrow and are exact where they widen, NaN becomes the target's
 * canonical quiet NaN (0x7FF8000000000000, 0x7E00, 0x7FC0, 0x7FC00000); uint16 ↔ int32, uint32 ↔ int64
 * zero-extend and wrap, uint64 ↔ int64 keep the bits. float16 and bfloat16 host values are their bits.
 */
import type { DType } from '../types.ts';
import type { Scalar } from './util.ts';

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
const f32bits = (x: number) => { f32buf[0] = x; return u32buf[0]!; };
const bitsF32 = (b: number) => { u32buf[0] = b >>> 0; return f32buf[0]!; };

export function floatToHalfBits(x: number): number {
  const b = f32bits(x);
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a > 0x7f800000) return 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a < 0x38800000) {
    const v = bitsF32(a) * 2 ** 24; // exact
    const r = Math.round(v), t = Math.trunc(v);
    return sign | (v - t === 0.5 ? (t % 2 === 0 ? t : t + 1) : r);
  }
  const t = a - 0x38000000;
  return sign | ((t + 0xfff + ((t >>> 13) & 1)) >>> 13);
}

export function halfBitsToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function floatToBf16Bits(x: number): number {
  const b = f32bits(x);
  if ((b & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export const bf16BitsToFloat = (h: number): number => bitsF32((h & 0xffff) << 16);

/** Cast one host value between a boundary dtype and its compute dtype; undefined for other pairs. */
export function boundaryCastScalar(v: Scalar, from: DType, to: DType): Scalar | undefined {
  switch (`${from}>${to}`) {
    case 'float32>float64': return Number(v);
    case 'float64>float32': return Math.fround(Number(v));
    case 'float32>float16': return floatToHalfBits(Number(v));
    case 'float16>float32': return halfBitsToFloat(Number(v));
    case 'float32>bfloat16': return floatToBf16Bits(Number(v));
    case 'bfloat16>float32': return bf16BitsToFloat(Number(v));
    case 'int32>uint16': return Number(v) & 0xffff;
    case 'uint16>int32': return Number(v);
    case 'int64>uint32': return Number(BigInt.asUintN(32, BigInt(v)));
    case 'uint32>int64': return BigInt(v);
    case 'int64>uint64': return BigInt.asUintN(64, BigInt(v));
    case 'uint64>int64': return BigInt.asIntN(64, BigInt(v));
  }
  return undefined;
}
