/**
 * Graph bundle → compiled bundle: one kernel per node, specialised to its shapes and attributes and to
 * the native arena layout, validated and optimised by binaryen. Written atomically.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Graph, Node } from '../converter/ir/types.ts';
import { readBundle } from '../converter/bundle/read.ts';
import { CompileError } from './errors.ts';
import { GRAPH_FILE, WEIGHTS_FILE } from '../converter/bundle/format.ts';
import { keccak256, toHex } from '../converter/ir/keccak.ts';
import type { Buffer, Kernel } from './kernel/ast.ts';
import { buildKernelModule } from './kernel/module.ts';
import { splitExtent } from './kernel/emit-wasm.ts';
import { estimateWork } from './kernel/analysis.ts';
import type { ArenaLayout } from './arena.ts';
import { ArenaError, memoryOfNode, offsetIn, planArena } from './arena.ts';
import { kernelGenerator } from './kernels/registry.ts';
import './kernels/index.ts';
import type { CompiledManifest, CompiledModelCommitment, CompiledNode, CompiledVmNode } from './format.ts';
import type { PackedConstant } from './native-layout.ts';
import { packedConstants } from './native-layout.ts';
import { COMPILED_FORMAT, COMPILED_VERSION, KERNEL_DIR, MANIFEST_FILE, OPVM_DIR } from './format.ts';
import { compileNodeVm } from './opvm/compile-node.ts';
import type { StepBound } from './opvm/step-bound.ts';
import { modelCommitment } from './commit/model.ts';
import type { ChunkedTree } from './commit/constant-tree.ts';
import { CONSTANT_TREE_FILE, encodeConstantTrees } from './commit/constant-tree.ts';
import { LowerError } from './opvm/lower.ts';
import { LayoutError } from './opvm/layout.ts';
import { dtypeSize } from '../converter/ir/dtype.ts';

export { CompileError };

export function kernelForNode(g: Graph, n: Node, packed?: ReadonlySet<number>): Kernel {
  const gen = kernelGenerator(n.op);
  if (!gen) throw new CompileError(`node '${n.name}' (${n.op}): no kernel for op ${n.op} yet`);
  const packedB = n.op === 'MatMul' && packed?.has(n.inputs[1]!) === true;
  return gen({ op: n.op, name: n.name, inputs: n.inputs.map((i) => g.tensors[i]!), outputs: n.outputs.map((o) => g.tensors[o]!), attrs: n.attrs, ...(packedB ? { packedB } : {}) });
}

/**
 * Buffer → address in the arena memory node `index` runs in: inputs and outputs by position, scratch
 * packed in that memory's scratch area.
 */
export function nodeLayout(n: Node, k: Kernel, arena: ArenaLayout, index: number): { addressOf(b: Buffer): number } {
  const mem = arena.memories[memoryOfNode(arena, index)]!;
  const at = (t: number) => {
    const o = offsetIn(mem, t);
    if (o === undefined) throw new CompileError(`node '${n.name}' (${n.op}): tensor ${t} has no slot in its arena memory`);
    return o;
  };
  const map = new Map<Buffer, number>();
  const ins = k.buffers.filter((b) => b.role === 'input');
  const outs = k.buffers.filter((b) => b.role === 'output');
  if (ins.length !== n.inputs.length || outs.length !== n.outputs.length) {
    throw new CompileError(`kernel for ${n.op} declares ${ins.length}/${outs.length} buffers for ${n.inputs.length}/${n.outputs.length} tensors`);
  }
  ins.forEach((b, i) => map.set(b, at(n.inputs[i]!)));
  outs.forEach((b, i) => map.set(b, at(n.outputs[i]!)));
  let s = mem.scratchOffset;
  for (const b of k.buffers.filter((x) => x.role === 'scratch')) {
    map.set(b, s);
    s += Math.ceil((b.numel * dtypeSize(b.dtype)) / 64) * 64;
  }
  return { addressOf: (b) => map.get(b)! };
}

function scratchBytes(k: Kernel): number {
  return k.buffers.filter((b) => b.role === 'scratch').reduce((a, b) => a + Math.ceil((b.numel * dtypeSize(b.dtype)) / 64) * 64, 0);
}

