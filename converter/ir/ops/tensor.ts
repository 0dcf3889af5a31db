/**
 * Data-movement ops: shape changes, transposes, concatenation, slicing, gathers and scatters,
 * padding and tiling. None of them computes on values, so every one folds exactly.
 */
import type { Attrs, DType, TensorType } from '../types.ts';
import { numel, shape, shapeEquals } from '../types.ts';
import { defineOp, IrError } from '../op-registry.ts';
import type { HostTensor } from '../host-tensor.ts';
import { hostTensor, strides } from '../host-tensor.ts';
import type { TypedArray } from '../dtype.ts';
import { allocTyped } from '../dtype.ts';
import { requireDType, requireSameDType, wrapInt } from './util.ts';
import { wasmMax, wasmMin } from './elementwise.ts';

defineOp({
  name: 'Reshape',
  summary: 'same elements in row-major order, new static shape',
  doc: 'Input X of any dtype. attrs.shape is the full output shape (no 0 or −1: the importer resolves them); its element count equals the input\'s. The row-major element sequence is unchanged (a pure relabelling of the shape).',
  inputs: [1, 1],
  outputs: 1,
  attrs: { shape: 'ints' },
  infer([x], attrs) {
    const s = shape(attrs.shape as number[]);
    if (numel(s) !== numel(x!.shape)) throw new IrError(`cannot reshape [${x!.shape.join(',')}] to [${s.join(',')}]`);
    return [{ dtype: x!.dtype, shape: s }];
  },
  fold: ([x], attrs) => [hostTensor(x!.dtype, attrs.shape as number[], x!.data)],
});

defineOp({
  name: 'Transpose',
  summary: 'permute the axes: output axis i is input axis perm[i]',
  doc: 'Input X of any dtype and rank r. attrs.perm is a permutation of 0..r−1 (the importer fills the default reversal). Output shape[i] = X.shape[perm[i]]; out[c] = X[c\'] where c\'[perm[i]] = c[i].',
  inputs: [1, 1],
  outputs: 1,
  attrs: { perm: 'ints' },
  infer([x], attrs) {
    const perm = attrs.perm as number[];
    const r = x!.shape.length;
    if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw new IrError(`perm [${perm}] is not a permutation of rank ${r}`);
    return [{ dtype: x!.dtype, shape: shape(perm.map((p) => x!.shape[p]!)) }];
  },
  fold([x], attrs) {
    const perm = attrs.perm as number[];
    const outShape = perm.map((p) => x!.shape[p]!);
    const inStr = strides(x!.shape);
    const n = numel(outShape);
    const out = allocTyped(x!.dtype, n);
    const r = outShape.length;
    const idx = new Array<number>(r).fill(0);
    for (let f = 0; f < n; f++) {
      let src = 0;
      for (let i = 0; i < r; i++) src += idx[i]! * inStr[perm[i]!]!;
      (out as Float32Array)[f] = (x!.data as Float32Array)[src]!;
      for (let i = r - 1; i >= 0; i--) {
        if (++idx[i]! < outShape[i]!) break;
        idx[i] = 0;
      }
    }
    return [hostTensor(x!.dtype, outShape, out)];
  },
});

// ---------------------------------------------------------------- helpers (shared with reduce.ts)

/** A typed array seen as plain indexed storage (elements copied without conversion). */
export type Arr = { [i: number]: number | bigint; readonly length: number };

const MAX_INPUTS = 1 << 16;

export function prod(a: readonly number[]): number {
  let n = 1;
  for (const d of a) n *= d;
  return n;
}

/** The zero of a dtype as stored in its typed array. */
export function zeroOf(d: DType): number | bigint {
  return d === 'int64' ? 0n : 0;
}

function intAttr(attrs: Attrs, k: string): number {
  return attrs[k] as number;
}
function intsAttr(attrs: Attrs, k: string): number[] {
  return attrs[k] as number[];
}

/** Check an axis attribute that must already be normalised to [0, rank). */
export function checkAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw new IrError(`${what} ${axis} must be in [0, ${rank}) (the importer normalises negative axes)`);
  return axis;
}

/**
 * Normalise a gather/scatter index against a dimension: negative indices wrap once (i + dim); an
 * index still outside [0, dim) gives −1 (the ops' documented out-of-range rule).
 */
export function normIndex(v: number | bigint, dim: number): number {
  let i = typeof v === 'bigint' ? (v < -(1n << 52n) || v > 1n << 52n ? Number.MAX_SAFE_INTEGER : Number(v)) : Math.trunc(v);
  if (i < 0) i += dim;
  return i >= 0 && i < dim ? i : -1;
}

/** Calls fn(idx, flat) for every multi-index of `dims` in row-major order (idx is reused). */
export function forEachIndex(dims: readonly number[], fn: (idx: readonly number[], flat: number) => void): void {
  const n = prod(dims);
  const r = dims.length;
  const idx = new Array<number>(r).fill(0);
  for (let f = 0; f < n; f++) {
    fn(idx, f);
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i]! < dims[i]!) break;
      idx[i] = 0;
    }
  }
}

