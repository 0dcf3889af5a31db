/**
 * ONNX lowerings: special family — losses (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss),
 * recurrent networks (RNN, GRU, LSTM, unrolled over their static sequence length), Det, MaxUnpool,
 * DFT/STFT, window and mel generators, GridSample, RoiAlign, Col2Im and CenterCropPad.
 */
import { onnxOp } from '../registry.ts';
import type { OnnxNodeContext } from '../context.ts';
import type { DType, TensorId } from '../../ir/types.ts';
import { hostTensor, toNumbers } from '../../ir/host-tensor.ts';
import { constDTypeOf, onnxTypeName } from '../tensor.ts';

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

// ---------------------------------------------------------------- losses

function lossAttrs(c: OnnxNodeContext) {
  const reduction = c.string('reduction', 'mean');
  if (reduction !== 'none' && reduction !== 'sum' && reduction !== 'mean') c.fail(`reduction='${reduction}' is not one of 'none', 'sum', 'mean'`);
  // Without ignore_index every target must be a class in [0, C); −1 is never one, and the IR op
  // treats out-of-range targets as ignored, so −1 stands for "no ignore_index".
  const ignore_index = c.hasAttr('ignore_index') ? c.int('ignore_index') : -1;
  return { reduction, ignore_index };
}

function checkLossInputs(c: OnnxNodeContext, what: string) {
  const x = c.type(0);
  if (x.dtype !== 'float32') c.fail(`${what} of dtype ${x.dtype} is not supported (float32 only)`, 'dtype');
  const t = c.type(1).dtype;
  if (t !== 'int32' && t !== 'int64') c.fail(`target of dtype ${t} must be int32 or int64`, 'dtype');
  if (c.has(2) && c.type(2).dtype !== 'float32') c.fail(`weight of dtype ${c.type(2).dtype} is not supported (float32 only)`, 'dtype');
}

onnxOp('NegativeLogLikelihoodLoss', (c) => {
  checkLossInputs(c, 'input');
  c.out(c.emit1('NegativeLogLikelihoodLoss', c.ins(0).slice(0, 3), lossAttrs(c)));
});

onnxOp('SoftmaxCrossEntropyLoss', (c) => {
  checkLossInputs(c, 'scores');
  if (c.rank(0) < 2) c.fail(`scores must be [N, C, …], got ${fmt(c.type(0).shape)}`, 'invalid-model');
  const attrs = lossAttrs(c);
  // log_prob = LogSoftmax over the class axis; the loss is the NLL of log_prob.
  const logProb = c.emit1('LogSoftmax', [c.in(0)], { axis: 1 });
  const ins = [logProb, c.in(1)];
  if (c.has(2)) ins.push(c.in(2));
  c.out(c.emit1('NegativeLogLikelihoodLoss', ins, attrs), logProb);
});

// ---------------------------------------------------------------- recurrent (unrolled)

/*
 * RNN, GRU and LSTM have no IR op: the sequence length is static, so each is unrolled at convert
 * time into MatMul (numpy semantics), elementwise ops and activations, one step after the other.
 * Per direction, the input projections of all time steps are computed at once (X·Wᵍᵀ plus the
 * biases, one MatMul per gate); each step then adds the recurrent projection h·Rᵍᵀ. Weight slicing
 * and transposes fold when the weights are constants. sequence_lens (constant or not, forward or
 * reverse) becomes a per-batch mask unless it is a constant equal to the sequence length: a step at
 * t ≥ seq_len[b] leaves batch b's state unchanged and writes zeros to Y, which is exactly the ONNX
 * semantics (for reverse, the masked tail keeps the initial state until t = seq_len[b] − 1).
 * clip bounds every gate pre-activation (the inputs of f and g), not the cell state fed to h.
 * input_forget = 1 couples the LSTM gates as f = 1 − i (onnxruntime's rule).
 */

