/**
 * Extra NN kernels (compiler/kernels/nn-extra.ts): native (SIMD) == scalar, and == the IR's host fold
 * bit for bit where the op has one (ConvTranspose, MaxPoolWithIndices, Resize, the normalisations);
 * LpPool and LRN (pow, never folded) against a reference written here from the spec: exact where the
 * spec uses only rounded + − × ÷ sqrt, else a tight relative tolerance. Random geometries, attributes
 * and values with NaN, ±∞, ±0, subnormals and integer extremes, from fixed seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attrs, DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { getOp, IrError } from '../../converter/ir/op-registry.ts';
import { RESIZE_COORD_MODES, RESIZE_NEAREST_MODES } from '../../converter/ir/ops/nn.ts';
import { runKernelOnce, runKernelSplit } from '../kernel/harness.ts';
import { Rng } from './helpers/rng.ts';

const f32 = Math.fround;
/** Longer / different runs: OPML_TEST_SCALE multiplies the iteration counts, OPML_TEST_SEED shifts the seeds. */
const SCALE = Number(process.env.OPML_TEST_SCALE ?? 1);
const SEED = Number(process.env.OPML_TEST_SEED ?? 0);


const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1.4e-45, -1.4e-45, -3e-39, 1e30, -1e30, 3.4028235e38];
const INT_EXTREMES: Record<string, (number | bigint)[]> = {
  int8: [-128, 127, -1, 0], uint8: [0, 255, 1], int16: [-32768, 32767, -1], int32: [-2147483648, 2147483647, -1, 0],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n], bool: [0, 1],
};

/** A float value: specials (rate `sp`), small integers (ties and duplicates), or random magnitudes. */
function fval(g: Rng, sp = 0.08): number {
  const u = g.next();
  if (u < sp) return g.pick(SPECIAL);
  if (u < sp + 0.15) return g.int(-3, 3);
  return f32((g.next() - 0.5) * 8);
}

function value(g: Rng, d: DType): number | bigint {
  if (d === 'float32') return fval(g);
  if (g.bool(0.3)) return g.pick(INT_EXTREMES[d]!);
  switch (d) {
    case 'bool': return g.int(0, 1);
    case 'int8': return g.int(-128, 127);
    case 'uint8': return g.int(0, 255);
    case 'int16': return g.int(-32768, 32767);
    case 'int32': return g.int(-2147483648, 2147483647);
    default: return BigInt(g.int(-2147483648, 2147483647)) * BigInt(g.int(-5, 5));
  }
}

function tensor(g: Rng, dims: number[], d: DType = 'float32', sp?: number): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return hostTensor(d, dims, Array.from({ length: n }, () => (d === 'float32' && sp !== undefined ? fval(g, sp) : value(g, d))));
}

const hex = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

function valid(op: string, ins: HostTensor[], attrs: Attrs): boolean {
  try {
    getOp(op).infer(ins, attrs);
    return true;
  } catch (e) {
    if (e instanceof IrError) return false;
    throw e;
  }
}


let calls = 0;

/** Native == scalar (and, every third call, == the native kernel split in chunks); returns the scalar outputs. */
function both(op: string, ins: HostTensor[], attrs: Attrs): HostTensor[] {
  const s = runKernelOnce(op, ins, attrs, false).outputs;
  const n = runKernelOnce(op, ins, attrs, true).outputs;
  s.forEach((t, i) => assert.equal(hex(n[i]!), hex(t), `${op} native vs scalar, output ${i} ${JSON.stringify(attrs)}`));
  if (calls++ % 3 === 0) {
    const sp = runKernelSplit(op, ins, attrs, calls);
    sp?.forEach((t, i) => assert.equal(hex(t), hex(s[i]!), `${op} split native vs scalar, output ${i} ${JSON.stringify(attrs)}`));
  }
  return s;
}

/** Native == scalar == fold; false when the IR rejects the case. */
function agree(op: string, ins: HostTensor[], attrs: Attrs): boolean {
  if (!valid(op, ins, attrs)) return false;
  const s = both(op, ins, attrs);
  const f = getOp(op).fold!(ins, attrs);
  assert.equal(s.length, f.length);
  s.forEach((t, i) => {
    if (hex(t) !== hex(f[i]!)) {
      const a = Array.from(t.data as ArrayLike<number>), b = Array.from(f[i]!.data as ArrayLike<number>);
      const at = a.findIndex((v, j) => !Object.is(v, b[j]));
      assert.fail(`${op} kernel vs fold, output ${i}, element ${at}: ${a[at]} vs ${b[at]}; attrs ${JSON.stringify(attrs)} shape [${ins[0]!.shape.join(',')}]`);
    }
  });
  return true;
}

