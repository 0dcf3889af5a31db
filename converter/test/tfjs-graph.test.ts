import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { convertModel, importModel } from '../convert.ts';
import { readBundle } from '../bundle/read.ts';
import { ConvertError } from '../errors.ts';
import type { Graph, TensorId } from '../ir/types.ts';
import type { GNode } from './fixtures/tfjs/build.ts';
import * as tf from '@tensorflow/tfjs';
import { A, constNode, grid, loadTfjsGraphModel, placeholder, randomInput, tmpDir, writeGraphModel } from './fixtures/tfjs/build.ts';
import { evaluate, maxAbsDiff } from './fixtures/tfjs/ref-eval.ts';
import { constFloats, histogram } from './helpers/graph.ts';

/** Run the converted graph (reference evaluator) and TensorFlow.js's GraphModel on one input; max difference per output. */
async function compareWithTfjs(g: Graph, file: string, shape: number[]): Promise<number[]> {
  const model = await loadTfjsGraphModel(file);
  const x = randomInput(shape);
  const r = model.execute(tf.tensor(x, shape));
  const want = (Array.isArray(r) ? r : [r]).map((t) => t.dataSync());
  const got = evaluate(g, [{ shape, data: Float64Array.from(x) }]);
  return got.map((o, i) => maxAbsDiff(o.data, want[i]!));
}


function nodes(g: Graph, op: string) {
  return g.nodes.filter((n) => n.op === op);
}

/** HWIO → OIHW. */
function hwioToOihw(v: ArrayLike<number>, [h, w, i, o]: number[]): Float32Array {
  const out = new Float32Array(v.length);
  for (let a = 0; a < h; a++) for (let b = 0; b < w; b++) for (let c = 0; c < i; c++) for (let d = 0; d < o; d++) {
    out[((d * i + c) * h + a) * w + b] = v[((a * w + b) * i + c) * o + d]!;
  }
  return out;
}

const CONV_ATTRS = (fused: string[], strides = [1, 1, 1, 1], padding = 'SAME') => ({
  T: A.type('DT_FLOAT'), strides: A.ints(strides), padding: A.s(padding), data_format: A.s('NHWC'), dilations: A.ints([1, 1, 1, 1]),
  fused_ops: A.strs(fused), num_args: A.i(fused.includes('FusedBatchNorm') ? 4 : 1), epsilon: A.f(0), explicit_paddings: { list: {} }, use_cudnn_on_gpu: A.b(true),
});

/** A CNN as tensorflowjs_converter emits it: fused conv/depthwise/matmul, FusedBatchNormV3, quantized weights. */
function cnn(dir: string, opts: { shards?: number } = {}) {
  const nodes: GNode[] = [
    placeholder('input', [-1, 8, 8, 3]),
    constNode('conv/kernel'), constNode('conv/bias'), constNode('dw/kernel'), constNode('dw/bias'),
    constNode('bn/scale'), constNode('bn/offset'), constNode('bn/mean'), constNode('bn/variance'),
    constNode('flat/shape', 'DT_INT32'), constNode('fc/kernel'), constNode('fc/bias'),
    { name: 'conv/Relu', op: '_FusedConv2D', input: ['input', 'conv/kernel', 'conv/bias'], attr: CONV_ATTRS(['BiasAdd', 'Relu']) },
    { name: 'dw/Relu6', op: 'FusedDepthwiseConv2dNative', input: ['conv/Relu', 'dw/kernel', 'dw/bias'], attr: CONV_ATTRS(['BiasAdd', 'Relu6'], [1, 2, 2, 1]) },
    { name: 'bn/FusedBatchNormV3', op: 'FusedBatchNormV3', input: ['dw/Relu6', 'bn/scale', 'bn/offset', 'bn/mean', 'bn/variance'], attr: { T: A.type('DT_FLOAT'), U: A.type('DT_FLOAT'), epsilon: A.f(0.001), data_format: A.s('NHWC'), is_training: A.b(false) } },
    { name: 'pool', op: 'MaxPool', input: ['bn/FusedBatchNormV3'], attr: { T: A.type('DT_FLOAT'), ksize: A.ints([1, 2, 2, 1]), strides: A.ints([1, 2, 2, 1]), padding: A.s('VALID'), data_format: A.s('NHWC') } },
    { name: 'flat', op: 'Reshape', input: ['pool', 'flat/shape'], attr: { T: A.type('DT_FLOAT'), Tshape: A.type('DT_INT32') } },
    { name: 'fc/Relu', op: '_FusedMatMul', input: ['flat', 'fc/kernel', 'fc/bias'], attr: { T: A.type('DT_FLOAT'), transpose_a: A.b(false), transpose_b: A.b(true), fused_ops: A.strs(['BiasAdd', 'Relu']), num_args: A.i(1), epsilon: A.f(0) } },
    { name: 'probs', op: 'Softmax', input: ['fc/Relu'], attr: { T: A.type('DT_FLOAT') } },
    { name: 'Identity', op: 'Identity', input: ['probs', '^pool'], attr: { T: A.type('DT_FLOAT') } },
  ];
  return writeGraphModel(dir, {
    nodes,
    outputs: ['Identity:0'],
    shards: opts.shards,
    weights: [
      { name: 'conv/kernel', shape: [3, 3, 3, 4], dtype: 'float32', values: grid(108, 1), quant: 'uint8' },
      { name: 'conv/bias', shape: [4], dtype: 'float32', values: [0.5, -0.25, 0, 1] },
      { name: 'dw/kernel', shape: [3, 3, 4, 2], dtype: 'float32', values: grid(72, 2), quant: 'float16' },
      { name: 'dw/bias', shape: [8], dtype: 'float32', values: grid(8, 3), quant: 'float16' },
      { name: 'bn/scale', shape: [8], dtype: 'float32', values: grid(8, 4) },
      { name: 'bn/offset', shape: [8], dtype: 'float32', values: grid(8, 5) },
      { name: 'bn/mean', shape: [8], dtype: 'float32', values: grid(8, 6) },
      { name: 'bn/variance', shape: [8], dtype: 'float32', values: grid(8, 7).map(Math.abs) },
      { name: 'flat/shape', shape: [2], dtype: 'int32', values: [-1, 32] },
      { name: 'fc/kernel', shape: [10, 32], dtype: 'float32', values: grid(320, 8), quant: 'uint16' },
      { name: 'fc/bias', shape: [10], dtype: 'float32', values: grid(10, 9), quant: 'uint8' },
    ],
  });
}

