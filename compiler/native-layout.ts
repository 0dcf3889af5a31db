/**
 * Native-only storage layouts of constants (docs/kernels.md "Packed weights"). The OPVM, the commitments
 * and the graph bundle always see a tensor in its row-major layout; only the native arena may hold a
 * constant permuted so that a kernel streams it contiguously. The executor permutes the bytes when it
 * loads the constant and undoes it when anything reads the tensor back.
 *
 * The one packing today: the B operand of MatMul, a float32 matrix [K, n], stored panel-major,
 * [n / PANEL][K][PANEL]. The native MatMul visits B one panel of PANEL columns at a time; row-major, such a
 * panel is K rows of 64 bytes at a stride of 4n bytes, and when 4n is a multiple of 4 KiB (n = 1024, 2048 …)
 * every row falls into the same cache sets, so the panel never stays in cache (16 × 2048 × 2048 ran at
 * 4–7 GMAC/s, a 1-row decode step at 2 GMAC/s). Packed, the panel is one contiguous run.
 */
import type { Graph, TensorId } from '../converter/ir/types.ts';

/** Columns per panel of a packed MatMul B (four f32x4 lanes: the native tile's width). */
export const MATMUL_PANEL = 16;

/** One packed constant, as the compiled manifest lists it. */
export interface PackedConstant {
  readonly tensor: number;
  /** Rows K and columns n of the matrix; it is stored as [cols / panel][rows][panel]. */
  readonly rows: number;
  readonly cols: number;
  readonly panel: number;
}

/**
 * The constants the native arena holds packed: every float32 2-D constant whose only readers are MatMul
 * nodes taking it as B (input 1), with at least two panels of columns, that is not a graph output.
 */
export function packedConstants(g: Graph): PackedConstant[] {
  const readers = new Map<number, { matmulB: number; other: number }>();
  for (const n of g.nodes) {
    n.inputs.forEach((id, pos) => {
      if (!g.constants.has(id as TensorId)) return;
      const r = readers.get(id) ?? { matmulB: 0, other: 0 };
      if (n.op === 'MatMul' && pos === 1) r.matmulB++; else r.other++;
      readers.set(id, r);
    });
  }
  const outputs = new Set<number>(g.outputs);
  const out: PackedConstant[] = [];
  for (const [id, r] of [...readers].sort((a, b) => a[0] - b[0])) {
    const t = g.tensors[id]!;
    if (r.other || !r.matmulB || outputs.has(id) || t.dtype !== 'float32' || t.shape.length !== 2) continue;
    const rows = Number(t.shape[0]), cols = Number(t.shape[1]);
    if (cols % MATMUL_PANEL !== 0 || cols < 2 * MATMUL_PANEL || rows < 1) continue;
    out.push({ tensor: id, rows, cols, panel: MATMUL_PANEL });
  }
  return out;
}

/** Row-major float32 bytes of `p`'s matrix → its packed bytes (into `dst`, which must not overlap `src`). */
export function packPanels(p: PackedConstant, src: Uint8Array, dst: Uint8Array): void {
  permute(p, src, dst, true);
}

/** Packed bytes of `p`'s matrix → row-major bytes. */
export function unpackPanels(p: PackedConstant, src: Uint8Array, dst: Uint8Array): void {
  permute(p, src, dst, false);
}

function permute(p: PackedConstant, src: Uint8Array, dst: Uint8Array, pack: boolean): void {
  const { rows, cols, panel } = p;
  const bytes = rows * cols * 4;
  if (src.byteLength !== bytes || dst.byteLength !== bytes) throw new Error(`packed constant ${p.tensor}: ${src.byteLength}/${dst.byteLength} bytes, expected ${bytes}`);
  // 32-bit words, never floats (a NaN's bits must pass unchanged); one panel row of `panel` words at a time:
  // row r of panel q sits at (q·rows + r)·panel packed, at r·cols + q·panel row-major. About 3–4 GB/s once
  // compiled (a 1.1 B model's 4.2 GB of packed weights in a second or so), against 0.8 GB/s for 64-byte set()s.
  const words = (b: Uint8Array) => (b.byteOffset % 4 === 0 ? new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4) : new Int32Array(b.slice().buffer));
  const s = words(src), d = words(dst);
  if (d.buffer !== dst.buffer) throw new Error(`packed constant ${p.tensor}: destination not 4-byte aligned`);
  if (panel === 16) (pack ? pack16 : unpack16)(s, d, rows, cols);
  else {
    let o = 0;
    for (let q = 0; q < cols / panel; q++) {
      for (let r = 0, f = q * panel; r < rows; r++, f += cols, o += panel) {
        for (let j = 0; j < panel; j++) {
          if (pack) d[o + j] = s[f + j]!;
          else d[f + j] = s[o + j]!;
        }
      }
    }
  }
}

// The 16-word panel rows spelt out: V8 then compiles each copy to straight loads and stores.
function pack16(s: Int32Array, d: Int32Array, rows: number, cols: number): void {
  let o = 0;
  for (let q = 0; q < cols / 16; q++) {
    for (let r = 0, f = q * 16; r < rows; r++, f += cols, o += 16) {
      d[o] = s[f]!; d[o + 1] = s[f + 1]!; d[o + 2] = s[f + 2]!; d[o + 3] = s[f + 3]!;
      d[o + 4] = s[f + 4]!; d[o + 5] = s[f + 5]!; d[o + 6] = s[f + 6]!; d[o + 7] = s[f + 7]!;
      d[o + 8] = s[f + 8]!; d[o + 9] = s[f + 9]!; d[o + 10] = s[f + 10]!; d[o + 11] = s[f + 11]!;
      d[o + 12] = s[f + 12]!; d[o + 13] = s[f + 13]!; d[o + 14] = s[f + 14]!; d[o + 15] = s[f + 15]!;
    }
  }
}
function unpack16(s: Int32Array, d: Int32Array, rows: number, cols: number): void {
  let o = 0;
  for (let q = 0; q < cols / 16; q++) {
    for (let r = 0, f = q * 16; r < rows; r++, f += cols, o += 16) {
      d[f] = s[o]!; d[f + 1] = s[o + 1]!; d[f + 2] = s[o + 2]!; d[f + 3] = s[o + 3]!;
      d[f + 4] = s[o + 4]!; d[f + 5] = s[o + 5]!; d[f + 6] = s[o + 6]!; d[f + 7] = s[o + 7]!;
      d[f + 8] = s[o + 8]!; d[f + 9] = s[o + 9]!; d[f + 10] = s[o + 10]!; d[f + 11] = s[o + 11]!;
      d[f + 12] = s[o + 12]!; d[f + 13] = s[o + 13]!; d[f + 14] = s[o + 14]!; d[f + 15] = s[o + 15]!;
    }
  }
}