test('ConvTranspose: native == scalar == fold (1-3 spatial axes, groups, strides, dilations, pads, output_padding, bias)', () => {
  const g = new Rng(11 + SEED);
  let ran = 0;
  for (let it = 0; it < 55 * SCALE; it++) {
    const S = g.pick([1, 2, 2, 2, 3]);
    const G = g.pick([1, 1, 2]);
    const cg = g.int(1, 3), mg = g.pick([1, 2, 3, 4, 4, 8]);
    const D = Array.from({ length: S }, () => g.int(1, S === 3 ? 3 : 6));
    const kern = Array.from({ length: S }, () => g.int(1, 3));
    const st = Array.from({ length: S }, () => g.int(1, 3));
    const di = Array.from({ length: S }, () => g.int(1, 2));
    const pads = Array.from({ length: 2 * S }, () => g.int(0, 2));
    const op = st.map((s) => g.int(0, s - 1));
    const x = tensor(g, [g.int(1, 2), cg * G, ...D]);
    const w = tensor(g, [cg * G, mg, ...kern]);
    const b = tensor(g, [mg * G]);
    if (agree('ConvTranspose', g.bool() ? [x, w, b] : [x, w], { group: G, strides: st, dilations: di, pads, output_padding: op })) ran++;
  }
  assert.ok(ran > 30 * SCALE, `only ${ran} valid geometries`);
});

test('MaxPoolWithIndices: native == scalar == fold (float and int8/uint8, storage_order, ceil mode, ties and ±0)', () => {
  const g = new Rng(22 + SEED);
  let ran = 0;
  for (let it = 0; it < 100 * SCALE; it++) {
    const S = g.pick([1, 2, 2, 3]);
    const d = g.pick(['float32', 'float32', 'int8', 'uint8'] as DType[]);
    const D = Array.from({ length: S }, () => g.int(1, S === 3 ? 4 : 7));
    const kern = Array.from({ length: S }, () => g.int(1, 3));
    const pads = [...kern, ...kern].map((kk) => g.int(0, Math.min(1, kk - 1)));
    const attrs = {
      kernel_shape: kern, strides: kern.map(() => g.int(1, 3)), dilations: kern.map(() => g.int(1, 2)), pads,
      ceil_mode: g.int(0, 1), storage_order: g.int(0, 1),
    };
    // few distinct values: many ties (the first maximum in scan order wins)
    const n = 2 * 3 * D.reduce((a, b) => a * b, 1);
    const pool = d === 'float32' ? [0, -0, 1, -1, NaN, Infinity, -Infinity, 2.5] : d === 'int8' ? [-128, 127, 0, 3] : [0, 255, 7];
    const x = hostTensor(d, [2, 3, ...D], Array.from({ length: n }, () => (g.bool(0.5) ? g.pick(pool) : Number(value(g, d)))));
    if (agree('MaxPoolWithIndices', [x], attrs)) ran++;
  }
  assert.ok(ran > 40 * SCALE, `only ${ran} valid geometries`);
});

/** LpPool reference from the spec (p = 1, 2 exact; other p with the host pow, for a tolerance check). */
function lpPoolRef(x: HostTensor, attrs: Record<string, number | number[]>, outShape: readonly number[]): Float32Array {
  const [N, C, H, W] = x.shape as unknown as number[];
  const [OH, OW] = outShape.slice(2) as number[];
  const [kh, kw] = attrs.kernel_shape as number[], [sh, sw] = attrs.strides as number[], [dh, dw] = attrs.dilations as number[];
  const pads = attrs.pads as number[];
  const p = attrs.p as number;
  const X = x.data as Float32Array;
  const y = new Float32Array(N! * C! * OH! * OW!);
  let f = 0;
  for (let nc = 0; nc < N! * C!; nc++) {
    for (let oh = 0; oh < OH!; oh++) {
      for (let ow = 0; ow < OW!; ow++) {
        let s = 0;
        for (let i = 0; i < kh!; i++) {
          for (let j = 0; j < kw!; j++) {
            const ph = oh * sh! - pads[0]! + i * dh!, pw = ow * sw! - pads[1]! + j * dw!;
            if (ph < 0 || ph >= H! || pw < 0 || pw >= W!) continue;
            const v = X[(nc * H! + ph) * W! + pw]!;
            s = f32(s + (p === 1 ? Math.abs(v) : p === 2 ? f32(v * v) : f32(Math.abs(v) ** p)));
          }
        }
        y[f++] = p === 1 ? s : p === 2 ? f32(Math.sqrt(s)) : f32(s ** f32(1 / p));
      }
    }
  }
  return y;
}

