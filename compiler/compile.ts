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
import { planArena } from './arena.ts';
import { kernelGenerator } from './kernels/registry.ts';
import './kernels/index.ts';
import type { CompiledManifest, CompiledNode } from './format.ts';
import { COMPILED_FORMAT, COMPILED_VERSION, KERNEL_DIR, MANIFEST_FILE } from './format.ts';
import { dtypeSize } from '../converter/ir/dtype.ts';

export { CompileError };

export function kernelForNode(g: Graph, n: Node): Kernel {
  const gen = kernelGenerator(n.op);
  if (!gen) throw new CompileError(`node '${n.name}' (${n.op}): no kernel for op ${n.op} yet`);
  return gen({ op: n.op, name: n.name, inputs: n.inputs.map((i) => g.tensors[i]!), outputs: n.outputs.map((o) => g.tensors[o]!), attrs: n.attrs });
}

/** Buffer → arena address: inputs and outputs by position, scratch packed in the scratch area. */
export function nodeLayout(n: Node, k: Kernel, arena: ArenaLayout): { addressOf(b: Buffer): number } {
  const map = new Map<Buffer, number>();
  const ins = k.buffers.filter((b) => b.role === 'input');
  const outs = k.buffers.filter((b) => b.role === 'output');
  if (ins.length !== n.inputs.length || outs.length !== n.outputs.length) {
    throw new CompileError(`kernel for ${n.op} declares ${ins.length}/${outs.length} buffers for ${n.inputs.length}/${n.outputs.length} tensors`);
  }
  ins.forEach((b, i) => map.set(b, arena.offsets[n.inputs[i]!]!));
  outs.forEach((b, i) => map.set(b, arena.offsets[n.outputs[i]!]!));
  let at = arena.scratchOffset;
  for (const b of k.buffers.filter((x) => x.role === 'scratch')) {
    map.set(b, at);
    at += Math.ceil((b.numel * dtypeSize(b.dtype)) / 64) * 64;
  }
  return { addressOf: (b) => map.get(b)! };
}

function scratchBytes(k: Kernel): number {
  return k.buffers.filter((b) => b.role === 'scratch').reduce((a, b) => a + Math.ceil((b.numel * dtypeSize(b.dtype)) / 64) * 64, 0);
}

export interface CompileOptions {
  onProgress?: (done: number, total: number) => void;
}

export interface CompiledKernel {
  node: CompiledNode;
  wasm: Uint8Array;
}

export interface CompiledGraph {
  arena: ArenaLayout;
  kernels: CompiledKernel[];
}

/** Compile every node of a graph in memory. Throws CompileError listing every op without a kernel. */
export function compileGraph(g: Graph, source: string, opts: CompileOptions = {}): CompiledGraph {
  const missing = new Map<string, string[]>();
  const kernels: Kernel[] = [];
  for (const n of g.nodes) {
    try {
      kernels.push(kernelForNode(g, n));
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      missing.set(n.op, [...(missing.get(n.op) ?? []), n.name]);
    }
  }
  if (missing.size) {
    throw new CompileError(`${source}: ${missing.size} op${missing.size > 1 ? 's have' : ' has'} no kernel yet:`,
      [...missing].map(([op, names]) => `${op}: used by ${names.slice(0, 3).map((x) => `'${x}'`).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`));
  }
  const arena = planArena(g, Math.max(0, ...kernels.map(scratchBytes)));
  const compiled = g.nodes.map((n, i) => {
    const t0 = performance.now();
    const k = kernels[i]!;
    const wasm = buildKernelModule(k, nodeLayout(n, k, arena), { simd: true, memoryPages: arena.pages, shared: true });
    opts.onProgress?.(i + 1, g.nodes.length);
    const file = `${KERNEL_DIR}/${String(i).padStart(4, '0')}.wasm`;
    const node: CompiledNode = {
      index: i, op: n.op, name: n.name, native: file, nativeHash: toHex(keccak256(wasm)),
      splitExtent: splitExtent(k) ?? null, work: estimateWork(k), compileMs: +(performance.now() - t0).toFixed(2),
    };
    return { node, wasm };
  });
  return { arena, kernels: compiled };
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
  try {
    for (const k of c.kernels) fs.writeFileSync(path.join(tmp, k.node.native), k.wasm);
    fs.copyFileSync(path.join(bundleDir, GRAPH_FILE), path.join(tmp, GRAPH_FILE));
    fs.copyFileSync(path.join(bundleDir, WEIGHTS_FILE), path.join(tmp, WEIGHTS_FILE));
    const manifest: CompiledManifest = {
      format: COMPILED_FORMAT, version: COMPILED_VERSION, modelHash: b.modelHash, compiler: 'opml 0.1.0',
      arena: { ...c.arena, offsets: [...c.arena.offsets] }, nodes: c.kernels.map((k) => k.node),
    };
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