type RnnKind = 'RNN' | 'GRU' | 'LSTM';
const RNN_GATES: Record<RnnKind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const RNN_ACTS: Record<RnnKind, string[]> = { RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] };
/** Activation → [uses alpha, uses beta, default alpha, default beta] (onnxruntime's consumption rule). */
const ACT_PARAMS: Record<string, [boolean, boolean, number, number]> = {
  Relu: [false, false, 0, 0], Tanh: [false, false, 0, 0], Sigmoid: [false, false, 0, 0], Softsign: [false, false, 0, 0], Softplus: [false, false, 0, 0],
  LeakyRelu: [true, false, 0.01, 0], ThresholdedRelu: [true, false, 1, 0], Elu: [true, false, 1, 0],
  HardSigmoid: [true, true, 0.2, 0.5], Affine: [true, true, 1, 0], ScaledTanh: [true, true, 1, 1],
};
const ACT_NAMES = new Map(Object.keys(ACT_PARAMS).map((k) => [k.toLowerCase(), k]));

interface Act { name: string; alpha: number; beta: number }

class Unroller {
  private readonly scalars = new Map<number, TensorId>();
  private readonly transposed = new Map<TensorId, TensorId>();
  constructor(readonly c: OnnxNodeContext) {}

  scalar(v: number): TensorId {
    let id = this.scalars.get(v);
    if (id === undefined) { id = this.c.constant(hostTensor('float32', [], [v]), 'scalar'); this.scalars.set(v, id); }
    return id;
  }
  op(name: string, ...ins: TensorId[]): TensorId {
    return this.c.emit1(name, ins);
  }
  shape(x: TensorId): readonly number[] {
    return this.c.b.typeOf(x).shape;
  }
  reshape(x: TensorId, s: number[]): TensorId {
    const cur = this.shape(x);
    return cur.length === s.length && cur.every((d, i) => d === s[i]) ? x : this.c.emit1('Reshape', [x], { shape: s });
  }
  /** Equal pieces along `axis`, each reshaped to `s`. */
  split(x: TensorId, axis: number, n: number, s: number[]): TensorId[] {
    const size = this.shape(x)[axis]! / n;
    const parts = n === 1 ? [x] : this.c.emit('Split', [x], { axis, splits: new Array(n).fill(size) });
    return parts.map((p) => this.reshape(p, s));
  }
  /** a·wᵀ for a [..., K] and w [N, K] (numpy MatMul; the transpose of a constant weight folds). */
  matmulT(a: TensorId, w: TensorId): TensorId {
    let wT = this.transposed.get(w);
    if (wT === undefined) { wT = this.c.emit1('Transpose', [w], { perm: [1, 0] }); this.transposed.set(w, wT); }
    return this.c.emit1('MatMul', [a, wT]);
  }
  act(a: Act, x: TensorId): TensorId {
    const c = this.c;
    switch (a.name) {
      case 'LeakyRelu': case 'ThresholdedRelu': case 'Elu': return c.emit1(a.name, [x], { alpha: a.alpha });
      case 'HardSigmoid': return c.emit1('HardSigmoid', [x], { alpha: a.alpha, beta: a.beta });
      case 'Affine': return this.op('Add', this.op('Mul', x, this.scalar(a.alpha)), this.scalar(a.beta));
      case 'ScaledTanh': return this.op('Mul', this.op('Tanh', this.op('Mul', x, this.scalar(a.beta))), this.scalar(a.alpha));
      default: return this.op(a.name, x);
    }
  }
}

function rnnActivations(c: OnnxNodeContext, kind: RnnKind, D: number): Act[][] {
  const per = RNN_ACTS[kind].length;
  let names = c.strings('activations', []);
  if (names.length === 0) names = new Array<string[]>(D).fill(RNN_ACTS[kind]).flat();
  if (names.length === per && D === 2) names = [...names, ...names];
  if (names.length !== per * D) c.fail(`activations lists ${names.length} functions; ${kind} needs ${per} per direction (${per * D})`, 'invalid-model');
  const alphas = c.floats('activation_alpha', []);
  const betas = c.floats('activation_beta', []);
  let ia = 0, ib = 0;
  const acts = names.map((n) => {
    const name = ACT_NAMES.get(n.toLowerCase());
    if (!name) return c.fail(`activation '${n}' is not supported (supported: ${Object.keys(ACT_PARAMS).join(', ')})`);
    const [ua, ub, da, db] = ACT_PARAMS[name]!;
    const alpha = ua && ia < alphas.length ? alphas[ia++]! : Math.fround(da);
    const beta = ub && ib < betas.length ? betas[ib++]! : Math.fround(db);
    return { name, alpha, beta };
  });
  return D === 2 ? [acts.slice(0, per), acts.slice(per)] : [acts];
}