/**
 * Output of shape `outShape` where output coordinate o on axis i reads input coordinate maps[i](o)
 * (x has the same rank); a map result < 0 means "fill".
 */
function mapAxes(x: HostTensor, outShape: readonly number[], maps: readonly ((o: number) => number)[], fill: number | bigint): HostTensor {
  const st = strides(x.shape);
  const tabs = outShape.map((d, i) => {
    const t = new Array<number>(d);
    for (let o = 0; o < d; o++) {
      const s = maps[i]!(o);
      t[o] = s < 0 ? -1 : s * st[i]!;
    }
    return t;
  });
  const out = allocTyped(x.dtype, prod(outShape)) as unknown as Arr & { [i: number]: number | bigint };
  const src = x.data as unknown as Arr;
  forEachIndex(outShape, (idx, f) => {
    let off = 0;
    for (let i = 0; i < idx.length; i++) {
      const t = tabs[i]![idx[i]!]!;
      if (t < 0) { (out as { [i: number]: number | bigint })[f] = fill; return; }
      off += t;
    }
    (out as { [i: number]: number | bigint })[f] = src[off]!;
  });
  return hostTensor(x.dtype, outShape, out as unknown as TypedArray);
}

function scalarOf(t: HostTensor): number | bigint {
  return t.data[0]!;
}

const INDEX_DTYPES: readonly DType[] = ['int32', 'int64'];
const f32 = Math.fround;

// ---------------------------------------------------------------- Concat / Split

defineOp({
  name: 'Concat',
  summary: 'join tensors along one axis',
  doc: [
    'Inputs: one or more tensors of one dtype and one rank r ≥ 1, equal in every dimension except `axis`.',
    'attrs.axis ∈ [0, r). Output: the inputs laid end to end along `axis` in input order; its `axis` dimension is the sum',
    'of the inputs\' (zero-sized inputs contribute nothing). Any dtype.',
  ].join('\n'),
  inputs: [1, MAX_INPUTS],
  outputs: 1,
  attrs: { axis: 'int' },
  infer(ins, attrs) {
    const d = requireSameDType(ins);
    const r = ins[0]!.shape.length;
    const axis = checkAxis(intAttr(attrs, 'axis'), r);
    const out = [...ins[0]!.shape];
    out[axis] = 0;
    for (const t of ins) {
      if (t.shape.length !== r) throw new IrError(`all inputs must have rank ${r}, got [${t.shape.join(',')}]`);
      t.shape.forEach((v, i) => { if (i !== axis && v !== out[i]) throw new IrError(`input shapes [${ins.map((x) => x.shape.join(',')).join('] [')}] differ outside axis ${axis}`); });
      out[axis] += t.shape[axis]!;
    }
    return [{ dtype: d, shape: shape(out) }];
  },
  fold(ins, attrs) {
    const axis = intAttr(attrs, 'axis');
    const s0 = ins[0]!.shape;
    const outer = prod(s0.slice(0, axis));
    const inner = prod(s0.slice(axis + 1));
    const total = ins.reduce((a, t) => a + t.shape[axis]!, 0);
    const out = allocTyped(ins[0]!.dtype, outer * total * inner) as unknown as { [i: number]: number | bigint };
    let f = 0;
    for (let o = 0; o < outer; o++) {
      for (const t of ins) {
        const chunk = t.shape[axis]! * inner;
        const src = t.data as unknown as Arr;
        for (let k = 0; k < chunk; k++) out[f++] = src[o * chunk + k]!;
      }
    }
    const os = [...s0];
    os[axis] = total;
    return [hostTensor(ins[0]!.dtype, os, out as unknown as TypedArray)];
  },
});

defineOp({
  name: 'Split',
  summary: 'cut a tensor into consecutive pieces along one axis',
  doc: [
    'Input X of rank r ≥ 1, any dtype. attrs.axis ∈ [0, r); attrs.splits: one non-negative length per output, summing to',
    'X\'s `axis` dimension (the importer resolves equal splits and num_outputs). Output k holds X\'s slice',
    '[Σ_{j<k} splits[j], Σ_{j≤k} splits[j]) along `axis`; there are splits.length ≥ 1 outputs.',
  ].join('\n'),
  inputs: [1, 1],
  outputs: (attrs) => (attrs.splits as number[]).length,
  attrs: { axis: 'int', splits: 'ints' },
  infer([x], attrs) {
    const axis = checkAxis(intAttr(attrs, 'axis'), x!.shape.length);
    const splits = intsAttr(attrs, 'splits');
    if (splits.length === 0 || splits.some((s) => s < 0)) throw new IrError(`splits [${splits}] must be non-empty and non-negative`);
    const sum = splits.reduce((a, b) => a + b, 0);
    if (sum !== x!.shape[axis]) throw new IrError(`splits [${splits}] sum to ${sum}, axis ${axis} has ${x!.shape[axis]}`);
    return splits.map((s) => { const o = [...x!.shape]; o[axis] = s; return { dtype: x!.dtype, shape: shape(o) }; });
  },
  fold([x], attrs) {
    const axis = intAttr(attrs, 'axis');
    const splits = intsAttr(attrs, 'splits');
    let start = 0;
    return splits.map((s) => {
      const os = [...x!.shape];
      os[axis] = s;
      const st = start;
      start += s;
      return mapAxes(x!, os, os.map((_, i) => (i === axis ? (o: number) => o + st : (o: number) => o)), 0);
    });
  },
});

