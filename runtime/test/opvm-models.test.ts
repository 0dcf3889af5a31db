/**
 * The OPVM on the bundled models: every node's outputs in the VM equal the native engine's byte for byte;
 * each node's initial memory root, composed from region roots as the contract will compose it, equals the
 * root of the interpreter's actual memory image; the model commitment binds each node's record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TensorId } from '../../converter/ir/types.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { dataRoot } from '../../compiler/commit/tensor.ts';
import { initialMemoryRoot } from '../../compiler/opvm/layout.ts';
import type { NodeMemoryLayout } from '../../compiler/opvm/layout.ts';
import { ioHash, modelCommitment, nodeRecord } from '../../compiler/commit/model.ts';
import { runBundledModel } from './helpers/bundled-model.ts';
import { VmExecutor } from '../opvm/vm-executor.ts';
import { nodeImage } from '../opvm/node-image.ts';
import { Tracer } from '../opvm/tracer.ts';

const MODELS = [
  ['fmnist-mlp', 'model.onnx'], ['fmnist-cnn', 'model.onnx'], ['fmnist-cnn-int8', 'model.onnx'], ['fmnist-tfjs', 'model.json'], ['tiny-transformer', 'model.onnx'],
] as const;
const hexBytes = (h: string) => Uint8Array.from(Buffer.from(h.slice(2), 'hex'));

for (const [name, file] of MODELS) {
  test(`${name}: every node in the OPVM == native, byte for byte; composed initial roots == image roots`, async () => {
    const { graph, compiled, manifest, input, ex, bytes } = await runBundledModel(name, file);
    try {
      const vm = VmExecutor.create(graph, manifest, compiled.kernels.map((k) => k.opvm!)).run([input]);
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
