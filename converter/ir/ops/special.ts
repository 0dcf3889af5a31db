/**
 * Special-purpose ops: losses (NegativeLogLikelihoodLoss), linear algebra (Det), signal processing
 * (DFT, STFT, Window, MelWeightMatrix), sampling (GridSample, RoiAlign), MaxUnpool and Col2Im. Recurrent networks
 * (RNN, GRU, LSTM) have no IR op: the ONNX importer unrolls them into elementwise ops and MatMul.
 */
import { numel, shape } from '../types.ts';
import { defineOp, IrError } from '../op-registry.ts';
import type { HostTensor } from '../host-tensor.ts';
import { hostTensor, strides } from '../host-tensor.ts';
import { allocTyped } from '../dtype.ts';
import { requireDType } from './util.ts';
import { roundHalfEven, wasmMax, wasmMin } from './elementwise.ts';
import type { Attrs } from '../types.ts';

const f32 = Math.fround;
const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

function oneOf(v: unknown, allowed: readonly string[], what: string): string {
  if (typeof v !== 'string' || !allowed.includes(v)) throw new IrError(`${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
  return v;
}
function flag(v: unknown, what: string): number {
  if (v !== 0 && v !== 1) throw new IrError(`${what} must be 0 or 1, got ${JSON.stringify(v)}`);
  return v;
}

// ---------------------------------------------------------------- NegativeLogLikelihoodLoss

export const NLL_REDUCTIONS = ['none', 'sum', 'mean'] as const;

defineOp({
  name: 'NegativeLogLikelihoodLoss',
  summary: 'negative log-likelihood loss over class axis 1, with optional class weights, ignore_index and reduction',
  doc: `Inputs: \`input\` float32 of shape [N, C, d1, …, dk] (rank ≥ 2; it normally holds log-probabilities), \`target\` int32 or int64 of shape [N, d1, …, dk], optional \`weight\` float32 of shape [C].
Attributes: \`reduction\` ∈ {'none', 'sum', 'mean'}; \`ignore_index\` (int; the importer uses −1 when the model gives none, which never matches a class).

For every position p = (n, d1, …, dk), in row-major order over [N, d1, …, dk]: let t = target[p].
- p is **ignored** when t = ignore_index, or when t is outside [0, C) (an out-of-range class is not an error: it is treated as ignored).
- otherwise w = weight[t] (w = 1 when there is no weight input) and loss[p] = −(input[n, t, d1, …, dk] × w) — the product rounded once to float32, then negated (exact); without weight, loss[p] = −input[n, t, d1, …, dk].
- an ignored position has loss[p] = +0 and contributes weight 0.

Output (float32):
- reduction 'none': loss, shape [N, d1, …, dk].
- reduction 'sum': scalar (shape []) S, where S starts at +0 and, for each non-ignored p in row-major order, S ← S + loss[p], rounded to float32 after each addition.
- reduction 'mean': scalar S ÷ W (one correctly rounded float32 division), where S is the sum above and W is accumulated the same way in the same order: W starts at +0 and W ← W + w for each non-ignored p. So the mean divides by the sum of the applied weights, not by the number of positions. If every position is ignored, W = 0 and the result is 0 ÷ 0 = NaN (the canonical quiet NaN); a total weight of 0 likewise gives NaN or ±∞ per IEEE division.

No FMA; NaN and ∞ in input or weight propagate through the products and sums per IEEE-754.`,
  inputs: [2, 3],
  outputs: 1,
  attrs: { reduction: 'string', ignore_index: 'int' },
  infer(ins, attrs) {
    const [x, t, w] = ins;
    const red = oneOf(attrs.reduction, NLL_REDUCTIONS, 'reduction');
    requireDType(x!, ['float32'], 'NegativeLogLikelihoodLoss input');
    requireDType(t!, ['int32', 'int64'], 'NegativeLogLikelihoodLoss target');
    const xs = x!.shape;
    if (xs.length < 2) throw new IrError(`input must have rank ≥ 2 ([N, C, …]), got ${fmt(xs)}`);
    const want = [xs[0]!, ...xs.slice(2)];
    if (t!.shape.length !== want.length || t!.shape.some((d, i) => d !== want[i])) throw new IrError(`target shape ${fmt(t!.shape)} must be ${fmt(want)} (input ${fmt(xs)} without the class axis)`);
    if (w) {
      requireDType(w, ['float32'], 'NegativeLogLikelihoodLoss weight');
      if (w.shape.length !== 1 || w.shape[0] !== xs[1]) throw new IrError(`weight shape ${fmt(w.shape)} must be [${xs[1]}] (one weight per class)`);
    }
    return [{ dtype: 'float32', shape: shape(red === 'none' ? want : []) }];
  },
  fold([x, t, w], attrs) {
    const xs = x!.shape;
    const N = xs[0]!, C = xs[1]!, D = numel(xs.slice(2));
    const ii = attrs.ignore_index as number;
    const xd = x!.data as Float32Array;
    const wd = w?.data as Float32Array | undefined;
    const loss = new Float32Array(N * D);
    const ignored = new Uint8Array(N * D);
    const wt = new Float32Array(N * D);
    for (let n = 0; n < N; n++) {
      for (let d = 0; d < D; d++) {
        const p = n * D + d;
        const tv = Number(t!.data[p]!);
        if (tv === ii || tv < 0 || tv >= C) { ignored[p] = 1; loss[p] = 0; continue; }
        const v = xd[(n * C + tv) * D + d]!;
        const wv = wd ? wd[tv]! : 1;
        wt[p] = wv;
        loss[p] = wd ? -f32(v * wv) : -v;
      }
    }
    const red = attrs.reduction as string;
    if (red === 'none') return [hostTensor('float32', [N, ...xs.slice(2)], loss)];
    let S = 0, W = 0;
    for (let p = 0; p < N * D; p++) {
      if (ignored[p]) continue;
      S = f32(S + loss[p]!);
      W = f32(W + wt[p]!);
    }
    return [hostTensor('float32', [], [red === 'sum' ? S : f32(S / W)])];
  },
});