// ---------------------------------------------------------------- Slice / Pad / Expand / Tile

defineOp({
  name: 'Slice',
  summary: 'strided slice with one normalised (start, end, step) per axis',
  doc: [
    'Input X of rank r, any dtype. attrs.starts, ends, steps have exactly r entries (every axis; the importer fills',
    'untouched axes with start 0, end dim, step 1, and applies ONNX\'s clamping). For axis i with dimension d:',
    '- step > 0: 0 ≤ start ≤ d and 0 ≤ end ≤ d;',
    '- step < 0: 0 ≤ start ≤ d − 1 (or start = −1 when d = 0) and −1 ≤ end ≤ d − 1 (end = −1 means "through index 0");',
    '- step = 0 is invalid.',
    'Output dimension i is max(0, ceil((end − start) / step)); output coordinate o reads input coordinate start + o·step.',
  ].join('\n'),
  inputs: [1, 1],
  outputs: 1,
  attrs: { starts: 'ints', ends: 'ints', steps: 'ints' },
  infer([x], attrs) {
    const r = x!.shape.length;
    const [s, e, p] = [intsAttr(attrs, 'starts'), intsAttr(attrs, 'ends'), intsAttr(attrs, 'steps')];
    if (s.length !== r || e.length !== r || p.length !== r) throw new IrError(`starts/ends/steps need ${r} entries each, got ${s.length}/${e.length}/${p.length}`);
    const out = x!.shape.map((d, i) => {
      const [a, b, st] = [s[i]!, e[i]!, p[i]!];
      if (st === 0) throw new IrError(`step on axis ${i} is 0`);
      const ok = st > 0 ? a >= 0 && a <= d && b >= 0 && b <= d : a >= -1 && a <= Math.max(d - 1, -1) && (d === 0 || a >= 0) && b >= -1 && b <= d - 1;
      if (!ok) throw new IrError(`slice (${a}, ${b}, ${st}) on axis ${i} of size ${d} is not normalised`);
      return Math.max(0, Math.ceil((b - a) / st));
    });
    return [{ dtype: x!.dtype, shape: shape(out) }];
  },
  fold([x], attrs) {
    const [s, p] = [intsAttr(attrs, 'starts'), intsAttr(attrs, 'steps')];
    const e = intsAttr(attrs, 'ends');
    const os = x!.shape.map((_, i) => Math.max(0, Math.ceil((e[i]! - s[i]!) / p[i]!)));
    return [mapAxes(x!, os, os.map((_, i) => (o: number) => s[i]! + o * p[i]!), 0)];
  },
});

const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'];

/** Source coordinate for output coordinate o of a padded axis (−1 = the pad value). */
export function padSource(mode: string, o: number, begin: number, d: number): number {
  const i = o - begin;
  if (i >= 0 && i < d) return i;
  switch (mode) {
    case 'constant': return -1;
    case 'edge': return i < 0 ? 0 : d - 1;
    case 'wrap': return ((i % d) + d) % d;
    default: {
      if (d === 1) return 0;
      const period = 2 * (d - 1);
      let m = ((i % period) + period) % period;
      if (m >= d) m = period - m;
      return m;
    }
  }
}

