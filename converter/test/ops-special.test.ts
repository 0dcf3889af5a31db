/**
 * Special ops: NegativeLogLikelihoodLoss, Det, MaxUnpool folds (hand-computed), shape inference
 * and errors of DFT/STFT/Window/MelWeightMatrix/GridSample/RoiAlign, and the ONNX lowerings on the
 * real backend test data — checked numerically: each converted graph is evaluated (folds where the
 * op has one, a float32 reference of the op's spec where it has not) and compared with the
 * expected outputs. That validates the RNN/GRU/LSTM unrolling and the written specs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { GraphBuilder } from '../ir/builder.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostFromBytes, hostTensor } from '../ir/host-tensor.ts';
import { getOp } from '../ir/op-registry.ts';
import type { Attrs, Graph, TensorId } from '../ir/types.ts';
import { numel, shape } from '../ir/types.ts';
import { importOnnx, readOnnxModel } from '../onnx/import.ts';
import { decodeTensor } from '../onnx/tensor.ts';
import { checkCase } from '../conformance/shapes.ts';
import { importCase } from '../conformance/import-case.ts';
import { readDataSet, testdataAvailable, TESTDATA_ROOT } from '../conformance/testdata.ts';
import { ConvertError } from '../errors.ts';
import { onnx } from '../onnx/proto.ts';
import { buildModel, F, floatTensor, int64Tensor, valueInfo, tmpDir, writeModel } from './helpers/onnx-build.ts';

const f = Math.fround;
const hasData = testdataAvailable();

// ------------------------------------------------------------------ helpers

function fold(op: string, inputs: HostTensor[], attrs: Attrs): HostTensor {
  const b = new GraphBuilder();
  const ids = inputs.map((t, i) => b.addConstant(`c${i}`, t));
  const y = b.emit1(op, ids, attrs);
  assert.ok(b.isConstant(y), `${op} folds`);
  return b.constValue(y)!;
}

function infer(op: string, types: [string, number[]][], attrs: Attrs): string {
  const b = new GraphBuilder();
  const ids = types.map(([d, s], i) => b.addInput(`x${i}`, { dtype: d as 'float32', shape: shape(s) }));
  const outs = b.emit(op, ids, attrs);
  return outs.map((o) => `${b.typeOf(o).dtype}[${b.typeOf(o).shape.join(',')}]`).join(' ');
}

const f32t = (s: number[], v: number[]) => hostTensor('float32', s, Float32Array.from(v));
const i64t = (s: number[], v: number[]) => hostTensor('int64', s, v.map(BigInt));
const nll = (reduction: string, ignore_index = -1) => ({ reduction, ignore_index });

// ------------------------------------------------------------------ NegativeLogLikelihoodLoss

test('NegativeLogLikelihoodLoss folds: reductions, weights, ignore_index, out-of-range targets', () => {
  const x = f32t([2, 3], [-1, -2, -3, -4, -5, -6]);
  const t = i64t([2], [0, 2]);
  const w = f32t([3], [2, 1, 0.5]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, t], nll('none')).data], [1, 6]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, t], nll('sum')).data], [7]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, t], nll('mean')).data], [3.5]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, t, w], nll('none')).data], [2, 3]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, t, w], nll('sum')).data], [5]);
  // mean divides by the sum of the applied weights (2 + 0.5), not by the count
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, t, w], nll('mean')).data], [2]);
  // ignore_index = 2: the second position contributes neither loss nor weight
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, t, w], nll('none', 2)).data], [2, 0]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, t, w], nll('mean', 2)).data], [1]);
  // out-of-range classes are ignored; everything ignored → mean is 0/0 = NaN
  const oor = hostTensor('int32', [2], [7, -3]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, oor], nll('none')).data], [0, 0]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x, oor], nll('sum')).data], [0]);
  assert.ok(Number.isNaN(fold('NegativeLogLikelihoodLoss', [x, oor], nll('mean')).data[0]));
  // [N, C, d]: class axis 1, spatial positions row-major
  const x3 = f32t([1, 2, 2], [-1, -2, -3, -4]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [x3, i64t([1, 2], [1, 0])], nll('none')).data], [3, 2]);
  // the sum is accumulated in float32 in row-major order: 2^24 + 1 + 1 stays 2^24 (each add rounds)
  const big = f32t([3, 1], [-16777216, -1, -1]);
  assert.deepEqual([...fold('NegativeLogLikelihoodLoss', [big, i64t([3], [0, 0, 0])], nll('sum')).data], [16777216]);
  // weighted loss: the product is rounded once: −(0.1 × 3) in float32
  const wl = fold('NegativeLogLikelihoodLoss', [f32t([1, 1], [0.1]), i64t([1], [0]), f32t([1], [3])], nll('none'));
  assert.equal(wl.data[0], -f(f(0.1) * 3));
});

test('NegativeLogLikelihoodLoss shape inference and errors', () => {
  assert.equal(infer('NegativeLogLikelihoodLoss', [['float32', [3, 5, 6, 6]], ['int64', [3, 6, 6]]], nll('none')), 'float32[3,6,6]');
  assert.equal(infer('NegativeLogLikelihoodLoss', [['float32', [3, 5]], ['int32', [3]], ['float32', [5]]], nll('mean')), 'float32[]');
  assert.throws(() => infer('NegativeLogLikelihoodLoss', [['float32', [3, 5]], ['int64', [4]]], nll('sum')), /target shape \[4\] must be \[3\]/);
  assert.throws(() => infer('NegativeLogLikelihoodLoss', [['float32', [3, 5]], ['int64', [3]], ['float32', [4]]], nll('sum')), /weight shape \[4\] must be \[5\]/);
  assert.throws(() => infer('NegativeLogLikelihoodLoss', [['float32', [3, 5]], ['int64', [3]]], nll('avg')), /reduction must be one of/);
  assert.throws(() => infer('NegativeLogLikelihoodLoss', [['float32', [3, 5]], ['float32', [3]]], nll('sum')), /target must be int32 or int64/);
  assert.throws(() => infer('NegativeLogLikelihoodLoss', [['float32', [3]], ['int64', []]], nll('sum')), /rank ≥ 2/);
});

// ------------------------------------------------------------------ Det, MaxUnpool

test('Det folds with partial pivoting and float32 rounding per step', () => {
  // [[1,2],[3,4]]: swap rows (sign −), p0 = 3, f = fl(1/3), a11 = fl(2 − fl(f·4)) = 0.6666666269…,
  // det = −fl(3 · 0.6666666269…) = −1.9999998807907104 (not −2: the spec's rounding, exactly).
  assert.deepEqual([...fold('Det', [f32t([2, 2], [1, 2, 3, 4])], {}).data], [-1.9999998807907104]);
  assert.deepEqual([...fold('Det', [f32t([2, 2, 2], [2, 0, 0, 3, 1, 2, 2, 4])], {}).data], [6, 0]);
  assert.deepEqual([...fold('Det', [f32t([3, 3], [0, 1, 0, 1, 0, 0, 0, 0, 1])], {}).data], [-1]);
  assert.deepEqual([...fold('Det', [f32t([1, 1], [-7])], {}).data], [-7]);
  assert.deepEqual([...fold('Det', [hostTensor('float32', [0, 0])], {}).data], [1]);
  assert.equal(infer('Det', [['float32', [5, 3, 3]]], {}), 'float32[5]');
  assert.throws(() => infer('Det', [['float32', [3, 2]]], {}), /\[\*, M, M\]/);
});

test('MaxUnpool folds: scatter by flat index, last write wins, out-of-range skipped', () => {
  const x = f32t([1, 1, 2, 2], [1, 2, 3, 4]);
  const y = fold('MaxUnpool', [x, i64t([1, 1, 2, 2], [0, 3, 3, 99])], { index_shape: [1, 1, 2, 3], output_shape: [1, 1, 2, 3] });
  assert.deepEqual([...y.shape], [1, 1, 2, 3]);
  assert.deepEqual([...y.data], [1, 0, 0, 3, 0, 0]);
  // output_shape larger than index_shape pads at the end; smaller crops (position (1,1) of a 2x2 index space)
  const pad = fold('MaxUnpool', [f32t([1, 1, 1, 2], [5, 6]), i64t([1, 1, 1, 2], [1, 3])], { index_shape: [1, 1, 2, 2], output_shape: [1, 1, 3, 3] });
  assert.deepEqual([...pad.data], [0, 5, 0, 0, 6, 0, 0, 0, 0]);
  const crop = fold('MaxUnpool', [f32t([1, 1, 1, 2], [5, 6]), i64t([1, 1, 1, 2], [1, 3])], { index_shape: [1, 1, 2, 2], output_shape: [1, 1, 2, 1] });
  assert.deepEqual([...crop.data], [0, 0]);
  assert.throws(() => infer('MaxUnpool', [['float32', [1, 1, 2, 2]], ['int64', [1, 1, 2, 2]]], { index_shape: [1, 1, 4, 4], output_shape: [1, 2, 4, 4] }), /output_shape \[1,2,4,4\] must have rank 4 and start with N=1, C=1/);
  assert.throws(() => infer('MaxUnpool', [['float32', [1, 1, 2, 2]], ['int32', [1, 1, 2, 2]]], { index_shape: [1, 1, 4, 4], output_shape: [1, 1, 4, 4] }), /indices must be int64/);
});

// ------------------------------------------------------------------ kernel-only ops: shapes and errors

test('DFT, STFT, Window, MelWeightMatrix, GridSample, RoiAlign: shape inference; which ops fold', () => {
  assert.equal(infer('DFT', [['float32', [1, 10, 10, 1]]], { axis: 1, length: 10, inverse: 0, onesided: 0 }), 'float32[1,10,10,2]');
  assert.equal(infer('DFT', [['float32', [2, 9, 2]]], { axis: 1, length: 16, inverse: 0, onesided: 1 }), 'float32[2,9,2]');
  assert.throws(() => infer('DFT', [['float32', [4, 3]]], { axis: 0, length: 4, inverse: 0, onesided: 0 }), /last axis real or complex/);
  assert.throws(() => infer('DFT', [['float32', [4, 2]]], { axis: 1, length: 4, inverse: 0, onesided: 0 }), /axis 1 must be in \[0, 0\]/);
  assert.equal(infer('STFT', [['float32', [1, 128, 1]], ['float32', [16]]], { frame_step: 8, frame_length: 16, onesided: 1 }), 'float32[1,15,9,2]');
  assert.throws(() => infer('STFT', [['float32', [1, 128, 1]], ['float32', [15]]], { frame_step: 8, frame_length: 16, onesided: 1 }), /window shape/);
  assert.equal(infer('Window', [], { kind: 'hann', size: 10, periodic: 1 }), 'float32[10]');
  assert.throws(() => infer('Window', [], { kind: 'kaiser', size: 10, periodic: 1 }), /kind must be one of/);
  assert.equal(infer('MelWeightMatrix', [], { num_mel_bins: 8, dft_length: 16, sample_rate: 8192, lower_edge_hertz: 0, upper_edge_hertz: 4096 }), 'float32[9,8]');
  assert.equal(infer('GridSample', [['float32', [1, 3, 4, 4]], ['float32', [1, 6, 5, 2]]], { mode: 'bicubic', padding_mode: 'border', align_corners: 0 }), 'float32[1,3,6,5]');
  assert.throws(() => infer('GridSample', [['float32', [1, 3, 4, 4]], ['float32', [2, 6, 5, 2]]], { mode: 'bilinear', padding_mode: 'zeros', align_corners: 0 }), /grid must be/);
  assert.equal(infer('RoiAlign', [['float32', [1, 2, 10, 10]], ['float32', [3, 4]], ['int64', [3]]], { mode: 'avg', output_height: 5, output_width: 4, sampling_ratio: 2, spatial_scale: 1, half_pixel: 1 }), 'float32[3,2,5,4]');
  assert.throws(() => infer('RoiAlign', [['float32', [1, 2, 10, 10]], ['float32', [3, 4]], ['int64', [2]]], { mode: 'avg', output_height: 5, output_width: 4, sampling_ratio: 2, spatial_scale: 1, half_pixel: 1 }), /batch_indices must be \[3\]/);
  for (const op of ['DFT', 'STFT', 'Window', 'MelWeightMatrix']) assert.equal(getOp(op).fold, undefined, `${op} needs cos/sin/log/pow: kernel only`);
  for (const op of ['GridSample', 'RoiAlign', 'NegativeLogLikelihoodLoss', 'Det', 'MaxUnpool', 'Col2Im']) assert.ok(getOp(op).fold, `${op} folds (+ − × ÷, floor, min/max only)`);
});

// ------------------------------------------------------------------ float32 references of the kernel-only specs

type Ref = (ins: HostTensor[], a: Attrs) => HostTensor[];

/** DFT in float64 (a reference for the float32 kernel, compared with a tolerance). */
function refDFT([x]: HostTensor[], a: Attrs): HostTensor[] {
  const s = x!.shape as unknown as number[];
  const r = s.length, axis = a.axis as number, L = a.length as number, inv = a.inverse === 1;
  const cin = s[r - 1]!;
  const outS = [...s];
  outS[axis] = a.onesided ? Math.floor(L / 2) + 1 : L;
  outS[r - 1] = 2;
  const outer = numel(s.slice(0, axis)), inner = numel(s.slice(axis + 1, r - 1)), n = s[axis]!, K = outS[axis]!;
  const X = x!.data as Float32Array, out = new Float32Array(numel(outS));
  for (let o = 0; o < outer; o++) for (let q = 0; q < inner; q++) for (let k = 0; k < K; k++) {
    let re = 0, im = 0;
    for (let m = 0; m < Math.min(n, L); m++) {
      const base = ((o * n + m) * inner + q) * cin;
      const xr = X[base]!, xi = cin === 2 ? X[base + 1]! : 0;
      const th = (2 * Math.PI * ((k * m) % L)) / L, c = Math.cos(th), sn = (inv ? 1 : -1) * Math.sin(th);
      re += xr * c - xi * sn; im += xr * sn + xi * c;
    }
    const ob = ((o * K + k) * inner + q) * 2;
    out[ob] = inv ? re / L : re; out[ob + 1] = inv ? im / L : im;
  }
  return [hostTensor('float32', outS, out)];
}

