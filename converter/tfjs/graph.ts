/**
 * TensorFlow.js graph models (format 'graph-model'): modelTopology is a TF GraphDef in proto3 JSON
 * (nodes with op, input, attr), Const values come from the weights manifest by node name. Walks the
 * nodes the outputs depend on, refuses unsupported ops all at once, and lowers each TF op, NHWC
 * convolutions and pools through the NCHW IR ops.
 */
import type { DType, TensorId } from '../ir/types.ts';
import { numel, shape } from '../ir/types.ts';
import { GraphBuilder } from '../ir/builder.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostTensor, toNumbers } from '../ir/host-tensor.ts';
import { IrError } from '../ir/op-registry.ts';
import type { WarningSink } from '../errors.ts';
import { ConvertError } from '../errors.ts';
import type { Graph } from '../ir/types.ts';
import type { ModelJson } from './weights.ts';
import { loadWeights } from './weights.ts';
import { tfjsOpNote } from './tf-ops.ts';
import type { Padding } from './lower.ts';
import { fail, Lowerer, NodeError, parsePadding } from './lower.ts';

// ---------------------------------------------------------------- GraphDef JSON

interface TfShape {
  dim?: { size?: string | number }[];
  unknownRank?: boolean;
}

interface TfTensor {
  dtype?: string;
  tensorShape?: TfShape;
  tensorContent?: string;
  floatVal?: (number | string)[];
  intVal?: (number | string)[];
  int64Val?: (number | string)[];
  boolVal?: boolean[];
  halfVal?: (number | string)[];
  doubleVal?: (number | string)[];
}

interface TfList {
  s?: string[];
  i?: (string | number)[];
  f?: (number | string)[];
  b?: boolean[];
  type?: string[];
  shape?: TfShape[];
}

interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number | string;
  b?: boolean;
  type?: string;
  shape?: TfShape;
  tensor?: TfTensor;
  list?: TfList;
  func?: unknown;
}

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
  device?: string;
}

interface GraphDef {
  node?: TfNode[];
  library?: { function?: unknown[] };
  versions?: unknown;
}

interface SignatureEntry {
  name?: string;
  dtype?: string;
  tensorShape?: TfShape;
}

const TF_DTYPES: Record<string, DType | undefined> = {
  DT_FLOAT: 'float32', DT_INT32: 'int32', DT_INT64: 'int64', DT_BOOL: 'bool', DT_UINT8: 'uint8', DT_INT8: 'int8', DT_INT16: 'int16',
};

function decodeB64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

function num(v: string | number | undefined, dflt = 0): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  return n;
}

function shapeDims(s: TfShape | undefined): number[] | undefined {
  if (!s || s.unknownRank) return undefined;
  return (s.dim ?? []).map((d) => num(d.size, 0));
}

/** Attribute reader over one node's attr map (TF proto3 JSON: strings are base64, ints are strings). */
class AttrReader {
  constructor(private readonly attrs: Record<string, TfAttr>) {}
  has(k: string): boolean {
    return this.attrs[k] !== undefined;
  }
  str(k: string, dflt: string): string {
    const a = this.attrs[k];
    return a?.s !== undefined ? decodeB64(a.s) : dflt;
  }
  int(k: string, dflt: number): number {
    const a = this.attrs[k];
    return a?.i !== undefined ? num(a.i) : dflt;
  }
  float(k: string, dflt: number): number {
    const a = this.attrs[k];
    return a?.f !== undefined ? num(a.f) : dflt;
  }
  bool(k: string, dflt: boolean): boolean {
    const a = this.attrs[k];
    return a?.b !== undefined ? !!a.b : dflt;
  }
  type(k: string): string | undefined {
    return this.attrs[k]?.type;
  }
  ints(k: string, dflt: readonly number[]): number[] {
    const a = this.attrs[k];
    if (!a?.list) return [...dflt];
    return (a.list.i ?? []).map((x) => num(x));
  }
  strs(k: string): string[] {
    return (this.attrs[k]?.list?.s ?? []).map(decodeB64);
  }
  shape(k: string): number[] | undefined {
    return shapeDims(this.attrs[k]?.shape);
  }
  tensor(k: string): TfTensor | undefined {
    return this.attrs[k]?.tensor;
  }
}

/** An inline TensorProto (Const value) → host tensor. */
function decodeTfTensor(t: TfTensor): HostTensor {
  const dt = t.dtype ?? 'DT_FLOAT';
  const dtype = TF_DTYPES[dt];
  if (!dtype) fail(`constant of dtype ${dt}, which the IR does not carry`, 'dtype');
  const dims = shapeDims(t.tensorShape) ?? [];
  const n = numel(dims);
  if (t.tensorContent) {
    const buf = Buffer.from(t.tensorContent, 'base64');
    const bytes = new Uint8Array(buf.byteLength);
    bytes.set(buf);
    const view = dtype === 'float32' ? new Float32Array(bytes.buffer) : dtype === 'int32' ? new Int32Array(bytes.buffer) : dtype === 'int64' ? new BigInt64Array(bytes.buffer)
      : dtype === 'int16' ? new Int16Array(bytes.buffer) : dtype === 'int8' ? new Int8Array(bytes.buffer) : new Uint8Array(bytes.buffer);
    if (view.length !== n) fail(`tensor_content holds ${view.length} values for shape [${dims.join(',')}]`, 'invalid-model');
    return hostTensor(dtype, dims, view);
  }
  const vals: (number | bigint)[] = dtype === 'float32' ? (t.floatVal ?? []).map((v) => num(v))
    : dtype === 'int64' ? (t.int64Val ?? []).map((v) => BigInt(v))
    : dtype === 'bool' ? (t.boolVal ?? []).map((v) => (v ? 1 : 0))
    : (t.intVal ?? []).map((v) => num(v));
  if (vals.length === 0 && n > 0) vals.push(dtype === 'int64' ? 0n : 0);
  const full: (number | bigint)[] = [];
  for (let i = 0; i < n; i++) full.push(vals[Math.min(i, vals.length - 1)]!);
  return hostTensor(dtype, dims, full);
}