defineOp({
  name: 'Pad',
  summary: 'pad (or crop) every axis; constant, reflect, edge or wrap',
  doc: [
    'Inputs: X of rank r (any dtype), value: a scalar (shape []) of X\'s dtype, used by mode \'constant\' only.',
    'attrs.pads: 2r integers, all begins then all ends (begin_0 … begin_{r−1}, end_0 … end_{r−1}); a negative entry',
    'crops. Output dimension i = d_i + begin_i + end_i (must be ≥ 0). attrs.mode is one of:',
    '- \'constant\': output coordinate o on axis i reads input coordinate j = o − begin_i; if j ∉ [0, d_i) on any axis the',
    '  element is `value`;',
    '- \'edge\': j is clamped to [0, d_i − 1];',
    '- \'reflect\': j is reflected about the edges without repeating the edge element (numpy \'reflect\'), repeatedly',
    '  for pads wider than the input: with p = 2(d_i − 1), m = j mod p (in [0, p)), the source is m if m < d_i else',
    '  p − m; when d_i = 1 the source is 0;',
    '- \'wrap\': j mod d_i (in [0, d_i)).',
    'Non-constant modes need d_i ≥ 1 on every axis that is padded (begin_i > 0 or end_i > 0).',
  ].join('\n'),
  inputs: [2, 2],
  outputs: 1,
  attrs: { pads: 'ints', mode: 'string' },
  infer([x, v], attrs) {
    const r = x!.shape.length;
    const pads = intsAttr(attrs, 'pads');
    const mode = attrs.mode as string;
    if (!PAD_MODES.includes(mode)) throw new IrError(`mode '${mode}' is not one of ${PAD_MODES.join(', ')}`);
    if (pads.length !== 2 * r) throw new IrError(`pads needs ${2 * r} entries, got ${pads.length}`);
    if (v!.dtype !== x!.dtype || v!.shape.length !== 0) throw new IrError(`value must be a ${x!.dtype} scalar, got ${v!.dtype}[${v!.shape.join(',')}]`);
    const out = x!.shape.map((d, i) => {
      const n = d + pads[i]! + pads[i + r]!;
      if (n < 0) throw new IrError(`pads crop axis ${i} (size ${d}) below zero`);
      if (mode !== 'constant' && d === 0 && (pads[i]! > 0 || pads[i + r]! > 0)) throw new IrError(`mode '${mode}' cannot pad the empty axis ${i}`);
      return n;
    });
    return [{ dtype: x!.dtype, shape: shape(out) }];
  },
  fold([x, v], attrs) {
    const r = x!.shape.length;
    const pads = intsAttr(attrs, 'pads');
    const mode = attrs.mode as string;
    const os = x!.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
    return [mapAxes(x!, os, os.map((_, i) => (o: number) => padSource(mode, o, pads[i]!, x!.shape[i]!)), scalarOf(v!))];
  },
});

defineOp({
  name: 'Expand',
  summary: 'broadcast to a given static shape',
  doc: [
    'Input X (any dtype); attrs.shape is the final output shape. X must broadcast to it numpy-style: X\'s shape, aligned',
    'at the trailing dims, has each dimension equal to the output\'s or 1 (the importer computes the ONNX result shape',
    'max-broadcast of X and the requested shape). Output element at coordinate o reads X at o with broadcast axes at 0.',
  ].join('\n'),
  inputs: [1, 1],
  outputs: 1,
  attrs: { shape: 'ints' },
  infer([x], attrs) {
    const s = intsAttr(attrs, 'shape');
    const r = s.length;
    const xs = x!.shape;
    if (xs.length > r || xs.some((d, i) => d !== 1 && d !== s[r - xs.length + i])) throw new IrError(`[${xs.join(',')}] does not broadcast to [${s.join(',')}]`);
    return [{ dtype: x!.dtype, shape: shape(s) }];
  },
  fold([x], attrs) {
    const s = intsAttr(attrs, 'shape');
    const xs = [...new Array(s.length - x!.shape.length).fill(1), ...x!.shape];
    const xx = hostTensor(x!.dtype, xs, x!.data);
    return [mapAxes(xx, s, s.map((_, i) => (xs[i] === 1 ? () => 0 : (o: number) => o)), 0)];
  },
});

defineOp({
  name: 'Tile',
  summary: 'repeat the tensor along each axis',
  doc: 'Input X of rank r, any dtype; attrs.repeats: r non-negative integers. Output dimension i = d_i · repeats_i; output coordinate o on axis i reads input coordinate o mod d_i.',
  inputs: [1, 1],
  outputs: 1,
  attrs: { repeats: 'ints' },
  infer([x], attrs) {
    const rep = intsAttr(attrs, 'repeats');
    if (rep.length !== x!.shape.length || rep.some((v) => v < 0)) throw new IrError(`repeats [${rep}] must have ${x!.shape.length} non-negative entries`);
    return [{ dtype: x!.dtype, shape: shape(x!.shape.map((d, i) => d * rep[i]!)) }];
  },
  fold([x], attrs) {
    const rep = intsAttr(attrs, 'repeats');
    const os = x!.shape.map((d, i) => d * rep[i]!);
    return [mapAxes(x!, os, os.map((_, i) => (o: number) => o % x!.shape[i]!), 0)];
  },
});

// ---------------------------------------------------------------- gathers and scatters

const OOR_DOC = 'Index rule: an index i < 0 is replaced by i + d (once); an index still outside [0, d) is out of range.';

