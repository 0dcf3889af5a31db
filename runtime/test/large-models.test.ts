/**
 * Models beyond one wasm32 memory (issue 12, item 1), exercised at a small size: a LLaMA-shaped ONNX model
 * with its weights as external data (one file, or one file per tensor), converted, then compiled with a tiny
 * per-memory limit so that the native arena is cut into several memories. The multi-memory run must equal the
 * one-memory run bit for bit (every tensor, so every graph state), onnxruntime within tolerance, and the OPVM
 * node by node; bad input (a missing data file, a node larger than a memory, a model larger than this machine,
 * a protobuf beyond 2 GiB) gives one line naming the file or node, and writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { llamaConfig, writeLlamaOnnx } from '../../bench/gen-llama-onnx.ts';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';
import { convertModel } from '../../converter/convert.ts';
import { compileBundle, compileGraph, CompileError } from '../../compiler/compile.ts';
import { planArena } from '../../compiler/arena.ts';
import { readBundle } from '../../converter/bundle/read.ts';
import { NativeExecutor, RunError } from '../native/executor.ts';
import { traceRun } from '../native/trace.ts';
import { VmExecutor } from '../opvm/vm-executor.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import type { Graph, TensorId } from '../../converter/ir/types.ts';
import { shape } from '../../converter/ir/types.ts';
import { MANIFEST_FILE } from '../../compiler/format.ts';

const SEQ = 5;
const cfg = llamaConfig('tiny', { maxPositions: 16 });
const root = tmpDir('opml-large-');
const shapes = new Map([['input_ids', [1, SEQ]], ['attention_mask', [1, SEQ]], ['position_ids', [1, SEQ]]]);
/** Small enough that the tiny model needs several memories, large enough for its largest node. */
const LIMIT = 48 * 1024;

function inputs(names: readonly string[]): HostTensor[] {
  const m = new Map<string, HostTensor>([
    ['input_ids', hostTensor('int64', [1, SEQ], BigInt64Array.from({ length: SEQ }, (_, i) => BigInt((i * 31 + 5) % cfg.vocab)))],
    ['attention_mask', hostTensor('int64', [1, SEQ], new BigInt64Array(SEQ).fill(1n))],
    ['position_ids', hostTensor('int64', [1, SEQ], BigInt64Array.from({ length: SEQ }, (_, i) => BigInt(i)))],
  ]);
  return names.map((n) => m.get(n)!);
}

const bytesOf = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

// One model with its weights in one external-data file, one with a file per tensor.
const one = path.join(root, 'one');
const many = path.join(root, 'many');
writeLlamaOnnx(one, cfg, { externalAbove: 0 });
writeLlamaOnnx(many, cfg, { externalAbove: 0, dataFiles: 'per-tensor' });

test('external data in one file or in a file per tensor converts to the same bundle', () => {
  assert.ok(fs.existsSync(path.join(one, 'model.onnx_data')));
  assert.ok(fs.existsSync(path.join(many, 'model.layers.1.mlp.down_proj.weight')));
  const a = convertModel(path.join(one, 'decoder_model.onnx'), path.join(one, 'm.opml'), { inputShapes: shapes });
  const b = convertModel(path.join(many, 'decoder_model.onnx'), path.join(many, 'm.opml'), { inputShapes: shapes });
  assert.equal(a.modelHash, b.modelHash);
  assert.deepEqual(fs.readFileSync(path.join(one, 'm.opml', 'weights.bin')), fs.readFileSync(path.join(many, 'm.opml', 'weights.bin')));
});

