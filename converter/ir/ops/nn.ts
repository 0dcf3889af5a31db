/**
 * IR ops: neural-network family — MatMul, convolutions, pools, normalisations, LRN and Resize.
 * All float math follows the determinism contract: every + − × ÷ sqrt rounds once to float32,
 * accumulations run in the fixed order stated in each op's doc, no fused multiply-add. Only MatMul
 * and BatchNormalization have host folds (both use nothing but rounded + − × ÷ sqrt, in exactly
 * the documented order); the rest are computed by kernels only.
 */
import type { DType, TensorType } from '../types.ts';
import { numel, shape } from '../types.ts';
import { defineOp, getOp, IrError } from '../op-registry.ts';
import type { HostTensor } from '../host-tensor.ts';
import { hostTensor, strides } from '../host-tensor.ts';
import { allocTyped } from '../dtype.ts';
import { broadcastIndexer, broadcastShapes, requireDType } from './util.ts';
import { castScalar, wasmMax } from './elementwise.ts';

const f32 = Math.fround;
const FLOAT: readonly DType[] = ['float32'];

// ---------------------------------------------------------------- shared helpers

function fmt(s: readonly number[]): string {
  return `[${s.join('x')}]`;
}

/** Output length of one spatial axis of a sliding window (Conv, pools). */
export function windowOutDim(inLen: number, k: number, s: number, d: number, pb: number, pe: number, ceilMode = false): number {
  const ext = (k - 1) * d + 1;
  const span = inLen + pb + pe - ext;
  if (span < 0) throw new IrError(`window of extent ${ext} (kernel ${k}, dilation ${d}) does not fit the padded input length ${inLen + pb + pe}`);
  let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // ceil_mode: a last window that would start in the end padding (or past it) is dropped.
  if (ceilMode && (out - 1) * s >= inLen + pb) out--;
  return out;
}

/** Output length of one spatial axis of a transposed convolution. */
export function convTransposeOutDim(inLen: number, k: number, s: number, d: number, pb: number, pe: number, op: number): number {
  return s * (inLen - 1) + op + (k - 1) * d + 1 - pb - pe;
}

function checkInts(name: string, v: readonly number[], n: number, min: number): void {
  if (v.length !== n) throw new IrError(`${name} has ${v.length} values, expected ${n} (one per spatial axis${name === 'pads' ? ', begins then ends' : ''})`);
  for (const x of v) if (x < min) throw new IrError(`${name} [${v.join(', ')}] must be ≥ ${min}`);
}

interface WindowAttrs { kernel: number[]; strides: number[]; dilations: number[]; pads: number[] }

/** Validate the resolved window attributes of an op over `sp` spatial axes. */
function windowAttrs(attrs: Record<string, unknown>, sp: number, kernel: readonly number[]): WindowAttrs {
  const st = attrs.strides as number[];
  const di = attrs.dilations as number[];
  const pads = attrs.pads as number[];
  checkInts('kernel_shape', kernel, sp, 1);
  checkInts('strides', st, sp, 1);
  checkInts('dilations', di, sp, 1);
  if (pads.length !== 2 * sp) throw new IrError(`pads has ${pads.length} values, expected ${2 * sp} (begins for each spatial axis, then ends)`);
  for (const p of pads) if (p < 0) throw new IrError(`pads [${pads.join(', ')}] must be ≥ 0`);
  return { kernel: [...kernel], strides: st, dilations: di, pads };
}

function spatialOut(x: TensorType, w: WindowAttrs, ceilMode: boolean): number[] {
  const sp = x.shape.length - 2;
  const out: number[] = [];
  for (let i = 0; i < sp; i++) {
    out.push(windowOutDim(x.shape[2 + i]!, w.kernel[i]!, w.strides[i]!, w.dilations[i]!, w.pads[i]!, w.pads[sp + i]!, ceilMode));
  }
  return out;
}

function requireNC(x: TensorType, what: string, minSpatial = 1): void {
  if (x.shape.length < 2 + minSpatial) throw new IrError(`${what} input must have shape (N, C, spatial…) with at least ${minSpatial} spatial axis, got ${fmt(x.shape)}`);
}

function requireChannelVector(t: TensorType, c: number, what: string): void {
  requireDType(t, FLOAT, what);
  if (t.shape.length !== 1 || t.shape[0] !== c) throw new IrError(`${what} must have shape [${c}], got ${fmt(t.shape)}`);
}

const WINDOW_DOC = `Window geometry (per spatial axis i, with S spatial axes): \`kernel_shape[i]\` = k ≥ 1, \`strides[i]\` = s ≥ 1,
\`dilations[i]\` = d ≥ 1, \`pads\` = [begin_0 … begin_{S−1}, end_0 … end_{S−1}] (all ≥ 0, already resolved from
any auto_pad by the importer). Output position o reads input positions o·s − begin + j·d for j = 0 … k−1;
positions outside [0, in) are padding.`;

// ---------------------------------------------------------------- MatMul

/** Shapes of numpy matmul: [batch…, M, N] (rank-1 operands promoted then their axis removed). */
export function matmulShape(a: readonly number[], b: readonly number[]): { out: number[]; batch: number[]; m: number; k: number; n: number } {
  if (a.length < 1 || b.length < 1) throw new IrError(`MatMul operands must have rank ≥ 1, got ${fmt(a)} and ${fmt(b)}`);
  const A = a.length === 1 ? [1, a[0]!] : [...a];
  const B = b.length === 1 ? [b[0]!, 1] : [...b];
  const m = A[A.length - 2]!, k = A[A.length - 1]!, k2 = B[B.length - 2]!, n = B[B.length - 1]!;
  if (k !== k2) throw new IrError(`MatMul inner dimensions differ: ${fmt(a)} × ${fmt(b)} (K = ${k} vs ${k2})`);
  const batch = [...broadcastShapes(A.slice(0, -2), B.slice(0, -2))];
  const out = [...batch];
  if (a.length !== 1) out.push(m);
  if (b.length !== 1) out.push(n);
  return { out, batch, m, k, n };
}

defineOp({
  name: 'MatMul',
  summary: 'numpy matmul of float32 A and B (batch dims broadcast)',
  doc: `Matrix product with numpy \`matmul\` semantics. Inputs A and B are float32 of rank ≥ 1.
A of rank 1 ([K]) is treated as [1, K] and B of rank 1 ([K]) as [K, 1]; the added axis is removed from the
output. Otherwise A is [batchA…, M, K], B is [batchB…, K, N], the batch dims broadcast numpy-style, and the
output is float32 [batch…, M, N].

Numerics (fixed reduction order): for every output element
\`acc = +0; for k = 0, 1, …, K−1: acc = f32(acc + f32(A[…, m, k] × B[…, k, n]))\`; y = acc.
Each product and each sum is rounded once to float32 (no fused multiply-add). K = 0 gives +0.
The host fold uses exactly this order.`,
  inputs: [2, 2],
  outputs: 1,
  attrs: {},
  infer([a, b]) {
    requireDType(a!, FLOAT, 'MatMul A');
    requireDType(b!, FLOAT, 'MatMul B');
    return [{ dtype: 'float32', shape: shape(matmulShape(a!.shape, b!.shape).out) }];
  },
  fold([a, b]) {
    const { out, batch, m, k, n } = matmulShape(a!.shape, b!.shape);
    const A = a!.data as Float32Array, B = b!.data as Float32Array;
    const aBatch = a!.shape.length <= 2 ? [] : a!.shape.slice(0, -2);
    const bBatch = b!.shape.length <= 2 ? [] : b!.shape.slice(0, -2);
    const nb = numel(batch);
    const y = new Float32Array(nb * m * n);
    const bs = strides(batch);
    const aStr = strides(aBatch), bStr = strides(bBatch);
    const off = (idx: number[], dims: readonly number[], str: number[]) => {
      let o = 0;
      for (let i = 0; i < dims.length; i++) {
        const c = idx[batch.length - dims.length + i]!;
        o += (dims[i] === 1 ? 0 : c) * str[i]!;
      }
      return o;
    };
    for (let bi = 0; bi < nb; bi++) {
      const idx = bs.map((s, i) => Math.floor(bi / s) % batch[i]!);
      const ao = off(idx, aBatch, aStr) * m * k;
      const bo = off(idx, bBatch, bStr) * k * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc = f32(acc + f32(A[ao + i * k + p]! * B[bo + p * n + j]!));
          y[(bi * m + i) * n + j] = acc;
        }
      }
    }
    return [hostTensor('float32', out, y)];
  },
});

