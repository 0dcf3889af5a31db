import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { convertModel, importModel } from '../convert.ts';
import { readBundle } from '../bundle/read.ts';
import { ConvertError } from '../errors.ts';
import type { Graph, TensorId } from '../ir/types.ts';
import { randomInput, saveLayersModel, tmpDir } from './fixtures/tfjs/build.ts';
import { evaluate, maxAbsDiff } from './fixtures/tfjs/ref-eval.ts';
import { constFloats, histogram } from './helpers/graph.ts';

/** Run the converted graph (reference evaluator) and TensorFlow.js on one input; return the max difference. */
function compareWithTfjs(g: Graph, model: tf.LayersModel, shape: number[]): number {
  const x = randomInput(shape);
  const want = (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync();
  const [got] = evaluate(g, [{ shape, data: Float64Array.from(x) }]);
  return maxAbsDiff(got!.data, want);
}


/** HWIO → OIHW, as the importer folds it. */
function hwioToOihw(v: Float32Array, [h, w, i, o]: number[]): Float32Array {
  const out = new Float32Array(v.length);
  for (let a = 0; a < h; a++) for (let b = 0; b < w; b++) for (let c = 0; c < i; c++) for (let d = 0; d < o; d++) {
    out[((d * i + c) * h + a) * w + b] = v[((a * w + b) * i + c) * o + d]!;
  }
  return out;
}

function node(g: Graph, op: string, k = 0) {
  const n = g.nodes.filter((x) => x.op === op)[k];
  assert.ok(n, `no ${op} node #${k}`);
  return n;
}

test('sequential Conv2D+BatchNorm+MaxPool+Flatten+Dense(softmax) layers model converts with its weights', async () => {
  const dir = tmpDir();
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', biasInitializer: 'randomNormal' }));
  model.add(tf.layers.batchNormalization({ movingMeanInitializer: 'randomNormal', movingVarianceInitializer: 'ones', gammaInitializer: 'randomUniform' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 5, activation: 'softmax' }));
  const file = await saveLayersModel(model, dir);

  const out = path.join(dir, 'model.opml');
  const r = convertModel(file, out);
  const { graph: g, json } = readBundle(out, { verifyWeights: true });
  assert.equal(json.source.format, 'tfjs-layers');
  assert.equal(g.inputs.length, 1);
  assert.deepEqual(g.tensors[g.inputs[0]!]!.shape, [1, 8, 8, 3]);
  assert.equal(g.tensors[g.inputs[0]!]!.dtype, 'float32');
  assert.deepEqual(g.outputs.map((o) => g.tensors[o]!.shape), [[1, 5]]);
  assert.equal(g.tensors[g.outputs[0]!]!.name, model.layers[4]!.name);
  // NHWC→NCHW once at the input and back once before Flatten: the pairs between Conv, BN and MaxPool cancel.
  assert.deepEqual(histogram(g), { Transpose: 2, Conv: 1, Relu: 1, BatchNormalization: 1, MaxPool: 1, Reshape: 1, MatMul: 1, Add: 1, Softmax: 1 });
  assert.deepEqual(node(g, 'Conv').attrs, { group: 1, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] });
  assert.deepEqual(node(g, 'MaxPool').attrs, { kernel_shape: [2, 2], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0], ceil_mode: 0 });
  assert.deepEqual(node(g, 'Softmax').attrs, { axis: 1 });
  assert.ok(r.weightsBytes > 0);
  assert.ok(compareWithTfjs(g, model, [1, 8, 8, 3]) < 1e-5, 'the converted graph computes what TensorFlow.js computes');

  const w = model.layers.flatMap((l) => l.getWeights()).map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
  const [kernel, bias, gamma, beta, mean, variance, dk, db] = w;
  assert.equal(w.length, 8);
  const conv = node(g, 'Conv');
  assert.deepEqual(g.tensors[conv.inputs[1]!]!.shape, [4, 3, 3, 3]);
  assert.deepEqual(constFloats(g, conv.inputs[1]!), hwioToOihw(kernel!.data, kernel!.shape));
  assert.deepEqual(constFloats(g, conv.inputs[2]!), bias!.data);
  const bn = node(g, 'BatchNormalization');
  assert.deepEqual(bn.inputs.slice(1).map((i) => constFloats(g, i)), [gamma!.data, beta!.data, mean!.data, variance!.data]);
  assert.equal(bn.attrs.epsilon, Math.fround(1e-3));
  const mm = node(g, 'MatMul');
  assert.deepEqual(g.tensors[mm.inputs[1]!]!.shape, [64, 5]);
  assert.deepEqual(constFloats(g, mm.inputs[1]!), dk!.data);
  assert.deepEqual(constFloats(g, node(g, 'Add').inputs[1]!), db!.data);
  model.dispose();
});

