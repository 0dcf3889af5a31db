/**
 * Run one kernel on host tensors in a private memory, in its scalar or native form, whole or split
 * the way the threaded executor splits it. Used by the tests (native == scalar == host fold, bit for
 * bit) and by tools that check single kernels.
 */
import type { Attrs, TensorType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import { getOp } from '../../converter/ir/op-registry.ts';
import '../../converter/ir/ops/index.ts';
import type { Buffer, Kernel } from './ast.ts';
import { buildKernelModule, KERNEL_EXPORT } from './module.ts';
import { splitExtent } from './emit-wasm.ts';
import { kernelGenerator } from '../kernels/registry.ts';
import { MATMUL_PANEL, packPanels } from '../native-layout.ts';
import '../kernels/index.ts';

export interface KernelRun {
  outputs: HostTensor[];
  wasmBytes: number;
}

type RunFn = (start: number, end: number) => void;

/** The kernel of `op` for these inputs and attributes, and its output types. */
export function prepareKernel(op: string, inputs: readonly HostTensor[], attrs: Attrs, packedB = false): { k: Kernel; outTypes: TensorType[] } {
  const inTypes: TensorType[] = inputs.map((t) => ({ dtype: t.dtype, shape: t.shape }));
  const outTypes = getOp(op).infer(inTypes, attrs);
  const gen = kernelGenerator(op);
  if (!gen) throw new Error(`no kernel for ${op}`);
  return { k: gen({ op, name: op, inputs: inTypes, outputs: outTypes, attrs, ...(packedB ? { packedB } : {}) }), outTypes };
}

/** Instantiate `k` over a fresh memory holding `inputs`, call `drive(run)`, read the outputs back. */
function execute(k: Kernel, outTypes: readonly TensorType[], inputs: readonly HostTensor[], simd: boolean, drive: (run: RunFn) => void, packedB = false): KernelRun {
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
  inputs.forEach((t, i) => {
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const at = addr.get(ins[i]!)!;
    // a MatMul compiled for a packed B reads input 1 the way the executor stores it (compiler/native-layout.ts)
    if (i === 1 && packedB && simd) packPanels({ tensor: 1, rows: Number(t.shape[0]), cols: Number(t.shape[1]), panel: MATMUL_PANEL }, raw, bytes.subarray(at, at + raw.byteLength));
    else bytes.set(raw, at);
  });
  drive(inst.exports[KERNEL_EXPORT] as RunFn);
  const outs = k.buffers.filter((b) => b.role === 'output');
  return {
    wasmBytes: wasm.length,
    outputs: outTypes.map((t, i) => {
      const off = addr.get(outs[i]!)!;
      return hostFromBytes(t.dtype, t.shape, bytes.slice(off, off + numel(t.shape) * dtypeSize(t.dtype)));
    }),
  };
}

export function runKernelOnce(op: string, inputs: readonly HostTensor[], attrs: Attrs, simd: boolean, packedB = false): KernelRun {
  const { k, outTypes } = prepareKernel(op, inputs, attrs, packedB);
  return execute(k, outTypes, inputs, simd, (run) => run(0, 0x7fffffff), packedB);
}

/**
 * Run the native kernel the way the threaded executor does: when its body is one top-level parallel
 * loop, in three chunks of that loop chosen by `cut`, last chunk first (so iterations must be
 * independent). undefined when the kernel is not splittable.
 */
export function runKernelSplit(op: string, inputs: readonly HostTensor[], attrs: Attrs, cut: number, packedB = false): HostTensor[] | undefined {
  const { k, outTypes } = prepareKernel(op, inputs, attrs, packedB);
  const ext = splitExtent(k);
  if (ext === undefined || ext < 2) return undefined;
  const a = 1 + (cut % (ext - 1)), b = Math.min(ext, a + 1 + (cut % 3));
  return execute(k, outTypes, inputs, true, (run) => { run(b, ext); run(a, b); run(0, a); }, packedB).outputs;
}
