/**
 * Native-only layouts (compiler/native-layout.ts): which constants are packed, the permutation and its
 * inverse, and the executor's view of a packed constant (its row-major value, never the packed bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MATMUL_PANEL, packedConstants, packPanels, unpackPanels } from '../native-layout.ts';
import { compileGraph, manifestOf } from '../compile.ts';
import { NativeExecutor } from '../../runtime/native/executor.ts';
import { hostKernels } from '../../runtime/native/cpu.ts';
import { GraphBuilder } from '../../converter/ir/builder.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostFromBytes, hostTensor } from '../../converter/ir/host-tensor.ts';
import type { TensorId } from '../../converter/ir/types.ts';
import { getOp } from '../../converter/ir/op-registry.ts';

test('packPanels is a permutation into [n/16][K][16] and unpackPanels inverts it', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 5 }), (rows, panels) => {
    const cols = panels * MATMUL_PANEL;
    const p = { tensor: 0, rows, cols, panel: MATMUL_PANEL };
    const flat = Float32Array.from({ length: rows * cols }, (_, i) => i);
    const packed = new Float32Array(rows * cols);
    packPanels(p, new Uint8Array(flat.buffer), new Uint8Array(packed.buffer));
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const q = Math.floor(c / MATMUL_PANEL);
      assert.equal(packed[(q * rows + r) * MATMUL_PANEL + (c % MATMUL_PANEL)], r * cols + c);
    }
    const back = new Float32Array(rows * cols);
    unpackPanels(p, new Uint8Array(packed.buffer), new Uint8Array(back.buffer));
    assert.deepEqual(back, flat);
  }), { numRuns: 30 });
});

test('a compiled graph packs only constants that MatMul alone reads as B; the executor runs it and reads every constant back row-major', async () => {
  const rnd = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 12.9898 + s) * 2));
  const b = new GraphBuilder();
  const x = b.addInput('x', { dtype: 'float32', shape: [3, 20] as never });
  const w1 = b.addConstant('w1', hostTensor('float32', [20, 48], rnd(20 * 48, 1)));
  const w2 = b.addConstant('w2', hostTensor('float32', [48, 32], rnd(48 * 32, 2)));
  const w3 = b.addConstant('w3', hostTensor('float32', [32, 32], rnd(32 * 32, 3))); // also read by an Add: stays row-major
  const w4 = b.addConstant('w4', hostTensor('float32', [32, 8], rnd(32 * 8, 4))); // half a panel: stays row-major
  const [h] = b.emit('MatMul', [x, w1], {});
  const [z] = b.emit('MatMul', [h!, w2], {});
  const [u] = b.emit('MatMul', [z!, w3], {});
  const [v] = b.emit('MatMul', [u!, w4], {});
  const [s] = b.emit('Add', [w3, w3], {}, { fold: false });
  b.setOutputs([v!, s!]);
  const g = b.build();
  assert.deepEqual(packedConstants(g).map((p) => g.tensors[p.tensor]!.name), ['w1', 'w2']);
  const c = compileGraph(g, 'test', { vm: false });
  const manifest = manifestOf(c);
  assert.deepEqual(manifest.packed.map((p) => [p.rows, p.cols, p.panel]), [[20, 48, 16], [48, 32, 16]]);
  const ex = await NativeExecutor.create(g, manifest, c.kernels.map((k) => k.wasm));
  const wasmOnly = await NativeExecutor.create(g, manifest, c.kernels.map((k) => k.wasm), { hostKernels: false });
  try {
    const xin = hostTensor('float32', [3, 20], rnd(60, 5));
    const [out] = ex.run([xin]);
    const [outWasm] = wasmOnly.run([xin]);
    assert.equal(wasmOnly.hostNodes, 0);
    // the two MatMuls over a packed B run in the host kernel where it is available (runtime/test/host-matmul.test.ts requires it on x86-64)
    assert.equal(ex.hostNodes, hostKernels() ? 2 : 0, 'MatMuls over packed B dispatched to the host kernel');
    assert.deepEqual(Buffer.from(out!.data.buffer, out!.data.byteOffset, out!.data.byteLength), Buffer.from(outWasm!.data.buffer, outWasm!.data.byteOffset, outWasm!.data.byteLength), 'host kernels == WebAssembly kernels');
    const value = (id: TensorId) => hostFromBytes('float32', g.tensors[id]!.shape, g.constants.get(id)!.read());
    const mm = (a: HostTensor, id: TensorId) => getOp('MatMul').fold!([a, value(id)], {})[0]!;
    const want = mm(mm(mm(mm(xin, w1), w2), w3), w4);
    assert.deepEqual(Buffer.from(out!.data.buffer, out!.data.byteOffset, out!.data.byteLength), Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength));
    for (const id of [w1, w2, w3, w4]) {
      const got = ex.tensor(id);
      assert.deepEqual(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength), Buffer.from(g.constants.get(id)!.read()), `constant ${g.tensors[id]!.name} reads back row-major`);
    }
  } finally {
    await ex.close();
    await wasmOnly.close();
  }
});