// ---------------------------------------------------------------- per-node context

class TfContext {
  readonly a: AttrReader;
  constructor(readonly node: TfNode, readonly L: Lowerer, private readonly inputs: TensorId[]) {
    this.a = new AttrReader(node.attr ?? {});
  }
  get n(): number {
    return this.inputs.length;
  }
  in(i: number): TensorId {
    const x = this.inputs[i];
    if (x === undefined) fail(`needs input ${i}, has ${this.inputs.length}`, 'invalid-model');
    return x;
  }
  ins(from = 0, to = this.inputs.length): TensorId[] {
    return this.inputs.slice(from, to);
  }
  shape(i: number): readonly number[] {
    return this.L.shapeOf(this.in(i));
  }
  rank(i: number): number {
    return this.shape(i).length;
  }
  dtype(i: number): DType {
    return this.L.b.typeOf(this.in(i)).dtype;
  }
  constOf(i: number): HostTensor | undefined {
    return this.L.b.constValue(this.in(i));
  }
  constInts(i: number, what: string): number[] {
    const v = this.constOf(i);
    if (!v) return fail(`${what} (input ${i}) must be a constant: shapes are static in the IR`, 'dynamic-shape');
    return toNumbers(v);
  }
  emit(op: string, ins: readonly TensorId[], attrs: Record<string, number | string | readonly number[]> = {}, suffix?: string): TensorId {
    return this.L.emit(op, ins, attrs, suffix);
  }
  dataFormat(): 'NHWC' | 'NCHW' {
    const f = this.a.str('data_format', 'NHWC');
    if (f !== 'NHWC' && f !== 'NCHW') fail(`data_format '${f}' is not supported`);
    return f;
  }
  requireNHWC(): void {
    if (this.dataFormat() !== 'NHWC') fail("data_format 'NCHW' is not supported (TensorFlow.js graph models use NHWC)");
  }
  /** strides/dilations/ksize attribute [1, h, w, 1] → [h, w]. */
  hw(k: string, dflt: readonly number[]): number[] {
    const v = this.a.ints(k, dflt);
    if (v.length === 0) return [1, 1];
    if (v.length !== 4) fail(`${k} must have 4 entries, got [${v.join(',')}]`, 'invalid-model');
    if (v[0] !== 1 || v[3] !== 1) fail(`${k} [${v.join(',')}] over the batch or channel axis is not supported`);
    return [v[1]!, v[2]!];
  }
  padding(): Padding {
    const p = this.a.str('padding', 'VALID');
    if (p === 'EXPLICIT') {
      const e = this.a.ints('explicit_paddings', []);
      if (e.length !== 8) fail(`explicit_paddings must have 8 entries, got [${e.join(',')}]`, 'invalid-model');
      if (e[0] || e[1] || e[6] || e[7]) fail('explicit padding of the batch or channel axis is not supported');
      return { kind: 'EXPLICIT', pads: [e[2]!, e[3]!, e[4]!, e[5]!] };
    }
    return parsePadding(p);
  }
}

type Handler = (c: TfContext) => TensorId | (TensorId | undefined)[];

const handlers = new Map<string, Handler>();
function op(names: string | string[], h: Handler): void {
  for (const n of typeof names === 'string' ? [names] : names) handlers.set(n, h);
}

/** Ops lowered by this front-end (for messages and tests). */
export function supportedTfOps(): string[] {
  return [...handlers.keys(), 'Placeholder', 'Const', 'PlaceholderWithDefault'].sort();
}

// ---------------------------------------------------------------- shape helpers

function normAxis(a: number, r: number, what = 'axis'): number {
  const x = a < 0 ? a + r : a;
  if (x < 0 || x >= r) fail(`${what} ${a} is out of range for rank ${r}`, 'invalid-model');
  return x;
}

function reduceAxes(c: TfContext): number[] {
  const r = c.rank(0);
  const ax = c.constInts(1, 'reduction axes');
  return [...new Set(ax.map((a) => normAxis(a, r)))].sort((p, q) => p - q);
}

/** Channel-vector parameter [C] (or [1,1,C], [1,C]) as [C, 1, 1] for broadcasting over NCHW. */
function channelNCHW(c: TfContext, t: TensorId, ch: number): TensorId {
  if (numel(c.L.shapeOf(t)) !== ch) fail(`per-channel parameter of shape [${c.L.shapeOf(t).join(',')}] does not match ${ch} channels`, 'invalid-model');
  return c.L.reshape(t, [ch, 1, 1], 'channel_reshape');
}

function channelVector(c: TfContext, t: TensorId, ch: number): TensorId {
  if (numel(c.L.shapeOf(t)) !== ch) fail(`per-channel parameter of shape [${c.L.shapeOf(t).join(',')}] does not match ${ch} channels`, 'invalid-model');
  return c.L.reshape(t, [ch], 'channel_reshape');
}

/** Activation named in fused_ops, applied to an NCHW (channelAxis 1) or NC tensor. */
function fusedActivation(c: TfContext, y: TensorId, act: string | undefined, prelu: TensorId | undefined, nchw: boolean): TensorId {
  if (act === undefined) return y;
  const ch = c.L.shapeOf(y)[nchw ? 1 : c.L.rank(y) - 1]!;
  switch (act.toLowerCase()) {
    case 'relu': case 'relu6': case 'elu': case 'sigmoid': case 'tanh':
      return c.L.activation(y, act);
    case 'leakyrelu':
      return c.L.activation(y, 'leakyrelu', { alpha: c.a.float('leakyrelu_alpha', 0.2) });
    case 'prelu': {
      if (prelu === undefined) return fail('fused Prelu needs its alpha argument', 'invalid-model');
      const alpha = nchw ? channelNCHW(c, prelu, ch) : channelVector(c, prelu, ch);
      return c.L.activation(y, 'prelu', { prelu: alpha });
    }
    default:
      return fail(`fused activation '${act}' is not supported (Relu, Relu6, Elu, LeakyRelu, Sigmoid, Tanh, Prelu)`);
  }
}