test('graph model with fused ops and uint8/uint16/float16 weights over sharded files', async () => {
  const dir = tmpDir();
  const { file, values } = cnn(dir, { shards: 3 });
  const { graph: g, source } = importModel(file);
  assert.equal(source.format, 'tfjs-graph');
  assert.match(source.producer ?? '', /2\.15\.0/);
  assert.deepEqual(g.inputs.map((i) => [g.tensors[i]!.name, g.tensors[i]!.shape]), [['input', [1, 8, 8, 3]]]);
  assert.deepEqual(g.outputs.map((o) => [g.tensors[o]!.name, g.tensors[o]!.dtype, g.tensors[o]!.shape]), [['Identity', 'float32', [1, 10]]]);
  // One transpose into NCHW and one back before the Reshape; conv → depthwise → BN → pool stay NCHW.
  assert.deepEqual(histogram(g), { Transpose: 2, Conv: 2, Relu: 2, Clip: 1, BatchNormalization: 1, MaxPool: 1, Reshape: 1, MatMul: 1, Add: 1, Softmax: 1 });
  const [conv, dw] = nodes(g, 'Conv') as [Graph['nodes'][number], Graph['nodes'][number]];
  assert.deepEqual(conv.attrs, { group: 1, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] });
  // depthwise: 8x8 stride 2 SAME → 4x4, total pad 1 on each axis, put at the end
  assert.deepEqual(dw.attrs, { group: 4, strides: [2, 2], dilations: [1, 1], pads: [0, 0, 1, 1] });
  assert.deepEqual(g.tensors[dw.outputs[0]!]!.shape, [1, 8, 4, 4]);
  // Dequantized constants.
  assert.deepEqual(constFloats(g, conv.inputs[1]!), hwioToOihw(values.get('conv/kernel')!, [3, 3, 3, 4]));
  assert.deepEqual(constFloats(g, conv.inputs[2]!), Float32Array.from([0.5, -0.25, 0, 1]));
  const dwk = constFloats(g, dw.inputs[1]!);
  const dwSrc = values.get('dw/kernel')!;
  for (let c = 0; c < 4; c++) for (let m = 0; m < 2; m++) for (let k = 0; k < 9; k++) assert.equal(dwk[(c * 2 + m) * 9 + k], dwSrc[(k * 4 + c) * 2 + m]);
  assert.deepEqual(constFloats(g, dw.inputs[2]!), values.get('dw/bias'));
  const bn = nodes(g, 'BatchNormalization')[0]!;
  assert.equal(bn.attrs.epsilon, Math.fround(0.001));
  assert.deepEqual(bn.inputs.slice(1).map((i) => constFloats(g, i)), ['bn/scale', 'bn/offset', 'bn/mean', 'bn/variance'].map((k) => values.get(k)));
  // transpose_b: the [10, 32] kernel is folded to [32, 10].
  const mm = nodes(g, 'MatMul')[0]!;
  assert.deepEqual(g.tensors[mm.inputs[1]!]!.shape, [32, 10]);
  const fk = values.get('fc/kernel')!;
  const got = constFloats(g, mm.inputs[1]!);
  for (let i = 0; i < 32; i++) for (let j = 0; j < 10; j++) assert.equal(got[i * 10 + j], fk[j * 32 + i]);
  assert.deepEqual(constFloats(g, nodes(g, 'Add')[0]!.inputs[1]!), values.get('fc/bias'));
  // uint8 dequantisation is value·scale + min, rounded to float32
  const q = values.get('fc/bias')!;
  assert.ok(q.some((v, i) => v !== Math.fround(grid(10, 9)[i]!)), 'uint8 quantisation should be lossy for these values');
  // Clip bounds are scalar float32 constants 0 and 6.
  const clip = nodes(g, 'Clip')[0]!;
  assert.deepEqual(clip.inputs.slice(1).map((i) => [g.tensors[i]!.shape, Array.from(constFloats(g, i))]), [[[], [0]], [[], [6]]]);
  // TensorFlow.js runs the same model.json to the same values.
  const [d] = await compareWithTfjs(g, file, [1, 8, 8, 3]);
  assert.ok(d! < 1e-5, `differs from TensorFlow.js by ${d}`);
});