test('functional model: depthwise, separable, Add, Concatenate, ZeroPadding, GlobalAveragePooling, Dropout', async () => {
  const dir = tmpDir();
  const input = tf.input({ shape: [10, 10, 4], name: 'image' });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu6' }).apply(input) as tf.SymbolicTensor;
  const d = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', biasInitializer: 'randomNormal' }).apply(a) as tf.SymbolicTensor;
  const s = tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'elu' }).apply(a) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([d, s]) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([sum, a]) as tf.SymbolicTensor;
  const pad = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]] }).apply(cat) as tf.SymbolicTensor;
  const pool = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(pad) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({}).apply(pool) as tf.SymbolicTensor;
  const drop = tf.layers.dropout({ rate: 0.5 }).apply(gap) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'sigmoid', name: 'probs' }).apply(drop) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const file = await saveLayersModel(model, dir);

  const { graph: g, source } = importModel(file, { inputShapes: new Map([['image', [2, 10, 10, 4]]]) });
  assert.equal(source.format, 'tfjs-layers');
  assert.deepEqual(g.tensors[g.inputs[0]!]!.shape, [2, 10, 10, 4]);
  assert.equal(g.tensors[g.inputs[0]!]!.name, 'image');
  assert.deepEqual(g.outputs.map((o) => [g.tensors[o]!.name, g.tensors[o]!.shape]), [['probs', [2, 3]]]);
  const h = histogram(g);
  assert.equal(h.Conv, 4); // conv, depthwise, separable = depthwise + pointwise
  assert.equal(h.Clip, 1);
  assert.equal(h.Elu, 1);
  assert.equal(h.Concat, 1);
  assert.equal(h.Pad, 1);
  assert.equal(h.AveragePool, 1);
  assert.equal(h.GlobalAveragePool, 1);
  assert.equal(h.Sigmoid, 1);
  const convs = g.nodes.filter((n) => n.op === 'Conv');
  assert.deepEqual(convs.map((n) => n.attrs.group), [1, 4, 4, 1]);
  assert.deepEqual(convs.map((n) => g.tensors[n.inputs[1]!]!.shape), [[4, 4, 3, 3], [8, 1, 3, 3], [4, 1, 3, 3], [8, 4, 1, 1]]);
  // Depthwise HWCM → (C·M, 1, H, W): output channel c·M + m holds filter[.., c, m].
  const dw = model.layers.find((l) => l.getClassName() === 'DepthwiseConv2D')!.getWeights()[0]!;
  const dwv = dw.dataSync() as Float32Array;
  const got = constFloats(g, convs[1]!.inputs[1]!);
  for (let c = 0; c < 4; c++) for (let m = 0; m < 2; m++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
    assert.equal(got[((c * 2 + m) * 3 + y) * 3 + x], dwv[((y * 3 + x) * 4 + c) * 2 + m]);
  }
  const padNode = g.nodes.find((n) => n.op === 'Pad')!;
  // Add, Concatenate and ZeroPadding2D run on the NCHW conv results: the only transpose is the input's.
  assert.deepEqual(padNode.attrs, { pads: [0, 0, 1, 0, 0, 0, 0, 2], mode: 'constant' });
  assert.equal(g.nodes.find((n) => n.op === 'Concat')!.attrs.axis, 1);
  assert.equal(h.Transpose, 1);
  const ap = g.nodes.find((n) => n.op === 'AveragePool')!;
  // padded input 11x12, window 3 stride 2 SAME: out 6x6, pads h total 2 → (1,1), w total 1 → (0,1)
  assert.deepEqual(ap.attrs, { kernel_shape: [3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 0, 1, 1], ceil_mode: 0, count_include_pad: 0 });
  assert.ok(compareWithTfjs(g, model, [2, 10, 10, 4]) < 1e-5, 'the converted graph computes what TensorFlow.js computes');
  model.dispose();
});