function refWindow(_ins: HostTensor[], a: Attrs): HostTensor[] {
  const S = a.size as number;
  const [a0, a1, a2] = ({ hann: [0.5, 0.5, 0], hamming: [f(25 / 46), f(1 - f(25 / 46)), 0], blackman: [f(0.42), 0.5, f(0.08)] } as Record<string, number[]>)[a.kind as string]!;
  const inc = f(f(2 * Math.PI) / (a.periodic ? S : S - 1));
  const out = new Float32Array(S);
  for (let i = 0; i < S; i++) {
    const phi = f(i * inc);
    out[i] = f(f(a0! - f(a1! * f(Math.cos(phi)))) + f(a2! * f(Math.cos(f(phi * 2)))));
  }
  return [hostTensor('float32', [S], out)];
}

function refMel(_ins: HostTensor[], a: Attrs): HostTensor[] {
  const M = a.num_mel_bins as number, L = a.dft_length as number, R = a.sample_rate as number;
  const mel = (h: number) => f(2595 * f(Math.log10(f(1 + f(h / 700)))));
  const lo = mel(a.lower_edge_hertz as number), hi = mel(a.upper_edge_hertz as number);
  const step = f(f(hi - lo) / (M + 2));
  const fb = Array.from({ length: M + 2 }, (_, b) => {
    const m = f(f(b * step) + lo);
    const hz = f(700 * f(f(Math.pow(10, f(m / 2595))) - 1));
    return Math.floor(f(f((L + 1) * hz) / R));
  });
  const K = Math.floor(L / 2) + 1;
  const out = new Float32Array(K * M);
  const put = (j: number, i: number, v: number) => { if (j >= 0 && j < K) out[j * M + i] = v; };
  for (let i = 0; i < M; i++) {
    const [l, c, h] = [fb[i]!, fb[i + 1]!, fb[i + 2]!];
    if (c === l) put(c, i, 1);
    else for (let j = l; j <= c; j++) put(j, i, f((j - l) / (c - l)));
    if (h > c) for (let j = c; j < h; j++) put(j, i, f((h - j) / (h - c)));
  }
  return [hostTensor('float32', [K, M], out)];
}

