/**
 * `opml generate`: token-by-token decoding of a causal language model, every token one verifiable
 * inference of a compiled bundle (docs/generate.md).
 *
 * Two modes, chosen from the ONNX model's inputs:
 *
 * - kv-cache: the model has past_key_values.N.key/value inputs and present.N.key/value outputs (the
 *   Hugging Face optimum decoder_with_past layout). The cache is a fixed-size window of P = context − 1
 *   positions, left-padded: valid entries are the last ones, padding slots hold zeros and are masked by
 *   attention_mask. Each bundle is the ONNX graph with static shapes plus one Slice per present output
 *   that keeps its last P positions, so a present output has exactly the shape of the next step's past
 *   input and is fed to it unchanged: the KV commitments of step t's outputs ARE those of step t+1's
 *   inputs. Two bundles serve a whole generation: the prompt (sequence S, past P) and one token
 *   (sequence 1, past P); compiled bundles are cached by model hash.
 * - window: no past inputs (e.g. models/tiny-transformer): every token re-runs the model on the last
 *   `context` tokens, right-padded with id 0 (causal attention: padding after position i cannot change
 *   the logits at i), and reads the logits at the last real position.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OnnxTypes } from '../converter/onnx/proto.ts';
import { onnx, int64 } from '../converter/onnx/proto.ts';
import { importOnnx, readOnnxModel } from '../converter/onnx/import.ts';
import { writeBundle } from '../converter/bundle/write.ts';
import type { HostTensor } from '../converter/ir/host-tensor.ts';
import { hostTensor } from '../converter/ir/host-tensor.ts';
import type { Graph, TensorId } from '../converter/ir/types.ts';
import { toHex } from '../converter/ir/keccak.ts';
import { commitTensor } from '../compiler/commit/tensor.ts';
import { SlotTree } from '../compiler/commit/graph-state.ts';
import type { Bytes32 } from '../compiler/commit/merkle.ts';
import { COMPILED_VERSION, MANIFEST_FILE } from '../compiler/format.ts';
import { writeTensorPb } from '../converter/io/tensor-files.ts';
import { NativeExecutor, RunError } from './native/executor.ts';
import { bundleConstantCommitments } from './native/trace.ts';
import { SplitMix64, argmax, sampleToken } from './sample.ts';

import type { BundleInfo, GenerateMode, GenerateOptions, StepRecord, Transcript } from './generate-types.ts';
import { TRANSCRIPT_FORMAT, TRANSCRIPT_VERSION } from './generate-types.ts';

export type { BundleInfo, GenerateMode, GenerateOptions, StepRecord, Transcript } from './generate-types.ts';
export { TRANSCRIPT_FORMAT, TRANSCRIPT_VERSION } from './generate-types.ts';

// ------------------------------------------------------------------ model analysis

interface DeclaredIO { name: string; elem: number; dims: (number | string)[] }

function declared(vi: OnnxTypes.IValueInfoProto): DeclaredIO {
  const tt = vi.type?.tensorType;
  return {
    name: vi.name ?? '', elem: tt?.elemType ?? 0,
    dims: (tt?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && int64(d.dimValue) > 0 ? int64(d.dimValue) : d.dimParam || '?')),
  };
}

export interface LmSignature {
  mode: GenerateMode;
  ids: DeclaredIO;
  attentionMask?: DeclaredIO;
  positionIds?: DeclaredIO;
  /** past input → present output, in model order. */
  past: { input: DeclaredIO; output: DeclaredIO }[];
  logits: DeclaredIO;
  opset: number;
  /** Rows of the constant tables gathered by position_ids (rotary or learned position embeddings), if any. */
  maxPositions?: number;
}

