/**
 * IR ops: reductions (Reduce*, ArgMax/ArgMin), the softmax family over one axis, CumSum and TopK
 * (see docs/ir-ops.md). Every float32 accumulation runs in one documented order — the kernel's loop
 * order, row-major over the reduced index space — rounding once per step, so folding in that same
 * order is bit-exact. Ops needing exp/log have no host evaluator.
 */
import type { Attrs, DType, TensorType } from '../types.ts';
import { shape } from '../types.ts';
import { defineOp, IrError } from '../op-registry.ts';
import type { HostTensor } from '../host-tensor.ts';
import { hostTensor, strides } from '../host-tensor.ts';
import type { TypedArray } from '../dtype.ts';
import { allocTyped, intRange } from '../dtype.ts';
import { requireDType, wrapInt } from './util.ts';
import { wasmMax, wasmMin } from './elementwise.ts';
import { checkAxis, forEachIndex, prod } from './tensor.ts';

const f32 = Math.fround;
const INTS: readonly DType[] = ['int8', 'uint8', 'int16', 'int32', 'int64'];
const NUMERIC: readonly DType[] = ['float32', ...INTS];
type Out = { [i: number]: number | bigint };

// ---------------------------------------------------------------- helpers

function checkAxes(axes: readonly number[], r: number): void {
  if (axes.length === 0) throw new IrError('axes must be non-empty (the importer drops no-op reductions and lists all axes for "reduce all")');
  axes.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a >= r) throw new IrError(`axis ${a} must be in [0, ${r})`);
    if (i > 0 && a <= axes[i - 1]!) throw new IrError(`axes [${axes}] must be sorted ascending without repeats`);
  });
}

function reducedShape(s: readonly number[], axes: readonly number[], keep: boolean): number[] {
  const out: number[] = [];
  s.forEach((d, i) => { if (!axes.includes(i)) out.push(d); else if (keep) out.push(1); });
  return out;
}

/**
 * Visit every output element of a reduction and, for it, every input element of its reduced set
 * in row-major order of the reduced index space: fn(outFlat, inputFlats).
 */
function forEachReduction(s: readonly number[], axes: readonly number[], fn: (o: number, srcs: readonly number[]) => void): void {
  const st = strides(s);
  const keptAxes = s.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptDims = keptAxes.map((i) => s[i]!);
  const redDims = axes.map((i) => s[i]!);
  const redOffs: number[] = [];
  forEachIndex(redDims, (c) => { let off = 0; c.forEach((v, k) => { off += v * st[axes[k]!]!; }); redOffs.push(off); });
  const srcs = new Array<number>(redOffs.length);
  forEachIndex(keptDims, (c, o) => {
    let base = 0;
    c.forEach((v, k) => { base += v * st[keptAxes[k]!]!; });
    for (let j = 0; j < redOffs.length; j++) srcs[j] = base + redOffs[j]!;
    fn(o, srcs);
  });
}

function int(attrs: Attrs, k: string): number {
  return attrs[k] as number;
}

// ---------------------------------------------------------------- Reduce*

interface ReduceSpec {
  name: string;
  formula: string;
  dtypes: readonly DType[];
  /** Empty-set result and exact fold where one exists. */
  fold?: (vals: (number | bigint)[], d: DType) => number | bigint;
}

const ORDER_DOC = [
  'Order: for each output element, the reduced elements are visited in row-major order of the reduced index space (the',
  'reduced axes in increasing order, last axis fastest) — the kernel\'s loop order. float32 accumulation rounds once per',
  'step (acc = fl(acc ⊕ v)), no fused multiply-add, no reassociation. Integers wrap in the input dtype.',
].join('\n');

function bigAcc(vals: (number | bigint)[], d: DType, init: bigint, step: (a: bigint, v: bigint) => bigint): number | bigint {
  let acc = init;
  for (const v of vals) acc = wrapInt(d, step(acc, BigInt(v)));
  return d === 'int64' ? acc : Number(acc);
}

function sumF(vals: (number | bigint)[], map: (v: number) => number = (v) => v): number {
  let acc = 0;
  for (const v of vals) acc = f32(acc + map(v as number));
  return acc;
}

