/**
 * Native executor: runs a compiled bundle's kernels in order in V8's WebAssembly over the arena's
 * memories (compiler/arena.ts; weights read once, straight into place), feeding each node's outputs to
 * the next through fixed addresses, and copying the tensors a memory reads from earlier memories before
 * its first node runs (a model that fits one memory has no copies).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Graph, TensorId } from '../../converter/ir/types.ts';
import { formatShape, numel, shapeEquals } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { readBundle } from '../../converter/bundle/read.ts';
import { WEIGHTS_FILE } from '../../converter/bundle/format.ts';
import { memoryOfNode, offsetIn } from '../../compiler/arena.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import type { CompiledManifest } from '../../compiler/format.ts';
import { COMPILED_FORMAT, COMPILED_VERSION, KERNEL_EXPORT, MANIFEST_FILE } from '../../compiler/format.ts';
import type { KernelFn } from './pool.ts';
import type { PackedConstant } from '../../compiler/native-layout.ts';
import { packPanels, unpackPanels } from '../../compiler/native-layout.ts';
import { hostKernels } from './cpu.ts';
import type { HostCall } from './host-calls.ts';
import { hostCalls } from './host-calls.ts';
import { ThreadPool } from './pool.ts';

export class RunError extends Error {
  override readonly name = 'RunError';
}

/** Kernels below this estimated work run on one thread: waking workers costs more than it saves. */
export const THREAD_MIN_WORK = 200_000;

/**
 * Host kernels below this estimated work (about 0.2 ms on one core) run on one thread: the addon starts
 * its threads on every call, which costs tens of microseconds each.
 */
const HOST_THREAD_MIN_WORK = 1 << 23;

export interface ExecutorOptions {
  /** Threads for kernels that split across outputs (default 1). Results do not depend on it. */
  threads?: number;
  /**
   * Run MatMul over a packed B, 2-D Conv and ConvInteger with the host kernels when they are available
   * (default true; runtime/native/cpu.ts). Results do not depend on it.
   */
  hostKernels?: boolean;
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

/** A copy of one tensor's bytes from its home memory into a later memory that reads it. */
interface Copy { from: number; fromOffset: number; to: number; toOffset: number; bytes: number }

/** Where the weights of a graph bundle lie in its weights.bin (to read them straight into the arena). */
interface WeightsFile { file: string; at: ReadonlyMap<number, { offset: number; byteLength: number }> }

export class NativeExecutor {
  /** A view of every arena memory (fixed size, so the views stay valid). */
  private readonly views: Uint8Array[];

  private constructor(
    readonly graph: Graph,
    readonly manifest: CompiledManifest,
    private readonly memories: WebAssembly.Memory[],
    private readonly kernels: KernelFn[],
    private readonly pool: ThreadPool | undefined,
    /** copiesBefore[i]: tensors copied from earlier memories before node i runs (only at a memory's first node). */
    private readonly copiesBefore: (Copy[] | undefined)[],
    /** For each model input (by position), every (memory, offset) that holds it. */
    private readonly inputSlots: { mem: number; offset: number }[][],
    /** hostCalls[i]: node i run by a host kernel instead of its WebAssembly kernel, given the thread count. */
    private readonly hostCalls: (HostCall | undefined)[],
    /** Threads asked for: the worker pool's (when a WebAssembly kernel is worth splitting) and the host kernels'. */
    readonly threads: number,
    /** Constants held in a native-only layout, by tensor id (compiler/native-layout.ts). */
    private readonly packed: ReadonlyMap<number, PackedConstant>,
  ) {
    this.views = memories.map((m) => new Uint8Array(m.buffer));
  }

  static async load(dir: string, opts: ExecutorOptions = {}): Promise<NativeExecutor> {
    const manifest = readManifest(dir);
    const { graph, modelHash, json } = readBundle(dir);
    if (modelHash !== manifest.modelHash) throw new RunError(`${dir}: kernels were compiled for model ${manifest.modelHash}, the bundle's graph is ${modelHash}; compile again`);
    checkMemory(manifest, dir);
    const wasm = manifest.nodes.map((n, i) => {
      const bytes = readCompiledFile(dir, n.native);
      if (n.nativeHash && toHex(keccak256(bytes)) !== n.nativeHash) {
        throw new RunError(`${path.join(dir, n.native)}: the kernel of node ${i + 1} does not match its hash in the manifest; the compiled bundle is damaged, run 'opml compile' again`);
      }
      return bytes;
    });
    const weights: WeightsFile = { file: path.join(dir, WEIGHTS_FILE), at: new Map(json.constants.map((c) => [c.id, c])) };
    return NativeExecutor.build(graph, manifest, wasm, opts, weights, dir);
  }

