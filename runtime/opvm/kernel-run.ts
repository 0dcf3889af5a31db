/**
 * One kernel run in the OPVM, for tests and tools: the kernel of an op for given inputs is lowered
 * (compiler/opvm/compile-node.ts), its memory image holds the code and the inputs at their regions
 * (docs/opvm.md §7), and the interpreter runs it to HALT; the outputs are read from their regions.
 */
import type { Attrs, TensorType } from '../../converter/ir/types.ts';
import type { Kernel } from '../../compiler/kernel/ast.ts';
import { numel } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostBytes, hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import { prepareKernel } from '../../compiler/kernel/harness.ts';
import { compileNodeVm } from '../../compiler/opvm/compile-node.ts';
import { LEAF_BYTES, Status, STATUS_NAMES } from '../../compiler/opvm/isa.ts';
import { VmMemory } from './memory.ts';
import { Interpreter } from './interpreter.ts';

export interface VmKernelRun {
  outputs: HostTensor[];
  steps: number;
  /** The program's compiled step bound (docs/opvm.md §8): steps ≤ stepBound on every input. */
  stepBound: number;
}

export function runKernelVm(op: string, inputs: readonly HostTensor[], attrs: Attrs, maxSteps = 2 ** 32): VmKernelRun {
  const { k, outTypes } = prepareKernel(op, inputs, attrs);
  return runKernelProgramVm(k, outTypes, inputs, maxSteps);
}

/** Run any kernel (e.g. one built by a test) in the OPVM on `inputs`, with outputs of `outTypes`. */
export function runKernelProgramVm(k: Kernel, outTypes: readonly TensorType[], inputs: readonly HostTensor[], maxSteps = 2 ** 32): VmKernelRun {
  const op = k.name;
  const p = compileNodeVm(k);
  const mem = VmMemory.create(p.layout.totalBytes);
  mem.write(p.codeBase * LEAF_BYTES, p.code);
  inputs.forEach((t, i) => { const b = hostBytes(t); if (b.length) mem.write(p.region('input', i).address, b); });
  const it = new Interpreter(mem, { pc: p.codeBase, code: { first: p.codeBase, count: p.insns } });
  while (it.status === Status.Running && it.steps < maxSteps) it.run(Math.min(1 << 24, maxSteps - it.steps));
  if (it.status !== Status.Halted) throw new Error(`${op}: the OPVM stopped with status ${STATUS_NAMES[it.status] ?? it.status} at pc ${it.pc} after ${it.steps} steps`);
  const outputs = outTypes.map((t, i) => hostFromBytes(t.dtype, t.shape, mem.read(p.region('output', i).address, numel(t.shape) * dtypeSize(t.dtype))));
  return { outputs, steps: it.steps, stepBound: p.stepBound.steps };
}
