/**
 * Cheating submitters, for demonstrations and tests (`--cheat KIND`): worlds that differ from the honest
 * one in a chosen way and stay consistent downstream (every later node computed from the wrong values in
 * the OPVM), so a challenger meets a cheater that defends its lie as well as it can. Each must lose.
 *
 *  - wrong-output: the model's first output is altered (its two largest elements swapped) after an
 *    honest run of the node that produces it; that node's claimed final OPVM state is fabricated.
 *  - wrong-tensor: one element of an intermediate node's output is altered the same way.
 *  - wrong-step:   one OPVM step inside an intermediate node computes a wrong value (a register bit
 *    flipped); the node's outputs and everything after follow from it.
 */
import type { DType, TensorId } from '../../converter/ir/types.ts';
import { hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { decodeInsn, accessSize, isBranch, Op, Status } from '../../compiler/opvm/isa.ts';
import { RunError } from '../native/executor.ts';
import { VmExecutor } from '../opvm/vm-executor.ts';
import { nodeImage } from '../opvm/node-image.ts';
import type { TraceFault } from '../opvm/tracer.ts';
import { Tracer } from '../opvm/tracer.ts';
import type { NodeDeviation } from './world.ts';
import { TaskWorld } from './world.ts';

import type { CheatKind } from './options.ts';

export interface CheatPlan {
  kind: CheatKind;
  /** The node (1-based) whose claim is wrong. */
  node: number;
  /** wrong-step: the faulty step of that node. */
  step?: number;
}

/** Swap the two largest float32 elements (or add one to element 0 of an integer tensor). */
function alter(bytes: Uint8Array, dtype: DType): Uint8Array {
  const out = bytes.slice();
  if (dtype === 'float32' && out.length >= 8) {
    const f = new Float32Array(out.buffer);
    let a = 0, b = 1;
    if (f[b]! > f[a]!) [a, b] = [b, a];
    for (let i = 2; i < f.length; i++) {
      if (f[i]! > f[a]!) { b = a; a = i; } else if (f[i]! > f[b]!) b = i;
    }
    if (f[a] === f[b]) f[a] = f[a]! + 1;
    else [f[a], f[b]] = [f[b]!, f[a]!];
    return out;
  }
  if (out.length === 0) throw new RunError('cannot alter an empty tensor');
  out[0] = (out[0]! + 1) & 0xff;
  if (dtype === 'bool') out[0] = out[0]! & 1;
  return out;
}

/** The default node for a cheat: the producer of output 0, or the node with the most work. */
export function defaultCheatNode(honest: TaskWorld, kind: CheatKind): number {
  const g = honest.model.graph;
  if (kind === 'wrong-output') {
    const k = g.nodes.findIndex((n) => n.outputs.includes(g.outputs[0]!));
    if (k < 0) throw new RunError('the model\'s first output is not computed by a node');
    return k + 1;
  }
  // The node with the most work (the longest OPVM run, so the game goes through many phase-1 rounds).
  const work = honest.model.manifest.nodes.map((x) => x.work);
  let best = 0;
  g.nodes.forEach((n, i) => { if (n.outputs.some((o) => honest.values[o]!.length > 0) && work[i]! > work[best]!) best = i; });
  return best + 1;
}

/** Pick a step of node k whose register result, flipped, changes the node's outputs. */
function findFault(honest: TaskWorld, k: number, near?: number): TraceFault {
  const { graph: g, manifest, codes } = honest.model;
  const n = g.nodes[k - 1]!;
  const vm = manifest.nodes[k - 1]!.vm!;
  const image = () => nodeImage(g, n, vm, codes[k - 1]!, (id) => honest.values[id]!);
  const t = new Tracer(image());
  const steps = t.runToEnd();
  const want = n.outputs.map((o) => Buffer.from(honest.values[o]!));
  if (steps < 2) throw new RunError(`node ${k} takes ${steps} step; choose another --cheat-node`);
  const start = Math.floor(near ?? steps / 2);
  for (let attempt = 0; attempt < 64; attempt++) {
    const s = 1 + ((start + attempt * 97) % (steps - 1));
    const { proof, post } = t.proveStep(s - 1);
    if (!proof.insnLeaf || post.status !== Status.Running) continue;
    const i = decodeInsn(proof.insnLeaf);
    if (isBranch(i.op) || (accessSize(i.op) > 0 && i.op >= Op.STORE8) || i.op === Op.HALT) continue;
    const fault = { step: s, reg: i.rd, xor: 1n << 22n };
    const ft = new Tracer(image(), { fault });
    ft.runToEnd(steps * 4);
    if (ft.finalStatus !== Status.Halted) continue;
    const mem = ft.finalMemory;
    const changed = n.outputs.some((_, j) => {
      const r = vm.regions.find((x) => x.kind === 'output' && x.index === j)!;
      return !Buffer.from(mem.read(r.address, want[j]!.length)).equals(want[j]!);
    });
    if (changed) return fault;
  }
  throw new RunError(`no single-register fault found that changes the outputs of node ${k}`);
}

/** A cheating world and what it did; the honest world gives the inputs and the honest values. */
export function cheatingWorld(honest: TaskWorld, kind: CheatKind, node?: number): { world: TaskWorld; plan: CheatPlan } {
  const { graph: g, manifest, codes } = honest.model;
  const k = node ?? defaultCheatNode(honest, kind);
  if (!(k >= 1 && k <= g.nodes.length)) throw new RunError(`--cheat-node ${k}: the model has nodes 1 … ${g.nodes.length}`);
  const n = g.nodes[k - 1]!;
  const deviations = new Map<number, NodeDeviation>();
  const faults = new Map<number, TraceFault>();
  let plan: CheatPlan;
  if (kind === 'wrong-step') {
    const fault = findFault(honest, k);
    faults.set(k - 1, fault);
    deviations.set(k, { kind: 'fault', fault });
    plan = { kind, node: k, step: fault.step };
  } else {
    if (n.outputs.every((o) => honest.values[o]!.length === 0)) throw new RunError(`node ${k} has only empty outputs; choose another --cheat-node`);
    deviations.set(k, { kind: 'fabricate' });
    plan = { kind, node: k };
  }
  const inputs = g.inputs.map((id) => hostFromBytes(g.tensors[id]!.dtype, g.tensors[id]!.shape, honest.values[id]!.slice()));
  const run = VmExecutor.create(g, manifest, codes).run(inputs, {
    faults,
    alterOutputs: (j, outs) => {
      if (j !== k - 1 || kind === 'wrong-step') return outs;
      const which = kind === 'wrong-output' ? Math.max(0, n.outputs.indexOf(g.outputs[0]!)) : outs.findIndex((o) => o.length > 0);
      return outs.map((o, i) => (i === which ? alter(o, g.tensors[n.outputs[i]!]!.dtype) : o));
    },
  });
  const values = g.tensors.map((_, id) => run.values.get(id as TensorId) ?? g.constants.get(id as TensorId)!.read());
  return { world: new TaskWorld(honest.model, values, deviations), plan };
}