  /** From a graph and its kernels in memory (conformance runs, tests). */
  static async create(graph: Graph, manifest: CompiledManifest, wasm: readonly Uint8Array[], opts: ExecutorOptions = {}): Promise<NativeExecutor> {
    checkMemory(manifest, 'the model');
    return NativeExecutor.build(graph, manifest, wasm, opts);
  }

  private static async build(graph: Graph, manifest: CompiledManifest, wasm: readonly Uint8Array[], opts: ExecutorOptions, weights?: WeightsFile, what = 'the model'): Promise<NativeExecutor> {
    const a = manifest.arena;
    const memories = a.memories.map((m) => {
      try {
        return new WebAssembly.Memory({ initial: m.pages, maximum: m.pages, shared: true });
      } catch (e) {
        throw new RunError(`${what}: cannot allocate its ${a.memories.length > 1 ? `${a.memories.length} arena memories (${gib(a.bytes)} in all)` : `arena memory (${gib(a.bytes)})`}: ${(e as Error).message}; free memory or run it on a machine with more`);
      }
    });
    const views = memories.map((m) => new Uint8Array(m.buffer));
    const packed = new Map((manifest.packed ?? []).map((p) => [p.tensor, p]));
    loadConstants(graph, manifest, views, packed, weights);
    const memOf = manifest.nodes.map((_, i) => memoryOfNode(a, i));
    const modules = await Promise.all(wasm.map((w) => WebAssembly.compile(w)));
    const kernels = await Promise.all(modules.map(async (mod, i) => (await WebAssembly.instantiate(mod, { env: { memory: memories[memOf[i]!]! } })).exports[KERNEL_EXPORT] as KernelFn));
    const threads = Math.max(1, Math.floor(opts.threads ?? 1));
    const splittable = manifest.nodes.some((n) => n.splitExtent !== null && n.work >= THREAD_MIN_WORK);
    const pool = threads > 1 && splittable ? await ThreadPool.start(threads, memories, memOf, modules) : undefined;
    const copiesBefore: (Copy[] | undefined)[] = new Array(manifest.nodes.length).fill(undefined);
    a.memories.forEach((m, to) => {
      const copies: Copy[] = [];
      m.tensors.forEach((id, j) => {
        const from = a.homes[id]!;
        if (from === to || graph.tensors[id]!.origin !== 'node') return;
        copies.push({ from, fromOffset: a.offsets[id]!, to, toOffset: m.offsets[j]!, bytes: numel(graph.tensors[id]!.shape) * dtypeSize(graph.tensors[id]!.dtype) });
      });
      if (copies.length && m.firstNode < copiesBefore.length) copiesBefore[m.firstNode] = copies;
    });
    const inputSlots = graph.inputs.map((id) => a.memories.flatMap((m, mem) => {
      const offset = offsetIn(m, id);
      return offset === undefined ? [] : [{ mem, offset }];
    }));
    const calls = hostCalls(graph, manifest, views, opts.hostKernels === false ? undefined : hostKernels(), packed);
    return new NativeExecutor(graph, manifest, memories, kernels, pool, copiesBefore, inputSlots, calls, threads, packed);
  }