/** STFT as frames (times the window) through the float64 DFT reference. */
function refSTFT([x, w]: HostTensor[], a: Attrs): HostTensor[] {
  const [B, n, cin] = x!.shape as unknown as number[];
  const step = a.frame_step as number, L = a.frame_length as number;
  const F = Math.floor((n! - L) / step) + 1, K = a.onesided ? Math.floor(L / 2) + 1 : L;
  const out = new Float32Array(B! * F * K * 2);
  for (let b = 0; b < B!; b++) for (let fr = 0; fr < F; fr++) {
    const frame = new Float32Array(L * cin!);
    for (let m = 0; m < L; m++) for (let q = 0; q < cin!; q++) {
      const v = (x!.data as Float32Array)[(b * n! + fr * step + m) * cin! + q]!;
      frame[m * cin! + q] = w ? f(v * (w.data as Float32Array)[m]!) : v;
    }
    const [y] = refDFT([hostTensor('float32', [L, cin!], frame)], { axis: 0, length: L, inverse: 0, onesided: a.onesided! });
    out.set(y!.data as Float32Array, (b * F + fr) * K * 2);
  }
  return [hostTensor('float32', [B!, F, K, 2], out)];
}

const unaryRef = (fn: (v: number) => number): Ref => ([x]) => [hostTensor('float32', x!.shape, (x!.data as Float32Array).map(fn))];
const REFS: Record<string, Ref> = {
  Tanh: unaryRef(Math.tanh),
  Sigmoid: unaryRef((v) => 1 / (1 + Math.exp(-v))),
  LogSoftmax([x], a) {
    const s = x!.shape, axis = a.axis as number;
    const outer = numel(s.slice(0, axis)), D = s[axis]!, inner = numel(s.slice(axis + 1));
    const X = x!.data as Float32Array, out = new Float32Array(X.length);
    for (let o = 0; o < outer; o++) for (let q = 0; q < inner; q++) {
      const idx = (k: number) => (o * D + k) * inner + q;
      let m = -Infinity;
      for (let k = 0; k < D; k++) m = Math.max(m, X[idx(k)]!);
      let sum = 0;
      for (let k = 0; k < D; k++) sum += Math.exp(X[idx(k)]! - m);
      for (let k = 0; k < D; k++) out[idx(k)] = X[idx(k)]! - m - Math.log(sum);
    }
    return [hostTensor('float32', s, out)];
  },
  DFT: refDFT,
  Window: refWindow,
  MelWeightMatrix: refMel,
  STFT: refSTFT,
};