function lowerRecurrent(c: OnnxNodeContext, kind: RnnKind): void {
  const u = new Unroller(c);
  const G = RNN_GATES[kind];
  const direction = c.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') c.fail(`direction='${direction}' is not one of forward, reverse, bidirectional`);
  const D = direction === 'bidirectional' ? 2 : 1;
  const layout = c.opset >= 14 ? c.int('layout', 0) : 0;
  if (layout !== 0 && layout !== 1) c.fail(`layout=${layout} must be 0 or 1`);
  for (const i of [0, 1, 2, 3, 5, 6, 7]) if (c.has(i) && c.type(i).dtype !== 'float32') c.fail(`input ${i} of dtype ${c.type(i).dtype} is not supported (float32 only)`, 'dtype');
  const xs = c.type(0).shape, ws = c.type(1).shape, rs = c.type(2).shape;
  if (xs.length !== 3) c.fail(`X must be rank 3, got ${fmt(xs)}`, 'invalid-model');
  const [T, B, I] = layout ? [xs[1]!, xs[0]!, xs[2]!] : [xs[0]!, xs[1]!, xs[2]!];
  const H = c.hasAttr('hidden_size') ? c.int('hidden_size') : rs[2]!;
  if (ws.length !== 3 || ws[0] !== D || ws[1] !== G * H || ws[2] !== I) c.fail(`W shape ${fmt(ws)} must be ${fmt([D, G * H, I])}`, 'invalid-model');
  if (rs.length !== 3 || rs[0] !== D || rs[1] !== G * H || rs[2] !== H) c.fail(`R shape ${fmt(rs)} must be ${fmt([D, G * H, H])}`, 'invalid-model');
  if (T === 0) c.fail('a sequence length of 0 is not supported', 'unsupported-attr');
  const acts = rnnActivations(c, kind, D);
  const clip = c.hasAttr('clip') ? c.float('clip') : undefined;
  if (clip !== undefined && !(clip > 0)) c.fail(`clip=${clip} must be positive`, 'invalid-model');
  const lbr = kind === 'GRU' ? c.int('linear_before_reset', 0) : 0;
  const inputForget = kind === 'LSTM' ? c.int('input_forget', 0) : 0;
  const check = (i: number, want: number[], what: string) => {
    if (!c.has(i)) return;
    const s = c.type(i).shape;
    if (s.length !== want.length || s.some((d, k) => d !== want[k])) c.fail(`${what} shape ${fmt(s)} must be ${fmt(want)}`, 'invalid-model');
  };
  const stateShape = layout ? [B, D, H] : [D, B, H];
  check(3, [D, 2 * G * H], 'B');
  check(4, [B], 'sequence_lens');
  check(5, stateShape, 'initial_h');
  if (kind === 'LSTM') { check(6, stateShape, 'initial_c'); check(7, [D, 3 * H], 'P'); }

  // sequence_lens: ignored when constant and all equal to T, else a per-step mask.
  let seqLens: TensorId | undefined;
  if (c.has(4)) {
    const sd = c.type(4).dtype;
    if (sd !== 'int32' && sd !== 'int64') c.fail(`sequence_lens of dtype ${sd} must be int32 or int64`, 'dtype');
    const v = c.constOf(4);
    if (v && toNumbers(v).some((n) => n < 0 || n > T)) c.fail(`sequence_lens [${toNumbers(v)}] must be in [0, ${T}]`, 'invalid-model');
    if (!v || toNumbers(v).some((n) => n !== T)) seqLens = c.in(4);
  }
  const masks: TensorId[] = [];
  if (seqLens !== undefined) {
    const sd = c.b.typeOf(seqLens).dtype;
    for (let t = 0; t < T; t++) {
      const tc = c.constant(hostTensor(sd, [], [sd === 'int64' ? BigInt(t) : t]), `t${t}`);
      masks.push(u.reshape(u.op('Less', tc, seqLens), [B, 1]));
    }
  }

  const x = layout ? c.emit1('Transpose', [c.in(0)], { perm: [1, 0, 2] }) : c.in(0);
  const state = (i: number) => (c.has(i) ? (layout ? c.emit1('Transpose', [c.in(i)], { perm: [1, 0, 2] }) : c.in(i)) : undefined);
  const h0 = state(5), c0 = kind === 'LSTM' ? state(6) : undefined;
  const zeros = c.constant(hostTensor('float32', [B, H]), 'zeros');
  const clipped = (v: TensorId) => (clip === undefined ? v : c.emit1('Clip', [v, u.scalar(-clip), u.scalar(clip)]));
  const one = u.scalar(1);

  const perDir = (t: TensorId | undefined, s: number[]) => (t === undefined ? new Array<undefined>(D).fill(undefined) : u.split(t, 0, D, s));
  const Wd = u.split(c.in(1), 0, D, [G * H, I]);
  const Rd = u.split(c.in(2), 0, D, [G * H, H]);
  const Bd = perDir(c.has(3) ? c.in(3) : undefined, [2 * G * H]);
  const Pd = perDir(kind === 'LSTM' && c.has(7) ? c.in(7) : undefined, [3 * H]);
  const H0 = perDir(h0, [B, H]);
  const C0 = perDir(c0, [B, H]);

  const Ys: TensorId[] = [], Yh: TensorId[] = [], Yc: TensorId[] = [];
  for (let d = 0; d < D; d++) {
    const reverse = direction === 'reverse' || d === 1;
    const [f, g, hAct] = acts[d]!;
    const Wg = u.split(Wd[d]!, 0, G, [H, I]);
    const Rg = u.split(Rd[d]!, 0, G, [H, H]);
    const bias = Bd[d] === undefined ? undefined : u.split(Bd[d]!, 0, 2 * G, [H]);
    // Input projections for all steps, with the biases that are added unconditionally.
    const xw = Wg.map((w, k) => {
      let p = u.matmulT(x, w);
      if (bias) p = u.op('Add', p, kind === 'GRU' && k === 2 ? bias[k]! : u.op('Add', bias[k]!, bias[G + k]!));
      return u.split(p, 0, T, [B, H]);
    });
    const P = Pd[d] === undefined ? undefined : u.split(Pd[d]!, 0, 3, [H]);
    let h: TensorId = H0[d] ?? zeros;
    let cs: TensorId = C0[d] ?? zeros;
    const ys = new Array<TensorId>(T);
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      const pre = (k: number) => u.op('Add', xw[k]![t]!, u.matmulT(h, Rg[k]!));
      let hn: TensorId, cn: TensorId | undefined;
      if (kind === 'RNN') {
        hn = u.act(f!, clipped(pre(0)));
      } else if (kind === 'GRU') {
        // gate order in W/R/B: z (update), r (reset), h (hidden)
        const z = u.act(f!, clipped(pre(0)));
        const r = u.act(f!, clipped(pre(1)));
        let hh: TensorId;
        if (lbr) {
          let rh = u.matmulT(h, Rg[2]!);
          if (bias) rh = u.op('Add', rh, bias[G + 2]!);
          hh = u.act(g!, clipped(u.op('Add', xw[2]![t]!, u.op('Mul', r, rh))));
        } else {
          let rh = u.matmulT(u.op('Mul', r, h), Rg[2]!);
          if (bias) rh = u.op('Add', rh, bias[G + 2]!);
          hh = u.act(g!, clipped(u.op('Add', xw[2]![t]!, rh)));
        }
        hn = u.op('Add', u.op('Mul', u.op('Sub', one, z), hh), u.op('Mul', z, h));
      } else {
        // gate order in W/R/B: i (input), o (output), f (forget), c (cell); P: i, o, f
        const peep = (v: TensorId, k: number, cell: TensorId) => (P ? u.op('Add', v, u.op('Mul', P[k]!, cell)) : v);
        const ig = u.act(f!, clipped(peep(pre(0), 0, cs)));
        const fg = inputForget ? u.op('Sub', one, ig) : u.act(f!, clipped(peep(pre(2), 2, cs)));
        const cc = u.act(g!, clipped(pre(3)));
        cn = u.op('Add', u.op('Mul', fg, cs), u.op('Mul', ig, cc));
        const og = u.act(f!, clipped(peep(pre(1), 1, cn)));
        hn = u.op('Mul', og, u.act(hAct!, cn));
      }
      if (masks.length) {
        ys[t] = u.op('Where', masks[t]!, hn, zeros);
        h = u.op('Where', masks[t]!, hn, h);
        if (cn !== undefined) cs = u.op('Where', masks[t]!, cn, cs);
      } else {
        ys[t] = hn;
        h = hn;
        if (cn !== undefined) cs = cn;
      }
    }
    if (c.hasOut(0)) Ys.push(u.reshape(T === 1 ? ys[0]! : c.emit1('Concat', ys.map((y) => u.reshape(y, [1, B, H])), { axis: 0 }), [T, 1, B, H]));
    Yh.push(u.reshape(h, [1, B, H]));
    if (kind === 'LSTM') Yc.push(u.reshape(cs, [1, B, H]));
  }
  const cat = (ts: TensorId[], axis: number) => (ts.length === 1 ? ts[0]! : c.emit1('Concat', ts, { axis }));
  let yh = cat(Yh, 0);
  let yc = kind === 'LSTM' ? cat(Yc, 0) : undefined;
  let y = Ys.length ? cat(Ys, 1) : yh; // output 0 not wanted: any id (c.out skips it)
  if (layout) {
    if (Ys.length) y = c.emit1('Transpose', [y], { perm: [2, 0, 1, 3] });
    yh = c.emit1('Transpose', [yh], { perm: [1, 0, 2] });
    if (yc !== undefined) yc = c.emit1('Transpose', [yc], { perm: [1, 0, 2] });
  }
  if (yc !== undefined) c.out(y, yh, yc);
  else c.out(y, yh);
}