defineOp({
  name: 'Gather',
  summary: 'pick slices along one axis by index',
  doc: [
    'Inputs: data of rank r ≥ 1 (any dtype), indices (int32 or int64, any shape q). attrs.axis ∈ [0, r), d = data.shape[axis].',
    'Output shape: data.shape[0:axis] ++ indices.shape ++ data.shape[axis+1:].',
    'out[a…, j…, b…] = data[a…, idx(indices[j…]), b…].',
    `${OOR_DOC} Out-of-range indices produce 0 (false for bool) for every element of that slice; they never trap.`,
  ].join('\n'),
  inputs: [2, 2],
  outputs: 1,
  attrs: { axis: 'int' },
  infer([x, ind], attrs) {
    const axis = checkAxis(intAttr(attrs, 'axis'), x!.shape.length);
    requireDType(ind!, INDEX_DTYPES, 'indices');
    return [{ dtype: x!.dtype, shape: shape([...x!.shape.slice(0, axis), ...ind!.shape, ...x!.shape.slice(axis + 1)]) }];
  },
  fold([x, ind], attrs) {
    const axis = intAttr(attrs, 'axis');
    const outer = prod(x!.shape.slice(0, axis));
    const inner = prod(x!.shape.slice(axis + 1));
    const D = x!.shape[axis]!;
    const nI = ind!.data.length;
    const out = allocTyped(x!.dtype, outer * nI * inner) as unknown as { [i: number]: number | bigint };
    const src = x!.data as unknown as Arr;
    const z = zeroOf(x!.dtype);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < nI; j++) {
        const k = normIndex(ind!.data[j]!, D);
        const base = (o * nI + j) * inner;
        for (let q = 0; q < inner; q++) out[base + q] = k < 0 ? z : src[(o * D + k) * inner + q]!;
      }
    }
    return [hostTensor(x!.dtype, [...x!.shape.slice(0, axis), ...ind!.shape, ...x!.shape.slice(axis + 1)], out as unknown as TypedArray)];
  },
});

function checkElementsShapes(x: TensorType, ind: TensorType, axis: number): void {
  if (ind.shape.length !== x.shape.length) throw new IrError(`indices rank ${ind.shape.length} must equal data rank ${x.shape.length}`);
  ind.shape.forEach((d, i) => { if (i !== axis && d > x.shape[i]!) throw new IrError(`indices dim ${i} (${d}) exceeds data dim ${x.shape[i]}`); });
}

defineOp({
  name: 'GatherElements',
  summary: 'per-element gather along one axis',
  doc: [
    'Inputs: data of rank r ≥ 1 (any dtype), indices (int32 or int64) of rank r with indices.shape[i] ≤ data.shape[i] for',
    'i ≠ axis. attrs.axis ∈ [0, r), d = data.shape[axis]. Output shape = indices.shape;',
    'out[c] = data[c with coordinate `axis` replaced by idx(indices[c])].',
    `${OOR_DOC} Out-of-range indices produce 0 (false for bool).`,
  ].join('\n'),
  inputs: [2, 2],
  outputs: 1,
  attrs: { axis: 'int' },
  infer([x, ind], attrs) {
    const axis = checkAxis(intAttr(attrs, 'axis'), x!.shape.length);
    requireDType(ind!, INDEX_DTYPES, 'indices');
    checkElementsShapes(x!, ind!, axis);
    return [{ dtype: x!.dtype, shape: ind!.shape }];
  },
  fold([x, ind], attrs) {
    const axis = intAttr(attrs, 'axis');
    const st = strides(x!.shape);
    const out = allocTyped(x!.dtype, ind!.data.length) as unknown as { [i: number]: number | bigint };
    const src = x!.data as unknown as Arr;
    const z = zeroOf(x!.dtype);
    forEachIndex(ind!.shape, (c, f) => {
      const k = normIndex(ind!.data[f]!, x!.shape[axis]!);
      if (k < 0) { out[f] = z; return; }
      let off = 0;
      for (let i = 0; i < c.length; i++) off += (i === axis ? k : c[i]!) * st[i]!;
      out[f] = src[off]!;
    });
    return [hostTensor(x!.dtype, ind!.shape, out as unknown as TypedArray)];
  },
});

function gatherNdShape(x: TensorType, ind: TensorType, b: number): number[] {
  const r = x.shape.length;
  const q = ind.shape.length;
  if (q < 1) throw new IrError('indices must have rank ≥ 1');
  if (b < 0 || b >= Math.min(r, q)) throw new IrError(`batch_dims ${b} must be in [0, min(data rank, indices rank))`);
  for (let i = 0; i < b; i++) if (x.shape[i] !== ind.shape[i]) throw new IrError(`batch dim ${i} differs: data ${x.shape[i]}, indices ${ind.shape[i]}`);
  const m = ind.shape[q - 1]!;
  if (m < 1 || m > r - b) throw new IrError(`indices last dim ${m} must be in [1, ${r - b}]`);
  return [...ind.shape.slice(0, q - 1), ...x.shape.slice(b + m)];
}

