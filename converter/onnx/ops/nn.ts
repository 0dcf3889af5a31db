/**
 * ONNX lowerings: nn family — MatMul, Gemm, Conv, ConvTranspose, pools, normalisations, LRN, Resize
 * and Upsample. Every auto_pad, output_shape and default is resolved here, so the IR nodes carry
 * explicit pads and complete attributes (see converter/ir/ops/nn.ts for the IR semantics).
 */
import { onnxOp } from '../registry.ts';
import type { OnnxNodeContext } from '../context.ts';
import type { TensorId } from '../../ir/types.ts';
import { numel } from '../../ir/types.ts';
import { hostTensor, toNumbers } from '../../ir/host-tensor.ts';

const f32 = Math.fround;

function fmt(s: readonly number[]): string {
  return `[${s.join('x')}]`;
}

/** Fail with 'dtype' unless input i is float32 (the nn kernels are float32). */
function requireFloat(c: OnnxNodeContext, i: number, what: string): void {
  const d = c.type(i).dtype;
  if (d !== 'float32') c.fail(`${what} has element type ${d}; this op is supported on float32 only`, 'dtype');
}

// ---------------------------------------------------------------- MatMul, Gemm

onnxOp('MatMul', (c) => {
  requireFloat(c, 0, 'A');
  requireFloat(c, 1, 'B');
  c.out(c.emit1('MatMul', [c.in(0), c.in(1)]));
});

onnxOp('Gemm', (c) => {
  requireFloat(c, 0, 'A');
  requireFloat(c, 1, 'B');
  const ta = c.int('transA', 0), tb = c.int('transB', 0);
  const alpha = c.float('alpha', 1), beta = c.float('beta', 1);
  let a = c.in(0), b = c.in(1);
  if (c.rank(0) !== 2 || c.rank(1) !== 2) c.fail(`A ${fmt(c.type(0).shape)} and B ${fmt(c.type(1).shape)} must be matrices`, 'invalid-model');
  // Transposes of constant weights fold, so transB on an initializer costs nothing.
  if (ta) a = c.emit1('Transpose', [a], { perm: [1, 0] });
  if (tb) b = c.emit1('Transpose', [b], { perm: [1, 0] });
  let y = c.emit1('MatMul', [a, b]);
  const one = (v: number, n: string) => c.constant(hostTensor('float32', [], [v]), n);
  if (alpha !== 1) y = c.emit1('Mul', [y, one(alpha, 'alpha')]);
  if (c.has(2)) {
    requireFloat(c, 2, 'C');
    const ys = c.b.typeOf(y).shape;
    const cs = c.type(2).shape;
    // C broadcasts unidirectionally to (M, N); opset < 7 with broadcast = 0 requires the exact shape.
    const ok = cs.length <= 2 && cs.every((d, i) => d === 1 || d === ys[ys.length - cs.length + i]);
    if (!ok) c.fail(`C ${fmt(cs)} does not broadcast to the output ${fmt(ys)}`, 'invalid-model');
    if (c.opset < 7 && !c.int('broadcast', 0) && (cs.length !== 2 || cs[0] !== ys[0] || cs[1] !== ys[1])) {
      c.warn(`C ${fmt(cs)} is broadcast although broadcast = 0 (opset ${c.opset})`);
    }
    let cc = c.in(2);
    if (beta !== 1) cc = c.emit1('Mul', [cc, one(beta, 'beta')]);
    y = c.emit1('Add', [y, cc]);
  }
  c.out(y);
});

// ---------------------------------------------------------------- window attributes

interface Window { kernel: number[]; strides: number[]; dilations: number[]; pads: number[] }

