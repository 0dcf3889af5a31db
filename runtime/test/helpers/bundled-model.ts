/**
 * A bundled model (models/NAME/FILE) converted and compiled in memory, run natively once on its
 * samples/input_1.pb: what the per-node OPVM tests start from.
 */
import path from 'node:path';
import type { Graph, TensorId } from '../../../converter/ir/types.ts';
import type { HostTensor } from '../../../converter/ir/host-tensor.ts';
import { importModel } from '../../../converter/convert.ts';
import { readTensorFile } from '../../../converter/io/tensor-files.ts';
import type { CompiledGraph } from '../../../compiler/compile.ts';
import { compileGraph, manifestOf } from '../../../compiler/compile.ts';
import type { CompiledManifest } from '../../../compiler/format.ts';
import { NativeExecutor } from '../../native/executor.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

export interface BundledRun {
  graph: Graph;
  compiled: CompiledGraph;
  manifest: CompiledManifest;
  input: HostTensor;
  /** The executor after the run (close it). */
  ex: NativeExecutor;
  /** A tensor's bytes after the run. */
  bytes(id: number): Uint8Array;
}

export async function runBundledModel(name: string, file: string): Promise<BundledRun> {
  const { graph } = importModel(path.join(ROOT, 'models', name, file));
  const compiled = compileGraph(graph, name);
  const manifest = manifestOf(compiled, '', 'test');
  const input = readTensorFile(path.join(ROOT, 'models', name, 'samples', 'input_1.pb'), graph.tensors[graph.inputs[0]!]);
  const ex = await NativeExecutor.create(graph, manifest, compiled.kernels.map((k) => k.wasm));
  ex.run([input]);
  const bytes = (id: number) => { const t = ex.tensor(id as TensorId); return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength); };
  return { graph, compiled, manifest, input, ex, bytes };
}