const INT64 = onnx.TensorProto.DataType.INT64;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** Which input is what: input_ids (or the only int64 input), attention_mask, position_ids, past_key_values.*. */
export function lmSignature(m: OnnxTypes.ModelProto, file: string): LmSignature {
  const g = m.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const ins = (g.input ?? []).filter((v) => !inits.has(v.name)).map(declared);
  const outs = (g.output ?? []).map(declared);
  const byName = (n: string) => ins.find((i) => i.name === n);
  const pastIns = ins.filter((i) => /^past_key_values[.\d]/.test(i.name) || i.name.startsWith('past_key_values.'));
  const ids = byName('input_ids') ?? ins.filter((i) => i.elem === INT64 && !pastIns.includes(i) && i.name !== 'attention_mask' && i.name !== 'position_ids')[0];
  if (!ids) throw new RunError(`${file}: no token-id input (input_ids or one int64 input) among ${ins.map((i) => i.name).join(', ')}`);
  if (ids.dims.length !== 2) throw new RunError(`${file}: ${ids.name} must be [batch, sequence], the model declares [${ids.dims.join('x')}]`);
  const logits = outs.find((o) => o.name === 'logits') ?? outs.find((o) => o.elem === FLOAT);
  if (!logits) throw new RunError(`${file}: no logits output (logits or a float32 output)`);
  const attentionMask = byName('attention_mask');
  const positionIds = byName('position_ids');
  const known = new Set([ids, attentionMask, positionIds, ...pastIns].filter(Boolean).map((i) => i!.name));
  const other = ins.filter((i) => !known.has(i.name));
  if (other.length) throw new RunError(`${file}: input ${other.map((i) => `'${i.name}'`).join(', ')} is not one opml generate can feed (input_ids, attention_mask, position_ids, past_key_values.*)`);
  const past = pastIns.map((input) => {
    const want = input.name.replace(/^past_key_values/, 'present');
    const output = outs.find((o) => o.name === want);
    if (!output) throw new RunError(`${file}: past input '${input.name}' has no matching output '${want}'`);
    if (input.dims.length !== 4) throw new RunError(`${input.name}: a KV-cache tensor must be [batch, heads, past, head_dim], the model declares [${input.dims.join('x')}]`);
    for (const ax of [1, 3]) {
      const a = input.dims[ax], b = output.dims[ax];
      if (typeof a === 'number' && typeof b === 'number' && a !== b) {
        throw new RunError(`${input.name}: declared [${input.dims.join(', ')}] does not match ${output.name} [${output.dims.join(', ')}] (${ax === 1 ? 'heads' : 'head_dim'} ${a} ≠ ${b})`);
      }
    }
    return { input, output };
  });
  if (past.length && !attentionMask) throw new RunError(`${file}: a model with past_key_values inputs needs an attention_mask input (the fixed-size cache's padding positions must be masked)`);
  let opset = 1;
  for (const o of m.opsetImport ?? []) if (!o.domain || o.domain === 'ai.onnx') opset = int64(o.version);
  if (past.length && opset < 10) throw new RunError(`${file}: kv-cache generation needs opset ≥ 10 (Slice with inputs), the model has ${opset}`);
  let maxPositions: number | undefined;
  if (positionIds) {
    for (const n of g.node ?? []) {
      const table = n.opType === 'Gather' && n.input?.[1] === positionIds.name ? (g.initializer ?? []).find((t) => t.name === n.input![0]) : undefined;
      if (table?.dims?.length) maxPositions = Math.min(maxPositions ?? Infinity, int64(table.dims[0]));
    }
  }
  return { mode: past.length ? 'kv-cache' : 'window', ids, attentionMask, positionIds, past, logits, opset, ...(maxPositions !== undefined ? { maxPositions } : {}) };
}

/** The model file for a path: a .onnx file, or a folder with decoder_with_past_model.onnx / model.onnx / decoder_model.onnx. */
export function resolveModelFile(p: string): string {
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    for (const f of ['decoder_with_past_model.onnx', 'model.onnx', 'decoder_model.onnx']) if (fs.existsSync(path.join(p, f))) return path.join(p, f);
    throw new RunError(`${p}: no decoder_with_past_model.onnx, model.onnx or decoder_model.onnx in this folder`);
  }
  if (!fs.existsSync(p)) throw new RunError(`${p}: no such model file`);
  return p;
}

// ------------------------------------------------------------------ bundles