/** kernel, strides, dilations and explicit pads of a Conv or pool, auto_pad resolved. */
function resolveWindow(c: OnnxNodeContext, spatial: readonly number[], kernel: number[]): Window {
  const sp = spatial.length;
  const ones = new Array<number>(sp).fill(1);
  const strides = c.ints('strides', ones);
  const dilations = c.ints('dilations', ones);
  if (strides.length !== sp) c.fail(`strides [${strides}] needs ${sp} values`, 'invalid-model');
  if (dilations.length !== sp) c.fail(`dilations [${dilations}] needs ${sp} values`, 'invalid-model');
  if (kernel.length !== sp) c.fail(`kernel_shape [${kernel}] needs ${sp} values`, 'invalid-model');
  const autoPad = c.string('auto_pad', 'NOTSET');
  let pads: number[];
  if (autoPad === 'NOTSET' || autoPad === '') {
    pads = c.ints('pads', new Array<number>(2 * sp).fill(0));
    if (pads.length !== 2 * sp) c.fail(`pads [${pads}] needs ${2 * sp} values (begins then ends)`, 'invalid-model');
    if (pads.some((p) => p < 0)) c.fail(`negative pads [${pads}] are not supported`);
  } else if (autoPad === 'VALID') {
    pads = new Array<number>(2 * sp).fill(0);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const b: number[] = [], e: number[] = [];
    for (let i = 0; i < sp; i++) {
      const out = Math.ceil(spatial[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - spatial[i]!);
      const small = Math.floor(total / 2);
      b.push(autoPad === 'SAME_UPPER' ? small : total - small);
      e.push(autoPad === 'SAME_UPPER' ? total - small : small);
    }
    pads = [...b, ...e];
  } else return c.fail(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  return { kernel, strides, dilations, pads };
}

function spatialOf(c: OnnxNodeContext, i: number, min = 1): number[] {
  const s = c.type(i).shape;
  if (s.length < 2 + min) c.fail(`input ${fmt(s)} must be (N, C, spatial…) with at least ${min} spatial axis`, 'invalid-model');
  return s.slice(2);
}

// ---------------------------------------------------------------- Conv, ConvTranspose

onnxOp('Conv', (c) => {
  requireFloat(c, 0, 'X');
  requireFloat(c, 1, 'W');
  const sp = spatialOf(c, 0);
  const ws = c.type(1).shape;
  const kernel = c.ints('kernel_shape', ws.slice(2));
  if (kernel.some((k, i) => k !== ws[2 + i])) c.fail(`kernel_shape [${kernel}] does not match W ${fmt(ws)}`, 'invalid-model');
  const w = resolveWindow(c, sp, kernel);
  const ins = [c.in(0), c.in(1)];
  if (c.has(2)) ins.push(c.in(2));
  c.out(c.emit1('Conv', ins, { group: c.int('group', 1), strides: w.strides, dilations: w.dilations, pads: w.pads }));
});

onnxOp('ConvTranspose', (c) => {
  requireFloat(c, 0, 'X');
  requireFloat(c, 1, 'W');
  const sp = spatialOf(c, 0);
  const n = sp.length;
  const ws = c.type(1).shape;
  const kernel = c.ints('kernel_shape', ws.slice(2));
  if (kernel.length !== n || kernel.some((k, i) => k !== ws[2 + i])) c.fail(`kernel_shape [${kernel}] does not match W ${fmt(ws)}`, 'invalid-model');
  const ones = new Array<number>(n).fill(1);
  const strides = c.ints('strides', ones), dilations = c.ints('dilations', ones);
  if (strides.length !== n || dilations.length !== n) c.fail(`strides and dilations need ${n} values`, 'invalid-model');
  const outPad = c.ints('output_padding', new Array<number>(n).fill(0));
  if (outPad.length !== n || outPad.some((p) => p < 0)) c.fail(`output_padding [${outPad}] needs ${n} non-negative values`, 'invalid-model');
  const autoPad = c.string('auto_pad', 'NOTSET');
  if (!['NOTSET', '', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) c.fail(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  let target: number[] | undefined;
  if (c.hasAttr('output_shape')) {
    const os = c.ints('output_shape');
    target = os.length === n + 2 ? os.slice(2) : os;
    if (target.length !== n) c.fail(`output_shape [${os}] needs ${n} spatial values`, 'invalid-model');
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    target = sp.map((d, i) => d * strides[i]!);
  }
  let pads: number[];
  const op = [...outPad];
  if (target) {
    // ONNX: total = s·(in − 1) + output_padding + (k − 1)·d + 1 − out; SAME_UPPER puts the odd unit at
    // the end, every other mode at the begin. A negative total (output larger than the full result)
    // becomes extra output_padding: those positions receive no input terms.
    const b: number[] = [], e: number[] = [];
    for (let i = 0; i < n; i++) {
      const total = strides[i]! * (sp[i]! - 1) + outPad[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - target[i]!;
      if (total < 0) { b.push(0); e.push(0); op[i] = op[i]! - total; continue; }
      const half = Math.floor(total / 2);
      b.push(autoPad === 'SAME_UPPER' ? half : total - half);
      e.push(autoPad === 'SAME_UPPER' ? total - half : half);
    }
    pads = [...b, ...e];
  } else if (autoPad === 'VALID') {
    pads = new Array<number>(2 * n).fill(0);
  } else {
    pads = c.ints('pads', new Array<number>(2 * n).fill(0));
    if (pads.length !== 2 * n || pads.some((p) => p < 0)) c.fail(`pads [${pads}] needs ${2 * n} non-negative values`, 'invalid-model');
  }
  const ins = [c.in(0), c.in(1)];
  if (c.has(2)) ins.push(c.in(2));
  c.out(c.emit1('ConvTranspose', ins, { group: c.int('group', 1), strides, dilations, pads, output_padding: op }));
});

// ---------------------------------------------------------------- pools

function poolWindow(c: OnnxNodeContext) {
  const sp = spatialOf(c, 0);
  const kernel = c.ints('kernel_shape');
  const w = resolveWindow(c, sp, kernel);
  const ceil = c.int('ceil_mode', 0);
  return { kernel_shape: w.kernel, strides: w.strides, dilations: w.dilations, pads: w.pads, ceil_mode: ceil ? 1 : 0 };
}

onnxOp('MaxPool', (c) => {
  const d = c.type(0).dtype;
  if (d !== 'float32' && d !== 'int8' && d !== 'uint8') c.fail(`X has element type ${d}; MaxPool supports float32, int8 and uint8`, 'dtype');
  const attrs = poolWindow(c);
  if (c.hasOut(1)) {
    const so = c.int('storage_order', 0);
    const [y, idx] = c.emit('MaxPoolWithIndices', [c.in(0)], { ...attrs, storage_order: so });
    return c.out(y!, idx!);
  }
  c.out(c.emit1('MaxPool', [c.in(0)], attrs));
});

onnxOp('AveragePool', (c) => {
  requireFloat(c, 0, 'X');
  c.out(c.emit1('AveragePool', [c.in(0)], { ...poolWindow(c), count_include_pad: c.int('count_include_pad', 0) ? 1 : 0 }));
});

/** LpPool's p: a float attribute in opset 1, an int from opset 2. */
function lpP(c: OnnxNodeContext): number {
  const p = c.opset < 2 ? c.float('p', 2) : c.int('p', 2);
  if (!Number.isInteger(p) || p < 1) return c.fail(`p = ${p} is not supported (integers ≥ 1 only)`);
  return p;
}

onnxOp('LpPool', (c) => {
  requireFloat(c, 0, 'X');
  c.out(c.emit1('LpPool', [c.in(0)], { ...poolWindow(c), p: lpP(c) }));
});

onnxOp('GlobalAveragePool', (c) => {
  requireFloat(c, 0, 'X');
  c.out(c.emit1('GlobalAveragePool', [c.in(0)]));
});

onnxOp('GlobalMaxPool', (c) => {
  const d = c.type(0).dtype;
  if (d !== 'float32' && d !== 'int8' && d !== 'uint8') c.fail(`X has element type ${d}; GlobalMaxPool supports float32, int8 and uint8`, 'dtype');
  c.out(c.emit1('GlobalMaxPool', [c.in(0)]));
});

onnxOp('GlobalLpPool', (c) => {
  requireFloat(c, 0, 'X');
  const sp = spatialOf(c, 0);
  const n = sp.length;
  c.out(c.emit1('LpPool', [c.in(0)], {
    kernel_shape: sp, strides: new Array<number>(n).fill(1), dilations: new Array<number>(n).fill(1), pads: new Array<number>(2 * n).fill(0), ceil_mode: 0, p: lpP(c),
  }));
});

// ---------------------------------------------------------------- normalisations

onnxOp('BatchNormalization', (c) => {
  requireFloat(c, 0, 'X');
  for (let i = 1; i <= 4; i++) requireFloat(c, i, ['', 'scale', 'B', 'mean', 'var'][i]!);
  if (c.opset >= 14 && c.int('training_mode', 0)) return batchNormTraining(c);
  if (c.opset < 7 && c.hasAttr('is_test') && c.int('is_test') === 0 && [1, 2, 3, 4].some((i) => c.hasOut(i))) {
    return c.fail('is_test = 0 with training outputs is not supported; export the model in inference mode');
  }
  if (c.opset < 7 && c.hasAttr('is_test') && c.int('is_test') === 0) c.warn('is_test = 0 ignored: inference normalises with the given mean and var');
  for (let i = 1; i <= 4; i++) {
    if (c.hasOut(i)) return c.fail(`output ${i} (running/saved statistics) exists only in training mode; remove it or export for inference`);
  }
  const x = c.type(0);
  if (c.opset < 9 && c.int('spatial', 1) === 0 && x.shape.length > 2) {
    return c.fail('spatial = 0 (per-activation statistics) is not supported; only per-channel (spatial = 1)');
  }
  // The opset < 7 consumed_inputs attribute is a legacy memory annotation with no effect on inference.
  c.out(c.emit1('BatchNormalization', [c.in(0), c.in(1), c.in(2), c.in(3), c.in(4)], { epsilon: c.float('epsilon', 1e-5) }));
});

/**
 * training_mode = 1 (opset 14+): normalise with the batch's own statistics (mean and biased variance
 * over every axis but the channel axis 1) and output the updated running statistics,
 * running = input · momentum + batch · (1 − momentum), as ONNX's reference computes them.
 */
function batchNormTraining(c: OnnxNodeContext): void {
  const x = c.type(0);
  const C = x.shape[1]!;
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  const mean = c.emit1('ReduceMean', [c.in(0)], { axes, keepdims: 0 });
  const diff = c.emit1('Sub', [c.in(0), c.emit1('Reshape', [mean], { shape: bshape })]);
  const v = c.emit1('ReduceMean', [c.emit1('Mul', [diff, diff])], { axes, keepdims: 0 });
  const y = c.emit1('BatchNormalization', [c.in(0), c.in(1), c.in(2), mean, v], { epsilon: c.float('epsilon', 1e-5) });
  const m = c.float('momentum', 0.9);
  const k = c.constant(hostTensor('float32', [], [m]), 'momentum');
  const k1 = c.constant(hostTensor('float32', [], [Math.fround(1 - m)]), 'one_minus_momentum');
  const run = (prev: TensorId, cur: TensorId) => c.emit1('Add', [c.emit1('Mul', [prev, k]), c.emit1('Mul', [cur, k1])]);
  if (c.b.typeOf(mean).shape[0] !== C) c.fail('channel statistics of unexpected shape', 'invalid-model');
  c.out(y, run(c.in(3), mean), run(c.in(4), v));
}

onnxOp('InstanceNormalization', (c) => {
  for (let i = 0; i < 3; i++) requireFloat(c, i, ['input', 'scale', 'B'][i]!);
  c.out(c.emit1('InstanceNormalization', [c.in(0), c.in(1), c.in(2)], { epsilon: c.float('epsilon', 1e-5) }));
});

onnxOp('LayerNormalization', (c) => {
  requireFloat(c, 0, 'X');
  requireFloat(c, 1, 'Scale');
  if (c.has(2)) requireFloat(c, 2, 'B');
  const r = c.rank(0);
  let axis = c.int('axis', -1);
  if (axis < -r || axis >= r) c.fail(`axis ${axis} out of range for rank ${r}`, 'invalid-model');
  if (axis < 0) axis += r;
  const stash = c.int('stash_type', 1);
  if (stash !== 1) c.warn(`stash_type ${stash} ignored: statistics are computed in float32`);
  const nOut = c.hasOut(1) || c.hasOut(2) ? 3 : 1;
  const ins = [c.in(0), c.in(1)];
  if (c.has(2)) ins.push(c.in(2));
  c.out(...c.emit('LayerNormalization', ins, { axis, epsilon: c.float('epsilon', 1e-5), num_outputs: nOut }));
});

onnxOp('GroupNormalization', (c) => {
  for (let i = 0; i < 3; i++) requireFloat(c, i, ['X', 'scale', 'bias'][i]!);
  const x = c.type(0);
  if (x.shape.length < 2) c.fail(`X ${fmt(x.shape)} must be (N, C, …)`, 'invalid-model');
  const C = x.shape[1]!;
  const g = c.int('num_groups');
  if (g < 1 || C % g !== 0) c.fail(`num_groups ${g} must divide the channels ${C}`, 'invalid-model');
  // Opset 18 scale and bias are per group ([num_groups]); expand to per channel ([C]) with an exact
  // multiplication by ones (folds when they are constants).
  const perChannel = (i: number): TensorId => {
    const s = c.type(i).shape;
    if (s.length === 1 && s[0] === C) return c.in(i);
    if (s.length === 1 && s[0] === g) {
      const r = c.emit1('Reshape', [c.in(i)], { shape: [g, 1] });
      const ones = c.constant(hostTensor('float32', [g, C / g], new Float32Array(C).fill(1)), 'ones');
      return c.emit1('Reshape', [c.emit1('Mul', [r, ones])], { shape: [C] });
    }
    return c.fail(`${i === 1 ? 'scale' : 'bias'} ${fmt(s)} must be [${C}] or [${g}]`, 'invalid-model');
  };
  c.out(c.emit1('GroupNormalization', [c.in(0), perChannel(1), perChannel(2)], { num_groups: g, epsilon: c.float('epsilon', 1e-5) }));
});

onnxOp('LRN', (c) => {
  requireFloat(c, 0, 'X');
  c.out(c.emit1('LRN', [c.in(0)], { size: c.int('size'), alpha: c.float('alpha', 1e-4), beta: c.float('beta', 0.75), bias: c.float('bias', 1) }));
});

onnxOp('MeanVarianceNormalization', (c) => {
  requireFloat(c, 0, 'X');
  const r = c.rank(0);
  const axes = c.ints('axes', [0, 2, 3]).map((a) => (a < 0 ? a + r : a));
  if (axes.some((a) => a < 0 || a >= r)) c.fail(`axes [${c.ints('axes', [0, 2, 3])}] out of range for rank ${r}`, 'invalid-model');
  c.out(c.emit1('MeanVarianceNormalization', [c.in(0)], { axes: [...new Set(axes)].sort((a, b) => a - b) }));
});

onnxOp('LpNormalization', (c) => {
  requireFloat(c, 0, 'input');
  const r = c.rank(0);
  let axis = c.int('axis', -1);
  if (axis < -r || axis >= Math.max(r, 1)) c.fail(`axis ${axis} out of range for rank ${r}`, 'invalid-model');
  if (axis < 0) axis += r;
  const p = c.int('p', 2);
  if (p !== 1 && p !== 2) c.fail(`p = ${p} is not supported (ONNX allows 1 or 2)`);
  c.out(c.emit1('LpNormalization', [c.in(0)], { axis, p }));
});

// ---------------------------------------------------------------- Resize, Upsample

/** Round half to even (numpy's round), for the keep_aspect_ratio_policy sizes. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

interface ResizeSpec {
  sizes: number[];
  scales: number[];
  roi: number[];
  mode: string;
  coord: string;
  nearest: string;
  cubicA: number;
  exclude: number;
  extrapolation: number;
}

function emitResize(c: OnnxNodeContext, s: ResizeSpec): void {
  if (s.mode !== 'nearest') requireFloat(c, 0, 'X');
  c.out(c.emit1('Resize', [c.in(0)], {
    sizes: s.sizes, scales: s.scales.map(f32), roi: s.roi.map(f32), mode: s.mode, coordinate_transformation_mode: s.coord, nearest_mode: s.nearest,
    cubic_coeff_a: f32(s.cubicA), exclude_outside: s.exclude, extrapolation_value: f32(s.extrapolation),
  }));
}

/** Output sizes for given scales: floor(in · scale) in float64 of the float32 values (the ONNX reference). */
function sizesFromScales(c: OnnxNodeContext, inShape: readonly number[], scales: readonly number[]): number[] {
  if (scales.length !== inShape.length) c.fail(`scales has ${scales.length} values for an input of rank ${inShape.length}`, 'invalid-model');
  for (const s of scales) if (!(s > 0) || !Number.isFinite(s)) c.fail(`scales [${scales}] must be positive and finite`, 'invalid-model');
  const out = inShape.map((d, i) => Math.floor(d * scales[i]!));
  if (out.some((d) => d < 1)) c.fail(`scales [${scales}] give an empty output ${fmt(out)} for input ${fmt(inShape)}`, 'invalid-model');
  return out;
}

function checkModes(c: OnnxNodeContext, mode: string): string {
  const m = mode === 'bilinear' || mode === 'trilinear' ? 'linear' : mode === 'bicubic' ? 'cubic' : mode;
  if (m !== 'nearest' && m !== 'linear' && m !== 'cubic') return c.fail(`mode '${mode}' is not one of nearest, linear, cubic`);
  return m;
}

onnxOp('Resize', (c) => {
  const x = c.type(0);
  const r = x.shape.length;
  const mode = checkModes(c, c.string('mode', 'nearest'));
  if (c.opset < 11) {
    // Opset 10: inputs (X, scales); Upsample semantics (asymmetric coordinates, floor for nearest).
    const scales = c.constFloats(1, 'scales');
    if (mode === 'cubic') c.fail("mode 'cubic' does not exist in opset 10");
    return emitResize(c, { sizes: sizesFromScales(c, x.shape, scales), scales, roi: [], mode, coord: 'asymmetric', nearest: 'floor', cubicA: -0.75, exclude: 0, extrapolation: 0 });
  }
  const coord = c.string('coordinate_transformation_mode', 'half_pixel');
  if (!['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize', 'tf_half_pixel_for_nn'].includes(coord)) {
    c.fail(`coordinate_transformation_mode '${coord}' is not one of half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric, tf_crop_and_resize, tf_half_pixel_for_nn`);
  }
  const nearest = c.string('nearest_mode', 'round_prefer_floor');
  if (!['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(nearest)) c.fail(`nearest_mode '${nearest}' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil`);
  if (c.int('antialias', 0)) c.fail('antialias = 1 is not supported (only antialias = 0)');
  const policy = c.string('keep_aspect_ratio_policy', 'stretch');
  if (!['stretch', 'not_larger', 'not_smaller'].includes(policy)) c.fail(`keep_aspect_ratio_policy '${policy}' is not one of stretch, not_larger, not_smaller`);
  let axes = c.ints('axes', [...Array(r).keys()]).map((a) => (a < 0 ? a + r : a));
  if (axes.some((a) => a < 0 || a >= r) || new Set(axes).size !== axes.length) c.fail(`axes [${c.ints('axes', [])}] invalid for rank ${r}`, 'invalid-model');
  if (!c.hasAttr('axes')) axes = [...Array(r).keys()];

  // roi: [starts…, ends…] over `axes`; used only by tf_crop_and_resize.
  let roi: number[] = [];
  if (coord === 'tf_crop_and_resize') {
    const given = c.has(1) ? c.constFloats(1, 'roi') : [];
    if (given.length !== 2 * axes.length) c.fail(`tf_crop_and_resize needs roi with ${2 * axes.length} values, got ${given.length}`, 'invalid-model');
    const starts = new Array<number>(r).fill(0), ends = new Array<number>(r).fill(1);
    axes.forEach((a, i) => { starts[a] = given[i]!; ends[a] = given[axes.length + i]!; });
    roi = [...starts, ...ends];
  }

  const scalesIn = c.has(2) ? c.constOf(2) : undefined;
  if (c.has(2) && !scalesIn) c.fail('scales must be a constant; run-time scales would make the output shape dynamic', 'dynamic-shape');
  const useScales = scalesIn !== undefined && numel(scalesIn.shape) > 0;
  let sizes: number[], scales: number[];
  if (useScales) {
    const given = toNumbers(scalesIn!);
    if (given.length !== axes.length) c.fail(`scales has ${given.length} values, expected ${axes.length}`, 'invalid-model');
    scales = new Array<number>(r).fill(1);
    axes.forEach((a, i) => { scales[a] = given[i]!; });
    if (coord === 'tf_crop_and_resize') {
      sizes = x.shape.map((d, i) => Math.floor(d * (roi[r + i]! - roi[i]!) * scales[i]!));
      if (sizes.some((d) => d < 1)) c.fail(`scales and roi give an empty output ${fmt(sizes)}`, 'invalid-model');
    } else sizes = sizesFromScales(c, x.shape, scales);
  } else {
    if (!c.has(3)) c.fail('needs scales or sizes', 'invalid-model');
    const given = c.constInts(3, 'sizes');
    if (given.length !== axes.length) c.fail(`sizes has ${given.length} values, expected ${axes.length}`, 'invalid-model');
    sizes = [...x.shape];
    scales = new Array<number>(r).fill(1);
    if (policy === 'stretch') {
      axes.forEach((a, i) => { sizes[a] = given[i]!; scales[a] = f32(given[i]! / x.shape[a]!); });
    } else {
      const ratios = axes.map((a, i) => given[i]! / x.shape[a]!);
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => { sizes[a] = roundEven(s * x.shape[a]!); scales[a] = f32(s); });
    }
    if (sizes.some((d) => d < 1)) c.fail(`sizes give an empty output ${fmt(sizes)}`, 'invalid-model');
  }
  // Axes of unchanged length map identically whatever the coordinate mode (except crops).
  emitResize(c, {
    sizes, scales, roi, mode, coord, nearest, cubicA: c.float('cubic_coeff_a', -0.75), exclude: c.int('exclude_outside', 0) ? 1 : 0,
    extrapolation: c.float('extrapolation_value', 0),
  });
});

onnxOp('Upsample', (c) => {
  const x = c.type(0);
  const mode = checkModes(c, c.string('mode', 'nearest'));
  if (mode === 'cubic') c.fail("mode 'cubic' is not defined for Upsample");
  let scales: number[];
  if (c.opset >= 9) scales = c.constFloats(1, 'scales');
  else if (c.hasAttr('scales')) scales = c.floats('scales');
  else {
    // Opset 1 (experimental): height_scale and width_scale on a 4-D input.
    if (x.shape.length !== 4) c.fail('opset-1 Upsample needs a 4-D input', 'invalid-model');
    scales = [1, 1, c.float('height_scale'), c.float('width_scale')];
  }
  emitResize(c, { sizes: sizesFromScales(c, x.shape, scales), scales, roi: [], mode, coord: 'asymmetric', nearest: 'floor', cubicA: -0.75, exclude: 0, extrapolation: 0 });
});