// ---------------------------------------------------------------- Conv / ConvTranspose

defineOp({
  name: 'Conv',
  summary: 'N-d grouped, strided, dilated, padded convolution (cross-correlation), NC-first',
  doc: `Inputs: X float32 (N, C, D_0 … D_{S−1}) with S ≥ 1 spatial axes; W float32 (M, C/group, k_0 … k_{S−1});
optional B float32 (M). attrs: \`group\` ≥ 1 dividing both C and M; \`strides\`, \`dilations\` (S values each);
\`pads\` (2S values: begins then ends) — all resolved, no auto_pad. Output float32 (N, M, O_0 … O_{S−1}) with
O_i = floor((D_i + begin_i + end_i − ((k_i − 1)·d_i + 1)) / s_i) + 1.

For output channel m, its group is g = floor(m / (M/group)), reading input channels g·(C/group) + c.
Numerics (fixed order): \`acc = +0\`; for c = 0 … C/group−1, then kernel offsets j in row-major order
(j_0 outermost, j_{S−1} innermost): the input position p_i = o_i·s_i − begin_i + j_i·d_i; if any p_i is
outside [0, D_i) the term is skipped (padding contributes nothing); else
\`acc = f32(acc + f32(X[n, g·C/group + c, p] × W[m, c, j]))\`. Finally y = f32(acc + B[m]) when B is
given, else y = acc.`,
  inputs: [2, 3],
  outputs: 1,
  attrs: { group: 'int', strides: 'ints', dilations: 'ints', pads: 'ints' },
  infer([x, w, b], attrs) {
    requireDType(x!, FLOAT, 'Conv X');
    requireDType(w!, FLOAT, 'Conv W');
    requireNC(x!, 'Conv');
    const sp = x!.shape.length - 2;
    if (w!.shape.length !== x!.shape.length) throw new IrError(`W ${fmt(w!.shape)} must have the rank of X ${fmt(x!.shape)}`);
    const g = attrs.group as number;
    const C = x!.shape[1]!, M = w!.shape[0]!;
    if (g < 1 || C % g !== 0 || M % g !== 0) throw new IrError(`group ${g} must divide the input channels ${C} and output channels ${M}`);
    if (w!.shape[1]! * g !== C) throw new IrError(`W ${fmt(w!.shape)} expects ${w!.shape[1]! * g} input channels (W[1]·group), X has ${C}`);
    if (b) requireChannelVector(b, M, 'Conv B');
    const wa = windowAttrs(attrs, sp, w!.shape.slice(2));
    return [{ dtype: 'float32', shape: shape([x!.shape[0]!, M, ...spatialOut(x!, wa, false)]) }];
  },
  fold(ins, attrs) {
    const [t] = getOp('Conv').infer(ins, attrs);
    return [convFold(ins, attrs, t!.shape)];
  },
});

defineOp({
  name: 'ConvTranspose',
  summary: 'N-d grouped transposed convolution (gradient of Conv), NC-first',
  doc: `Inputs: X float32 (N, C, D_0 … D_{S−1}); W float32 (C, M/group, k_0 … k_{S−1}); optional B float32 (M).
attrs: \`group\` dividing C; \`strides\`, \`dilations\`, \`output_padding\` (S values each, output_padding ≥ 0);
\`pads\` (2S values, begins then ends, ≥ 0) — all resolved by the importer (auto_pad and output_shape turned
into pads and output_padding). Output float32 (N, M, O_0 …) with
O_i = s_i·(D_i − 1) + output_padding_i + (k_i − 1)·d_i + 1 − begin_i − end_i.

Semantics: input position q contributes to output position o_i = q_i·s_i + j_i·d_i − begin_i. For output
channel m in group g = floor(m / (M/group)) (m' = m − g·M/group):
Numerics (fixed order): \`acc = +0\`; for c = 0 … C/group−1, then kernel offsets j in row-major order: let
q_i = (o_i + begin_i − j_i·d_i) / s_i; the term exists only when every q_i is an integer in [0, D_i); then
\`acc = f32(acc + f32(X[n, g·C/group + c, q] × W[g·C/group + c, m', j]))\`. y = f32(acc + B[m]) when B is given.
Output positions no term reaches (e.g. from output_padding) are +0 (+ B).`,
  inputs: [2, 3],
  outputs: 1,
  attrs: { group: 'int', strides: 'ints', dilations: 'ints', pads: 'ints', output_padding: 'ints' },
  infer([x, w, b], attrs) {
    requireDType(x!, FLOAT, 'ConvTranspose X');
    requireDType(w!, FLOAT, 'ConvTranspose W');
    requireNC(x!, 'ConvTranspose');
    const sp = x!.shape.length - 2;
    if (w!.shape.length !== x!.shape.length) throw new IrError(`W ${fmt(w!.shape)} must have the rank of X ${fmt(x!.shape)}`);
    const g = attrs.group as number;
    const C = x!.shape[1]!;
    if (g < 1 || C % g !== 0) throw new IrError(`group ${g} must divide the input channels ${C}`);
    if (w!.shape[0] !== C) throw new IrError(`W ${fmt(w!.shape)} must have C = ${C} as its first dim`);
    const M = w!.shape[1]! * g;
    if (b) requireChannelVector(b, M, 'ConvTranspose B');
    const wa = windowAttrs(attrs, sp, w!.shape.slice(2));
    const op = attrs.output_padding as number[];
    checkInts('output_padding', op, sp, 0);
    const out: number[] = [];
    for (let i = 0; i < sp; i++) {
      const o = convTransposeOutDim(x!.shape[2 + i]!, wa.kernel[i]!, wa.strides[i]!, wa.dilations[i]!, wa.pads[i]!, wa.pads[sp + i]!, op[i]!);
      if (o < 1) throw new IrError(`output length ${o} on spatial axis ${i} (pads too large)`);
      out.push(o);
    }
    return [{ dtype: 'float32', shape: shape([x!.shape[0]!, M, ...out]) }];
  },
  fold(ins, attrs) {
    const [t] = getOp('ConvTranspose').infer(ins, attrs);
    return [convTransposeFold(ins, attrs, t!.shape)];
  },
});

// ---------------------------------------------------------------- pools

const POOL_ATTRS = { kernel_shape: 'ints', strides: 'ints', dilations: 'ints', pads: 'ints', ceil_mode: 'int' } as const;

function poolInfer(name: string, dtypes: readonly DType[]) {
  return (x: TensorType, attrs: Record<string, unknown>): TensorType => {
    requireDType(x, dtypes, `${name} input`);
    requireNC(x, name);
    const sp = x.shape.length - 2;
    const wa = windowAttrs(attrs, sp, attrs.kernel_shape as number[]);
    for (let i = 0; i < sp; i++) {
      if (wa.pads[i]! >= (wa.kernel[i]! - 1) * wa.dilations[i]! + 1 || wa.pads[sp + i]! >= (wa.kernel[i]! - 1) * wa.dilations[i]! + 1) {
        throw new IrError(`pads [${wa.pads.join(', ')}] must be smaller than the window extent on each axis (a window would see only padding)`);
      }
    }
    return { dtype: x.dtype, shape: shape([x.shape[0]!, x.shape[1]!, ...spatialOut(x, wa, !!attrs.ceil_mode)]) };
  };
}