test('graph model: plain ops, batch from --input-shape, StridedSlice/Shape/Pack, pads and reductions', async () => {
  const dir = tmpDir();
  const f = (name: string, op: string, input: string[], attr: Record<string, unknown> = {}): GNode => ({ name, op, input, attr: { T: A.type('DT_FLOAT'), ...attr } });
  const { file } = writeGraphModel(dir, {
    nodes: [
      placeholder('x', [-1, 6, 6, 2]),
      constNode('k'), constNode('dk'), constNode('b'), constNode('pads', 'DT_INT32'), constNode('axes', 'DT_INT32'),
      constNode('ss/begin', 'DT_INT32'), constNode('ss/end', 'DT_INT32'), constNode('ss/strides', 'DT_INT32'), constNode('perm', 'DT_INT32'),
      constNode('cat/axis', 'DT_INT32'), constNode('ed/dim', 'DT_INT32'),
      f('pad', 'Pad', ['x', 'pads'], { Tpaddings: A.type('DT_INT32') }),
      f('conv', 'Conv2D', ['pad', 'k'], { strides: A.ints([1, 1, 1, 1]), padding: A.s('VALID'), dilations: A.ints([1, 1, 1, 1]), data_format: A.s('NHWC') }),
      f('bias', 'BiasAdd', ['conv', 'b'], { data_format: A.s('NHWC') }),
      f('relu6', 'Relu6', ['bias']),
      f('dw', 'DepthwiseConv2dNative', ['relu6', 'dk'], { strides: A.ints([1, 1, 1, 1]), padding: A.s('SAME'), dilations: A.ints([1, 1, 1, 1]), data_format: A.s('NHWC') }),
      f('avg', 'AvgPool', ['dw'], { ksize: A.ints([1, 3, 3, 1]), strides: A.ints([1, 2, 2, 1]), padding: A.s('SAME'), data_format: A.s('NHWC') }),
      f('mean', 'Mean', ['avg', 'axes'], { keep_dims: A.b(false), Tidx: A.type('DT_INT32') }),
      f('shape', 'Shape', ['mean'], { out_type: A.type('DT_INT32') }),
      f('ss', 'StridedSlice', ['shape', 'ss/begin', 'ss/end', 'ss/strides'], { T: A.type('DT_INT32'), shrink_axis_mask: A.i(1), begin_mask: A.i(0), end_mask: A.i(0), ellipsis_mask: A.i(0), new_axis_mask: A.i(0) }),
      f('ed', 'ExpandDims', ['mean', 'ed/dim']),
      f('tr', 'Transpose', ['ed', 'perm']),
      f('sq', 'Squeeze', ['tr'], { squeeze_dims: A.ints([2]) }),
      f('sig', 'Sigmoid', ['sq']),
      f('mul', 'Mul', ['sig', 'sq']),
      f('rs', 'Rsqrt', ['sig']),
      constNode('minus1', 'DT_INT32'),
      f('shape2', 'Shape', ['avg'], { out_type: A.type('DT_INT32') }),
      f('batch', 'StridedSlice', ['shape2', 'ss/begin', 'ss/end', 'ss/strides'], { T: A.type('DT_INT32'), shrink_axis_mask: A.i(1) }),
      f('packed', 'Pack', ['batch', 'minus1'], { T: A.type('DT_INT32'), N: A.i(2), axis: A.i(0) }),
      f('flat', 'Reshape', ['avg', 'packed']),
      f('cat', 'ConcatV2', ['mul', 'rs', 'cat/axis'], { N: A.i(2), Tidx: A.type('DT_INT32') }),
      f('max', 'Maximum', ['cat', 'cat']),
    ],
    weights: [
      { name: 'k', shape: [3, 3, 2, 4], dtype: 'float32', values: grid(72, 11) },
      { name: 'dk', shape: [3, 3, 4, 1], dtype: 'float32', values: grid(36, 12) },
      { name: 'b', shape: [4], dtype: 'float32', values: [1, 2, 3, 4] },
      { name: 'pads', shape: [4, 2], dtype: 'int32', values: [0, 0, 1, 1, 2, 0, 0, 0] },
      { name: 'axes', shape: [2], dtype: 'int32', values: [1, -2] },
      { name: 'ss/begin', shape: [1], dtype: 'int32', values: [0] },
      { name: 'ss/end', shape: [1], dtype: 'int32', values: [1] },
      { name: 'ss/strides', shape: [1], dtype: 'int32', values: [1] },
      { name: 'perm', shape: [3], dtype: 'int32', values: [1, 0, 2] },
      { name: 'cat/axis', shape: [], dtype: 'int32', values: [-1] },
      { name: 'ed/dim', shape: [], dtype: 'int32', values: [-1] },
      { name: 'minus1', shape: [], dtype: 'int32', values: [-1] },
    ],
    outputs: ['max:0', 'ss:0', 'flat:0'],
  });
  const { graph: g } = importModel(file, { inputShapes: new Map([['x:0', [3, 6, 6, 2]]]) });
  assert.deepEqual(g.tensors[g.inputs[0]!]!.shape, [3, 6, 6, 2]);
  // pad → [3,8,8,2]; conv VALID → [3,6,6,4]; depthwise SAME → same; avg 3/2 SAME → [3,3,3,4]; mean → [3,4]
  // ed → [3,4,1]; tr → [4,3,1]; sq → [4,3]; concat → [4,6]
  assert.deepEqual(g.outputs.map((o) => g.tensors[o]!.shape), [[4, 6], [], [3, 36]]);
  assert.equal(g.tensors[g.outputs[1]!]!.dtype, 'int32');
  assert.ok(g.constants.has(g.outputs[1]!), 'Shape → StridedSlice folds to a constant');
  const ss = g.constants.get(g.outputs[1]!)!.read();
  assert.equal(new Int32Array(ss.buffer.slice(ss.byteOffset, ss.byteOffset + 4))[0], 3);
  const h = histogram(g);
  assert.equal(h.Pad, 1);
  assert.equal(h.Conv, 2);
  assert.equal(h.AveragePool, 1);
  assert.equal(h.ReduceMean, 1);
  assert.equal(h.Reciprocal, 1);
  assert.equal(h.Sqrt, 1);
  assert.equal(h.Max, 1);
  const conv = g.nodes.find((n) => n.op === 'Conv')!;
  assert.equal(conv.inputs.length, 2, 'a Conv2D followed by BiasAdd gets no bias input; the bias is an Add');
  assert.deepEqual(g.nodes.find((n) => n.op === 'Pad')!.attrs, { pads: [0, 1, 2, 0, 0, 1, 0, 0], mode: 'constant' });
  // The Mean over H, W runs on the NCHW pool result, BiasAdd and Relu6 stay NCHW too. Transposes: the input's, the
  // model's own 'tr', and the pool result's back to NHWC for the 'flat' Reshape.
  assert.deepEqual(g.nodes.find((n) => n.op === 'ReduceMean')!.attrs, { axes: [2, 3], keepdims: 0 });
  assert.equal(h.Transpose, 3);
  assert.deepEqual(g.nodes.find((n) => n.op === 'AveragePool')!.attrs.pads, [0, 0, 1, 1]);
  assert.deepEqual(g.nodes.find((n) => n.op === 'Concat')!.attrs, { axis: 1 });
  const [d0, , d2] = await compareWithTfjs(g, file, [3, 6, 6, 2]);
  assert.ok(d0! < 1e-5 && d2! < 1e-5, `differs from TensorFlow.js by ${d0}, ${d2}`);
});