const REDUCES: ReduceSpec[] = [
  {
    name: 'ReduceSum', formula: 'acc = +0; acc = acc + v', dtypes: NUMERIC,
    fold: (vals, d) => (d === 'float32' ? sumF(vals) : bigAcc(vals, d, 0n, (a, v) => a + v)),
  },
  {
    name: 'ReduceMean', formula: 'the ReduceSum accumulation, then fl(acc / n) with n = number of reduced elements as float32 (0/0 = NaN for an empty set); for integer dtypes the wrapped sum divided by n, truncated toward zero (empty set: 0)', dtypes: NUMERIC,
    fold: (vals, d) => {
      if (d === 'float32') return f32(sumF(vals) / f32(vals.length));
      const s = BigInt(bigAcc(vals, d, 0n, (a, v) => a + v));
      const r = vals.length === 0 ? 0n : s / BigInt(vals.length);
      return d === 'int64' ? r : Number(r);
    },
  },
  {
    name: 'ReduceMax', formula: 'acc = −∞ (integers: the dtype minimum); acc = f32.max(acc, v) (NaN propagates)', dtypes: NUMERIC,
    fold: (vals, d) => {
      if (d === 'float32') { let a = -Infinity; for (const v of vals) a = wasmMax(a, v as number); return a; }
      return bigAcc(vals, d, intRange(d)[0], (a, v) => (v > a ? v : a));
    },
  },
  {
    name: 'ReduceMin', formula: 'acc = +∞ (integers: the dtype maximum); acc = f32.min(acc, v) (NaN propagates)', dtypes: NUMERIC,
    fold: (vals, d) => {
      if (d === 'float32') { let a = Infinity; for (const v of vals) a = wasmMin(a, v as number); return a; }
      return bigAcc(vals, d, intRange(d)[1], (a, v) => (v < a ? v : a));
    },
  },
  {
    name: 'ReduceProd', formula: 'acc = 1; acc = acc · v', dtypes: NUMERIC,
    fold: (vals, d) => {
      if (d === 'float32') { let a = 1; for (const v of vals) a = f32(a * (v as number)); return a; }
      return bigAcc(vals, d, 1n, (a, v) => a * v);
    },
  },
  {
    name: 'ReduceL1', formula: 'acc = +0; acc = acc + |v|', dtypes: NUMERIC,
    fold: (vals, d) => (d === 'float32' ? sumF(vals, Math.abs) : bigAcc(vals, d, 0n, (a, v) => a + (v < 0n ? -v : v))),
  },
  {
    name: 'ReduceL2', formula: 'acc = +0; acc = acc + fl(v · v); result fl(√acc)', dtypes: ['float32'],
    fold: (vals) => f32(Math.sqrt(sumF(vals, (v) => f32(v * v)))),
  },
  {
    name: 'ReduceSumSquare', formula: 'acc = +0; acc = acc + fl(v · v)', dtypes: NUMERIC,
    fold: (vals, d) => (d === 'float32' ? sumF(vals, (v) => f32(v * v)) : bigAcc(vals, d, 0n, (a, v) => a + v * v)),
  },
  { name: 'ReduceLogSum', formula: 'the ReduceSum accumulation, then log(acc) (log is the kernels\' deterministic log; log(0) = −∞)', dtypes: ['float32'] },
  {
    name: 'ReduceLogSumExp',
    formula: 'm = ReduceMax over the set (as above); if m is ±∞ or NaN the result is log(Σ exp(v)) evaluated directly (= m for m = +∞ or NaN, −∞ for an all −∞ or empty set); otherwise acc = +0; acc = acc + exp(v − m) (v − m rounded once), result fl(m + log(acc)). exp and log are the kernels\' deterministic functions (docs/determinism.md)',
    dtypes: ['float32'],
  },
];

