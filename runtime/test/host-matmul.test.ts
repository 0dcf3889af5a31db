/**
 * The host MatMul kernel (runtime/native/cpu/matmul.cc) == the WebAssembly kernel over the same packed B ==
 * the scalar kernel the OPVM runs, bit for bit, over random shapes and values with NaN, ±∞, ±0 and
 * subnormals, whole and split across threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { runKernelOnce } from '../../compiler/kernel/harness.ts';
import { MATMUL_PANEL, packPanels } from '../../compiler/native-layout.ts';
import { hostKernels } from '../native/cpu.ts';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -3e-39, 1e30, -1e30, 3e38];
const val = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...SPECIAL) }, { weight: 12, arbitrary: fc.float({ min: -4, max: 4, noNaN: true }) });
const tensorArb = (dims: number[]) => fc.array(val, { minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) }).map((v) => hostTensor('float32', dims, v));
const bytes = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

const host = hostKernels();

test('the host MatMul kernel is built and available on x86-64 (npm install builds it; OPML_NATIVE_CPU=0 opts out)', () => {
  if (process.arch !== 'x64' || process.env.OPML_NATIVE_CPU === '0') return;
  assert.ok(host, 'build/Release/opml_cpu.node is missing or unusable: run `node bin/build-native.mjs` to see why');
  assert.equal(host.panel, MATMUL_PANEL);
});

test('host MatMul == WebAssembly MatMul over a packed B == scalar kernel, bit for bit, 1 and 3 threads', { skip: host ? false : 'no host kernel here' }, () => {
  const geo = fc.record({ rows: fc.integer({ min: 1, max: 11 }), k: fc.integer({ min: 1, max: 40 }), panels: fc.integer({ min: 2, max: 9 }) });
  fc.assert(fc.property(geo.chain((g) => fc.tuple(fc.constant(g), tensorArb([g.rows, g.k]), tensorArb([g.k, g.panels * MATMUL_PANEL]))), ([g, a, b]) => {
    const n = g.panels * MATMUL_PANEL;
    const scalar = runKernelOnce('MatMul', [a, b], {}, false).outputs[0]!;
    const wasm = runKernelOnce('MatMul', [a, b], {}, true, true).outputs[0]!;
    assert.deepEqual(bytes(wasm), bytes(scalar), 'wasm (packed B) vs scalar');
    const aOff = 64, bOff = aOff + Math.ceil((g.rows * g.k * 4) / 64) * 64, yOff = bOff + g.k * n * 4;
    for (const threads of [1, 3]) {
      const mem = new Uint8Array(new SharedArrayBuffer(yOff + g.rows * n * 4 + 64)).fill(0xa5);
      mem.set(bytes(a), aOff);
      packPanels({ tensor: 0, rows: g.k, cols: n, panel: MATMUL_PANEL }, bytes(b), mem.subarray(bOff, bOff + g.k * n * 4));
      host!.matmul(mem, aOff, bOff, yOff, g.rows, g.k, n, threads);
      assert.deepEqual(Buffer.from(mem.subarray(yOff, yOff + g.rows * n * 4)), bytes(scalar), `host (${threads} threads) vs scalar`);
      assert.ok(mem.subarray(yOff + g.rows * n * 4).every((x) => x === 0xa5), 'nothing written past y');
    }
  }), { numRuns: 60 });
});

test('host MatMul refuses operands outside its memory', { skip: host ? false : 'no host kernel here' }, () => {
  const mem = new Uint8Array(new SharedArrayBuffer(4096));
  assert.throws(() => host!.matmul(mem, 0, 64, 4000, 2, 4, 16, 1), /out of the memory's bounds/);
  assert.throws(() => host!.matmul(mem, 0, 64, 128, 2, 4, 24, 1), /out of the memory's bounds/);
});