const POOL_SHAPE_DOC = `Output (N, C, O_0 …) with O_i = floor((D_i + begin_i + end_i − ((k_i − 1)·d_i + 1)) / s_i) + 1, or with
ceil instead of floor when \`ceil_mode\` = 1; in ceil mode a last window that would start at or beyond D_i + begin_i
(entirely in the end padding) is dropped (O_i decreases by one). Each pad must be smaller than the window extent.
Without dilation every window then has an in-range position; with dilation a window can fall entirely between
input positions (for example length 1, kernel 2, dilation 2, pads 1 and 1).`;

const MAXPOOL_DOC = `Input X (N, C, D_0 … D_{S−1}) of float32, int8 or uint8; output has X's dtype.
${WINDOW_DOC}
${POOL_SHAPE_DOC}

y = maximum over the window's in-range positions, scanned in row-major kernel-offset order starting from the
first in-range position; float32 uses f32.max (NaN propagates, +0 > −0), integers the plain maximum. Padding
positions are skipped (never compared). With dilation a window can contain no in-range position at all; its result is
then the dtype's lowest value (−∞ for float32, −128 for int8, 0 for uint8).`;

defineOp({
  name: 'MaxPool',
  summary: 'N-d max pooling (padding ignored)',
  doc: MAXPOOL_DOC,
  inputs: [1, 1],
  outputs: 1,
  attrs: POOL_ATTRS,
  infer: ([x], attrs) => [poolInfer('MaxPool', ['float32', 'int8', 'uint8'])(x!, attrs)],
  fold: ([x], attrs) => poolFold('max', x!, attrs, poolInfer('MaxPool', ['float32', 'int8', 'uint8'])(x!, attrs).shape),
});

defineOp({
  name: 'MaxPoolWithIndices',
  summary: 'MaxPool that also returns the flat int64 index of each maximum',
  doc: `${MAXPOOL_DOC}

Second output: int64 of the same shape, the index of the maximum in the flattened input, including the
batch and channel offsets: n·C·P + c·P + spatial offset, P = D_0·…·D_{S−1}. The spatial offset is row-major
(Σ p_i·D_{i+1}·…·D_{S−1}) when \`storage_order\` = 0 and column-major (Σ p_i·D_0·…·D_{i−1}) when it is 1.
The index is the first position in scan order whose value is the result (NaN matches NaN; +0 and −0 are
distinct). A window with no in-range position has index −1.`,
  inputs: [1, 1],
  outputs: 2,
  attrs: { ...POOL_ATTRS, storage_order: 'int' },
  infer([x], attrs) {
    const y = poolInfer('MaxPoolWithIndices', ['float32', 'int8', 'uint8'])(x!, attrs);
    if (attrs.storage_order !== 0 && attrs.storage_order !== 1) throw new IrError(`storage_order must be 0 or 1, got ${attrs.storage_order}`);
    return [y, { dtype: 'int64', shape: y.shape }];
  },
  fold: ([x], attrs) => poolFold('maxidx', x!, attrs, poolInfer('MaxPool', ['float32', 'int8', 'uint8'])(x!, attrs).shape),
});

defineOp({
  name: 'AveragePool',
  summary: 'N-d average pooling (count_include_pad selects the divisor)',
  doc: `Input X float32 (N, C, D_0 … D_{S−1}); output float32.
${WINDOW_DOC}
${POOL_SHAPE_DOC}

Numerics: \`sum = +0\`; for each in-range window position in row-major kernel-offset order
\`sum = f32(sum + x)\`. Divisor n: with \`count_include_pad\` = 0, the number of in-range positions; with 1, the
number of window positions inside the padded extent [−begin_i, D_i + end_i) on every axis (positions a ceil-mode
window reaches beyond the end padding are not counted). y = f32(sum / f32(n)).`,
  inputs: [1, 1],
  outputs: 1,
  attrs: { ...POOL_ATTRS, count_include_pad: 'int' },
  infer: ([x], attrs) => [poolInfer('AveragePool', FLOAT)(x!, attrs)],
  fold: ([x], attrs) => poolFold('avg', x!, attrs, poolInfer('AveragePool', FLOAT)(x!, attrs).shape),
});

defineOp({
  name: 'LpPool',
  summary: 'N-d Lp pooling: y = (Σ |x|^p)^(1/p) over each window',
  doc: `Input X float32 (N, C, D_0 … D_{S−1}); output float32. attrs as MaxPool plus \`p\` ≥ 1.
${WINDOW_DOC}
${POOL_SHAPE_DOC}

Numerics: \`sum = +0\`; for each in-range window position in row-major kernel-offset order
\`sum = f32(sum + |x|^p)\` (padding contributes 0); y = sum^(1/p). For p = 1, |x|^p = |x|; for p = 2,
|x|^p = f32(x × x) and y = sqrt(sum) correctly rounded; other p use the kernel's pow (docs/determinism.md).
Never folded on the host.`,
  inputs: [1, 1],
  outputs: 1,
  attrs: { ...POOL_ATTRS, p: 'int' },
  infer([x], attrs) {
    if ((attrs.p as number) < 1) throw new IrError(`p must be ≥ 1, got ${attrs.p}`);
    return [poolInfer('LpPool', FLOAT)(x!, attrs)];
  },
});

function globalInfer(name: string, dtypes: readonly DType[]) {
  return ([x]: readonly TensorType[]): TensorType[] => {
    requireDType(x!, dtypes, `${name} input`);
    requireNC(x!, name, 0);
    return [{ dtype: x!.dtype, shape: shape([x!.shape[0]!, x!.shape[1]!, ...x!.shape.slice(2).map(() => 1)]) }];
  };
}

defineOp({
  name: 'GlobalAveragePool',
  summary: 'mean over all spatial positions: (N, C, …) → (N, C, 1, …)',
  doc: `Input X float32 of rank ≥ 2 (N, C, spatial…); output (N, C, 1, …, 1) float32. For each (n, c):
\`sum = +0\`; for every spatial position in row-major order \`sum = f32(sum + x)\`; y = f32(sum / f32(P)) with P
the number of spatial positions (P = 0 gives NaN; rank 2 gives P = 1).`,
  inputs: [1, 1],
  outputs: 1,
  attrs: {},
  infer: globalInfer('GlobalAveragePool', FLOAT),
  fold: ([x]) => [globalPoolFold('avg', x!)],
});

defineOp({
  name: 'GlobalMaxPool',
  summary: 'max over all spatial positions: (N, C, …) → (N, C, 1, …)',
  doc: `Input X (N, C, spatial…) of float32, int8 or uint8; output (N, C, 1, …, 1) of X's dtype. For each (n, c):
the maximum over all spatial positions in row-major order (float32: f32.max, NaN propagates, +0 > −0).`,
  inputs: [1, 1],
  outputs: 1,
  attrs: {},
  infer: globalInfer('GlobalMaxPool', ['float32', 'int8', 'uint8']),
  fold: ([x]) => [globalPoolFold('max', x!)],
});

// ---------------------------------------------------------------- normalisations