for (const s of REDUCES) {
  defineOp({
    name: s.name,
    summary: `reduce over the listed axes: ${s.formula.split(';').slice(-1)[0]!.trim()}`,
    doc: [
      `Input X of rank r, dtype ${s.dtypes.join(' or ')}. attrs.axes: a non-empty, ascending, repeat-free list of axes in [0, r)`,
      '(the importer lists every axis for "reduce all" and drops no-op reductions). attrs.keepdims: 1 keeps each reduced axis',
      'with size 1, 0 removes it. Output dtype = X\'s dtype.',
      `Per output element: ${s.formula}.`,
      ORDER_DOC,
    ].join('\n'),
    inputs: [1, 1],
    outputs: 1,
    attrs: { axes: 'ints', keepdims: 'int' },
    infer([x], attrs) {
      requireDType(x!, s.dtypes, `${s.name} input`);
      const axes = attrs.axes as number[];
      checkAxes(axes, x!.shape.length);
      return [{ dtype: x!.dtype, shape: shape(reducedShape(x!.shape, axes, int(attrs, 'keepdims') !== 0)) }];
    },
    fold: s.fold
      ? ([x], attrs) => {
        const axes = attrs.axes as number[];
        const os = reducedShape(x!.shape, axes, int(attrs, 'keepdims') !== 0);
        const out = allocTyped(x!.dtype, prod(os)) as unknown as Out;
        const vals: (number | bigint)[] = [];
        forEachReduction(x!.shape, axes, (o, srcs) => {
          vals.length = 0;
          for (const i of srcs) vals.push(x!.data[i]!);
          out[o] = s.fold!(vals, x!.dtype);
        });
        return [hostTensor(x!.dtype, os, out as unknown as TypedArray)];
      }
      : undefined,
  });
}

// ---------------------------------------------------------------- ArgMax / ArgMin

for (const [name, better] of [['ArgMax', (a: number | bigint, b: number | bigint) => a > b], ['ArgMin', (a: number | bigint, b: number | bigint) => a < b]] as const) {
  const word = name === 'ArgMax' ? 'greater' : 'less';
  defineOp({
    name,
    summary: `int64 index of the ${name === 'ArgMax' ? 'largest' : 'smallest'} element along one axis`,
    doc: [
      'Input X of rank r ≥ 1 (float32 or an integer dtype). attrs.axis ∈ [0, r); attrs.keepdims (1 keeps the axis with size 1);',
      'attrs.select_last_index (0 or 1). Output dtype int64, shape X\'s with the axis removed or kept as 1; X.shape[axis] ≥ 1.',
      `Scan (numpy semantics, NaN counts as the extreme): best = element 0; for k = 1 … d − 1 in order: if v_best is NaN,`,
      'k becomes best only when v_k is NaN too and select_last_index = 1; otherwise k becomes best when v_k is NaN, or when',
      `v_k is strictly ${word} than v_best, or (select_last_index = 1) equal to it. −0 and +0 are equal.`,
    ].join('\n'),
    inputs: [1, 1],
    outputs: 1,
    attrs: { axis: 'int', keepdims: 'int', select_last_index: 'int' },
    infer([x], attrs) {
      requireDType(x!, NUMERIC, `${name} input`);
      const axis = checkAxis(int(attrs, 'axis'), x!.shape.length);
      if (x!.shape[axis] === 0) throw new IrError(`axis ${axis} is empty`);
      return [{ dtype: 'int64', shape: shape(reducedShape(x!.shape, [axis], int(attrs, 'keepdims') !== 0)) }];
    },
    fold([x], attrs) {
      const axis = int(attrs, 'axis');
      const last = int(attrs, 'select_last_index') !== 0;
      const os = reducedShape(x!.shape, [axis], int(attrs, 'keepdims') !== 0);
      const out = new BigInt64Array(prod(os));
      forEachReduction(x!.shape, [axis], (o, srcs) => {
        let best = 0;
        for (let k = 1; k < srcs.length; k++) {
          const v = x!.data[srcs[k]!]!;
          const b = x!.data[srcs[best]!]!;
          if (b !== b) { if (v !== v && last) best = k; continue; }
          if (v !== v || better(v, b) || (last && v == b)) best = k;
        }
        out[o] = BigInt(best);
      });
      return [hostTensor('int64', os, out)];
    },
  });
}

