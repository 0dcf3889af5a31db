/**
 * NN kernels: native (SIMD) == scalar == the IR's host fold, bit for bit, over random geometries
 * (groups, strides, dilations, asymmetric pads, ceil mode) and values with NaN, ±∞, ±0, subnormals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Attrs } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { getOp, IrError } from '../../converter/ir/op-registry.ts';
import { runKernelOnce, runKernelSplit } from '../kernel/harness.ts';
import { agree, hex } from './helpers/agree.ts';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -3e-39, 1e30, -1e30];
const val = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...SPECIAL) }, { weight: 12, arbitrary: fc.float({ min: -4, max: 4, noNaN: true }) });

function tensorArb(dims: number[]) {
  const n = dims.reduce((a, b) => a * b, 1);
  return fc.array(val, { minLength: n, maxLength: n }).map((v) => hostTensor('float32', dims, v));
}


test('MatMul: native == scalar == fold (batch broadcast, rank-1 operands)', () => {
  const geo = fc.record({ m: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 0, max: 7 }), n: fc.integer({ min: 1, max: 9 }), ba: fc.constantFrom([], [2], [1], [3, 1]), bb: fc.constantFrom([], [2], [1], [1, 2]), va: fc.boolean(), vb: fc.boolean() });
  fc.assert(fc.property(geo.chain((g) => {
    const da = g.va ? [g.k] : [...g.ba, g.m, g.k];
    const db = g.vb ? [g.k] : [...g.bb, g.k, g.n];
    return fc.tuple(tensorArb(da), tensorArb(db));
  }), ([a, b]) => { agree('MatMul', [a, b], {}); }), { numRuns: 40 });
});

test('MatMul, the native form\'s tiles (4 rows × 8 columns, 1 row × 16) and column panels: native == scalar == fold, whole and split', () => {
  const geo = fc.record({ m: fc.constantFrom(1, 3, 8, 12, 16), k: fc.integer({ min: 0, max: 12 }), n: fc.constantFrom(8, 16, 19, 24, 32, 48), ba: fc.constantFrom([], [2], [3, 1]), bb: fc.constantFrom([], [1], [1, 2]) });
  fc.assert(fc.property(geo.chain((g) => fc.tuple(tensorArb([...g.ba, g.m, g.k]), tensorArb([...g.bb, g.k, g.n]), fc.nat(1000))), ([a, b, cut]) => {
    if (!agree('MatMul', [a, b], {})) return;
    const whole = runKernelOnce('MatMul', [a, b], {}, true).outputs[0]!;
    const split = runKernelSplit('MatMul', [a, b], {}, cut);
    if (split) assert.equal(hex(split[0]!), hex(whole), 'MatMul split like the threaded executor');
  }), { numRuns: 40 });
});

test('MatMul over a packed B (panel-major, as the executor stores a constant B): native == scalar == fold, whole and split', () => {
  // 1 row (a decode step), rows in blocks of 4 and not, A with batch dims over a 2-D B, 2 … 4 panels of 16 columns
  const geo = fc.record({ m: fc.constantFrom(1, 2, 4, 5, 8, 16), k: fc.integer({ min: 0, max: 13 }), n: fc.constantFrom(32, 48, 64), ba: fc.constantFrom([], [2], [3, 1]) });
  fc.assert(fc.property(geo.chain((g) => fc.tuple(tensorArb([...g.ba, g.m, g.k]), tensorArb([g.k, g.n]), fc.nat(1000))), ([a, b, cut]) => {
    const scalar = runKernelOnce('MatMul', [a, b], {}, false).outputs[0]!;
    const packed = runKernelOnce('MatMul', [a, b], {}, true, true).outputs[0]!;
    assert.equal(hex(packed), hex(scalar), 'packed native vs scalar');
    assert.equal(hex(scalar), hex(getOp('MatMul').fold!([a, b], {})[0]!), 'scalar vs fold');
    const split = runKernelSplit('MatMul', [a, b], {}, cut, true);
    assert.ok(split, 'the packed form splits across threads by panels');
    assert.equal(hex(split[0]!), hex(scalar), 'packed native split like the threaded executor');
  }), { numRuns: 40 });
});

const convGeo = fc.record({
  n: fc.integer({ min: 1, max: 2 }), group: fc.constantFrom(1, 2), cg: fc.integer({ min: 1, max: 3 }), mg: fc.constantFrom(1, 2, 4),
  h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 9 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 3 }), dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
  pads: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }), bias: fc.boolean(),
});

test('Conv (2-D): native == scalar == fold over random geometries', () => {
  let ran = 0;
  fc.assert(fc.property(convGeo.chain((g) => fc.tuple(fc.constant(g),
    tensorArb([g.n, g.cg * g.group, g.h, g.w]), tensorArb([g.mg * g.group, g.cg, g.kh, g.kw]), tensorArb([g.mg * g.group]))), ([g, x, w, b]) => {
    if (agree('Conv', g.bias ? [x, w, b] : [x, w], { group: g.group, strides: [g.sh, g.sw], dilations: [g.dh, g.dw], pads: g.pads })) ran++;
  }), { numRuns: 60 });
  assert.ok(ran > 20, `only ${ran} valid geometries`);
});

test('Conv (1-D and 3-D): native == scalar == fold', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1 }), (len, kl, pad) => {
    const g1 = fc.sample(fc.tuple(tensorArb([1, 2, len]), tensorArb([4, 2, kl])), 1)[0]!;
    agree('Conv', g1, { group: 1, strides: [1], dilations: [1], pads: [pad, pad] });
    const g3 = fc.sample(fc.tuple(tensorArb([1, 1, 3, 3, len]), tensorArb([2, 1, 2, 1, kl])), 1)[0]!;
    agree('Conv', g3, { group: 1, strides: [1, 2, 1], dilations: [1, 1, 1], pads: [0, 1, pad, 1, 0, pad] });
  }), { numRuns: 10 });
});

const poolGeo = fc.record({
  h: fc.integer({ min: 1, max: 8 }), w: fc.integer({ min: 1, max: 9 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
  sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 2 }), dh: fc.integer({ min: 1, max: 2 }),
  pads: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 4, maxLength: 4 }), ceil: fc.integer({ min: 0, max: 1 }), cip: fc.integer({ min: 0, max: 1 }),
});

for (const op of ['MaxPool', 'AveragePool'] as const) {
  test(`${op}: native == scalar == fold (ceil mode, dilation, asymmetric pads${op === 'AveragePool' ? ', count_include_pad' : ''})`, () => {
    let ran = 0;
    fc.assert(fc.property(poolGeo.chain((g) => fc.tuple(fc.constant(g), tensorArb([1, 2, g.h, g.w]))), ([g, x]) => {
      const attrs: Record<string, number | number[]> = { kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], dilations: [g.dh, 1], pads: g.pads, ceil_mode: g.ceil };
      if (op === 'AveragePool') attrs.count_include_pad = g.cip;
      if (agree(op, [x], attrs)) ran++;
    }), { numRuns: 60 });
    assert.ok(ran > 15, `only ${ran} valid geometries`);
  });
}

test('MaxPool on int8 and uint8, including empty dilated windows', () => {
  for (const d of ['int8', 'uint8'] as const) {
    const x = hostTensor(d, [1, 1, 4, 5], Array.from({ length: 20 }, (_, i) => (d === 'int8' ? ((i * 37) % 256) - 128 : (i * 53) % 256)));
    assert.ok(agree('MaxPool', [x], { kernel_shape: [2, 3], strides: [1, 2], dilations: [1, 1], pads: [1, 1, 0, 1], ceil_mode: 0 }));
    // a dilated window that falls entirely between input positions gives the dtype's lowest value
    assert.ok(agree('MaxPool', [hostTensor(d, [1, 1, 1], [5])], { kernel_shape: [2], strides: [1], dilations: [2], pads: [1, 1], ceil_mode: 0 }));
  }
});

test('GlobalAveragePool, GlobalMaxPool, BatchNormalization: native == scalar == fold', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 11 }), (n, c, p) => {
    const [x] = fc.sample(tensorArb([n, c, p, 2]), 1);
    agree('GlobalAveragePool', [x!], {});
    agree('GlobalMaxPool', [x!], {});
    const ps = fc.sample(fc.tuple(tensorArb([c]), tensorArb([c]), tensorArb([c]), tensorArb([c])), 1)[0]!;
    agree('BatchNormalization', [x!, ...ps], { epsilon: Math.fround(1e-5) });
  }), { numRuns: 15 });
});
