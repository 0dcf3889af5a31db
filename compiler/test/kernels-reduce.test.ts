/**
 * Reduction kernels (compiler/kernels/reduce.ts): native (SIMD) form == scalar form bit for bit, and
 * == the IR's bit-exact host evaluator where the op has one; the exp/log ops (ReduceLogSum,
 * ReduceLogSumExp, Softmax, LogSoftmax) against a float64 reference of their spec at a tight tolerance.
 * Random shapes (including empty axes), axes, dtypes and values (NaN, ±∞, ±0, subnormals, ties,
 * integer extremes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Attrs, DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor, strides } from '../../converter/ir/host-tensor.ts';
import { getOp } from '../../converter/ir/op-registry.ts';
import { prepareKernel, runKernelOnce, runKernelSplit } from '../kernel/harness.ts';
import { Rng } from './helpers/rng.ts';


const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -1.4e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.5, -2.5, 1];
const POOL = [NaN, NaN, -0, 0, Infinity, -Infinity, 1, -1];
const INTS: DType[] = ['int8', 'uint8', 'int16', 'int32', 'int64'];
const NUMERIC: DType[] = ['float32', ...INTS];
const INT_EXTREMES: Record<string, (number | bigint)[]> = {
  int8: [-128, 127, -1, 0], uint8: [0, 255, 1], int16: [-32768, 32767, -1], int32: [-2147483648, 2147483647, -1, 0],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n],
};

/** special: probability of a special float (NaN, ±∞ …); the rest are ties-prone small ints or random. */
function value(g: Rng, d: DType, special = 0.2): number | bigint {
  if (d === 'float32') {
    const u = g.next();
    if (u < special) return g.pick(SPECIAL);
    if (u < special + 0.25) return g.int(-3, 3);
    return Math.fround((g.next() - 0.5) * 2 ** g.int(-30, 30));
  }
  if (g.bool(0.25)) return g.pick(INT_EXTREMES[d]!);
  switch (d) {
    case 'int8': return g.int(-128, 127);
    case 'uint8': return g.int(0, 255);
    case 'int16': return g.int(-32768, 32767);
    case 'int32': return g.int(-2147483648, 2147483647);
    default: return BigInt(g.int(-2147483648, 2147483647)) * BigInt(g.int(-5, 5)) + BigInt(g.int(-9, 9));
  }
}

/** Values of one tensor; in a third of the cases drawn from a pool of 2–3 values (ties, repeated NaN, ±0 only …). */
function tensor(g: Rng, d: DType, shape: readonly number[], special = 0.2): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (g.bool(0.35)) {
    const pool = Array.from({ length: g.int(2, 3) }, () => (d === 'float32' && g.bool(0.7) ? g.pick(POOL) : value(g, d, special)));
    return hostTensor(d, shape, Array.from({ length: n }, () => g.pick(pool)));
  }
  return hostTensor(d, shape, Array.from({ length: n }, () => value(g, d, special)));
}

function shapeOf(g: Rng, rank: number, max = 5, zero = 0.1): number[] {
  // mostly small; now and then a longer axis, so that the native form's 4-lane loops and tails both run
  return Array.from({ length: rank }, () => (g.bool(zero) ? 0 : g.bool(0.15) ? g.int(6, 13) : g.int(1, max)));
}


function bits(t: HostTensor): string {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');
}

interface Case { inputs: HostTensor[]; attrs: Attrs }

/** Reference for ops without a fold: expected values (float64 math) and a closeness check. */
type Reference = (c: Case) => number[];

function check(op: string, gen: (g: Rng) => Case, runs = 40, reference?: Reference) {
  const fold = getOp(op).fold;
  test(`${op}: native == scalar == ${fold ? 'host fold' : 'float64 reference'}`, () => {
    assert.ok(fold || reference, `${op} needs a fold or a reference`);
    fc.assert(fc.property(fc.integer(), (seed) => {
      const c = gen(new Rng(seed));
      const { inputs, attrs } = c;
      const scalar = runKernelOnce(op, inputs, attrs, false).outputs;
      const native = runKernelOnce(op, inputs, attrs, true).outputs;
      const what = `${op} ${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ')} ${JSON.stringify(attrs)}`;
      native.forEach((t, i) => assert.equal(bits(t), bits(scalar[i]!), `${what}: output ${i} native vs scalar`));
      runKernelSplit(op, inputs, attrs, seed >>> 0)?.forEach((t, i) => assert.equal(bits(t), bits(scalar[i]!), `${what}: output ${i} split run vs scalar`));
      if (fold) {
        fold(inputs, attrs).forEach((w, i) => {
          assert.deepEqual([...scalar[i]!.shape], [...w.shape], `${what}: output ${i} shape`);
          assert.equal(bits(scalar[i]!), bits(w), `${what}: output ${i} kernel vs fold`);
        });
      } else {
        const want = reference!(c);
        const got = scalar[0]!.data as Float32Array;
        assert.equal(got.length, want.length);
        for (let i = 0; i < want.length; i++) {
          const a = got[i]!, b = want[i]!;
          if (Number.isNaN(b)) { assert.ok(Number.isNaN(a), `${what}: element ${i}: ${a}, expected NaN`); continue; }
          if (!Number.isFinite(b) || b === 0) { assert.ok(a === b || Math.abs(a - b) <= 1e-30, `${what}: element ${i}: ${a}, expected ${b}`); continue; }
          assert.ok(Math.abs(a - b) <= 2e-6 * Math.max(1, Math.abs(b)), `${what}: element ${i}: ${a}, expected ${b}`);
        }
      }
    }), { numRuns: runs });
  });
}