onnxOp('RNN', (c) => lowerRecurrent(c, 'RNN'));
onnxOp('GRU', (c) => lowerRecurrent(c, 'GRU'));
onnxOp('LSTM', (c) => lowerRecurrent(c, 'LSTM'));

// ---------------------------------------------------------------- Det, MaxUnpool

onnxOp('Det', (c) => {
  if (c.type(0).dtype !== 'float32') c.fail(`input of dtype ${c.type(0).dtype} is not supported (float32 only)`, 'dtype');
  c.out(c.emit1('Det', [c.in(0)]));
});

onnxOp('MaxUnpool', (c) => {
  const xs = c.type(0).shape;
  const sp = xs.length - 2;
  if (sp < 1) c.fail(`input must be [N, C, spatial…], got ${fmt(xs)}`, 'invalid-model');
  if (c.type(1).dtype !== 'int64') c.fail(`indices of dtype ${c.type(1).dtype} must be int64`, 'dtype');
  // The indices are positions in the unpooled shape implied by the attributes; an explicit
  // output_shape pads (or crops) that result at the end of each axis.
  const k = c.ints('kernel_shape');
  if (k.length !== sp) c.fail(`kernel_shape ${fmt(k)} must have ${sp} entries`, 'invalid-model');
  const s = c.ints('strides', new Array(sp).fill(1));
  const p = c.ints('pads', new Array(2 * sp).fill(0));
  if (s.length !== sp || p.length !== 2 * sp) c.fail(`strides ${fmt(s)} / pads ${fmt(p)} do not match ${sp} spatial axes`, 'invalid-model');
  const indexShape = [xs[0]!, xs[1]!, ...xs.slice(2).map((d, i) => (d - 1) * s[i]! - p[i]! - p[i + sp]! + k[i]!)];
  if (indexShape.some((d) => d < 0)) c.fail(`inferred output shape ${fmt(indexShape)} is negative`, 'invalid-model');
  let outShape = indexShape;
  if (c.has(2)) {
    outShape = c.constInts(2, 'output_shape');
    if (outShape.length !== xs.length) c.fail(`output_shape ${fmt(outShape)} must have rank ${xs.length}`, 'invalid-model');
  }
  c.out(c.emit1('MaxUnpool', [c.in(0), c.in(1)], { index_shape: indexShape, output_shape: outShape }));
});