export interface CompileOptions {
  onProgress?: (done: number, total: number) => void;
  /** Also lower every kernel to OPVM code and compute the model commitment (default true). */
  vm?: boolean;
  /** Told about a node whose OPVM step bound is weaker than usual (default: a warning line on stderr). */
  onWarning?: (message: string) => void;
  /**
   * Most bytes of one native arena memory (default: one wasm32 memory, 4 GiB − 64 KiB); a model that needs
   * more is cut into several memories (compiler/arena.ts). Tests set it small to exercise that path.
   */
  memoryLimit?: number;
}

export interface CompiledKernel {
  node: CompiledNode;
  wasm: Uint8Array;
  /** OPVM code (32 bytes per instruction) when compiled with vm. */
  opvm?: Uint8Array;
}

export interface CompiledGraph {
  arena: ArenaLayout;
  /** Constants the native arena holds in another layout (compiler/native-layout.ts). */
  packed: PackedConstant[];
  kernels: CompiledKernel[];
  model?: CompiledModelCommitment;
  /** Each constant's data-root tree cut at CHUNK_HEIGHT, written as constant-tree.bin (compiler/commit/constant-tree.ts). */
  constantTrees?: Map<number, ChunkedTree>;
}

/** Compile every node of a graph in memory. Throws CompileError listing every op without a kernel. */
export function compileGraph(g: Graph, source: string, opts: CompileOptions = {}): CompiledGraph {
  const missing = new Map<string, string[]>();
  const kernels: Kernel[] = [];
  const packed = packedConstants(g);
  const packedIds = new Set(packed.map((p) => p.tensor));
  for (const n of g.nodes) {
    try {
      kernels.push(kernelForNode(g, n, packedIds));
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      missing.set(n.op, [...(missing.get(n.op) ?? []), n.name]);
    }
  }
  if (missing.size) {
    throw new CompileError(`${source}: ${missing.size} op${missing.size > 1 ? 's have' : ' has'} no kernel yet:`,
      [...missing].map(([op, names]) => `${op}: used by ${names.slice(0, 3).map((x) => `'${x}'`).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`));
  }
  let arena: ArenaLayout;
  try {
    arena = planArena(g, kernels.map(scratchBytes), opts.memoryLimit);
  } catch (e) {
    if (e instanceof ArenaError) throw new CompileError(`${source}: ${e.message}`);
    throw e;
  }
  const compiled = g.nodes.map((n, i) => {
    const t0 = performance.now();
    const k = kernels[i]!;
    const pages = arena.memories[memoryOfNode(arena, i)]!.pages;
    const wasm = buildKernelModule(k, nodeLayout(n, k, arena, i), { simd: true, memoryPages: pages, shared: true });
    opts.onProgress?.(i + 1, g.nodes.length);
    const file = `${KERNEL_DIR}/${String(i).padStart(4, '0')}.wasm`;
    let vm: { node: CompiledVmNode; code: Uint8Array } | undefined;
    if (opts.vm !== false) vm = compileVm(k, n, i);
    if (vm?.node.stepBoundNote) (opts.onWarning ?? warnOnStderr)(`node ${i + 1} '${n.name}' (${n.op}): ${vm.node.stepBoundNote}`);
    const node: CompiledNode = {
      index: i, op: n.op, name: n.name, native: file, nativeHash: toHex(keccak256(wasm)),
      splitExtent: splitExtent(k) ?? null, work: estimateWork(k), compileMs: +(performance.now() - t0).toFixed(2),
      ...(vm ? { vm: vm.node } : {}),
    };
    return { node, wasm, ...(vm ? { opvm: vm.code } : {}) };
  });
  if (opts.vm === false) return { arena, packed, kernels: compiled };
  const mc = modelCommitment(g, compiled.map((c) => ({ codeRoot: hexBytes(c.node.vm!.codeRoot), layoutHash: hexBytes(c.node.vm!.layoutHash), stepBound: c.node.vm!.stepBound })));
  compiled.forEach((c, i) => { c.node.vm!.record = toHex(mc.records[i]!); });
  return {
    arena, packed, kernels: compiled,
    model: { commitment: toHex(mc.commitment), recordsRoot: toHex(mc.recordsRoot), constantState: toHex(mc.constantState), io: toHex(mc.io) },
    ...(mc.constantTrees ? { constantTrees: mc.constantTrees } : {}),
  };
}

const hexBytes = (h: string) => Uint8Array.from(Buffer.from(h.slice(2), 'hex'));

