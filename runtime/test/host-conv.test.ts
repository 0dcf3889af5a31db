/**
 * The host Conv kernel (runtime/native/cpu/conv.cc) == the scalar kernel the OPVM runs (== the WebAssembly
 * kernel, which compiler/test/kernels-nn.test.ts checks against it), bit for bit, over random 2-D geometries
 * (groups, strides, dilations, asymmetric pads, rows narrower and wider than its eight lanes) and values with
 * NaN, ±∞, ±0 and subnormals, whole and split across threads; nothing outside y is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { runKernelOnce } from '../../compiler/kernel/harness.ts';
import { hostKernels } from '../native/cpu.ts';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -3e-39, 1e30, -1e30, 3e38];
const val = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...SPECIAL) }, { weight: 12, arbitrary: fc.float({ min: -4, max: 4, noNaN: true }) });
const tensorArb = (dims: number[]) => fc.array(val, { minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) }).map((v) => hostTensor('float32', dims, v));
const bytes = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const align = (n: number) => Math.ceil(n / 64) * 64;

const host = hostKernels();

test('the host Conv kernel is built and available on x86-64 (npm install builds it; OPML_NATIVE_CPU=0 opts out)', () => {
  if (process.arch !== 'x64' || process.env.OPML_NATIVE_CPU === '0') return;
  assert.ok(host?.conv, 'build/Release/opml_cpu.node is missing, old or unusable: run `node bin/build-native.mjs` to see why');
});

const geo = fc.record({
  n: fc.integer({ min: 1, max: 2 }), group: fc.constantFrom(1, 1, 2, 3), cg: fc.integer({ min: 1, max: 3 }), mg: fc.integer({ min: 1, max: 9 }),
  h: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 1, max: 30 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 5 }),
  sh: fc.integer({ min: 1, max: 2 }), sw: fc.constantFrom(1, 1, 1, 2, 3), dh: fc.integer({ min: 1, max: 2 }), dw: fc.constantFrom(1, 1, 2),
  pads: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }), bias: fc.boolean(),
});

test('host Conv == scalar Conv kernel, bit for bit, 1 and 3 threads', { skip: host?.conv ? false : 'no host Conv kernel here' }, () => {
  let ran = 0;
  fc.assert(fc.property(geo.chain((g) => fc.tuple(fc.constant(g),
    tensorArb([g.n, g.cg * g.group, g.h, g.w]), tensorArb([g.mg * g.group, g.cg, g.kh, g.kw]), tensorArb([g.mg * g.group]))), ([g, x, w, b]) => {
    const OH = Math.floor((g.h + g.pads[0]! + g.pads[2]! - g.dh * (g.kh - 1) - 1) / g.sh) + 1;
    const OW = Math.floor((g.w + g.pads[1]! + g.pads[3]! - g.dw * (g.kw - 1) - 1) / g.sw) + 1;
    if (OH < 1 || OW < 1) return;
    ran++;
    const attrs = { group: g.group, strides: [g.sh, g.sw], dilations: [g.dh, g.dw], pads: g.pads };
    const scalar = runKernelOnce('Conv', g.bias ? [x, w, b] : [x, w], attrs, false).outputs[0]!;
    assert.deepEqual(scalar.shape, [g.n, g.mg * g.group, OH, OW]);
    // y first, then w, b, and x last, ending at the memory's end (its masked loads must not reach past it)
    const yOff = 64, wOff = align(yOff + scalar.data.byteLength + 64), bOff = align(wOff + w.data.byteLength);
    const xOff = align(bOff + b.data.byteLength), end = xOff + x.data.byteLength;
    for (const threads of [1, 3]) {
      const mem = new Uint8Array(new SharedArrayBuffer(end)).fill(0xa5);
      mem.set(bytes(x), xOff); mem.set(bytes(w), wOff); mem.set(bytes(b), bOff);
      const M = g.mg * g.group;
      host!.conv!(mem, Float64Array.from([xOff, wOff, g.bias ? bOff : -1, yOff, g.n, g.cg * g.group, g.h, g.w, M, g.group, g.kh, g.kw, OH, OW, g.sh, g.sw, g.pads[0]!, g.pads[1]!, g.dh, g.dw]), threads);
      const yLen = scalar.data.byteLength;
      assert.deepEqual(Buffer.from(mem.subarray(yOff, yOff + yLen)), bytes(scalar), `host (${threads} threads) vs scalar ${JSON.stringify(g)}`);
      assert.ok(mem.subarray(0, yOff).every((v) => v === 0xa5) && mem.subarray(yOff + yLen, wOff).every((v) => v === 0xa5), 'nothing written outside y');
    }
  }), { numRuns: 150 });
  assert.ok(ran > 50, `only ${ran} valid geometries`);
});

test('host Conv refuses operands outside its memory and bad geometry', { skip: host?.conv ? false : 'no host Conv kernel here' }, () => {
  const mem = new Uint8Array(new SharedArrayBuffer(4096));
  const p = (over: Partial<Record<number, number>>) => Float64Array.from([64, 1024, -1, 2048, 1, 1, 8, 8, 1, 1, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1].map((v, i) => over[i] ?? v));
  host!.conv!(mem, p({}), 1);
  assert.throws(() => host!.conv!(mem, p({ 3: 4000 }), 1), /out of the memory's bounds/);
  assert.throws(() => host!.conv!(mem, p({ 7: 200 }), 1), /out of the memory's bounds/);
  assert.throws(() => host!.conv!(mem, p({ 11: 17 }), 1), /bad geometry/);
  assert.throws(() => host!.conv!(mem, p({ 9: 0 }), 1), /bad geometry/);
  assert.throws(() => host!.conv!(mem, new Float64Array(19), 1), /Float64Array of 20/);
});

// ConvInteger: 8-bit values with their extremes, zero points scalar or per output channel
type Byte = 'int8' | 'uint8';
const byteArb = (d: Byte) => fc.oneof(fc.constantFrom(...(d === 'int8' ? [-128, -127, -1, 0, 1, 127] : [0, 1, 128, 254, 255])), d === 'int8' ? fc.integer({ min: -128, max: 127 }) : fc.integer({ min: 0, max: 255 }));
const bytesArb = (d: Byte, dims: number[]) => fc.array(byteArb(d), { minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) }).map((v) => hostTensor(d, dims, v));
const intGeo = fc.record({ g: geo, dx: fc.constantFrom<Byte>('uint8', 'int8'), dw8: fc.constantFrom<Byte>('int8', 'uint8'), perChannel: fc.boolean() });

test('host ConvInteger == scalar ConvInteger kernel, bit for bit, 1 and 3 threads', { skip: host?.convInteger ? false : 'no host ConvInteger kernel here' }, () => {
  let ran = 0;
  fc.assert(fc.property(intGeo.chain((q) => fc.tuple(fc.constant(q),
    bytesArb(q.dx, [q.g.n, q.g.cg * q.g.group, q.g.h, q.g.w]), bytesArb(q.dw8, [q.g.mg * q.g.group, q.g.cg, q.g.kh, q.g.kw]),
    bytesArb(q.dx, []), bytesArb(q.dw8, q.perChannel ? [q.g.mg * q.g.group] : []))), ([q, x, w, xz, wz]) => {
    const g = q.g;
    const OH = Math.floor((g.h + g.pads[0]! + g.pads[2]! - g.dh * (g.kh - 1) - 1) / g.sh) + 1;
    const OW = Math.floor((g.w + g.pads[1]! + g.pads[3]! - g.dw * (g.kw - 1) - 1) / g.sw) + 1;
    if (OH < 1 || OW < 1) return;
    ran++;
    const attrs = { group: g.group, strides: [g.sh, g.sw], dilations: [g.dh, g.dw], pads: g.pads };
    const scalar = runKernelOnce('ConvInteger', [x, w, xz, wz], attrs, false).outputs[0]!;
    assert.deepEqual(scalar.shape, [g.n, g.mg * g.group, OH, OW]);
    const yOff = 64, yLen = scalar.data.byteLength, wOff = align(yOff + yLen + 64), xzOff = wOff + w.data.byteLength, wzOff = xzOff + 1;
    const xOff = wzOff + wz.data.byteLength, end = xOff + x.data.byteLength;
    for (const threads of [1, 3]) {
      const mem = new Uint8Array(new SharedArrayBuffer(end)).fill(0xa5);
      mem.set(bytes(x), xOff); mem.set(bytes(w), wOff); mem.set(bytes(xz), xzOff); mem.set(bytes(wz), wzOff);
      host!.convInteger!(mem, Float64Array.from([xOff, wOff, xzOff, wzOff, yOff, g.n, g.cg * g.group, g.h, g.w, g.mg * g.group, g.group, g.kh, g.kw, OH, OW,
        g.sh, g.sw, g.pads[0]!, g.pads[1]!, g.dh, g.dw, q.dx === 'int8' ? 1 : 0, q.dw8 === 'int8' ? 1 : 0, q.perChannel ? 1 : 0]), threads);
      assert.deepEqual(Buffer.from(mem.subarray(yOff, yOff + yLen)), bytes(scalar), `host (${threads} threads) vs scalar ${JSON.stringify(q)}`);
      assert.ok(mem.subarray(0, yOff).every((v) => v === 0xa5) && mem.subarray(yOff + yLen, wOff).every((v) => v === 0xa5), 'nothing written outside y');
    }
  }), { numRuns: 150 });
  assert.ok(ran > 50, `only ${ran} valid geometries`);
});

test('host ConvInteger: sums wrap modulo 2^32 like the scalar kernel', { skip: host?.convInteger ? false : 'no host ConvInteger kernel here' }, () => {
  // 1 × C × 1 × 1 input of 255 (zero point 0) against weights of 0 (zero point 255): C · 255 · (−255) wraps for large C
  const C = 40000;
  const x = hostTensor('uint8', [1, C, 1, 1], new Array(C).fill(255)), w = hostTensor('uint8', [1, C, 1, 1], new Array(C).fill(0));
  const xz = hostTensor('uint8', [], [0]), wz = hostTensor('uint8', [], [255]);
  const attrs = { group: 1, strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] };
  const scalar = runKernelOnce('ConvInteger', [x, w, xz, wz], attrs, false).outputs[0]!;
  assert.equal(scalar.data[0], (C * 255 * -255) | 0);
  const mem = new Uint8Array(new SharedArrayBuffer(64 + 64 + 2 * C + 2));
  const wOff = 128, xOff = wOff + C, xzOff = xOff + C;
  mem.set(bytes(w), wOff); mem.set(bytes(x), xOff); mem[xzOff] = 0; mem[xzOff + 1] = 255;
  host!.convInteger!(mem, Float64Array.from([xOff, wOff, xzOff, xzOff + 1, 64, 1, C, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0]), 1);
  assert.deepEqual(Buffer.from(mem.subarray(64, 68)), bytes(scalar));
});