defineOp({
  name: 'BatchNormalization',
  summary: 'inference batch norm over channel axis 1 with given mean and variance',
  doc: `Inputs X float32 (N, C, …) of rank ≥ 2, and scale, B, mean, var each float32 [C]. attrs: \`epsilon\`.
Output float32 with X's shape. For x in channel c, in this exact order, each step rounded to float32:
\`t = f32(var[c] + epsilon); s = f32(sqrt(t)); d = f32(x − mean[c]); q = f32(d / s); r = f32(q × scale[c]);
y = f32(r + B[c])\`. (That is y = (x − mean) / sqrt(var + eps) · scale + B.) The host fold uses this order.`,
  inputs: [5, 5],
  outputs: 1,
  attrs: { epsilon: 'float' },
  infer([x, ...ps]) {
    requireDType(x!, FLOAT, 'BatchNormalization X');
    if (x!.shape.length < 2) throw new IrError(`X must have rank ≥ 2 (N, C, …), got ${fmt(x!.shape)}`);
    const c = x!.shape[1]!;
    ['scale', 'B', 'mean', 'var'].forEach((n, i) => requireChannelVector(ps[i]!, c, `BatchNormalization ${n}`));
    return [{ dtype: 'float32', shape: x!.shape }];
  },
  fold([x, scale, b, mean, v], attrs) {
    const X = x!.data as Float32Array;
    const C = x!.shape[1]!;
    const inner = numel(x!.shape.slice(2));
    const eps = attrs.epsilon as number;
    const y = new Float32Array(X.length);
    const S = scale!.data as Float32Array, B = b!.data as Float32Array, Mn = mean!.data as Float32Array, V = v!.data as Float32Array;
    for (let i = 0; i < X.length; i++) {
      const c = Math.floor(i / inner) % C;
      const s = f32(Math.sqrt(f32(V[c]! + eps)));
      y[i] = f32(f32(f32(f32(X[i]! - Mn[c]!) / s) * S[c]!) + B[c]!);
    }
    return [hostTensor('float32', x!.shape, y)];
  },
});

const NORM_TAIL = `den = f32(sqrt(f32(var + epsilon))); then per element, with scale and bias of its channel:
y = f32(f32(f32(f32(x − mean) / den) × scale) + bias).`;

defineOp({
  name: 'InstanceNormalization',
  summary: 'normalise each (n, c) over its spatial positions, then per-channel scale and bias',
  doc: `Inputs X float32 (N, C, spatial…) of rank ≥ 3, scale and B float32 [C]; attrs \`epsilon\`. Output X's shape.
For each (n, c) over its P spatial positions in row-major order: \`s = +0; s = f32(s + x)\` …; mean = f32(s / f32(P));
\`v = +0; v = f32(v + f32(d × d))\` with d = f32(x − mean) in the same order; var = f32(v / f32(P));
${NORM_TAIL}`,
  inputs: [3, 3],
  outputs: 1,
  attrs: { epsilon: 'float' },
  infer([x, s, b]) {
    requireDType(x!, FLOAT, 'InstanceNormalization X');
    requireNC(x!, 'InstanceNormalization');
    requireChannelVector(s!, x!.shape[1]!, 'InstanceNormalization scale');
    requireChannelVector(b!, x!.shape[1]!, 'InstanceNormalization B');
    return [{ dtype: 'float32', shape: x!.shape }];
  },
  fold: ([x, s, b], attrs) => [groupNormFold(x!, s!, b!, x!.shape[1]!, attrs.epsilon as number)],
});

defineOp({
  name: 'LayerNormalization',
  summary: 'normalise over the trailing axes from `axis`, then scale and bias; optional Mean, InvStdDev',
  doc: `Inputs X float32 of rank r ≥ 1, Scale float32 and optional B float32, both broadcastable (numpy-style,
unidirectionally) to X.shape[axis:]. attrs: \`axis\` in [0, r), \`epsilon\`, \`num_outputs\` (1 or 3).
For each index of the leading axes X.shape[:axis] the K = Π X.shape[axis:] elements are processed in row-major
order: \`s = +0; s = f32(s + x)\`; mean = f32(s / f32(K)); d = f32(x − mean); \`v = +0; v = f32(v + f32(d × d))\`;
var = f32(v / f32(K)); inv = f32(1 / f32(sqrt(f32(var + epsilon)))); y = f32(f32(f32(d × inv) × Scale) + B)
(without B: y = f32(f32(d × inv) × Scale)). This is ONNX's function body (Reciprocal, then Mul).
Outputs: Y (X's shape); with num_outputs = 3 also Mean and InvStdDev, float32 of shape X.shape[:axis] followed
by r − axis ones.`,
  inputs: [2, 3],
  outputs: (attrs) => attrs.num_outputs as number,
  attrs: { axis: 'int', epsilon: 'float', num_outputs: 'int' },
  infer([x, s, b], attrs) {
    requireDType(x!, FLOAT, 'LayerNormalization X');
    const r = x!.shape.length;
    const axis = attrs.axis as number;
    if (axis < 0 || axis >= r) throw new IrError(`axis ${axis} out of range for rank ${r}`);
    const tail = x!.shape.slice(axis);
    for (const [t, n] of [[s, 'Scale'], [b, 'B']] as const) {
      if (!t) continue;
      requireDType(t, FLOAT, `LayerNormalization ${n}`);
      const bs = broadcastShapes(tail, t.shape);
      if (bs.length !== tail.length || bs.some((d, i) => d !== tail[i])) throw new IrError(`${n} ${fmt(t.shape)} does not broadcast to the normalised shape ${fmt(tail)}`);
    }
    const no = attrs.num_outputs as number;
    if (no !== 1 && no !== 3) throw new IrError(`num_outputs must be 1 or 3, got ${no}`);
    const y: TensorType = { dtype: 'float32', shape: x!.shape };
    if (no === 1) return [y];
    const st: TensorType = { dtype: 'float32', shape: shape([...x!.shape.slice(0, axis), ...tail.map(() => 1)]) };
    return [y, st, st];
  },
  fold: (ins, attrs) => layerNormFold(ins, attrs),
});

defineOp({
  name: 'GroupNormalization',
  summary: 'normalise each (n, group of channels) over channels and spatial positions, then per-channel scale and bias',
  doc: `Inputs X float32 (N, C, spatial…) of rank ≥ 2, scale and bias float32 [C] (per channel; the importer
expands ONNX opset-18 per-group parameters). attrs \`num_groups\` dividing C, \`epsilon\`. Output X's shape.
For each (n, g) the K = (C/num_groups)·P elements (channels g·C/num_groups …, each over its P spatial
positions, in row-major order): \`s = +0; s = f32(s + x)\`; mean = f32(s / f32(K)); \`v = +0; v = f32(v + f32(d × d))\`
with d = f32(x − mean); var = f32(v / f32(K)); ${NORM_TAIL}`,
  inputs: [3, 3],
  outputs: 1,
  attrs: { num_groups: 'int', epsilon: 'float' },
  infer([x, s, b], attrs) {
    requireDType(x!, FLOAT, 'GroupNormalization X');
    requireNC(x!, 'GroupNormalization', 0);
    const C = x!.shape[1]!;
    const g = attrs.num_groups as number;
    if (g < 1 || C % g !== 0) throw new IrError(`num_groups ${g} must divide the channels ${C}`);
    requireChannelVector(s!, C, 'GroupNormalization scale');
    requireChannelVector(b!, C, 'GroupNormalization bias');
    return [{ dtype: 'float32', shape: x!.shape }];
  },
  fold: ([x, s, b], attrs) => [groupNormFold(x!, s!, b!, attrs.num_groups as number, attrs.epsilon as number)],
});

