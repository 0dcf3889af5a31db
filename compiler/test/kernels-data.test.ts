/**
 * Data-movement kernels (compiler/kernels/data.ts): native (SIMD) form == scalar form == the IR's
 * bit-exact host evaluator, on random shapes (including empty axes), attributes, dtypes, values
 * (NaN, ±∞, ±0, subnormals, integer extremes) and indices (negative, out of range, duplicates).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Attrs, DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { getOp } from '../../converter/ir/op-registry.ts';
import { runKernelOnce, runKernelSplit } from '../kernel/harness.ts';
import { Rng } from './helpers/rng.ts';

// ---------------------------------------------------------------- random cases from a seed


const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -1.4e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.5, -2.5, 1];
const ALL: DType[] = ['float32', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool'];
const INT_EXTREMES: Record<string, (number | bigint)[]> = {
  int8: [-128, 127, -1, 0], uint8: [0, 255, 1], int16: [-32768, 32767, -1], int32: [-2147483648, 2147483647, -1, 0],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n], bool: [0, 1],
};

function value(g: Rng, d: DType): number | bigint {
  if (d === 'float32') {
    const u = g.next();
    if (u < 0.3) return g.pick(SPECIAL);
    if (u < 0.5) return g.int(-3, 3);
    return Math.fround((g.next() - 0.5) * 2 ** g.int(-140, 120));
  }
  if (g.bool(0.3)) return g.pick(INT_EXTREMES[d]!);
  switch (d) {
    case 'bool': return g.int(0, 1);
    case 'int8': return g.int(-128, 127);
    case 'uint8': return g.int(0, 255);
    case 'int16': return g.int(-32768, 32767);
    case 'int32': return g.int(-2147483648, 2147483647);
    default: return BigInt(g.int(-2147483648, 2147483647)) * BigInt(g.int(-5, 5)) + BigInt(g.int(-9, 9));
  }
}

function tensor(g: Rng, d: DType, shape: readonly number[], gen?: () => number | bigint): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (!gen && g.bool(0.3)) {
    // a pool of 2–3 values: ties, repeated NaN, ±0 only …
    const pool = Array.from({ length: g.int(2, 3) }, () => (d === 'float32' && g.bool(0.5) ? g.pick([NaN, -0, 0, Infinity, -Infinity]) : value(g, d)));
    return hostTensor(d, shape, Array.from({ length: n }, () => g.pick(pool)));
  }
  return hostTensor(d, shape, Array.from({ length: n }, () => (gen ? gen() : value(g, d))));
}

function shapeOf(g: Rng, rank: number, max = 5, zero = 0.08): number[] {
  // mostly small; now and then a longer axis, so that the native form's 4-lane loops and tails both run
  return Array.from({ length: rank }, () => (g.bool(zero) ? 0 : g.bool(0.15) ? g.int(6, 13) : g.int(1, max)));
}

/** Index values against dimension d: mostly valid (both signs), some out of range, some extreme. */
function indexTensor(g: Rng, dt: 'int32' | 'int64', shape: readonly number[], d: number): HostTensor {
  return tensor(g, dt, shape, () => {
    const u = g.next();
    let v: number | bigint;
    if (u < 0.75 && d > 0) v = g.int(-d, d - 1);
    else if (u < 0.9) v = g.int(-d - 3, d + 3);
    else v = g.pick(INT_EXTREMES[dt]!);
    return dt === 'int64' ? BigInt(v) : Number(v);
  });
}


function bits(t: HostTensor): string {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');
}

interface Case { inputs: HostTensor[]; attrs: Attrs }

/** native == scalar == fold, over `runs` random cases of `gen`. */
function check(op: string, gen: (g: Rng) => Case, runs = 60) {
  test(`${op}: native == scalar == host fold`, () => {
    const fold = getOp(op).fold!;
    assert.ok(fold, `${op} has a fold`);
    fc.assert(fc.property(fc.integer(), (seed) => {
      const { inputs, attrs } = gen(new Rng(seed));
      const scalar = runKernelOnce(op, inputs, attrs, false).outputs;
      const native = runKernelOnce(op, inputs, attrs, true).outputs;
      const want = fold(inputs, attrs);
      const split = runKernelSplit(op, inputs, attrs, seed >>> 0);
      const what = `${op} ${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ')} ${JSON.stringify(attrs)}`;
      want.forEach((w, i) => {
        assert.deepEqual([...scalar[i]!.shape], [...w.shape], `${what}: output ${i} shape`);
        assert.equal(bits(native[i]!), bits(scalar[i]!), `${what}: output ${i} native vs scalar`);
        if (split) assert.equal(bits(split[i]!), bits(scalar[i]!), `${what}: output ${i} split run vs scalar`);
        assert.equal(bits(scalar[i]!), bits(w), `${what}: output ${i} kernel vs fold`);
      });
    }), { numRuns: runs });
  });
}