test('several arena memories: native == one memory bit for bit (every tensor), == onnxruntime, == the OPVM per node', async () => {
  const bundle = path.join(many, 'm.opml');
  if (!fs.existsSync(bundle)) convertModel(path.join(many, 'decoder_model.onnx'), bundle, { inputShapes: shapes });
  const single = compileBundle(bundle, path.join(many, 'single.opmlc'), { vm: false });
  const multi = compileBundle(bundle, path.join(many, 'multi.opmlc'), { memoryLimit: LIMIT });
  assert.equal(single.arena.memories.length, 1);
  const mems = multi.arena.memories;
  assert.ok(mems.length >= 3, `${mems.length} memories`);
  assert.ok(mems.every((m) => m.bytes <= LIMIT));
  assert.deepEqual(mems.map((m) => [m.firstNode, m.endNode]).flat().slice(1, -1), mems.slice(1).flatMap((m) => [m.firstNode, m.firstNode]));
  assert.equal(mems.at(-1)!.endNode, multi.nodes.length);
  // a weight shared by nodes in two memories (the RMSNorm epsilon, the attention scale …) sits in both
  const g = readBundle(bundle).graph;
  assert.ok([...g.constants.keys()].some((id) => mems.filter((m) => m.tensors.includes(id)).length > 1));
  // the weights file of the compiled bundle is the graph bundle's (a link, not a second copy)
  assert.equal(fs.statSync(path.join(many, 'multi.opmlc', 'weights.bin')).ino, fs.statSync(path.join(bundle, 'weights.bin')).ino);

  const exS = await NativeExecutor.load(path.join(many, 'single.opmlc'));
  const exM = await NativeExecutor.load(path.join(many, 'multi.opmlc'));
  const exT = await NativeExecutor.load(path.join(many, 'multi.opmlc'), { threads: 2 });
  const ins = inputs(g.inputs.map((i) => g.tensors[i]!.name));
  const tS = traceRun(exS, ins);
  const tM = traceRun(exM, ins);
  assert.deepEqual(tM.states, tS.states, 'graph states differ between one and several memories');
  for (let id = 0; id < g.tensors.length; id++) assert.ok(bytesOf(exM.tensor(id as TensorId)).equals(bytesOf(exS.tensor(id as TensorId))), `tensor ${g.tensors[id]!.name}`);
  const outT = exT.run(ins);
  tM.outputs.forEach((o, i) => assert.ok(bytesOf(o).equals(bytesOf(outT[i]!)), 'two threads over several memories'));
  // running again (inputs rewritten, activations copied again) gives the same bits
  exM.run(ins).forEach((o, i) => assert.ok(bytesOf(o).equals(bytesOf(tM.outputs[i]!))));

  // onnxruntime on the model with its external data
  const sess = await ort.InferenceSession.create(path.join(many, 'decoder_model.onnx'), { intraOpNumThreads: 1 });
  const feeds = Object.fromEntries(g.inputs.map((id, i) => [g.tensors[id]!.name, new ort.Tensor('int64', ins[i]!.data as BigInt64Array, [...ins[i]!.shape])]));
  const want = (await sess.run(feeds)).logits!.data as Float32Array;
  const got = tM.outputs[g.outputs.findIndex((o) => g.tensors[o]!.name === 'logits')]!.data as Float32Array;
  assert.equal(got.length, want.length);
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(got[i]! - want[i]!)); scale = Math.max(scale, Math.abs(want[i]!)); }
  assert.ok(err <= 1e-5 * Math.max(1, scale), `max error ${err} (scale ${scale})`);
  await sess.release();

  // the OPVM, node by node, gives every node output the native bits
  const vm = VmExecutor.load(path.join(many, 'multi.opmlc')).run(ins);
  for (const [id, v] of vm.values) assert.ok(Buffer.from(v).equals(bytesOf(exM.tensor(id))), `VM ≠ native on ${g.tensors[id]!.name}`);
  await Promise.all([exS.close(), exM.close(), exT.close()]);
});

