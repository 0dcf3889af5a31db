/**
 * Latency of the native executor vs onnxruntime-node (one intra-op thread, sequential) on the ONNX models in
 * models/, measured in the same process, reported as a ratio (lower is better; 1 = parity): the median of
 * five rounds, each timing both engines back to back, so that load from other work hits both alike.
 * Target (issue 12): ≤ 2 on every model. (models/fmnist-tfjs is a TensorFlow.js model: no onnxruntime baseline.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { convertModel } from '../converter/convert.ts';
import { compileBundle } from '../compiler/compile.ts';
import { NativeExecutor } from '../runtime/native/executor.ts';
import { readTensorFile } from '../converter/io/tensor-files.ts';
import type { HostTensor } from '../converter/ir/host-tensor.ts';
import type { BenchResult } from './run.ts';

const MODELS = ['fmnist-mlp', 'fmnist-cnn', 'fmnist-cnn-int8', 'tiny-transformer'];
const ROUNDS = 5;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

function ortTensor(t: HostTensor) {
  return new ort.Tensor(t.dtype === 'int64' ? 'int64' : 'float32', t.data as Float32Array, [...t.shape]);
}

async function timeIt(fn: () => unknown | Promise<unknown>, minMs = 300): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) { await fn(); n++; }
  return (performance.now() - t0) / n;
}

export async function benchRunVsOrt(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-bench-run-'));
  const figures: Record<string, number | string> = {};
  let ok = true;
  try {
    for (const m of MODELS) {
      const model = `models/${m}/model.onnx`;
      if (!fs.existsSync(model)) continue;
      try {
        convertModel(model, path.join(dir, `${m}.opml`));
        compileBundle(path.join(dir, `${m}.opml`), path.join(dir, `${m}.opmlc`));
      } catch (e) {
        figures[`${m}_ratio`] = `n/a (${(e as Error).message.split('\n')[0]!.slice(0, 60)})`;
        continue;
      }
      const ex = await NativeExecutor.load(path.join(dir, `${m}.opmlc`));
      const x = readTensorFile(`models/${m}/samples/input_0.pb`);
      let sess: ort.InferenceSession;
      try {
        sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
      } catch (e) {
        // e.g. the int8 CNN: onnxruntime's CPU provider has no QLinearMatMul for its int8 × int8 types
        figures[`${m}_ratio`] = `n/a (onnxruntime: ${(e as Error).message.split('\n')[0]!.slice(0, 70)})`;
        await ex.close();
        continue;
      }
      const feeds = { [sess.inputNames[0]!]: ortTensor(x) };
      const ratios: number[] = [], opml: number[] = [], ortMs: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const tOpml = await timeIt(() => ex.run([x]));
        const tOrt = await timeIt(() => sess.run(feeds));
        opml.push(tOpml); ortMs.push(tOrt); ratios.push(tOpml / tOrt);
      }
      const ratio = median(ratios);
      figures[`${m}_opml_ms`] = +median(opml).toFixed(4);
      figures[`${m}_ort_ms`] = +median(ortMs).toFixed(4);
      figures[`${m}_ratio`] = +ratio.toFixed(2);
      if (ratio > 2) ok = false;
      await ex.close();
      await sess.release();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { name: 'run-vs-ort', ok, figures, note: `ratio = opml / onnxruntime (1 thread), median of ${ROUNDS} rounds; target ≤ 2 on every model` };
}