defineOp({
  name: 'GatherND',
  summary: 'gather slices addressed by index tuples (ONNX GatherND with batch_dims)',
  doc: [
    'Inputs: data of rank r (any dtype), indices (int32 or int64) of rank q ≥ 1 whose last dimension m ∈ [1, r − b].',
    'attrs.batch_dims = b ∈ [0, min(r, q)); the first b dims of data and indices are equal.',
    'Output shape: indices.shape[0:q−1] ++ data.shape[b+m:]. For each batch coordinate β (first b dims) and index tuple',
    't = indices[β, j…, 0:m], out[β, j…, :] = data[β, idx(t_0), …, idx(t_{m−1}), :], each component normalised against',
    `its data dimension. ${OOR_DOC} If any component is out of range the whole slice is 0 (false for bool).`,
  ].join('\n'),
  inputs: [2, 2],
  outputs: 1,
  attrs: { batch_dims: 'int' },
  infer([x, ind], attrs) {
    requireDType(ind!, INDEX_DTYPES, 'indices');
    return [{ dtype: x!.dtype, shape: shape(gatherNdShape(x!, ind!, intAttr(attrs, 'batch_dims'))) }];
  },
  fold([x, ind], attrs) {
    const b = intAttr(attrs, 'batch_dims');
    const os = gatherNdShape(x!, ind!, b);
    const q = ind!.shape.length;
    const m = ind!.shape[q - 1]!;
    const B = prod(x!.shape.slice(0, b));
    const T = prod(ind!.shape.slice(b, q - 1));
    const slice = prod(x!.shape.slice(b + m));
    const perBatch = prod(x!.shape.slice(b));
    const st = strides(x!.shape.slice(b));
    const out = allocTyped(x!.dtype, prod(os)) as unknown as { [i: number]: number | bigint };
    const src = x!.data as unknown as Arr;
    const z = zeroOf(x!.dtype);
    for (let bi = 0; bi < B; bi++) {
      for (let t = 0; t < T; t++) {
        const base = (bi * T + t) * m;
        let off = bi * perBatch;
        for (let k = 0; k < m && off >= 0; k++) {
          const v = normIndex(ind!.data[base + k]!, x!.shape[b + k]!);
          off = v < 0 ? -1 : off + v * st[k]!;
        }
        const ob = (bi * T + t) * slice;
        for (let s = 0; s < slice; s++) out[ob + s] = off < 0 ? z : src[off + s]!;
      }
    }
    return [hostTensor(x!.dtype, os, out as unknown as TypedArray)];
  },
});

const REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'];

function combine(d: DType, red: string, a: number | bigint, b: number | bigint): number | bigint {
  if (red === 'none') return b;
  if (d === 'float32') {
    const x = a as number, y = b as number;
    return red === 'add' ? f32(x + y) : red === 'mul' ? f32(x * y) : red === 'max' ? wasmMax(x, y) : wasmMin(x, y);
  }
  if (d === 'bool') {
    const x = Number(a), y = Number(b);
    return red === 'add' || red === 'max' ? x | y : x & y;
  }
  const x = BigInt(a), y = BigInt(b);
  const r = red === 'add' ? wrapInt(d, x + y) : red === 'mul' ? wrapInt(d, x * y) : red === 'max' ? (x > y ? x : y) : (x < y ? x : y);
  return d === 'int64' ? r : Number(r);
}

const SCATTER_DOC = [
  'attrs.reduction is \'none\' (assign), \'add\', \'mul\', \'max\' or \'min\'. The output starts as a copy of data; the updates',
  'are then applied one at a time in row-major order of the updates tensor: out[t] = combine(out[t], u). So with',
  'duplicate targets, \'none\' keeps the last update and the other reductions fold left to right in that order.',
  'combine for float32: fl(a + u), fl(a · u), f32.max, f32.min (rounded once each step); integers wrap; for bool add/max',
  'is or, mul/min is and.',
  `${OOR_DOC} An update whose index is out of range is skipped (no trap).`,
].join('\n');

defineOp({
  name: 'ScatterElements',
  summary: 'write updates into a copy of data at per-element indices along one axis',
  doc: [
    'Inputs: data of rank r (any dtype), indices (int32 or int64) of rank r, updates with indices\' shape and data\'s dtype;',
    'indices.shape[i] ≤ data.shape[i] for i ≠ axis. attrs.axis ∈ [0, r), d = data.shape[axis]. Output: data\'s type.',
    'The update at coordinate c targets c with coordinate `axis` replaced by idx(indices[c]).',
    SCATTER_DOC,
  ].join('\n'),
  inputs: [3, 3],
  outputs: 1,
  attrs: { axis: 'int', reduction: 'string' },
  infer([x, ind, upd], attrs) {
    const axis = checkAxis(intAttr(attrs, 'axis'), x!.shape.length);
    requireDType(ind!, INDEX_DTYPES, 'indices');
    if (!REDUCTIONS.includes(attrs.reduction as string)) throw new IrError(`reduction '${String(attrs.reduction)}' is not one of ${REDUCTIONS.join(', ')}`);
    checkElementsShapes(x!, ind!, axis);
    if (upd!.dtype !== x!.dtype || !shapeEquals(upd!.shape, ind!.shape)) throw new IrError(`updates must be ${x!.dtype}[${ind!.shape.join(',')}], got ${upd!.dtype}[${upd!.shape.join(',')}]`);
    return [{ dtype: x!.dtype, shape: x!.shape }];
  },
  fold([x, ind, upd], attrs) {
    const axis = intAttr(attrs, 'axis');
    const red = attrs.reduction as string;
    const st = strides(x!.shape);
    const out = (x!.data as TypedArray).slice() as unknown as { [i: number]: number | bigint };
    const u = upd!.data as unknown as Arr;
    forEachIndex(ind!.shape, (c, f) => {
      const k = normIndex(ind!.data[f]!, x!.shape[axis]!);
      if (k < 0) return;
      let off = 0;
      for (let i = 0; i < c.length; i++) off += (i === axis ? k : c[i]!) * st[i]!;
      out[off] = combine(x!.dtype, red, out[off]!, u[f]!);
    });
    return [hostTensor(x!.dtype, x!.shape, out as unknown as TypedArray)];
  },
});