test('a MobileNet-style block stack (conv, BN, ReLU(6), depthwise, residual Add, GAP) keeps one transpose and matches TensorFlow.js', async () => {
  const dir = tmpDir();
  const x = tf.input({ shape: [12, 12, 3], name: 'image' });
  const bn = () => tf.layers.batchNormalization({ movingMeanInitializer: 'randomNormal', gammaInitializer: 'randomUniform', betaInitializer: 'randomNormal' });
  let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(x) as tf.SymbolicTensor;
  h = bn().apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU({ maxValue: 6 }).apply(h) as tf.SymbolicTensor;
  const block = (inp: tf.SymbolicTensor): tf.SymbolicTensor => {
    let y = tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false }).apply(inp) as tf.SymbolicTensor;
    y = tf.layers.reLU({ maxValue: 6 }).apply(bn().apply(y) as tf.SymbolicTensor) as tf.SymbolicTensor;
    y = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.reLU({ maxValue: 6 }).apply(bn().apply(y) as tf.SymbolicTensor) as tf.SymbolicTensor;
    y = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }).apply(y) as tf.SymbolicTensor;
    y = bn().apply(y) as tf.SymbolicTensor;
    return tf.layers.add().apply([inp, y]) as tf.SymbolicTensor;
  };
  h = block(block(h));
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: out });
  const { graph: g } = importModel(await saveLayersModel(model, dir));
  const hist = histogram(g);
  assert.equal(hist.Transpose, 1, 'only the input is transposed');
  assert.equal(hist.Conv, 7);
  assert.equal(hist.BatchNormalization, 7);
  assert.equal(hist.Clip, 5);
  assert.equal(hist.Add, 3); // two residual adds and the dense bias
  assert.ok(compareWithTfjs(g, model, [1, 12, 12, 3]) < 1e-5);
  model.dispose();
});

