/**
 * Splitting large MatMuls into column blocks and Convs into output-channel blocks
 * (converter/ir/passes/split-large.ts, docs/opvm.md §9): with a forced small threshold the bundled
 * models' MatMuls and Convs by constant weights become blocks and Concats; every tensor of the unsplit model has the same bytes in the split one (native),
 * every block and Concat computes the same bytes in the OPVM as natively, every block's compiled step
 * bound is under the threshold, and the estimate bounds the compiled step bound of every MatMul and Conv.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Graph, TensorId } from '../../converter/ir/types.ts';
import { importModel } from '../../converter/convert.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { compileGraph, manifestOf } from '../../compiler/compile.ts';
import type { CompiledGraph } from '../../compiler/compile.ts';
import { estimatedSteps, splitLargeNodes } from '../../converter/ir/passes/split-large.ts';
import { NativeExecutor } from '../native/executor.ts';
import { VmExecutor } from '../opvm/vm-executor.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

async function nativeValues(g: Graph, c: CompiledGraph, input: HostTensor): Promise<Map<string, Buffer>> {
  const ex = await NativeExecutor.create(g, manifestOf(c), c.kernels.map((k) => k.wasm));
  try {
    ex.run([input]);
    const out = new Map<string, Buffer>();
    g.nodes.forEach((n) => n.outputs.forEach((o) => { const t = ex.tensor(o as TensorId); out.set(g.tensors[o]!.name, Buffer.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))); }));
    return out;
  } finally {
    await ex.close();
  }
}

for (const [name, file, threshold] of [['tiny-transformer', 'model.onnx', 2_000_000], ['fmnist-mlp', 'model.onnx', 400_000], ['fmnist-cnn', 'model.onnx', 300_000], ['fmnist-tfjs', 'model.json', 300_000]] as const) {
  test(`${name}: MatMuls and Convs split at ${threshold} steps compute the unsplit bytes (native), native == VM per block, every block's step bound under the threshold`, async () => {
    const model = path.join(ROOT, 'models', name, file);
    const { graph: whole } = importModel(model);
    const { graph: split } = importModel(model, { splitSteps: threshold });
    assert.deepEqual(splitLargeNodes(whole), whole, 'nothing to split at 2^32');
    const blocks = split.nodes.filter((n) => /\/block\d+$/.test(n.name));
    assert.ok(blocks.length >= 4, `${blocks.length} blocks`);
    if (name.startsWith('fmnist-cnn') || name === 'fmnist-tfjs') assert.ok(blocks.some((n) => n.op === 'Conv'), 'a Conv is split');
    assert.ok(split.nodes.length > whole.nodes.length);
    for (const n of split.nodes) if (n.op === 'Concat') assert.ok(n.inputs.length <= 16, 'a Concat a dispute can open');
    const cw = compileGraph(whole, name), cs = compileGraph(split, name);
    assert.notEqual(cw.model!.commitment, cs.model!.commitment, 'the model commitment binds the split nodes');
    const input = readTensorFile(path.join(ROOT, 'models', name, 'samples', 'input_1.pb'), whole.tensors[whole.inputs[0]!]);
    const a = await nativeValues(whole, cw, input), b = await nativeValues(split, cs, input);
    for (const [t, bytes] of a) assert.ok(b.get(t)?.equals(bytes), `tensor '${t}' bit for bit`);
    // the OPVM computes every node of the split model (blocks and Concats included) as the native engine does
    const vm = VmExecutor.create(split, manifestOf(cs), cs.kernels.map((k) => k.opvm!)).run([input]);
    split.nodes.forEach((n) => n.outputs.forEach((o) => assert.ok(Buffer.from(vm.values.get(o as TensorId)!).equals(b.get(split.tensors[o]!.name)!), `node '${n.name}' in the VM`)));
    split.nodes.forEach((n, k) => {
      const bound = cs.kernels[k]!.node.vm!.stepBound;
      if (blocks.includes(n)) assert.ok(bound <= threshold, `${n.name}: step bound ${bound} > ${threshold}`);
      const est = estimatedSteps(split, n);
      if (est !== null) assert.ok(bound <= est, `${n.name}: step bound ${bound} above the estimate ${est}`);
      assert.ok(vm.stats[k]!.steps <= bound);
    });
  });
}

test('a weight above the slice limit is split into column blocks of at most that many bytes, whatever its steps', () => {
  const { graph } = importModel(path.join(ROOT, 'models', 'fmnist-mlp', 'model.onnx'));
  const split = splitLargeNodes(graph, 2 ** 32, 64 * 1024);
  const blocks = split.nodes.filter((n) => /\/block\d+$/.test(n.name));
  assert.ok(blocks.length >= 7, `${blocks.length} blocks`); // 784×128 floats = 392 KiB → 7 slices
  for (const n of blocks) assert.ok(split.constants.get(n.inputs[1]!)!.byteLength <= 64 * 1024);
  for (const n of blocks) assert.equal(split.constants.get(n.inputs[1]!)!.read().length, split.constants.get(n.inputs[1]!)!.byteLength);
});