// ---------------------------------------------------------------- softmax family

const SOFTMAX_DOCS: Record<string, string> = {
  Softmax: 'm = max (f32.max, in order) of the slice; e_k = exp(fl(x_k − m)); s = Σ e_k accumulated in order from +0 rounding each step; y_k = fl(e_k / s).',
  LogSoftmax: 'm = max (f32.max, in order) of the slice; s = Σ exp(fl(x_k − m)) accumulated in order from +0 rounding each step; y_k = fl(fl(x_k − m) − log(s)).',
  Hardmax: 'y_k = 1 at the index ArgMax (select_last_index = 0) selects — the first maximum, or the first NaN if any — and 0 elsewhere. Host-folded (comparisons only).',
};

for (const name of ['Softmax', 'LogSoftmax', 'Hardmax']) {
  defineOp({
    name,
    summary: `${name} over one axis`,
    doc: [
      'Input X of rank r ≥ 1, float32. attrs.axis ∈ [0, r): the op works independently on each 1-D slice along that axis',
      '(the importer reshapes for the opset < 13 "coerce to 2-D" form). Output: X\'s type.',
      `Per slice: ${SOFTMAX_DOCS[name]} exp and log are the kernels' deterministic functions (docs/determinism.md).`,
    ].join('\n'),
    inputs: [1, 1],
    outputs: 1,
    attrs: { axis: 'int' },
    infer([x], attrs) {
      requireDType(x!, ['float32'], `${name} input`);
      checkAxis(int(attrs, 'axis'), x!.shape.length);
      return [{ dtype: x!.dtype, shape: x!.shape }];
    },
    fold: name === 'Hardmax'
      ? ([x], attrs) => {
        const axis = int(attrs, 'axis');
        const out = new Float32Array(x!.data.length);
        if (x!.shape[axis] === 0) return [hostTensor('float32', x!.shape, out)];
        forEachReduction(x!.shape, [axis], (_o, srcs) => {
          let best = 0;
          for (let k = 1; k < srcs.length; k++) {
            const v = x!.data[srcs[k]!] as number;
            const b = x!.data[srcs[best]!] as number;
            if (b === b && (v !== v || v > b)) best = k;
          }
          out[srcs[best]!] = 1;
        });
        return [hostTensor('float32', x!.shape, out)];
      }
      : undefined,
  });
}

// ---------------------------------------------------------------- CumSum, TopK

defineOp({
  name: 'CumSum',
  summary: 'running sum along one axis (optionally exclusive and/or reversed)',
  doc: [
    'Input X of rank r ≥ 1, float32 or an integer dtype. attrs.axis ∈ [0, r), attrs.exclusive (0/1), attrs.reverse (0/1).',
    'Output: X\'s type. Along each slice of length d, visiting k = 0 … d − 1 (reverse = 1: k = d − 1 … 0): acc starts at +0;',
    'exclusive = 0: acc = acc + x_k then y_k = acc; exclusive = 1: y_k = acc then acc = acc + x_k. float32 rounds each',
    'addition once (fl), integers wrap.',
  ].join('\n'),
  inputs: [1, 1],
  outputs: 1,
  attrs: { axis: 'int', exclusive: 'int', reverse: 'int' },
  infer([x], attrs) {
    requireDType(x!, NUMERIC, 'CumSum input');
    checkAxis(int(attrs, 'axis'), x!.shape.length);
    return [{ dtype: x!.dtype, shape: x!.shape }];
  },
  fold([x], attrs) {
    const axis = int(attrs, 'axis');
    const ex = int(attrs, 'exclusive') !== 0;
    const rev = int(attrs, 'reverse') !== 0;
    const d = x!.dtype;
    const out = allocTyped(d, x!.data.length) as unknown as Out;
    forEachReduction(x!.shape, [axis], (_o, srcs) => {
      let accF = 0;
      let accB = 0n;
      const n = srcs.length;
      for (let j = 0; j < n; j++) {
        const i = srcs[rev ? n - 1 - j : j]!;
        const v = x!.data[i]!;
        if (d === 'float32') {
          if (ex) { out[i] = accF; accF = f32(accF + (v as number)); } else { accF = f32(accF + (v as number)); out[i] = accF; }
        } else {
          const put = (a: bigint) => { out[i] = d === 'int64' ? a : Number(a); };
          if (ex) { put(accB); accB = wrapInt(d, accB + BigInt(v)); } else { accB = wrapInt(d, accB + BigInt(v)); put(accB); }
        }
      }
    });
    return [hostTensor(d, x!.shape, out as unknown as TypedArray)];
  },
});

