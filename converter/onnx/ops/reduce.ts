/**
 * ONNX lowerings: reductions, ArgMax/ArgMin, the softmax family, CumSum, TopK and Einsum. Axes given
 * as attributes (old opsets) or constant inputs (ReduceSum from opset 13, the others from 18) land on
 * one IR form with sorted, non-negative axes.
 */
import { onnxOp } from '../registry.ts';
import type { OnnxNodeContext } from '../context.ts';
import type { TensorId } from '../../ir/types.ts';
import { hasOp } from '../../ir/op-registry.ts';
import { hostTensor } from '../../ir/host-tensor.ts';
import { axisOf, reshapeTo } from './tensor.ts';

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);

/** Lower a reduction of x over (ONNX) axes; undefined or empty axes reduce everything. */
export function lowerReduce(c: OnnxNodeContext, op: string, x: TensorId, axes: readonly number[] | undefined, keepdims: number): TensorId {
  const s = c.b.typeOf(x).shape;
  const r = s.length;
  if (r === 0) {
    // A scalar: reduce over a temporary axis of size 1.
    const y = c.emit1(op, [reshapeTo(c, x, [1])], { axes: [0], keepdims: 0 });
    return y;
  }
  const norm = !axes || axes.length === 0 ? [...s.keys()] : [...new Set(axes.map((a) => axisOf(c, a, r)))].sort((a, b) => a - b);
  return c.emit1(op, [x], { axes: norm, keepdims: keepdims ? 1 : 0 });
}

for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']) {
  const inputOpset = op === 'ReduceSum' ? 13 : 18;
  onnxOp(op, (c) => {
    let axes: number[] | undefined;
    let noop = 0;
    if (c.opset >= inputOpset) {
      axes = c.has(1) ? c.constInts(1, 'axes') : undefined;
      noop = c.int('noop_with_empty_axes', 0);
    } else axes = c.hasAttr('axes') ? c.ints('axes') : undefined;
    if ((!axes || axes.length === 0) && noop) return c.out(c.in(0));
    const d = c.type(0).dtype;
    if (d === 'bool') c.fail(`${op} on bool is not supported`, 'dtype');
    const floatOnly = op === 'ReduceL2' || op === 'ReduceLogSum' || op === 'ReduceLogSumExp';
    if (floatOnly && d !== 'float32') {
      // Integer input: reduce in float32 and cast back (as the ONNX reference computes in floating point).
      const xf = c.emit1('Cast', [c.in(0)], { to: 'float32' });
      const y = lowerReduce(c, op, xf, axes, c.int('keepdims', 1));
      return c.out(c.emit1('Cast', [y], { to: d }));
    }
    c.out(lowerReduce(c, op, c.in(0), axes, c.int('keepdims', 1)));
  });
}

for (const op of ['ArgMax', 'ArgMin']) {
  onnxOp(op, (c) => {
    const t = c.type(0);
    if (t.dtype === 'bool') c.fail(`${op} on bool is not supported`, 'dtype');
    let x = c.in(0);
    let axis: number;
    if (t.shape.length === 0) { x = reshapeTo(c, x, [1]); axis = 0; } else axis = axisOf(c, c.int('axis', 0), t.shape.length);
    c.out(c.emit1(op, [x], { axis, keepdims: c.int('keepdims', 1) ? 1 : 0, select_last_index: c.int('select_last_index', 0) ? 1 : 0 }));
  });
}

for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
  onnxOp(op, (c) => {
    const s = c.type(0).shape;
    const r = s.length;
    if (c.type(0).dtype !== 'float32') c.fail(`${op} on ${c.type(0).dtype} is not supported (float32 only)`, 'dtype');
    if (c.opset >= 13) return c.out(c.emit1(op, [c.in(0)], { axis: axisOf(c, c.int('axis', -1), r) }));
    // Opset < 13: coerce to 2-D [prod(dims before axis), prod(dims from axis)] and work over the second axis.
    const axis = c.int('axis', 1);
    const a = axis < 0 ? axis + r : axis;
    if (a < 0 || a > r) c.fail(`axis ${axis} out of range for rank ${r}`, 'invalid-model');
    if (a === r - 1) return c.out(c.emit1(op, [c.in(0)], { axis: a }));
    const x2 = reshapeTo(c, c.in(0), [prod(s.slice(0, a)), prod(s.slice(a))]);
    const y = c.emit1(op, [x2], { axis: 1 });
    c.out(reshapeTo(c, y, s));
  });
}

