/** The phase-2 trace: S_k differs from S_{k−1} only in node k's output slots; traces are deterministic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { convertModel } from '../../converter/convert.ts';
import { compileBundle } from '../../compiler/compile.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { NativeExecutor } from '../native/executor.ts';
import { bundleConstantCommitments, traceRun } from '../native/trace.ts';
import { SlotTree } from '../../compiler/commit/graph-state.ts';
import { rootFromProof } from '../../compiler/commit/merkle.ts';
import { commitTensor } from '../../compiler/commit/tensor.ts';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';

async function cnn() {
  const dir = tmpDir();
  convertModel('models/fmnist-cnn/model.onnx', path.join(dir, 'cnn.opml'));
  compileBundle(path.join(dir, 'cnn.opml'), path.join(dir, 'cnn.opmlc'));
  return path.join(dir, 'cnn.opmlc');
}

test('S_0 … S_n of the CNN: each step writes only its node\'s output slots; outputs are committed', async () => {
  const dir = await cnn();
  const ex = await NativeExecutor.load(dir);
  const two = await NativeExecutor.load(dir, { threads: 2 });
  try {
    const x = readTensorFile('models/fmnist-cnn/samples/input_0.pb');
    const t = traceRun(ex, [x]);
    const g = ex.graph;
    assert.equal(t.states.length, g.nodes.length + 1);
    assert.equal(new Set(t.states.map(toHex)).size, t.states.length, 'every node changes the state');
    // Replay: S_{k-1} plus node k's outputs gives S_k; the output slot proves the logits' commitment.
    const tree = new SlotTree(g.tensors.length);
    for (const id of g.constants.keys()) tree.set(id, t.commitments[id]!);
    assert.equal(toHex(tree.root()), toHex(t.constantState));
    for (const id of g.inputs) tree.set(id, t.commitments[id]!);
    assert.equal(toHex(tree.root()), toHex(t.states[0]!));
    g.nodes.forEach((n, k) => {
      for (const o of n.outputs) tree.set(o, t.commitments[o]!);
      assert.equal(toHex(tree.root()), toHex(t.states[k + 1]!), `S_${k + 1}`);
    });
    const out = g.outputs[0]!;
    const logits = t.outputs[0]!;
    const c = commitTensor(logits.dtype, logits.shape, new Uint8Array(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength));
    assert.equal(toHex(rootFromProof(c, out, tree.proof(out))), toHex(t.states.at(-1)!));
    assert.deepEqual(traceRun(two, [x]).states.map(toHex), t.states.map(toHex), 'same trace on 2 threads');
    // the constants' commitments taken from the bundle's constant trees are those of hashing the weights
    const known = bundleConstantCommitments(dir, ex);
    assert.ok(known && known.size === g.constants.size, 'the compiled bundle has constant trees for every constant');
    for (const [id, c] of known) assert.equal(toHex(c), toHex(t.commitments[id]!), `constant ${g.tensors[id]!.name}`);
    const fast = traceRun(ex, [x], undefined, dir);
    assert.deepEqual(fast.states.map(toHex), t.states.map(toHex), 'same trace with the bundle\'s constant trees');
    assert.equal(toHex(fast.constantState), ex.manifest.model!.constantState);
  } finally {
    await Promise.all([ex.close(), two.close()]);
  }
});

test('opml trace prints the states and the output commitment', async () => {
  const dir = await cnn();
  const bin = fileURLToPath(new URL('../../bin/opml.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'trace', dir, 'models/fmnist-cnn/samples/input_0.pb', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.states.length, 13);
  assert.match(j.outputs[0].commitment, /^0x[0-9a-f]{64}$/);
  const text = spawnSync(process.execPath, [bin, 'trace', dir, 'models/fmnist-cnn/samples/input_0.pb'], { encoding: 'utf8' });
  assert.match(text.stdout, /^constant state {2}0x[0-9a-f]{64}\nS_0 {13}0x[0-9a-f]{64} {2}\(inputs set\)\nS_1 /);
  assert.ok(text.stdout.includes(j.states[12]));
});