function runGraph(g: Graph, inputs: Map<string, HostTensor>): HostTensor[] {
  const vals = new Map<TensorId, HostTensor>();
  for (const id of g.inputs) {
    const v = inputs.get(g.tensors[id]!.name);
    assert.ok(v, `value for input ${g.tensors[id]!.name}`);
    vals.set(id, v);
  }
  for (const [id, src] of g.constants) vals.set(id, hostFromBytes(g.tensors[id]!.dtype, g.tensors[id]!.shape, src.read()));
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => vals.get(i)!);
    const def = getOp(n.op);
    const impl = def.fold ?? REFS[n.op];
    assert.ok(impl, `no evaluator for IR op ${n.op}`);
    impl(ins, n.attrs).forEach((v, k) => vals.set(n.outputs[k]!, v));
  }
  return g.outputs.map((o) => vals.get(o)!);
}

function decodeValue(t: Parameters<typeof decodeTensor>[0], dir: string): HostTensor {
  const d = decodeTensor(t, dir, 'test data', { warn() {} });
  return d.value ?? hostFromBytes(d.type.dtype, d.type.shape, d.source!.read());
}

function caseDir(name: string) {
  return path.join(TESTDATA_ROOT, 'node', name);
}

/**
 * Convert a backend test case the way the conformance harness does (shape-determining inputs frozen
 * from the test data when needed) and evaluate it on its test inputs.
 */
function evalCase(name: string): { graph: Graph; got: HostTensor[]; want: HostTensor[]; frozen: string[] } {
  const dir = caseDir(name);
  const c = { suite: 'node', name, dir, model: path.join(dir, 'model.onnx') };
  const data = readDataSet(c);
  const inputs = data.inputs.map((t) => decodeValue(t.proto, dir));
  const { graph, frozen, runtimeInputs } = importCase(c, inputs);
  assert.equal(graph.inputs.length, runtimeInputs.length);
  const values = new Map<string, HostTensor>();
  graph.inputs.forEach((id, i) => {
    assert.deepEqual([...graph.tensors[id]!.shape], [...runtimeInputs[i]!.shape]);
    values.set(graph.tensors[id]!.name, runtimeInputs[i]!);
  });
  const got = runGraph(graph, values);
  const want = data.outputs.map((t) => decodeValue(t.proto, dir));
  return { graph, got, want, frozen };
}

function assertClose(got: HostTensor, want: HostTensor, what: string, atol = 1e-4, rtol = 1e-3): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  const g = got.data as Float32Array, w = want.data as Float32Array;
  for (let i = 0; i < w.length; i++) {
    const ok = (Number.isNaN(w[i]!) && Number.isNaN(g[i]!)) || Math.abs(g[i]! - w[i]!) <= atol + rtol * Math.abs(w[i]!);
    if (!ok) assert.fail(`${what}: element ${i}: got ${g[i]}, expected ${w[i]}`);
  }
}

// ------------------------------------------------------------------ ONNX backend test data