// ---------------------------------------------------------------- Det

/** Determinant of one M×M matrix (row-major, float32 values), exactly as the Det spec says. */
export function detF32(a: Float32Array, M: number): number {
  const m = Float32Array.from(a);
  let neg = false;
  let acc = 1;
  for (let k = 0; k < M; k++) {
    let piv = k;
    let best = Math.abs(m[k * M + k]!);
    for (let i = k + 1; i < M; i++) {
      const v = Math.abs(m[i * M + k]!);
      if (v > best) { best = v; piv = i; }
    }
    if (piv !== k) {
      neg = !neg;
      for (let j = 0; j < M; j++) { const s = m[k * M + j]!; m[k * M + j] = m[piv * M + j]!; m[piv * M + j] = s; }
    }
    const p = m[k * M + k]!;
    acc = k === 0 ? p : f32(acc * p);
    if (p === 0) return 0;
    for (let i = k + 1; i < M; i++) {
      const f = f32(m[i * M + k]! / p);
      for (let j = k + 1; j < M; j++) m[i * M + j] = f32(m[i * M + j]! - f32(f * m[k * M + j]!));
    }
  }
  return neg ? -acc : acc;
}

defineOp({
  name: 'Det',
  summary: 'determinant of each square matrix in the last two axes (LU with partial pivoting)',
  doc: `Input float32 of shape [*, M, M] (rank ≥ 2, the last two dims equal); output float32 of shape [*].

Each matrix A (a private float32 copy) is reduced by Gaussian elimination with partial pivoting, every operation rounded once to float32, no FMA:
for k = 0 … M−1:
1. pivot row r: start with r = k, then for i = k+1 … M−1 in order set r = i when |A[i][k]| > |A[r][k]| (strictly greater: the first largest magnitude wins, and a NaN never replaces the current pivot).
2. if r ≠ k, swap rows r and k (whole rows) and flip the sign flag.
3. p = A[k][k]; the running product P = p when k = 0, else P ← P × p (rounded).
4. if p = 0 (either sign), the determinant is +0: stop.
5. for i = k+1 … M−1: f = A[i][k] ÷ p; for j = k+1 … M−1: A[i][j] ← A[i][j] − (f × A[k][j]) (product rounded, then the difference rounded).
The result is P, negated (exactly) when the sign flag is set. M = 0 gives 1; M = 1 gives A[0][0]. NaN/∞ propagate per IEEE-754.`,
  inputs: [1, 1],
  outputs: 1,
  attrs: {},
  infer([x]) {
    requireDType(x!, ['float32'], 'Det input');
    const s = x!.shape;
    if (s.length < 2 || s[s.length - 1] !== s[s.length - 2]) throw new IrError(`input must be [*, M, M], got ${fmt(s)}`);
    return [{ dtype: 'float32', shape: shape(s.slice(0, -2)) }];
  },
  fold([x]) {
    const s = x!.shape;
    const M = s[s.length - 1]!;
    const B = numel(s.slice(0, -2));
    const out = new Float32Array(B);
    const xd = x!.data as Float32Array;
    for (let b = 0; b < B; b++) out[b] = M === 0 ? 1 : detF32(xd.subarray(b * M * M, (b + 1) * M * M), M);
    return [hostTensor('float32', s.slice(0, -2), out)];
  },
});

// ---------------------------------------------------------------- MaxUnpool