// ---------------------------------------------------------------- convolutions

function convOp(depthwise: boolean, fused: boolean): Handler {
  return (c) => {
    c.requireNHWC();
    const strides = c.hw('strides', [1, 1, 1, 1]);
    const dilations = c.hw('dilations', [1, 1, 1, 1]);
    const padding = c.padding();
    const fusedOps = fused ? c.a.strs('fused_ops') : [];
    const args = fused ? c.ins(2) : [];
    let bias: TensorId | undefined;
    let bn: TensorId[] | undefined;
    let act: string | undefined;
    let k = 0;
    for (const f of fusedOps.map((o) => o.toLowerCase())) {
      if (f === 'biasadd' && bias === undefined && bn === undefined) bias = args[k++];
      else if ((f === 'fusedbatchnorm' || f === 'fusedbatchnormv3') && bias === undefined && bn === undefined) bn = args.slice(k, (k += 4));
      else if (act === undefined && f !== 'biasadd') act = f;
      else fail(`fused_ops [${fusedOps.join(', ')}] is not a supported combination`);
    }
    const prelu = act === 'prelu' ? args[k++] : undefined;
    if (k > args.length) fail(`fused_ops [${fusedOps.join(', ')}] needs ${k} extra inputs, the node has ${args.length}`, 'invalid-model');
    const cout = depthwise ? c.shape(1)[2]! * c.shape(1)[3]! : c.shape(1)[3]!;
    let y = c.L.conv2d(c.in(0), c.in(1), { strides, dilations, padding, depthwise, bias: bias === undefined ? undefined : channelVector(c, bias, cout) });
    if (bn) {
      if (bn.length !== 4) fail('fused FusedBatchNorm needs scale, offset, mean and variance arguments', 'invalid-model');
      y = c.L.batchNorm(y, ...(bn.map((t) => channelVector(c, t, cout)) as [TensorId, TensorId, TensorId, TensorId]), c.a.float('epsilon', 0.0001), 1);
    }
    y = fusedActivation(c, y, act, prelu, true);
    return c.L.toNHWC(y);
  };
}

op('Conv2D', convOp(false, false));
op('_FusedConv2D', convOp(false, true));
op(['DepthwiseConv2dNative', 'DepthwiseConv2D'], convOp(true, false));
op('FusedDepthwiseConv2dNative', convOp(true, true));

function poolOp(kind: 'max' | 'avg'): Handler {
  return (c) => {
    c.requireNHWC();
    const y = c.L.pool2d(kind, c.in(0), { kernel: c.hw('ksize', [1, 1, 1, 1]), strides: c.hw('strides', [1, 1, 1, 1]), padding: c.padding() });
    return c.L.toNHWC(y);
  };
}
op('MaxPool', poolOp('max'));
op('AvgPool', poolOp('avg'));

function batchNormOp(c: TfContext): (TensorId | undefined)[] {
  if (c.a.bool('is_training', false)) fail('is_training = true (training-mode batch statistics) is not supported; export the model for inference');
  const r = c.rank(0);
  const axis = c.dataFormat() === 'NHWC' ? r - 1 : 1;
  const ch = c.shape(0)[axis]!;
  const ps = [1, 2, 3, 4].map((i) => channelVector(c, c.in(i), ch)) as [TensorId, TensorId, TensorId, TensorId];
  const y = c.L.batchNorm(c.in(0), ...ps, c.a.float('epsilon', 0.0001), axis);
  return [y];
}
op(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3'], batchNormOp);

// ---------------------------------------------------------------- matmul

function matmulOp(fused: boolean, batch: boolean): Handler {
  return (c) => {
    const ta = c.a.bool(batch ? 'adj_x' : 'transpose_a', false);
    const tb = c.a.bool(batch ? 'adj_y' : 'transpose_b', false);
    const swapLast = (x: TensorId): TensorId => {
      const r = c.L.rank(x);
      if (r < 2) fail('a transposed MatMul operand must have rank ≥ 2', 'invalid-model');
      return c.L.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2], 'transpose_operand');
    };
    const a = ta ? swapLast(c.in(0)) : c.in(0);
    const b = tb ? swapLast(c.in(1)) : c.in(1);
    let y = c.emit('MatMul', [a, b], {}, 'matmul');
    if (!fused) return y;
    const fusedOps = c.a.strs('fused_ops');
    const args = c.ins(2);
    let k = 0;
    let act: string | undefined;
    for (const f of fusedOps.map((o) => o.toLowerCase())) {
      if (f === 'biasadd' && k === 0) y = c.emit('Add', [y, args[k++] ?? fail('fused BiasAdd needs its bias argument', 'invalid-model')], {}, 'bias_add');
      else if (act === undefined && f !== 'biasadd') act = f;
      else fail(`fused_ops [${fusedOps.join(', ')}] is not a supported combination`);
    }
    return fusedActivation(c, y, act, act === 'prelu' ? args[k] : undefined, false);
  };
}
op('MatMul', matmulOp(false, false));
op('_FusedMatMul', matmulOp(true, false));
op(['BatchMatMul', 'BatchMatMulV2'], matmulOp(false, true));

op('BiasAdd', (c) => {
  const r = c.rank(0);
  if (c.dataFormat() === 'NHWC' || r < 3) return c.L.binary('Add', c.in(0), c.in(1));
  const ch = c.shape(0)[1]!;
  return c.emit('Add', [c.in(0), c.L.reshape(c.in(1), [ch, ...Array<number>(r - 2).fill(1)])]);
});

// ---------------------------------------------------------------- elementwise

