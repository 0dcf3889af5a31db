import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder } from '../ir/builder.ts';
import { hostTensor, CANONICAL_NAN_BITS } from '../ir/host-tensor.ts';
import { shape } from '../ir/types.ts';
import type { Graph, TensorId } from '../ir/types.ts';
import { encodeGraph, modelHash } from '../ir/encoding.ts';
import { keccak256, toHex } from '../ir/keccak.ts';
import { IrError } from '../ir/op-registry.ts';

function hashes(g: Graph): Map<TensorId, Uint8Array> {
  return new Map([...g.constants].map(([id, c]) => [id, keccak256(c.read())]));
}

test('keccak256 is the EVM keccak (not SHA3-256)', () => {
  assert.equal(toHex(keccak256(new Uint8Array())), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  assert.equal(toHex(keccak256(new TextEncoder().encode('abc'))), '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
});

test('emit infers shapes and folds constant subgraphs', () => {
  const b = new GraphBuilder();
  const x = b.addInput('x', { dtype: 'float32', shape: shape([2, 3]) });
  const c = b.addConstant('c', hostTensor('float32', [3], [1, 2, 3]));
  const d = b.addConstant('d', hostTensor('float32', [3], [0.5, 0.25, 0.125]));
  const cd = b.emit1('Mul', [c, d], {});
  assert.ok(b.isConstant(cd), 'Mul of two constants folds');
  assert.deepEqual([...b.constValue(cd)!.data], [0.5, 0.5, 0.375]);
  const y = b.emit1('Add', [x, cd], {});
  assert.ok(!b.isConstant(y));
  assert.deepEqual([...b.typeOf(y).shape], [2, 3]);
  b.setOutputs([y]);
  const g = b.build();
  assert.equal(g.nodes.length, 1);
  assert.equal(g.nodes[0]!.op, 'Add');
  // canonical order: inputs, constants by first use, node outputs
  assert.deepEqual(g.tensors.map((t) => t.origin), ['input', 'constant', 'node']);
  assert.equal(g.constants.size, 1, 'unused constants are dropped');
});

test('folding rounds float32 once per operation and wraps integers', () => {
  const b = new GraphBuilder();
  const a = b.addConstant('a', hostTensor('float32', [1], [16777216]));
  const one = b.addConstant('one', hostTensor('float32', [1], [1]));
  assert.equal(b.constValue(b.emit1('Add', [a, one], {}))!.data[0], 16777216, '2^24 + 1 rounds to even in float32');
  const i = b.addConstant('i', hostTensor('int32', [1], [2147483647]));
  const j = b.addConstant('j', hostTensor('int32', [1], [1]));
  assert.equal(b.constValue(b.emit1('Add', [i, j], {}))!.data[0], -2147483648, 'int32 wraps');
  const m = b.addConstant('m', hostTensor('int32', [1], [-2147483648]));
  const n1 = b.addConstant('n1', hostTensor('int32', [1], [-1]));
  assert.equal(b.constValue(b.emit1('Div', [m, n1], {}))!.data[0], -2147483648, 'MIN / -1 wraps, no trap');
  const z = b.addConstant('z', hostTensor('int32', [1], [0]));
  assert.equal(b.constValue(b.emit1('Div', [j, z], {}))!.data[0], 0, 'x / 0 is 0 for integers');
});

test('NaN payloads become the canonical quiet NaN in constants and folds', () => {
  const b = new GraphBuilder();
  const raw = new Float32Array(2);
  new Uint32Array(raw.buffer).set([0xffc00001, 0x7f800001]);
  const c = b.addConstant('c', hostTensor('float32', [2], raw));
  const bits = new Uint32Array(b.constValue(c)!.data.buffer, 0, 2);
  assert.deepEqual([...bits], [CANONICAL_NAN_BITS, CANONICAL_NAN_BITS]);
  const s = b.emit1('Sqrt', [b.addConstant('m', hostTensor('float32', [1], [-1]))], {});
  assert.equal(new Uint32Array(b.constValue(s)!.data.buffer)[0], CANONICAL_NAN_BITS);
});

test('lazy constants are canonicalised on read', () => {
  const b = new GraphBuilder();
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, 0xfff00000, true);
  const c = b.addLazyConstant('w', { dtype: 'float32', shape: shape([1]) }, { byteLength: 4, read: () => bytes.slice() });
  assert.equal(new Uint32Array(b.constValue(c)!.data.buffer)[0], CANONICAL_NAN_BITS);
  assert.throws(() => b.addLazyConstant('bad', { dtype: 'float32', shape: shape([2]) }, { byteLength: 4, read: () => bytes }), /expected 8/);
});

test('emit errors name the node, op and input types', () => {
  const b = new GraphBuilder();
  const x = b.addInput('x', { dtype: 'float32', shape: shape([2, 3]) });
  const y = b.addInput('y', { dtype: 'float32', shape: shape([4]) });
  assert.throws(() => b.emit('Add', [x, y], {}, { name: 'add1' }), (e: unknown) => e instanceof IrError && /Add node 'add1'.*float32\[2x3\].*do not broadcast/.test(e.message));
  assert.throws(() => b.emit('Add', [x], {}), /takes 2 inputs, got 1/);
  assert.throws(() => b.emit('LeakyRelu', [x], {}), /attribute 'alpha' missing/);
  assert.throws(() => b.emit('LeakyRelu', [x], { alpha: 0.1 }), /must be float/, 'floats must be float32 values');
  assert.throws(() => b.emit('Relu', [x], { extra: 1 }), /unknown attribute 'extra'/);
  assert.throws(() => b.emit('NoSuchOp', [x], {}), /unknown IR op NoSuchOp/);
});

test('dead nodes are removed', () => {
  const b = new GraphBuilder();
  const x = b.addInput('x', { dtype: 'float32', shape: shape([3]) });
  b.emit1('Relu', [x], {});
  const y = b.emit1('Neg', [x], {});
  b.setOutputs([y]);
  const g = b.build();
  assert.deepEqual(g.nodes.map((n) => n.op), ['Neg']);
});

// ---------------------------------------------------------------- model hash

interface Spec { names: string[]; alpha: number; dims: number[]; w: number[]; op: 'Add' | 'Sub' }

function buildFrom(s: Spec): Graph {
  const b = new GraphBuilder();
  const x = b.addInput(s.names[0]!, { dtype: 'float32', shape: shape(s.dims) });
  const w = b.addConstant(s.names[1]!, hostTensor('float32', [s.dims.at(-1)!], s.w.slice(0, s.dims.at(-1)!)));
  const a = b.emit1(s.op, [x, w], {}, { name: s.names[2] });
  const y = b.emit1('LeakyRelu', [a], { alpha: s.alpha }, { name: s.names[3] });
  b.setOutputs([y]);
  return b.build();
}

const specArb = fc.record({
  names: fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 4, maxLength: 4 }),
  alpha: fc.float({ noNaN: true, min: Math.fround(-2), max: Math.fround(2) }),
  dims: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
  w: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 4, maxLength: 4 }),
  op: fc.constantFrom('Add' as const, 'Sub' as const),
});

