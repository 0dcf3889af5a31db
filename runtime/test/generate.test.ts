/**
 * opml generate: deterministic token selection, the tiny transformer generating text by sliding window
 * (the same tokens as onnxruntime's greedy decoding), a generated LLaMA-shaped model with a KV cache (the
 * same tokens as onnxruntime with its dynamic cache, commitments chained step to step, and the same
 * tokens as re-running the full window), and the one-line errors of bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { SplitMix64, argmax, exp32, sampleToken } from '../sample.ts';
import { generate } from '../generate.ts';
import { llamaConfig, writeLlamaOnnx } from '../../bench/gen-llama-onnx.ts';
import { onnx } from '../../converter/onnx/proto.ts';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';
import { writeTinyTransformerKv } from '../../models/tiny-transformer-kv.ts';
import { NativeExecutor } from '../native/executor.ts';
import { traceRun } from '../native/trace.ts';
import { VmExecutor } from '../opvm/vm-executor.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { toHex } from '../../converter/ir/keccak.ts';

const cacheDir = tmpDir('opml-generate-cache-');
const TINY = 'models/tiny-transformer/model.onnx';

const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
const ortArgmax = (d: Float32Array, row: number, V: number) => argmax(d.subarray(row * V, (row + 1) * V));

test('sampler: arg-max ties to the lowest id; splitmix64 and float32 sampling are reproducible', () => {
  assert.equal(argmax(Float32Array.from([1, 3, 3, 2])), 1);
  assert.equal(argmax(Float32Array.from([NaN, -5, NaN])), 1);
  // splitmix64 reference values (seed 0): the published first outputs
  const r = new SplitMix64(0);
  assert.equal(r.next(), 0xe220a8397b1dcdafn);
  assert.equal(r.next(), 0x6e789e6aa1b965f4n);
  // exp32 against the host's exp (only as a reference here): relative error below 3e-7 over [−87, 0]
  let worst = 0;
  for (let x = -87; x <= 0; x += 0.0137) {
    const want = Math.exp(Math.fround(x));
    worst = Math.max(worst, Math.abs(exp32(x) - want) / want);
  }
  assert.ok(worst < 3e-7, `exp32 relative error ${worst}`);
  assert.equal(exp32(0), 1);
  assert.equal(exp32(-100), 0);
  // the same seed draws the same tokens; top-k 1 is the arg-max; a fixed seed gives fixed tokens
  const logits = Float32Array.from({ length: 50 }, (_, i) => Math.fround(Math.sin(i * 1.7) * 3));
  const draw = (seed: number, topK = 0, temperature = 0.8) => { const g = new SplitMix64(seed); return Array.from({ length: 12 }, () => sampleToken(logits, g, { temperature, topK })); };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  assert.deepEqual(draw(3, 1), new Array(12).fill(argmax(logits)));
  assert.ok(draw(5, 3).every((t) => [...logits].map((v, i) => [v, i]).sort((a, b) => b[0]! - a[0]! || a[1]! - b[1]!).slice(0, 3).some(([, i]) => i === t)));
  assert.deepEqual(draw(7), [38, 12, 31, 45, 34, 1, 34, 23, 49, 38, 49, 15]);
});

test('tiny transformer: greedy sliding-window generation writes fixed, readable text, as onnxruntime does', async () => {
  const vocab = JSON.parse(fs.readFileSync('models/tiny-transformer/vocab.json', 'utf8')) as string[];
  const prompt = [...'The '].map((c) => vocab.indexOf(c));
  const tr = await generate(TINY, { promptIds: prompt, maxTokens: 24, cacheDir });
  assert.equal(tr.mode, 'window');
  assert.equal(tr.text, 'work, and that you may p');
  assert.equal(tr.steps.length, 24);
  assert.match(tr.steps[0]!.s0!, /^0x[0-9a-f]{64}$/);
  // onnxruntime, the same windows (the model's 32 positions, right-padded with id 0)
  const sess = await ort.InferenceSession.create(TINY, { intraOpNumThreads: 1 });
  try {
    const seq = [...prompt];
    for (let s = 0; s < 24; s++) {
      const win = seq.slice(-32);
      const r = await sess.run({ ids: i64([...win, ...new Array(32 - win.length).fill(0)], [1, 32]) });
      seq.push(ortArgmax(r.logits!.data as Float32Array, win.length - 1, vocab.length));
    }
    assert.deepEqual(tr.tokens, seq.slice(prompt.length));
  } finally {
    await sess.release();
  }
});

test('tiny transformer, KV-cache form built from its trained weights: the same tokens as the full-window form', async () => {
  const dir = tmpDir('opml-tiny-kv-');
  writeTinyTransformerKv(dir);
  const vocab = JSON.parse(fs.readFileSync('models/tiny-transformer/vocab.json', 'utf8')) as string[];
  const prompt = [...'This License'].map((c) => vocab.indexOf(c));
  const N = 32 - prompt.length; // the trained context: positions 0 … 31
  const kv = await generate(dir, { promptIds: prompt, maxTokens: N, cacheDir, states: false });
  const win = await generate(TINY, { promptIds: prompt, maxTokens: N, cacheDir, states: false });
  assert.equal(kv.mode, 'kv-cache');
  assert.equal(kv.chained, true);
  assert.deepEqual(kv.tokens, win.tokens);
  assert.equal(kv.text, win.text);
  assert.equal(kv.text, ' for a convey the wo');
});

test('LLaMA-shaped model: KV-cache generation matches onnxruntime, chains its commitments, verifies per step (trace, OPVM) and equals full-window decoding', async () => {
  const dir = tmpDir('opml-llama-');
  const f = writeLlamaOnnx(dir, llamaConfig('tiny', { layers: 1, tied: true }), { externalAbove: 0 }); // tied LM head (the bench's model is untied); weights in model.onnx_data, shared by both graphs
  assert.ok(f.data && fs.statSync(f.data).size >= f.weightBytes);
  const prompt = [5, 17, 42, 8];
  const N = 6;
  const steps = path.join(dir, 'steps');
  const tr = await generate(dir, { promptIds: prompt, maxTokens: N, cacheDir, saveSteps: steps });
  assert.equal(tr.mode, 'kv-cache');
  assert.equal(tr.context, prompt.length + N - 1);
  assert.equal(tr.chained, true);
  for (let t = 1; t < N; t++) {
    for (const kv of ['key', 'value']) assert.equal(tr.steps[t]!.inputs[`past_key_values.0.${kv}`], tr.steps[t - 1]!.outputs[`present.0.${kv}`]);
  }
  assert.notEqual(tr.steps[1]!.outputs['present.0.key'], tr.steps[2]!.outputs['present.0.key']);

  // a decode step is an ordinary inference of its bundle: opml trace on the saved inputs gives the
  // transcript's states and commitments, and the OPVM computes the same output bytes
  {
    const t = tr.steps[2]!;
    const ex = await NativeExecutor.load(tr.bundles.decode!.dir);
    const g = ex.graph;
    const ins = g.inputs.map((id) => readTensorFile(path.join(steps, 'step_2', `${g.tensors[id]!.name}.pb`)));
    const run = traceRun(ex, ins);
    await ex.close();
    assert.equal(toHex(run.states[0]!), t.s0);
    assert.equal(toHex(run.states.at(-1)!), t.sn);
    g.outputs.forEach((id) => assert.equal(toHex(run.commitments[id]!), t.outputs[g.tensors[id]!.name]));
    const vm = VmExecutor.load(tr.bundles.decode!.dir).run(ins);
    vm.outputs.forEach((o, i) => assert.deepEqual(new Uint8Array(o.data.buffer, o.data.byteOffset, o.data.byteLength), new Uint8Array(run.outputs[i]!.data.buffer, run.outputs[i]!.data.byteOffset, run.outputs[i]!.data.byteLength)));
  }
  // onnxruntime with its own growing cache (no padding): prefill model, then the with-past model
  const V = f.config.vocab;
  const pre = await ort.InferenceSession.create(f.prefill, { intraOpNumThreads: 1 });
  const dec = await ort.InferenceSession.create(f.withPast, { intraOpNumThreads: 1 });
  try {
    const S = prompt.length;
    let r = await pre.run({ input_ids: i64(prompt, [1, S]), attention_mask: i64(new Array(S).fill(1), [1, S]), position_ids: i64([...Array(S).keys()], [1, S]) });
    const want = [ortArgmax(r.logits!.data as Float32Array, S - 1, V)];
    for (let t = 1; t < N; t++) {
      const pos = S + t - 1;
      const feeds: Record<string, ort.Tensor> = { input_ids: i64([want.at(-1)!], [1, 1]), attention_mask: i64(new Array(pos + 1).fill(1), [1, pos + 1]), position_ids: i64([pos], [1, 1]) };
      for (const n of dec.inputNames) if (n.startsWith('past_key_values')) feeds[n] = r[n.replace('past_key_values', 'present')]!;
      r = await dec.run(feeds);
      want.push(ortArgmax(r.logits!.data as Float32Array, 0, V));
    }
    assert.deepEqual(tr.tokens, want);
  } finally {
    await pre.release();
    await dec.release();
  }
  // the prefill form without a cache, re-run over the whole window every token: the same tokens
  const win = await generate(f.prefill, { promptIds: prompt, maxTokens: N, cacheDir, states: false });
  assert.equal(win.mode, 'window');
  assert.deepEqual(win.tokens, tr.tokens);
  // seeded sampling: reproducible, and the compiled bundles are reused from the cache
  const a = await generate(dir, { promptIds: prompt, maxTokens: N, cacheDir, sample: true, seed: 11, temperature: 1.5, topK: 20, states: false });
  const b = await generate(dir, { promptIds: prompt, maxTokens: N, cacheDir, sample: true, seed: 11, temperature: 1.5, topK: 20, states: false });
  assert.deepEqual(a.tokens, b.tokens);
  assert.equal(a.bundles.decode!.modelHash, tr.bundles.decode!.modelHash);
});

test('opml generate: a prompt id outside the vocabulary or a KV cache of the wrong shape is a one-line error, exit 2', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/opml.mjs', 'generate', ...args, '--cache-dir', cacheDir], { encoding: 'utf8' });
  const r1 = cli(TINY, '--prompt-ids', '1,2,76', '--max-tokens', '2');
  assert.equal(r1.status, 2, r1.stderr);
  assert.equal(r1.stderr.trim().split('\n').length, 1);
  assert.match(r1.stderr, /ids: prompt id 76 \(position 2\) is outside the vocabulary 0 … 75/);

  const dir = tmpDir('opml-llama-bad-');
  const f = writeLlamaOnnx(dir, llamaConfig('tiny', { layers: 1 }));
  const m = onnx.ModelProto.decode(fs.readFileSync(f.withPast));
  const past = m.graph!.input!.find((i) => i.name === 'past_key_values.0.value')!;
  past.type!.tensorType!.shape!.dim![1] = { dimValue: 3 }; // 3 heads; the model has 2 KV heads
  const bad = path.join(dir, 'bad.onnx');
  fs.writeFileSync(bad, onnx.ModelProto.encode(m).finish());
  const r2 = cli(bad, '--prompt-ids', '1,2', '--max-tokens', '2');
  assert.equal(r2.status, 2, r2.stderr);
  assert.equal(r2.stderr.trim().split('\n').length, 1);
  assert.match(r2.stderr, /^error: past_key_values\.0\.value: .*heads 3 ≠ 2/);
});