test('graph model: explicit padding, MirrorPad, fused Prelu/LeakyRelu/Elu, AddN, SquaredDifference, reductions match TensorFlow.js', async () => {
  const dir = tmpDir();
  const f = (name: string, op: string, input: string[], attr: Record<string, unknown> = {}): GNode => ({ name, op, input, attr: { T: A.type('DT_FLOAT'), ...attr } });
  const { file } = writeGraphModel(dir, {
    nodes: [
      placeholder('x', [1, 5, 5, 2]),
      ...['k1', 'k2', 'b2', 'alpha', 'dk', 'db', 'w', 'b', 'w2', 'two'].map((n) => constNode(n)),
      ...['mp/pads', 'axes'].map((n) => constNode(n, 'DT_INT32')),
      f('mp', 'MirrorPad', ['x', 'mp/pads'], { mode: A.s('REFLECT'), Tpaddings: A.type('DT_INT32') }),
      f('c1', 'Conv2D', ['mp', 'k1'], { strides: A.ints([1, 2, 2, 1]), padding: A.s('EXPLICIT'), explicit_paddings: A.ints([0, 0, 1, 0, 0, 2, 0, 0]), dilations: A.ints([1, 1, 1, 1]), data_format: A.s('NHWC') }),
      f('c2', '_FusedConv2D', ['c1', 'k2', 'b2'], { ...CONV_ATTRS(['BiasAdd', 'LeakyRelu']), leakyrelu_alpha: A.f(0.1) }),
      // (TensorFlow.js 4.22 computes NaN for a fused depthwise LeakyRelu: its op list lacks leakyrelu_alpha there)
      f('c3', 'FusedDepthwiseConv2dNative', ['c2', 'dk', 'db', 'alpha'], { ...CONV_ATTRS(['BiasAdd', 'Prelu'], [1, 1, 1, 1], 'VALID'), num_args: A.i(2) }),
      f('m', 'Mean', ['c3', 'axes'], { keep_dims: A.b(true), Tidx: A.type('DT_INT32') }),
      f('sd', 'SquaredDifference', ['c3', 'm']),
      f('an', 'AddN', ['sd', 'c3', 'c3'], { N: A.i(3) }),
      f('rmax', 'Max', ['an', 'axes'], { keep_dims: A.b(false), Tidx: A.type('DT_INT32') }),
      f('fm', '_FusedMatMul', ['rmax', 'w', 'b'], { transpose_a: A.b(false), transpose_b: A.b(false), fused_ops: A.strs(['BiasAdd', 'Elu']), num_args: A.i(1), epsilon: A.f(0) }),
      f('bm', 'BatchMatMulV2', ['fm', 'w2'], { adj_x: A.b(false), adj_y: A.b(true) }),
      f('th', 'Tanh', ['bm']),
      f('out', 'RealDiv', ['th', 'two']),
    ],
    weights: [
      { name: 'k1', shape: [3, 3, 2, 3], dtype: 'float32', values: grid(54, 21) },
      { name: 'k2', shape: [1, 1, 3, 4], dtype: 'float32', values: grid(12, 22) },
      { name: 'b2', shape: [4], dtype: 'float32', values: grid(4, 23) },
      { name: 'alpha', shape: [4], dtype: 'float32', values: [0.1, 0.2, 0.3, 0.4] },
      { name: 'dk', shape: [2, 2, 4, 1], dtype: 'float32', values: grid(16, 24) },
      { name: 'db', shape: [4], dtype: 'float32', values: grid(4, 25) },
      { name: 'w', shape: [4, 5], dtype: 'float32', values: grid(20, 26) },
      { name: 'b', shape: [5], dtype: 'float32', values: grid(5, 27) },
      { name: 'w2', shape: [6, 5], dtype: 'float32', values: grid(30, 28) },
      { name: 'two', shape: [], dtype: 'float32', values: [2] },
      { name: 'mp/pads', shape: [4, 2], dtype: 'int32', values: [0, 0, 1, 1, 1, 1, 0, 0] },
      { name: 'axes', shape: [2], dtype: 'int32', values: [1, 2] },
    ],
  });
  const { graph: g } = importModel(file);
  assert.deepEqual(g.outputs.map((o) => [g.tensors[o]!.name, g.tensors[o]!.shape]), [['out', [1, 6]]]);
  const convs = nodes(g, 'Conv');
  assert.deepEqual(convs.map((n) => n.attrs.pads), [[1, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0]]);
  assert.deepEqual(convs.map((n) => g.tensors[n.outputs[0]!]!.shape), [[1, 3, 3, 4], [1, 4, 3, 4], [1, 4, 2, 3]]);
  assert.equal(nodes(g, 'Pad')[0]!.attrs.mode, 'reflect');
  assert.equal(nodes(g, 'LeakyRelu')[0]!.attrs.alpha, Math.fround(0.1));
  assert.deepEqual(g.tensors[nodes(g, 'PRelu')[0]!.inputs[1]!]!.shape, [4, 1, 1]);
  const [d] = await compareWithTfjs(g, file, [1, 5, 5, 2]);
  assert.ok(d! < 1e-5, `differs from TensorFlow.js by ${d}`);
});