const NUMERIC_CASES = [
  'test_nllloss_NC', 'test_nllloss_NCd1_ii', 'test_nllloss_NCd1_mean_weight_negative_ii', 'test_nllloss_NCd1d2_with_weight_reduction_mean',
  'test_nllloss_NCd1d2_with_weight_reduction_sum_ii', 'test_nllloss_NCd1d2d3_sum_weight_high_ii', 'test_nllloss_NCd1d2d3d4d5_none_no_weight',
  'test_sce_mean', 'test_sce_none_weights_log_prob', 'test_sce_mean_weight_ii_3d_log_prob', 'test_sce_NCd1d2d3_sum_weight_high_ii_log_prob',
  'test_sce_NCd1_mean_weight_negative_ii_log_prob',
  'test_simple_rnn_defaults', 'test_simple_rnn_with_initial_bias', 'test_simple_rnn_batchwise', 'test_rnn_seq_length',
  'test_gru_defaults', 'test_gru_with_initial_bias', 'test_gru_seq_length', 'test_gru_batchwise',
  'test_lstm_defaults', 'test_lstm_with_initial_bias', 'test_lstm_batchwise', 'test_lstm_with_peepholes',
  'test_det_2d', 'test_det_nd', 'test_maxunpool_export_without_output_shape',
  'test_gridsample', 'test_gridsample_aligncorners_true', 'test_gridsample_bicubic', 'test_gridsample_bilinear', 'test_gridsample_border_padding',
  'test_gridsample_nearest', 'test_gridsample_reflection_padding', 'test_gridsample_zeros_padding',
  'test_roialign_aligned_false', 'test_roialign_aligned_true',
  // shape-determining inputs frozen from the test data:
  'test_maxunpool_export_with_output_shape', 'test_hannwindow', 'test_hannwindow_symmetric', 'test_hammingwindow', 'test_hammingwindow_symmetric',
  'test_blackmanwindow', 'test_blackmanwindow_symmetric', 'test_melweightmatrix', 'test_stft', 'test_stft_with_window',
];

test('backend test data: lowered graphs compute the expected outputs', { skip: !hasData && 'no ONNX test data' }, () => {
  for (const name of NUMERIC_CASES) {
    const { got, want } = evalCase(name);
    assert.equal(got.length, want.length, `${name}: output count`);
    got.forEach((g, i) => assertClose(g, want[i]!, `${name} output ${i}`));
  }
});

test('RNN family is unrolled into MatMul and elementwise ops (no recurrent IR op)', { skip: !hasData && 'no ONNX test data' }, () => {
  const { graph } = evalCase('test_lstm_with_peepholes');
  const ops = new Set(graph.nodes.map((n) => n.op));
  for (const op of ['MatMul', 'Sigmoid', 'Tanh', 'Where', 'Less']) assert.ok(ops.has(op), `uses ${op}`);
  assert.ok(!ops.has('LSTM'));
});

test('DFT lowering: forward, other axis and inverse match a float64 DFT', { skip: !hasData && 'no ONNX test data' }, () => {
  // (the expected outputs shipped with ONNX 1.12 for these cases are laid out wrongly; compare with
  // np.fft semantics directly: x = arange(100) as [1, 10, 10, 1])
  for (const [name, axis, inverse] of [['test_dft', 1, 0], ['test_dft_axis', 2, 0], ['test_dft_inverse', 1, 1]] as const) {
    const { graph } = evalCase(name);
    const node = graph.nodes.find((n) => n.op === 'DFT')!;
    assert.deepEqual(node.attrs, { axis, length: 10, inverse, onesided: 0 });
  }
  const x = hostTensor('float32', [10, 2], Float32Array.from({ length: 20 }, (_, i) => (i % 2 ? 0 : i / 2)));
  const [y] = refDFT([x], { axis: 0, length: 10, inverse: 0, onesided: 0 });
  assert.ok(Math.abs(y!.data[0] as number - 45) < 1e-9 && Math.abs((y!.data[2] as number) + 5) < 1e-5, 'DC = 45, X[1] real = −5');
});

test('backend test data: every case of these ops converts with the expected output shapes', { skip: !hasData && 'no ONNX test data' }, () => {
  const frozen = new Set(['test_blackmanwindow', 'test_blackmanwindow_symmetric', 'test_hammingwindow', 'test_hammingwindow_symmetric',
    'test_hannwindow', 'test_hannwindow_symmetric', 'test_melweightmatrix', 'test_stft', 'test_stft_with_window', 'test_maxunpool_export_with_output_shape']);
  const names = [...NUMERIC_CASES, 'test_dft', 'test_dft_axis', 'test_dft_inverse',
    'test_nllloss_NCd1d2d3d4d5_mean_weight', 'test_sce_NCd1d2d3d4d5_none_no_weight_log_prob', 'test_sce_none_log_prob', 'test_sce_sum'];
  for (const name of names) {
    const r = checkCase({ suite: 'node', name, dir: caseDir(name), model: path.join(caseDir(name), 'model.onnx') });
    assert.equal(r.status, 'pass', `${name}: ${r.status} ${r.category} ${r.reason}`);
    assert.equal((r.frozen?.length ?? 0) > 0, frozen.has(name), `${name}: frozen inputs ${r.frozen}`);
  }
});