/** Append Slice(present, starts = drop, axis 2) to every present output; the graph output keeps its name. */
function trimPresent(m: OnnxTypes.ModelProto, sig: LmSignature, drop: number): void {
  const g = m.graph!;
  const rename = new Map(sig.past.map((p) => [p.output.name, `${p.output.name}/untrimmed`]));
  for (const n of g.node ?? []) {
    n.input = (n.input ?? []).map((x) => rename.get(x) ?? x);
    n.output = (n.output ?? []).map((x) => rename.get(x) ?? x);
  }
  const i64 = (name: string, v: number) => onnx.TensorProto.create({ name, dataType: INT64, dims: [1], rawData: new Uint8Array(BigInt64Array.from([BigInt(v)]).buffer) });
  g.initializer = [...(g.initializer ?? []), i64('opml.generate/trim_start', drop), i64('opml.generate/trim_end', 2 ** 53 - 1), i64('opml.generate/trim_axis', 2)];
  for (const p of sig.past) {
    g.node!.push(onnx.NodeProto.create({
      opType: 'Slice', name: `opml.generate/trim ${p.output.name}`,
      input: [rename.get(p.output.name)!, 'opml.generate/trim_start', 'opml.generate/trim_end', 'opml.generate/trim_axis'], output: [p.output.name],
    }));
  }
}

function cacheRoot(o: GenerateOptions): string {
  return path.resolve(o.cacheDir ?? path.join(os.tmpdir(), 'opml-generate'));
}

