/**
 * Accuracy of a bundled Fashion-MNIST model measured through OPML itself: convert → compile → run
 * natively over the 10 000 held-out test images of Debian's dataset-fashion-mnist.
 *
 *   node --import tsx models/evaluate.ts models/fmnist-cnn [--write]
 *
 * With --write the result is stored in the model's metrics.json as opml_test_accuracy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { convertModel } from '../converter/convert.ts';
import { compileBundle } from '../compiler/compile.ts';
import { NativeExecutor } from '../runtime/native/executor.ts';
import { hostTensor } from '../converter/ir/host-tensor.ts';

const DATA = '/usr/share/datasets/fashion-mnist';

export function loadTestSet(): { images: Float32Array; labels: Uint8Array; n: number } {
  const img = zlib.gunzipSync(fs.readFileSync(`${DATA}/t10k-images-idx3-ubyte.gz`));
  const lab = zlib.gunzipSync(fs.readFileSync(`${DATA}/t10k-labels-idx1-ubyte.gz`));
  const n = img.readUInt32BE(4);
  const images = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; i++) images[i] = img[16 + i]! / 255;
  return { images, labels: new Uint8Array(lab.subarray(8, 8 + n)), n };
}

export async function evaluate(modelDir: string, threads = 1): Promise<{ accuracy: number; n: number; msPerImage: number }> {
  const file = fs.existsSync(path.join(modelDir, 'model.onnx')) ? path.join(modelDir, 'model.onnx') : path.join(modelDir, 'model.json');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-eval-'));
  try {
    convertModel(file, path.join(tmp, 'm.opml'));
    compileBundle(path.join(tmp, 'm.opml'), path.join(tmp, 'm.opmlc'));
    const ex = await NativeExecutor.load(path.join(tmp, 'm.opmlc'), { threads });
    const inShape = [...ex.graph.tensors[ex.graph.inputs[0]!]!.shape];
    const { images, labels, n } = loadTestSet();
    let correct = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const x = hostTensor('float32', inShape, images.subarray(i * 784, (i + 1) * 784).slice());
      const y = ex.run([x])[0]!.data as Float32Array;
      let best = 0;
      for (let c = 1; c < y.length; c++) if (y[c]! > y[best]!) best = c;
      if (best === labels[i]) correct++;
    }
    const ms = (performance.now() - t0) / n;
    await ex.close();
    return { accuracy: correct / n, n, msPerImage: ms };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The tiny transformer's next-character accuracy on the held-out last 10 % of the GPL text, in the
 * trainer's windows (context 32, stride 32), through OPML.
 */
export async function evaluateTransformer(modelDir: string): Promise<{ accuracy: number; n: number; msPerImage: number }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-eval-'));
  try {
    convertModel(path.join(modelDir, 'model.onnx'), path.join(tmp, 'm.opml'));
    compileBundle(path.join(tmp, 'm.opml'), path.join(tmp, 'm.opmlc'));
    const ex = await NativeExecutor.load(path.join(tmp, 'm.opmlc'));
    const vocab = JSON.parse(fs.readFileSync(path.join(modelDir, 'vocab.json'), 'utf8')) as string[];
    const stoi = new Map(vocab.map((c, i) => [c, i]));
    const text = [...fs.readFileSync('/usr/share/common-licenses/GPL-3', 'utf8')];
    const data = text.map((c) => stoi.get(c)!);
    const held = data.slice(Math.floor(data.length * 0.9));
    const T = 32, V = vocab.length;
    let correct = 0, total = 0;
    const t0 = performance.now();
    let windows = 0;
    for (let s = 0; s < held.length - T - 1; s += T) {
      const x = hostTensor('int64', [1, T], held.slice(s, s + T).map(BigInt));
      const y = ex.run([x])[0]!.data as Float32Array;
      for (let t = 0; t < T; t++) {
        let best = 0;
        for (let c = 1; c < V; c++) if (y[t * V + c]! > y[t * V + best]!) best = c;
        if (best === held[s + t + 1]) correct++;
        total++;
      }
      windows++;
    }
    const ms = (performance.now() - t0) / windows;
    await ex.close();
    return { accuracy: correct / total, n: total, msPerImage: ms };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('evaluate.ts')) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node --import tsx models/evaluate.ts MODEL_DIR [--write]\n');
    process.exit(2);
  }
  const transformer = fs.existsSync(path.join(dir, 'vocab.json'));
  const r = transformer ? await evaluateTransformer(dir) : await evaluate(dir);
  process.stdout.write(`${dir}: opml test accuracy ${r.accuracy.toFixed(4)} on ${r.n} ${transformer ? 'characters' : 'images'} (${r.msPerImage.toFixed(3)} ms per run)\n`);
  if (process.argv.includes('--write')) {
    const mp = path.join(dir, 'metrics.json');
    const m = fs.existsSync(mp) ? JSON.parse(fs.readFileSync(mp, 'utf8')) : {};
    m.opml_test_accuracy = +r.accuracy.toFixed(4);
    fs.writeFileSync(mp, JSON.stringify(m, null, 1) + '\n');
  }
}
