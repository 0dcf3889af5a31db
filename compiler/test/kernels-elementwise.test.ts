/**
 * Every elementwise kernel, native (SIMD) form == scalar form == the IR's bit-exact host evaluator,
 * on random shapes with broadcasting and random values including NaN, ±∞, ±0 and subnormals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { getOp } from '../../converter/ir/op-registry.ts';
import { runKernelOnce } from '../kernel/harness.ts';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -1.4e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.5, -0.5, 1.5, 2.5, -2.5];

function bits(t: HostTensor): string {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');
}

const floatArb = fc.oneof(fc.constantFrom(...SPECIAL), fc.float(), fc.float({ min: -10, max: 10, noNaN: true }));
function valuesArb(d: DType, n: number) {
  switch (d) {
    case 'float32': return fc.array(floatArb, { minLength: n, maxLength: n });
    case 'bool': return fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n });
    case 'int8': return fc.array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n });
    case 'uint8': return fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n });
    case 'int16': return fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: n, maxLength: n });
    case 'int32': return fc.array(fc.oneof(fc.constantFrom(-2147483648, -1, 0, 1, 2147483647), fc.integer()), { minLength: n, maxLength: n });
    case 'int64': return fc.array(fc.oneof(fc.constantFrom(-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), { minLength: n, maxLength: n });
    default: throw new Error(`no values for ${d}`);
  }
}

/** A shape and a broadcast-compatible second shape (some axes set to 1 or dropped). */
const shapesArb = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 3 }).chain((s) =>
  fc.tuple(fc.constant(s), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.nat(s.length)).map(([a, ones, drop]) => [a, a.map((d, i) => (ones[i] ? 1 : d)).slice(drop)] as const));

function check(op: string, dtypes: readonly DType[], arity: number, attrs: Record<string, number> = {}, out?: (d: DType) => DType) {
  test(`${op}: native == scalar${getOp(op).fold ? ' == host fold' : ''}`, () => {
    fc.assert(fc.property(fc.constantFrom(...dtypes), shapesArb, fc.boolean(), (d, [sa, sb], swap) => {
      const shapes = arity === 1 ? [sa] : arity === 2 ? (swap ? [sb, sa] : [sa, sb]) : [sb, sa, sb];
      const types = arity === 3 ? ['bool' as DType, d, d] : new Array(arity).fill(d);
      return fc.assert(fc.property(fc.tuple(...shapes.map((s, i) => valuesArb(types[i]!, s.reduce((x, y) => x * y, 1)))), (vals) => {
        const ins = shapes.map((s, i) => hostTensor(types[i]!, s, vals[i] as (number | bigint)[]));
        const scalar = runKernelOnce(op, ins, attrs, false).outputs[0]!;
        const native = runKernelOnce(op, ins, attrs, true).outputs[0]!;
        assert.equal(bits(native), bits(scalar), `${op} ${d} native vs scalar`);
        const fold = getOp(op).fold;
        if (fold) assert.equal(bits(scalar), bits(fold(ins, attrs)[0]!), `${op} ${d} kernel vs host fold`);
        if (out) assert.equal(scalar.dtype, out(d));
      }), { numRuns: 3 });
    }), { numRuns: 12 });
  });
}

const NUM: DType[] = ['float32', 'int8', 'uint8', 'int16', 'int32'];
for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min']) check(op, [...NUM, 'int64'], 2);
for (const op of ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual']) check(op, NUM, 2, {}, () => 'bool');
for (const op of ['And', 'Or', 'Xor']) check(op, ['bool'], 2);
check('PRelu', ['float32', 'int8', 'int32'], 2);
check('Where', ['float32', 'int32', 'uint8'], 3);
for (const op of ['Sqrt', 'Floor', 'Ceil', 'Round', 'Reciprocal']) check(op, ['float32'], 1);
for (const op of ['Neg', 'Relu']) check(op, ['float32', 'int8', 'int16', 'int32'], 1);
check('Abs', NUM, 1);
check('Sign', NUM, 1);
check('Not', ['bool'], 1);
check('IsNaN', ['float32'], 1);
check('LeakyRelu', ['float32'], 1, { alpha: Math.fround(0.1) });

test('the native form of a float kernel really is vectorised, and all forms write canonical NaNs', () => {
  const x = hostTensor('float32', [37], Array.from({ length: 37 }, (_, i) => (i % 5 === 0 ? NaN : i - 18)));
  const s = runKernelOnce('Sqrt', [x], {}, false);
  const n = runKernelOnce('Sqrt', [x], {}, true);
  assert.ok(n.wasmBytes > s.wasmBytes, 'native module carries a SIMD loop');
  const u = new Uint32Array(n.outputs[0]!.data.buffer);
  for (let i = 0; i < 37; i++) if (i % 5 === 0 || i < 18) assert.equal(u[i], 0x7fc00000, `element ${i}`);
});

test('Clip with scalar bounds: native == scalar == host fold', () => {
  fc.assert(fc.property(fc.constantFrom<DType>('float32', 'int8', 'uint8', 'int32'), shapesArb, (d, [s]) => {
    const n = s.reduce((a, b) => a * b, 1);
    return fc.assert(fc.property(valuesArb(d, n), valuesArb(d, 2), (vals, [lo, hi]) => {
      const ins = [hostTensor(d, s, vals as (number | bigint)[]), hostTensor(d, [], [lo!]), hostTensor(d, [], [hi!])];
      const scalar = runKernelOnce('Clip', ins, {}, false).outputs[0]!;
      assert.equal(bits(runKernelOnce('Clip', ins, {}, true).outputs[0]!), bits(scalar));
      assert.equal(bits(scalar), bits(getOp('Clip').fold!(ins, {})[0]!));
    }), { numRuns: 3 });
  }), { numRuns: 12 });
});

test('Reshape and Transpose: native == scalar == host fold, every dtype', () => {
  fc.assert(fc.property(fc.constantFrom<DType>('float32', 'int8', 'int16', 'int64', 'bool'), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), fc.nat(), (d, s, seed) => {
    const n = s.reduce((a, b) => a * b, 1);
    const [vals] = fc.sample(valuesArb(d, n) as fc.Arbitrary<(number | bigint)[]>, { numRuns: 1, seed });
    const x = hostTensor(d, s, vals as (number | bigint)[]);
    const perm = [...s.keys()].sort((a, b) => ((a * 7 + seed) % 5) - ((b * 7 + seed) % 5) || a - b);
    for (const [op, attrs] of [['Reshape', { shape: [n] }], ['Transpose', { perm }]] as const) {
      const scalar = runKernelOnce(op, [x], attrs, false).outputs[0]!;
      assert.equal(bits(runKernelOnce(op, [x], attrs, true).outputs[0]!), bits(scalar), `${op} native vs scalar`);
      assert.equal(bits(scalar), bits(getOp(op).fold!([x], attrs)[0]!), `${op} kernel vs fold`);
    }
  }), { numRuns: 30 });
});
