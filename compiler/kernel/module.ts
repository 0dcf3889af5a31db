/** Wrap emitted kernels into a validated, optimised WebAssembly module that imports its memory. */
import binaryen from 'binaryen';
import type { Kernel } from './ast.ts';
import type { Layout } from './emit-wasm.ts';
import { FunctionEmitter } from './emit-wasm.ts';
import { KernelError } from './build.ts';
import { KERNEL_EXPORT } from '../format.ts';

export interface ModuleOptions {
  /** Native form with SIMD across independent outputs (false: the scalar form). */
  simd: boolean;
  /** Memory the module imports as env.memory: its minimum size in 64 KiB pages. */
  memoryPages: number;
  /** Import a shared memory (worker threads). */
  shared?: boolean;
  /** binaryen optimisation level (default 3). */
  optimize?: number;
}

export { KERNEL_EXPORT };

export function buildKernelModule(k: Kernel, layout: Layout, o: ModuleOptions): Uint8Array {
  const m = new binaryen.Module();
  try {
    m.setFeatures(binaryen.Features.MVP | binaryen.Features.NontrappingFPToInt | binaryen.Features.SignExt | binaryen.Features.BulkMemory |
      (o.simd ? binaryen.Features.SIMD128 : 0) | (o.shared ? binaryen.Features.Atomics : 0));
    m.setMemory(o.memoryPages, o.shared ? o.memoryPages : -1, null, [], !!o.shared, false, 'mem');
    m.addMemoryImport('mem', 'env', 'memory', !!o.shared);
    new FunctionEmitter(m, k, layout, o.simd).emit(KERNEL_EXPORT);
    m.addFunctionExport(KERNEL_EXPORT, KERNEL_EXPORT);
    if (!m.validate()) throw new KernelError(`kernel ${k.name}: binaryen validation failed`);
    binaryen.setOptimizeLevel(o.optimize ?? 3);
    binaryen.setShrinkLevel(0);
    m.optimize();
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/** The kernel's binaryen text after optimisation and flattening (what the OPVM lowering reads). */
export function flatText(k: Kernel, layout: Layout, memoryPages: number): string {
  const m = new binaryen.Module();
  try {
    m.setFeatures(binaryen.Features.MVP | binaryen.Features.NontrappingFPToInt | binaryen.Features.SignExt);
    m.setMemory(memoryPages, -1, null, [], false, false, 'mem');
    m.addMemoryImport('mem', 'env', 'memory', false);
    new FunctionEmitter(m, k, layout, false).emit(KERNEL_EXPORT);
    m.addFunctionExport(KERNEL_EXPORT, KERNEL_EXPORT);
    binaryen.setOptimizeLevel(3);
    m.optimize();
    m.runPasses(['flatten', 'simplify-locals-notee-nostructure', 'reorder-locals', 'vacuum']);
    return m.emitText();
  } finally {
    m.dispose();
  }
}