test('graph model: Conv2DBackpropInput and ResizeNearestNeighbor match TensorFlow.js; Split/Unpack/Gather/Tile/ArgMax/Select shapes', async () => {
  const dir = tmpDir();
  const f = (name: string, op: string, input: string[], attr: Record<string, unknown> = {}): GNode => ({ name, op, input, attr: { T: A.type('DT_FLOAT'), ...attr } });
  const { file } = writeGraphModel(dir, {
    nodes: [
      placeholder('x', [1, 3, 3, 2]),
      constNode('k'), constNode('outshape', 'DT_INT32'), constNode('size', 'DT_INT32'),
      f('up', 'Conv2DBackpropInput', ['outshape', 'k', 'x'], { strides: A.ints([1, 2, 2, 1]), padding: A.s('SAME'), dilations: A.ints([1, 1, 1, 1]), data_format: A.s('NHWC') }),
      f('rs', 'ResizeNearestNeighbor', ['up', 'size'], { align_corners: A.b(false), half_pixel_centers: A.b(false) }),
      f('out', 'Relu', ['rs']),
    ],
    weights: [
      { name: 'k', shape: [3, 3, 4, 2], dtype: 'float32', values: grid(72, 31) },
      { name: 'outshape', shape: [4], dtype: 'int32', values: [1, 6, 6, 4] },
      { name: 'size', shape: [2], dtype: 'int32', values: [12, 9] },
    ],
  });
  const { graph: g } = importModel(file);
  assert.deepEqual(g.outputs.map((o) => g.tensors[o]!.shape), [[1, 12, 9, 4]]);
  assert.deepEqual(g.nodes.find((n) => n.op === 'ConvTranspose')!.attrs, { group: 1, strides: [2, 2], dilations: [1, 1], pads: [0, 0, 1, 1], output_padding: [0, 0] });
  const r = g.nodes.find((n) => n.op === 'Resize')!;
  assert.equal(r.attrs.coordinate_transformation_mode, 'asymmetric');
  assert.equal(r.attrs.nearest_mode, 'floor');
  assert.deepEqual(r.attrs.scales, [1, 2, 1.5, 1]);
  const [d] = await compareWithTfjs(g, file, [1, 3, 3, 2]);
  assert.ok(d! < 1e-5, `differs from TensorFlow.js by ${d}`);

  const d2 = tmpDir();
  const { file: f2 } = writeGraphModel(d2, {
    nodes: [
      placeholder('x', [2, 6, 4]),
      placeholder('ids', [3], 'DT_INT32'),
      ...['ax1', 'ax2', 'sizes', 'mult', 'gax', 'am'].map((n) => constNode(n, 'DT_INT32')),
      f('sp', 'Split', ['ax1', 'x'], { num_split: A.i(2) }),
      f('spv', 'SplitV', ['x', 'sizes', 'ax2'], { num_split: A.i(2) }),
      f('un', 'Unpack', ['x'], { num: A.i(2), axis: A.i(0) }),
      f('g', 'GatherV2', ['un:1', 'ids', 'gax'], { batch_dims: A.i(0) }),
      f('t', 'Tile', ['g', 'mult']),
      f('gt', 'Greater', ['sp:1', 'spv:0']),
      f('sel', 'SelectV2', ['gt', 'sp:1', 'spv:0']),
      f('amax', 'ArgMax', ['sel', 'am'], { output_type: A.type('DT_INT32') }),
    ],
    weights: [
      { name: 'ax1', shape: [], dtype: 'int32', values: [1] },
      { name: 'ax2', shape: [], dtype: 'int32', values: [-2] },
      { name: 'sizes', shape: [2], dtype: 'int32', values: [-1, 3] },
      { name: 'mult', shape: [2], dtype: 'int32', values: [2, 1] },
      { name: 'gax', shape: [], dtype: 'int32', values: [0] },
      { name: 'am', shape: [], dtype: 'int32', values: [2] },
    ],
    outputs: ['t:0', 'amax:0', 'spv:1'],
  });
  const { graph: g2 } = importModel(f2);
  assert.deepEqual(g2.outputs.map((o) => [g2.tensors[o]!.dtype, g2.tensors[o]!.shape]), [['float32', [6, 4]], ['int32', [2, 3]], ['float32', [2, 3, 4]]]);
  const split = g2.nodes.filter((n) => n.op === 'Split').map((n) => n.attrs).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  assert.deepEqual(split, [{ axis: 0, splits: [1, 1] }, { axis: 1, splits: [3, 3] }, { axis: 1, splits: [3, 3] }]);
  assert.deepEqual(g2.nodes.find((n) => n.op === 'Tile')!.attrs, { repeats: [2, 1] });
  assert.ok(g2.nodes.some((n) => n.op === 'Where') && g2.nodes.some((n) => n.op === 'Greater') && g2.nodes.some((n) => n.op === 'Gather'));
});