/** Convert `file` with static input shapes (and the present trim), compile it, reuse a cached compile of the same model hash. */
async function prepareBundle(file: string, shapes: Map<string, number[]>, trim: number | undefined, sig: LmSignature, o: GenerateOptions, what: string): Promise<{ ex: NativeExecutor; info: BundleInfo }> {
  const root = cacheRoot(o);
  fs.mkdirSync(root, { recursive: true });
  const m = readOnnxModel(file);
  if (trim !== undefined) trimPresent(m, sig, trim);
  const { graph } = importOnnx(m, file, { inputShapes: shapes });
  const tmp = path.join(root, `convert-${process.pid}-${Date.now().toString(36)}.opml`);
  let dir: string;
  try {
    const w = writeBundle(graph, tmp, { format: 'onnx', file: path.basename(file), opsets: { '': sig.opset } });
    dir = path.join(root, `${w.modelHash.slice(2, 18)}.opmlc`);
    const manifest = path.join(dir, MANIFEST_FILE);
    const prev = fs.existsSync(manifest) ? JSON.parse(fs.readFileSync(manifest, 'utf8')) as { modelHash: string; version: number } : undefined;
    const cached = prev?.modelHash === w.modelHash && prev.version === COMPILED_VERSION; // a cache of an older opml is compiled again
    if (cached) o.onCompile?.(what, 'cached');
    else {
      o.onCompile?.(what, 'start');
      const t0 = performance.now();
      const { compileBundle } = await import('../compiler/compile.ts');
      compileBundle(tmp, dir);
      o.onCompile?.(what, 'done', performance.now() - t0);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const ex = await NativeExecutor.load(dir, { threads: o.threads ?? 1 });
  return { ex, info: { dir, modelHash: ex.manifest.modelHash, modelCommitment: ex.manifest.model?.commitment, nodes: ex.graph.nodes.length } };
}

// ------------------------------------------------------------------ commitments of one step

/**
 * Graph states of native runs of one bundle; the constants' commitments are computed once, from the
 * compiled bundle's constant trees when they check out (runtime/native/trace.ts), else by hashing.
 */
class StepStates {
  private readonly base: SlotTree;
  constructor(private readonly ex: NativeExecutor, dir: string) {
    const g = ex.graph;
    const known = bundleConstantCommitments(dir, ex);
    this.base = new SlotTree(g.tensors.length);
    for (const id of g.constants.keys()) this.base.set(id, known?.get(id) ?? this.commit(id));
  }
  private commit(id: TensorId): Bytes32 {
    const t = this.ex.graph.tensors[id]!;
    const v = this.ex.tensor(id);
    return commitTensor(t.dtype, t.shape, new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
  }
  /** After a run: S_0 and S_n (every node output committed). */
  states(): { s0: string; sn: string } {
    const g = this.ex.graph;
    const tree = this.base.clone();
    for (const id of g.inputs) tree.set(id, this.commit(id));
    const s0 = toHex(tree.root());
    for (const n of g.nodes) for (const id of n.outputs) tree.set(id, this.commit(id));
    return { s0, sn: toHex(tree.root()) };
  }
}

const commitHost = (t: HostTensor) => toHex(commitTensor(t.dtype, t.shape, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)));

/** --save-steps: the step's inputs as TensorProto files named after the model inputs. */
function saveStep(o: GenerateOptions, step: number, names: readonly string[], ins: readonly HostTensor[]): void {
  if (!o.saveSteps) return;
  const dir = path.join(o.saveSteps, `step_${step}`);
  fs.mkdirSync(dir, { recursive: true });
  names.forEach((n, i) => writeTensorPb(path.join(dir, `${n}.pb`), n, ins[i]!));
}

function namesOf(g: Graph, ids: readonly TensorId[]): string[] {
  return ids.map((i) => g.tensors[i]!.name);
}

// ------------------------------------------------------------------ generation

function pick(logits: Float32Array, rng: SplitMix64 | undefined, o: GenerateOptions): number {
  return rng ? sampleToken(logits, rng, { temperature: o.temperature, topK: o.topK }) : argmax(logits);
}

function vocabSize(sig: LmSignature, g: Graph): number {
  const out = g.outputs.find((id) => g.tensors[id]!.name === sig.logits.name) ?? g.outputs[0]!;
  return g.tensors[out]!.shape.at(-1)!;
}

function checkPrompt(ids: readonly number[], vocab: number, name: string): void {
  if (!ids.length) throw new RunError('--prompt-ids: give at least one token id');
  const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= vocab);
  if (bad >= 0) throw new RunError(`${name}: prompt id ${ids[bad]} (position ${bad}) is outside the vocabulary 0 … ${vocab - 1}`);
}

const i64 = (v: readonly number[], dims: number[]) => hostTensor('int64', dims, BigInt64Array.from(v.map(BigInt)));

export async function generate(modelPath: string, o: GenerateOptions): Promise<Transcript> {
  const file = resolveModelFile(modelPath);
  const sig = lmSignature(readOnnxModel(file), file);
  if (!(Number.isInteger(o.maxTokens) && o.maxTokens >= 1)) throw new RunError('--max-tokens must be an integer ≥ 1');
  const declaredVocab = sig.logits.dims.at(-1);
  if (typeof declaredVocab === 'number') checkPrompt(o.promptIds, declaredVocab, sig.ids.name); // before any compile
  const rng = o.sample ? new SplitMix64(BigInt(o.seed ?? 0)) : undefined;
  const tr: Transcript = {
    format: TRANSCRIPT_FORMAT, version: TRANSCRIPT_VERSION, model: file, mode: sig.mode, context: 0, prompt: [...o.promptIds],
    sampling: o.sample ? { kind: 'sample', seed: String(o.seed ?? 0), temperature: Math.fround(o.temperature ?? 1), topK: o.topK ?? 0, prng: 'splitmix64' } : { kind: 'greedy' },
    bundles: {}, steps: [], tokens: [],
  };
  const states = o.states !== false;
  if (sig.mode === 'window') await generateWindow(file, sig, o, tr, rng, states);
  else await generateKv(file, sig, o, tr, rng, states);
  const vocabFile = path.join(path.dirname(file), 'vocab.json');
  if (fs.existsSync(vocabFile)) {
    const vocab = JSON.parse(fs.readFileSync(vocabFile, 'utf8')) as string[];
    if (Array.isArray(vocab)) tr.text = tr.tokens.map((t) => vocab[t] ?? '').join('');
  }
  return tr;
}

async function generateWindow(file: string, sig: LmSignature, o: GenerateOptions, tr: Transcript, rng: SplitMix64 | undefined, withStates: boolean): Promise<void> {
  const fixed = sig.ids.dims[1];
  const ctx = typeof fixed === 'number' ? fixed : o.context ?? o.promptIds.length + o.maxTokens - 1;
  if (typeof fixed === 'number' && o.context !== undefined && o.context !== fixed) throw new RunError(`${sig.ids.name}: the model fixes the context to ${fixed}, --context ${o.context} differs`);
  tr.context = ctx;
  if (sig.maxPositions !== undefined && ctx > sig.maxPositions) throw new RunError(`${sig.positionIds!.name}: a window of ${ctx} positions exceeds the model's position tables (${sig.maxPositions} rows); give --context ≤ ${sig.maxPositions}`);
  const shapes = new Map<string, number[]>([[sig.ids.name, [1, ctx]]]);
  if (sig.attentionMask) shapes.set(sig.attentionMask.name, [1, ctx]);
  if (sig.positionIds) shapes.set(sig.positionIds.name, [1, ctx]);
  const { ex, info } = await prepareBundle(file, shapes, undefined, sig, o, 'window');
  tr.bundles.window = info;
  try {
    const g = ex.graph;
    const V = vocabSize(sig, g);
    checkPrompt(o.promptIds, V, sig.ids.name);
    const st = withStates ? new StepStates(ex, info.dir) : undefined;
    const inNames = namesOf(g, g.inputs);
    const outNames = namesOf(g, g.outputs);
    const logitsAt = outNames.indexOf(sig.logits.name);
    const seq = [...o.promptIds];
    for (let step = 0; step < o.maxTokens; step++) {
      const win = seq.slice(-ctx);
      const n = win.length;
      const start = seq.length - n;
      const byName: Record<string, HostTensor> = {
        [sig.ids.name]: i64([...win, ...new Array(ctx - n).fill(0)], [1, ctx]),
        ...(sig.attentionMask ? { [sig.attentionMask.name]: i64(Array.from({ length: ctx }, (_, i) => (i < n ? 1 : 0)), [1, ctx]) } : {}),
        ...(sig.positionIds ? { [sig.positionIds.name]: i64(Array.from({ length: ctx }, (_, i) => i), [1, ctx]) } : {}),
      };
      const ins = inNames.map((nm) => byName[nm]!);
      const t0 = performance.now();
      const outs = ex.run(ins);
      const ms = performance.now() - t0;
      const logits = outs[logitsAt]!.data as Float32Array;
      const token = pick(logits.subarray((n - 1) * V, n * V), rng, o);
      const rec: StepRecord = {
        step, bundle: 'window', position: start,
        inputs: Object.fromEntries(inNames.map((nm, i) => [nm, commitHost(ins[i]!)])),
        outputs: Object.fromEntries(outNames.map((nm, i) => [nm, commitHost(outs[i]!)])),
        ...(st ? (({ s0, sn }) => ({ s0, sn }))(st.states()) : {}),
        token, ms: +ms.toFixed(3),
      };
      tr.steps.push(rec);
      tr.tokens.push(token);
      saveStep(o, step, inNames, ins);
      o.onStep?.(rec);
      seq.push(token);
    }
  } finally {
    await ex.close();
  }
}

async function generateKv(file: string, sig: LmSignature, o: GenerateOptions, tr: Transcript, rng: SplitMix64 | undefined, withStates: boolean): Promise<void> {
  const S = o.promptIds.length;
  const ctx = o.context ?? Math.max(2, S + o.maxTokens - 1);
  // the last decode step attends over (S + maxTokens − 1) positions: they must fit the cache + the new token
  if (ctx < S + o.maxTokens - 1 || ctx < 2) throw new RunError(`--context ${ctx} is too small for ${S} prompt tokens and ${o.maxTokens} new ones (needs ≥ ${Math.max(2, S + o.maxTokens - 1)})`);
  tr.context = ctx;
  const P = ctx - 1;
  if (sig.maxPositions !== undefined && S + o.maxTokens - 1 > sig.maxPositions) {
    throw new RunError(`${sig.positionIds!.name}: ${S} prompt tokens and ${o.maxTokens} new ones need positions up to ${S + o.maxTokens - 2}, the model's position tables have ${sig.maxPositions} rows`);
  }
  if (S > P && o.maxTokens > 1) throw new RunError(`the prompt (${S} tokens) is longer than the cache (${P} positions)`);
  const pastShape = (io: DeclaredIO) => {
    const [, h, , d] = io.dims;
    if (typeof h !== 'number' || typeof d !== 'number') throw new RunError(`${io.name}: heads and head_dim must be fixed in the model, it declares [${io.dims.join('x')}]`);
    return [1, h, P, d];
  };
  const shapesFor = (seq: number) => {
    const m = new Map<string, number[]>([[sig.ids.name, [1, seq]]]);
    if (sig.attentionMask) m.set(sig.attentionMask.name, [1, P + seq]);
    if (sig.positionIds) m.set(sig.positionIds.name, [1, seq]);
    for (const p of sig.past) m.set(p.input.name, pastShape(p.input));
    return m;
  };
  const prefill = await prepareBundle(file, shapesFor(S), S, sig, o, `prefill (${S} tokens, cache ${P})`);
  tr.bundles.prefill = prefill.info;
  const decode = S === 1 ? prefill : await prepareBundle(file, shapesFor(1), 1, sig, o, `decode (1 token, cache ${P})`).catch(async (e) => { await prefill.ex.close(); throw e; });
  tr.bundles.decode = decode.info;
  try {
    const V = vocabSize(sig, prefill.ex.graph);
    checkPrompt(o.promptIds, V, sig.ids.name);
    // each present output (trimmed) must be exactly the next step's past input
    for (const b of [prefill, decode]) {
      const g = b.ex.graph;
      for (const p of sig.past) {
        const inT = g.tensors[g.inputs.find((id) => g.tensors[id]!.name === p.input.name)!]!;
        const outT = g.tensors[g.outputs.find((id) => g.tensors[id]!.name === p.output.name)!]!;
        if (inT.dtype !== outT.dtype || inT.shape.join('x') !== outT.shape.join('x')) {
          throw new RunError(`${p.input.name}: ${inT.dtype}[${inT.shape.join('x')}] does not match ${p.output.name} ${outT.dtype}[${outT.shape.join('x')}] (KV-cache heads or head_dim differ)`);
        }
      }
    }
    const stPrefill = withStates ? new StepStates(prefill.ex, prefill.info.dir) : undefined;
    const stDecode = withStates ? (decode === prefill ? stPrefill : new StepStates(decode.ex, decode.info.dir)) : undefined;
    let cache = new Map<string, HostTensor>(sig.past.map((p) => {
      const shape = pastShape(p.input);
      return [p.input.name, hostTensor('float32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)))];
    }));
    let valid = 0; // valid positions in the cache (the last `valid` of P)
    let feed = [...o.promptIds];
    let prevOutputs: Record<string, string> | undefined;
    let chained = true;
    for (let step = 0; step < o.maxTokens; step++) {
      const b = step === 0 ? prefill : decode;
      const st = step === 0 ? stPrefill : stDecode;
      const g = b.ex.graph;
      const seq = feed.length;
      const byName = new Map<string, HostTensor>([[sig.ids.name, i64(feed, [1, seq])]]);
      if (sig.attentionMask) byName.set(sig.attentionMask.name, i64(Array.from({ length: P + seq }, (_, i) => (i >= P - valid ? 1 : 0)), [1, P + seq]));
      if (sig.positionIds) byName.set(sig.positionIds.name, i64(Array.from({ length: seq }, (_, i) => valid + i), [1, seq]));
      for (const [k, v] of cache) byName.set(k, v);
      const inNames = namesOf(g, g.inputs);
      const outNames = namesOf(g, g.outputs);
      const ins = inNames.map((nm) => byName.get(nm)!);
      const t0 = performance.now();
      const outs = b.ex.run(ins);
      const ms = performance.now() - t0;
      const logits = outs[outNames.indexOf(sig.logits.name)]!.data as Float32Array;
      const token = pick(logits.subarray((seq - 1) * V, seq * V), rng, o);
      const rec: StepRecord = {
        step, bundle: step === 0 ? 'prefill' : 'decode', position: valid,
        inputs: Object.fromEntries(inNames.map((nm, i) => [nm, commitHost(ins[i]!)])),
        outputs: Object.fromEntries(outNames.map((nm, i) => [nm, commitHost(outs[i]!)])),
        ...(st ? st.states() : {}),
        token, ms: +ms.toFixed(3),
      };
      if (prevOutputs) for (const p of sig.past) if (rec.inputs[p.input.name] !== prevOutputs[p.output.name]) chained = false;
      prevOutputs = rec.outputs;
      tr.steps.push(rec);
      tr.tokens.push(token);
      saveStep(o, step, inNames, ins);
      o.onStep?.(rec);
      valid = Math.min(P, valid + seq);
      cache = new Map(sig.past.map((p) => [p.input.name, outs[outNames.indexOf(p.output.name)]!]));
      feed = [token];
    }
    tr.chained = chained;
  } finally {
    await prefill.ex.close();
    if (decode !== prefill) await decode.ex.close();
  }
}
