/**
 * TensorFlow.js layers models (format 'layers-model'): a Keras model config (Sequential or
 * Functional) with weights named '<layer>/<param>'. Each layer is lowered on NHWC (channels_last)
 * tensors; convolutions, pools and batch norms go through the NCHW IR ops via Lowerer, whose
 * transpose cancellation keeps chains of them in NCHW.
 */
import type { DType, Graph, TensorId } from '../ir/types.ts';
import { numel, shape } from '../ir/types.ts';
import { GraphBuilder } from '../ir/builder.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import { IrError } from '../ir/op-registry.ts';
import type { WarningSink } from '../errors.ts';
import { ConvertError } from '../errors.ts';
import type { ModelJson } from './weights.ts';
import { loadWeights } from './weights.ts';
import type { Padding } from './lower.ts';
import { fail, Lowerer, NodeError } from './lower.ts';

type Json = Record<string, unknown>;

interface LayerSpec {
  class_name: string;
  name: string;
  config: Json;
  /** Per call: the inbound tensor refs [layer, nodeIndex, tensorIndex]. */
  calls: [string, number, number][][];
}

const IR_DTYPE: Record<string, DType> = { float32: 'float32', int32: 'int32', bool: 'bool' };

// ---------------------------------------------------------------- config parsing

function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConvertError(`layers model: ${what} is not an object`, 'malformed');
  return v as Json;
}

function historyRef(v: unknown): [string, number, number] | undefined {
  if (Array.isArray(v) && typeof v[0] === 'string') return [v[0], Number(v[1] ?? 0), Number(v[2] ?? 0)];
  if (v && typeof v === 'object' && (v as Json).class_name === '__keras_tensor__') {
    const h = ((v as Json).config as Json | undefined)?.keras_history;
    if (Array.isArray(h) && typeof h[0] === 'string') return [h[0], Number(h[1] ?? 0), Number(h[2] ?? 0)];
  }
  return undefined;
}

/** Inbound nodes in Keras 2 / tfjs form ([[name, node, tensor, kwargs], …]) or Keras 3 form ({args, kwargs}). */
function parseInbound(inbound: unknown): [string, number, number][][] {
  if (!Array.isArray(inbound)) return [];
  return inbound.map((call) => {
    const refs: [string, number, number][] = [];
    const walk = (v: unknown): void => {
      const r = historyRef(v);
      if (r && (Array.isArray(v) ? typeof v[0] === 'string' : true)) { refs.push(r); return; }
      if (Array.isArray(v)) v.forEach(walk);
    };
    if (call && typeof call === 'object' && !Array.isArray(call)) walk((call as Json).args);
    else walk(call);
    return refs;
  });
}

function refsOf(v: unknown): [string, number, number][] {
  if (!Array.isArray(v)) return [];
  if (typeof v[0] === 'string') return [historyRef(v)!];
  return v.map((x) => historyRef(x)).filter((x): x is [string, number, number] => !!x);
}

function layerName(l: Json): string {
  return String(l.name ?? (l.config as Json | undefined)?.name ?? '');
}

// ---------------------------------------------------------------- config values