test('graph model: DepthToSpace, ReverseV2, BroadcastTo, Cumsum, FloorMod, FloorDiv match TensorFlow.js; TopKV2', async () => {
  const dir = tmpDir();
  const f = (name: string, op: string, input: string[], attr: Record<string, unknown> = {}): GNode => ({ name, op, input, attr: { T: A.type('DT_FLOAT'), ...attr } });
  const { file } = writeGraphModel(dir, {
    nodes: [
      placeholder('x', [1, 2, 2, 8]),
      ...['rev/axis', 'bshape', 'cs/axis', 'k'].map((n) => constNode(n, 'DT_INT32')), constNode('three'),
      f('d2s', 'DepthToSpace', ['x'], { block_size: A.i(2), data_format: A.s('NHWC') }),
      f('rev', 'ReverseV2', ['d2s', 'rev/axis'], { Tidx: A.type('DT_INT32') }),
      f('bc', 'BroadcastTo', ['three', 'bshape'], { Tidx: A.type('DT_INT32') }),
      f('fm', 'FloorMod', ['rev', 'bc']),
      f('fd', 'FloorDiv', ['rev', 'bc']),
      f('sum', 'AddV2', ['fm', 'fd']),
      f('cs', 'Cumsum', ['sum', 'cs/axis'], { exclusive: A.b(false), reverse: A.b(false), Tidx: A.type('DT_INT32') }),
      f('topk', 'TopKV2', ['cs', 'k'], { sorted: A.b(true) }),
    ],
    weights: [
      { name: 'rev/axis', shape: [2], dtype: 'int32', values: [1, -1] },
      { name: 'bshape', shape: [4], dtype: 'int32', values: [1, 1, 1, 2] },
      { name: 'cs/axis', shape: [], dtype: 'int32', values: [3] },
      { name: 'k', shape: [], dtype: 'int32', values: [2] },
      { name: 'three', shape: [1], dtype: 'float32', values: [0.75] },
    ],
    outputs: ['cs:0', 'topk:0', 'topk:1'],
  });
  const { graph: g } = importModel(file);
  assert.deepEqual(g.outputs.map((o) => [g.tensors[o]!.dtype, g.tensors[o]!.shape]), [['float32', [1, 4, 4, 2]], ['float32', [1, 4, 4, 2]], ['int32', [1, 4, 4, 2]]]);
  assert.deepEqual(g.nodes.find((n) => n.op === 'Slice')!.attrs, { starts: [0, 3, 0, 1], ends: [1, -1, 4, -1], steps: [1, -1, 1, -1] });
  assert.equal(g.nodes.find((n) => n.op === 'TopK')!.attrs.k, 2);
  // (TensorFlow.js 4.22's GraphModel returns the indices for both 'topk:0' and 'topk:1', so the values are not compared.)
  const [dcs, , dind] = await compareWithTfjs(g, file, [1, 2, 2, 8]);
  assert.ok(dcs! < 1e-5 && dind === 0, `differs from TensorFlow.js by ${dcs}, ${dind}`);
});