const BINARY: Record<string, string> = { Add: 'Add', AddV2: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', Maximum: 'Max', Minimum: 'Min', Pow: 'Pow' };
for (const [tf, ir] of Object.entries(BINARY)) op(tf, (c) => c.L.binary(ir, c.in(0), c.in(1)));
op('Div', (c) => {
  if (c.dtype(0) !== 'float32') fail(`integer Div (floor division) on ${c.dtype(0)} is not supported`, 'dtype');
  return c.L.binary('Div', c.in(0), c.in(1));
});
op('AddN', (c) => c.ins().reduce((acc, x) => c.L.binary('Add', acc, x)));
op('SquaredDifference', (c) => {
  const d = c.L.binary('Sub', c.in(0), c.in(1), 'sub');
  return c.L.binary('Mul', d, d);
});
op('Square', (c) => c.L.binary('Mul', c.in(0), c.in(0)));
op('Rsqrt', (c) => c.L.unary('Reciprocal', c.L.unary('Sqrt', c.in(0), {}, 'sqrt')));

const UNARY: Record<string, string> = {
  Relu: 'Relu', Sigmoid: 'Sigmoid', Tanh: 'Tanh', Softplus: 'Softplus', Softsign: 'Softsign', Sqrt: 'Sqrt', Reciprocal: 'Reciprocal',
  Neg: 'Neg', Abs: 'Abs', Exp: 'Exp', Log: 'Log', Floor: 'Floor', Ceil: 'Ceil', Erf: 'Erf', Sin: 'Sin', Cos: 'Cos', Tan: 'Tan',
  Asin: 'Asin', Acos: 'Acos', Atan: 'Atan', Sinh: 'Sinh', Cosh: 'Cosh', Asinh: 'Asinh', Acosh: 'Acosh', Atanh: 'Atanh', IsNan: 'IsNaN',
};
for (const [tf, ir] of Object.entries(UNARY)) op(tf, (c) => c.L.unary(ir, c.in(0)));
op('Relu6', (c) => c.L.activation(c.in(0), 'relu6'));
op('Elu', (c) => c.L.activation(c.in(0), 'elu'));
op('Selu', (c) => c.L.activation(c.in(0), 'selu'));
op('LeakyRelu', (c) => c.L.activation(c.in(0), 'leakyrelu', { alpha: c.a.float('alpha', 0.2) }));
op('Prelu', (c) => c.L.binary('PRelu', c.in(0), c.in(1)));
op('Softmax', (c) => c.L.activation(c.in(0), 'softmax', { axis: c.rank(0) - 1 }));
op('LogSoftmax', (c) => c.L.activation(c.in(0), 'log_softmax', { axis: c.rank(0) - 1 }));
op(['Identity', 'StopGradient', 'Snapshot', 'PreventGradient', 'EnsureShape', 'CheckNumerics'], (c) => c.in(0));
op('IdentityN', (c) => c.ins());
op('Cast', (c) => {
  const t = c.a.type('DstT') ?? 'DT_FLOAT';
  const to = TF_DTYPES[t];
  if (!to) fail(`Cast to ${t}, which the IR does not carry`, 'dtype');
  if (to === c.dtype(0)) return c.in(0);
  return c.emit('Cast', [c.in(0)], { to });
});

// ---------------------------------------------------------------- reductions

const REDUCE: Record<string, string> = { Mean: 'ReduceMean', Sum: 'ReduceSum', Max: 'ReduceMax', Min: 'ReduceMin', Prod: 'ReduceProd' };
for (const [tf, ir] of Object.entries(REDUCE)) {
  op(tf, (c) => {
    const axes = reduceAxes(c);
    if (axes.length === 0) return c.in(0);
    return c.L.reduce(ir, c.in(0), axes, c.a.bool('keep_dims', false));
  });
}

// ---------------------------------------------------------------- shapes and data movement

op('Reshape', (c) => {
  const req = c.constInts(1, 'the target shape');
  const total = numel(c.shape(0));
  const known = req.filter((d) => d !== -1);
  const unknown = req.length - known.length;
  if (unknown > 1) fail(`shape [${req.join(',')}] has more than one -1`, 'invalid-model');
  const dims = req.map((d) => (d === -1 ? total / Math.max(1, numel(known)) : d));
  if (!dims.every((d) => Number.isInteger(d) && d >= 0) || numel(dims) !== total) fail(`cannot reshape [${c.shape(0).join(',')}] to [${req.join(',')}]`, 'invalid-model');
  return c.L.reshape(c.in(0), dims);
});

op('Squeeze', (c) => {
  const s = c.shape(0);
  const axes = c.a.ints('squeeze_dims', c.a.ints('axis', [])).map((a) => normAxis(a, s.length));
  const dims = s.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1));
  axes.forEach((a) => { if (s[a] !== 1) fail(`cannot squeeze axis ${a} of size ${s[a]}`, 'invalid-model'); });
  return c.L.reshape(c.in(0), dims);
});

op('ExpandDims', (c) => {
  const s = [...c.shape(0)];
  const [d] = c.constInts(1, 'dim');
  const a = normAxis(d!, s.length + 1);
  s.splice(a, 0, 1);
  return c.L.reshape(c.in(0), s);
});

op('ConcatV2', (c) => {
  const [axis] = c.constInts(c.n - 1, 'axis');
  return c.L.concat(c.ins(0, c.n - 1), normAxis(axis!, c.rank(0)));
});
op('Concat', (c) => {
  const [axis] = c.constInts(0, 'axis');
  return c.L.concat(c.ins(1), normAxis(axis!, c.rank(1)));
});

op('Pack', (c) => {
  const s = [...c.shape(0)];
  const axis = normAxis(c.a.int('axis', 0), s.length + 1);
  s.splice(axis, 0, 1);
  const xs = c.ins().map((x) => c.L.reshape(x, s, 'expand'));
  return xs.length === 1 ? xs[0]! : c.emit('Concat', xs, { axis });
});

op('Transpose', (c) => {
  const perm = c.constInts(1, 'perm').map((p) => normAxis(p, c.rank(0)));
  return c.L.transpose(c.in(0), perm);
});

