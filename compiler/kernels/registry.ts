/**
 * Kernel generators: for each IR op, a function that builds the node's kernel specialised to its
 * input/output types and attributes. Buffers are declared in the order inputs, outputs, scratch.
 */
import type { Attrs, TensorType } from '../../converter/ir/types.ts';
import type { Kernel } from '../kernel/ast.ts';

export interface KernelRequest {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly TensorType[];
  readonly outputs: readonly TensorType[];
  readonly attrs: Attrs;
  /**
   * MatMul only: the native arena holds B (input 1) packed panel-major (compiler/native-layout.ts), so the
   * native form must read it that way. The scalar form, and so the OPVM, never changes.
   */
  readonly packedB?: boolean;
}

export type KernelGenerator = (r: KernelRequest) => Kernel;

const generators = new Map<string, KernelGenerator>();

export function defineKernel(op: string, g: KernelGenerator): void {
  if (generators.has(op)) throw new Error(`kernel for ${op} defined twice`);
  generators.set(op, g);
}

export function kernelGenerator(op: string): KernelGenerator | undefined {
  return generators.get(op);
}

export function kernelOps(): string[] {
  return [...generators.keys()].sort();
}
