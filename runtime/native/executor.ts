/**
 * Native executor: runs a compiled bundle's kernels in order in V8's WebAssembly over one arena
 * memory (weights loaded once), feeding each node's outputs to the next through fixed addresses.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Graph, TensorId } from '../../converter/ir/types.ts';
import { formatShape, numel, shapeEquals } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { readBundle } from '../../converter/bundle/read.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import type { CompiledManifest } from '../../compiler/format.ts';
import { COMPILED_FORMAT, COMPILED_VERSION, KERNEL_EXPORT, MANIFEST_FILE } from '../../compiler/format.ts';
import type { KernelFn } from './pool.ts';
import { ThreadPool } from './pool.ts';

export class RunError extends Error {
  override readonly name = 'RunError';
}

/** Kernels below this estimated work run on one thread: waking workers costs more than it saves. */
export const THREAD_MIN_WORK = 200_000;

export interface ExecutorOptions {
  /** Threads for kernels that split across outputs (default 1). Results do not depend on it. */
  threads?: number;
}

export function readManifest(dir: string): CompiledManifest {
  const p = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(p)) throw new RunError(`${dir} is not a compiled bundle (no ${MANIFEST_FILE}); make one with 'opml compile'`);
  let m: CompiledManifest;
  try {
    m = JSON.parse(fs.readFileSync(p, 'utf8')) as CompiledManifest;
  } catch (e) {
    throw new RunError(`${p}: not valid JSON (${(e as Error).message}); the compiled bundle is damaged, run 'opml compile' again`);
  }
  if (!m || typeof m !== 'object') throw new RunError(`${p}: not a compiled-bundle manifest; run 'opml compile' again`);
  if (m.format !== COMPILED_FORMAT || m.version !== COMPILED_VERSION) throw new RunError(`${p}: format ${m.format} v${m.version}, this opml reads ${COMPILED_FORMAT} v${COMPILED_VERSION}; run 'opml compile' again`);
  return m;
}

/** A file of a compiled bundle; a missing or unreadable one is reported as a damaged bundle. */
export function readCompiledFile(dir: string, rel: string): Uint8Array {
  const p = path.join(dir, rel);
  try {
    return new Uint8Array(fs.readFileSync(p));
  } catch (e) {
    throw new RunError(`${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the compiled bundle is incomplete, run 'opml compile' again`);
  }
}

export class NativeExecutor {
  private constructor(
    readonly graph: Graph,
    readonly manifest: CompiledManifest,
    private readonly memory: WebAssembly.Memory,
    private readonly kernels: KernelFn[],
    private readonly pool: ThreadPool | undefined,
  ) {}

  static async load(dir: string, opts: ExecutorOptions = {}): Promise<NativeExecutor> {
    const manifest = readManifest(dir);
    const { graph, modelHash } = readBundle(dir);
    if (modelHash !== manifest.modelHash) throw new RunError(`${dir}: kernels were compiled for model ${manifest.modelHash}, the bundle's graph is ${modelHash}; compile again`);
    const wasm = manifest.nodes.map((n, i) => {
      const bytes = readCompiledFile(dir, n.native);
      if (n.nativeHash && toHex(keccak256(bytes)) !== n.nativeHash) {
        throw new RunError(`${path.join(dir, n.native)}: the kernel of node ${i + 1} does not match its hash in the manifest; the compiled bundle is damaged, run 'opml compile' again`);
      }
      return bytes;
    });
    return NativeExecutor.create(graph, manifest, wasm, opts);
  }

  /** From a graph and its kernels in memory (conformance runs, tests). */
  static async create(graph: Graph, manifest: CompiledManifest, wasm: readonly Uint8Array[], opts: ExecutorOptions = {}): Promise<NativeExecutor> {
    const pages = manifest.arena.pages;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const bytes = new Uint8Array(memory.buffer);
    for (const [id, c] of graph.constants) bytes.set(c.read(), manifest.arena.offsets[id]!);
    const modules = await Promise.all(wasm.map((w) => WebAssembly.compile(w)));
    const kernels = await Promise.all(modules.map(async (mod) => (await WebAssembly.instantiate(mod, { env: { memory } })).exports[KERNEL_EXPORT] as KernelFn));
    const threads = Math.max(1, Math.floor(opts.threads ?? 1));
    const splittable = manifest.nodes.some((n) => n.splitExtent !== null && n.work >= THREAD_MIN_WORK);
    const pool = threads > 1 && splittable ? await ThreadPool.start(threads, memory, modules) : undefined;
    return new NativeExecutor(graph, manifest, memory, kernels, pool);
  }

  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Stop the worker threads (if any). */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** Run the model on inputs given in the model's input order. */
  run(inputs: readonly HostTensor[]): HostTensor[] {
    const g = this.graph;
    if (inputs.length !== g.inputs.length) throw new RunError(`the model takes ${g.inputs.length} inputs (${g.inputs.map((i) => g.tensors[i]!.name).join(', ')}), got ${inputs.length}`);
    const bytes = new Uint8Array(this.memory.buffer);
    inputs.forEach((t, i) => {
      const want = g.tensors[g.inputs[i]!]!;
      if (t.dtype !== want.dtype || !shapeEquals(t.shape, want.shape)) {
        throw new RunError(`input '${want.name}' must be ${want.dtype}${formatShape(want.shape)}, got ${t.dtype}${formatShape(t.shape)}`);
      }
      bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), this.manifest.arena.offsets[g.inputs[i]!]!);
    });
    const nodes = this.manifest.nodes;
    for (let i = 0; i < this.kernels.length; i++) {
      const n = nodes[i]!;
      if (this.pool && n.splitExtent !== null && n.splitExtent > 1 && n.work >= THREAD_MIN_WORK) this.pool.run(i, this.kernels[i]!, n.splitExtent);
      else this.kernels[i]!(0, 0x7fffffff);
    }
    return g.outputs.map((o) => this.tensor(o));
  }

  /** A copy of tensor `id`'s current value in the arena. */
  tensor(id: TensorId): HostTensor {
    const t = this.graph.tensors[id]!;
    const off = this.manifest.arena.offsets[id]!;
    const len = numel(t.shape) * dtypeSize(t.dtype);
    return hostFromBytes(t.dtype, t.shape, new Uint8Array(this.memory.buffer).slice(off, off + len));
  }
}