test('generators and MaxUnpool with a run-time size are refused as dynamic-shape', () => {
  const expectDyn = (spec: Parameters<typeof buildModel>[0], re: RegExp) =>
    assert.throws(() => convertModel(spec), (e: unknown) => e instanceof ConvertError && e.category === 'dynamic-shape' && re.test(e.message));
  expectDyn({
    inputs: [valueInfo('n', F.INT32, [])], outputs: [valueInfo('y', F.FLOAT, undefined)], opset: 17,
    nodes: [{ op: 'BlackmanWindow', inputs: ['n'], outputs: ['y'] }],
  }, /size \(input 0\) must be a constant/);
  expectDyn({
    inputs: [valueInfo('x', F.FLOAT, [1, 1, 2, 2]), valueInfo('i', F.INT64, [1, 1, 2, 2]), valueInfo('s', F.INT64, [4])], outputs: [valueInfo('y', F.FLOAT, undefined)], opset: 11,
    nodes: [{ op: 'MaxUnpool', inputs: ['x', 'i', 's'], outputs: ['y'], attrs: { kernel_shape: [2, 2] } }],
  }, /output_shape \(input 2\) must be a constant/);
});

// ------------------------------------------------------------------ hand-built ONNX models

function convertModel(spec: Parameters<typeof buildModel>[0], shapes?: Record<string, number[]>) {
  const file = writeModel(tmpDir(), spec);
  return importOnnx(readOnnxModel(file), file, { inputShapes: shapes && new Map(Object.entries(shapes)) }).graph;
}

test('constant window size, bidirectional GRU and constant MaxUnpool output_shape convert', () => {
  const w = convertModel({
    inputs: [], outputs: [valueInfo('y', F.FLOAT, [6])], opset: 17,
    nodes: [{ op: 'Constant', inputs: [], outputs: ['n'], attrs: { value_int: 6 } }, { op: 'HannWindow', inputs: ['n'], outputs: ['y'], attrs: { periodic: 0 } }],
  });
  assert.deepEqual(w.nodes.map((n) => [n.op, n.attrs]), [['Window', { kind: 'hann', size: 6, periodic: 0 }]]);

  const H = 2, I = 3, T = 4, B = 1;
  const g = convertModel({
    inputs: [valueInfo('x', F.FLOAT, [T, B, I]), valueInfo('w', F.FLOAT, [2, 3 * H, I]), valueInfo('r', F.FLOAT, [2, 3 * H, H])],
    outputs: [valueInfo('y', F.FLOAT, [T, 2, B, H]), valueInfo('yh', F.FLOAT, [2, B, H])], opset: 14,
    nodes: [{ op: 'GRU', inputs: ['x', 'w', 'r'], outputs: ['y', 'yh'], attrs: { hidden_size: H, direction: 'bidirectional', linear_before_reset: 1, clip: 5 }, floatAttrs: ['clip'] }],
  });
  assert.deepEqual([...g.tensors[g.outputs[0]!]!.shape], [T, 2, B, H]);
  assert.deepEqual([...g.tensors[g.outputs[1]!]!.shape], [2, B, H]);
  assert.ok(g.nodes.some((n) => n.op === 'Clip'), 'clip bounds the gate inputs');

  const u = convertModel({
    inputs: [valueInfo('x', F.FLOAT, [1, 1, 2, 2]), valueInfo('i', F.INT64, [1, 1, 2, 2])], outputs: [valueInfo('y', F.FLOAT, [1, 1, 5, 5])], opset: 11,
    nodes: [{ op: 'Constant', inputs: [], outputs: ['s'], attrs: { value_ints: [1, 1, 5, 5] } }, { op: 'MaxUnpool', inputs: ['x', 'i', 's'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }],
  });
  assert.deepEqual(u.nodes[0]!.attrs, { index_shape: [1, 1, 4, 4], output_shape: [1, 1, 5, 5] });
});

/** Like convertModel, with string-list attributes added to node 0 (the builder helper has none). */
function convertWithStrings(spec: Parameters<typeof buildModel>[0], strs: Record<string, string[]>) {
  const m = onnx.ModelProto.decode(buildModel(spec));
  for (const [name, v] of Object.entries(strs)) m.graph!.node![0]!.attribute!.push(onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRINGS, strings: v.map((x) => new TextEncoder().encode(x)) }));
  const file = path.join(tmpDir(), 'm.onnx');
  fs.writeFileSync(file, onnx.ModelProto.encode(m).finish());
  return importOnnx(readOnnxModel(file), file).graph;
}

test('RNN lowering: activations with alpha, and bad attributes with clear categories', () => {
  const spec = (attrs: Record<string, number | string | number[]>, floatAttrs: string[] = []) => ({
    inputs: [valueInfo('x', F.FLOAT, [2, 1, 3]), valueInfo('w', F.FLOAT, [1, 4, 3]), valueInfo('r', F.FLOAT, [1, 4, 4])],
    outputs: [valueInfo('y', F.FLOAT, undefined)], opset: 14,
    nodes: [{ op: 'RNN', inputs: ['x', 'w', 'r'], outputs: ['y'], attrs: { hidden_size: 4, ...attrs }, floatAttrs }],
  });
  const expectErr = (fn: () => unknown, cat: string, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof ConvertError && e.category === cat && re.test(e.message));
  expectErr(() => convertWithStrings(spec({}), { activations: ['Gelu'] }), 'unsupported-attr', /activation 'Gelu' is not supported/);
  expectErr(() => convertWithStrings(spec({}), { activations: ['Tanh', 'Tanh'] }), 'invalid-model', /RNN needs 1 per direction/);
  expectErr(() => convertModel(spec({ direction: 'sideways' })), 'unsupported-attr', /direction='sideways'/);
  expectErr(() => convertModel(spec({ hidden_size: 5 })), 'invalid-model', /W shape \[1,4,3\] must be \[1,5,3\]/);
  const g = convertWithStrings(spec({ activation_alpha: [0.25] }, ['activation_alpha']), { activations: ['leakyrelu'] });
  const lr = g.nodes.filter((n) => n.op === 'LeakyRelu');
  assert.equal(lr.length, 2, 'one activation per time step');
  assert.deepEqual(lr[0]!.attrs, { alpha: 0.25 });
  assert.ok(!g.nodes.some((n) => n.op === 'Tanh'));
  assert.ok(convertModel(spec({})).nodes.some((n) => n.op === 'Tanh'), 'default RNN activation is Tanh');
});