defineOp({
  name: 'ScatterND',
  summary: 'write update slices into a copy of data at index tuples',
  doc: [
    'Inputs: data of rank r (any dtype), indices (int32 or int64) of rank q ≥ 1 with last dimension k ∈ [1, r], updates of',
    'shape indices.shape[0:q−1] ++ data.shape[k:] and data\'s dtype. Output: data\'s type. Update slice j (row-major over',
    'indices.shape[0:q−1]) targets data[idx(t_0), …, idx(t_{k−1}), :] with t = indices[j, :], each component normalised',
    'against its data dimension; an out-of-range tuple skips the whole slice. Within a slice, elements go in row-major order.',
    SCATTER_DOC,
  ].join('\n'),
  inputs: [3, 3],
  outputs: 1,
  attrs: { reduction: 'string' },
  infer([x, ind, upd], attrs) {
    requireDType(ind!, INDEX_DTYPES, 'indices');
    if (!REDUCTIONS.includes(attrs.reduction as string)) throw new IrError(`reduction '${String(attrs.reduction)}' is not one of ${REDUCTIONS.join(', ')}`);
    const q = ind!.shape.length;
    const k = ind!.shape[q - 1];
    if (q < 1 || k === undefined || k < 1 || k > x!.shape.length) throw new IrError(`indices shape [${ind!.shape.join(',')}] needs a last dim in [1, ${x!.shape.length}]`);
    const us = [...ind!.shape.slice(0, q - 1), ...x!.shape.slice(k)];
    if (upd!.dtype !== x!.dtype || !shapeEquals(upd!.shape, us)) throw new IrError(`updates must be ${x!.dtype}[${us.join(',')}], got ${upd!.dtype}[${upd!.shape.join(',')}]`);
    return [{ dtype: x!.dtype, shape: x!.shape }];
  },
  fold([x, ind, upd], attrs) {
    const red = attrs.reduction as string;
    const q = ind!.shape.length;
    const k = ind!.shape[q - 1]!;
    const st = strides(x!.shape);
    const slice = prod(x!.shape.slice(k));
    const J = prod(ind!.shape.slice(0, q - 1));
    const out = (x!.data as TypedArray).slice() as unknown as { [i: number]: number | bigint };
    const u = upd!.data as unknown as Arr;
    for (let j = 0; j < J; j++) {
      let off = 0;
      for (let a = 0; a < k && off >= 0; a++) {
        const v = normIndex(ind!.data[j * k + a]!, x!.shape[a]!);
        off = v < 0 ? -1 : off + v * st[a]!;
      }
      if (off < 0) continue;
      for (let s = 0; s < slice; s++) out[off + s] = combine(x!.dtype, red, out[off + s]!, u[j * slice + s]!);
    }
    return [hostTensor(x!.dtype, x!.shape, out as unknown as TypedArray)];
  },
});

// ---------------------------------------------------------------- Trilu, OneHot, ReverseSequence

defineOp({
  name: 'Trilu',
  summary: 'keep the upper or lower triangle of the last two axes',
  doc: [
    'Inputs: X of rank ≥ 2 (any dtype), optionally k: an int64 scalar (shape []) holding the diagonal offset at run time.',
    'attrs.upper (1 = upper, 0 = lower), attrs.k (diagonal offset). With the k input present attrs.k must be 0 and the',
    'offset is the input\'s value; otherwise the offset is attrs.k. Over the last two axes (row i, column j, compared as',
    'signed 64-bit integers): with upper = 1 the element is kept when j − i ≥ offset, with upper = 0 when j − i ≤ offset;',
    'other elements are 0 (false for bool). Output: X\'s type.',
  ].join('\n'),
  inputs: [1, 2],
  outputs: 1,
  attrs: { upper: 'int', k: 'int' },
  infer([x, k], attrs) {
    if (x!.shape.length < 2) throw new IrError(`input rank ${x!.shape.length} must be ≥ 2`);
    if (k && (k.dtype !== 'int64' || k.shape.length !== 0)) throw new IrError(`k must be an int64 scalar, got ${k.dtype}[${k.shape.join(',')}]`);
    if (k && intAttr(attrs, 'k') !== 0) throw new IrError('attrs.k must be 0 when the k input is given');
    return [{ dtype: x!.dtype, shape: x!.shape }];
  },
  fold([x, kt], attrs) {
    const up = intAttr(attrs, 'upper');
    const k = kt ? Number(kt.data[0]!) : intAttr(attrs, 'k');
    const r = x!.shape.length;
    const z = zeroOf(x!.dtype);
    const out = (x!.data as TypedArray).slice() as unknown as { [i: number]: number | bigint };
    forEachIndex(x!.shape, (c, f) => {
      const dj = c[r - 1]! - c[r - 2]!;
      if (up ? dj < k : dj > k) out[f] = z;
    });
    return [hostTensor(x!.dtype, x!.shape, out as unknown as TypedArray)];
  },
});