function padOp(mode: 'constant' | 'mirror'): Handler {
  return (c) => {
    const r = c.rank(0);
    const p = c.constInts(1, 'paddings');
    if (p.length !== 2 * r) fail(`paddings must be [${r}, 2], got ${p.length} values`, 'invalid-model');
    const pads = [...Array.from({ length: r }, (_, i) => p[2 * i]!), ...Array.from({ length: r }, (_, i) => p[2 * i + 1]!)];
    let irMode = 'constant';
    if (mode === 'mirror') {
      const m = c.a.str('mode', 'REFLECT');
      if (m !== 'REFLECT') fail(`MirrorPad mode '${m}' is not supported (REFLECT only)`);
      irMode = 'reflect';
    }
    const dt = c.dtype(0);
    const value = c.n > 2 ? c.L.reshape(c.in(2), [], 'pad_value') : c.L.scalar(0, dt);
    return c.L.pad(c.in(0), pads, value, irMode);
  };
}
op(['Pad', 'PadV2'], padOp('constant'));
op('MirrorPad', padOp('mirror'));

op('Shape', (c) => {
  const t = c.a.type('out_type') ?? 'DT_INT32';
  const dt = t === 'DT_INT64' ? 'int64' : 'int32';
  const s = c.shape(0);
  return c.L.constant(`${c.node.name}`, hostTensor(dt, [s.length], dt === 'int64' ? s.map((d) => BigInt(d)) : [...s]));
});

op('Slice', (c) => {
  const s = c.shape(0);
  const begin = c.constInts(1, 'begin');
  const size = c.constInts(2, 'size');
  const ends = s.map((d, i) => (size[i] === -1 ? d : begin[i]! + size[i]!));
  return c.emit('Slice', [c.in(0)], { starts: begin, ends, steps: s.map(() => 1) });
});

op('StridedSlice', (c) => {
  const s = c.shape(0);
  const r = s.length;
  const begin = c.constInts(1, 'begin');
  const end = c.constInts(2, 'end');
  const strides = c.n > 3 ? c.constInts(3, 'strides') : begin.map(() => 1);
  const bit = (m: string, i: number): boolean => ((c.a.int(m, 0) >> i) & 1) === 1;
  const starts: number[] = [], ends: number[] = [], steps: number[] = [];
  const final: number[] = [];
  let d = 0;
  const full = (): void => {
    starts.push(0); ends.push(s[d]!); steps.push(1); final.push(s[d]!); d++;
  };
  const n = begin.length;
  for (let i = 0; i < n; i++) {
    if (bit('ellipsis_mask', i)) {
      let later = 0;
      for (let j = i + 1; j < n; j++) if (!bit('new_axis_mask', j) && !bit('ellipsis_mask', j)) later++;
      while (d < r - later) full();
      continue;
    }
    if (bit('new_axis_mask', i)) { final.push(1); continue; }
    if (d >= r) fail(`slice spec has more entries than the input's rank ${r}`, 'invalid-model');
    const D = s[d]!;
    const st = strides[i]!;
    if (st === 0) fail('stride 0', 'invalid-model');
    const norm = (v: number): number => (v < 0 ? v + D : v);
    if (bit('shrink_axis_mask', i)) {
      const idx = norm(begin[i]!);
      if (idx < 0 || idx >= D) fail(`index ${begin[i]} is out of range for axis ${d} of size ${D}`, 'invalid-model');
      starts.push(idx); ends.push(idx + 1); steps.push(1); d++;
      continue;
    }
    let a: number, b: number;
    if (st > 0) {
      a = bit('begin_mask', i) ? 0 : Math.min(Math.max(norm(begin[i]!), 0), D);
      b = bit('end_mask', i) ? D : Math.min(Math.max(norm(end[i]!), 0), D);
    } else {
      a = bit('begin_mask', i) ? D - 1 : Math.min(Math.max(norm(begin[i]!), -1), D - 1);
      b = bit('end_mask', i) ? -1 : Math.min(Math.max(norm(end[i]!), -1), D - 1);
      if (a < 0) { a = 0; b = 0; }
    }
    starts.push(a); ends.push(b); steps.push(st);
    final.push(Math.max(0, Math.ceil((b - a) / st)));
    d++;
  }
  while (d < r) full();
  const y = c.emit('Slice', [c.in(0)], { starts, ends, steps }, 'slice');
  return c.L.reshape(y, final);
});

op('Fill', (c) => {
  const dims = c.constInts(0, 'dims');
  const v = c.constOf(1);
  if (!v) return fail('the fill value must be a constant', 'dynamic-shape');
  return c.emit('Expand', [c.L.reshape(c.in(1), [], 'scalar')], { shape: dims });
});

// ---------------------------------------------------------------- more ops

op('Conv2DBackpropInput', (c) => {
  c.requireNHWC();
  const outShape = c.constInts(0, 'output_shape');
  const y = c.L.convTranspose2d(c.in(2), c.in(1), { strides: c.hw('strides', [1, 1, 1, 1]), dilations: c.hw('dilations', [1, 1, 1, 1]), padding: c.padding(), outHW: [outShape[1]!, outShape[2]!] });
  const out = c.L.toNHWC(y);
  const s = c.L.shapeOf(out);
  if (outShape.some((d, i) => d !== s[i] && !(i === 0 && d === -1))) fail(`output_shape [${outShape.join(',')}] differs from the computed [${s.join(',')}]`, 'invalid-model');
  return out;
});

function resizeOp(mode: 'nearest' | 'linear'): Handler {
  return (c) => {
    const size = c.constInts(1, 'size');
    return c.L.resize2d(c.in(0), size, mode, c.a.bool('align_corners', false), c.a.bool('half_pixel_centers', false));
  };
}
op('ResizeNearestNeighbor', resizeOp('nearest'));
op('ResizeBilinear', resizeOp('linear'));

op(['GatherV2', 'Gather'], (c) => {
  if (c.a.int('batch_dims', 0) !== 0) fail('batch_dims ≠ 0 is not supported');
  const axis = c.node.op === 'Gather' ? 0 : normAxis(c.constInts(2, 'axis')[0]!, c.rank(0));
  return c.emit('Gather', [c.in(0), c.in(1)], { axis });
});

// TF GatherNd is ONNX GatherND with batch_dims = 0 (MoveNet picks its keypoints with it); int32 indices are fine.
op('GatherNd', (c) => c.emit('GatherND', [c.in(0), c.in(1)], { batch_dims: 0 }));