defineOp({
  name: 'LRN',
  summary: 'local response normalisation across channels',
  doc: `Input X float32 (N, C, …) of rank ≥ 2; output X's shape. attrs \`size\` ≥ 1, \`alpha\`, \`beta\`, \`bias\`.
For channel c: sq = +0, then for i = max(0, c − floor((size−1)/2)) … min(C−1, c + ceil((size−1)/2)) in increasing
order \`sq = f32(sq + f32(x_i × x_i))\`; t = f32(bias + f32(f32(alpha / f32(size)) × sq)); y = f32(x / t^beta) with
t^beta from the kernel's pow (docs/determinism.md). Never folded on the host.`,
  inputs: [1, 1],
  outputs: 1,
  attrs: { size: 'int', alpha: 'float', beta: 'float', bias: 'float' },
  infer([x], attrs) {
    requireDType(x!, FLOAT, 'LRN input');
    if (x!.shape.length < 2) throw new IrError(`LRN input must have rank ≥ 2 (N, C, …), got ${fmt(x!.shape)}`);
    if ((attrs.size as number) < 1) throw new IrError(`size must be ≥ 1, got ${attrs.size}`);
    return [{ dtype: 'float32', shape: x!.shape }];
  },
});

function checkAxesAttr(axes: readonly number[], r: number): void {
  const seen = new Set<number>();
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= r) throw new IrError(`axis ${a} out of range for rank ${r} (axes must be normalised)`);
    if (seen.has(a)) throw new IrError(`axis ${a} repeated in [${axes.join(', ')}]`);
    seen.add(a);
  }
}

defineOp({
  name: 'MeanVarianceNormalization',
  summary: 'y = (x − E[x]) / (sqrt(E[x²] − E[x]²) + 1e-9) over the given axes',
  doc: `Input X float32; output X's shape. attrs \`axes\`: distinct, sorted, non-negative axes. For each index of the
other axes, over the K elements of the reduced axes in row-major order: \`s = +0; s = f32(s + x)\`,
\`q = +0; q = f32(q + f32(x × x))\`; m = f32(s / f32(K)); m2 = f32(q / f32(K)); var = f32(m2 − f32(m × m));
sd = f32(sqrt(var)); y = f32(f32(x − m) / f32(sd + 1e-9)) where 1e-9 is the float32 nearest to 10⁻⁹
(ONNX's function body).`,
  inputs: [1, 1],
  outputs: 1,
  attrs: { axes: 'ints' },
  infer([x], attrs) {
    requireDType(x!, FLOAT, 'MeanVarianceNormalization input');
    checkAxesAttr(attrs.axes as number[], x!.shape.length);
    return [{ dtype: 'float32', shape: x!.shape }];
  },
  fold: ([x], attrs) => [mvnFold(x!, attrs.axes as number[])],
});

defineOp({
  name: 'LpNormalization',
  summary: 'y = x / ‖x‖_p along one axis (p = 1 or 2)',
  doc: `Input X float32; output X's shape. attrs \`axis\` (normalised), \`p\` ∈ {1, 2}. For each line along axis, in
increasing index order: p = 1: \`n = +0; n = f32(n + |x|)\`; p = 2: \`n = +0; n = f32(n + f32(x × x))\`, then
n = f32(sqrt(n)). y = f32(x / n) (a zero norm gives ±∞ or NaN, as IEEE division does).`,
  inputs: [1, 1],
  outputs: 1,
  attrs: { axis: 'int', p: 'int' },
  infer([x], attrs) {
    requireDType(x!, FLOAT, 'LpNormalization input');
    const a = attrs.axis as number;
    if (a < 0 || a >= Math.max(1, x!.shape.length)) throw new IrError(`axis ${a} out of range for rank ${x!.shape.length}`);
    if (attrs.p !== 1 && attrs.p !== 2) throw new IrError(`p must be 1 or 2, got ${attrs.p}`);
    return [{ dtype: 'float32', shape: x!.shape }];
  },
  fold: ([x], attrs) => [lpNormFold(x!, attrs.axis as number, attrs.p as number)],
});

// ---------------------------------------------------------------- Resize

export const RESIZE_MODES = ['nearest', 'linear', 'cubic'] as const;
export const RESIZE_COORD_MODES = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize', 'tf_half_pixel_for_nn'] as const;
export const RESIZE_NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;

