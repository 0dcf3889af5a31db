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
  const rowBytes = panel * 4;
  // one panel row (64 bytes) at a time: row r, panel q sits at (q·rows + r)·panel floats packed, r·cols + q·panel row-major
  for (let q = 0; q < cols / panel; q++) {
    for (let r = 0; r < rows; r++) {
      const packed = (q * rows + r) * rowBytes, flat = (r * cols + q * panel) * 4;
      if (pack) dst.set(src.subarray(flat, flat + rowBytes), packed);
      else dst.set(src.subarray(packed, packed + rowBytes), flat);
    }
  }
}