op('Tile', (c) => c.emit('Tile', [c.in(0)], { repeats: c.constInts(1, 'multiples') }));

function splitSizes(c: TfContext, axis: number, sizes: number[]): TensorId[] {
  const d = c.shape(0)[axis]!;
  const unknown = sizes.indexOf(-1);
  if (unknown >= 0) sizes[unknown] = d - sizes.reduce((a, v, i) => (i === unknown ? a : a + v), 0);
  return c.L.b.emit('Split', [c.in(0)], { axis, splits: sizes }, { name: c.node.name });
}
op('Split', (c) => {
  const r = c.rank(1);
  const axis = normAxis(c.constInts(0, 'axis')[0]!, r);
  const n = c.a.int('num_split', 1);
  const d = c.L.shapeOf(c.in(1))[axis]!;
  if (d % n !== 0) fail(`axis ${axis} of size ${d} does not split into ${n} equal parts`, 'invalid-model');
  return c.L.b.emit('Split', [c.in(1)], { axis, splits: Array<number>(n).fill(d / n) }, { name: c.node.name });
});
op('SplitV', (c) => splitSizes(c, normAxis(c.constInts(2, 'axis')[0]!, c.rank(0)), c.constInts(1, 'size_splits')));
op('Unpack', (c) => {
  const s = c.shape(0);
  const axis = normAxis(c.a.int('axis', 0), s.length);
  const parts = c.L.b.emit('Split', [c.in(0)], { axis, splits: Array<number>(s[axis]!).fill(1) }, { name: `${c.node.name}/split` });
  return parts.map((p) => c.L.reshape(p, s.filter((_, i) => i !== axis), 'squeeze'));
});

op('ArgMax', (c) => {
  const axis = normAxis(c.constInts(1, 'dimension')[0]!, c.rank(0));
  const y = c.emit('ArgMax', [c.in(0)], { axis, keepdims: 0, select_last_index: 0 });
  return (c.a.type('output_type') ?? 'DT_INT64') === 'DT_INT32' ? c.emit('Cast', [y], { to: 'int32' }, 'cast') : y;
});
op('ArgMin', (c) => {
  const axis = normAxis(c.constInts(1, 'dimension')[0]!, c.rank(0));
  const y = c.emit('ArgMin', [c.in(0)], { axis, keepdims: 0, select_last_index: 0 });
  return (c.a.type('output_type') ?? 'DT_INT64') === 'DT_INT32' ? c.emit('Cast', [y], { to: 'int32' }, 'cast') : y;
});

const COMPARE: Record<string, string> = {
  Greater: 'Greater', GreaterEqual: 'GreaterOrEqual', Less: 'Less', LessEqual: 'LessOrEqual', Equal: 'Equal',
  LogicalAnd: 'And', LogicalOr: 'Or',
};
for (const [tf, ir] of Object.entries(COMPARE)) op(tf, (c) => c.emit(ir, [c.in(0), c.in(1)]));
op('NotEqual', (c) => c.emit('Not', [c.emit('Equal', [c.in(0), c.in(1)], {}, 'equal')]));
op('LogicalNot', (c) => c.emit('Not', [c.in(0)]));
op(['Select', 'SelectV2'], (c) => {
  let cond = c.in(0);
  // TF1 Select with a vector condition picks whole rows.
  if (c.node.op === 'Select' && c.rank(0) === 1 && c.rank(1) > 1) cond = c.L.reshape(cond, [c.shape(0)[0]!, ...Array<number>(c.rank(1) - 1).fill(1)]);
  return c.emit('Where', [cond, c.in(1), c.in(2)]);
});
op('ClipByValue', (c) => c.emit('Clip', [c.in(0), c.L.reshape(c.in(1), [], 'lo'), c.L.reshape(c.in(2), [], 'hi')]));
op('Round', (c) => c.emit('Round', [c.in(0)]));
op('Sign', (c) => c.emit('Sign', [c.in(0)]));
op(['ZerosLike', 'OnesLike'], (c) => {
  const t = c.L.b.typeOf(c.in(0));
  const v = hostTensor(t.dtype, t.shape);
  if (c.node.op === 'OnesLike') {
    if (v.data instanceof BigInt64Array || v.data instanceof BigUint64Array) v.data.fill(1n);
    else v.data.fill(1);
  }
  return c.L.constant(c.node.name, v);
});
op('Range', (c) => {
  const [start] = c.constInts(0, 'start'), [limit] = c.constInts(1, 'limit'), [delta] = c.constInts(2, 'delta');
  if (!delta) fail('delta 0', 'invalid-model');
  const vals: number[] = [];
  for (let v = start!; delta! > 0 ? v < limit! : v > limit!; v += delta!) vals.push(v);
  const dt = c.dtype(0);
  if (dt !== 'int32' && dt !== 'float32' && dt !== 'int64') fail(`Range of ${dt} is not supported`, 'dtype');
  return c.L.constant(c.node.name, hostTensor(dt, [vals.length], dt === 'int64' ? vals.map((v) => BigInt(v)) : vals));
});