defineOp({
  name: 'Resize',
  summary: 'N-d resampling (nearest, N-linear, N-cubic) to a static output shape',
  doc: `Input X of rank r (float32; int8, uint8, int16, int32, int64 and bool only with mode 'nearest'); output X's dtype
with shape \`sizes\` (r values, resolved by the importer). attrs:
- \`scales\` (r float32 values): the scale s_a used to map coordinates on axis a (the given scale, or
  f32(out_a / in_a) when the model gave sizes).
- \`mode\`: 'nearest' | 'linear' | 'cubic'; \`coordinate_transformation_mode\`: 'half_pixel' |
  'half_pixel_symmetric' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_crop_and_resize' |
  'tf_half_pixel_for_nn';
  \`nearest_mode\`: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil'; \`cubic_coeff_a\`;
  \`exclude_outside\` (0/1); \`extrapolation_value\`; \`roi\` (2r float32 values [starts…, ends…] for
  tf_crop_and_resize, else empty).

Coordinate of output index o on axis a (in = input length, out = integer output length, s = scales[a],
L = the resized length: out when s = f32(out / in) (a scale derived from the output size), else the float
f32(s × in), as the ONNX reference uses it (e.g. 2.4 for in = 4, s = 0.6, out = 2)). Every operation below is one
float32 operation rounded once, evaluated in the written nesting:
- half_pixel: f32(f32(f32(o + 0.5) / s) − 0.5); pytorch_half_pixel: the same when L > 1, else 0;
- half_pixel_symmetric: adj = f32(out / L); off = f32(f32(in / 2) × f32(1 − adj)); x = f32(f32(off + f32(f32(o + 0.5) / s)) − 0.5);
- align_corners: L = 1 ? 0 : f32(f32(o × (in − 1)) / f32(L − 1));
- asymmetric: f32(o / s); tf_half_pixel_for_nn: f32(f32(o + 0.5) / s);
- tf_crop_and_resize (start = roi[a], end = roi[r + a]): base = f32(start × (in − 1)); L = 1 ?
  f32(f32(f32(f32(end − start) × (in − 1)) / 2) + base) : f32(f32(f32(f32(o × f32(end − start)) × (in − 1)) / f32(L − 1)) + base);
  when x < 0 or x > in − 1 on any axis the whole output element is extrapolation_value (converted to X's dtype
  by Cast's rules: truncation with saturation, NaN → 0, x ≠ 0 for bool).

Taps per axis (fl = floor(x), t = x − fl, exact):
- nearest: round_prefer_floor: t > 0.5 ? fl + 1 : fl; round_prefer_ceil: t ≥ 0.5 ? fl + 1 : fl; floor: fl;
  ceil: ceil(x); the index is clamped to [0, in − 1]; y is that input element (pure data movement).
- linear: x is first clamped to [0, in − 1]; taps fl and fl + 1 (clamped to in − 1) with weights f32(1 − t), t
  (t = f32(x − fl)).
- cubic (A = cubic_coeff_a): taps fl − 1, fl, fl + 1, fl + 2 at distances z = f32(1 + t), t, f32(1 − t), f32(2 − t);
  the two middle taps (z = t and 1 − t) weigh f32(f32(f32(f32(f32(f32(A + 2) × z) − f32(A + 3)) × z) × z) + 1), the two
  outer taps (z = 1 + t and 2 − t) f32(f32(f32(f32(f32(f32(A × z) − f32(5A)) × z) + f32(8A)) × z) − f32(4A))
  (5A, 8A, 4A each one rounded product).
  Taps outside [0, in) are clamped to the edge; with exclude_outside = 1 their weights become 0 and the
  others are divided (f32) by the f32 sum (tap order) of the in-range weights.
Interpolation is separable, the last axis innermost: y = Σ over taps of axis 0 of w × (Σ over taps of axis 1 …
(Σ over taps of axis r−1 of w × x)), each sum \`acc = +0; acc = f32(acc + f32(w × v))\` in tap order. The host
fold implements exactly this.`,
  inputs: [1, 1],
  outputs: 1,
  attrs: {
    sizes: 'ints', scales: 'floats', roi: 'floats', mode: 'string', coordinate_transformation_mode: 'string', nearest_mode: 'string',
    cubic_coeff_a: 'float', exclude_outside: 'int', extrapolation_value: 'float',
  },
  infer([x], attrs) {
    const r = x!.shape.length;
    const mode = attrs.mode as string;
    if (!(RESIZE_MODES as readonly string[]).includes(mode)) throw new IrError(`mode '${mode}' is not one of ${RESIZE_MODES.join(', ')}`);
    if (!(RESIZE_COORD_MODES as readonly string[]).includes(attrs.coordinate_transformation_mode as string)) throw new IrError(`coordinate_transformation_mode '${attrs.coordinate_transformation_mode}' is not one of ${RESIZE_COORD_MODES.join(', ')}`);
    if (!(RESIZE_NEAREST_MODES as readonly string[]).includes(attrs.nearest_mode as string)) throw new IrError(`nearest_mode '${attrs.nearest_mode}' is not one of ${RESIZE_NEAREST_MODES.join(', ')}`);
    requireDType(x!, mode === 'nearest' ? ['float32', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool'] : FLOAT, `Resize (${mode}) input`);
    const sizes = attrs.sizes as number[], scales = attrs.scales as number[], roi = attrs.roi as number[];
    if (sizes.length !== r) throw new IrError(`sizes has ${sizes.length} values, expected ${r}`);
    if (scales.length !== r) throw new IrError(`scales has ${scales.length} values, expected ${r}`);
    for (const s of scales) if (!(s > 0) || !Number.isFinite(s)) throw new IrError(`scales [${scales.join(', ')}] must be positive and finite`);
    if (attrs.coordinate_transformation_mode === 'tf_crop_and_resize' ? roi.length !== 2 * r : roi.length !== 0) {
      throw new IrError(`roi must have ${attrs.coordinate_transformation_mode === 'tf_crop_and_resize' ? 2 * r : 0} values, got ${roi.length}`);
    }
    return [{ dtype: x!.dtype, shape: shape(sizes) }];
  },
  fold: ([x], attrs) => [resizeFold(x!, attrs)],
});

export type { HostTensor };

// ---------------------------------------------------------------- host folds (exactly the documented orders)

/** Visit a row-major index space; `cb` receives the (reused) index array. */
function forEachIndex(dims: readonly number[], cb: (idx: number[]) => void): void {
  const n = numel(dims);
  const idx = new Array<number>(dims.length).fill(0);
  for (let f = 0; f < n; f++) {
    cb(idx);
    for (let i = dims.length - 1; i >= 0; i--) {
      if (++idx[i]! < dims[i]!) break;
      idx[i] = 0;
    }
  }
}

interface Plan {
  /** Per output position (row-major): flat pairs [inputOffset, kernelOffset, …] of in-range terms, kernel row-major. */
  terms: number[][];
  /** Per output position: window positions inside the padded extent [−begin, D + end). */
  padded: number[];
}

/** The sliding-window plan of Conv and the pools over one (n, c) plane. */
export function windowPlan(inSp: readonly number[], outSp: readonly number[], k: readonly number[], s: readonly number[], d: readonly number[], pads: readonly number[]): Plan {
  const S = inSp.length;
  const inStr = strides(inSp);
  const terms: number[][] = [];
  const padded: number[] = [];
  forEachIndex(outSp, (o) => {
    const t: number[] = [];
    let np = 0;
    let kOff = 0;
    forEachIndex(k, (j) => {
      let off = 0, ok = true, inPad = true;
      for (let i = 0; i < S; i++) {
        const p = o[i]! * s[i]! - pads[i]! + j[i]! * d[i]!;
        if (p < 0 || p >= inSp[i]!) ok = false;
        if (p < -pads[i]! || p >= inSp[i]! + pads[S + i]!) inPad = false;
        off += p * inStr[i]!;
      }
      if (ok) t.push(off, kOff);
      if (inPad) np++;
      kOff++;
    });
    terms.push(t);
    padded.push(np);
  });
  return { terms, padded };
}

/** The plan of ConvTranspose: output o receives input q where q·s + j·d − begin = o. */
function transposePlan(inSp: readonly number[], outSp: readonly number[], k: readonly number[], s: readonly number[], d: readonly number[], pads: readonly number[]): number[][] {
  const S = inSp.length;
  const inStr = strides(inSp);
  const terms: number[][] = [];
  forEachIndex(outSp, (o) => {
    const t: number[] = [];
    let kOff = 0;
    forEachIndex(k, (j) => {
      let off = 0, ok = true;
      for (let i = 0; i < S && ok; i++) {
        const num = o[i]! + pads[i]! - j[i]! * d[i]!;
        if (num < 0 || num % s[i]! !== 0 || num / s[i]! >= inSp[i]!) ok = false;
        else off += (num / s[i]!) * inStr[i]!;
      }
      if (ok) t.push(off, kOff);
      kOff++;
    });
    terms.push(t);
  });
  return terms;
}

function convFold([x, w, b]: readonly HostTensor[], attrs: Record<string, unknown>, outShape: readonly number[]): HostTensor {
  const [N, C] = x!.shape as unknown as [number, number];
  const M = w!.shape[0]!, G = attrs.group as number, Cg = C / G, Mg = M / G;
  const inSp = x!.shape.slice(2), kSp = w!.shape.slice(2), outSp = outShape.slice(2);
  const { terms } = windowPlan(inSp, outSp, kSp, attrs.strides as number[], attrs.dilations as number[], attrs.pads as number[]);
  const X = x!.data as Float32Array, W = w!.data as Float32Array, B = b?.data as Float32Array | undefined;
  const P = numel(inSp), K = numel(kSp), O = numel(outSp);
  const y = new Float32Array(N * M * O);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let o = 0; o < O; o++) {
        const t = terms[o]!;
        let acc = 0;
        for (let c = 0; c < Cg; c++) {
          const xb = (n * C + g * Cg + c) * P, wb = (m * Cg + c) * K;
          for (let i = 0; i < t.length; i += 2) acc = f32(acc + f32(X[xb + t[i]!]! * W[wb + t[i + 1]!]!));
        }
        y[(n * M + m) * O + o] = B ? f32(acc + B[m]!) : acc;
      }
    }
  }
  return hostTensor('float32', outShape, y);
}

function convTransposeFold([x, w, b]: readonly HostTensor[], attrs: Record<string, unknown>, outShape: readonly number[]): HostTensor {
  const [N, C] = x!.shape as unknown as [number, number];
  const G = attrs.group as number, Cg = C / G, Mg = w!.shape[1]!, M = Mg * G;
  const inSp = x!.shape.slice(2), kSp = w!.shape.slice(2), outSp = outShape.slice(2);
  const terms = transposePlan(inSp, outSp, kSp, attrs.strides as number[], attrs.dilations as number[], attrs.pads as number[]);
  const X = x!.data as Float32Array, W = w!.data as Float32Array, B = b?.data as Float32Array | undefined;
  const P = numel(inSp), K = numel(kSp), O = numel(outSp);
  const y = new Float32Array(N * M * O);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg), mi = m - g * Mg;
      for (let o = 0; o < O; o++) {
        const t = terms[o]!;
        let acc = 0;
        for (let c = 0; c < Cg; c++) {
          const ci = g * Cg + c;
          const xb = (n * C + ci) * P, wb = (ci * Mg + mi) * K;
          for (let i = 0; i < t.length; i += 2) acc = f32(acc + f32(X[xb + t[i]!]! * W[wb + t[i + 1]!]!));
        }
        y[(n * M + m) * O + o] = B ? f32(acc + B[m]!) : acc;
      }
    }
  }
  return hostTensor('float32', outShape, y);
}