// ---------------------------------------------------------------- cases

check('Concat', (g) => {
  const d = g.pick(ALL);
  const rank = g.int(1, 4);
  const base = shapeOf(g, rank, 4, 0.03);
  const axis = g.int(0, rank - 1);
  const n = g.int(1, 4);
  const inputs = Array.from({ length: n }, () => { const s = [...base]; s[axis] = g.bool(0.15) ? 0 : g.int(1, 5); return tensor(g, d, s); });
  return { inputs, attrs: { axis } };
});

check('Split', (g) => {
  const d = g.pick(ALL);
  const rank = g.int(1, 4);
  const s = shapeOf(g, rank, 6, 0.03);
  const axis = g.int(0, rank - 1);
  const splits: number[] = [];
  let left = s[axis]!;
  while (left > 0 || splits.length === 0) { const p = g.bool(0.15) ? 0 : g.int(1, left || 1); const q = Math.min(p, left); splits.push(q); left -= q; if (splits.length > 6) { splits.push(left); left = 0; } }
  return { inputs: [tensor(g, d, s)], attrs: { axis, splits } };
});

check('Slice', (g) => {
  const d = g.pick(ALL);
  const s = shapeOf(g, g.int(1, 4), 7);
  const starts: number[] = [], ends: number[] = [], steps: number[] = [];
  for (const n of s) {
    const step = g.pick([1, 1, 2, 3, -1, -1, -2, -3]);
    if (step > 0) { starts.push(g.int(0, n)); ends.push(g.int(0, n)); } else if (n === 0) { starts.push(-1); ends.push(-1); } else { starts.push(g.int(0, n - 1)); ends.push(g.int(-1, n - 1)); }
    steps.push(step);
  }
  return { inputs: [tensor(g, d, s)], attrs: { starts, ends, steps } };
});

check('Pad', (g) => {
  const d = g.pick(ALL);
  const mode = g.pick(['constant', 'reflect', 'edge', 'wrap']);
  const rank = g.int(0, 4);
  const s = shapeOf(g, rank, 5, mode === 'constant' ? 0.08 : 0);
  const begins: number[] = [], endsP: number[] = [];
  for (const n of s) {
    // mostly narrow pads; sometimes wider than the axis (repeated reflection / wrap); crops too
    const one = () => (g.bool(0.2) ? g.int(-n, 0) : g.bool(0.3) ? g.int(0, 2 * n + 3) : g.int(0, Math.max(0, n - 1)));
    let b = one(), e = one();
    if (n + b + e < 0) { b = 0; e = 0; }
    if (n === 0 && mode !== 'constant') { b = 0; e = 0; }
    begins.push(b); endsP.push(e);
  }
  return { inputs: [tensor(g, d, s), tensor(g, d, [])], attrs: { pads: [...begins, ...endsP], mode } };
});

check('Expand', (g) => {
  const d = g.pick(ALL);
  const out = shapeOf(g, g.int(0, 4), 4, 0.05);
  const drop = g.int(0, out.length);
  const xs = out.slice(drop).map((n) => (g.bool(0.4) ? 1 : n));
  return { inputs: [tensor(g, d, xs)], attrs: { shape: out } };
});

check('Tile', (g) => {
  const d = g.pick(ALL);
  const s = shapeOf(g, g.int(0, 4), 4, 0.05);
  return { inputs: [tensor(g, d, s)], attrs: { repeats: s.map(() => (g.bool(0.1) ? 0 : g.int(1, 3))) } };
});

check('Gather', (g) => {
  const d = g.pick(ALL);
  const s = shapeOf(g, g.int(1, 3), 5);
  const axis = g.int(0, s.length - 1);
  const is = shapeOf(g, g.int(0, 2), 4);
  return { inputs: [tensor(g, d, s), indexTensor(g, g.pick(['int32', 'int64'] as const), is, s[axis]!)], attrs: { axis } };
});

check('GatherElements', (g) => {
  const d = g.pick(ALL);
  const s = shapeOf(g, g.int(1, 4), 5);
  const axis = g.int(0, s.length - 1);
  const is = s.map((n, i) => (i === axis ? g.int(0, 5) : g.int(0, n)));
  return { inputs: [tensor(g, d, s), indexTensor(g, g.pick(['int32', 'int64'] as const), is, s[axis]!)], attrs: { axis } };
});