op('FloorMod', (c) => c.emit('Mod', [c.in(0), c.in(1)], { fmod: 0 }));
op('FloorDiv', (c) => {
  if (c.dtype(0) !== 'float32') {
    // Integers: floor(a / b) = (a − a mod b) / b with the floor modulo (sign of b), so the division is exact.
    const r = c.emit('Mod', [c.in(0), c.in(1)], { fmod: 0 }, 'mod');
    return c.L.binary('Div', c.L.binary('Sub', c.in(0), r, 'sub'), c.in(1), 'div');
  }
  return c.L.unary('Floor', c.L.binary('Div', c.in(0), c.in(1), 'div'));
});
op('Cumsum', (c) => c.emit('CumSum', [c.in(0)], { axis: normAxis(c.constInts(1, 'axis')[0]!, c.rank(0)), exclusive: c.a.bool('exclusive', false) ? 1 : 0, reverse: c.a.bool('reverse', false) ? 1 : 0 }));
op('TopKV2', (c) => {
  const [k] = c.constInts(1, 'k');
  const [values, indices] = c.L.b.emit('TopK', [c.in(0)], { axis: c.rank(0) - 1, k: k!, largest: 1 }, { name: c.node.name });
  return [values!, c.emit('Cast', [indices!], { to: 'int32' }, 'indices')];
});
op('ReverseV2', (c) => {
  const s = c.shape(0);
  const axes = c.constInts(1, 'axis').map((a) => normAxis(a, s.length));
  if (axes.length === 0) return c.in(0);
  return c.emit('Slice', [c.in(0)], {
    starts: s.map((d, i) => (axes.includes(i) ? d - 1 : 0)), ends: s.map((d, i) => (axes.includes(i) ? -1 : d)), steps: s.map((_, i) => (axes.includes(i) ? -1 : 1)),
  });
});
op('BroadcastTo', (c) => {
  const target = c.constInts(1, 'shape');
  const s = c.shape(0);
  const r = Math.max(target.length, s.length);
  const pad = (v: readonly number[]) => [...Array<number>(r - v.length).fill(1), ...v];
  const out = pad(target).map((d, i) => Math.max(d, pad(s)[i]!));
  return c.emit('Expand', [c.in(0)], { shape: out });
});
op('DepthToSpace', (c) => {
  c.requireNHWC();
  const [n, h, w, ch] = c.shape(0) as [number, number, number, number];
  const bs = c.a.int('block_size', 2);
  if (ch % (bs * bs) !== 0) fail(`channels ${ch} are not divisible by block_size² = ${bs * bs}`, 'invalid-model');
  const t = c.L.transpose(c.L.reshape(c.in(0), [n, h, w, bs, bs, ch / (bs * bs)]), [0, 1, 3, 2, 4, 5]);
  return c.L.reshape(t, [n, h * bs, w * bs, ch / (bs * bs)], 'reshape_out');
});

// ---------------------------------------------------------------- the walk

function parseRef(ref: string): { node: string; index: number; control: boolean } {
  if (ref.startsWith('^')) return { node: ref.slice(1), index: 0, control: true };
  const m = /^(.*):(\d+)$/.exec(ref);
  if (m) return { node: m[1]!, index: Number(m[2]), control: false };
  return { node: ref, index: 0, control: false };
}

const SOURCE_OPS = new Set(['Placeholder', 'Const', 'PlaceholderWithDefault']);
const SKIP_OPS = new Set(['NoOp']);