/** TopK order: a before b? NaN ranks above every number for largest = 1 and below for largest = 0 (i.e. as +∞+). */
function topkBefore(a: number | bigint, ia: number, b: number | bigint, ib: number, largest: boolean): boolean {
  const an = a !== a, bn = b !== b;
  if (an || bn) {
    if (an && bn) return ia < ib;
    return largest ? an : bn;
  }
  if (a == b) return ia < ib;
  return largest ? a > b : a < b;
}

function topkTypes(x: TensorType, attrs: Attrs): TensorType[] {
  requireDType(x, NUMERIC, 'TopK input');
  const axis = checkAxis(int(attrs, 'axis'), x.shape.length);
  const k = int(attrs, 'k');
  if (k < 0 || k > x.shape[axis]!) throw new IrError(`k = ${k} must be in [0, ${x.shape[axis]}]`);
  const s = [...x.shape];
  s[axis] = k;
  return [{ dtype: x.dtype, shape: shape(s) }, { dtype: 'int64', shape: shape(s) }];
}

defineOp({
  name: 'TopK',
  summary: 'the k largest (or smallest) elements along one axis, sorted, with their int64 indices',
  doc: [
    'Input X of rank r ≥ 1, float32 or an integer dtype. attrs.axis ∈ [0, r), attrs.k ∈ [0, X.shape[axis]], attrs.largest',
    '(1 = largest, 0 = smallest). Outputs: values (X\'s dtype) and indices (int64), both X\'s shape with the axis set to k.',
    'Each slice is ordered by value — descending for largest = 1, ascending for 0 — ties broken by the lower index first;',
    'NaN counts as greater than every number (first for largest = 1, last for 0); −0 and +0 are equal. The first k of that',
    'total order are output, always in that sorted order (ONNX sorted = 0 allows any order, so this one is valid).',
  ].join('\n'),
  inputs: [1, 1],
  outputs: 2,
  attrs: { axis: 'int', k: 'int', largest: 'int' },
  infer([x], attrs) {
    return topkTypes(x!, attrs);
  },
  fold([x], attrs) {
    const axis = int(attrs, 'axis');
    const k = int(attrs, 'k');
    const largest = int(attrs, 'largest') !== 0;
    const [vt] = topkTypes(x!, attrs);
    const vals = allocTyped(x!.dtype, prod(vt!.shape)) as unknown as Out;
    const idxs = new BigInt64Array(prod(vt!.shape));
    const ost = strides(vt!.shape);
    const ist = strides(x!.shape);
    forEachReduction(x!.shape, [axis], (_o, srcs) => {
      if (srcs.length === 0) return;
      const order = srcs.map((_, j) => j);
      order.sort((a, b) => (topkBefore(x!.data[srcs[a]!]!, a, x!.data[srcs[b]!]!, b, largest) ? -1 : 1));
      // output base: same coordinates as the slice's element 0, in the output's strides
      let rem = srcs[0]!;
      let base = 0;
      for (let i = 0; i < x!.shape.length; i++) {
        const c = Math.floor(rem / ist[i]!);
        rem -= c * ist[i]!;
        if (i !== axis) base += c * ost[i]!;
      }
      for (let j = 0; j < k; j++) {
        vals[base + j * ost[axis]!] = x!.data[srcs[order[j]!]!]!;
        idxs[base + j * ost[axis]!] = BigInt(order[j]!);
      }
    });
    return [hostTensor(x!.dtype, vt!.shape, vals as unknown as TypedArray), hostTensor('int64', vt!.shape, idxs)];
  },
});