defineOp({
  name: 'MaxUnpool',
  summary: 'scatter pooled values to the positions recorded by MaxPool indices, zeros elsewhere',
  doc: `Inputs: \`x\` (float32 or any integer dtype) of shape [N, C, i1, …, ik] and \`indices\` int64 of the same shape. Attributes: \`index_shape\` [N, C, s1, …, sk], the shape the indices are flat row-major positions in (the unpooled shape implied by kernel_shape, strides and pads: s = (i − 1)·stride − pad_begin − pad_end + kernel), and \`output_shape\` [N, C, o1, …, ok], the output shape (equal to index_shape unless the model gives an explicit output_shape).

The output (dtype of x) starts all zeros. Then, for every element e of x in row-major order, with j = indices[e]: if 0 ≤ j < numel(index_shape), j is unravelled into a coordinate p of index_shape (row-major over the WHOLE tensor, as MaxPool produces it); if p also lies inside output_shape (p_a < o_a on every axis), output[p] ← x[e]; otherwise e is skipped. When several elements land on one position, the last one in row-major order wins. So an output_shape larger than index_shape pads the unpooled result with zeros at the end of each axis (the ONNX semantics), and one that is smaller crops it.`,
  inputs: [2, 2],
  outputs: 1,
  attrs: { index_shape: 'ints', output_shape: 'ints' },
  infer([x, i], attrs) {
    requireDType(x!, ['float32', 'int8', 'uint8', 'int16', 'int32', 'int64'], 'MaxUnpool input');
    requireDType(i!, ['int64'], 'MaxUnpool indices');
    const xs = x!.shape;
    if (xs.length < 3) throw new IrError(`input must be [N, C, spatial…], got ${fmt(xs)}`);
    if (i!.shape.length !== xs.length || i!.shape.some((d, k) => d !== xs[k])) throw new IrError(`indices shape ${fmt(i!.shape)} must equal the input shape ${fmt(xs)}`);
    for (const k of ['index_shape', 'output_shape']) {
      const os = attrs[k] as number[];
      if (os.length !== xs.length || os[0] !== xs[0] || os[1] !== xs[1]) throw new IrError(`${k} ${fmt(os)} must have rank ${xs.length} and start with N=${xs[0]}, C=${xs[1]}`);
      if (os.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new IrError(`${k} ${fmt(os)} has a negative dimension`);
    }
    return [{ dtype: x!.dtype, shape: shape(attrs.output_shape as number[]) }];
  },
  fold([x, i], attrs) {
    const is = attrs.index_shape as number[], os = attrs.output_shape as number[];
    const ni = numel(is);
    const out = allocTyped(x!.dtype, numel(os));
    const id = i!.data as BigInt64Array;
    const ost = strides(os), ist = strides(is);
    for (let e = 0; e < id.length; e++) {
      const j = id[e]!;
      if (j < 0n || j >= BigInt(ni)) continue;
      let rem = Number(j), dst = 0, inside = true;
      for (let a = 0; a < is.length; a++) {
        const p = Math.floor(rem / ist[a]!);
        rem -= p * ist[a]!;
        if (p >= os[a]!) inside = false;
        dst += p * ost[a]!;
      }
      if (inside) (out as Float32Array)[dst] = (x!.data as Float32Array)[e]!;
    }
    return [hostTensor(x!.dtype, os, out)];
  },
});

// ---------------------------------------------------------------- Col2Im

/** Sliding-window grid of Col2Im: number of block positions per spatial axis. */
export function col2imGrid(image: readonly number[], block: readonly number[], dil: readonly number[], pads: readonly number[], strides: readonly number[]): number[] {
  const k = image.length;
  return image.map((d, i) => Math.floor((d + pads[i]! + pads[i + k]! - (dil[i]! * (block[i]! - 1) + 1)) / strides[i]!) + 1);
}

defineOp({
  name: 'Col2Im',
  summary: 'rearrange column blocks back into an image, summing overlapping values (inverse of im2col)',
  doc: `Input \`x\` float32 [N, C·B, L] where B = ∏ block_shape. Attributes (k spatial axes, k ≥ 1): \`image_shape\` (k sizes), \`block_shape\` (k sizes ≥ 1), \`dilations\` (k, ≥ 1), \`pads\` (2k: all begins then all ends, ≥ 0), \`strides\` (k, ≥ 1). The sliding grid has G_i = ⌊(image_i + pad_begin_i + pad_end_i − (dilation_i·(block_i − 1) + 1)) ÷ stride_i⌋ + 1 positions on axis i (each ≥ 1), and L must equal ∏ G_i. Output float32 [N, C, image_shape…].

The output starts all +0. Then every input element x[n, q, l] is visited in row-major order of x; with c = ⌊q ÷ B⌋, b = q mod B unravelled row-major over block_shape into (b_1 … b_k), and l unravelled row-major over (G_1 … G_k) into (g_1 … g_k), its image position is p_i = g_i·stride_i − pad_begin_i + b_i·dilation_i; if 0 ≤ p_i < image_i on every axis, out[n, c, p] ← out[n, c, p] + x[n, q, l] (rounded to float32), otherwise the element is dropped (it lies in the padding). Folding uses exactly this order.`,
  inputs: [1, 1],
  outputs: 1,
  attrs: { image_shape: 'ints', block_shape: 'ints', dilations: 'ints', pads: 'ints', strides: 'ints' },
  infer([x], attrs) {
    requireDType(x!, ['float32'], 'Col2Im input');
    const im = attrs.image_shape as number[], bl = attrs.block_shape as number[], dl = attrs.dilations as number[], pd = attrs.pads as number[], st = attrs.strides as number[];
    const k = im.length;
    if (k < 1 || bl.length !== k || dl.length !== k || st.length !== k || pd.length !== 2 * k) throw new IrError(`image_shape, block_shape, dilations, strides need ${k} ≥ 1 entries and pads ${2 * k}`);
    if (bl.some((v) => v < 1) || dl.some((v) => v < 1) || st.some((v) => v < 1) || pd.some((v) => v < 0) || im.some((v) => v < 0)) throw new IrError('block_shape, dilations and strides must be ≥ 1, pads and image_shape ≥ 0');
    const xs = x!.shape;
    const B = numel(bl);
    if (xs.length !== 3 || xs[1]! % B !== 0) throw new IrError(`input must be [N, C·${B}, L], got ${fmt(xs)}`);
    const grid = col2imGrid(im, bl, dl, pd, st);
    if (grid.some((g) => g < 1)) throw new IrError(`blocks ${fmt(bl)} do not fit the padded image ${fmt(im)}`);
    if (numel(grid) !== xs[2]) throw new IrError(`L = ${xs[2]} must equal the number of block positions ${numel(grid)} (grid ${fmt(grid)})`);
    return [{ dtype: 'float32', shape: shape([xs[0]!, xs[1]! / B, ...im]) }];
  },
  fold([x], attrs) {
    const im = attrs.image_shape as number[], bl = attrs.block_shape as number[], dl = attrs.dilations as number[], pd = attrs.pads as number[], st = attrs.strides as number[];
    const k = im.length, B = numel(bl);
    const [N, CB, L] = x!.shape as unknown as [number, number, number];
    const C = CB / B, P = numel(im);
    const grid = col2imGrid(im, bl, dl, pd, st);
    const bStr = strides(bl), gStr = strides(grid), iStr = strides(im);
    const out = new Float32Array(N * C * P);
    const X = x!.data as Float32Array;
    for (let n = 0; n < N; n++) for (let q = 0; q < CB; q++) for (let l = 0; l < L; l++) {
      const c = Math.floor(q / B), b = q % B;
      let dst = 0, inside = true;
      for (let i = 0; i < k; i++) {
        const bi = Math.floor(b / bStr[i]!) % bl[i]!, gi = Math.floor(l / gStr[i]!) % grid[i]!;
        const p = gi * st[i]! - pd[i]! + bi * dl[i]!;
        if (p < 0 || p >= im[i]!) { inside = false; break; }
        dst += p * iStr[i]!;
      }
      if (!inside) continue;
      const o = (n * C + c) * P + dst;
      out[o] = f32(out[o]! + X[(n * CB + q) * L + l]!);
    }
    return [hostTensor('float32', [N, C, ...im], out)];
  },
});

// ---------------------------------------------------------------- DFT

defineOp({
  name: 'DFT',
  summary: 'discrete Fourier transform (or its inverse) of real or complex data along one axis',
  doc: `Input float32 of shape [d0, …, d(r−2), c] with r ≥ 2 and c ∈ {1, 2}: the last axis holds the real part (c = 1) or the (real, imaginary) pair (c = 2). Attributes: \`axis\` (0 ≤ axis ≤ r−2, the transformed axis), \`length\` L ≥ 1 (the DFT length), \`inverse\` ∈ {0, 1}, \`onesided\` ∈ {0, 1}.

Along \`axis\` the signal x[0 … n−1] (n = the input's size on axis) is truncated to its first L values when n > L and padded with zeros when n < L. The output has the input's shape except: the size on \`axis\` is L (onesided = 0) or ⌊L/2⌋ + 1 (onesided = 1: only the first ⌊L/2⌋+1 frequencies), and the last axis is 2 (real, imaginary). Output dtype float32.

For each output frequency k and each 1-D signal (all other indices fixed): with σ = −1 (forward) or +1 (inverse), for m = 0 … L−1 in increasing order: θ index q = (k·m) mod L (exact integer), c = cos(2π·q/L), s = σ·sin(2π·q/L), computed by the kernel's float32 cos/sin (never the host library) after an exact integer reduction to the first octant, so that quarter turns are exact and the table is symmetric: a = 2q; if a > L then a ← 2L − a and sin is negated; if 2a > L then a ← L − a and cos is negated; if 4a > L then b = L − 2a and cos and sin are swapped, else b = 2a; φ = (π as float32 × b, rounded) ÷ 2L, rounded; take cos φ and sin φ, then apply the swap and the negations; then tr = (xr·c) − (xi·s), ti = (xr·s) + (xi·c) (each product and sum rounded to float32, xi = 0 for real input), and re ← re + tr, im ← im + ti (starting at +0, rounded after each addition). For inverse = 1, the results are then divided by L (one rounded division each). Never folded on the host.`,
  inputs: [1, 1],
  outputs: 1,
  attrs: { axis: 'int', length: 'int', inverse: 'int', onesided: 'int' },
  infer([x], attrs) {
    requireDType(x!, ['float32'], 'DFT input');
    const s = x!.shape;
    const r = s.length;
    if (r < 2 || (s[r - 1] !== 1 && s[r - 1] !== 2)) throw new IrError(`input must be [*, n, …, 1|2] (last axis real or complex), got ${fmt(s)}`);
    const axis = attrs.axis as number, L = attrs.length as number;
    if (!Number.isInteger(axis) || axis < 0 || axis > r - 2) throw new IrError(`axis ${axis} must be in [0, ${r - 2}] (the last axis holds the complex components)`);
    if (L < 1) throw new IrError(`length ${L} must be ≥ 1`);
    flag(attrs.inverse, 'inverse');
    const os = flag(attrs.onesided, 'onesided');
    const out = [...s];
    out[axis] = os ? Math.floor(L / 2) + 1 : L;
    out[r - 1] = 2;
    return [{ dtype: 'float32', shape: shape(out) }];
  },
});

defineOp({
  name: 'STFT',
  summary: 'short-time Fourier transform: DFT of (optionally windowed) frames taken every frame_step samples',
  doc: `Inputs: \`signal\` float32 [B, n, c] with c ∈ {1 (real), 2 (complex)}, optional \`window\` float32 [frame_length]. Attributes: \`frame_step\` ≥ 1, \`frame_length\` L with 1 ≤ L ≤ n, \`onesided\` ∈ {0, 1}. Output float32 [B, F, K, 2] with F = ⌊(n − L) ÷ frame_step⌋ + 1 frames and K = ⌊L/2⌋ + 1 (onesided = 1) or L bins.

Frame f of batch b is x_f[m] = signal[b, f·frame_step + m, :] for m = 0 … L−1, multiplied by window[m] when a window is given (each component times window[m], rounded once; without a window the samples are used unchanged). Each frame is then transformed exactly as a forward DFT of length L (see DFT: same twiddles, same accumulation order, no scaling). Never folded on the host.`,
  inputs: [1, 2],
  outputs: 1,
  attrs: { frame_step: 'int', frame_length: 'int', onesided: 'int' },
  infer([x, w], attrs) {
    requireDType(x!, ['float32'], 'STFT signal');
    const s = x!.shape;
    if (s.length !== 3 || (s[2] !== 1 && s[2] !== 2)) throw new IrError(`signal must be [batch, length, 1|2], got ${fmt(s)}`);
    const step = attrs.frame_step as number, L = attrs.frame_length as number;
    if (step < 1) throw new IrError(`frame_step ${step} must be ≥ 1`);
    if (L < 1 || L > s[1]!) throw new IrError(`frame_length ${L} must be in [1, ${s[1]}] (the signal length)`);
    if (w) {
      requireDType(w, ['float32'], 'STFT window');
      if (w.shape.length !== 1 || w.shape[0] !== L) throw new IrError(`window shape ${fmt(w.shape)} must be [${L}]`);
    }
    const one = flag(attrs.onesided, 'onesided');
    return [{ dtype: 'float32', shape: shape([s[0]!, Math.floor((s[1]! - L) / step) + 1, one ? Math.floor(L / 2) + 1 : L, 2]) }];
  },
});

// ---------------------------------------------------------------- Window

export const WINDOW_KINDS = ['hann', 'hamming', 'blackman'] as const;

defineOp({
  name: 'Window',
  summary: 'a Hann, Hamming or Blackman window of a static size (no inputs)',
  doc: `No inputs. Attributes: \`kind\` ∈ {'hann', 'hamming', 'blackman'}, \`size\` S ≥ 0, \`periodic\` ∈ {0, 1}. Output float32 of shape [S].

Let Nd = S (periodic = 1) or S − 1 (periodic = 0), converted to float32, and τ = 2π rounded to float32 (6.2831854820251465). Every operation below is float32 with one rounding, in the order written (the ONNX function body's order): inc = τ ÷ Nd; for i = 0 … S−1 (i converted exactly): φ = i × inc, y[i] = (a0 − (a1 × cos(φ))) + (a2 × cos(φ × 2)), with the float32 coefficients
- hann: a0 = 0.5, a1 = 0.5, a2 = 0;
- hamming: a0 = 25/46 = 0.54347825050354, a1 = 1 − a0 = 0.45652174949645996, a2 = 0;
- blackman: a0 = 0.42, a1 = 0.5, a2 = 0.08 (each rounded to float32).
cos is the kernel's float32 cosine (docs/determinism.md), never the host's; the a2 term is evaluated even when a2 = 0 (so a NaN angle gives NaN). S = 1 with periodic = 0 has Nd = 0: τ ÷ 0 = +∞ and φ = ∞ × 0 = NaN, so the single value is NaN (as in the ONNX function body).`,
  inputs: [0, 0],
  outputs: 1,
  attrs: { kind: 'string', size: 'int', periodic: 'int' },
  infer(_ins, attrs) {
    oneOf(attrs.kind, WINDOW_KINDS, 'kind');
    flag(attrs.periodic, 'periodic');
    const S = attrs.size as number;
    if (S < 0) throw new IrError(`size ${S} must be ≥ 0`);
    return [{ dtype: 'float32', shape: shape([S]) }];
  },
});

// ---------------------------------------------------------------- MelWeightMatrix

defineOp({
  name: 'MelWeightMatrix',
  summary: 'mel filter-bank weights (no inputs) mapping linear-frequency bins to mel bins',
  doc: `No inputs. Attributes: \`num_mel_bins\` M ≥ 1, \`dft_length\` L ≥ 1, \`sample_rate\` R ≥ 1, \`lower_edge_hertz\`, \`upper_edge_hertz\` (float32, 0 ≤ lower < upper). Output float32 of shape [⌊L/2⌋ + 1, M].

Computed as the ONNX reference does, every operation in float32 with one rounding; log10 and 10^x are the kernel's deterministic functions (docs/determinism.md), never the host's: log10(x) = log(x) ÷ f32(ln 10) (one rounded division) and 10^x = pow(10, x):
1. mel(h) = 2595 × log10(1 + (h ÷ 700)).
2. lo = mel(lower_edge_hertz), hi = mel(upper_edge_hertz), step = (hi − lo) ÷ (M + 2) (M + 2 converted exactly).
3. for b = 0 … M+1: m = (b × step) + lo; hz = 700 × (10^(m ÷ 2595) − 1); f[b] = ⌊((L + 1) × hz) ÷ R⌋, an integer bin index.
4. The output [K, M], K = ⌊L/2⌋ + 1, starts all +0. For each mel bin i = 0 … M−1 in order, with l = f[i], c = f[i+1], h = f[i+2]: if c = l, out[c][i] = 1; otherwise out[j][i] = (j − l) ÷ (c − l) for j = l … c (inclusive). Then, if h > c, out[j][i] = (h − j) ÷ (h − c) for j = c … h−1 (so out[c][i] = 1). The divisions are float32 divisions of exactly converted integers; writes to rows j outside [0, K) are skipped.`,
  inputs: [0, 0],
  outputs: 1,
  attrs: { num_mel_bins: 'int', dft_length: 'int', sample_rate: 'int', lower_edge_hertz: 'float', upper_edge_hertz: 'float' },
  infer(_ins, attrs) {
    const M = attrs.num_mel_bins as number, L = attrs.dft_length as number, R = attrs.sample_rate as number;
    const lo = attrs.lower_edge_hertz as number, hi = attrs.upper_edge_hertz as number;
    if (M < 1 || L < 1 || R < 1) throw new IrError(`num_mel_bins (${M}), dft_length (${L}) and sample_rate (${R}) must be ≥ 1`);
    if (!(lo >= 0 && hi > lo)) throw new IrError(`need 0 ≤ lower_edge_hertz (${lo}) < upper_edge_hertz (${hi})`);
    return [{ dtype: 'float32', shape: shape([Math.floor(L / 2) + 1, M]) }];
  },
});

// ---------------------------------------------------------------- GridSample, RoiAlign evaluation
// Host folds, bit-exact: only + − × ÷ rounded once each, floor/ceil/trunc, fmod, f32.min/max, comparisons.

export function gridSampleF32([x, g]: readonly HostTensor[], a: Attrs): HostTensor[] {
  const [N, C, H, W] = x!.shape as unknown as number[];
  const [, Ho, Wo] = g!.shape as unknown as number[];
  const X = x!.data as Float32Array, G = g!.data as Float32Array;
  const ac = a.align_corners === 1, pad = a.padding_mode as string, mode = a.mode as string;
  const unnorm = (v: number, S: number) => (ac ? f32(f32(f32(v + 1) / 2) * (S - 1)) : f32(f32(f32(f32(v + 1) * S) - 1) / 2));
  const clampC = (u: number, S: number) => wasmMin(S - 1, wasmMax(u, 0));
  const padC = (u: number, S: number) => {
    if (pad === 'zeros') return u;
    if (pad === 'border') return clampC(u, S);
    const lo2 = ac ? 0 : -1, hi2 = ac ? 2 * (S - 1) : 2 * S - 1;
    if (lo2 === hi2) return 0;
    const m = f32(lo2 / 2), span = f32((hi2 - lo2) / 2);
    const d = Math.abs(f32(u - m));
    const r = d % span, k = Math.floor(f32(d / span)); // JS % is the exact fmod
    return clampC(k % 2 === 0 ? f32(r + m) : f32(f32(span - r) + m), S);
  };
  const out = new Float32Array(N! * C! * Ho! * Wo!);
  const A = -0.75;
  const cc2 = (t: number) => f32(f32(f32(f32(f32(f32(A * t) - f32(5 * A)) * t) + f32(8 * A)) * t) - f32(4 * A));
  const cc1 = (t: number) => f32(f32(f32(f32(f32(f32(A + 2) * t) - f32(A + 3)) * t) * t) + 1);
  const coeffs = (t: number) => [cc2(f32(t + 1)), cc1(t), cc1(f32(1 - t)), cc2(f32(f32(1 - t) + 1))];
  for (let n = 0; n < N!; n++) for (let ch = 0; ch < C!; ch++) for (let i = 0; i < Ho!; i++) for (let j = 0; j < Wo!; j++) {
    const gi = ((n * Ho! + i) * Wo! + j) * 2;
    const V = (yi: number, xi: number) => (yi >= 0 && yi < H! && xi >= 0 && xi < W! ? X[((n * C! + ch) * H! + yi) * W! + xi]! : 0);
    const inb = (yi: number, xi: number) => yi >= 0 && yi < H! && xi >= 0 && xi < W!;
    let ux = unnorm(G[gi]!, W!), uy = unnorm(G[gi + 1]!, H!);
    let y = 0;
    if (mode === 'bicubic') {
      const x0 = Math.floor(ux), y0 = Math.floor(uy);
      const cx = coeffs(f32(ux - x0)), cy = coeffs(f32(uy - y0));
      const tap = (yi: number, xi: number) => V(Math.trunc(padC(yi, H!)), Math.trunc(padC(xi, W!)));
      for (let r = 0; r < 4; r++) {
        let row = 0;
        for (let q = 0; q < 4; q++) row = f32(row + f32(tap(y0 - 1 + r, x0 - 1 + q) * cx[q]!));
        y = f32(y + f32(row * cy[r]!));
      }
    } else {
      ux = padC(ux, W!); uy = padC(uy, H!);
      if (mode === 'nearest') y = V(roundHalfEven(uy), roundHalfEven(ux));
      else {
        const x0 = Math.floor(ux), y0 = Math.floor(uy), x1 = x0 + 1, y1 = y0 + 1;
        const taps: [number, number, number][] = [
          [f32(f32(x1 - ux) * f32(y1 - uy)), y0, x0], [f32(f32(ux - x0) * f32(y1 - uy)), y0, x1],
          [f32(f32(x1 - ux) * f32(uy - y0)), y1, x0], [f32(f32(ux - x0) * f32(uy - y0)), y1, x1],
        ];
        for (const [w, yi, xi] of taps) if (inb(yi, xi)) y = f32(y + f32(w * V(yi, xi)));
      }
    }
    out[((n * C! + ch) * Ho! + i) * Wo! + j] = y;
  }
  return [hostTensor('float32', [N!, C!, Ho!, Wo!], out)];
}

export function roiAlignF32([x, rois, bi]: readonly HostTensor[], a: Attrs): HostTensor[] {
  const [N, C, H, W] = x!.shape as unknown as number[];
  const R = rois!.shape[0]!;
  const oh = a.output_height as number, ow = a.output_width as number, sc = a.spatial_scale as number;
  const hp = a.half_pixel === 1, isMax = a.mode === 'max';
  const X = x!.data as Float32Array, RO = rois!.data as Float32Array;
  const out = new Float32Array(R * C! * oh * ow);
  for (let r = 0; r < R; r++) {
    const b = Number(bi!.data[r]!);
    if (b < 0 || b >= N!) continue;
    const off = hp ? 0.5 : 0;
    const [sx, sy, ex, ey] = [0, 1, 2, 3].map((k) => f32(f32(RO[r * 4 + k]! * sc) - off)) as [number, number, number, number];
    let rw = f32(ex - sx), rh = f32(ey - sy);
    if (!hp) { rw = wasmMax(rw, 1); rh = wasmMax(rh, 1); }
    const bh = f32(rh / oh), bw = f32(rw / ow);
    const gh = (a.sampling_ratio as number) > 0 ? (a.sampling_ratio as number) : Math.max(0, Math.ceil(f32(rh / oh)) || 0);
    const gw = (a.sampling_ratio as number) > 0 ? (a.sampling_ratio as number) : Math.max(0, Math.ceil(f32(rw / ow)) || 0);
    const count = Math.max(gh * gw, 1);
    for (let c = 0; c < C!; c++) for (let ph = 0; ph < oh; ph++) for (let pw = 0; pw < ow; pw++) {
      let acc = 0, first = true;
      const P = (yy: number, xx: number) => X[((b * C! + c) * H! + yy) * W! + xx]!;
      for (let iy = 0; iy < gh; iy++) for (let ix = 0; ix < gw; ix++) {
        let y = f32(f32(sy + f32(ph * bh)) + f32(f32(f32(iy + 0.5) * bh) / gh));
        let xv = f32(f32(sx + f32(pw * bw)) + f32(f32(f32(ix + 0.5) * bw) / gw));
        let v = 0;
        if (!(y < -1 || y > H! || xv < -1 || xv > W!)) {
          if (y <= 0) y = 0;
          if (xv <= 0) xv = 0;
          let y0 = Math.floor(y), x0 = Math.floor(xv), y1: number, x1: number;
          if (y0 >= H! - 1) { y0 = y1 = H! - 1; y = y0; } else y1 = y0 + 1;
          if (x0 >= W! - 1) { x0 = x1 = W! - 1; xv = x0; } else x1 = x0 + 1;
          const ly = f32(y - y0), lx = f32(xv - x0), hy = f32(1 - ly), hx = f32(1 - lx);
          const t = [f32(f32(hy * hx) * P(y0, x0)), f32(f32(hy * lx) * P(y0, x1)), f32(f32(ly * hx) * P(y1, x0)), f32(f32(ly * lx) * P(y1, x1))];
          v = isMax ? wasmMax(wasmMax(wasmMax(t[0]!, t[1]!), t[2]!), t[3]!) : f32(f32(f32(t[0]! + t[1]!) + t[2]!) + t[3]!);
        }
        if (isMax) { acc = first ? v : wasmMax(acc, v); first = false; } else acc = f32(acc + v);
      }
      out[((r * C! + c) * oh + ph) * ow + pw] = isMax ? acc : f32(acc / count);
    }
  }
  return [hostTensor('float32', [R, C!, oh, ow], out)];
}

// ---------------------------------------------------------------- GridSample

export const GRID_MODES = ['bilinear', 'nearest', 'bicubic'] as const;
export const GRID_PADDING = ['zeros', 'border', 'reflection'] as const;

defineOp({
  name: 'GridSample',
  summary: 'sample an image at the normalised (x, y) positions of a grid (bilinear, nearest or bicubic)',
  doc: `Inputs: \`x\` float32 [N, C, H, W] and \`grid\` float32 [N, Ho, Wo, 2]; output float32 [N, C, Ho, Wo]. Attributes: \`mode\` ∈ {'bilinear', 'nearest', 'bicubic'}, \`padding_mode\` ∈ {'zeros', 'border', 'reflection'}, \`align_corners\` ∈ {0, 1}.

For each output (n, c, i, j): gx = grid[n, i, j, 0] (x, along W), gy = grid[n, i, j, 1] (y, along H). The rules are PyTorch's grid_sampler (which the ONNX op follows); every step is float32 with one rounding per operation, no FMA.
1. Unnormalise, per axis of size S (W for x, H for y): align_corners = 1: u = ((g + 1) ÷ 2) × (S − 1); align_corners = 0: u = (((g + 1) × S) − 1) ÷ 2.
2. Padding of a coordinate u (for bilinear and nearest applied to u itself; for bicubic applied to each integer tap index instead, see 3):
   - 'zeros': unchanged.
   - 'border': u ← min(S − 1, max(u, 0)).
   - 'reflection': with (lo2, hi2) = (0, 2(S − 1)) when align_corners = 1, else (−1, 2S − 1): if lo2 = hi2, u ← 0; else m = lo2 ÷ 2, span = (hi2 − lo2) ÷ 2, d = |u − m|, r = fmod(d, span) (exact), k = ⌊d ÷ span⌋; u ← r + m if k is even, else (span − r) + m; then u ← min(S − 1, max(u, 0)).
3. Sampling; V(yi, xi) = x[n, c, yi, xi] for integer 0 ≤ yi < H and 0 ≤ xi < W, else 0 (an index from a NaN or infinite coordinate is out of range); min/max are f32.min/f32.max:
   - nearest: y = V(round-half-to-even(uy), round-half-to-even(ux)).
   - bilinear: x0 = ⌊ux⌋, x1 = x0 + 1, y0 = ⌊uy⌋, y1 = y0 + 1; w_nw = (x1 − ux)·(y1 − uy), w_ne = (ux − x0)·(y1 − uy), w_sw = (x1 − ux)·(uy − y0), w_se = (ux − x0)·(uy − y0); y = ((w_nw·V(y0,x0) + w_ne·V(y0,x1)) + w_sw·V(y1,x0)) + w_se·V(y1,x1), evaluated as acc = +0 then acc ← acc + w·V for each tap in that order, where a tap outside the image is skipped (not multiplied).
   - bicubic (u unpadded): x0 = ⌊ux⌋, tx = ux − x0, y0 = ⌊uy⌋, ty = uy − y0; with A = −0.75, coefficients of t: c0 = ((A·(t+1) − 5A)·(t+1) + 8A)·(t+1) − 4A, c1 = ((A+2)·t − (A+3))·t·t + 1, c2 = ((A+2)·(1−t) − (A+3))·(1−t)·(1−t) + 1, c3 = ((A·((1−t)+1) − 5A)·((1−t)+1) + 8A)·((1−t)+1) − 4A (left to right). A tap (yi, xi) with yi = y0 − 1 + r, xi = x0 − 1 + q first has each index padded as in step 2 (as a float32 value, then truncated to an integer), then reads V. Row r: R_r = ((V(·,q=0)·cx0 + V(·,1)·cx1) + V(·,2)·cx2) + V(·,3)·cx3; y = ((R_0·cy0 + R_1·cy1) + R_2·cy2) + R_3·cy3.
A NaN grid value yields NaN coordinates; a tap index computed from NaN is treated as out of range (V = 0) while the NaN weights still propagate into the sum for bicubic; bilinear and nearest read no tap and give 0.`,
  inputs: [2, 2],
  outputs: 1,
  attrs: { mode: 'string', padding_mode: 'string', align_corners: 'int' },
  infer([x, g], attrs) {
    requireDType(x!, ['float32'], 'GridSample input');
    requireDType(g!, ['float32'], 'GridSample grid');
    oneOf(attrs.mode, GRID_MODES, 'mode');
    oneOf(attrs.padding_mode, GRID_PADDING, 'padding_mode');
    flag(attrs.align_corners, 'align_corners');
    const xs = x!.shape, gs = g!.shape;
    if (xs.length !== 4) throw new IrError(`input must be [N, C, H, W], got ${fmt(xs)}`);
    if (gs.length !== 4 || gs[0] !== xs[0] || gs[3] !== 2) throw new IrError(`grid must be [${xs[0]}, Ho, Wo, 2], got ${fmt(gs)}`);
    return [{ dtype: 'float32', shape: shape([xs[0]!, xs[1]!, gs[1]!, gs[2]!]) }];
  },  fold: gridSampleF32,
});

// ---------------------------------------------------------------- RoiAlign

defineOp({
  name: 'RoiAlign',
  summary: 'region-of-interest align: average or max of bilinear samples over each output bin',
  doc: `Inputs: \`x\` float32 [N, C, H, W], \`rois\` float32 [R, 4] (x1, y1, x2, y2 in input pixel units before spatial_scale), \`batch_indices\` int32 or int64 [R]. Output float32 [R, C, output_height, output_width]. Attributes: \`mode\` ∈ {'avg', 'max'}, \`output_height\`, \`output_width\` (≥ 1), \`sampling_ratio\` (≥ 0), \`spatial_scale\` (float32), \`half_pixel\` ∈ {0, 1} (1 = coordinate_transformation_mode 'half_pixel', 0 = 'output_half_pixel').

Per roi r (b = batch_indices[r]; a b outside [0, N) yields all zeros for that roi), every operation float32 with one rounding:
1. off = 0.5 if half_pixel else 0; sx = x1·scale − off, sy = y1·scale − off, ex = x2·scale − off, ey = y2·scale − off.
2. rw = ex − sx, rh = ey − sy; if half_pixel = 0, rw = max(rw, 1), rh = max(rh, 1).
3. bh = rh ÷ output_height, bw = rw ÷ output_width; gh = sampling_ratio if > 0 else ⌈rh ÷ output_height⌉, gw likewise with rw and output_width (integers; a negative or NaN value counts as 0); count = max(gh·gw, 1).
4. For output bin (ph, pw) and samples iy = 0…gh−1, ix = 0…gw−1 (iy outer, ix inner): y = (sy + ph·bh) + (((iy + 0.5)·bh) ÷ gh), x = (sx + pw·bw) + (((ix + 0.5)·bw) ÷ gw) (integers converted exactly). A sample with y < −1 or y > H or x < −1 or x > W has the value v = +0 (in max mode it still takes part in the max). Otherwise clamp y, x to ≥ 0; y0 = ⌊y⌋, y1 = y0 + 1; if y0 ≥ H − 1 then y0 = y1 = H − 1 and y = y0 (same for x with W); ly = y − y0, lx = x − x0, hy = 1 − ly, hx = 1 − lx; the weights are w1 = hy·hx, w2 = hy·lx, w3 = ly·hx, w4 = ly·lx.
   - avg: v = ((w1·X[y0,x0] + w2·X[y0,x1]) + w3·X[y1,x0]) + w4·X[y1,x1]; the bin accumulates acc ← acc + v from +0 in sample order; result acc ÷ count.
   - max: v = max(max(max(w1·X[y0,x0], w2·X[y0,x1]), w3·X[y1,x0]), w4·X[y1,x1]) (f32.max); the bin result is the f32.max over its samples in sample order, starting from the first sample's v (0 when there are no samples). This is the ONNX (opset 16) reference definition of max mode.`,
  inputs: [3, 3],
  outputs: 1,
  attrs: { mode: 'string', output_height: 'int', output_width: 'int', sampling_ratio: 'int', spatial_scale: 'float', half_pixel: 'int' },
  infer([x, rois, bi], attrs) {
    requireDType(x!, ['float32'], 'RoiAlign input');
    requireDType(rois!, ['float32'], 'RoiAlign rois');
    requireDType(bi!, ['int32', 'int64'], 'RoiAlign batch_indices');
    oneOf(attrs.mode, ['avg', 'max'], 'mode');
    flag(attrs.half_pixel, 'half_pixel');
    const oh = attrs.output_height as number, ow = attrs.output_width as number;
    if (oh < 1 || ow < 1) throw new IrError(`output_height (${oh}) and output_width (${ow}) must be ≥ 1`);
    if ((attrs.sampling_ratio as number) < 0) throw new IrError(`sampling_ratio must be ≥ 0`);
    const xs = x!.shape;
    if (xs.length !== 4) throw new IrError(`input must be [N, C, H, W], got ${fmt(xs)}`);
    if (rois!.shape.length !== 2 || rois!.shape[1] !== 4) throw new IrError(`rois must be [R, 4], got ${fmt(rois!.shape)}`);
    const R = rois!.shape[0]!;
    if (bi!.shape.length !== 1 || bi!.shape[0] !== R) throw new IrError(`batch_indices must be [${R}], got ${fmt(bi!.shape)}`);
    return [{ dtype: 'float32', shape: shape([R, xs[1]!, oh, ow]) }];
  },  fold: roiAlignF32,
});