// ---------------------------------------------------------------- slices of a reduction (for the references)

/** For each output element (row-major over the kept axes), the flat input indices of its reduced set in order. */
function reductionSets(shape: readonly number[], axes: readonly number[]): number[][] {
  const st = strides(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const all = (dims: readonly number[]): number[][] => {
    let acc: number[][] = [[]];
    for (const d of dims) acc = acc.flatMap((p) => Array.from({ length: d }, (_, v) => [...p, v]));
    return acc;
  };
  const redOffs = all(axes.map((a) => shape[a]!)).map((c) => c.reduce((s, v, j) => s + v * st[axes[j]!]!, 0));
  return all(kept.map((a) => shape[a]!)).map((c) => {
    const base = c.reduce((s, v, j) => s + v * st[kept[j]!]!, 0);
    return redOffs.map((o) => base + o);
  });
}

const fmax = (a: number, b: number) => (a !== a || b !== b ? NaN : Math.max(a, b));

// ---------------------------------------------------------------- Reduce*

function reduceCase(dtypes: readonly DType[], special = 0.2) {
  return (g: Rng): Case => {
    const d = g.bool(0.5) ? dtypes[0]! : g.pick(dtypes);
    const rank = g.int(1, 4);
    const s = shapeOf(g, rank);
    const axes = s.map((_, i) => i).filter(() => g.bool());
    if (axes.length === 0) axes.push(g.int(0, rank - 1));
    return { inputs: [tensor(g, d, s, special)], attrs: { axes, keepdims: g.int(0, 1) } };
  };
}

for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceSumSquare']) check(op, reduceCase(NUMERIC), 30);
check('ReduceL2', reduceCase(['float32']), 30);

check('ReduceLogSum', reduceCase(['float32'], 0.05), 30, ({ inputs: [x], attrs }) => {
  const v = x!.data as Float32Array;
  return reductionSets(x!.shape, attrs.axes as number[]).map((set) => {
    let acc = 0;
    for (const i of set) acc = Math.fround(acc + v[i]!);
    return Math.log(acc);
  });
});

check('ReduceLogSumExp', reduceCase(['float32'], 0.1), 30, ({ inputs: [x], attrs }) => {
  const v = x!.data as Float32Array;
  return reductionSets(x!.shape, attrs.axes as number[]).map((set) => {
    let m = -Infinity;
    for (const i of set) m = fmax(m, v[i]!);
    if (!Number.isFinite(m)) return m;
    let acc = 0;
    for (const i of set) acc += Math.exp(Math.fround(v[i]! - m));
    return m + Math.log(acc);
  });
});

// ---------------------------------------------------------------- single-axis ops

function axisCase(dtypes: readonly DType[], extra: (g: Rng, s: number[], axis: number) => Attrs, minDim = 0, special = 0.2) {
  return (g: Rng): Case => {
    const d = g.bool(0.5) ? dtypes[0]! : g.pick(dtypes);
    const s = shapeOf(g, g.int(1, 4), 6, minDim ? 0 : 0.05);
    const axis = g.int(0, s.length - 1);
    if (s[axis]! < minDim) s[axis] = minDim;
    return { inputs: [tensor(g, d, s, special)], attrs: { axis, ...extra(g, s, axis) } };
  };
}

for (const op of ['ArgMax', 'ArgMin']) check(op, axisCase(NUMERIC, (g) => ({ keepdims: g.int(0, 1), select_last_index: g.int(0, 1) }), 1), 40);
check('Hardmax', axisCase(['float32'], () => ({})), 40);
check('CumSum', axisCase(NUMERIC, (g) => ({ exclusive: g.int(0, 1), reverse: g.int(0, 1) })), 40);
check('TopK', axisCase(NUMERIC, (g, s, axis) => ({ k: g.int(0, s[axis]!), largest: g.int(0, 1) })), 50);

/** Per slice along `axis`: flat indices in order. */
function axisSlices(shape: readonly number[], axis: number): number[][] {
  return reductionSets(shape, [axis]);
}

check('Softmax', axisCase(['float32'], () => ({}), 0, 0.05), 40, ({ inputs: [x], attrs }) => {
  const v = x!.data as Float32Array;
  const out = new Array<number>(v.length).fill(0);
  for (const set of axisSlices(x!.shape, attrs.axis as number)) {
    let m = -Infinity;
    for (const i of set) m = fmax(m, v[i]!);
    const e = set.map((i) => Math.exp(Math.fround(v[i]! - m)));
    const s = e.reduce((a, b) => a + b, 0);
    set.forEach((i, j) => { out[i] = e[j]! / s; });
  }
  return out;
});

check('LogSoftmax', axisCase(['float32'], () => ({}), 0, 0.05), 40, ({ inputs: [x], attrs }) => {
  const v = x!.data as Float32Array;
  const out = new Array<number>(v.length).fill(0);
  for (const set of axisSlices(x!.shape, attrs.axis as number)) {
    let m = -Infinity;
    for (const i of set) m = fmax(m, v[i]!);
    let s = 0;
    for (const i of set) s += Math.exp(Math.fround(v[i]! - m));
    const ls = Math.log(s);
    for (const i of set) out[i] = Math.fround(v[i]! - m) - ls;
  }
  return out;
});

test('a reduction over a leading axis is vectorised in the native form', () => {
  const x = hostTensor('float32', [5, 33], Array.from({ length: 165 }, (_, i) => i - 80));
  const attrs = { axes: [0], keepdims: 0 };
  const s = runKernelOnce('ReduceSum', [x], attrs, false);
  const n = runKernelOnce('ReduceSum', [x], attrs, true);
  assert.ok(n.wasmBytes > s.wasmBytes, 'native module carries a SIMD loop');
  assert.equal(bits(n.outputs[0]!), bits(s.outputs[0]!));
});

test('Softmax over a contiguous axis runs its exponentials vectorised', () => {
  const x = hostTensor('float32', [3, 37], Array.from({ length: 111 }, (_, i) => (i % 7) - 3));
  for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
    const s = runKernelOnce(op, [x], { axis: 1 }, false);
    const n = runKernelOnce(op, [x], { axis: 1 }, true);
    assert.ok(n.wasmBytes > s.wasmBytes, `${op}: native module carries a SIMD loop`);
    assert.equal(bits(n.outputs[0]!), bits(s.outputs[0]!));
  }
});

