/**
 * Run one kernel on host tensors in a private memory, in its scalar or native form. Used by the tests
 * (native == scalar == host fold, bit for bit) and by tools that check single kernels.
 */
import type { Attrs, TensorType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import { getOp } from '../../converter/ir/op-registry.ts';
import '../../converter/ir/ops/index.ts';
import type { Buffer } from './ast.ts';
import { buildKernelModule, KERNEL_EXPORT } from './module.ts';
import { kernelGenerator } from '../kernels/registry.ts';
import '../kernels/index.ts';

export interface KernelRun {
  outputs: HostTensor[];
  wasmBytes: number;
}

export function runKernelOnce(op: string, inputs: readonly HostTensor[], attrs: Attrs, simd: boolean): KernelRun {
  const def = getOp(op);
  const inTypes: TensorType[] = inputs.map((t) => ({ dtype: t.dtype, shape: t.shape }));
  const outTypes = def.infer(inTypes, attrs);
  const gen = kernelGenerator(op);
  if (!gen) throw new Error(`no kernel for ${op}`);
  const k = gen({ op, name: op, inputs: inTypes, outputs: outTypes, attrs });
  const addr = new Map<Buffer, number>();
  let at = 64;
  for (const b of k.buffers) {
    addr.set(b, at);
    at += Math.ceil((Math.max(1, b.numel) * dtypeSize(b.dtype)) / 64) * 64 + 64;
  }
  const pages = Math.max(1, Math.ceil(at / 65536));
  const wasm = buildKernelModule(k, { addressOf: (b) => addr.get(b)! }, { simd, memoryPages: pages });
  const memory = new WebAssembly.Memory({ initial: pages });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { memory } });
  const bytes = new Uint8Array(memory.buffer);
  const ins = k.buffers.filter((b) => b.role === 'input');
  inputs.forEach((t, i) => bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), addr.get(ins[i]!)!));
  (inst.exports[KERNEL_EXPORT] as (a: number, b: number) => void)(0, 0x7fffffff);
  const outs = k.buffers.filter((b) => b.role === 'output');
  return {
    wasmBytes: wasm.length,
    outputs: outTypes.map((t, i) => {
      const off = addr.get(outs[i]!)!;
      return hostFromBytes(t.dtype, t.shape, bytes.slice(off, off + numel(t.shape) * dtypeSize(t.dtype)));
    }),
  };
}
