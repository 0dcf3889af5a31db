/**
 * The bundled models against real peers: every ONNX model in models/ runs through OPML (convert →
 * compile → native run) and through onnxruntime-node on its sample inputs; outputs must agree closely
 * (different but valid float orders: tolerance, not bits). TF.js models are compared with @tensorflow/tfjs.
 * Where a model ships samples/expected_logits.json from its own reference implementation (the int8 model:
 * onnxruntime 1.22 has no kernel for its int8 per-column QLinearMatMul), OPML must match it exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { convertModel } from '../../converter/convert.ts';
import { compileBundle } from '../../compiler/compile.ts';
import { NativeExecutor } from '../native/executor.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';

const MODELS = fs.readdirSync('models').filter((d) => fs.existsSync(path.join('models', d, 'samples')));

function maxRelErr(got: Float32Array, want: Float32Array): number {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  return err / Math.max(scale, 1e-6);
}

async function opml(file: string): Promise<NativeExecutor> {
  const dir = tmpDir();
  convertModel(file, path.join(dir, 'm.opml'));
  compileBundle(path.join(dir, 'm.opml'), path.join(dir, 'm.opmlc'));
  return NativeExecutor.load(path.join(dir, 'm.opmlc'));
}

function samples(dir: string): HostTensor[] {
  return fs.readdirSync(path.join(dir, 'samples')).filter((f) => f.endsWith('.pb')).sort().map((f) => readTensorFile(path.join(dir, 'samples', f)));
}

for (const m of MODELS) {
  const dir = path.join('models', m);
  const expectedFile = path.join(dir, 'samples', 'expected_logits.json');
  if (fs.existsSync(expectedFile)) {
    test(`${m}: OPML reproduces the model's own reference logits exactly`, async () => {
      const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8')).logits as number[][];
      const ex = await opml(path.join(dir, fs.existsSync(path.join(dir, 'model.onnx')) ? 'model.onnx' : 'model.json'));
      try {
        const xs = samples(dir);
        assert.equal(xs.length, expected.length);
        xs.forEach((x, i) => assert.deepEqual([...(ex.run([x])[0]!.data as Float32Array)], expected[i]!.map(Math.fround), `sample ${i}`));
      } finally {
        await ex.close();
      }
    });
  } else if (fs.existsSync(path.join(dir, 'model.onnx'))) {
    test(`${m}: OPML agrees with onnxruntime on every sample`, async () => {
      const ex = await opml(path.join(dir, 'model.onnx'));
      const sess = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), { intraOpNumThreads: 1 });
      try {
        for (const x of samples(dir)) {
          const got = ex.run([x])[0]!.data as Float32Array;
          const t = new ort.Tensor(x.dtype === 'int64' ? 'int64' : 'float32', x.data as Float32Array, [...x.shape]);
          const want = (await sess.run({ [sess.inputNames[0]!]: t }))[sess.outputNames[0]!]!.data as Float32Array;
          assert.equal(got.length, want.length);
          const e = maxRelErr(got, want);
          assert.ok(e < 1e-4, `${m}: max error ${e} relative to the output scale`);
        }
      } finally {
        await ex.close();
        await sess.release();
      }
    });
  }
  if (fs.existsSync(path.join(dir, 'model.json'))) {
    test(`${m}: OPML agrees with TensorFlow.js on every sample`, async () => {
      const tf = await import('@tensorflow/tfjs');
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      const weights = fs.readFileSync(path.join(dir, json.weightsManifest[0].paths[0]));
      const model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }));
      const ex = await opml(path.join(dir, 'model.json'));
      try {
        for (const x of samples(dir)) {
          const got = ex.run([x])[0]!.data as Float32Array;
          const want = (model.predict(tf.tensor(x.data as Float32Array, [...x.shape])) as import('@tensorflow/tfjs').Tensor).dataSync() as Float32Array;
          const e = maxRelErr(got, want);
          assert.ok(e < 1e-4, `${m}: max error ${e} relative to the output scale`);
        }
      } finally {
        await ex.close();
      }
    });
  }
}
