/**
 * The OPVM on the bundled models: every node's outputs in the VM equal the native engine's byte for byte;
 * each node's initial memory root, composed from region roots as the contract will compose it, equals the
 * root of the interpreter's actual memory image; the model commitment binds each node's record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TensorId } from '../../converter/ir/types.ts';
import { importModel } from '../../converter/convert.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { compileGraph, manifestOf } from '../../compiler/compile.ts';
import { dataRoot } from '../../compiler/commit/tensor.ts';
import { initialMemoryRoot } from '../../compiler/opvm/layout.ts';
import type { NodeMemoryLayout } from '../../compiler/opvm/layout.ts';
import { ioHash, modelCommitment, nodeRecord } from '../../compiler/commit/model.ts';
import { NativeExecutor } from '../native/executor.ts';
import { VmExecutor } from '../opvm/vm-executor.ts';
import { nodeImage } from '../opvm/node-image.ts';
import { Tracer } from '../opvm/tracer.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODELS = [
  ['fmnist-mlp', 'model.onnx'], ['fmnist-cnn', 'model.onnx'], ['fmnist-cnn-int8', 'model.onnx'], ['fmnist-tfjs', 'model.json'], ['tiny-transformer', 'model.onnx'],
] as const;
const hexBytes = (h: string) => Uint8Array.from(Buffer.from(h.slice(2), 'hex'));

for (const [name, file] of MODELS) {
  test(`${name}: every node in the OPVM == native, byte for byte; composed initial roots == image roots`, async () => {
    const { graph } = importModel(path.join(ROOT, 'models', name, file));
    const compiled = compileGraph(graph, name);
    const manifest = manifestOf(compiled, '', 'test');
    const input = readTensorFile(path.join(ROOT, 'models', name, 'samples', 'input_1.pb'), graph.tensors[graph.inputs[0]!]);
    const ex = await NativeExecutor.create(graph, manifest, compiled.kernels.map((k) => k.wasm));
    try {
      ex.run([input]);
      const vm = VmExecutor.create(graph, manifest, compiled.kernels.map((k) => k.opvm!)).run([input]);
      const bytes = (id: number) => { const t = ex.tensor(id as TensorId); return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength); };
      graph.nodes.forEach((n, k) => {
        for (const o of n.outputs) assert.ok(Buffer.from(bytes(o)).equals(Buffer.from(vm.values.get(o as TensorId)!)), `node ${k + 1} '${n.name}' (${n.op}) output '${graph.tensors[o]!.name}'`);
        assert.ok(vm.stats[k]!.steps > 0);
      });
      // Initial memory roots for a few nodes (first, a middle one, last): composed == interpreted image.
      for (const k of new Set([0, graph.nodes.length >> 1, graph.nodes.length - 1])) {
        const n = graph.nodes[k]!;
        const vmn = compiled.kernels[k]!.node.vm!;
        const layout = { regions: vmn.regions, totalBytes: 0, layoutHash: hexBytes(vmn.layoutHash) } as unknown as NodeMemoryLayout;
        const composed = initialMemoryRoot(layout, hexBytes(vmn.codeRoot), n.inputs.map((id) => dataRoot(bytes(id))));
        const tr = new Tracer(nodeImage(graph, n, vmn, compiled.kernels[k]!.opvm!, bytes));
        tr.runToEnd();
        assert.equal(toHex(composed), toHex(tr.stateAt(0).memRoot), `node ${k + 1} initial memory root`);
        assert.equal(toHex(dataRoot(compiled.kernels[k]!.opvm!)), vmn.codeRoot);
      }
      // Records and the model commitment.
      const mc = modelCommitment(graph, compiled.kernels.map((c) => ({ codeRoot: hexBytes(c.node.vm!.codeRoot), layoutHash: hexBytes(c.node.vm!.layoutHash), stepBound: c.node.vm!.stepBound })));
      assert.equal(toHex(mc.commitment), compiled.model!.commitment);
      graph.nodes.forEach((n, k) => {
        const vmn = compiled.kernels[k]!.node.vm!;
        const r = nodeRecord({ op: n.op, codeRoot: hexBytes(vmn.codeRoot), layoutHash: hexBytes(vmn.layoutHash), io: ioHash(graph, n.inputs, n.outputs), stepBound: vmn.stepBound });
        assert.equal(toHex(r), compiled.kernels[k]!.node.vm!.record);
      });
    } finally {
      await ex.close();
    }
  });
}
