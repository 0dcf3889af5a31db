/**
 * ONNX lowerings: data movement and shape ops. Shape-valued inputs (shape, axes, starts, pads,
 * repeats, k …) must be constants after folding; they move into IR attributes. Squeeze, Unsqueeze,
 * Flatten, DepthToSpace and SpaceToDepth become Reshape/Transpose; Shape, Size, EyeLike, Range and
 * ConstantOfShape become constants. NonZero, Unique and Compress are supported when the values that
 * decide the output shape are constant.
 */
import { onnxOp } from '../registry.ts';
import type { OnnxNodeContext } from '../context.ts';
import type { DType, TensorId } from '../../ir/types.ts';
import { shapeEquals } from '../../ir/types.ts';
import type { HostTensor } from '../../ir/host-tensor.ts';
import { hostTensor } from '../../ir/host-tensor.ts';
import { allocTyped } from '../../ir/dtype.ts';
import { IrError } from '../../ir/op-registry.ts';
import { broadcastShapes } from '../../ir/ops/util.ts';
import { constDTypeOf, onnxTypeName } from '../tensor.ts';

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);

/** Normalise an ONNX axis in [−rank, rank) or fail naming the node. */
export function axisOf(c: OnnxNodeContext, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) return c.fail(`${what} ${axis} is out of range for rank ${rank}`, 'invalid-model');
  return axis < 0 ? axis + rank : axis;
}

/** Reshape unless the shape already matches. */
export function reshapeTo(c: OnnxNodeContext, x: TensorId, dims: readonly number[]): TensorId {
  return shapeEquals(c.b.typeOf(x).shape, dims) ? x : c.emit1('Reshape', [x], { shape: [...dims] });
}

/** A scalar constant of dtype d holding the number v (truncated for integers, 0/1 for bool). */
export function scalarConst(c: OnnxNodeContext, d: DType, v: number, suffix: string): TensorId {
  const val = d === 'float32' ? Math.fround(v) : d === 'bool' ? (v ? 1 : 0) : Math.trunc(v);
  return c.constant(hostTensor(d, [], [d === 'int64' ? BigInt(val) : val]), suffix);
}

function i64(dims: readonly number[], vals: readonly number[]): HostTensor {
  return hostTensor('int64', dims, vals.map((v) => BigInt(v)));
}

// ---------------------------------------------------------------- shapes

onnxOp('Shape', (c) => {
  const s = c.type(0).shape;
  const r = s.length;
  const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  const start = clamp(c.int('start', 0));
  const end = c.hasAttr('end') ? clamp(c.int('end')) : r;
  const dims = s.slice(start, Math.max(start, end));
  c.out(c.constant(i64([dims.length], dims), 'shape'));
});

onnxOp('Size', (c) => c.out(c.constant(i64([], [prod(c.type(0).shape)]), 'size')));

onnxOp('Reshape', (c) => {
  const inShape = c.type(0).shape;
  const req = c.opset < 5 ? c.ints('shape') : c.constInts(1, 'shape');
  const allowzero = c.int('allowzero', 0);
  if (allowzero && req.includes(0) && req.includes(-1)) c.fail('allowzero = 1 with both 0 and −1 in the shape is invalid', 'invalid-model');
  let infer = -1;
  const out = req.map((v, i) => {
    if (v === 0 && !allowzero) {
      if (i >= inShape.length) c.fail(`shape entry ${i} is 0 (copy) but the input has rank ${inShape.length}`, 'invalid-model');
      return inShape[i]!;
    }
    if (v === -1) {
      if (infer >= 0) c.fail('shape has more than one −1', 'invalid-model');
      infer = i;
      return 1;
    }
    if (v < 0) c.fail(`shape entry ${v} is invalid`, 'invalid-model');
    return v;
  });
  if (infer >= 0) {
    const rest = prod(out);
    const n = prod(inShape);
    if (rest === 0 || n % rest !== 0) c.fail(`cannot infer the −1 in [${req}] for ${n} elements`, 'invalid-model');
    out[infer] = n / rest;
  }
  c.out(reshapeTo(c, c.in(0), out));
});