onnxOp('CumSum', (c) => {
  const t = c.type(0);
  if (t.dtype === 'bool') c.fail('CumSum on bool is not supported', 'dtype');
  const axisV = c.constInts(1, 'axis');
  if (axisV.length !== 1) c.fail('axis must be a scalar', 'invalid-model');
  const axis = axisOf(c, axisV[0]!, t.shape.length);
  c.out(c.emit1('CumSum', [c.in(0)], { axis, exclusive: c.int('exclusive', 0) ? 1 : 0, reverse: c.int('reverse', 0) ? 1 : 0 }));
});

onnxOp('TopK', (c) => {
  const t = c.type(0);
  if (t.dtype === 'bool') c.fail('TopK on bool is not supported', 'dtype');
  const k = c.opset < 10 ? c.int('k') : c.constInts(1, 'k')[0]!;
  const axis = axisOf(c, c.int('axis', -1), t.shape.length);
  if (k < 0 || k > t.shape[axis]!) c.fail(`k = ${k} is outside [0, ${t.shape[axis]}]`, 'invalid-model');
  c.out(...c.emit('TopK', [c.in(0)], { axis, k, largest: c.int('largest', 1) ? 1 : 0 }));
});

// ---------------------------------------------------------------- Einsum

/** Labels of one equation term; the k-th of E ellipsis dims is labelled `.k` (right-aligned). */
function parseTerm(c: OnnxNodeContext, raw: string, rank: number, E: number): string[] {
  const labels: string[] = [];
  for (let i = 0; i < raw.length;) {
    if (raw.startsWith('...', i)) {
      const n = rank - raw.replace('...', '').length;
      if (n < 0) c.fail(`term '${raw}' has more labels than its operand's rank ${rank}`, 'invalid-model');
      for (let k = 0; k < n; k++) labels.push(`.${E - n + k}`);
      i += 3;
    } else {
      const ch = raw[i]!;
      if (!/[A-Za-z]/.test(ch)) c.fail(`unexpected '${ch}' in equation term '${raw}'`, 'invalid-model');
      labels.push(ch);
      i++;
    }
  }
  if (labels.length !== rank) c.fail(`term '${raw}' has ${labels.length} labels, its operand has rank ${rank}`, 'invalid-model');
  return labels;
}

/**
 * Einsum lowers to Transpose/Reshape/Mul/ReduceSum (and MatMul for two-operand contractions when
 * the IR has it). Repeated labels within one operand (diagonals) are not supported.
 */