onnxOp('Col2Im', (c) => {
  if (c.type(0).dtype !== 'float32') c.fail(`input of dtype ${c.type(0).dtype} is not supported (float32 only)`, 'dtype');
  const image_shape = c.constInts(1, 'image_shape');
  const block_shape = c.constInts(2, 'block_shape');
  const k = image_shape.length;
  c.out(c.emit1('Col2Im', [c.in(0)], {
    image_shape,
    block_shape,
    dilations: c.ints('dilations', new Array(k).fill(1)),
    pads: c.ints('pads', new Array(2 * k).fill(0)),
    strides: c.ints('strides', new Array(k).fill(1)),
  }));
});

// CenterCropPad: one constant-zero Pad whose negative entries crop (centred: the extra element of
// an odd difference goes to the end, as the ONNX reference does).
onnxOp('CenterCropPad', (c) => {
  const t = c.type(0);
  const r = t.shape.length;
  const target = c.constInts(1, 'shape');
  const axes = c.ints('axes', [...Array(r).keys()]).map((a) => (a < 0 ? a + r : a));
  if (axes.some((a) => a < 0 || a >= r) || new Set(axes).size !== axes.length) c.fail(`axes [${axes}] must be distinct axes of rank ${r}`, 'invalid-model');
  if (target.length !== axes.length) c.fail(`shape has ${target.length} entries for ${axes.length} axes`, 'invalid-model');
  const pads = new Array<number>(2 * r).fill(0);
  axes.forEach((a, i) => {
    const s = target[i]!, d = t.shape[a]!;
    if (s < 0) c.fail(`shape entry ${s} is negative`, 'invalid-model');
    const diff = s - d;
    const begin = diff >= 0 ? Math.floor(diff / 2) : -Math.floor(-diff / 2);
    pads[a] = begin;
    pads[a + r] = diff - begin;
  });
  if (pads.every((p) => p === 0)) return c.out(c.in(0));
  const zero = c.constant(hostTensor(t.dtype, [], [t.dtype === 'int64' ? 0n : 0]), 'zero');
  c.out(c.emit1('Pad', [c.in(0), zero], { pads, mode: 'constant' }));
});