test('Conv2DTranspose, Cropping2D, UpSampling2D (nearest, bilinear), LayerNormalization, GlobalMaxPooling2D match TensorFlow.js', async () => {
  const dir = tmpDir();
  const model = tf.sequential();
  model.add(tf.layers.conv2dTranspose({ inputShape: [4, 4, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', biasInitializer: 'randomNormal' }));
  model.add(tf.layers.cropping2D({ cropping: [[1, 0], [0, 2]] }));
  model.add(tf.layers.upSampling2d({ size: [2, 1], interpolation: 'bilinear' }));
  model.add(tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'valid' }));
  model.add(tf.layers.upSampling2d({ size: [1, 2] }));
  model.add(tf.layers.layerNormalization({ betaInitializer: 'randomNormal', gammaInitializer: 'randomNormal' }));
  model.add(tf.layers.globalMaxPooling2d({}));
  const file = await saveLayersModel(model, dir);
  const { graph: g } = importModel(file);
  // [4,4,3] → convT same s2 [8,8,4] → crop [7,6,4] → up 2x1 [14,6,4] → convT valid [29,13,2] → up 1x2 [29,26,2]
  const shapes = g.nodes.filter((n) => n.op === 'ConvTranspose' || n.op === 'Resize' || n.op === 'Slice').map((n) => [n.op, g.tensors[n.outputs[0]!]!.shape]);
  assert.deepEqual(shapes, [['ConvTranspose', [1, 4, 8, 8]], ['Slice', [1, 7, 6, 4]], ['Resize', [1, 14, 6, 4]], ['ConvTranspose', [1, 2, 29, 13]], ['Resize', [1, 29, 26, 2]]]);
  assert.deepEqual(g.nodes.find((n) => n.op === 'ConvTranspose')!.attrs, { group: 1, strides: [2, 2], dilations: [1, 1], pads: [0, 0, 1, 1], output_padding: [0, 0] });
  assert.deepEqual(g.outputs.map((o) => g.tensors[o]!.shape), [[1, 2]]);
  assert.ok(compareWithTfjs(g, model, [1, 4, 4, 3]) < 1e-4, 'the converted graph computes what TensorFlow.js computes');
  model.dispose();
});

test('sequence model: Embedding, dilated Conv1D, MaxPooling1D, GlobalAveragePooling1D match TensorFlow.js', async () => {
  const dir = tmpDir();
  const model = tf.sequential();
  model.add(tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 9, embeddingsInitializer: 'randomNormal' }));
  model.add(tf.layers.conv1d({ filters: 6, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh' }));
  model.add(tf.layers.maxPooling1d({ poolSize: 2 }));
  model.add(tf.layers.globalAveragePooling1d({}));
  model.add(tf.layers.dense({ units: 3 }));
  const file = await saveLayersModel(model, dir);
  const { graph: g } = importModel(file, { inputShapes: new Map([[`${model.layers[0]!.name}_input`, [2, 9]]]) });
  assert.deepEqual(g.inputs.map((i) => [g.tensors[i]!.dtype, g.tensors[i]!.shape]), [['float32', [2, 9]]]);
  assert.deepEqual(g.outputs.map((o) => g.tensors[o]!.shape), [[2, 3]]);
  const conv = g.nodes.find((n) => n.op === 'Conv')!;
  assert.deepEqual(conv.attrs, { group: 1, strides: [1, 1], dilations: [1, 2], pads: [0, 2, 0, 2] });
  const ids = Float32Array.from({ length: 18 }, (_, i) => (i * 7) % 10);
  const want = (model.predict(tf.tensor(ids, [2, 9])) as tf.Tensor).dataSync();
  const [got] = evaluate(g, [{ shape: [2, 9], data: Float64Array.from(ids) }]);
  assert.ok(maxAbsDiff(got!.data, want) < 1e-5);
  model.dispose();
});

test('Keras 3 style config (model_config wrapper, keras_history refs, DTypePolicy, scoped weight names) from tensorflowjs_converter', () => {
  const dir = tmpDir();
  const kt = (name: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: [name, 0, 0] } });
  const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' } };
  const json = {
    format: 'layers-model',
    generatedBy: 'keras v3.3.3',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      keras_version: '3.3.3',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Functional',
        config: {
          name: 'functional',
          layers: [
            { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null, name: 'input_layer', inbound_nodes: [] },
            { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', dtype: policy, units: 3, activation: 'relu', use_bias: true }, name: 'dense', inbound_nodes: [{ args: [kt('input_layer')], kwargs: {} }] },
            { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense_1', dtype: policy, units: 2, activation: 'softmax', use_bias: false }, name: 'dense_1', inbound_nodes: [{ args: [kt('dense')], kwargs: {} }] },
            { module: 'keras.layers', class_name: 'Concatenate', config: { name: 'concatenate', dtype: policy, axis: -1 }, name: 'concatenate', inbound_nodes: [{ args: [[kt('dense'), kt('dense_1')]], kwargs: {} }] },
          ],
          input_layers: ['input_layer', 0, 0],
          output_layers: ['concatenate', 0, 0],
        },
      },
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [
      { name: 'functional/dense/kernel', shape: [4, 3], dtype: 'float32' },
      { name: 'functional/dense/bias', shape: [3], dtype: 'float32' },
      { name: 'functional/dense_1/kernel', shape: [3, 2], dtype: 'float32' },
    ] }],
  };
  const values = Float32Array.from({ length: 12 + 3 + 6 }, (_, i) => i / 8 - 1);
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), new Uint8Array(values.buffer));
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify(json));
  const warnings: string[] = [];
  const { graph: g, source } = importModel(file, { warnings: { warn: (m) => warnings.push(m) } });
  assert.equal(source.format, 'tfjs-layers');
  assert.deepEqual(warnings, []);
  assert.deepEqual(g.inputs.map((i) => [g.tensors[i]!.name, g.tensors[i]!.shape]), [['input_layer', [1, 4]]]);
  assert.deepEqual(g.outputs.map((o) => [g.tensors[o]!.name, g.tensors[o]!.shape]), [['concatenate', [1, 5]]]);
  assert.deepEqual(histogram(g), { MatMul: 2, Add: 1, Relu: 1, Softmax: 1, Concat: 1 });
  const mms = g.nodes.filter((n) => n.op === 'MatMul');
  assert.deepEqual(constFloats(g, mms[0]!.inputs[1]!), values.subarray(0, 12));
  assert.deepEqual(constFloats(g, mms[1]!.inputs[1]!), values.subarray(15));
});