onnxOp('Einsum', (c) => {
  const eq = c.string('equation').replace(/\s+/g, '');
  const ins = c.ins(0);
  const [lhs, rhsRaw] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (terms.length !== ins.length) c.fail(`equation has ${terms.length} operands, node has ${ins.length}`, 'invalid-model');
  const ranks = ins.map((x) => c.b.typeOf(x).shape.length);
  const E = Math.max(0, ...terms.map((t, i) => (t.includes('...') ? ranks[i]! - t.replace('...', '').length : 0)));
  const ell = { n: E };
  const parsed = terms.map((t, i) => ({ labels: parseTerm(c, t, ranks[i]!, E) }));
  // A label repeated within one operand takes its diagonal: move both axes last, merge them and
  // gather the elements k·(d + 1).
  parsed.forEach((p, i) => {
    for (;;) {
      const l = p.labels.find((x, k) => p.labels.indexOf(x) !== k);
      if (l === undefined) break;
      const a1 = p.labels.indexOf(l);
      const a2 = p.labels.indexOf(l, a1 + 1);
      const s = c.b.typeOf(ins[i]!).shape;
      if (s[a1] !== s[a2]) c.fail(`label '${l}' has sizes ${s[a1]} and ${s[a2]} in '${terms[i]}'`, 'invalid-model');
      const d = s[a1]!;
      const rest = p.labels.map((_, k) => k).filter((k) => k !== a1 && k !== a2);
      let x = c.emit1('Transpose', [ins[i]!], { perm: [...rest, a1, a2] });
      x = reshapeTo(c, x, [...rest.map((k) => s[k]!), d * d]);
      const idx = c.constant(hostTensor('int64', [d], Array.from({ length: d }, (_, k) => BigInt(k * (d + 1)))), 'diagonal');
      ins[i] = c.emit1('Gather', [x, idx], { axis: rest.length });
      p.labels = [...rest.map((k) => p.labels[k]!), l];
    }
  });
  const dims = new Map<string, number>();
  parsed.forEach((p, i) => {
    const s = c.b.typeOf(ins[i]!).shape;
    p.labels.forEach((l, k) => {
      const d = s[k]!;
      const prev = dims.get(l);
      if (prev === undefined || prev === 1) dims.set(l, d);
      else if (d !== 1 && d !== prev) c.fail(`label '${l}' has sizes ${prev} and ${d}`, 'invalid-model');
    });
  });
  let outLabels: string[];
  if (rhsRaw !== undefined) {
    const rr = rhsRaw.includes('...') ? rhsRaw.replace('...', '\u0000') : rhsRaw;
    outLabels = [];
    for (const ch of rr) {
      if (ch === '\u0000') for (let k = 0; k < ell.n; k++) outLabels.push(`.${k}`);
      else outLabels.push(ch);
    }
  } else {
    const counts = new Map<string, number>();
    parsed.forEach((p) => p.labels.forEach((l) => counts.set(l, (counts.get(l) ?? 0) + 1)));
    outLabels = [...Array(ell.n).keys()].map((k) => `.${k}`);
    outLabels.push(...[...counts].filter(([l, n]) => n === 1 && !l.startsWith('.')).map(([l]) => l).sort());
  }
  for (const l of outLabels) if (!dims.has(l)) c.fail(`output label '${l}' does not appear in the inputs`, 'invalid-model');
  const all = [...outLabels, ...[...dims.keys()].filter((l) => !outLabels.includes(l))];
  // Bring every operand to the full label order [out..., reduced...] with size-1 dims where absent.
  const aligned = ins.map((x, i) => {
    const p = parsed[i]!;
    const present = all.filter((l) => p.labels.includes(l));
    const perm = present.map((l) => p.labels.indexOf(l));
    let y = perm.every((v, k) => v === k) ? x : c.emit1('Transpose', [x], { perm });
    const s = c.b.typeOf(y).shape;
    y = reshapeTo(c, y, all.map((l) => (p.labels.includes(l) ? s[present.indexOf(l)]! : 1)));
    return y;
  });
  const nOut = outLabels.length;
  const red = all.slice(nOut);
  // Two float32 operands with a contraction: one batched MatMul [batch…, M, K] × [batch…, K, N].
  const labelsOf = (i: number) => parsed[i]!.labels;
  if (aligned.length === 2 && red.length > 0 && hasOp('MatMul') && c.b.typeOf(ins[0]!).dtype === 'float32' && c.b.typeOf(ins[1]!).dtype === 'float32') {
    const [A, B] = aligned as [TensorId, TensorId];
    const inA = (l: string) => labelsOf(0).includes(l);
    const inB = (l: string) => labelsOf(1).includes(l);
    if (red.every((l) => inA(l) && inB(l))) {
      const sa = c.b.typeOf(A).shape;
      const sb = c.b.typeOf(B).shape;
      const idx = (l: string) => all.indexOf(l);
      const bL = outLabels.filter((l) => inA(l) && inB(l));
      const mL = outLabels.filter((l) => inA(l) && !inB(l));
      const nL = outLabels.filter((l) => !inA(l) && inB(l));
      const size = (l: string) => dims.get(l)!;
      const M = prod(mL.map(size));
      const N = prod(nL.map(size));
      const K = prod(red.map(size));
      const order = (ls: string[]) => ls.map(idx);
      const pa = order([...bL, ...mL, ...nL, ...red]);
      const pb = order([...bL, ...red, ...mL, ...nL]);
      const tA = pa.every((v, k) => v === k) ? A : c.emit1('Transpose', [A], { perm: pa });
      const tB = pb.every((v, k) => v === k) ? B : c.emit1('Transpose', [B], { perm: pb });
      const a3 = reshapeTo(c, tA, [...bL.map((l) => sa[idx(l)]!), M, K]);
      const b3 = reshapeTo(c, tB, [...bL.map((l) => sb[idx(l)]!), K, N]);
      const mm = c.emit1('MatMul', [a3, b3]);
      const y = reshapeTo(c, mm, [...bL.map(size), ...mL.map(size), ...nL.map(size)]);
      const cur = [...bL, ...mL, ...nL];
      const perm = outLabels.map((l) => cur.indexOf(l));
      return c.out(perm.every((v, k) => v === k) ? y : c.emit1('Transpose', [y], { perm }));
    }
  }
  // General form: broadcast product, then sum over the reduced labels.
  let acc = aligned[0]!;
  for (let i = 1; i < aligned.length; i++) acc = c.emit1('Mul', [acc, aligned[i]!]);
  if (red.length > 0) acc = c.emit1('ReduceSum', [acc], { axes: red.map((_, k) => nOut + k), keepdims: 0 });
  c.out(acc);
});