test('Softmax over contiguous rows, native form with 2 or 4 rows per iteration (Kernel.native): native == scalar, split runs too', () => {
  fc.assert(fc.property(fc.integer(), fc.constantFrom(4, 6, 8, 10, 12, 16, 20), fc.integer({ min: 1, max: 40 }), fc.boolean(), (seed, outer, d, rank4) => {
    const g = new Rng(seed);
    const shape = rank4 && outer % 2 === 0 ? [1, 2, outer / 2, d] : [outer, d];
    const x = tensor(g, 'float32', shape, 0.3);
    const v = x.data as Float32Array;
    // now and then a causal-mask pattern (−∞ above the diagonal), a row of −∞ only, a row with NaN, subnormals
    if (g.bool(0.5)) for (let r = 0; r < outer; r++) for (let j = 0; j < d; j++) if (j > r % d) v[r * d + j] = -Infinity;
    if (g.bool(0.3)) v.fill(-Infinity, 0, d);
    if (g.bool(0.3)) v[g.int(0, v.length - 1)] = NaN;
    if (g.bool(0.3)) v[g.int(0, v.length - 1)] = g.pick([1.4e-45, -1.4e-45, 1.1754942e-38, -0, 0, Infinity]);
    const attrs = { axis: shape.length - 1 };
    const scalar = runKernelOnce('Softmax', [x], attrs, false).outputs[0]!;
    const native = runKernelOnce('Softmax', [x], attrs, true).outputs[0]!;
    assert.equal(bits(native), bits(scalar), `Softmax [${shape}] native vs scalar`);
    runKernelSplit('Softmax', [x], attrs, seed >>> 0)?.forEach((t) => assert.equal(bits(t), bits(scalar), `Softmax [${shape}] split run vs scalar`));
  }), { numRuns: 80 });
  const { k } = prepareKernel('Softmax', [hostTensor('float32', [8, 5], new Array(40).fill(0))], { axis: 1 });
  assert.ok(k.native, 'Softmax over rows has a native body');
});