test('nested models and a shared layer: inner Sequential inside a functional model', async () => {
  const dir = tmpDir();
  const inner = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'tanh', name: 'inner_dense' })], name: 'inner' });
  const x = tf.input({ shape: [4], name: 'x' });
  const shared = tf.layers.dense({ units: 4, name: 'shared', activation: 'relu' });
  const h = shared.apply(shared.apply(x)) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 2, name: 'head' }).apply(inner.apply(h) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: y });
  const file = await saveLayersModel(model, dir);
  const warnings: string[] = [];
  const { graph: g } = importModel(file, { warnings: { warn: (m) => warnings.push(m) } });
  assert.deepEqual(warnings, []);
  assert.deepEqual(histogram(g), { MatMul: 4, Add: 4, Relu: 2, Tanh: 1 });
  const mms = g.nodes.filter((n) => n.op === 'MatMul');
  assert.equal(mms[0]!.inputs[1], mms[1]!.inputs[1], 'the shared layer uses one weight constant');
  assert.ok(compareWithTfjs(g, model, [1, 4]) < 1e-5);
  // A Sequential whose first layer is a model (transfer learning): the input shape comes from inside it.
  const outer = tf.sequential({ layers: [inner, tf.layers.dense({ units: 5, name: 'outer_head' })] });
  const d2 = tmpDir();
  const g2 = importModel(await saveLayersModel(outer, d2)).graph;
  assert.deepEqual(g2.inputs.map((i) => g2.tensors[i]!.shape), [[1, 4]]);
  assert.deepEqual(g2.outputs.map((o) => [g2.tensors[o]!.name, g2.tensors[o]!.shape]), [['outer_head', [1, 5]]]);
  assert.ok(compareWithTfjs(g2, outer, [1, 4]) < 1e-5);
  model.dispose();
});

