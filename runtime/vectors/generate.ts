/**
 * `opml vectors`: the golden vectors in test-vectors/ that the TypeScript and Solidity sides must both
 * reproduce — OPVM step vectors for every opcode (opcodes.ts), Merkle proofs, node initial-root
 * composition, and whole-model traces of the bundled models (model hash, commitment, node records, code
 * roots, layouts, S_k, each node's initial memory root, VM step count and final state, outputs).
 * Generation is deterministic; a test regenerates and compares with the committed files.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TensorId } from '../../converter/ir/types.ts';
import { importModel } from '../../converter/convert.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import { modelHash } from '../../converter/ir/encoding.ts';
import { compileGraph, manifestOf } from '../../compiler/compile.ts';
import { merkleProof, merkleRoot, ZERO_HASHES } from '../../compiler/commit/merkle.ts';
import { composeMemoryRoot, layoutHash, planNodeMemory } from '../../compiler/opvm/layout.ts';
import type { RegionSpec } from '../../compiler/opvm/layout.ts';
import { dataRoot } from '../../compiler/commit/tensor.ts';
import { NativeExecutor } from '../native/executor.ts';
import { traceRun } from '../native/trace.ts';
import { Tracer } from '../opvm/tracer.ts';
import { stateHash } from '../opvm/state.ts';
import { nodeImage } from '../opvm/node-image.ts';
import { opcodeVectors } from './opcodes.ts';

/** Deterministic bytes for vectors (keccak counter stream). */
function bytesFrom(seed: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i * 32 < n; i++) out.set(keccak256(new TextEncoder().encode(`${seed}/${i}`)).subarray(0, Math.min(32, n - 32 * i)), 32 * i);
  return out;
}

export function merkleVectors() {
  const cases = [1, 2, 3, 5, 8, 13].map((n) => {
    const leaves = Array.from({ length: n }, (_, i) => bytesFrom(`merkle-${n}-${i}`, 32));
    const depth = Math.max(1, Math.ceil(Math.log2(n)));
    return {
      leaves: leaves.map(toHex), depth, root: toHex(merkleRoot(leaves, depth)),
      proofs: leaves.map((_, i) => ({ index: i, siblings: merkleProof(leaves, i, depth).map(toHex) })),
    };
  });
  return { zeroHashes: ZERO_HASHES.slice(0, 27).map(toHex), trees: cases };
}

export function layoutVectors() {
  const specsList: RegionSpec[][] = [
    [{ kind: 'code', index: 0, bytes: 32 * 100 }],
    [{ kind: 'code', index: 0, bytes: 32 * 37 }, { kind: 'input', index: 0, bytes: 4 * 784 }, { kind: 'input', index: 1, bytes: 4 * 10 * 784 }, { kind: 'input', index: 2, bytes: 40 }, { kind: 'output', index: 0, bytes: 40 }],
    [{ kind: 'code', index: 0, bytes: 32 * 5000 }, { kind: 'input', index: 0, bytes: 0 }, { kind: 'output', index: 0, bytes: 1 }, { kind: 'output', index: 1, bytes: 33 }, { kind: 'scratch', index: 0, bytes: 4096 }],
    [{ kind: 'code', index: 0, bytes: 32 * 64 }, { kind: 'input', index: 0, bytes: 2048 }, { kind: 'input', index: 1, bytes: 2048 }, { kind: 'output', index: 0, bytes: 2048 }, { kind: 'scratch', index: 0, bytes: 2048 }],
  ];
  return specsList.map((specs, c) => {
    const layout = planNodeMemory(specs);
    const regions = layout.regions.map((r, i) => {
      const content = r.kind === 'output' || r.kind === 'scratch' ? new Uint8Array(r.bytes) : bytesFrom(`layout-${c}-${i}`, r.bytes);
      return { ...r, root: toHex(r.kind === 'output' || r.kind === 'scratch' ? ZERO_HASHES[r.height]! : dataRoot(content)) };
    });
    const memRoot = composeMemoryRoot(regions.map((r) => ({ height: r.height, root: Buffer.from(r.root.slice(2), 'hex') })));
    return { regions, layoutHash: toHex(layoutHash(layout.regions)), memoryRoot: toHex(memRoot) };
  });
}