onnxOp('Flatten', (c) => {
  const s = c.type(0).shape;
  const r = s.length;
  let axis = c.int('axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) c.fail(`axis ${c.int('axis', 1)} out of range for rank ${r}`, 'invalid-model');
  c.out(reshapeTo(c, c.in(0), [prod(s.slice(0, axis)), prod(s.slice(axis))]));
});

function axesArg(c: OnnxNodeContext, inputOpset: number): number[] | undefined {
  if (c.opset >= inputOpset) return c.has(1) ? c.constInts(1, 'axes') : undefined;
  return c.hasAttr('axes') ? c.ints('axes') : undefined;
}

onnxOp('Squeeze', (c) => {
  const s = c.type(0).shape;
  const axes = axesArg(c, 13);
  let keep: boolean[];
  if (!axes || axes.length === 0) keep = s.map((d) => d !== 1);
  else {
    keep = s.map(() => true);
    for (const a of axes) {
      const k = axisOf(c, a, s.length);
      if (s[k] !== 1) c.fail(`cannot squeeze axis ${a} of size ${s[k]}`, 'invalid-model');
      keep[k] = false;
    }
  }
  c.out(reshapeTo(c, c.in(0), s.filter((_, i) => keep[i])));
});

onnxOp('Unsqueeze', (c) => {
  const s = c.type(0).shape;
  const axes = axesArg(c, 13);
  if (!axes) return c.fail('axes is required', 'invalid-model');
  const r = s.length + axes.length;
  const ins = new Set(axes.map((a) => axisOf(c, a, r)));
  if (ins.size !== axes.length) c.fail(`axes [${axes}] repeat an axis`, 'invalid-model');
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(ins.has(i) ? 1 : s[j++]!);
  c.out(reshapeTo(c, c.in(0), out));
});

onnxOp('Transpose', (c) => {
  const r = c.rank(0);
  const perm = c.ints('perm', [...Array(r).keys()].reverse()).map((p) => axisOf(c, p, r, 'perm entry'));
  if (perm.every((p, i) => p === i)) return c.out(c.in(0));
  c.out(c.emit1('Transpose', [c.in(0)], { perm }));
});

onnxOp('Concat', (c) => {
  const ins = c.ins(0);
  const r = c.b.typeOf(ins[0]!).shape.length;
  const axis = axisOf(c, c.int('axis', c.opset < 4 ? 1 : undefined), r);
  c.out(ins.length === 1 ? ins[0]! : c.emit1('Concat', ins, { axis }));
});

onnxOp('Split', (c) => {
  const s = c.type(0).shape;
  const axis = axisOf(c, c.int('axis', 0), s.length);
  const d = s[axis]!;
  let splits: number[] | undefined;
  if (c.opset >= 13) splits = c.has(1) ? c.constInts(1, 'split') : undefined;
  else splits = c.hasAttr('split') ? c.ints('split') : c.has(1) ? c.constInts(1, 'split') : undefined;
  if (splits && splits.length === 0) splits = undefined;
  if (!splits) {
    if (c.opset >= 18 && c.hasAttr('num_outputs')) {
      const n = c.int('num_outputs');
      if (n < 1) c.fail(`num_outputs ${n} must be ≥ 1`, 'invalid-model');
      const chunk = Math.ceil(d / n);
      splits = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
    } else {
      const n = c.nOut;
      if (d % n !== 0) c.fail(`axis ${axis} of size ${d} does not split evenly into ${n} outputs`, 'invalid-model');
      splits = new Array(n).fill(d / n);
    }
  }
  c.out(...c.emit('Split', [c.in(0)], { axis, splits }));
});

// ---------------------------------------------------------------- Slice

/** ONNX Slice clamping of one axis: returns normalised [start, end] for the IR. */
export function clampSlice(start: number, end: number, step: number, d: number): [number, number] {
  if (start < 0) start += d;
  if (end < 0) end += d;
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  return step > 0 ? [clamp(start, 0, d), clamp(end, 0, d)] : [clamp(start, 0, d - 1), clamp(end, -1, d - 1)];
}

onnxOp('Slice', (c) => {
  const s = c.type(0).shape;
  const r = s.length;
  let starts: number[], ends: number[], axes: number[], steps: number[];
  if (c.opset < 10) {
    starts = c.ints('starts');
    ends = c.ints('ends');
    axes = c.ints('axes', [...starts.keys()]);
    steps = starts.map(() => 1);
  } else {
    starts = c.constInts(1, 'starts');
    ends = c.constInts(2, 'ends');
    axes = c.has(3) ? c.constInts(3, 'axes') : [...starts.keys()];
    steps = c.has(4) ? c.constInts(4, 'steps') : starts.map(() => 1);
  }
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    c.fail(`starts, ends, axes and steps must have one length, got ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`, 'invalid-model');
  }
  const S = s.map(() => 0);
  const E = [...s];
  const P = s.map(() => 1);
  const seen = new Set<number>();
  axes.forEach((a, j) => {
    const k = axisOf(c, a, r);
    if (seen.has(k)) c.fail(`axis ${a} repeats`, 'invalid-model');
    seen.add(k);
    if (steps[j] === 0) c.fail('step 0 is invalid', 'invalid-model');
    P[k] = steps[j]!;
    [S[k], E[k]] = clampSlice(starts[j]!, ends[j]!, steps[j]!, s[k]!);
  });
  if (S.every((v) => v === 0) && E.every((v, i) => v === s[i]) && P.every((v) => v === 1)) return c.out(c.in(0));
  c.out(c.emit1('Slice', [c.in(0)], { starts: S, ends: E, steps: P }));
});