test('graph model errors: unsupported ops listed with node names, missing shards, malformed JSON, dynamic shapes', () => {
  const dir = tmpDir();
  const { file } = writeGraphModel(dir, {
    nodes: [
      placeholder('x', [1, 4]),
      { name: 'a', op: 'Cumprod', input: ['x'] },
      { name: 'b', op: 'Where', input: ['a'] },
      { name: 'c', op: 'Cumprod', input: ['b'] },
      { name: 'c2', op: 'MyCustomOp', input: ['c'] },
      { name: 'dead', op: 'Unique', input: ['x'] },
      { name: 'y', op: 'Identity', input: ['c2'] },
    ],
    weights: [],
    outputs: ['y:0'],
  });
  assert.throws(() => importModel(file), (e: unknown) => {
    assert.ok(e instanceof ConvertError);
    assert.equal(e.category, 'unsupported-op');
    assert.match(e.message, /3 unsupported TensorFlow op types/);
    // 'dead' (Unique) feeds no output, so it is not listed.
    assert.deepEqual(e.details, [
      "Cumprod: used by 'a', 'c'",
      "MyCustomOp: not a TensorFlow.js op either (a custom op?); used by 'c2'",
      "Where: its output shape depends on run-time values; used by 'b'",
    ]);
    return true;
  });

  const d2 = tmpDir();
  const { file: f2 } = cnn(d2, { shards: 3 });
  fs.rmSync(path.join(d2, 'group1-shard2of3.bin'));
  fs.rmSync(path.join(d2, 'group1-shard3of3.bin'));
  assert.throws(() => importModel(f2), (e: unknown) => {
    assert.ok(e instanceof ConvertError);
    assert.equal(e.category, 'malformed');
    assert.match(e.message, /2 weight shard files are missing/);
    assert.equal(e.details.length, 2);
    assert.match(e.details[0]!, /^group1-shard2of3\.bin/);
    return true;
  });
  fs.writeFileSync(path.join(d2, 'group1-shard2of3.bin'), new Uint8Array(3));
  fs.writeFileSync(path.join(d2, 'group1-shard3of3.bin'), new Uint8Array(0));
  assert.throws(() => importModel(f2), /truncated/);

  const d3 = tmpDir();
  const bad = path.join(d3, 'model.json');
  fs.writeFileSync(bad, '{"format": "graph-model", "modelTopology": {"node": [}');
  assert.throws(() => importModel(bad), (e: unknown) => e instanceof ConvertError && e.category === 'malformed' && /malformed JSON/.test(e.message));

  // A string weight (a vocabulary) decodes, but using it is refused with category 'dtype'.
  const d5 = tmpDir();
  const str = Buffer.from('abc');
  const bytes = Buffer.concat([Buffer.from(new Uint32Array([3]).buffer), str, Buffer.from(new Float32Array([1.5, -2]).buffer)]);
  fs.writeFileSync(path.join(d5, 'w.bin'), bytes);
  const f5 = path.join(d5, 'model.json');
  const base = (out: string) => ({
    format: 'graph-model',
    modelTopology: { node: [placeholder('x', [2]), constNode('vocab', 'DT_STRING'), constNode('b'), { name: 'y', op: 'Add', input: ['x', 'b'] }, { name: 'z', op: 'Identity', input: ['vocab'] }] },
    weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'vocab', shape: [1], dtype: 'string' }, { name: 'b', shape: [2], dtype: 'float32' }] }],
    signature: { outputs: { [out]: { name: out } } },
  });
  fs.writeFileSync(f5, JSON.stringify(base('y:0')));
  const ok5 = importModel(f5).graph;
  assert.deepEqual(Array.from(constFloats(ok5, ok5.nodes[0]!.inputs[1]!)), [1.5, -2]);
  fs.writeFileSync(f5, JSON.stringify(base('z:0')));
  assert.throws(() => importModel(f5), (e: unknown) => e instanceof ConvertError && e.category === 'dtype' && /Const node 'vocab': a string constant/.test(e.message));

  const d4 = tmpDir();
  const { file: f4 } = writeGraphModel(d4, { nodes: [placeholder('x', [-1, -1, 3]), { name: 'y', op: 'Relu', input: ['x'] }], weights: [] });
  assert.throws(() => importModel(f4), (e: unknown) => e instanceof ConvertError && e.category === 'dynamic-shape' && /x: \[\?x\?x3\]/.test(e.describe()));
  const ok = importModel(f4, { inputShapes: new Map([['x', [2, 5, 3]]]) });
  assert.deepEqual(ok.graph.tensors[ok.graph.outputs[0]!]!.shape, [2, 5, 3]);
  assert.throws(() => importModel(f4, { inputShapes: new Map([["x", [2, 5, 3]], ["nope", [2, 5, 3]]]) }), /not an input/);
});

test('a conversion in a process without a TensorFlow.js backend writes the same bundle as an in-process conversion', () => {
  const dir = tmpDir();
  const { file } = cnn(dir);
  const r = convertModel(file, path.join(dir, 'in-process.opml'));
  const b = readBundle(r.dir, { verifyWeights: true });
  assert.equal(b.json.source.format, 'tfjs-graph');
  assert.equal(b.modelHash, r.modelHash);
  assert.deepEqual(b.graph.outputs.map((o) => b.graph.tensors[o]!.shape), [[1, 10]]);
  // A process like the CLI's loads only tfjs-core: weights are decoded on the converter's host backend.
  const convert = fileURLToPath(new URL('../convert.ts', import.meta.url));
  const script = `const { convertModel } = await import(${JSON.stringify(convert)}); console.log(convertModel(${JSON.stringify(file)}, ${JSON.stringify(path.join(dir, 'child.opml'))}).modelHash);`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), r.modelHash);
});
