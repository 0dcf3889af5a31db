/**
 * Casts between the boundary dtypes (float64, float16, bfloat16, uint16, uint32, uint64) and their
 * compute dtypes (docs/ir.md §Dtypes): native SIMD form == scalar form == OPVM == the host reference,
 * bit for bit, on special values (NaN, ±inf, ±0, subnormals, rounding ties, overflow) and random bits;
 * and the host reference against exact conversions (Math.fround, the float16 definition).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { castScalar } from '../../converter/ir/ops/elementwise.ts';
import { floatToHalfBits, halfBitsToFloat } from '../../converter/ir/ops/boundary.ts';
import { runKernelOnce } from '../kernel/harness.ts';
import { runKernelVm } from '../../runtime/opvm/kernel-run.ts';
import { Rng } from './helpers/rng.ts';

const rng = new Rng(0xb0da7);
const bytes = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

function f32Bits(n: number): Float32Array {
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = (rng.int(0, 0xffff) << 16 | rng.int(0, 0xffff)) >>> 0;
  return new Float32Array(u.buffer);
}
const F32_SPECIAL = [NaN, -NaN, Infinity, -Infinity, 0, -0, 1, -1, 1e-45, -1e-45, 1.1754942e-38, 5.9604645e-8, 2.9802322e-8, 2.9802326e-8, 8.940697e-8,
  6.1035156e-5, 6.1028e-5, 65504, 65519.996, 65520, -65520, 3.4028235e38, 0.1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 2 ** -133, 2 ** -134 * 3];
function f64Values(n: number): Float64Array {
  const a = new Float64Array(n);
  const u = new BigUint64Array(a.buffer);
  const special = [NaN, Infinity, -Infinity, 0, -0, 3.4028235677973366e38, 3.4028235677973362e38, 3.4028236e38, 1e39, -1e300, 1e-300, 2 ** -149, 2 ** -150, 2 ** -150 * 1.5,
    2 ** -151, 1.1754942106924411e-38, 1.1754943508222875e-38, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1 + 2 ** -24 + 2 ** -52, 0.1, 5e-324, 2 ** -126 * (1 - 2 ** -24)];
  for (let i = 0; i < n; i++) {
    if (i < special.length) a[i] = special[i]!;
    else if (i % 3 === 0) u[i] = (BigInt(rng.int(0, 0xffffffff)) << 32n) | BigInt(rng.int(0, 0xffffffff));
    else a[i] = (rng.next() * 2 - 1) * 2 ** rng.int(-160, 140);
  }
  return a;
}

function cases(): [DType, HostTensor][] {
  const n = 600;
  const f32 = f32Bits(n);
  F32_SPECIAL.forEach((v, i) => (f32[i] = v));
  const f32t = hostTensor('float32', [n], f32);
  const u16 = Uint16Array.from({ length: n }, (_, i) => (i < 4 ? [0, 0x7c00, 0xfc00, 0x7e01][i]! : rng.int(0, 0xffff)));
  return [
    ['float64', f32t], ['float16', f32t], ['bfloat16', f32t],
    ['float32', hostTensor('float64', [n], f64Values(n))],
    ['float32', hostTensor('float16', [n], u16)], ['float32', hostTensor('bfloat16', [n], u16)], ['int32', hostTensor('uint16', [n], u16)],
    ['uint16', hostTensor('int32', [n], Int32Array.from({ length: n }, () => rng.int(-2147483648, 2147483647)))],
    ['uint32', hostTensor('int64', [8], [0n, -1n, 1n << 32n, (1n << 32n) - 1n, -(1n << 63n), 123456789012345n, 7n, -7n])],
    ['int64', hostTensor('uint32', [4], [0, 1, 0xffffffff, 0x80000000])],
    ['uint64', hostTensor('int64', [4], [0n, -1n, -(1n << 63n), 5n])],
    ['int64', hostTensor('uint64', [4], [0n, (1n << 64n) - 1n, 1n << 63n, 5n])],
  ];
}

test('boundary casts: native == scalar == OPVM == host reference, bit for bit', () => {
  for (const [to, x] of cases()) {
    const what = `Cast ${x.dtype} → ${to}`;
    const scalar = runKernelOnce('Cast', [x], { to }, false).outputs[0]!;
    const native = runKernelOnce('Cast', [x], { to }, true).outputs[0]!;
    assert.equal(bytes(native), bytes(scalar), `${what}: native != scalar`);
    const want = hostTensor(to, x.shape, Array.from(x.data as ArrayLike<number | bigint>, (v) => castScalar(v, x.dtype, to)));
    const got = Array.from(scalar.data as ArrayLike<number | bigint>);
    const exp = Array.from(want.data as ArrayLike<number | bigint>);
    for (let i = 0; i < got.length; i++) {
      const same = Object.is(got[i], exp[i]) || (typeof got[i] === 'number' && Number.isNaN(got[i]) && Number.isNaN(exp[i] as number));
      assert.ok(same, `${what} element ${i} (${x.data[i]}): kernel ${got[i]}, host ${exp[i]}`);
    }
    const vm = runKernelVm('Cast', [x], { to });
    assert.ok(vm.steps <= vm.stepBound, `${what}: ${vm.steps} OPVM steps above the bound ${vm.stepBound}`);
    assert.equal(bytes(vm.outputs[0]!), bytes(native), `${what}: OPVM != native`);
  }
});

test('boundary casts: float64 → float32 is Math.fround, float32 → float16 rounds to nearest even', () => {
  const x = hostTensor('float64', [400], f64Values(400));
  const y = runKernelOnce('Cast', [x], { to: 'float32' }, true).outputs[0]!;
  for (let i = 0; i < 400; i++) {
    const want = Math.fround(x.data[i] as number);
    assert.ok(Object.is(y.data[i], want) || (Number.isNaN(want) && Number.isNaN(y.data[i] as number)), `${x.data[i]}: ${y.data[i]}, expected ${want}`);
  }
  // float16: the nearest representable value (ties to even mantissa), by exhaustive comparison with all 2^16 values
  const halves = Array.from({ length: 0x7c01 }, (_, h) => halfBitsToFloat(h));
  for (const v of [...F32_SPECIAL, ...f32Bits(2000)].filter((v) => Number.isFinite(v) && Math.abs(v) < 65520)) {
    const a = Math.abs(Math.fround(v));
    let best = 0;
    for (let h = 0; h < 0x7c00; h++) {
      const d = Math.abs(halves[h]! - a), db = Math.abs(halves[best]! - a);
      if (d < db || (d === db && (h & 1) === 0)) best = h;
      if (halves[h]! > a) break;
    }
    assert.equal(floatToHalfBits(v) & 0x7fff, best, `float16 of ${v}`);
  }
});