test('Col2Im folds: overlapping blocks summed in input order, padding dropped', () => {
  const attrs = (extra: Partial<Record<string, number[]>>) => ({ image_shape: [3], block_shape: [2], dilations: [1], pads: [0, 0], strides: [1], ...extra });
  const x = f32t([1, 2, 2], [1, 2, 10, 20]);
  assert.deepEqual([...fold('Col2Im', [x], attrs({})).data], [1, 12, 20]);
  const y = fold('Col2Im', [x], attrs({ image_shape: [2], pads: [1, 0] }));
  assert.deepEqual([...y.shape], [1, 1, 2]);
  assert.deepEqual([...y.data], [12, 20]);
  const z = fold('Col2Im', [f32t([1, 4, 1], [1, 2, 3, 4])], { image_shape: [2, 2], block_shape: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1] });
  assert.deepEqual([...z.shape], [1, 1, 2, 2]);
  assert.deepEqual([...z.data], [1, 2, 3, 4]);
  assert.throws(() => infer('Col2Im', [['float32', [1, 2, 3]]], attrs({})), /L = 3 must equal the number of block positions 2/);
  assert.throws(() => infer('Col2Im', [['float32', [1, 3, 2]]], attrs({})), /\[N, C·2, L\]/);
});

test('CenterCropPad lowers to one Pad (negative pads crop), centred like the ONNX reference', () => {
  const run = (dims: number[], vals: number[], target: number[], axes?: number[]) => {
    const g = convertModel({
      inputs: [], outputs: [valueInfo('y', F.FLOAT, undefined)], opset: 18,
      initializers: [floatTensor('x', dims, vals), int64Tensor('s', [target.length], target)],
      nodes: [{ op: 'CenterCropPad', inputs: ['x', 's'], outputs: ['y'], attrs: axes ? { axes } : {} }],
    });
    const id = g.outputs[0]!;
    return { shape: [...g.tensors[id]!.shape], data: [...hostFromBytes('float32', g.tensors[id]!.shape, g.constants.get(id)!.read()).data] };
  };
  assert.deepEqual(run([4, 3], [...Array(12).keys()], [2, 5]), { shape: [2, 5], data: [0, 3, 4, 5, 0, 0, 6, 7, 8, 0] });
  assert.deepEqual(run([3], [1, 2, 3], [2]), { shape: [2], data: [1, 2] });
  assert.deepEqual(run([1], [7], [4]), { shape: [4], data: [0, 7, 0, 0] });
  assert.deepEqual(run([2, 3], [1, 2, 3, 4, 5, 6], [1], [-1]), { shape: [2, 1], data: [2, 5] });
  const dyn = convertModel({
    inputs: [valueInfo('x', F.FLOAT, [4, 3])], outputs: [valueInfo('y', F.FLOAT, undefined)], opset: 18,
    initializers: [int64Tensor('s', [2], [2, 5])],
    nodes: [{ op: 'CenterCropPad', inputs: ['x', 's'], outputs: ['y'] }],
  });
  assert.deepEqual(dyn.nodes.map((n) => [n.op, n.attrs]), [['Pad', { pads: [-1, 1, -1, 1], mode: 'constant' }]]);
});

/** Deterministic pseudo-random float32 values in [−1, 1). */
function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return f(s / 2 ** 31 - 1); });
}

function evalModel(spec: Parameters<typeof buildModel>[0], values: Record<string, HostTensor>): HostTensor[] {
  const g = convertModel(spec, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [...v.shape]])));
  return runGraph(g, new Map(Object.entries(values)));
}

