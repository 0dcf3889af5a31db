/**
 * One kernel → its OPVM program and memory layout (docs/opvm.md §6–§7). The layout depends on the code
 * size and the code on the layout's addresses, so the kernel is lowered twice: once to size the code and
 * spill area, once with the final addresses (the lowering's instruction count does not depend on them).
 * The final code's step bound (step-bound.ts) goes into the node's record.
 */
import type { Buffer, Kernel } from '../kernel/ast.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import type { Bytes32 } from '../commit/merkle.ts';
import { dataRoot } from '../commit/tensor.ts';
import { decodeInsn, INSN_BYTES, LEAF_BYTES } from './isa.ts';
import type { LoopTrips, StepBound } from './step-bound.ts';
import { kernelFallbackTrips, loopTrips, programStepBound } from './step-bound.ts';
import type { NodeMemoryLayout, Region, RegionSpec } from './layout.ts';
import { planNodeMemory } from './layout.ts';
import { lowerKernel } from './lower.ts';

export interface NodeVmProgram {
  readonly code: Uint8Array;
  readonly insns: number;
  readonly codeRoot: Bytes32;
  readonly layout: NodeMemoryLayout;
  /** Leaf index of the first instruction: the initial pc. */
  readonly codeBase: number;
  readonly spillSlots: number;
  readonly registers: number;
  /** Upper bound on the steps to HALT for any input data (step-bound.ts, docs/opvm.md §8). */
  readonly stepBound: StepBound;
  /** Every wasm loop's first instruction (index into the code) and its header runs per entry, when known. */
  readonly loops: readonly LoopTrips[];
  addressOf(b: Buffer): number;
  /** The region of input or output position i. */
  region(kind: 'input' | 'output', i: number): Region;
}

const align = (n: number, a = LEAF_BYTES) => Math.ceil(n / a) * a;
const bufferBytes = (b: Buffer) => b.numel * dtypeSize(b.dtype);

interface Placement {
  layout: NodeMemoryLayout;
  addressOf(b: Buffer): number;
  codeBase: number;
  spillBase: number;
}

function place(k: Kernel, codeInsns: number, spillSlots: number): Placement {
  const ins = k.buffers.filter((b) => b.role === 'input');
  const outs = k.buffers.filter((b) => b.role === 'output');
  const scratch = k.buffers.filter((b) => b.role === 'scratch');
  const scratchBytes = align(8 * spillSlots) + scratch.reduce((a, b) => a + align(bufferBytes(b)), 0);
  const specs: RegionSpec[] = [
    { kind: 'code', index: 0, bytes: codeInsns * LEAF_BYTES },
    ...ins.map((b, i): RegionSpec => ({ kind: 'input', index: i, bytes: bufferBytes(b) })),
    ...outs.map((b, i): RegionSpec => ({ kind: 'output', index: i, bytes: bufferBytes(b) })),
    ...(scratchBytes > 0 ? [{ kind: 'scratch', index: 0, bytes: scratchBytes } as RegionSpec] : []),
  ];
  const layout = planNodeMemory(specs);
  const at = (kind: Region['kind'], i: number) => layout.regions.find((r) => r.kind === kind && r.index === i)!.address;
  const map = new Map<Buffer, number>();
  ins.forEach((b, i) => map.set(b, at('input', i)));
  outs.forEach((b, i) => map.set(b, at('output', i)));
  const spillBase = scratchBytes > 0 ? at('scratch', 0) : 0;
  let s = spillBase + align(8 * spillSlots);
  for (const b of scratch) {
    map.set(b, s);
    s += align(bufferBytes(b));
  }
  return { layout, addressOf: (b) => map.get(b)!, codeBase: at('code', 0) / LEAF_BYTES, spillBase };
}

export function compileNodeVm(k: Kernel): NodeVmProgram {
  const probe = lowerKernel(k, { ...place(k, 1, 0), spillBase: 0 });
  const p = place(k, probe.insns, probe.spillSlots);
  const prog = lowerKernel(k, { addressOf: p.addressOf, codeBase: p.codeBase, spillBase: p.spillBase });
  if (prog.insns !== probe.insns || prog.spillSlots !== probe.spillSlots) {
    throw new Error(`kernel ${k.name}: OPVM lowering is not address-independent (${probe.insns} vs ${prog.insns} instructions)`);
  }
  const { layout } = p;
  const insns = Array.from({ length: prog.insns }, (_, i) => decodeInsn(prog.code, i * INSN_BYTES));
  const loops = prog.loops.map((l): LoopTrips => ({ at: l.at, trips: l.range ? loopTrips(l.range) : null }));
  const stepBound = programStepBound(insns, p.codeBase, loops, kernelFallbackTrips(k));
  return {
    code: prog.code, insns: prog.insns, codeRoot: dataRoot(prog.code), layout, codeBase: p.codeBase,
    spillSlots: prog.spillSlots, registers: prog.registers, stepBound, loops, addressOf: p.addressOf,
    region: (kind, i) => layout.regions.find((r) => r.kind === kind && r.index === i)!,
  };
}