export const VECTOR_MODELS: { name: string; file: string; input: string }[] = [
  { name: 'fmnist-mlp', file: 'models/fmnist-mlp/model.onnx', input: 'models/fmnist-mlp/samples/input_0.pb' },
  { name: 'fmnist-cnn', file: 'models/fmnist-cnn/model.onnx', input: 'models/fmnist-cnn/samples/input_0.pb' },
  { name: 'fmnist-cnn-int8', file: 'models/fmnist-cnn-int8/model.onnx', input: 'models/fmnist-cnn-int8/samples/input_0.pb' },
  { name: 'fmnist-tfjs', file: 'models/fmnist-tfjs/model.json', input: 'models/fmnist-tfjs/samples/input_0.pb' },
  { name: 'tiny-transformer', file: 'models/tiny-transformer/model.onnx', input: 'models/tiny-transformer/samples/input_0.pb' },
];

export async function modelVector(root: string, m: (typeof VECTOR_MODELS)[number]) {
  const { graph } = importModel(path.join(root, m.file));
  const hashes = new Map<TensorId, Uint8Array>();
  for (const [id, c] of graph.constants) hashes.set(id, keccak256(c.read()));
  const compiled = compileGraph(graph, m.file);
  const manifest = manifestOf(compiled, toHex(modelHash(graph, hashes)), 'vectors');
  const ex = await NativeExecutor.create(graph, manifest, compiled.kernels.map((k) => k.wasm));
  try {
    const input = readTensorFile(path.join(root, m.input), graph.tensors[graph.inputs[0]!]);
    const trace = traceRun(ex, [input]);
    const value = (id: number) => { const t = ex.tensor(id as TensorId); return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength); };
    const nodes = graph.nodes.map((n, k) => {
      const vm = compiled.kernels[k]!.node.vm!;
      const tracer = new Tracer(nodeImage(graph, n, vm, compiled.kernels[k]!.opvm!, value));
      const steps = tracer.runToEnd();
      const initial = tracer.stateAt(0);
      return {
        index: k + 1, op: n.op, inputs: n.inputs, outputs: n.outputs, codeRoot: vm.codeRoot, insns: vm.insns, layoutHash: vm.layoutHash,
        regions: vm.regions, stepBound: vm.stepBound, record: vm.record, initialMemoryRoot: toHex(initial.memRoot), initialState: toHex(stateHash(initial)),
        steps, finalState: toHex(stateHash(tracer.stateAt(steps))),
      };
    });
    return {
      model: m.name, modelHash: manifest.modelHash, commitment: manifest.model, input: m.input,
      inputCommitment: toHex(trace.commitments[graph.inputs[0]!]!), states: trace.states.map(toHex),
      outputs: graph.outputs.map((o) => ({ slot: o, commitment: toHex(trace.commitments[o]!) })), nodes,
    };
  } finally {
    await ex.close();
  }
}

export interface VectorFile {
  file: string;
  content: string;
}

export async function generateVectors(root: string, opts: { models?: readonly string[]; onProgress?: (what: string) => void } = {}): Promise<VectorFile[]> {
  const json = (x: unknown) => JSON.stringify(x, null, 1) + '\n';
  const files: VectorFile[] = [];
  opts.onProgress?.('opcodes');
  files.push({ file: 'opvm-steps.json', content: json({ spec: 'docs/opvm.md', vectors: opcodeVectors() }) });
  files.push({ file: 'merkle.json', content: json(merkleVectors()) });
  files.push({ file: 'layout.json', content: json({ spec: 'docs/opvm.md §7', cases: layoutVectors() }) });
  for (const m of VECTOR_MODELS.filter((x) => !opts.models || opts.models.includes(x.name))) {
    opts.onProgress?.(m.name);
    files.push({ file: `models/${m.name}.json`, content: json(await modelVector(root, m)) });
  }
  return files;
}

/** Write the files atomically per file; returns the names of files whose content changed. */
export function writeVectors(dir: string, files: readonly VectorFile[]): string[] {
  const changed: string[] = [];
  for (const f of files) {
    const p = path.join(dir, f.file);
    if (fs.existsSync(p) && fs.readFileSync(p, 'utf8') === f.content) continue;
    changed.push(f.file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(`${p}.tmp`, f.content);
    fs.renameSync(`${p}.tmp`, p);
  }
  return changed;
}

/** Files whose committed content differs from `files` (missing counts as differing). */
export function driftedVectors(dir: string, files: readonly VectorFile[]): string[] {
  return files.filter((f) => { const p = path.join(dir, f.file); return !fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== f.content; }).map((f) => f.file);
}
