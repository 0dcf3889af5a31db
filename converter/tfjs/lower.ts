/**
 * Shared lowering helpers for the TensorFlow.js front-ends: NHWC ↔ NCHW layout changes around the
 * IR's channels-first Conv/pool/BatchNormalization ops (with back-to-back transposes cancelled),
 * TF 'SAME'/'VALID' padding resolved to explicit pads, and Keras/TF activations.
 */
import type { DType, TensorId } from '../ir/types.ts';
import { numel } from '../ir/types.ts';
import type { GraphBuilder } from '../ir/builder.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import type { ConvertError } from '../errors.ts';

export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const NCHW_TO_NHWC = [0, 2, 3, 1];

/** TF padding: 'SAME', 'VALID', or explicit [top, bottom, left, right]. */
export type Padding = { kind: 'SAME' } | { kind: 'VALID' } | { kind: 'EXPLICIT'; pads: readonly number[] };

/** An error in one source node; the importers turn it into a ConvertError naming the node. */
export class NodeError extends Error {
  constructor(message: string, readonly category: ConvertError['category'] = 'unsupported-attr') {
    super(message);
  }
}

export function fail(message: string, category: ConvertError['category'] = 'unsupported-attr'): never {
  throw new NodeError(message, category);
}

/**
 * Explicit pads for one spatial axis: TF 'SAME' gives output ceil(in / stride) and puts the odd
 * extra pad at the end.
 */