function close(got: number, want: number, rel: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (got === want) return true;
  return Math.abs(got - want) <= rel * Math.abs(want) + 1e-37;
}

test('LpPool: native == scalar; == spec reference (exact for p = 1, 2; p = 3 within 4e-6)', () => {
  const g = new Rng(33 + SEED);
  let ran = 0;
  for (let it = 0; it < 60 * SCALE; it++) {
    const p = g.pick([1, 2, 3]);
    const kern = [g.int(1, 3), g.int(1, 3)];
    const attrs = {
      kernel_shape: kern, strides: [g.int(1, 2), g.int(1, 3)], dilations: [g.int(1, 2), 1],
      pads: [...kern, ...kern].map((kk) => g.int(0, Math.min(1, kk - 1))), ceil_mode: g.int(0, 1), p,
    };
    // p = 3 with moderate values (no overflow), specials for p = 1, 2
    const x = tensor(g, [1, 2, g.int(1, 6), g.int(1, 7)], 'float32', p === 3 ? 0.02 : 0.08);
    if (!valid('LpPool', [x], attrs)) continue;
    ran++;
    const [y] = both('LpPool', [x], attrs);
    const ref = lpPoolRef(x, attrs, y!.shape);
    const Y = y!.data as Float32Array;
    for (let i = 0; i < ref.length; i++) {
      if (p < 3) assert.ok(Object.is(Y[i], ref[i]) || (Y[i] !== Y[i] && ref[i] !== ref[i]), `LpPool p=${p} element ${i}: ${Y[i]} vs ${ref[i]}`);
      else assert.ok(close(Y[i]!, ref[i]!, 4e-6), `LpPool p=3 element ${i}: ${Y[i]} vs ${ref[i]}`);
    }
  }
  assert.ok(ran > 30 * SCALE, `only ${ran} valid geometries`);
});