test('recurrent layers (LSTM, GRU, SimpleRNN; return_sequences, go_backwards; Bidirectional, TimeDistributed) unroll and match TensorFlow.js', async () => {
  const dir = tmpDir();
  const model = tf.sequential();
  model.add(tf.layers.lstm({ inputShape: [5, 3], units: 4, returnSequences: true, biasInitializer: 'randomNormal' }));
  model.add(tf.layers.gru({ units: 3, returnSequences: true, goBackwards: true, recurrentActivation: 'sigmoid', biasInitializer: 'randomNormal' }));
  model.add(tf.layers.simpleRNN({ units: 2, activation: 'relu' }));
  const file = await saveLayersModel(model, dir);
  const { graph: g } = importModel(file, { inputShapes: new Map([[`${model.layers[0]!.name}_input`, [2, 5, 3]]]) });
  assert.deepEqual(g.outputs.map((o) => g.tensors[o]!.shape), [[2, 2]]);
  const h = histogram(g);
  // One input projection per layer, one recurrent product per step (two for GRU); at step 0 the state is the zero
  // constant, so h·R folds away.
  assert.equal(h.MatMul, 3 + 4 + (4 * 2 + 1) + 4);
  assert.equal(h.HardSigmoid, 5 * 3, 'LSTM gates use hard_sigmoid (the TensorFlow.js default)');
  assert.ok(compareWithTfjs(g, model, [2, 5, 3]) < 1e-5);
  model.dispose();

  // Bidirectional (concat, ave) and TimeDistributed over Dense and Conv2D.
  const m2 = tf.sequential();
  m2.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true }) as tf.RNN, inputShape: [4, 2] }));
  m2.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, returnSequences: true }) as tf.RNN, mergeMode: 'ave' }));
  m2.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, activation: 'sigmoid' }) }));
  const g2 = importModel(await saveLayersModel(m2, tmpDir())).graph;
  assert.deepEqual(g2.outputs.map((o) => g2.tensors[o]!.shape), [[1, 4, 2]]);
  assert.ok(compareWithTfjs(g2, m2, [1, 4, 2]) < 1e-5);
  m2.dispose();
  const m3 = tf.sequential();
  m3.add(tf.layers.timeDistributed({ layer: tf.layers.conv2d({ filters: 2, kernelSize: 2, activation: 'relu' }), inputShape: [3, 4, 4, 1] }));
  const g3 = importModel(await saveLayersModel(m3, tmpDir())).graph;
  assert.deepEqual(g3.outputs.map((o) => g3.tensors[o]!.shape), [[1, 3, 3, 3, 2]]);
  assert.ok(compareWithTfjs(g3, m3, [1, 3, 4, 4, 1]) < 1e-5);
  m3.dispose();
});

test('layers model errors: unsupported layers listed at once, missing shard, bad input shape', async () => {
  const dir = tmpDir();
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [4], units: 3 }));
  const file = await saveLayersModel(model, dir);
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  const layers = j.modelTopology.config.layers;
  layers.push(
    { class_name: 'ConvLSTM2D', config: { name: 'clstm_a' } },
    { class_name: 'Bidirectional', config: { name: 'bi_b', layer: { class_name: 'ConvLSTM2D', config: {} } } },
    { class_name: 'ConvLSTM2D', config: { name: 'clstm_c' } },
  );
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify(j));
  assert.throws(() => importModel(bad), (e: unknown) => {
    assert.ok(e instanceof ConvertError);
    assert.equal(e.category, 'unsupported-op');
    assert.match(e.message, /2 unsupported layer types/);
    assert.deepEqual(e.details, ["Bidirectional(ConvLSTM2D): used by 'bi_b'", "ConvLSTM2D: used by 'clstm_a', 'clstm_c'"]);
    return true;
  });
  // --input-shape with the right name; a wrong rank or fixed dim is refused.
  const ok = importModel(file, { inputShapes: new Map([[`${model.layers[0]!.name}_input`, [7, 4]]]) });
  assert.deepEqual(ok.graph.tensors[ok.graph.outputs[0]!]!.shape, [7, 3]);
  assert.throws(() => importModel(file, { inputShapes: new Map([[`${model.layers[0]!.name}_input`, [7, 5]]]) }), /dimension 1 is fixed to 4/);
  fs.rmSync(path.join(dir, 'weights.bin'));
  assert.throws(() => importModel(file), (e: unknown) => e instanceof ConvertError && e.category === 'malformed' && /weights\.bin/.test(e.describe()));
  model.dispose();
});