export function importGraphModel(file: string, model: ModelJson, opts: { inputShapes?: ReadonlyMap<string, readonly number[]>; warnings?: WarningSink }): Graph {
  const warnings = opts.warnings ?? { warn: () => {} };
  const gd = model.modelTopology as GraphDef;
  if (!Array.isArray(gd.node)) throw new ConvertError(`${file}: graph model without a 'modelTopology.node' list`, 'malformed');
  const nodes = new Map<string, TfNode>();
  for (const n of gd.node) {
    if (!n || typeof n.name !== 'string' || typeof n.op !== 'string') throw new ConvertError(`${file}: a GraphDef node without name or op: ${JSON.stringify(n).slice(0, 120)}`, 'malformed');
    nodes.set(n.name, n);
  }
  const init = model.modelInitializer as GraphDef | undefined;
  if (init && Array.isArray(init.node) && init.node.length) throw new ConvertError(`${file}: models with a modelInitializer (hash tables) are not supported`, 'unsupported-op');

  // Outputs: the signature's, else every node nobody consumes.
  const sig = (model.signature ?? {}) as { inputs?: Record<string, SignatureEntry>; outputs?: Record<string, SignatureEntry> };
  let outRefs: string[] = Object.values(sig.outputs ?? {}).map((e) => e.name ?? '').filter(Boolean);
  if (outRefs.length === 0) {
    const consumed = new Set<string>();
    for (const n of gd.node) for (const i of n.input ?? []) consumed.add(parseRef(i).node);
    outRefs = gd.node.filter((n) => !consumed.has(n.name) && !SOURCE_OPS.has(n.op) && !SKIP_OPS.has(n.op)).map((n) => n.name);
  }
  if (outRefs.length === 0) throw new ConvertError(`${file}: the graph has no outputs`, 'invalid-model');

  // Topological order of the nodes the outputs need (iterative DFS; control inputs ignored).
  const order: TfNode[] = [];
  const state = new Map<string, 1 | 2>();
  const unknownRefs: string[] = [];
  for (const root of outRefs.map((r) => parseRef(r).node)) {
    const stack: [string, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [name, i] = top;
      const n = nodes.get(name);
      if (!n) { unknownRefs.push(name); stack.pop(); continue; }
      if (i === 0) {
        if (state.get(name) === 2) { stack.pop(); continue; }
        if (state.get(name) === 1 && i === 0) throw new ConvertError(`${file}: the graph has a cycle through '${name}' (control flow is not supported)`, 'unsupported-op');
        state.set(name, 1);
      }
      const ins = (n.input ?? []).map(parseRef).filter((r) => !r.control);
      if (i < ins.length) {
        top[1]++;
        const child = ins[i]!.node;
        if (state.get(child) === 1) throw new ConvertError(`${file}: the graph has a cycle through '${child}' (control flow is not supported)`, 'unsupported-op');
        if (state.get(child) !== 2) stack.push([child, 0]);
      } else {
        state.set(name, 2);
        order.push(n);
        stack.pop();
      }
    }
  }
  if (unknownRefs.length) throw new ConvertError(`${file}: inputs refer to nodes that do not exist: ${[...new Set(unknownRefs)].join(', ')}`, 'invalid-model');

  // Refuse unsupported ops all at once.
  const missing = new Map<string, string[]>();
  for (const n of order) {
    if (SOURCE_OPS.has(n.op) || handlers.has(n.op)) continue;
    const l = missing.get(n.op) ?? [];
    l.push(n.name);
    missing.set(n.op, l);
  }
  if (missing.size) {
    const details = [...missing].sort(([a], [b]) => a.localeCompare(b)).map(([o, ns]) =>
      `${o}: ${tfjsOpNote(o) ? tfjsOpNote(o) + '; ' : ''}used by ${ns.slice(0, 3).map((x) => `'${x}'`).join(', ')}${ns.length > 3 ? ` and ${ns.length - 3} more` : ''}`);
    throw new ConvertError(`${file}: ${missing.size} unsupported TensorFlow op type${missing.size > 1 ? 's' : ''}:`, 'unsupported-op', details);
  }

  const badWeights = new Map<string, string>();
  const weights = loadWeights(file, model.weightsManifest ?? [], badWeights);
  const b = new GraphBuilder();
  const L = new Lowerer(b);
  const values = new Map<string, (TensorId | undefined)[]>();

  // Inputs.
  const sigIn = new Map<string, SignatureEntry>();
  for (const e of Object.values(sig.inputs ?? {})) if (e.name) sigIn.set(parseRef(e.name).node, e);
  const used = new Set<string>();
  const dynamic: string[] = [];
  for (const n of order) {
    if (n.op !== 'Placeholder') continue;
    const a = new AttrReader(n.attr ?? {});
    const dt = a.type('dtype') ?? sigIn.get(n.name)?.dtype ?? 'DT_FLOAT';
    const dtype = TF_DTYPES[dt];
    if (!dtype) throw new ConvertError(`${file}: input '${n.name}' has dtype ${dt}, which the IR does not carry (float32, int8/16/32/64, uint8, bool)`, 'dtype');
    const declared = a.shape('shape') ?? shapeDims(sigIn.get(n.name)?.tensorShape);
    const given = opts.inputShapes?.get(n.name) ?? opts.inputShapes?.get(`${n.name}:0`);
    let dims: number[];
    if (given) {
      used.add(opts.inputShapes!.has(n.name) ? n.name : `${n.name}:0`);
      if (declared && declared.length !== given.length) throw new ConvertError(`--input-shape ${n.name}=${given.join('x')}: the model declares rank ${declared.length} ([${declared.map((d) => (d < 0 ? '?' : d)).join('x')}])`, 'invalid-model');
      declared?.forEach((d, i) => {
        if (d >= 0 && d !== given[i]) throw new ConvertError(`--input-shape ${n.name}=${given.join('x')}: dimension ${i} is fixed to ${d} by the model`, 'invalid-model');
      });
      dims = [...given];
    } else if (!declared) {
      dynamic.push(`${n.name}: shape not declared`);
      continue;
    } else {
      dims = declared.map((d, i) => (d < 0 && i === 0 ? 1 : d));
      if (dims.some((d) => d < 0)) { dynamic.push(`${n.name}: [${declared.map((d) => (d < 0 ? '?' : d)).join('x')}]`); continue; }
    }
    values.set(n.name, [b.addInput(n.name, { dtype, shape: shape(dims) })]);
  }
  if (dynamic.length) {
    throw new ConvertError(`${file}: input shapes must be static; give the missing dimensions with --input-shape NAME=DxDx… (a leading -1 batch defaults to 1):`, 'dynamic-shape', dynamic);
  }
  for (const k of opts.inputShapes?.keys() ?? []) {
    if (!used.has(k)) throw new ConvertError(`--input-shape names '${k}', which is not an input of ${file} (inputs: ${order.filter((n) => n.op === 'Placeholder').map((n) => n.name).join(', ')})`, 'invalid-model');
  }

  // Nodes.
  const consumedWeights = new Set<string>();
  for (const n of order) {
    if (n.op === 'Placeholder') continue;
    const where = `${file}: ${n.op} node '${n.name}'`;
    try {
      if (n.op === 'Const') {
        let v = weights.get(n.name);
        if (badWeights.has(n.name)) throw new ConvertError(`${where}: a ${badWeights.get(n.name)} constant, which the IR does not carry`, 'dtype');
        if (v) consumedWeights.add(n.name);
        else {
          const t = new AttrReader(n.attr ?? {}).tensor('value');
          if (!t) throw new ConvertError(`${where}: no weight named '${n.name}' in weightsManifest and no inline value`, 'invalid-model');
          v = decodeTfTensor(t);
        }
        values.set(n.name, [b.addConstant(n.name, v)]);
        continue;
      }
      const ins: TensorId[] = [];
      for (const ref of n.input ?? []) {
        const r = parseRef(ref);
        if (r.control) continue;
        const outs = values.get(r.node);
        const id = outs?.[r.index];
        if (id === undefined) throw new ConvertError(`${where}: input '${ref}' is not available (only output 0 of multi-output ops like FusedBatchNorm is supported)`, 'unsupported-op');
        ins.push(id);
      }
      if (n.op === 'PlaceholderWithDefault') {
        values.set(n.name, [ins[0]!]);
        continue;
      }
      L.name = n.name;
      const r = handlers.get(n.op)!(new TfContext(n, L, ins));
      values.set(n.name, Array.isArray(r) ? r : [r]);
    } catch (e) {
      if (e instanceof NodeError) throw new ConvertError(`${where}: ${e.message}`, e.category);
      if (e instanceof IrError) throw new ConvertError(`${where}: ${e.message}`, 'invalid-model');
      throw e;
    }
  }
  const unused = [...weights.keys()].filter((k) => !consumedWeights.has(k) && !nodes.has(k));
  if (unused.length) warnings.warn(`${file}: ${unused.length} weight${unused.length > 1 ? 's' : ''} in the manifest match no node: ${unused.slice(0, 5).join(', ')}`);

  // Outputs.
  const outs: TensorId[] = [];
  for (const ref of outRefs) {
    const r = parseRef(ref);
    const id = values.get(r.node)?.[r.index];
    if (id === undefined) throw new ConvertError(`${file}: output '${ref}' is not computed`, 'invalid-model');
    if (b.typeOf(id).origin === 'node') b.rename(id, r.index === 0 ? r.node : `${r.node}:${r.index}`);
    outs.push(id);
  }
  b.setOutputs(outs);
  return b.build();
}