/** Float max per f32.max; integer max otherwise. */
function maxOf(a: number, b: number, isFloat: boolean): number {
  return isFloat ? wasmMax(a, b) : a > b ? a : b;
}

function poolFold(kind: 'max' | 'avg' | 'maxidx', x: HostTensor, attrs: Record<string, unknown>, outShape: readonly number[]): HostTensor[] {
  const [N, C] = x.shape as unknown as [number, number];
  const inSp = x.shape.slice(2), outSp = outShape.slice(2);
  const { terms, padded } = windowPlan(inSp, outSp, attrs.kernel_shape as number[], attrs.strides as number[], attrs.dilations as number[], attrs.pads as number[]);
  const P = numel(inSp), O = numel(outSp);
  const X = x.data as Float32Array;
  const isFloat = x.dtype === 'float32';
  const y = allocTyped(x.dtype, N * C * O) as Float32Array;
  const idx = new BigInt64Array(kind === 'maxidx' ? N * C * O : 0);
  // column-major spatial offset of a row-major one
  const rowStr = strides(inSp);
  const colOff = (off: number) => {
    let r = 0, mul = 1;
    for (let i = 0; i < inSp.length; i++) { r += (Math.floor(off / rowStr[i]!) % inSp[i]!) * mul; mul *= inSp[i]!; }
    return r;
  };
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * P;
    for (let o = 0; o < O; o++) {
      const t = terms[o]!;
      let r: number;
      if (kind === 'avg') {
        let sum = 0;
        for (let i = 0; i < t.length; i += 2) sum = f32(sum + X[base + t[i]!]!);
        r = f32(sum / (attrs.count_include_pad ? padded[o]! : t.length / 2));
      } else {
        r = t.length ? X[base + t[0]!]! : isFloat ? -Infinity : x.dtype === 'int8' ? -128 : 0;
        for (let i = 2; i < t.length; i += 2) r = maxOf(r, X[base + t[i]!]!, isFloat);
        if (kind === 'maxidx') {
          let at = -1;
          for (let i = 0; i < t.length; i += 2) {
            const v = X[base + t[i]!]!;
            if (Object.is(v, r) || (v !== v && r !== r)) { at = t[i]!; break; }
          }
          idx[nc * O + o] = BigInt(at < 0 ? -1 : base + (attrs.storage_order ? colOff(at) : at));
        }
      }
      y[nc * O + o] = r;
    }
  }
  const out = [hostTensor(x.dtype, outShape, y)];
  if (kind === 'maxidx') out.push(hostTensor('int64', outShape, idx));
  return out;
}

function globalPoolFold(kind: 'max' | 'avg', x: HostTensor): HostTensor {
  const [N, C] = x.shape as unknown as [number, number];
  const P = numel(x.shape.slice(2));
  const X = x.data as Float32Array;
  const isFloat = x.dtype === 'float32';
  const y = allocTyped(x.dtype, N * C) as Float32Array;
  for (let nc = 0; nc < N * C; nc++) {
    if (kind === 'avg') {
      let s = 0;
      for (let p = 0; p < P; p++) s = f32(s + X[nc * P + p]!);
      y[nc] = f32(s / P);
    } else {
      let r = P ? X[nc * P]! : -Infinity;
      for (let p = 1; p < P; p++) r = maxOf(r, X[nc * P + p]!, isFloat);
      y[nc] = r;
    }
  }
  return hostTensor(x.dtype, [N, C, ...x.shape.slice(2).map(() => 1)], y);
}

/** Mean and variance of the values at `offs` (in order), as the norm docs define them. */
function meanVar(X: Float32Array, offs: ArrayLike<number>): [number, number] {
  const K = offs.length;
  let s = 0;
  for (let i = 0; i < K; i++) s = f32(s + X[offs[i]!]!);
  const mean = f32(s / K);
  let v = 0;
  for (let i = 0; i < K; i++) { const d = f32(X[offs[i]!]! - mean); v = f32(v + f32(d * d)); }
  return [mean, f32(v / K)];
}

function range(start: number, n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = start + i;
  return a;
}

/** InstanceNormalization (groups = C) and GroupNormalization over contiguous channel groups. */
function groupNormFold(x: HostTensor, scale: HostTensor, bias: HostTensor, groups: number, eps: number): HostTensor {
  const [N, C] = x.shape as unknown as [number, number];
  const P = numel(x.shape.slice(2)), Cg = C / groups, K = Cg * P;
  const X = x.data as Float32Array, S = scale.data as Float32Array, B = bias.data as Float32Array;
  const y = new Float32Array(X.length);
  for (let ng = 0; ng < N * groups; ng++) {
    const offs = range(ng * K, K);
    const [mean, v] = meanVar(X, offs);
    const den = f32(Math.sqrt(f32(v + eps)));
    const g = ng % groups;
    for (let i = 0; i < K; i++) {
      const c = g * Cg + Math.floor(i / P);
      y[offs[i]!] = f32(f32(f32(f32(X[offs[i]!]! - mean) / den) * S[c]!) + B[c]!);
    }
  }
  return hostTensor('float32', x.shape, y);
}

function layerNormFold([x, sc, b]: readonly HostTensor[], attrs: Record<string, unknown>): HostTensor[] {
  const axis = attrs.axis as number, eps = attrs.epsilon as number;
  const tail = x!.shape.slice(axis);
  const K = numel(tail), L = numel(x!.shape.slice(0, axis));
  const X = x!.data as Float32Array, S = sc!.data as Float32Array, B = b?.data as Float32Array | undefined;
  const si = broadcastIndexer(sc!.shape, tail), bi = b ? broadcastIndexer(b.shape, tail) : () => 0;
  const y = new Float32Array(X.length), means = new Float32Array(L), invs = new Float32Array(L);
  for (let l = 0; l < L; l++) {
    const offs = range(l * K, K);
    const [mean, v] = meanVar(X, offs);
    const inv = f32(1 / f32(Math.sqrt(f32(v + eps))));
    means[l] = mean;
    invs[l] = inv;
    for (let i = 0; i < K; i++) {
      const d = f32(X[l * K + i]! - mean);
      const r = f32(f32(d * inv) * S[si(i)]!);
      y[l * K + i] = B ? f32(r + B[bi(i)]!) : r;
    }
  }
  const out = [hostTensor('float32', x!.shape, y)];
  if (attrs.num_outputs === 3) {
    const st = [...x!.shape.slice(0, axis), ...tail.map(() => 1)];
    out.push(hostTensor('float32', st, means), hostTensor('float32', st, invs));
  }
  return out;
}

/** Flat offsets of each line over `axes` (row-major), one list per index of the other axes (row-major). */
function axisGroups(dims: readonly number[], axes: readonly number[]): number[][] {
  const str = strides(dims);
  const other = dims.map((_, i) => i).filter((i) => !axes.includes(i));
  const groups: number[][] = [];
  forEachIndex(other.map((i) => dims[i]!), (oi) => {
    let base = 0;
    other.forEach((a, k) => { base += oi[k]! * str[a]!; });
    const offs: number[] = [];
    forEachIndex(axes.map((a) => dims[a]!), (ri) => {
      let off = base;
      axes.forEach((a, k) => { off += ri[k]! * str[a]!; });
      offs.push(off);
    });
    groups.push(offs);
  });
  return groups;
}

const MVN_EPS = f32(1e-9);

