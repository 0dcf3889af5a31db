/**
 * Native == OPVM, bit for bit, for the kernels that neither the bundled models nor the ONNX conformance
 * data reach (their opsets are newer than the test data, or only other front-ends emit them): each op
 * on random inputs with special values (NaN, ±inf, ±0, subnormals, extremes), in the native SIMD form
 * and in the OPVM interpreter, whose step count must stay within the program's step bound. runtime/test/e2e-conformance.test.ts checks that every kernel op is
 * covered either there (every node of every passing case runs in the OPVM) or here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attrs, DType } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { runKernelOnce } from '../../compiler/kernel/harness.ts';
import { Rng } from '../../compiler/test/helpers/rng.ts';
import { runKernelVm } from '../opvm/kernel-run.ts';
import { VM_KERNEL_CASE_OPS } from './helpers/vm-kernel-ops.ts';

const rng = new Rng(0x0b5e55ed);
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.5, -0.5, 1, -1, 2.5];

function floats(dims: number[], scale = 4, special = true): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n).map(() => (special && rng.bool(0.15) ? rng.pick(SPECIAL) : (rng.next() * 2 - 1) * scale));
  return hostTensor('float32', dims, a);
}

function ints(dtype: DType, dims: number[]): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const range: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], int32: [-2147483648, 2147483647] };
  if (dtype === 'int64') return hostTensor('int64', dims, Array.from({ length: n }, () => BigInt.asIntN(64, (BigInt(rng.int(0, 0xffffffff)) << 32n) | BigInt(rng.int(0, 0xffffffff)))));
  const [lo, hi] = range[dtype]!;
  return hostTensor(dtype, dims, Array.from({ length: n }, () => rng.int(lo, hi)));
}

interface Case { op: string; ins: HostTensor[]; attrs: Attrs; what: string }

function cases(): Case[] {
  const out: Case[] = [];
  const add = (op: string, ins: HostTensor[], attrs: Attrs = {}, what = '') => out.push({ op, ins, attrs, what });
  for (const dt of ['int8', 'uint8', 'int16', 'int32', 'int64'] as DType[]) {
    for (const op of ['BitwiseAnd', 'BitwiseOr', 'BitwiseXor']) add(op, [ints(dt, [3, 5]), ints(dt, [1, 5])], {}, dt);
    add('BitwiseNot', [ints(dt, [4, 3])], {}, dt);
  }
  add('Col2Im', [floats([1, 2 * 4, 9])], { image_shape: [4, 4], block_shape: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1] }, 'overlapping blocks');
  add('Col2Im', [floats([2, 3 * 2, 9])], { image_shape: [5, 6], block_shape: [1, 2], dilations: [2, 2], pads: [0, 1, 0, 1], strides: [2, 2] }, 'dilated, padded, strided');
  for (const [exclusive, reverse] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    add('CumSum', [floats([3, 7])], { axis: 1, exclusive, reverse }, `float exclusive ${exclusive} reverse ${reverse}`);
    add('CumSum', [ints('int32', [4, 5])], { axis: 0, exclusive, reverse }, `int32 exclusive ${exclusive} reverse ${reverse}`);
  }
  add('CumSum', [ints('int64', [6])], { axis: 0, exclusive: 0, reverse: 0 }, 'int64 wraps');
  for (const approximate of [0, 1]) add('Gelu', [floats([64], 12)], { approximate }, `approximate ${approximate}`);
  add('Mish', [floats([64], 30)]);
  add('GroupNormalization', [floats([2, 6, 3, 2], 3, false), floats([6]), floats([6])], { num_groups: 3, epsilon: 1e-5 });
  add('GroupNormalization', [floats([1, 4, 5]), floats([4]), floats([4])], { num_groups: 1, epsilon: 1e-3 }, 'special values');
  for (const p of [1, 2]) add('LpNormalization', [floats([3, 8])], { axis: 1, p }, `p ${p}`);
  add('LpNormalization', [floats([4, 2, 3], 4, false)], { axis: 0, p: 2 }, 'axis 0');
  for (const p of [1, 2, 3]) {
    add('LpPool', [floats([1, 2, 7, 6], 3, false)], { kernel_shape: [3, 2], strides: [2, 1], dilations: [1, 1], pads: [1, 0, 1, 1], ceil_mode: 0, p }, `p ${p}`);
  }
  add('LpPool', [floats([1, 1, 9])], { kernel_shape: [3], strides: [2], dilations: [2], pads: [1, 1], ceil_mode: 1, p: 2 }, '1-d dilated, ceil mode, special values');
  add('OneHot', [hostTensor('int64', [2, 3], [0n, 2n, -1n, 5n, -4n, 1n]), hostTensor('float32', [2], [-1.5, 7])], { depth: 4, axis: 1 }, 'int64 indices, out of range');
  add('OneHot', [hostTensor('float32', [4], [0.9, -1.2, 3.7, 2]), hostTensor('int32', [2], [0, 9])], { depth: 4, axis: 0 }, 'float indices truncate');
  add('ReduceLogSumExp', [floats([3, 4, 5], 20, false)], { axes: [1], keepdims: 1 });
  add('ReduceLogSumExp', [floats([2, 6])], { axes: [0, 1], keepdims: 0 }, 'all axes, special values');
  return out;
}

test('native == OPVM, bit for bit, for the kernels the conformance data and the models do not reach', () => {
  const all = cases();
  assert.deepEqual([...new Set(all.map((c) => c.op))].sort(), [...VM_KERNEL_CASE_OPS].sort(), 'the cases cover exactly the listed ops');
  for (const c of all) {
    const native = runKernelOnce(c.op, c.ins, c.attrs, true).outputs;
    const vm = runKernelVm(c.op, c.ins, c.attrs);
    assert.ok(vm.steps > 0 && vm.steps <= vm.stepBound, `${c.op} (${c.what}): ${vm.steps} steps, step bound ${vm.stepBound}`);
    assert.ok(vm.stepBound < 2 ** 48, `${c.op} (${c.what}): the step bound fell back to MAX_STEPS`);
    native.forEach((t, i) => {
      const a = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const b = Buffer.from(vm.outputs[i]!.data.buffer, vm.outputs[i]!.data.byteOffset, vm.outputs[i]!.data.byteLength);
      assert.ok(a.equals(b), `${c.op} (${c.what}) output ${i}: native ${a.toString('hex').slice(0, 64)}… vs OPVM ${b.toString('hex').slice(0, 64)}…`);
    });
  }
});