export function samePads(inSize: number, k: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const effK = (k - 1) * dilation + 1;
  const total = Math.max((out - 1) * stride + effK - inSize, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/** IR pads (begins then ends) for a 2-D window over spatial dims [h, w]. */
export function resolvePads(p: Padding, hw: readonly number[], k: readonly number[], s: readonly number[], d: readonly number[]): number[] {
  if (p.kind === 'VALID') return [0, 0, 0, 0];
  if (p.kind === 'EXPLICIT') return [p.pads[0]!, p.pads[2]!, p.pads[1]!, p.pads[3]!];
  const [t, bt] = samePads(hw[0]!, k[0]!, s[0]!, d[0]!);
  const [l, r] = samePads(hw[1]!, k[1]!, s[1]!, d[1]!);
  return [t, l, bt, r];
}

export function parsePadding(s: string): Padding {
  const u = s.toUpperCase();
  if (u === 'SAME') return { kind: 'SAME' };
  if (u === 'VALID') return { kind: 'VALID' };
  return fail(`padding '${s}' is not supported (SAME, VALID, EXPLICIT)`);
}

const f32 = Math.fround;

export class Lowerer {
  /** NHWC tensor made by toNHWC → its NCHW source, so that a following toNCHW cancels. */
  private readonly nchwSource = new Map<TensorId, TensorId>();
  private readonly nhwcSource = new Map<TensorId, TensorId>();
  private readonly scalars = new Map<string, TensorId>();
  /** Name prefix for emitted nodes (the source node's name). */
  name = '';

  constructor(readonly b: GraphBuilder) {}

  emit(op: string, ins: readonly TensorId[], attrs: Record<string, number | string | readonly number[]>, suffix?: string): TensorId {
    return this.b.emit1(op, ins, attrs, { name: this.uniq(suffix) });
  }

  private readonly used = new Set<string>();
  private uniq(suffix?: string): string {
    const base = suffix ? `${this.name}/${suffix}` : this.name;
    let n = base;
    for (let i = 1; this.used.has(n); i++) n = `${base}_${i}`;
    this.used.add(n);
    return n;
  }

  constant(name: string, v: HostTensor): TensorId {
    return this.b.addConstant(name, v);
  }

  scalar(v: number, dtype: DType = 'float32'): TensorId {
    const key = `${dtype}:${Object.is(v, -0) ? '-0' : v}`;
    let id = this.scalars.get(key);
    if (id === undefined) {
      id = this.b.addConstant(`${dtype}_${v}`, hostTensor(dtype, [], dtype === 'int64' ? [BigInt(v)] : [dtype === 'float32' ? f32(v) : v]));
      this.scalars.set(key, id);
    }
    return id;
  }

  shapeOf(x: TensorId): readonly number[] {
    return this.b.typeOf(x).shape;
  }

  rank(x: TensorId): number {
    return this.b.typeOf(x).shape.length;
  }

  transpose(x: TensorId, perm: readonly number[], suffix = 'transpose'): TensorId {
    if (perm.every((p, i) => p === i)) return x;
    return this.emit('Transpose', [x], { perm: [...perm] }, suffix);
  }

  reshape(x: TensorId, dims: readonly number[], suffix = 'reshape'): TensorId {
    const s = this.shapeOf(x);
    if (s.length === dims.length && s.every((d, i) => d === dims[i])) return x;
    return this.emit('Reshape', [x], { shape: [...dims] }, suffix);
  }

  /** NHWC (rank 4) → NCHW, cancelling a preceding toNHWC. */
  toNCHW(x: TensorId): TensorId {
    if (this.rank(x) !== 4) fail(`expected a rank-4 NHWC tensor, got shape [${this.shapeOf(x).join(',')}]`, 'invalid-model');
    const src = this.nchwSource.get(x);
    if (src !== undefined) return src;
    const t = this.transpose(x, NHWC_TO_NCHW, 'to_nchw');
    this.nhwcSource.set(t, x);
    return t;
  }

  /** NCHW (rank 4) → NHWC, cancelling a preceding toNCHW. */
  toNHWC(x: TensorId): TensorId {
    const src = this.nhwcSource.get(x);
    if (src !== undefined) return src;
    const t = this.transpose(x, NCHW_TO_NHWC, 'to_nhwc');
    this.nchwSource.set(t, x);
    return t;
  }

  /**
   * 2-D convolution of an NHWC input with a TF filter, returning the NCHW result (before any
   * bias/activation the caller adds). filter: HWIO for a normal conv, HWCM (channel multiplier M)
   * for a depthwise conv, which becomes an IR Conv with group = C.
   */
  conv2d(x: TensorId, filter: TensorId, o: { strides: readonly number[]; dilations: readonly number[]; padding: Padding; depthwise: boolean; bias?: TensorId }): TensorId {
    const xs = this.shapeOf(x);
    const fs = this.shapeOf(filter);
    if (xs.length !== 4) fail(`input must be rank 4 (NHWC), got [${xs.join(',')}]`, 'invalid-model');
    if (fs.length !== 4) fail(`filter must be rank 4, got [${fs.join(',')}]`, 'invalid-model');
    const [kh, kw, ci, co] = fs as [number, number, number, number];
    const c = xs[3]!;
    let w: TensorId;
    let group = 1;
    if (o.depthwise) {
      if (ci !== c) fail(`depthwise filter [${fs.join(',')}] does not match ${c} input channels`, 'invalid-model');
      // [H, W, C, M] → [H, W, 1, C·M] (output channel c·M + m) → [C·M, 1, H, W]
      w = this.transpose(this.reshape(filter, [kh, kw, 1, ci * co], 'filter_reshape'), [3, 2, 0, 1], 'filter_oihw');
      group = c;
    } else {
      if (c % ci !== 0) fail(`filter [${fs.join(',')}] expects ${ci} input channels, the input has ${c}`, 'invalid-model');
      group = c / ci;
      w = this.transpose(filter, [3, 2, 0, 1], 'filter_oihw');
    }
    const pads = resolvePads(o.padding, [xs[1]!, xs[2]!], [kh, kw], o.strides, o.dilations);
    const ins = [this.toNCHW(x), w];
    if (o.bias !== undefined) ins.push(o.bias);
    return this.emit('Conv', ins, { group, strides: [...o.strides], dilations: [...o.dilations], pads }, 'conv');
  }

  /**
   * Transposed 2-D convolution of an NHWC input with a TF filter [kh, kw, out, in], returning NCHW.
   * The output size is outHW when given (Conv2DBackpropInput's output_shape), else Keras's rule
   * (same: in·s; valid: in·s + max(k_eff − s, 0)). TF's SAME crop puts the odd pixel at the end.
   */
  convTranspose2d(x: TensorId, filter: TensorId, o: { strides: readonly number[]; dilations: readonly number[]; padding: Padding; outHW?: readonly number[]; bias?: TensorId }): TensorId {
    const xs = this.shapeOf(x);
    const fs = this.shapeOf(filter);
    if (xs.length !== 4) fail(`input must be rank 4 (NHWC), got [${xs.join(',')}]`, 'invalid-model');
    if (fs.length !== 4) fail(`filter must be rank 4, got [${fs.join(',')}]`, 'invalid-model');
    const [kh, kw, , ci] = fs as [number, number, number, number];
    if (ci !== xs[3]) fail(`filter [${fs.join(',')}] expects ${ci} input channels, the input has ${xs[3]}`, 'invalid-model');
    const begins: number[] = [], ends: number[] = [], outPad: number[] = [];
    [kh, kw].forEach((k, i) => {
      const inn = xs[1 + i]!, s = o.strides[i]!, d = o.dilations[i]!;
      const ek = (k - 1) * d + 1;
      const full = s * (inn - 1) + ek;
      let b = 0, e = 0;
      let out: number;
      if (o.padding.kind === 'EXPLICIT') {
        b = o.padding.pads[2 * i]!;
        e = o.padding.pads[2 * i + 1]!;
        out = o.outHW?.[i] ?? full - b - e;
      } else if (o.padding.kind === 'SAME') {
        out = o.outHW?.[i] ?? inn * s;
        const total = Math.max((inn - 1) * s + ek - out, 0);
        b = Math.floor(total / 2);
        e = total - b;
      } else {
        out = o.outHW?.[i] ?? inn * s + Math.max(ek - s, 0);
      }
      const op = out - (full - b - e);
      if (op < 0 || op >= Math.max(s, d)) fail(`output size ${out} on spatial axis ${i} does not fit input ${inn}, kernel ${k}, stride ${s}`, 'invalid-model');
      begins.push(b); ends.push(e); outPad.push(op);
    });
    const w = this.transpose(filter, [3, 2, 0, 1], 'filter_iohw');
    const ins = [this.toNCHW(x), w];
    if (o.bias !== undefined) ins.push(o.bias);
    return this.emit('ConvTranspose', ins, { group: 1, strides: [...o.strides], dilations: [...o.dilations], pads: [...begins, ...ends], output_padding: outPad }, 'conv_transpose');
  }

  /**
   * Resize the spatial axes of an NHWC tensor to [oh, ow] (works on NHWC directly).
   * TF semantics: align_corners, half_pixel_centers or (neither) the legacy asymmetric mapping.
   */
  resize2d(x: TensorId, hw: readonly number[], mode: 'nearest' | 'linear', alignCorners: boolean, halfPixel: boolean): TensorId {
    const xs = this.shapeOf(x);
    if (xs.length !== 4) fail(`input must be rank 4 (NHWC), got [${xs.join(',')}]`, 'invalid-model');
    if (alignCorners && halfPixel) fail('align_corners and half_pixel_centers cannot both be set', 'invalid-model');
    const sizes = [xs[0]!, hw[0]!, hw[1]!, xs[3]!];
    const coord = alignCorners ? 'align_corners' : halfPixel ? (mode === 'nearest' ? 'tf_half_pixel_for_nn' : 'half_pixel') : 'asymmetric';
    const nearest = mode === 'nearest' && alignCorners ? 'round_prefer_ceil' : 'floor';
    return this.emit('Resize', [x], {
      sizes, scales: sizes.map((d, i) => f32(d / xs[i]!)), roi: [], mode, coordinate_transformation_mode: coord, nearest_mode: nearest,
      cubic_coeff_a: f32(-0.75), exclude_outside: 0, extrapolation_value: 0,
    }, 'resize');
  }

  /** Max or average pooling of an NHWC input; returns NCHW. */
  pool2d(kind: 'max' | 'avg', x: TensorId, o: { kernel: readonly number[]; strides: readonly number[]; padding: Padding }): TensorId {
    const xs = this.shapeOf(x);
    if (xs.length !== 4) fail(`input must be rank 4 (NHWC), got [${xs.join(',')}]`, 'invalid-model');
    const pads = resolvePads(o.padding, [xs[1]!, xs[2]!], o.kernel, o.strides, [1, 1]);
    const attrs: Record<string, number | readonly number[]> = { kernel_shape: [...o.kernel], strides: [...o.strides], dilations: [1, 1], pads, ceil_mode: 0 };
    // TF's average pooling divides by the number of valid (unpadded) elements.
    if (kind === 'avg') attrs.count_include_pad = 0;
    return this.emit(kind === 'max' ? 'MaxPool' : 'AveragePool', [this.toNCHW(x)], attrs, kind === 'max' ? 'maxpool' : 'avgpool');
  }

  /** BatchNormalization over the channel axis `axis` of x (any rank ≥ 2). */
  batchNorm(x: TensorId, scale: TensorId, offset: TensorId, mean: TensorId, variance: TensorId, epsilon: number, axis: number): TensorId {
    const r = this.rank(x);
    if (r < 2) fail(`batch normalisation needs rank ≥ 2, got [${this.shapeOf(x).join(',')}]`, 'invalid-model');
    if (axis === 1) return this.emit('BatchNormalization', [x, scale, offset, mean, variance], { epsilon: f32(epsilon) }, 'batchnorm');
    if (r === 4 && axis === 3) {
      const y = this.emit('BatchNormalization', [this.toNCHW(x), scale, offset, mean, variance], { epsilon: f32(epsilon) }, 'batchnorm');
      return this.toNHWC(y);
    }
    // Move the channel axis to 1 and back.
    const perm = [0, axis, ...Array.from({ length: r }, (_, i) => i).filter((i) => i !== 0 && i !== axis)];
    const inv = perm.map((_, i) => perm.indexOf(i));
    const y = this.emit('BatchNormalization', [this.transpose(x, perm), scale, offset, mean, variance], { epsilon: f32(epsilon) }, 'batchnorm');
    return this.transpose(y, inv, 'transpose_back');
  }

  /** y = x + bias broadcast over channel axis 1 of an NCHW tensor (bias: [C]). */
  addChannelBiasNCHW(x: TensorId, bias: TensorId): TensorId {
    const c = this.shapeOf(bias)[0]!;
    return this.emit('Add', [x, this.reshape(bias, [c, 1, 1], 'bias_reshape')], {}, 'bias_add');
  }

  // ------------------------------------------------------------ layout-aware elementwise ops
  //
  // An NHWC tensor that is a transposed NCHW result (from toNHWC) is computed on in NCHW and transposed
  // after the op instead, so that the transpose can cancel against the next conv or pool's toNCHW.

  /** NHWC axis k of a toNHWC result is NCHW axis NCHW_TO_NHWC[k]. */
  private static nchwAxis(k: number): number {
    return NCHW_TO_NHWC[k]!;
  }

  /** A unary elementwise op. */
  unary(op: string, x: TensorId, attrs: Record<string, number | string | readonly number[]> = {}, suffix?: string, scalars: readonly TensorId[] = []): TensorId {
    const src = this.nchwSource.get(x);
    if (src !== undefined) return this.toNHWC(this.emit(op, [src, ...scalars], attrs, suffix));
    return this.emit(op, [x, ...scalars], attrs, suffix);
  }

  /** The NCHW form of operand b of a binary op whose other operand is NCHW-sourced, if it is cheap. */
  private asNCHWOperand(b: TensorId, c: number): TensorId | undefined {
    const src = this.nchwSource.get(b);
    if (src !== undefined) return src;
    const s = this.shapeOf(b);
    if (numel(s) === 1 && s.length <= 4) return b;
    // A per-channel constant, [C] or [1, …, 1, C] (rank ≤ 4): the same values as [C, 1, 1] in NCHW.
    if (s.length >= 1 && s.length <= 4 && s[s.length - 1] === c && numel(s) === c && this.b.isConstant(b)) return this.reshape(b, [c, 1, 1], 'to_nchw_operand');
    return undefined;
  }

  /** A binary elementwise op with numpy broadcasting. */
  binary(op: string, a: TensorId, b: TensorId, suffix?: string): TensorId {
    const sa = this.nchwSource.get(a), sb = this.nchwSource.get(b);
    if (sa !== undefined || sb !== undefined) {
      const main = (sa !== undefined ? a : b);
      const c = this.shapeOf(main)[3]!;
      const ok = (sa === undefined || sb === undefined) ? true : this.shapeOf(a).every((d, i) => d === this.shapeOf(b)[i]);
      const na = sa ?? this.asNCHWOperand(a, c);
      const nb = sb ?? this.asNCHWOperand(b, c);
      if (ok && na !== undefined && nb !== undefined) return this.toNHWC(this.emit(op, [na, nb], {}, suffix));
    }
    return this.emit(op, [a, b], {}, suffix);
  }

  /** A Reduce* op over sorted non-negative axes. */
  reduce(op: string, x: TensorId, axes: readonly number[], keepdims: boolean, suffix = 'reduce'): TensorId {
    const src = this.nchwSource.get(x);
    if (src !== undefined) {
      const nchwAxes = axes.map(Lowerer.nchwAxis).sort((a, b) => a - b);
      // NCHW axis j holds NHWC axis NHWC_TO_NCHW[j]; without keepdims the kept axes must stay in NHWC order.
      const kept = NHWC_TO_NCHW.filter((k) => !axes.includes(k));
      if (keepdims || kept.every((k, i) => i === 0 || k > kept[i - 1]!)) {
        const y = this.emit(op, [src], { axes: nchwAxes, keepdims: keepdims ? 1 : 0 }, suffix);
        return keepdims ? this.toNHWC(y) : y;
      }
    }
    return this.emit(op, [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 }, suffix);
  }

  /** Concatenation along `axis`. */
  concat(xs: readonly TensorId[], axis: number, suffix = 'concat'): TensorId {
    if (xs.length === 1) return xs[0]!;
    const srcs = xs.map((x) => this.nchwSource.get(x));
    if (srcs.every((s) => s !== undefined)) return this.toNHWC(this.emit('Concat', srcs as TensorId[], { axis: Lowerer.nchwAxis(axis) }, suffix));
    return this.emit('Concat', xs, { axis }, suffix);
  }

  /** Pad with IR pads (begins then ends) given for the tensor's own (NHWC) axes. */
  pad(x: TensorId, pads: readonly number[], value: TensorId, mode: string, suffix = 'pad'): TensorId {
    const src = this.nchwSource.get(x);
    if (src !== undefined) {
      const p = (k: number) => [pads[k + 0]!, pads[k + 3]!, pads[k + 1]!, pads[k + 2]!];
      return this.toNHWC(this.emit('Pad', [src, value], { pads: [...p(0), ...p(4)], mode }, suffix));
    }
    return this.emit('Pad', [x, value], { pads: [...pads], mode }, suffix);
  }

  /**
   * A named activation (Keras names and TF op names, case-insensitive); softmax works on opts.axis
   * (default: the last axis).
   */
  activation(x: TensorId, name: string, opts: { alpha?: number; axis?: number; prelu?: TensorId } = {}): TensorId {
    const src = this.nchwSource.get(x);
    const n = name.toLowerCase();
    if (src !== undefined && n !== 'prelu' && n !== 'linear' && n !== 'identity' && n !== '') {
      return this.toNHWC(this.activationOn(src, n, { ...opts, axis: Lowerer.nchwAxis(opts.axis ?? 3) }));
    }
    return this.activationOn(x, n, opts);
  }

  private activationOn(x: TensorId, n: string, opts: { alpha?: number; axis?: number; prelu?: TensorId }): TensorId {
    const name = n;
    switch (n) {
      case 'linear': case 'identity': case '': return x;
      case 'relu': return this.emit('Relu', [x], {}, 'relu');
      case 'relu6': return this.emit('Clip', [x, this.scalar(0), this.scalar(6)], {}, 'relu6');
      case 'sigmoid': return this.emit('Sigmoid', [x], {}, 'sigmoid');
      case 'tanh': return this.emit('Tanh', [x], {}, 'tanh');
      case 'elu': return this.emit('Elu', [x], { alpha: f32(opts.alpha ?? 1) }, 'elu');
      case 'selu': return this.emit('Selu', [x], { alpha: f32(1.6732632423543772), gamma: f32(1.0507009873554805) }, 'selu');
      case 'softplus': return this.emit('Softplus', [x], {}, 'softplus');
      case 'softsign': return this.emit('Softsign', [x], {}, 'softsign');
      case 'leakyrelu': return this.emit('LeakyRelu', [x], { alpha: f32(opts.alpha ?? 0.2) }, 'leakyrelu');
      case 'hard_sigmoid': case 'hardsigmoid': return this.emit('HardSigmoid', [x], { alpha: f32(0.2), beta: f32(0.5) }, 'hard_sigmoid');
      case 'swish': case 'silu': return this.emit('Mul', [x, this.emit('Sigmoid', [x], {}, 'sigmoid')], {}, 'swish');
      case 'exponential': case 'exp': return this.emit('Exp', [x], {}, 'exp');
      case 'mish': return this.emit('Mish', [x], {}, 'mish');
      case 'gelu': return this.emit('Gelu', [x], { approximate: 0 }, 'gelu');
      case 'gelu_new': case 'gelunew': return this.emit('Gelu', [x], { approximate: 1 }, 'gelu');
      case 'softmax': return this.emit('Softmax', [x], { axis: opts.axis ?? this.rank(x) - 1 }, 'softmax');
      case 'log_softmax': case 'logsoftmax': return this.emit('LogSoftmax', [x], { axis: opts.axis ?? this.rank(x) - 1 }, 'log_softmax');
      case 'prelu': {
        if (opts.prelu === undefined) return fail('PRelu needs its slope tensor', 'invalid-model');
        return this.emit('PRelu', [x, opts.prelu], {}, 'prelu');
      }
      default: return fail(`activation '${name}' is not supported (relu, relu6, sigmoid, tanh, elu, selu, softplus, softsign, leakyrelu, hard_sigmoid, swish, mish, gelu, softmax, linear)`);
    }
  }
}

