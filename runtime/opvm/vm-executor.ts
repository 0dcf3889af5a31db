/**
 * Whole-model execution in the OPVM interpreter (`opml run --engine vm`): every node runs from its own
 * memory image (code, inputs; docs/opvm.md §7) to HALT, and its outputs feed the next nodes. Slow, but it
 * is the machine the dispute game re-executes, so its outputs must equal the native engine's byte for byte.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Graph, TensorId } from '../../converter/ir/types.ts';
import { formatShape, numel, shapeEquals } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { readBundle } from '../../converter/bundle/read.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import type { CompiledManifest } from '../../compiler/format.ts';
import { STATUS_NAMES } from '../../compiler/opvm/isa.ts';
import type { CompiledNode } from '../../compiler/format.ts';
import { dataRoot } from '../../compiler/commit/tensor.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { readCompiledFile, readManifest, RunError } from '../native/executor.ts';
import { Interpreter } from './interpreter.ts';
import type { TraceFault } from './tracer.ts';
import { Tracer } from './tracer.ts';
import { nodeImage, readNodeOutput } from './node-image.ts';

/** Per-node cap on interpreted steps (docs/opvm.md §8 caps the game at 2^48; this machine cannot go near). */
export const VM_STEP_LIMIT = 2 ** 40;

export interface VmNodeStats {
  index: number;
  steps: number;
  ms: number;
}

export interface VmRunOptions {
  onNode?: (s: VmNodeStats, total: number) => void;
  /** Deliberate faults by node index (0-based), for cheating parties in demonstrations and tests. */
  faults?: ReadonlyMap<number, TraceFault>;
  /** Replace a node's output bytes after it ran (cheating parties in demonstrations and tests). */
  alterOutputs?: (k: number, outputs: Uint8Array[]) => Uint8Array[];
}

/** A compiled bundle's graph, manifest and every node's OPVM code, checked to belong together. */
export function readVmBundle(dir: string): { graph: Graph; manifest: CompiledManifest; codes: Uint8Array[] } {
  const manifest = readManifest(dir);
  const { graph, modelHash } = readBundle(dir);
  if (modelHash !== manifest.modelHash) throw new RunError(`${dir}: compiled for model ${manifest.modelHash}, the bundle's graph is ${modelHash}; compile again`);
  if (manifest.nodes.some((n) => !n.vm)) throw new RunError(`${dir} has no OPVM programs (compiled without them); run 'opml compile' again`);
  return { graph, manifest, codes: manifest.nodes.map((n, i) => readVmCode(dir, n, i + 1)) };
}

/** Node k's OPVM program (k from 1), checked against its size and code root in the manifest. */
export function readVmCode(dir: string, n: CompiledNode, k: number): Uint8Array {
  if (!n.vm) throw new RunError(`${dir} has no OPVM program for node ${k}; run 'opml compile' again`);
  const code = readCompiledFile(dir, n.vm.code);
  if (code.length !== n.vm.insns * 32 || toHex(dataRoot(code)) !== n.vm.codeRoot) {
    throw new RunError(`${path.join(dir, n.vm.code)}: the OPVM program of node ${k} (${n.op} '${n.name}') does not match its code root in the manifest; the compiled bundle is damaged, run 'opml compile' again`);
  }
  return code;
}

export class VmExecutor {
  private constructor(readonly graph: Graph, readonly manifest: CompiledManifest, private readonly codes: readonly Uint8Array[]) {}

  static load(dir: string): VmExecutor {
    const { graph, manifest, codes } = readVmBundle(dir);
    return new VmExecutor(graph, manifest, codes);
  }

  static create(graph: Graph, manifest: CompiledManifest, codes: readonly Uint8Array[]): VmExecutor {
    return new VmExecutor(graph, manifest, codes);
  }

  /** Run the model; returns the outputs, every tensor's bytes and each node's step count. */
  run(inputs: readonly HostTensor[], opts: VmRunOptions = {}): { outputs: HostTensor[]; values: Map<TensorId, Uint8Array>; stats: VmNodeStats[] } {
    const g = this.graph;
    if (inputs.length !== g.inputs.length) throw new RunError(`the model takes ${g.inputs.length} inputs, got ${inputs.length}`);
    const values = new Map<TensorId, Uint8Array>();
    inputs.forEach((t, i) => {
      const want = g.tensors[g.inputs[i]!]!;
      if (t.dtype !== want.dtype || !shapeEquals(t.shape, want.shape)) throw new RunError(`input '${want.name}' must be ${want.dtype}${formatShape(want.shape)}, got ${t.dtype}${formatShape(t.shape)}`);
      values.set(g.inputs[i]!, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice());
    });
    const value = (id: number) => {
      const v = values.get(id as TensorId) ?? g.constants.get(id as TensorId)?.read();
      if (!v) throw new RunError(`tensor ${id} has no value yet`);
      return v;
    };
    const stats: VmNodeStats[] = [];
    g.nodes.forEach((n, k) => {
      const vm = this.manifest.nodes[k]!.vm!;
      const t0 = performance.now();
      const image = nodeImage(g, n, vm, this.codes[k]!, value);
      const fault = opts.faults?.get(k);
      let status: number, steps: number, pc: number, mem = image.mem;
      if (fault) {
        const t = new Tracer(image, { fault });
        steps = t.runToEnd(VM_STEP_LIMIT);
        status = t.finalStatus;
        pc = t.stateAt(steps).pc;
        mem = t.finalMemory;
      } else {
        const it = new Interpreter(image.mem, { pc: image.pc, code: image.code });
        while (it.status === 0 && it.steps < VM_STEP_LIMIT) it.run(1 << 24);
        ({ status, steps, pc } = it);
      }
      if (status !== 1) {
        throw new RunError(`node ${k + 1} '${n.name}' (${n.op}): the OPVM stopped with status ${STATUS_NAMES[status] ?? status} at pc ${pc} after ${steps} steps`);
      }
      let outs = n.outputs.map((_, i) => readNodeOutput(g, n, vm, mem, i));
      if (opts.alterOutputs) outs = opts.alterOutputs(k, outs);
      n.outputs.forEach((o, i) => values.set(o, outs[i]!));
      const s = { index: k + 1, steps, ms: performance.now() - t0 };
      stats.push(s);
      opts.onNode?.(s, g.nodes.length);
    });
    const outputs = g.outputs.map((o) => {
      const t = g.tensors[o]!;
      const b = value(o);
      if (b.length !== numel(t.shape) * dtypeSize(t.dtype)) throw new RunError(`output ${t.name}: wrong size`);
      return hostFromBytes(t.dtype, t.shape, b.slice());
    });
    return { outputs, values, stats };
  }
}