test('Resize: native == scalar == fold (every mode, coordinate transformation, nearest mode; dtypes; exclude_outside)', () => {
  const g = new Rng(44 + SEED);
  let ran = 0;
  for (let it = 0; it < 80 * SCALE; it++) {
    const mode = g.pick(['nearest', 'linear', 'cubic']);
    const coord = g.pick(RESIZE_COORD_MODES);
    const r = g.pick([1, 2, 2, 3, 4]);
    const inDims = Array.from({ length: r }, (_, a) => (r === 4 && a < 2 ? g.int(1, 2) : g.int(1, r >= 3 ? 4 : 6)));
    const sizes: number[] = [], scales: number[] = [];
    for (const inn of inDims) {
      if (g.bool(0.2)) { sizes.push(inn); scales.push(1); continue; }
      const out = g.int(1, 9);
      sizes.push(out);
      // a scale derived from the size, or a given scale (L = s·in is then a float)
      scales.push(g.bool() ? f32(out / inn) : f32(g.pick([0.5, 0.6, 0.75, 1.5, 2, 2.5, 3, 0.3333]) ));
    }
    const roi = coord === 'tf_crop_and_resize'
      ? [...inDims.map(() => f32(g.pick([0, 0.1, 0.25, -0.2, 0.4]))), ...inDims.map(() => f32(g.pick([1, 0.9, 0.6, 1.2, 0.75])))]
      : [];
    const d: DType = mode === 'nearest' ? g.pick(['float32', 'float32', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool'] as DType[]) : 'float32';
    const attrs = {
      sizes, scales, roi, mode, coordinate_transformation_mode: coord, nearest_mode: g.pick(RESIZE_NEAREST_MODES),
      cubic_coeff_a: f32(g.pick([-0.75, -0.5, -0.6])), exclude_outside: g.int(0, 1), extrapolation_value: f32(g.pick([0, 10, -1.5, 0.5, 300, NaN])),
    };
    const x = tensor(g, inDims, d, mode === 'nearest' ? 0.1 : 0.03);
    if (agree('Resize', [x], attrs)) ran++;
  }
  assert.ok(ran > 60 * SCALE, `only ${ran} valid cases`);
});

test('InstanceNormalization, GroupNormalization: native == scalar == fold', () => {
  const g = new Rng(55 + SEED);
  for (let it = 0; it < 60 * SCALE; it++) {
    const G = g.int(1, 3);
    const C = G * g.int(1, 3);
    const sp = Array.from({ length: g.int(0, 2) }, () => g.int(1, 6));
    const x = tensor(g, [g.int(1, 2), C, ...sp], 'float32', g.pick([0, 0.05]));
    const s = tensor(g, [C], 'float32', 0.05), b = tensor(g, [C], 'float32', 0.05);
    const eps = f32(g.pick([1e-5, 0.01, 0]));
    if (sp.length) agree('InstanceNormalization', [x, s, b], { epsilon: eps });
    assert.ok(agree('GroupNormalization', [x, s, b], { num_groups: G, epsilon: eps }));
  }
});

test('LayerNormalization: native == scalar == fold (axis, broadcast Scale/B, 1 or 3 outputs)', () => {
  const g = new Rng(66 + SEED);
  let ran = 0;
  for (let it = 0; it < 80 * SCALE; it++) {
    const dims = Array.from({ length: g.int(1, 4) }, () => g.int(1, 5));
    const axis = g.int(0, dims.length - 1);
    const tail = dims.slice(axis);
    const bshape = () => {
      const drop = g.int(0, tail.length - 1);
      return tail.slice(drop).map((d) => (g.bool(0.3) ? 1 : d));
    };
    const x = tensor(g, dims, 'float32', g.pick([0, 0.05]));
    const s = tensor(g, bshape(), 'float32', 0.05);
    const ins = g.bool() ? [x, s, tensor(g, bshape(), 'float32', 0.05)] : [x, s];
    if (agree('LayerNormalization', ins, { axis, epsilon: f32(g.pick([1e-5, 0.1])), num_outputs: g.pick([1, 3]) })) ran++;
  }
  assert.ok(ran > 60 * SCALE, `only ${ran} valid cases`);
});

test('MeanVarianceNormalization, LpNormalization: native == scalar == fold', () => {
  const g = new Rng(77 + SEED);
  for (let it = 0; it < 80 * SCALE; it++) {
    const dims = Array.from({ length: g.int(0, 4) }, () => g.int(1, 5));
    const x = tensor(g, dims, 'float32', g.pick([0, 0.05]));
    const axes = dims.map((_, i) => i).filter(() => g.bool());
    assert.ok(agree('MeanVarianceNormalization', [x], { axes }));
    assert.ok(agree('LpNormalization', [x], { axis: dims.length ? g.int(0, dims.length - 1) : 0, p: g.pick([1, 2]) }));
  }
});

test('LRN: native == scalar; == spec reference within 4e-6 (pow); edge channels', () => {
  const g = new Rng(88 + SEED);
  for (let it = 0; it < 40 * SCALE; it++) {
    const C = g.int(1, 7);
    const dims = [g.int(1, 2), C, ...Array.from({ length: g.int(0, 2) }, () => g.int(1, 6))];
    const x = tensor(g, dims, 'float32', 0.03);
    const attrs = { size: g.int(1, 6), alpha: f32(g.pick([1e-4, 0.5, 2])), beta: f32(g.pick([0.75, 0.5, 1, 1.7])), bias: f32(g.pick([1, 2, 0.5])) };
    const [y] = both('LRN', [x], attrs);
    const X = x.data as Float32Array, Y = y!.data as Float32Array;
    const P = X.length / (dims[0]! * C);
    const lo = Math.floor((attrs.size - 1) / 2), hi = Math.ceil((attrs.size - 1) / 2);
    for (let i = 0; i < X.length; i++) {
      const c = Math.floor(i / P) % C;
      let sq = 0;
      for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) { const v = X[i + (j - c) * P]!; sq = f32(sq + f32(v * v)); }
      const t = f32(attrs.bias + f32(f32(attrs.alpha / attrs.size) * sq));
      const want = f32(X[i]! / f32(t ** attrs.beta));
      assert.ok(close(Y[i]!, want, 4e-6), `LRN element ${i}: ${Y[i]} vs ${want} ${JSON.stringify(attrs)}`);
    }
  }
});