check('GatherND', (g) => {
  const d = g.pick(ALL);
  const r = g.int(1, 4);
  const s = shapeOf(g, r, 4, 0.04);
  const q = g.int(1, 3);
  const b = g.int(0, Math.min(r, q) - 1);
  const m = g.int(1, r - b);
  const is = [...s.slice(0, b), ...shapeOf(g, q - 1 - b, 3), m];
  const dt = g.pick(['int32', 'int64'] as const);
  // each index component is drawn against its own data dimension
  const n = is.reduce((a, c) => a * c, 1);
  const vals = Array.from({ length: n }, (_, f) => indexTensor(g, dt, [1], s[b + (f % m)]!).data[0]!);
  return { inputs: [tensor(g, d, s), hostTensor(dt, is, vals)], attrs: { batch_dims: b } };
});

const REDS = ['none', 'add', 'mul', 'max', 'min'];

check('ScatterElements', (g) => {
  const d = g.pick(ALL);
  const s = shapeOf(g, g.int(1, 4), 5, 0.04);
  const axis = g.int(0, s.length - 1);
  const is = s.map((n, i) => (i === axis ? g.int(0, 6) : g.int(0, n)));
  // small index range: many duplicate targets
  return {
    inputs: [tensor(g, d, s), indexTensor(g, g.pick(['int32', 'int64'] as const), is, s[axis]!), tensor(g, d, is)],
    attrs: { axis, reduction: g.pick(REDS) },
  };
}, 80);

check('ScatterND', (g) => {
  const d = g.pick(ALL);
  const r = g.int(1, 4);
  const s = shapeOf(g, r, 4, 0.04);
  const kk = g.int(1, r);
  const js = shapeOf(g, g.int(0, 2), 5, 0.05);
  const dt = g.pick(['int32', 'int64'] as const);
  const is = [...js, kk];
  const n = is.reduce((a, c) => a * c, 1);
  const vals = Array.from({ length: n }, (_, f) => indexTensor(g, dt, [1], s[f % kk]!).data[0]!);
  return {
    inputs: [tensor(g, d, s), hostTensor(dt, is, vals), tensor(g, d, [...js, ...s.slice(kk)])],
    attrs: { reduction: g.pick(REDS) },
  };
}, 80);

check('Trilu', (g) => {
  const d = g.pick(ALL);
  const s = shapeOf(g, g.int(2, 4), 6);
  const upper = g.int(0, 1);
  const kv = g.bool(0.15) ? g.pick([-(2 ** 40), 2 ** 40, -(2 ** 31), 2 ** 31]) : g.int(-7, 7);
  if (g.bool()) return { inputs: [tensor(g, d, s), hostTensor('int64', [], [g.bool(0.15) ? g.pick(INT_EXTREMES.int64!) : BigInt(kv)])], attrs: { upper, k: 0 } };
  return { inputs: [tensor(g, d, s)], attrs: { upper, k: kv } };
});

check('OneHot', (g) => {
  const it = g.pick(['float32', 'int8', 'uint8', 'int16', 'int32', 'int64'] as DType[]);
  const s = shapeOf(g, g.int(0, 3), 4);
  const depth = g.int(1, 6);
  const ind = tensor(g, it, s, () => {
    if (it === 'float32') return g.bool(0.2) ? g.pick(SPECIAL) : g.int(-depth - 2, depth + 2) + g.pick([0, 0, 0.5, -0.5, 0.99]);
    const v = g.bool(0.1) ? g.pick(INT_EXTREMES[it]!) : g.int(-depth - 2, depth + 2);
    return it === 'int64' ? BigInt(v) : it === 'uint8' ? ((Number(v) % 256) + 256) % 256 : Number(v);
  });
  const vd = g.pick(ALL);
  return { inputs: [ind, tensor(g, vd, [2])], attrs: { depth, axis: g.int(0, s.length) } };
});

check('ReverseSequence', (g) => {
  const d = g.pick(ALL);
  const s = shapeOf(g, g.int(2, 4), 5);
  const batch = g.int(0, 1);
  const time = 1 - batch;
  const dt = g.pick(['int32', 'int64'] as const);
  const lens = tensor(g, dt, [s[batch]!], () => { const v = g.bool(0.1) ? g.pick(INT_EXTREMES[dt]!) : g.int(-1, s[time]! + 2); return dt === 'int64' ? BigInt(v) : Number(v); });
  return { inputs: [tensor(g, d, s), lens], attrs: { batch_axis: batch, time_axis: time } };
});

test('contiguous copies are vectorised in the native form', () => {
  const x = hostTensor('float32', [3, 40], Array.from({ length: 120 }, (_, i) => i));
  const attrs = { starts: [0, 3], ends: [3, 39], steps: [1, 1] };
  const s = runKernelOnce('Slice', [x], attrs, false);
  const n = runKernelOnce('Slice', [x], attrs, true);
  assert.ok(n.wasmBytes > s.wasmBytes, 'native module carries a SIMD loop');
});