// ---------------------------------------------------------------- gather / scatter

function indexInput(c: OnnxNodeContext, i: number): TensorId {
  const d = c.type(i).dtype;
  if (d !== 'int32' && d !== 'int64') c.fail(`indices must be int32 or int64, got ${d}`, 'dtype');
  return c.in(i);
}

onnxOp('Gather', (c) => {
  const axis = axisOf(c, c.int('axis', 0), c.rank(0));
  const ind = c.constOf(1);
  const d = c.type(0).shape[axis]!;
  if (ind && Array.prototype.some.call(ind.data, (v: number | bigint) => Number(v) < -d || Number(v) >= d)) {
    c.warn(`constant indices fall outside [${-d}, ${d}); ONNX leaves that undefined, the IR Gather yields 0 for them`);
  }
  c.out(c.emit1('Gather', [c.in(0), indexInput(c, 1)], { axis }));
});
onnxOp('GatherElements', (c) => c.out(c.emit1('GatherElements', [c.in(0), indexInput(c, 1)], { axis: axisOf(c, c.int('axis', 0), c.rank(0)) })));
onnxOp('GatherND', (c) => c.out(c.emit1('GatherND', [c.in(0), indexInput(c, 1)], { batch_dims: c.int('batch_dims', 0) })));

function reductionAttr(c: OnnxNodeContext): string {
  const red = c.string('reduction', 'none');
  if (!['none', 'add', 'mul', 'max', 'min'].includes(red)) c.fail(`reduction '${red}' is not one of none, add, mul, max, min`);
  return red;
}
const scatterElements = (c: OnnxNodeContext) =>
  c.out(c.emit1('ScatterElements', [c.in(0), indexInput(c, 1), c.in(2)], { axis: axisOf(c, c.int('axis', 0), c.rank(0)), reduction: reductionAttr(c) }));
onnxOp('ScatterElements', scatterElements);
onnxOp('Scatter', scatterElements);
onnxOp('ScatterND', (c) => c.out(c.emit1('ScatterND', [c.in(0), indexInput(c, 1), c.in(2)], { reduction: reductionAttr(c) })));

// ---------------------------------------------------------------- Expand, Tile, Pad

onnxOp('Expand', (c) => {
  const req = c.constInts(1, 'shape');
  let out: readonly number[];
  try {
    out = broadcastShapes(c.type(0).shape, req);
  } catch (e) {
    if (e instanceof IrError) return c.fail(`cannot expand [${c.type(0).shape}] to [${req}]: ${e.message}`, 'invalid-model');
    throw e;
  }
  c.out(shapeEquals(out, c.type(0).shape) ? c.in(0) : c.emit1('Expand', [c.in(0)], { shape: [...out] }));
});

onnxOp('Tile', (c) => {
  const r = c.rank(0);
  let repeats: number[];
  if (c.opset < 6) {
    const tiles = c.constInts(1, 'tiles')[0]!;
    const axis = axisOf(c, c.constInts(2, 'axis')[0]!, r);
    repeats = new Array(r).fill(1);
    repeats[axis] = tiles;
  } else repeats = c.constInts(1, 'repeats');
  if (repeats.length !== r) c.fail(`repeats has ${repeats.length} entries for rank ${r}`, 'invalid-model');
  c.out(repeats.every((v) => v === 1) ? c.in(0) : c.emit1('Tile', [c.in(0)], { repeats }));
});