function mvnFold(x: HostTensor, axes: readonly number[]): HostTensor {
  const X = x.data as Float32Array;
  const y = new Float32Array(X.length);
  for (const offs of axisGroups(x.shape, axes)) {
    const K = offs.length;
    let s = 0, q = 0;
    for (const o of offs) { s = f32(s + X[o]!); q = f32(q + f32(X[o]! * X[o]!)); }
    const m = f32(s / K), m2 = f32(q / K);
    const sd = f32(Math.sqrt(f32(m2 - f32(m * m))));
    const den = f32(sd + MVN_EPS);
    for (const o of offs) y[o] = f32(f32(X[o]! - m) / den);
  }
  return hostTensor('float32', x.shape, y);
}

function lpNormFold(x: HostTensor, axis: number, p: number): HostTensor {
  const X = x.data as Float32Array;
  const y = new Float32Array(X.length);
  for (const offs of axisGroups(x.shape, x.shape.length ? [axis] : [])) {
    let n = 0;
    for (const o of offs) n = p === 1 ? f32(n + Math.abs(X[o]!)) : f32(n + f32(X[o]! * X[o]!));
    if (p === 2) n = f32(Math.sqrt(n));
    for (const o of offs) y[o] = f32(X[o]! / n);
  }
  return hostTensor('float32', x.shape, y);
}

/**
 * Source coordinate of output index o on one axis (the Resize doc's float32 formulas). L is the
 * resized length: outLen when s is the scale derived from it (s = f32(outLen / inLen)), else the
 * float f32(s · inLen) as in the ONNX reference (e.g. 2.4 for in 4, scale 0.6).
 */
export function resizeCoord(mode: string, o: number, inLen: number, outLen: number, s: number, start: number, end: number): number {
  const L = s === f32(outLen / inLen) ? outLen : f32(s * inLen);
  switch (mode) {
    case 'half_pixel': return f32(f32(f32(o + 0.5) / s) - 0.5);
    case 'pytorch_half_pixel': return L > 1 ? f32(f32(f32(o + 0.5) / s) - 0.5) : 0;
    case 'half_pixel_symmetric': {
      const adj = f32(outLen / L);
      const off = f32(f32(inLen / 2) * f32(1 - adj));
      return f32(f32(off + f32(f32(o + 0.5) / s)) - 0.5);
    }
    case 'align_corners': return L === 1 ? 0 : f32(f32(o * (inLen - 1)) / f32(L - 1));
    case 'asymmetric': return f32(o / s);
    case 'tf_half_pixel_for_nn': return f32(f32(o + 0.5) / s);
    case 'tf_crop_and_resize': {
      const base = f32(start * (inLen - 1));
      return L === 1
        ? f32(f32(f32(f32(end - start) * (inLen - 1)) / 2) + base)
        : f32(f32(f32(f32(o * f32(end - start)) * (inLen - 1)) / f32(L - 1)) + base);
    }
    default: throw new IrError(`unknown coordinate_transformation_mode ${mode}`);
  }
}

/** Nearest-mode rounding of a coordinate (x − floor(x) is exact in float32). */
export function resizeNearest(mode: string, x: number): number {
  const fl = Math.floor(x);
  const fr = x - fl;
  switch (mode) {
    case 'round_prefer_floor': return fr > 0.5 ? fl + 1 : fl;
    case 'round_prefer_ceil': return fr >= 0.5 ? fl + 1 : fl;
    case 'floor': return fl;
    case 'ceil': return Math.ceil(x);
    default: throw new IrError(`unknown nearest_mode ${mode}`);
  }
}

/** Keys cubic weights for the four neighbours floor(x) − 1 … floor(x) + 2, as the Resize doc defines them. */
export function cubicWeights(t: number, a: number): number[] {
  // distances 1 + t, t, 1 − t, 2 − t with t = x − floor(x) in [0, 1)
  const near = (z: number) => f32(f32(f32(f32(f32(f32(a + 2) * z) - f32(a + 3)) * z) * z) + 1);
  const far = (z: number) => f32(f32(f32(f32(f32(f32(a * z) - f32(5 * a)) * z) + f32(8 * a)) * z) - f32(4 * a));
  return [far(f32(1 + t)), near(t), near(f32(1 - t)), far(f32(2 - t))];
}

interface AxisTaps { idx: number[][]; w: number[][]; outside: boolean[] }

function resizeTaps(attrs: Record<string, unknown>, axis: number, inLen: number, outLen: number): AxisTaps {
  const mode = attrs.mode as string, coord = attrs.coordinate_transformation_mode as string;
  const s = (attrs.scales as number[])[axis]!;
  const roi = attrs.roi as number[];
  const r = roi.length / 2;
  const start = r ? roi[axis]! : 0, end = r ? roi[r + axis]! : 1;
  const idx: number[][] = [], w: number[][] = [], outside: boolean[] = [];
  const clamp = (i: number) => (i < 0 ? 0 : i >= inLen ? inLen - 1 : i);
  for (let o = 0; o < outLen; o++) {
    let x = resizeCoord(coord, o, inLen, outLen, s, start, end);
    outside.push(coord === 'tf_crop_and_resize' && (x < 0 || x > inLen - 1));
    if (mode === 'nearest') { idx.push([clamp(resizeNearest(attrs.nearest_mode as string, x))]); w.push([1]); continue; }
    if (mode === 'linear') {
      x = x < 0 ? 0 : x > inLen - 1 ? inLen - 1 : x;
      const fl = Math.floor(x), fr = f32(x - fl);
      idx.push([clamp(fl), clamp(fl + 1)]);
      w.push([f32(1 - fr), fr]);
      continue;
    }
    const fl = Math.floor(x);
    let ws = cubicWeights(f32(x - fl), attrs.cubic_coeff_a as number);
    let is = [fl - 1, fl, fl + 1, fl + 2];
    if (attrs.exclude_outside) {
      const keep = is.map((i) => i >= 0 && i < inLen);
      let sum = 0;
      ws.forEach((v, k) => { if (keep[k]) sum = f32(sum + v); });
      ws = ws.map((v, k) => (keep[k] ? f32(v / sum) : 0));
      is = is.map(clamp);
    } else is = is.map(clamp);
    idx.push(is);
    w.push(ws);
  }
  return { idx, w, outside };
}

function resizeFold(x: HostTensor, attrs: Record<string, unknown>): HostTensor {
  const sizes = attrs.sizes as number[];
  const r = sizes.length;
  const taps = sizes.map((out, a) => resizeTaps(attrs, a, x.shape[a]!, out));
  const inStr = strides(x.shape);
  const y = allocTyped(x.dtype, numel(sizes)) as Float32Array;
  const X = x.data as Float32Array;
  const ext = attrs.extrapolation_value as number;
  const nearest = attrs.mode === 'nearest';
  let f = 0;
  forEachIndex(sizes, (o) => {
    if (o.some((v, a) => taps[a]!.outside[v]!)) { (y as unknown as (number | bigint)[])[f++] = castScalar(ext, 'float32', x.dtype); return; }
    if (nearest) {
      let off = 0;
      for (let a = 0; a < r; a++) off += taps[a]!.idx[o[a]!]![0]! * inStr[a]!;
      y[f++] = X[off]!;
      return;
    }
    // separable: the last axis is interpolated first (innermost), each 1-D sum from +0 in tap order
    const rec = (a: number, off: number): number => {
      if (a === r) return X[off]!;
      const is = taps[a]!.idx[o[a]!]!, ws = taps[a]!.w[o[a]!]!;
      let acc = 0;
      for (let k = 0; k < is.length; k++) acc = f32(acc + f32(ws[k]! * rec(a + 1, off + is[k]! * inStr[a]!)));
      return acc;
    };
    y[f++] = rec(0, 0);
  });
  return hostTensor(x.dtype, sizes, y);
}