defineOp({
  name: 'OneHot',
  summary: 'one-hot encode indices along a new axis',
  doc: [
    'Inputs: indices (float32 or an integer dtype, any shape of rank q), values: shape [2] = [off, on] of any dtype.',
    'attrs.depth ≥ 1, attrs.axis ∈ [0, q] (where the new axis of size depth is inserted). Output dtype = values\' dtype,',
    'shape = indices.shape with depth inserted at axis. Each index is truncated toward zero (float32), then an index i < 0',
    'becomes i + depth; out[…, c, …] = on if that index equals c, else off (so out-of-range indices give all off).',
  ].join('\n'),
  inputs: [2, 2],
  outputs: 1,
  attrs: { depth: 'int', axis: 'int' },
  infer([ind, vals], attrs) {
    requireDType(ind!, ['float32', 'int8', 'uint8', 'int16', 'int32', 'int64'], 'indices');
    const q = ind!.shape.length;
    const axis = intAttr(attrs, 'axis');
    const depth = intAttr(attrs, 'depth');
    if (axis < 0 || axis > q) throw new IrError(`axis ${axis} must be in [0, ${q}]`);
    if (depth < 1) throw new IrError(`depth ${depth} must be ≥ 1`);
    if (!shapeEquals(vals!.shape, [2])) throw new IrError(`values must have shape [2], got [${vals!.shape.join(',')}]`);
    const s = [...ind!.shape];
    s.splice(axis, 0, depth);
    return [{ dtype: vals!.dtype, shape: shape(s) }];
  },
  fold([ind, vals], attrs) {
    const axis = intAttr(attrs, 'axis');
    const depth = intAttr(attrs, 'depth');
    const s = [...ind!.shape];
    s.splice(axis, 0, depth);
    const out = allocTyped(vals!.dtype, prod(s)) as unknown as { [i: number]: number | bigint };
    const is = strides(ind!.shape);
    forEachIndex(s, (c, f) => {
      let off = 0;
      for (let i = 0, j = 0; i < c.length; i++) if (i !== axis) off += c[i]! * is[j++]!;
      const v = normIndex(ind!.data[off]!, depth);
      out[f] = vals!.data[v === c[axis] ? 1 : 0]!;
    });
    return [hostTensor(vals!.dtype, s, out as unknown as TypedArray)];
  },
});

defineOp({
  name: 'ReverseSequence',
  summary: 'reverse the first len[b] steps of each batch entry along the time axis',
  doc: [
    'Inputs: X of rank ≥ 2 (any dtype), sequence_lens (int64 or int32) of shape [X.shape[batch_axis]]. attrs.batch_axis,',
    'time_axis: distinct, each in {0, 1}. With T = X.shape[time_axis] and L = sequence_lens[b] clamped to [0, T]: for',
    't < L, out[…b…t…] = X[…b…(L − 1 − t)…]; for t ≥ L the element is copied unchanged. Output: X\'s type.',
  ].join('\n'),
  inputs: [2, 2],
  outputs: 1,
  attrs: { batch_axis: 'int', time_axis: 'int' },
  infer([x, lens], attrs) {
    const b = intAttr(attrs, 'batch_axis');
    const t = intAttr(attrs, 'time_axis');
    if (x!.shape.length < 2) throw new IrError('input rank must be ≥ 2');
    if (![0, 1].includes(b) || ![0, 1].includes(t) || b === t) throw new IrError(`batch_axis ${b} and time_axis ${t} must be 0 and 1 in some order`);
    requireDType(lens!, INDEX_DTYPES, 'sequence_lens');
    if (!shapeEquals(lens!.shape, [x!.shape[b]!])) throw new IrError(`sequence_lens must have shape [${x!.shape[b]}]`);
    return [{ dtype: x!.dtype, shape: x!.shape }];
  },
  fold([x, lens], attrs) {
    const b = intAttr(attrs, 'batch_axis');
    const t = intAttr(attrs, 'time_axis');
    const T = x!.shape[t]!;
    const st = strides(x!.shape);
    const src = x!.data as unknown as Arr;
    const out = allocTyped(x!.dtype, src.length) as unknown as { [i: number]: number | bigint };
    forEachIndex(x!.shape, (c, f) => {
      const L = Math.min(T, Math.max(0, Number(lens!.data[c[b]!]!)));
      const ct = c[t]!;
      out[f] = ct < L ? src[f + (L - 1 - 2 * ct) * st[t]!]! : src[f]!;
    });
    return [hostTensor(x!.dtype, x!.shape, out as unknown as TypedArray)];
  },
});