onnxOp('Pad', (c) => {
  const t = c.type(0);
  const r = t.shape.length;
  const mode = c.string('mode', 'constant');
  if (!['constant', 'reflect', 'edge', 'wrap'].includes(mode)) c.fail(`mode '${mode}' is not one of constant, reflect, edge, wrap`);
  let pads: number[];
  let value: TensorId;
  if (c.opset < 11) {
    pads = c.hasAttr('pads') ? c.ints('pads') : c.ints('paddings');
    value = scalarConst(c, t.dtype, c.float('value', 0), 'value');
  } else {
    pads = c.constInts(1, 'pads');
    if (c.has(2)) {
      const vt = c.type(2);
      if (vt.dtype !== t.dtype) c.fail(`constant_value is ${vt.dtype}, data is ${t.dtype}`, 'invalid-model');
      if (prod(vt.shape) !== 1) c.fail('constant_value must hold one element', 'invalid-model');
      value = reshapeTo(c, c.in(2), []);
    } else value = scalarConst(c, t.dtype, 0, 'value');
    if (c.opset >= 18 && c.has(3)) {
      const axes = c.constInts(3, 'axes').map((a) => axisOf(c, a, r));
      if (pads.length !== 2 * axes.length) c.fail(`pads has ${pads.length} entries for ${axes.length} axes`, 'invalid-model');
      const full = new Array(2 * r).fill(0);
      axes.forEach((a, j) => { full[a] = pads[j]!; full[a + r] = pads[j + axes.length]!; });
      pads = full;
    }
  }
  if (pads.length !== 2 * r) c.fail(`pads has ${pads.length} entries, rank ${r} needs ${2 * r}`, 'invalid-model');
  if (pads.every((p) => p === 0)) return c.out(c.in(0));
  c.out(c.emit1('Pad', [c.in(0), value], { pads, mode }));
});

// ---------------------------------------------------------------- DepthToSpace / SpaceToDepth

onnxOp('DepthToSpace', (c) => {
  const s = c.type(0).shape;
  if (s.length !== 4) c.fail(`input must be rank 4 (NCHW), got rank ${s.length}`, 'invalid-model');
  const b = c.int('blocksize');
  const [N, C, H, W] = s as unknown as [number, number, number, number];
  if (b < 1 || C % (b * b) !== 0) c.fail(`channels ${C} not divisible by blocksize² (${b}²)`, 'invalid-model');
  const mode = c.string('mode', 'DCR');
  const C2 = C / (b * b);
  let y: TensorId;
  if (mode === 'DCR') {
    y = c.emit1('Reshape', [c.in(0)], { shape: [N, b, b, C2, H, W] });
    y = c.emit1('Transpose', [y], { perm: [0, 3, 4, 1, 5, 2] });
  } else if (mode === 'CRD') {
    y = c.emit1('Reshape', [c.in(0)], { shape: [N, C2, b, b, H, W] });
    y = c.emit1('Transpose', [y], { perm: [0, 1, 4, 2, 5, 3] });
  } else return c.fail(`mode '${mode}' is not DCR or CRD`);
  c.out(c.emit1('Reshape', [y], { shape: [N, C2, H * b, W * b] }));
});

onnxOp('SpaceToDepth', (c) => {
  const s = c.type(0).shape;
  if (s.length !== 4) c.fail(`input must be rank 4 (NCHW), got rank ${s.length}`, 'invalid-model');
  const b = c.int('blocksize');
  const [N, C, H, W] = s as unknown as [number, number, number, number];
  if (b < 1 || H % b !== 0 || W % b !== 0) c.fail(`spatial dims ${H}x${W} not divisible by blocksize ${b}`, 'invalid-model');
  let y = c.emit1('Reshape', [c.in(0)], { shape: [N, C, H / b, b, W / b, b] });
  y = c.emit1('Transpose', [y], { perm: [0, 3, 5, 1, 2, 4] });
  c.out(c.emit1('Reshape', [y], { shape: [N, C * b * b, H / b, W / b] }));
});

// ---------------------------------------------------------------- generated constants