function compileVm(k: Kernel, n: Node, i: number): { node: CompiledVmNode; code: Uint8Array } {
  try {
    const p = compileNodeVm(k);
    return {
      code: p.code,
      node: {
        code: `${OPVM_DIR}/${String(i).padStart(4, '0')}.opvm`, codeRoot: toHex(p.codeRoot), insns: p.insns, codeBase: p.codeBase,
        registers: p.registers, spillSlots: p.spillSlots, layoutHash: toHex(p.layout.layoutHash), stepBound: p.stepBound.steps,
        ...stepBoundNote(p.stepBound),
        regions: p.layout.regions.map((r) => ({ kind: r.kind, index: r.index, height: r.height, address: r.address, bytes: r.bytes })),
        record: '',
      },
    };
  } catch (e) {
    if (e instanceof LayoutError && /bytes of VM memory/.test(e.message)) {
      // one node's inputs, outputs and scratch exceed the OPVM's memory (docs/opvm.md §7): only splitting the node helps
      throw new CompileError(`node ${i + 1} '${n.name}' (${n.op}): OPVM: ${e.message}; a node this large must be split into smaller nodes`);
    }
    if (e instanceof LowerError || e instanceof LayoutError) throw new CompileError(`node '${n.name}' (${n.op}): OPVM: ${e.message}`);
    throw e;
  }
}

const warnOnStderr = (message: string) => { process.stderr.write(`warning: ${message}\n`); };

/** Why a node's step bound is the cap or rests on the kernel-wide trip count, for the manifest and the compile output. */
function stepBoundNote(b: StepBound): { stepBoundNote?: string } {
  if (b.fallback !== null) return { stepBoundNote: `no step bound (${b.fallback}): capped at MAX_STEPS = 2^48` };
  if (b.unknownLoops > 0) return { stepBoundNote: `${b.unknownLoops} of ${b.loops} loops have no kernel loop range; bounded by the kernel's longest loop` };
  return {};
}

/**
 * The weights file: a hard link when the file system allows (bundles are never modified in place, only
 * replaced by rename, so sharing the inode is safe and compile neither reads nor writes the weights a second
 * time), else a copy (a reflink where supported).
 */
function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to, fs.constants.COPYFILE_FICLONE);
  }
}

/** The manifest of a compiled graph (docs/kernels.md), as a bundle holds it and the executors read it. */
export function manifestOf(c: CompiledGraph, modelHash = '', compiler = 'opml 0.1.0'): CompiledManifest {
  return {
    format: COMPILED_FORMAT, version: COMPILED_VERSION, modelHash, compiler,
    arena: { ...c.arena, offsets: [...c.arena.offsets] }, packed: c.packed, nodes: c.kernels.map((k) => k.node),
    ...(c.model ? { model: c.model } : {}),
  };
}

export function compileBundle(bundleDir: string, outDir: string, opts: CompileOptions = {}): CompiledManifest {
  const b = readBundle(bundleDir);
  const c = compileGraph(b.graph, bundleDir, opts);
  const dir = path.resolve(outDir);
  if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new CompileError(`${outDir} exists and is not a compiled bundle; choose another output path or remove it`);
  }
  const tmp = `${dir}.tmp-${process.pid}-${Date.now().toString(36)}`;
  fs.mkdirSync(path.join(tmp, KERNEL_DIR), { recursive: true });
  fs.mkdirSync(path.join(tmp, OPVM_DIR), { recursive: true });
  try {
    for (const k of c.kernels) {
      fs.writeFileSync(path.join(tmp, k.node.native), k.wasm);
      if (k.opvm) fs.writeFileSync(path.join(tmp, k.node.vm!.code), k.opvm);
    }
    fs.copyFileSync(path.join(bundleDir, GRAPH_FILE), path.join(tmp, GRAPH_FILE));
    linkOrCopy(path.join(bundleDir, WEIGHTS_FILE), path.join(tmp, WEIGHTS_FILE));
    const manifest = manifestOf(c, b.modelHash);
    if (c.constantTrees) fs.writeFileSync(path.join(tmp, CONSTANT_TREE_FILE), encodeConstantTrees(c.constantTrees));
    fs.writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 1) + '\n');
    if (fs.existsSync(dir)) {
      const old = `${dir}.tmp-old-${process.pid}-${Date.now().toString(36)}`;
      fs.renameSync(dir, old);
      fs.renameSync(tmp, dir);
      fs.rmSync(old, { recursive: true, force: true });
    } else fs.renameSync(tmp, dir);
    return manifest;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