function ints(v: unknown, n: number, what: string): number[] {
  if (typeof v === 'number') return Array<number>(n).fill(v);
  if (Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number')) return v as number[];
  return fail(`${what} ${JSON.stringify(v)} must be a number or ${n} numbers`, 'invalid-model');
}

function kerasPadding(v: unknown): Padding {
  const p = String(v ?? 'valid').toLowerCase();
  if (p === 'valid') return { kind: 'VALID' };
  if (p === 'same') return { kind: 'SAME' };
  return fail(`padding '${p}' is not supported (valid, same)`);
}

function activationName(v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  // Keras 3 may serialise activations as {class_name, config} objects.
  const o = v as Json;
  if (typeof o.config === 'object' && o.config && typeof (o.config as Json).name === 'string') return (o.config as Json).name as string;
  if (typeof o.class_name === 'string') return o.class_name;
  return fail(`activation ${JSON.stringify(v)} is not understood`);
}

function checkChannelsLast(cfg: Json): void {
  const f = cfg.data_format;
  if (f !== undefined && f !== null && f !== 'channels_last') fail(`data_format '${String(f)}' is not supported (channels_last only)`);
}

function dtypeOf(cfg: Json): DType {
  let d: unknown = cfg.dtype;
  if (d && typeof d === 'object') d = ((d as Json).config as Json | undefined)?.name ?? 'float32';
  const t = IR_DTYPE[String(d ?? 'float32')];
  if (!t) fail(`dtype ${JSON.stringify(cfg.dtype)} is not supported (float32, int32, bool)`, 'dtype');
  return t;
}

function batchShapeOf(cfg: Json): (number | null)[] | undefined {
  const bis = cfg.batch_input_shape ?? cfg.batch_shape;
  if (Array.isArray(bis)) return bis as (number | null)[];
  if (Array.isArray(cfg.input_shape)) return [null, ...(cfg.input_shape as (number | null)[])];
  return undefined;
}

// ---------------------------------------------------------------- the lowering of one layer

class LayerContext {
  constructor(readonly L: Lowerer, readonly spec: LayerSpec, private readonly weights: Map<string, HostTensor>, private readonly weightIds: Map<string, TensorId>) {}

  get cfg(): Json {
    return this.spec.config;
  }

  /** The layer's weight '<layer>/<param>' (also found under a scope prefix). */
  weight(param: string, required = true): TensorId | undefined {
    const key = `${this.spec.name}/${param}`;
    let name: string | undefined = this.weights.has(key) ? key : undefined;
    if (!name) {
      // Under a scope prefix ('model/dense/kernel'), or with a cell scope inside ('lstm/lstm_cell/kernel').
      const keys = [...this.weights.keys()];
      for (const match of [
        (k: string) => k.endsWith(`/${key}`),
        (k: string) => (k.startsWith(`${this.spec.name}/`) || k.includes(`/${this.spec.name}/`)) && k.endsWith(`/${param}`),
      ]) {
        const cands = keys.filter(match);
        if (cands.length > 1) fail(`weight '${key}' is ambiguous: ${cands.join(', ')}`, 'invalid-model');
        if (cands.length === 1) { name = cands[0]; break; }
      }
    }
    if (!name) {
      if (required) fail(`weight '${key}' is missing from the weights manifest`, 'invalid-model');
      return undefined;
    }
    let id = this.weightIds.get(name);
    if (id === undefined) {
      id = this.L.constant(name, this.weights.get(name)!);
      this.weightIds.set(name, id);
    }
    return id;
  }

  /** A context for a wrapped layer (Bidirectional, TimeDistributed) sharing this model's weights. */
  sub(spec: LayerSpec): LayerContext {
    return new LayerContext(this.L, spec, this.weights, this.weightIds);
  }

  act(y: TensorId, channelAxis: number): TensorId {
    return this.L.activation(y, activationName(this.cfg.activation), { axis: channelAxis });
  }
}

type LayerFn = (c: LayerContext, xs: TensorId[]) => TensorId;
const layers = new Map<string, LayerFn>();
function layer(names: string | string[], fn: LayerFn): void {
  for (const n of typeof names === 'string' ? [names] : names) layers.set(n, fn);
}

/** Layer classes lowered by this front-end. */
export function supportedLayers(): string[] {
  return [...layers.keys(), 'InputLayer'].sort();
}

function one(xs: TensorId[]): TensorId {
  if (xs.length !== 1) fail(`expects one input, got ${xs.length}`, 'invalid-model');
  return xs[0]!;
}

layer('Dense', (c, xs) => {
  const x = one(xs);
  let y = c.L.emit('MatMul', [x, c.weight('kernel')!], {}, 'matmul');
  if (c.cfg.use_bias !== false) y = c.L.emit('Add', [y, c.weight('bias')!], {}, 'bias_add');
  return c.act(y, c.L.rank(y) - 1);
});

function convLayer(kind: 'conv' | 'depthwise' | 'separable'): LayerFn {
  return (c, xs) => {
    const x = one(xs);
    checkChannelsLast(c.cfg);
    if (c.L.rank(x) !== 4) fail(`expects a rank-4 NHWC input, got [${c.L.shapeOf(x).join(',')}]`, 'invalid-model');
    const strides = ints(c.cfg.strides ?? 1, 2, 'strides');
    const dilations = ints(c.cfg.dilation_rate ?? 1, 2, 'dilation_rate');
    const padding = kerasPadding(c.cfg.padding);
    const useBias = c.cfg.use_bias !== false;
    let y: TensorId;
    if (kind === 'conv') {
      y = c.L.conv2d(x, c.weight('kernel')!, { strides, dilations, padding, depthwise: false, bias: useBias ? c.weight('bias') : undefined });
    } else if (kind === 'depthwise') {
      y = c.L.conv2d(x, c.weight('depthwise_kernel')!, { strides, dilations, padding, depthwise: true, bias: useBias ? c.weight('bias') : undefined });
    } else {
      const d = c.L.conv2d(x, c.weight('depthwise_kernel')!, { strides, dilations, padding, depthwise: true });
      y = c.L.conv2d(c.L.toNHWC(d), c.weight('pointwise_kernel')!, { strides: [1, 1], dilations: [1, 1], padding: { kind: 'VALID' }, depthwise: false, bias: useBias ? c.weight('bias') : undefined });
    }
    return c.L.toNHWC(c.act(y, 1));
  };
}
layer('Conv2D', convLayer('conv'));
layer(['DepthwiseConv2D'], convLayer('depthwise'));
layer(['SeparableConv2D'], convLayer('separable'));

layer('BatchNormalization', (c, xs) => {
  const x = one(xs);
  const r = c.L.rank(x);
  let axis: unknown = c.cfg.axis ?? -1;
  if (Array.isArray(axis)) {
    if (axis.length !== 1) fail(`axis ${JSON.stringify(axis)}: only one channel axis is supported`);
    axis = axis[0];
  }
  const ax = (axis as number) < 0 ? (axis as number) + r : (axis as number);
  if (!(ax >= 1 && ax < r)) fail(`axis ${String(axis)} is out of range for rank ${r}`, 'invalid-model');
  const ch = c.L.shapeOf(x)[ax]!;
  const ones = (): TensorId => c.L.constant(`${c.spec.name}/ones`, hostTensor('float32', [ch], new Float32Array(ch).fill(1)));
  const zeros = (): TensorId => c.L.constant(`${c.spec.name}/zeros`, hostTensor('float32', [ch]));
  const gamma = c.cfg.scale === false ? ones() : c.weight('gamma')!;
  const beta = c.cfg.center === false ? zeros() : c.weight('beta')!;
  const eps = typeof c.cfg.epsilon === 'number' ? c.cfg.epsilon : 1e-3;
  return c.L.batchNorm(x, gamma, beta, c.weight('moving_mean')!, c.weight('moving_variance')!, eps, ax);
});

layer('Activation', (c, xs) => c.act(one(xs), c.L.rank(one(xs)) - 1));
layer('ReLU', (c, xs) => {
  const x = one(xs);
  const max = c.cfg.max_value;
  const slope = Number(c.cfg.negative_slope ?? 0);
  const thr = Number(c.cfg.threshold ?? 0);
  if (slope !== 0 || thr !== 0) fail('ReLU with negative_slope or threshold is not supported');
  if (max === undefined || max === null) return c.L.activation(x, 'relu');
  return c.L.unary('Clip', x, {}, 'relu_clip', [c.L.scalar(0), c.L.scalar(Number(max))]);
});
layer('LeakyReLU', (c, xs) => c.L.activation(one(xs), 'leakyrelu', { alpha: Number(c.cfg.alpha ?? c.cfg.negative_slope ?? 0.3) }));
layer('ELU', (c, xs) => c.L.activation(one(xs), 'elu', { alpha: Number(c.cfg.alpha ?? 1) }));
layer('Softmax', (c, xs) => {
  const x = one(xs);
  const r = c.L.rank(x);
  let axis = c.cfg.axis ?? -1;
  if (Array.isArray(axis)) {
    if (axis.length !== 1) fail('softmax over several axes is not supported');
    axis = axis[0];
  }
  const a = Number(axis) < 0 ? Number(axis) + r : Number(axis);
  return c.L.activation(x, 'softmax', { axis: a });
});
layer('PReLU', (c, xs) => c.L.emit('PRelu', [one(xs), c.weight('alpha')!], {}, 'prelu'));

function poolLayer(kind: 'max' | 'avg'): LayerFn {
  return (c, xs) => {
    checkChannelsLast(c.cfg);
    const kernel = ints(c.cfg.pool_size ?? 2, 2, 'pool_size');
    const strides = c.cfg.strides === null || c.cfg.strides === undefined ? kernel : ints(c.cfg.strides, 2, 'strides');
    return c.L.toNHWC(c.L.pool2d(kind, one(xs), { kernel, strides, padding: kerasPadding(c.cfg.padding) }));
  };
}
layer('MaxPooling2D', poolLayer('max'));
layer('MaxPool2D', poolLayer('max'));
layer('AveragePooling2D', poolLayer('avg'));
layer('AvgPool2D', poolLayer('avg'));

function globalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerFn {
  return (c, xs) => {
    checkChannelsLast(c.cfg);
    const x = one(xs);
    const s = c.L.shapeOf(x);
    if (s.length !== 4) fail(`expects a rank-4 NHWC input, got [${s.join(',')}]`, 'invalid-model');
    const y = c.L.emit(op, [c.L.toNCHW(x)], {}, op === 'GlobalAveragePool' ? 'gap' : 'gmp');
    if (c.cfg.keepdims === true) return c.L.toNHWC(y);
    return c.L.reshape(y, [s[0]!, s[3]!], 'squeeze');
  };
}
layer(['GlobalAveragePooling2D', 'GlobalAvgPool2D'], globalPool('GlobalAveragePool'));
layer(['GlobalMaxPooling2D', 'GlobalMaxPool2D'], globalPool('GlobalMaxPool'));

layer('Flatten', (c, xs) => {
  const x = one(xs);
  const s = c.L.shapeOf(x);
  if (c.cfg.data_format === 'channels_first') fail("Flatten with data_format 'channels_first' is not supported");
  return c.L.reshape(x, [s[0]!, numel(s.slice(1))], 'flatten');
});

layer('Reshape', (c, xs) => {
  const x = one(xs);
  const s = c.L.shapeOf(x);
  const target = (c.cfg.target_shape as number[] | undefined) ?? fail('Reshape without target_shape', 'invalid-model');
  const rest = numel(s.slice(1));
  const known = target.filter((d) => d !== -1 && d !== null);
  const dims = target.map((d) => (d === -1 || d === null ? rest / Math.max(1, numel(known)) : d));
  if (!dims.every((d) => Number.isInteger(d)) || numel(dims) !== rest) fail(`cannot reshape [${s.join(',')}] to target_shape [${target.join(',')}]`, 'invalid-model');
  return c.L.reshape(x, [s[0]!, ...dims]);
});

layer('Permute', (c, xs) => {
  const dims = (c.cfg.dims as number[] | undefined) ?? fail('Permute without dims', 'invalid-model');
  return c.L.transpose(one(xs), [0, ...dims]);
});

function merge(op: string): LayerFn {
  return (c, xs) => {
    if (xs.length < 2) fail(`expects at least two inputs, got ${xs.length}`, 'invalid-model');
    let y = xs[0]!;
    for (const x of xs.slice(1)) y = c.L.binary(op, y, x, op.toLowerCase());
    return y;
  };
}
layer('Add', merge('Add'));
layer('Multiply', merge('Mul'));
layer('Maximum', merge('Max'));
layer('Minimum', merge('Min'));
layer('Subtract', (c, xs) => {
  if (xs.length !== 2) fail(`expects two inputs, got ${xs.length}`, 'invalid-model');
  return c.L.binary('Sub', xs[0]!, xs[1]!, 'sub');
});
layer('Average', (c, xs) => c.L.binary('Div', merge('Add')(c, xs), c.L.scalar(xs.length), 'average'));

layer('Concatenate', (c, xs) => {
  const r = c.L.rank(xs[0]!);
  const a = Number(c.cfg.axis ?? -1);
  const axis = a < 0 ? a + r : a;
  if (axis < 0 || axis >= r) fail(`axis ${a} is out of range for rank ${r}`, 'invalid-model');
  return c.L.concat(xs, axis);
});

layer('ZeroPadding2D', (c, xs) => {
  checkChannelsLast(c.cfg);
  const x = one(xs);
  const p = c.cfg.padding ?? 1;
  let t: number, b: number, l: number, r: number;
  if (typeof p === 'number') [t, b, l, r] = [p, p, p, p];
  else if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number')) [t, b, l, r] = [p[0], p[0], p[1], p[1]] as number[] as [number, number, number, number];
  else if (Array.isArray(p) && p.length === 2 && p.every((v) => Array.isArray(v) && v.length === 2)) [[t, b], [l, r]] = p as [[number, number], [number, number]];
  else return fail(`padding ${JSON.stringify(p)} is not understood`, 'invalid-model');
  return c.L.pad(x, [0, t!, l!, 0, 0, b!, r!, 0], c.L.scalar(0, c.L.b.typeOf(x).dtype), 'constant');
});

layer('Conv2DTranspose', (c, xs) => {
  const x = one(xs);
  checkChannelsLast(c.cfg);
  if (c.cfg.output_padding !== undefined && c.cfg.output_padding !== null) fail('output_padding is not supported');
  const strides = ints(c.cfg.strides ?? 1, 2, 'strides');
  const dilations = ints(c.cfg.dilation_rate ?? 1, 2, 'dilation_rate');
  const y = c.L.convTranspose2d(x, c.weight('kernel')!, { strides, dilations, padding: kerasPadding(c.cfg.padding), bias: c.cfg.use_bias !== false ? c.weight('bias') : undefined });
  return c.L.toNHWC(c.act(y, 1));
});

/** Conv1D as a Conv2D over [N, 1, W, C] with the kernel [1, k, in, out]. */
layer('Conv1D', (c, xs) => {
  const x = one(xs);
  checkChannelsLast(c.cfg);
  const s = c.L.shapeOf(x);
  if (s.length !== 3) fail(`expects a rank-3 [batch, steps, channels] input, got [${s.join(',')}]`, 'invalid-model');
  const [stride] = ints(c.cfg.strides ?? 1, 1, 'strides');
  const [dil] = ints(c.cfg.dilation_rate ?? 1, 1, 'dilation_rate');
  const k = c.weight('kernel')!;
  const ks = c.L.shapeOf(k);
  const pad = String(c.cfg.padding ?? 'valid').toLowerCase();
  const padding: Padding = pad === 'causal' ? { kind: 'EXPLICIT', pads: [0, 0, (ks[0]! - 1) * dil!, 0] } : kerasPadding(pad);
  const y = c.L.conv2d(c.L.reshape(x, [s[0]!, 1, s[1]!, s[2]!], 'to_2d'), c.L.reshape(k, [1, ...ks], 'kernel_2d'), {
    strides: [1, stride!], dilations: [1, dil!], padding, depthwise: false, bias: c.cfg.use_bias !== false ? c.weight('bias') : undefined,
  });
  const z = c.L.toNHWC(c.act(y, 1));
  const zs = c.L.shapeOf(z);
  return c.L.reshape(z, [zs[0]!, zs[2]!, zs[3]!], 'to_1d');
});

function pool1d(kind: 'max' | 'avg'): LayerFn {
  return (c, xs) => {
    checkChannelsLast(c.cfg);
    const x = one(xs);
    const s = c.L.shapeOf(x);
    if (s.length !== 3) fail(`expects a rank-3 [batch, steps, channels] input, got [${s.join(',')}]`, 'invalid-model');
    const [k] = ints(c.cfg.pool_size ?? 2, 1, 'pool_size');
    const [st] = c.cfg.strides === null || c.cfg.strides === undefined ? [k] : ints(c.cfg.strides, 1, 'strides');
    const y = c.L.toNHWC(c.L.pool2d(kind, c.L.reshape(x, [s[0]!, 1, s[1]!, s[2]!], 'to_2d'), { kernel: [1, k!], strides: [1, st!], padding: kerasPadding(c.cfg.padding) }));
    const ys = c.L.shapeOf(y);
    return c.L.reshape(y, [ys[0]!, ys[2]!, ys[3]!], 'to_1d');
  };
}
layer(['MaxPooling1D', 'MaxPool1D'], pool1d('max'));
layer(['AveragePooling1D', 'AvgPool1D'], pool1d('avg'));

function globalPool1d(op: 'ReduceMean' | 'ReduceMax'): LayerFn {
  return (c, xs) => {
    checkChannelsLast(c.cfg);
    const x = one(xs);
    if (c.L.rank(x) !== 3) fail(`expects a rank-3 [batch, steps, channels] input, got [${c.L.shapeOf(x).join(',')}]`, 'invalid-model');
    return c.L.emit(op, [x], { axes: [1], keepdims: c.cfg.keepdims === true ? 1 : 0 }, 'reduce');
  };
}
layer(['GlobalAveragePooling1D', 'GlobalAvgPool1D'], globalPool1d('ReduceMean'));
layer(['GlobalMaxPooling1D', 'GlobalMaxPool1D'], globalPool1d('ReduceMax'));

layer('UpSampling2D', (c, xs) => {
  checkChannelsLast(c.cfg);
  const x = one(xs);
  const s = c.L.shapeOf(x);
  const [sh, sw] = ints(c.cfg.size ?? 2, 2, 'size');
  const interp = String(c.cfg.interpolation ?? 'nearest');
  if (interp !== 'nearest' && interp !== 'bilinear') fail(`interpolation '${interp}' is not supported (nearest, bilinear)`);
  // TensorFlow.js resizes with align_corners = false, half_pixel_centers = false.
  return c.L.resize2d(x, [s[1]! * sh!, s[2]! * sw!], interp === 'nearest' ? 'nearest' : 'linear', false, false);
});

layer('Cropping2D', (c, xs) => {
  checkChannelsLast(c.cfg);
  const x = one(xs);
  const s = c.L.shapeOf(x);
  const p = c.cfg.cropping ?? 0;
  let t: number, b: number, l: number, r: number;
  if (typeof p === 'number') [t, b, l, r] = [p, p, p, p];
  else if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number')) [t, b, l, r] = [p[0], p[0], p[1], p[1]] as [number, number, number, number];
  else if (Array.isArray(p) && p.length === 2 && p.every((v) => Array.isArray(v) && v.length === 2)) [[t, b], [l, r]] = p as [[number, number], [number, number]];
  else return fail(`cropping ${JSON.stringify(p)} is not understood`, 'invalid-model');
  if (t! + b! > s[1]! || l! + r! > s[2]!) fail(`cropping ${JSON.stringify(p)} is larger than the input [${s.join(',')}]`, 'invalid-model');
  return c.L.emit('Slice', [x], { starts: [0, t!, l!, 0], ends: [s[0]!, s[1]! - b!, s[2]! - r!, s[3]!], steps: [1, 1, 1, 1] }, 'crop');
});

layer('LayerNormalization', (c, xs) => {
  const x = one(xs);
  const r = c.L.rank(x);
  let axis: unknown = c.cfg.axis ?? -1;
  if (Array.isArray(axis)) {
    if (axis.length !== 1) fail(`axis ${JSON.stringify(axis)}: only the last axis is supported`);
    axis = axis[0];
  }
  const ax = (axis as number) < 0 ? (axis as number) + r : (axis as number);
  if (ax !== r - 1) fail(`axis ${String(axis)}: only the last axis is supported`);
  const ch = c.L.shapeOf(x)[ax]!;
  const gamma = c.cfg.scale === false ? c.L.constant(`${c.spec.name}/ones`, hostTensor('float32', [ch], new Float32Array(ch).fill(1))) : c.weight('gamma')!;
  const ins = [x, gamma];
  if (c.cfg.center !== false) ins.push(c.weight('beta')!);
  const eps = typeof c.cfg.epsilon === 'number' ? c.cfg.epsilon : 1e-3;
  return c.L.emit('LayerNormalization', ins, { axis: ax, epsilon: Math.fround(eps), num_outputs: 1 }, 'layernorm');
});

layer('Embedding', (c, xs) => {
  let x = one(xs);
  const dt = c.L.b.typeOf(x).dtype;
  if (dt !== 'int32' && dt !== 'int64') x = c.L.emit('Cast', [x], { to: 'int32' }, 'to_int');
  return c.L.emit('Gather', [c.weight('embeddings')!, x], { axis: 0 }, 'gather');
});

layer('Rescaling', (c, xs) => {
  let y = one(xs);
  const scale = Number(c.cfg.scale ?? 1);
  const offset = Number(c.cfg.offset ?? 0);
  if (scale !== 1) y = c.L.emit('Mul', [y, c.L.scalar(scale)], {}, 'scale');
  if (offset !== 0) y = c.L.emit('Add', [y, c.L.scalar(offset)], {}, 'offset');
  return y;
});

// ---------------------------------------------------------------- recurrent layers, unrolled over the static time axis

type RnnKind = 'SimpleRNN' | 'LSTM' | 'GRU';

function rnnLayer(kind: RnnKind): LayerFn {
  return (c, xs) => {
    const x = one(xs);
    const cfg = c.cfg;
    if (cfg.stateful === true) fail('stateful recurrent layers are not supported');
    if (cfg.return_state === true) fail('return_state is not supported');
    if (kind === 'GRU' && cfg.reset_after === true) fail('reset_after = true is not supported (TensorFlow.js does not support it either)');
    const s = c.L.shapeOf(x);
    if (s.length !== 3) fail(`expects a rank-3 [batch, steps, features] input, got [${s.join(',')}]`, 'invalid-model');
    const [n, steps] = [s[0]!, s[1]!];
    const units = Number(cfg.units);
    const gates = kind === 'LSTM' ? 4 : kind === 'GRU' ? 3 : 1;
    const G = gates * units;
    const act = activationName(cfg.activation ?? 'tanh');
    const ract = activationName(cfg.recurrent_activation ?? 'hard_sigmoid');
    const L = c.L;
    const kernel = c.weight('kernel')!;
    const rec = c.weight('recurrent_kernel')!;
    const bias = cfg.use_bias !== false ? c.weight('bias') : undefined;
    if (numel(L.shapeOf(rec)) !== units * G) fail(`recurrent_kernel [${L.shapeOf(rec).join(',')}] does not fit ${units} units`, 'invalid-model');
    // Input projections for all steps at once: [N, T, G].
    let xw = L.emit('MatMul', [x, kernel], {}, 'input_proj');
    if (bias !== undefined) xw = L.emit('Add', [xw, bias], {}, 'input_bias');
    const parts = steps > 1 ? L.b.emit('Split', [xw], { axis: 1, splits: Array<number>(steps).fill(1) }, { name: `${c.spec.name}/steps` }) : [xw];
    const stepIn = parts.map((p) => L.reshape(p, [n, G], 'step'));
    // GRU's candidate uses r·h before its recurrent product, so its recurrent kernel is split by gate.
    let recZR: TensorId | undefined, recH: TensorId | undefined;
    if (kind === 'GRU') {
      [recZR, recH] = L.b.emit('Split', [rec], { axis: 1, splits: [2 * units, units] }, { name: `${c.spec.name}/recurrent_split` }) as [TensorId, TensorId];
    }
    const zeros = L.constant(`${c.spec.name}/initial_state`, hostTensor('float32', [n, units]));
    let h = zeros, cell = zeros;
    const outs: TensorId[] = [];
    const order = Array.from({ length: steps }, (_, t) => (cfg.go_backwards === true ? steps - 1 - t : t));
    for (const t of order) {
      const xt = stepIn[t]!;
      if (kind === 'SimpleRNN') {
        h = L.activation(L.emit('Add', [xt, L.emit('MatMul', [h, rec], {}, 'rec')], {}, 'pre'), act);
      } else if (kind === 'LSTM') {
        const z = L.emit('Add', [xt, L.emit('MatMul', [h, rec], {}, 'rec')], {}, 'pre');
        const [zi, zf, zc, zo] = L.b.emit('Split', [z], { axis: 1, splits: [units, units, units, units] }, { name: `${c.spec.name}/gates_${t}` }) as [TensorId, TensorId, TensorId, TensorId];
        const i = L.activation(zi, ract), f = L.activation(zf, ract), o = L.activation(zo, ract);
        cell = L.emit('Add', [L.emit('Mul', [f, cell], {}, 'forget'), L.emit('Mul', [i, L.activation(zc, act)], {}, 'input')], {}, 'cell');
        h = L.emit('Mul', [o, L.activation(cell, act)], {}, 'hidden');
      } else {
        const [xzr, xh] = L.b.emit('Split', [xt], { axis: 1, splits: [2 * units, units] }, { name: `${c.spec.name}/xsplit_${t}` }) as [TensorId, TensorId];
        const zr = L.activation(L.emit('Add', [xzr, L.emit('MatMul', [h, recZR!], {}, 'rec_zr')], {}, 'pre_zr'), ract);
        const [z, r] = L.b.emit('Split', [zr], { axis: 1, splits: [units, units] }, { name: `${c.spec.name}/zr_${t}` }) as [TensorId, TensorId];
        const hh = L.activation(L.emit('Add', [xh, L.emit('MatMul', [L.emit('Mul', [r, h], {}, 'reset'), recH!], {}, 'rec_h')], {}, 'pre_h'), act);
        // h = z·h + (1 − z)·hh, as TensorFlow.js computes it
        h = L.emit('Add', [L.emit('Mul', [z, h], {}, 'keep'), L.emit('Mul', [L.emit('Sub', [L.scalar(1), z], {}, 'one_minus_z'), hh], {}, 'update')], {}, 'hidden');
      }
      outs.push(h);
    }
    if (cfg.return_sequences !== true) return h;
    const seq = outs.map((o) => L.reshape(o, [n, 1, units], 'expand'));
    return seq.length === 1 ? seq[0]! : L.emit('Concat', seq, { axis: 1 }, 'sequence');
  };
}
layer('SimpleRNN', rnnLayer('SimpleRNN'));
layer('LSTM', rnnLayer('LSTM'));
layer('GRU', rnnLayer('GRU'));

function wrapped(c: LayerContext): { class_name: string; config: Json } {
  const inner = c.cfg.layer as Json | undefined;
  if (!inner || typeof inner.class_name !== 'string') return fail('the wrapped layer config is missing', 'invalid-model');
  return { class_name: inner.class_name, config: obj(inner.config ?? {}, 'the wrapped layer config') };
}

layer('Bidirectional', (c, xs) => {
  const x = one(xs);
  const inner = wrapped(c);
  if (!['LSTM', 'GRU', 'SimpleRNN'].includes(inner.class_name)) fail(`wrapping ${inner.class_name} is not supported (LSTM, GRU, SimpleRNN)`);
  const fn = layers.get(inner.class_name)!;
  const name = String(inner.config.name ?? inner.class_name.toLowerCase());
  const fwd = fn(c.sub({ class_name: inner.class_name, name: `forward_${name}`, config: inner.config, calls: [] }), [x]);
  let bwd = fn(c.sub({ class_name: inner.class_name, name: `backward_${name}`, config: { ...inner.config, go_backwards: inner.config.go_backwards !== true }, calls: [] }), [x]);
  if (inner.config.return_sequences === true) {
    // The backward layer's outputs come in reversed time order; put them back.
    const s = c.L.shapeOf(bwd);
    bwd = c.L.emit('Slice', [bwd], { starts: [0, s[1]! - 1, 0], ends: [s[0]!, -1, s[2]!], steps: [1, -1, 1] }, 'reverse');
  }
  const mode = c.cfg.merge_mode === undefined ? 'concat' : c.cfg.merge_mode;
  switch (mode) {
    case 'concat': return c.L.concat([fwd, bwd], c.L.rank(fwd) - 1);
    case 'sum': return c.L.binary('Add', fwd, bwd, 'sum');
    case 'mul': return c.L.binary('Mul', fwd, bwd, 'mul');
    case 'ave': return c.L.binary('Div', c.L.binary('Add', fwd, bwd, 'sum'), c.L.scalar(2), 'ave');
    default: return fail(`merge_mode ${JSON.stringify(mode)} is not supported (concat, sum, mul, ave)`);
  }
});

layer('TimeDistributed', (c, xs) => {
  const x = one(xs);
  const inner = wrapped(c);
  const fn = layers.get(inner.class_name);
  if (!fn || MODEL_CLASSES.has(inner.class_name)) return fail(`wrapping ${inner.class_name} is not supported`);
  const s = c.L.shapeOf(x);
  if (s.length < 3) fail(`expects an input of rank ≥ 3 [batch, steps, …], got [${s.join(',')}]`, 'invalid-model');
  // Fold the time axis into the batch, apply the layer (its weights are named after the wrapper), unfold.
  const y = fn(c.sub({ class_name: inner.class_name, name: c.spec.name, config: inner.config, calls: [] }), [c.L.reshape(x, [s[0]! * s[1]!, ...s.slice(2)], 'fold_time')]);
  const ys = c.L.shapeOf(y);
  return c.L.reshape(y, [s[0]!, s[1]!, ...ys.slice(1)], 'unfold_time');
});

layer(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization'], (_c, xs) => one(xs));

// ---------------------------------------------------------------- the model

function collectLayers(cfg: Json): { layers: LayerSpec[]; inputs: [string, number, number][]; outputs: [string, number, number][]; sequential: boolean } {
  const cls = String(cfg.class_name ?? '');
  const config = cfg.config;
  if (cls === 'Sequential') {
    const list = (Array.isArray(config) ? config : (obj(config, 'Sequential config').layers as unknown)) as Json[];
    if (!Array.isArray(list) || list.length === 0) throw new ConvertError('layers model: the Sequential model has no layers', 'malformed');
    const specs: LayerSpec[] = [];
    for (const l of list) {
      const lo = obj(l, 'a layer');
      specs.push({ class_name: String(lo.class_name), name: layerName(lo), config: obj(lo.config ?? {}, 'a layer config'), calls: [] });
    }
    return { layers: specs, inputs: [], outputs: [], sequential: true };
  }
  if (cls === 'Model' || cls === 'Functional') {
    const c = obj(config, `${cls} config`);
    const list = c.layers as Json[];
    if (!Array.isArray(list)) throw new ConvertError(`layers model: the ${cls} config has no layers list`, 'malformed');
    const specs = list.map((l) => {
      const lo = obj(l, 'a layer');
      return { class_name: String(lo.class_name), name: layerName(lo), config: obj(lo.config ?? {}, 'a layer config'), calls: parseInbound(lo.inbound_nodes) };
    });
    return { layers: specs, inputs: refsOf(c.input_layers), outputs: refsOf(c.output_layers), sequential: false };
  }
  throw new ConvertError(`layers model: model class '${cls}' is not supported (Sequential, Model/Functional)`, 'unsupported-op');
}

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** Unsupported layer classes in a model config, nested models included. */
function findMissing(m: Collected, missing: Map<string, string[]>): void {
  for (const l of m.layers) {
    if (l.class_name === 'Bidirectional' || l.class_name === 'TimeDistributed') {
      const inner = (l.config.layer as Json | undefined)?.class_name;
      const ok = typeof inner === 'string' && (l.class_name === 'Bidirectional' ? ['LSTM', 'GRU', 'SimpleRNN'].includes(inner) : layers.has(inner) && !MODEL_CLASSES.has(inner));
      if (ok) continue;
      const k = `${l.class_name}(${String(inner)})`;
      missing.set(k, [...(missing.get(k) ?? []), l.name]);
      continue;
    }
    if (l.class_name === 'InputLayer' || layers.has(l.class_name)) continue;
    if (MODEL_CLASSES.has(l.class_name)) {
      findMissing(collectLayers({ class_name: l.class_name, config: l.config }), missing);
      continue;
    }
    const e = missing.get(l.class_name) ?? [];
    e.push(l.name);
    missing.set(l.class_name, e);
  }
}

type Collected = ReturnType<typeof collectLayers>;

/** The config that declares the input shape of a Sequential model's first layer (looking into nested models). */
function inputConfigOf(spec: LayerSpec): Json {
  if (!MODEL_CLASSES.has(spec.class_name) || batchShapeOf(spec.config)) return spec.config;
  const inner = collectLayers({ class_name: spec.class_name, config: spec.config });
  if (inner.sequential) return inputConfigOf(inner.layers[0]!);
  const first = inner.layers.find((l) => l.name === inner.inputs[0]?.[0]);
  return first ? first.config : spec.config;
}

export function importLayersModel(file: string, model: ModelJson, opts: { inputShapes?: ReadonlyMap<string, readonly number[]>; warnings?: WarningSink }): Graph {
  const warnings = opts.warnings ?? { warn: () => {} };
  const topo = obj(model.modelTopology, 'modelTopology');
  const cfg = topo.model_config !== undefined ? obj(topo.model_config, 'modelTopology.model_config') : topo;
  const m = collectLayers(cfg);

  // Refuse unsupported layer classes all at once.
  const missing = new Map<string, string[]>();
  findMissing(m, missing);
  if (missing.size) {
    const details = [...missing].sort(([a], [b]) => a.localeCompare(b)).map(([k, ns]) => `${k}: used by ${ns.slice(0, 3).map((x) => `'${x}'`).join(', ')}${ns.length > 3 ? ` and ${ns.length - 3} more` : ''}`);
    throw new ConvertError(`${file}: ${missing.size} unsupported layer type${missing.size > 1 ? 's' : ''}:`, 'unsupported-op', details);
  }

  const weights = loadWeights(file, model.weightsManifest ?? []);
  const weightIds = new Map<string, TensorId>();
  const b = new GraphBuilder();
  const L = new Lowerer(b);
  const usedShapes = new Set<string>();

  const addInput = (name: string, cfgIn: Json, where: string): TensorId => {
    const declared = batchShapeOf(cfgIn);
    const given = opts.inputShapes?.get(name);
    let dims: number[];
    if (given) {
      usedShapes.add(name);
      if (declared && declared.length !== given.length) throw new ConvertError(`--input-shape ${name}=${given.join('x')}: the model declares rank ${declared.length} ([${declared.map((d) => d ?? '?').join('x')}])`, 'invalid-model');
      declared?.forEach((d, i) => {
        if (d !== null && d !== -1 && d !== given[i]) throw new ConvertError(`--input-shape ${name}=${given.join('x')}: dimension ${i} is fixed to ${d} by the model`, 'invalid-model');
      });
      dims = [...given];
    } else {
      if (!declared) throw new ConvertError(`${file}: ${where} declares no input shape; give it with --input-shape ${name}=DxDx…`, 'dynamic-shape');
      const open = declared.map((d, i) => (i > 0 && (d === null || d === -1) ? i : -1)).filter((i) => i >= 0);
      if (open.length) throw new ConvertError(`${file}: input '${name}' has unknown dimensions [${declared.map((d) => d ?? '?').join('x')}]; give them with --input-shape ${name}=DxDx… (the batch dimension defaults to 1)`, 'dynamic-shape');
      dims = declared.map((d) => (d === null || d === -1 ? 1 : d));
    }
    let dtype: DType;
    try {
      dtype = dtypeOf(cfgIn);
    } catch (e) {
      if (e instanceof NodeError) throw new ConvertError(`${file}: input '${name}': ${e.message}`, e.category);
      throw e;
    }
    return b.addInput(name, { dtype, shape: shape(dims) });
  };

  const run = (spec: LayerSpec, xs: TensorId[]): TensorId => {
    if (MODEL_CLASSES.has(spec.class_name)) {
      const outs = runModel(collectLayers({ class_name: spec.class_name, config: spec.config }), xs);
      if (outs.length !== 1) throw new ConvertError(`${file}: nested model '${spec.name}' has ${outs.length} outputs; only single-output nested models are supported`, 'unsupported-op');
      return outs[0]!.id;
    }
    const where = `${file}: ${spec.class_name} layer '${spec.name}'`;
    L.name = spec.name;
    try {
      return layers.get(spec.class_name)!(new LayerContext(L, spec, weights, weightIds), xs);
    } catch (e) {
      if (e instanceof NodeError) throw new ConvertError(`${where}: ${e.message}`, e.category);
      if (e instanceof IrError) throw new ConvertError(`${where}: ${e.message}`, 'invalid-model');
      throw e;
    }
  };

  /** Run a (possibly nested) model; `given` are the inputs of a nested model, undefined at the top. */
  const runModel = (mm: Collected, given?: TensorId[]): { id: TensorId; name: string }[] => {
    if (mm.sequential) {
      let specs = mm.layers;
      let x: TensorId;
      if (given) {
        if (given.length !== 1) throw new ConvertError(`${file}: a nested Sequential model takes one input, got ${given.length}`, 'invalid-model');
        x = given[0]!;
        if (specs[0]!.class_name === 'InputLayer') specs = specs.slice(1);
      } else if (specs[0]!.class_name === 'InputLayer') {
        x = addInput(specs[0]!.name, specs[0]!.config, `InputLayer '${specs[0]!.name}'`);
        specs = specs.slice(1);
      } else {
        const first = specs[0]!;
        const name = `${first.name}_input`;
        const alias = opts.inputShapes && !opts.inputShapes.has(name) && opts.inputShapes.size === 1 ? [...opts.inputShapes.keys()][0]! : name;
        x = addInput(alias, inputConfigOf(first), `the first layer '${first.name}'`);
      }
      for (const sp of specs) x = run(sp, [x]);
      return [{ id: x, name: mm.layers[mm.layers.length - 1]!.name }];
    }
    const values = new Map<string, TensorId>();
    const key = (r: [string, number, number]): string => `${r[0]}/${r[1]}/${r[2]}`;
    const byName = new Map(mm.layers.map((l) => [l.name, l]));
    if (given && given.length !== mm.inputs.length) throw new ConvertError(`${file}: a nested model with ${mm.inputs.length} inputs is called with ${given.length}`, 'invalid-model');
    mm.inputs.forEach((r, i) => {
      const l = byName.get(r[0]);
      if (!l || l.class_name !== 'InputLayer') throw new ConvertError(`${file}: input layer '${r[0]}' is not an InputLayer of the model`, 'invalid-model');
      values.set(key([r[0], r[1], r[2]]), given ? given[i]! : addInput(l.name, l.config, `InputLayer '${l.name}'`));
    });
    // Run calls whose inputs are ready until nothing changes (Keras lists layers in order, so this is one pass usually).
    const pending: { spec: LayerSpec; call: number }[] = [];
    for (const l of mm.layers) if (l.class_name !== 'InputLayer') l.calls.forEach((_, i) => pending.push({ spec: l, call: i }));
    let progress = true;
    while (pending.length && progress) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i]!;
        const refs = p.spec.calls[p.call]!;
        if (!refs.every((r) => values.has(key(r)))) continue;
        // A nested model's node 0 is its own construction node (Keras and tfjs-layers alike): call k is node k + 1.
        const node = MODEL_CLASSES.has(p.spec.class_name) ? p.call + 1 : p.call;
        values.set(key([p.spec.name, node, 0]), run(p.spec, refs.map((r) => values.get(key(r))!)));
        pending.splice(i--, 1);
        progress = true;
      }
    }
    return mm.outputs.map((r) => {
      const id = values.get(key(r));
      if (id === undefined) throw new ConvertError(`${file}: output '${r[0]}' cannot be computed from the model's inputs`, 'invalid-model');
      return { id, name: r[0] };
    });
  };

  const outs = runModel(m);
  for (const k of opts.inputShapes?.keys() ?? []) {
    if (!usedShapes.has(k)) throw new ConvertError(`--input-shape names '${k}', which is not an input of ${file} (inputs: ${m.layers.filter((l) => l.class_name === 'InputLayer').map((l) => l.name).join(', ') || `${m.layers[0]!.name}_input`})`, 'invalid-model');
  }
  const unused = [...weights.keys()].filter((k) => !weightIds.has(k));
  if (unused.length) warnings.warn(`${file}: ${unused.length} weight${unused.length > 1 ? 's' : ''} in the manifest are used by no layer: ${unused.slice(0, 5).join(', ')}`);
  if (outs.length === 0) throw new ConvertError(`${file}: the model has no outputs`, 'invalid-model');
  for (const o of outs) if (b.typeOf(o.id).origin === 'node') b.rename(o.id, o.name);
  b.setOutputs(outs.map((o) => o.id));
  return b.build();
}