onnxOp('ConstantOfShape', (c) => {
  const dims = c.constInts(0, 'shape');
  if (dims.some((d) => d < 0)) c.fail(`shape [${dims}] has a negative dimension`, 'invalid-model');
  const v = c.tensorAttr('value') ?? hostTensor('float32', [], [0]);
  if (v.data.length !== 1) c.fail('value must hold exactly one element', 'invalid-model');
  const scalar = c.constant(hostTensor(v.dtype, [], v.data), 'value');
  c.out(dims.length === 0 ? scalar : c.emit1('Expand', [scalar], { shape: dims }));
});

onnxOp('Range', (c) => {
  const [a, l, dl] = [c.constOf(0), c.constOf(1), c.constOf(2)];
  if (!a || !l || !dl) return c.fail('start, limit and delta must be constants (the output length depends on their values)', 'dynamic-shape');
  const d = a.dtype;
  if (d === 'bool' || d === 'uint8' || d === 'int8') c.fail(`Range on ${d} is not supported`, 'dtype');
  const [start, limit, delta] = [Number(a.data[0]), Number(l.data[0]), Number(dl.data[0])];
  if (delta === 0) c.fail('delta is 0', 'invalid-model');
  // Element count as ONNX defines it: max(ceil((limit − start) / delta), 0).
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  const out = allocTyped(d, n) as unknown as { [i: number]: number | bigint };
  if (d === 'float32') {
    // ONNX's function body accumulates: x_0 = start, x_i = x_{i−1} + delta (rounded to float32 each step).
    let x = start;
    for (let i = 0; i < n; i++) { out[i] = x; x = Math.fround(x + delta); }
  } else if (d === 'int64') {
    const [s0, dd] = [a.data[0] as bigint, dl.data[0] as bigint];
    for (let i = 0; i < n; i++) out[i] = BigInt.asIntN(64, s0 + BigInt(i) * dd);
  } else for (let i = 0; i < n; i++) out[i] = start + i * delta;
  c.out(c.constant(hostTensor(d, [n], out as unknown as Float32Array), 'range'));
});

onnxOp('EyeLike', (c) => {
  const t = c.type(0);
  if (t.shape.length !== 2) c.fail(`input must be rank 2, got rank ${t.shape.length}`, 'invalid-model');
  let d: DType = t.dtype;
  if (c.hasAttr('dtype')) {
    const od = c.int('dtype');
    const m = constDTypeOf(od);
    if (!m) return c.fail(`dtype ${onnxTypeName(od)} is not supported by the IR`, 'dtype');
    d = m;
  }
  const k = c.int('k', 0);
  const [R, C] = t.shape as unknown as [number, number];
  const out = allocTyped(d, R * C) as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < R; i++) {
    const j = i + k;
    if (j >= 0 && j < C) out[i * C + j] = d === 'int64' ? 1n : 1;
  }
  c.out(c.constant(hostTensor(d, [R, C], out as unknown as Float32Array), 'eye'));
});

onnxOp('OneHot', (c) => {
  const depthT = c.constOf(1);
  if (!depthT) return c.fail('depth must be a constant (it sets the output shape)', 'dynamic-shape');
  const depth = Math.trunc(Number(depthT.data[0]));
  const q = c.rank(0);
  const axis = axisOf(c, c.int('axis', -1), q + 1);
  let values = c.in(2);
  if (prod(c.type(2).shape) !== 2) c.fail('values must hold two elements [off, on]', 'invalid-model');
  values = reshapeTo(c, values, [2]);
  c.out(c.emit1('OneHot', [c.in(0), values], { depth, axis }));
});

onnxOp('Trilu', (c) => {
  const upper = c.int('upper', 1) ? 1 : 0;
  if (!c.has(1)) return c.out(c.emit1('Trilu', [c.in(0)], { upper, k: 0 }));
  const kc = c.constOf(1);
  if (kc) return c.out(c.emit1('Trilu', [c.in(0)], { upper, k: Number(kc.data[0]) }));
  // k known only at run time: the output shape does not depend on it, so pass it as an input.
  if (c.type(1).dtype !== 'int64' || prod(c.type(1).shape) !== 1) c.fail('k must be an int64 scalar', 'invalid-model');
  c.out(c.emit1('Trilu', [c.in(0), reshapeTo(c, c.in(1), [])], { upper, k: 0 }));
});

onnxOp('ReverseSequence', (c) => {
  c.out(c.emit1('ReverseSequence', [c.in(0), c.in(1)], { batch_axis: c.int('batch_axis', 1), time_axis: c.int('time_axis', 0) }));
});