// ---------------------------------------------------------------- DFT, STFT

function optConstInt(c: OnnxNodeContext, i: number, what: string): number | undefined {
  if (!c.has(i)) return undefined;
  const v = c.constInts(i, what);
  if (v.length !== 1) c.fail(`${what} (input ${i}) must be a scalar, got ${v.length} values`, 'invalid-model');
  return v[0]!;
}

onnxOp('DFT', (c) => {
  const t = c.type(0);
  if (t.dtype !== 'float32') c.fail(`input of dtype ${t.dtype} is not supported (float32 only)`, 'dtype');
  const r = t.shape.length;
  let axis = c.opset >= 20 ? (optConstInt(c, 2, 'axis') ?? -2) : c.int('axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r - 2) c.fail(`axis ${axis} is out of range for input ${fmt(t.shape)} (the last axis holds the complex components)`, 'invalid-model');
  const L = optConstInt(c, 1, 'dft_length') ?? t.shape[axis]!;
  if (L < 1) c.fail(`dft_length ${L} must be ≥ 1`, 'invalid-model');
  c.out(c.emit1('DFT', [c.in(0)], { axis, length: L, inverse: c.int('inverse', 0) ? 1 : 0, onesided: c.int('onesided', 0) ? 1 : 0 }));
});

onnxOp('STFT', (c) => {
  const t = c.type(0);
  if (t.dtype !== 'float32') c.fail(`signal of dtype ${t.dtype} is not supported (float32 only)`, 'dtype');
  if (t.shape.length !== 3 || (t.shape[2] !== 1 && t.shape[2] !== 2)) c.fail(`signal must be [batch, length, 1|2], got ${fmt(t.shape)}`, 'invalid-model');
  const step = optConstInt(c, 1, 'frame_step')!;
  let L = optConstInt(c, 3, 'frame_length');
  if (c.has(2)) {
    const ws = c.type(2).shape;
    if (ws.length !== 1) c.fail(`window must be 1-D, got ${fmt(ws)}`, 'invalid-model');
    if (L !== undefined && L !== ws[0]) c.fail(`frame_length ${L} differs from the window length ${ws[0]}`, 'invalid-model');
    L = ws[0]!;
    if (c.type(2).dtype !== 'float32') c.fail(`window of dtype ${c.type(2).dtype} is not supported (float32 only)`, 'dtype');
  }
  if (L === undefined) return c.fail('needs frame_length or a window to fix the frame length', 'invalid-model');
  const ins = c.has(2) ? [c.in(0), c.in(2)] : [c.in(0)];
  c.out(c.emit1('STFT', ins, { frame_step: step, frame_length: L, onesided: c.int('onesided', 1) ? 1 : 0 }));
});

// ---------------------------------------------------------------- generators

function outDType(c: OnnxNodeContext, def: number): DType {
  const code = c.int('output_datatype', def);
  const d = constDTypeOf(code);
  if (!d) c.fail(`output_datatype ${onnxTypeName(code)} is not supported (the IR carries float32, int8/16/32/64, uint8 and bool)`, 'dtype');
  return d;
}

function castOut(c: OnnxNodeContext, y: TensorId, d: DType): TensorId {
  return d === 'float32' ? y : c.emit1('Cast', [y], { to: d });
}

for (const [op, kind] of [['HannWindow', 'hann'], ['HammingWindow', 'hamming'], ['BlackmanWindow', 'blackman']] as const) {
  onnxOp(op, (c) => {
    const size = optConstInt(c, 0, 'size')!;
    if (size < 0) c.fail(`size ${size} must be ≥ 0`, 'invalid-model');
    const d = outDType(c, 1);
    c.out(castOut(c, c.emit1('Window', [], { kind, size, periodic: c.int('periodic', 1) ? 1 : 0 }), d));
  });
}

onnxOp('MelWeightMatrix', (c) => {
  const ints = [0, 1, 2].map((i) => optConstInt(c, i, ['num_mel_bins', 'dft_length', 'sample_rate'][i]!)!);
  const fl = [3, 4].map((i) => {
    const v = c.constOf(i);
    const what = i === 3 ? 'lower_edge_hertz' : 'upper_edge_hertz';
    if (!v) return c.fail(`${what} (input ${i}) must be a constant; a value known only at run time would make the output dynamic`, 'dynamic-shape');
    const n = toNumbers(v);
    if (n.length !== 1) c.fail(`${what} must be a scalar`, 'invalid-model');
    return Math.fround(n[0]!);
  });
  const d = outDType(c, 1);
  const y = c.emit1('MelWeightMatrix', [], { num_mel_bins: ints[0]!, dft_length: ints[1]!, sample_rate: ints[2]!, lower_edge_hertz: fl[0]!, upper_edge_hertz: fl[1]! });
  c.out(castOut(c, y, d));
});

// ---------------------------------------------------------------- sampling

onnxOp('GridSample', (c) => {
  if (c.rank(0) !== 4) c.fail(`only 4-D input [N, C, H, W] is supported, got ${fmt(c.type(0).shape)}`, 'unsupported-attr');
  for (const i of [0, 1]) if (c.type(i).dtype !== 'float32') c.fail(`${i ? 'grid' : 'input'} of dtype ${c.type(i).dtype} is not supported (float32 only)`, 'dtype');
  let mode = c.string('mode', c.opset >= 20 ? 'linear' : 'bilinear');
  mode = mode === 'linear' ? 'bilinear' : mode === 'cubic' ? 'bicubic' : mode;
  if (mode !== 'bilinear' && mode !== 'nearest' && mode !== 'bicubic') c.fail(`mode='${mode}' is not one of bilinear/linear, nearest, bicubic/cubic`);
  const padding_mode = c.string('padding_mode', 'zeros');
  if (padding_mode !== 'zeros' && padding_mode !== 'border' && padding_mode !== 'reflection') c.fail(`padding_mode='${padding_mode}' is not one of zeros, border, reflection`);
  c.out(c.emit1('GridSample', [c.in(0), c.in(1)], { mode, padding_mode, align_corners: c.int('align_corners', 0) ? 1 : 0 }));
});

onnxOp('RoiAlign', (c) => {
  for (const i of [0, 1]) if (c.type(i).dtype !== 'float32') c.fail(`${i ? 'rois' : 'input'} of dtype ${c.type(i).dtype} is not supported (float32 only)`, 'dtype');
  const mode = c.string('mode', 'avg');
  if (mode !== 'avg' && mode !== 'max') c.fail(`mode='${mode}' is not one of avg, max`);
  const ctm = c.string('coordinate_transformation_mode', c.opset >= 16 ? 'half_pixel' : 'output_half_pixel');
  if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel') c.fail(`coordinate_transformation_mode='${ctm}' is not one of half_pixel, output_half_pixel`);
  c.out(c.emit1('RoiAlign', [c.in(0), c.in(1), c.in(2)], {
    mode,
    output_height: c.int('output_height', 1),
    output_width: c.int('output_width', 1),
    sampling_ratio: c.int('sampling_ratio', 0),
    spatial_scale: c.float('spatial_scale', 1),
    half_pixel: ctm === 'half_pixel' ? 1 : 0,
  }));
});
