/**
 * A node's initial OPVM memory image (docs/opvm.md §7): its code and input tensors at their region
 * addresses, outputs and scratch zero; and reading its outputs back after the run.
 */
import type { Graph, Node } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import type { CompiledVmNode, CompiledVmRegion } from '../../compiler/format.ts';
import { VmMemory } from './memory.ts';
import type { ImageRegion, NodeImage } from './tracer.ts';
import type { ChunkedTree } from '../../compiler/commit/constant-tree.ts';

function region(vm: CompiledVmNode, kind: CompiledVmRegion['kind'], index: number): CompiledVmRegion {
  const r = vm.regions.find((x) => x.kind === kind && x.index === index);
  if (!r) throw new RangeError(`OPVM layout has no ${kind} region ${index}`);
  return r;
}

/**
 * The node's memory image; `value(tensorId)` gives each input's little-endian bytes, `dataRoot(tensorId)`
 * an input's data root (or its cut tree, compiler/commit/constant-tree.ts) when the caller knows it (the tracer then never hashes that region). The image
 * carries the region layout (with the code root and the known input roots), so the tracer takes its
 * fast path (runtime/opvm/tracer.ts).
 */
export function nodeImage(g: Graph, n: Node, vm: CompiledVmNode, code: Uint8Array, value: (id: number) => Uint8Array, dataRoot?: (id: number) => Uint8Array | ChunkedTree | undefined): NodeImage {
  const total = vm.regions.reduce((a, r) => Math.max(a, r.address + 32 * 2 ** r.height), 32);
  const mem = VmMemory.create(total);
  mem.write(region(vm, 'code', 0).address, code);
  n.inputs.forEach((id, i) => {
    const bytes = value(id);
    const t = g.tensors[id]!;
    const want = numel(t.shape) * dtypeSize(t.dtype);
    if (bytes.length !== want) throw new RangeError(`input ${i} of node '${n.name}' has ${bytes.length} bytes, expected ${want}`);
    if (bytes.length) mem.write(region(vm, 'input', i).address, bytes);
  });
  const regions: ImageRegion[] = vm.regions.map((r) => {
    const known = r.kind === 'code' ? Uint8Array.from(Buffer.from(vm.codeRoot.slice(2), 'hex')) : r.kind === 'input' ? dataRoot?.(n.inputs[r.index]!) : undefined;
    const extra = known instanceof Uint8Array ? { root: known } : known ? { tree: known } : {};
    return { kind: r.kind, index: r.index, address: r.address, height: r.height, ...extra };
  });
  return { mem, pc: vm.codeBase, code: { first: vm.codeBase, count: vm.insns }, regions, rebuild: () => nodeImage(g, n, vm, code, value, dataRoot) };
}

/** Output position i's bytes from a node's final memory. */
export function readNodeOutput(g: Graph, n: Node, vm: CompiledVmNode, mem: VmMemory, i: number): Uint8Array {
  const t = g.tensors[n.outputs[i]!]!;
  return mem.read(region(vm, 'output', i).address, numel(t.shape) * dtypeSize(t.dtype));
}

export { region as vmRegion };