test('model hash ignores names and changes with anything that affects results (property)', () => {
  fc.assert(
    fc.property(specArb, fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 4, maxLength: 4 }), fc.nat(3), (s, otherNames, which) => {
      const g = buildFrom(s);
      const h = toHex(modelHash(g, hashes(g)));
      const renamed = buildFrom({ ...s, names: otherNames });
      assert.equal(toHex(modelHash(renamed, hashes(renamed))), h, 'names do not count');
      const variants: Spec[] = [
        { ...s, alpha: Math.fround(s.alpha + 0.5) },
        { ...s, dims: [...s.dims.slice(0, -1), s.dims.at(-1)! === 4 ? 3 : s.dims.at(-1)! + 1] },
        { ...s, w: s.w.map((v, i) => (i === 0 ? Math.fround(v === 0 ? 1 : -v * 2 + 1) : v)) },
        { ...s, op: s.op === 'Add' ? 'Sub' : 'Add' },
      ];
      const v = buildFrom(variants[which]!);
      assert.notEqual(toHex(modelHash(v, hashes(v))), h, `variant ${which} must change the hash`);
    }),
    { numRuns: 60 },
  );
});

test('encoding is deterministic and starts with the magic', () => {
  const s: Spec = { names: ['x', 'w', 'a', 'y'], alpha: Math.fround(0.1), dims: [2, 2], w: [1, 2, 3, 4], op: 'Add' };
  const g1 = buildFrom(s);
  const g2 = buildFrom(s);
  const e1 = encodeGraph(g1, hashes(g1));
  assert.deepEqual(e1, encodeGraph(g2, hashes(g2)));
  assert.equal(new TextDecoder().decode(e1.subarray(0, 6)), 'OPMLIR');
});

test('streamed keccak256 equals one-shot, and streams interleave with one-shot calls', async () => {
  const { keccakStream } = await import('../ir/keccak.ts');
  const data = new Uint8Array(100_003).map((_, i) => (i * 31 + 7) & 0xff);
  const a = keccakStream(), b = keccakStream();
  for (let o = 0; o < data.length; o += 4096) {
    a.update(data.subarray(o, Math.min(o + 4096, data.length)));
    keccak256(new Uint8Array([1, 2, 3]));
    b.update(data.subarray(o, Math.min(o + 4096, data.length)));
  }
  assert.equal(toHex(a.digest()), toHex(keccak256(data)));
  assert.equal(toHex(b.digest()), toHex(keccak256(data)));
});

test('int64 → float32 casts round once (no double rounding through float64)', async () => {
  const { castScalar } = await import('../ir/ops/elementwise.ts');
  assert.equal(castScalar(2n ** 60n + 2n ** 36n + 1n, 'int64', 'float32'), 2 ** 60 + 2 ** 37);
  assert.equal(castScalar(-(2n ** 60n + 2n ** 36n + 1n), 'int64', 'float32'), -(2 ** 60 + 2 ** 37));
  assert.equal(castScalar(2n ** 60n + 2n ** 36n, 'int64', 'float32'), 2 ** 60, 'exact tie rounds to even');
  assert.equal(castScalar(-(2n ** 63n), 'int64', 'float32'), -(2 ** 63));
  assert.equal(castScalar(16777217n, 'int64', 'float32'), 16777216);
});