  /** Stop the worker threads (if any). */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** Run the model on inputs given in the model's input order. */
  run(inputs: readonly HostTensor[]): HostTensor[] {
    const g = this.graph;
    if (inputs.length !== g.inputs.length) throw new RunError(`the model takes ${g.inputs.length} inputs (${g.inputs.map((i) => g.tensors[i]!.name).join(', ')}), got ${inputs.length}`);
    inputs.forEach((t, i) => {
      const want = g.tensors[g.inputs[i]!]!;
      if (t.dtype !== want.dtype || !shapeEquals(t.shape, want.shape)) {
        throw new RunError(`input '${want.name}' must be ${want.dtype}${formatShape(want.shape)}, got ${t.dtype}${formatShape(t.shape)}`);
      }
      const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      for (const s of this.inputSlots[i]!) this.views[s.mem]!.set(src, s.offset);
    });
    const nodes = this.manifest.nodes;
    for (let i = 0; i < this.kernels.length; i++) {
      const copies = this.copiesBefore[i];
      if (copies) for (const c of copies) this.views[c.to]!.set(this.views[c.from]!.subarray(c.fromOffset, c.fromOffset + c.bytes), c.toOffset);
      const n = nodes[i]!;
      const host = this.hostCalls[i];
      if (host) host(n.work >= HOST_THREAD_MIN_WORK ? this.threads : 1);
      else if (this.pool && n.splitExtent !== null && n.splitExtent > 1 && n.work >= THREAD_MIN_WORK) this.pool.run(i, this.kernels[i]!, n.splitExtent);
      else this.kernels[i]!(0, 0x7fffffff);
    }
    return g.outputs.map((o) => this.tensor(o));
  }

  /** How many nodes run by a host kernel (runtime/native/cpu.ts) rather than WebAssembly. */
  get hostNodes(): number {
    return this.hostCalls.filter((c) => c).length;
  }

  /** A copy of tensor `id`'s current value in the arena. */
  tensor(id: TensorId): HostTensor {
    const t = this.graph.tensors[id]!;
    const off = this.manifest.arena.offsets[id]!;
    const len = numel(t.shape) * dtypeSize(t.dtype);
    const bytes = this.views[this.manifest.arena.homes[id]!]!.subarray(off, off + len);
    const p = this.packed.get(id);
    if (!p) return hostFromBytes(t.dtype, t.shape, bytes.slice());
    const flat = new Uint8Array(len);
    unpackPanels(p, bytes, flat);
    return hostFromBytes(t.dtype, t.shape, flat);
  }
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** A model whose arena exceeds this machine's memory is refused before anything is allocated. */
function checkMemory(m: CompiledManifest, what: string): void {
  const a = m.arena;
  if (!a || !Array.isArray(a.memories) || !Array.isArray(a.homes)) throw new RunError(`${what}: the manifest has no arena memories; run 'opml compile' again`);
  const have = os.totalmem();
  if (a.bytes > have) {
    throw new RunError(`${what}: running it natively needs ${gib(a.bytes)} of memory (its weights and activations), this machine has ${gib(have)}; run it on a machine with more memory, or convert a smaller or quantized model`);
  }
}

/**
 * Every constant into every memory that holds it: read once from the bundle's weights.bin straight into
 * the arena (no intermediate copy), then copied between memories when several hold it; or from the graph's
 * constant sources for a graph built in memory. A constant the kernels read packed (manifest `packed`,
 * compiler/native-layout.ts) is read into one reused temporary buffer and permuted into place.
 */
function loadConstants(g: Graph, m: CompiledManifest, views: Uint8Array[], packed: ReadonlyMap<number, PackedConstant>, weights?: WeightsFile): void {
  const a = m.arena;
  const fd = weights ? fs.openSync(weights.file, 'r') : undefined;
  let tmp = new Uint8Array(0);
  try {
    const placed = new Map<number, { mem: number; offset: number }>();
    a.memories.forEach((mem, mi) => mem.tensors.forEach((id, j) => {
      const src = g.constants.get(id as TensorId);
      if (!src) return;
      const offset = mem.offsets[j]!;
      const len = src.byteLength;
      const first = placed.get(id);
      if (first) { views[mi]!.set(views[first.mem]!.subarray(first.offset, first.offset + len), offset); return; }
      placed.set(id, { mem: mi, offset });
      const p = packed.get(id);
      if (p && tmp.byteLength < len) tmp = new Uint8Array(len);
      const into = p ? tmp : views[mi]!, intoOffset = p ? 0 : offset;
      const at = weights?.at.get(id);
      if (fd !== undefined && at && at.byteLength === len) {
        let got = 0;
        while (got < len) {
          const n = fs.readSync(fd, into, intoOffset + got, Math.min(len - got, 1 << 30), at.offset + got);
          if (n === 0) throw new RunError(`${weights!.file}: truncated at constant '${g.tensors[id]!.name}'; the bundle is damaged, convert the model again`);
          got += n;
        }
      } else into.set(src.read(), intoOffset);
      if (p) packPanels(p, tmp.subarray(0, len), views[mi]!.subarray(offset, offset + len));
    }));
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