test('a node larger than one arena memory is named; a model larger than this machine is refused before loading', async () => {
  const bundle = path.join(one, 'm.opml');
  if (!fs.existsSync(bundle)) convertModel(path.join(one, 'decoder_model.onnx'), bundle, { inputShapes: shapes });
  const out = path.join(one, 'small.opmlc');
  assert.throws(() => compileBundle(bundle, out, { memoryLimit: 8 * 1024, vm: false }), (e: Error) =>
    e instanceof CompileError && /node \d+ '[^']+' \(\w+\) needs [\d.]+ KiB of memory/.test(e.message) && /split/.test(e.message) && !e.message.includes('\n'));
  assert.ok(!fs.existsSync(out));
  assert.deepEqual(fs.readdirSync(one).filter((f) => f.includes('.tmp-')), []);
  // the plan itself: the node is named by index, name and op
  const g = readBundle(bundle).graph;
  assert.throws(() => planArena(g, 0, 4096), /node \d+ '.+' \(\w+\) needs/);

  // a node that fits a wasm32 memory but not the OPVM's 2^31 bytes: named at compile time (weights never read)
  const N = 70_000_000;
  const huge: Graph = {
    tensors: [
      { name: 'x', dtype: 'float32', shape: shape([1, 8]), origin: 'input' },
      { name: 'w', dtype: 'float32', shape: shape([8, N]), origin: 'constant' },
      { name: 'y', dtype: 'float32', shape: shape([1, N]), origin: 'node' },
    ],
    inputs: [0 as TensorId], outputs: [2 as TensorId],
    constants: new Map([[1 as TensorId, { byteLength: 32 * N, read: () => { throw new Error('weights read'); } }]]),
    nodes: [{ op: 'MatMul', name: 'big/MatMul', inputs: [0 as TensorId, 1 as TensorId], outputs: [2 as TensorId], attrs: {} }],
  };
  assert.equal(planArena(huge, 0).memories.length, 1);
  assert.throws(() => compileGraph(huge, 'huge'), (e: Error) => e instanceof CompileError && !e.message.includes('\n') &&
    /^node 1 'big\/MatMul' \(MatMul\): OPVM: the node needs \d+ bytes of VM memory; the OPVM has 2147483648; a node this large must be split/.test(e.message));

  const ok = path.join(one, 'ok.opmlc');
  compileBundle(bundle, ok, { vm: false });
  const mf = path.join(ok, MANIFEST_FILE);
  const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
  m.arena.bytes = os.totalmem() + 2 ** 30;
  fs.writeFileSync(mf, JSON.stringify(m));
  await assert.rejects(NativeExecutor.load(ok), (e: Error) => e instanceof RunError && e.message.startsWith(`${ok}: running it natively needs`) && /more memory/.test(e.message));
});

test('bad input: a missing external-data file or an ONNX file beyond 2 GiB gives one line, exit 2, nothing written', () => {
  const dir = path.join(root, 'missing');
  writeLlamaOnnx(dir, cfg, { externalAbove: 0, dataFiles: 'per-tensor' });
  fs.rmSync(path.join(dir, 'model.layers.0.mlp.up_proj.weight'));
  const out = path.join(dir, 'x.opml');
  const r = spawnSync(process.execPath, ['bin/opml.mjs', 'convert', path.join(dir, 'decoder_model.onnx'), '-o', out,
    '--input-shape', `input_ids=1x${SEQ}`, '--input-shape', `attention_mask=1x${SEQ}`, '--input-shape', `position_ids=1x${SEQ}`], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /model\.layers\.0\.mlp\.up_proj\.weight/);
  assert.ok(lines[0]!.includes(path.join(dir, 'model.layers.0.mlp.up_proj.weight')), lines[0]);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('x.opml')), []);

  // a sparse file just over 2 GiB (no disk space used): refused from its size, before reading it
  const big = path.join(root, 'big.onnx');
  const fd = fs.openSync(big, 'w');
  fs.ftruncateSync(fd, 2 ** 31 + 1);
  fs.closeSync(fd);
  const r2 = spawnSync(process.execPath, ['bin/opml.mjs', 'convert', big, '-o', path.join(root, 'big.opml')], { encoding: 'utf8' });
  assert.equal(r2.status, 2, r2.stderr);
  assert.equal(r2.stderr.trim().split('\n').length, 1, r2.stderr);
  assert.match(r2.stderr, /big\.onnx: 2\.0 GiB, larger than an ONNX protobuf can be \(2 GiB\); save its weights as external data/);
  assert.ok(!fs.existsSync(path.join(root, 'big.opml')));
});

test.after(() => fs.rmSync(root, { recursive: true, force: true }));