// ---------------------------------------------------------------- value-dependent shapes (constant inputs only)

onnxOp('NonZero', (c) => {
  const x = c.constOf(0);
  if (!x) return c.fail('the output shape depends on the input values (the IR is static-shaped); only a constant input is supported', 'dynamic-shape');
  const s = x.shape;
  const hits: number[] = [];
  for (let f = 0; f < x.data.length; f++) if (x.data[f] != 0) hits.push(f);
  const r = s.length;
  const out = new BigInt64Array(r * hits.length);
  hits.forEach((f, j) => {
    let rem = f;
    for (let i = r - 1; i >= 0; i--) { out[i * hits.length + j] = BigInt(rem % s[i]!); rem = Math.floor(rem / s[i]!); }
  });
  c.out(c.constant(hostTensor('int64', [r, hits.length], out), 'nonzero'));
});

onnxOp('Compress', (c) => {
  const cond = c.constOf(1);
  if (!cond) return c.fail('condition must be a constant (the output shape depends on it); the IR is static-shaped', 'dynamic-shape');
  const idx: number[] = [];
  for (let i = 0; i < cond.data.length; i++) if (cond.data[i] != 0) idx.push(i);
  let x = c.in(0);
  let axis: number;
  if (c.hasAttr('axis')) axis = axisOf(c, c.int('axis'), c.rank(0));
  else { x = reshapeTo(c, x, [prod(c.type(0).shape)]); axis = 0; }
  const d = c.b.typeOf(x).shape[axis]!;
  if (idx.some((i) => i >= d)) c.fail(`condition selects index ${idx[idx.length - 1]} beyond the axis size ${d}`, 'invalid-model');
  c.out(c.emit1('Gather', [x, c.constant(i64([idx.length], idx), 'indices')], { axis }));
});

onnxOp('Unique', (c) => {
  const x = c.constOf(0);
  if (!x) return c.fail('the output shape depends on the input values (the IR is static-shaped); only a constant input is supported', 'dynamic-shape');
  const sorted = c.int('sorted', 1) !== 0;
  const hasAxis = c.hasAttr('axis');
  const s = hasAxis ? [...x.shape] : [x.data.length];
  const axis = hasAxis ? axisOf(c, c.int('axis'), s.length) : 0;
  const outer = prod(s.slice(0, axis));
  const D = s[axis]!;
  const inner = prod(s.slice(axis + 1));
  const sliceOf = (k: number) => { const v: (number | bigint)[] = []; for (let o = 0; o < outer; o++) for (let q = 0; q < inner; q++) v.push(x.data[(o * D + k) * inner + q]!); return v; };
  const keyOf = (v: (number | bigint)[]) => v.map((e) => (Object.is(e, -0) ? '0' : String(e))).join(',');
  const firstOf = new Map<string, number>();
  const order: number[] = [];
  const inverseKeys: string[] = [];
  const counts = new Map<string, number>();
  for (let k = 0; k < D; k++) {
    const key = keyOf(sliceOf(k));
    inverseKeys.push(key);
    if (!firstOf.has(key)) { firstOf.set(key, k); order.push(k); }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (sorted) {
    order.sort((a, b) => {
      const [va, vb] = [sliceOf(a), sliceOf(b)];
      for (let i = 0; i < va.length; i++) if (va[i]! < vb[i]!) return -1; else if (va[i]! > vb[i]!) return 1;
      return 0;
    });
  }
  const pos = new Map(order.map((k, j) => [inverseKeys[k]!, j]));
  const ys = [...s];
  ys[axis] = order.length;
  const y = allocTyped(x.dtype, prod(ys)) as unknown as { [i: number]: number | bigint };
  order.forEach((k, j) => { for (let o = 0; o < outer; o++) for (let q = 0; q < inner; q++) y[(o * order.length + j) * inner + q] = x.data[(o * D + k) * inner + q]!; });
  c.out(
    c.constant(hostTensor(x.dtype, ys, y as unknown as Float32Array), 'Y'),
    c.constant(i64([order.length], order), 'indices'),
    c.constant(i64([D], inverseKeys.map((k) => pos.get(k)!)), 'inverse_indices'),
    c.constant(i64([order.length], order.map((k) => counts.get(inverseKeys[k]!)!)), 'counts'),
  );
});