test('LSTM reverse and bidirectional directions agree with forward runs on reversed sequences (with sequence_lens)', () => {
  const T = 4, B = 2, I = 3, H = 2;
  const X = rand(T * B * I, 1), W = rand(2 * 4 * H * I, 2), R = rand(2 * 4 * H * H, 3), Bi = rand(2 * 8 * H, 4);
  const lstm = (dir: string, t: number, b: number, withSeq: boolean) => ({
    inputs: [valueInfo('x', F.FLOAT, [t, b, I]), valueInfo('w', F.FLOAT, undefined), valueInfo('r', F.FLOAT, undefined), valueInfo('b', F.FLOAT, undefined),
      ...(withSeq ? [valueInfo('sl', F.INT32, [b])] : [])],
    outputs: [valueInfo('y', F.FLOAT, undefined), valueInfo('yh', F.FLOAT, undefined), valueInfo('yc', F.FLOAT, undefined)], opset: 14,
    nodes: [{ op: 'LSTM', inputs: ['x', 'w', 'r', 'b', withSeq ? 'sl' : ''], outputs: ['y', 'yh', 'yc'], attrs: { hidden_size: H, direction: dir } }],
  });
  const weights = (d: number, nd: number) => ({
    w: f32t([nd, 4 * H, I], W.slice(d * 4 * H * I, (d + nd) * 4 * H * I)),
    r: f32t([nd, 4 * H, H], R.slice(d * 4 * H * H, (d + nd) * 4 * H * H)),
    b: f32t([nd, 8 * H], Bi.slice(d * 8 * H, (d + nd) * 8 * H)),
  });
  const xAt = (t: number, b: number) => X.slice((t * B + b) * I, (t * B + b + 1) * I);
  const lens = [4, 2];
  const [yBi, yhBi, ycBi] = evalModel(lstm('bidirectional', T, B, true), { x: f32t([T, B, I], X), ...weights(0, 2), sl: hostTensor('int32', [B], lens) });
  assert.deepEqual([...yBi!.shape], [T, 2, B, H]);
  const Y = (t: number, d: number, b: number) => [...(yBi!.data as Float32Array).slice(((t * 2 + d) * B + b) * H, ((t * 2 + d) * B + b + 1) * H)];
  for (let b = 0; b < B; b++) {
    const L = lens[b]!;
    for (const [d, dir] of [[0, 'forward'], [1, 'reverse']] as const) {
      // batch b alone, only its valid prefix, time-reversed for the reverse direction, run forward
      const xs = Array.from({ length: L }, (_, s) => xAt(dir === 'reverse' ? L - 1 - s : s, b)).flat();
      const [y1, yh1, yc1] = evalModel(lstm('forward', L, 1, false), { x: f32t([L, 1, I], xs), ...weights(d, 1) });
      for (let t = 0; t < T; t++) {
        const want = t >= L ? [0, 0] : [...(y1!.data as Float32Array).slice((dir === 'reverse' ? L - 1 - t : t) * H, ((dir === 'reverse' ? L - 1 - t : t) + 1) * H)];
        assert.deepEqual(Y(t, d, b), want, `Y[t=${t}, dir=${d}, b=${b}]`);
      }
      assert.deepEqual([...(yhBi!.data as Float32Array).slice((d * B + b) * H, (d * B + b + 1) * H)], [...yh1!.data], `Y_h dir ${d} batch ${b}`);
      assert.deepEqual([...(ycBi!.data as Float32Array).slice((d * B + b) * H, (d * B + b + 1) * H)], [...yc1!.data], `Y_c dir ${d} batch ${b}`);
    }
  }
});

test('GridSample and RoiAlign fold exactly (hand-computed)', () => {
  const x = f32t([1, 1, 2, 2], [1, 2, 3, 4]);
  const gs = (grid: number[], mode: string, padding_mode: string, align_corners: number) =>
    [...fold('GridSample', [x, f32t([1, 1, grid.length / 2, 2], grid)], { mode, padding_mode, align_corners }).data];
  // align_corners = 1: −1 → pixel 0, 0 → 0.5, 1 → pixel 1 (the x1 = 2 taps are outside and skipped)
  assert.deepEqual(gs([-1, -1, 0, 0, 1, 1], 'bilinear', 'zeros', 1), [1, 2.5, 4]);
  // align_corners = 0: 0 → 0.5, rounded half to even → pixel 0
  assert.deepEqual(gs([0, 0], 'nearest', 'zeros', 0), [1]);
  assert.deepEqual(gs([5, 5], 'bilinear', 'zeros', 0), [0]);
  assert.deepEqual(gs([5, 5], 'bilinear', 'border', 0), [4]);
  // reflection, align_corners = 1: g = 2 → u = 1.5, reflected into [0, 1] → 0.5
  assert.deepEqual(gs([2, 2], 'bilinear', 'reflection', 1), [2.5]);
  const ra = (mode: string, half_pixel: number, b: number) =>
    [...fold('RoiAlign', [x, f32t([1, 4], [0, 0, 1, 1]), i64t([1], [b])], { mode, output_height: 1, output_width: 1, sampling_ratio: 1, spatial_scale: 1, half_pixel }).data];
  assert.deepEqual(ra('avg', 0, 0), [2.5], 'one sample at (0.5, 0.5): the mean of the four pixels');
  assert.deepEqual(ra('max', 0, 0), [1], 'max of the weighted taps 0.25, 0.5, 0.75, 1');
  assert.deepEqual(ra('avg', 1, 0), [1], 'half_pixel shifts the sample to (0, 0)');
  assert.deepEqual(ra('avg', 0, 3), [0], 'a batch index out of range gives zeros');
});

test('DFT: opset 20 axis input and constant dft_length; STFT with constant frame_step', () => {
  const g = convertModel({
    inputs: [valueInfo('x', F.FLOAT, [2, 8, 3, 2])], outputs: [valueInfo('y', F.FLOAT, undefined)], opset: 20,
    initializers: [int64Tensor('len', [], [5]), int64Tensor('axis', [], [-3])],
    nodes: [{ op: 'DFT', inputs: ['x', 'len', 'axis'], outputs: ['y'], attrs: { onesided: 1 } }],
  });
  assert.deepEqual(g.nodes.map((n) => [n.op, n.attrs]), [['DFT', { axis: 1, length: 5, inverse: 0, onesided: 1 }]]);
  assert.deepEqual([...g.tensors[g.outputs[0]!]!.shape], [2, 3, 3, 2]);
  const s = convertModel({
    inputs: [valueInfo('x', F.FLOAT, [1, 64, 1])], outputs: [valueInfo('y', F.FLOAT, undefined)], opset: 17,
    initializers: [int64Tensor('step', [], [16]), int64Tensor('len', [], [32])],
    nodes: [{ op: 'STFT', inputs: ['x', 'step', '', 'len'], outputs: ['y'] }],
  });
  assert.deepEqual(s.nodes.map((n) => [n.op, n.attrs]), [['STFT', { frame_step: 16, frame_length: 32, onesided: 1 }]]);
  assert.deepEqual([...s.tensors[s.outputs[0]!]!.shape], [1, 3, 17, 2]);
});
