/**
 * opml as a library: what the `opml` command does, as typed functions (docs/library.md).
 *
 *   import { convert, compile, run, trace, proveStep, verifyStep } from 'opml';
 *   const bundle = convert('model.onnx', 'out/model.opml');
 *   await compile(bundle.dir, 'out/model.opmlc');
 *   const { outputs } = await run('out/model.opmlc', ['input_0.pb']);
 *
 * Inputs are tensors (`hostTensor('float32', [1, 784], data)`) or files (.pb, .npy, .json), in the model's
 * input order or by name. Errors are the classes exported below, each with a one-line message that
 * names the file (and tensor or node) and what to do.
 *
 * Heavy dependencies load only when used: binaryen (compile), solc-js (deploy, verifyStepOnChain, the demo).
 */
import fs from 'node:fs';
import type { HostTensor } from './converter/ir/host-tensor.ts';
import { readTensorFile } from './converter/io/tensor-files.ts';
import { convertModel, defaultBundlePath } from './converter/convert.ts';
import type { ConvertOptions, ConvertResult } from './converter/convert.ts';
import type { CompileOptions } from './compiler/compile.ts';
import type { CompiledManifest } from './compiler/format.ts';
import { NativeExecutor, RunError } from './runtime/native/executor.ts';
import type { ExecutorOptions } from './runtime/native/executor.ts';
import { VmExecutor } from './runtime/opvm/vm-executor.ts';
import type { VmNodeStats } from './runtime/opvm/vm-executor.ts';
import { traceRun } from './runtime/native/trace.ts';
import { toHex } from './converter/ir/keccak.ts';
import { checkProofFile, proveModelStep } from './runtime/opvm/prove-model.ts';
import type { ModelStepProofFile } from './runtime/opvm/prove-model.ts';
import type { StepProofFile } from './runtime/opvm/proof.ts';
import { ProofFormatError } from './runtime/opvm/proof.ts';
import type { Graph } from './converter/ir/types.ts';
import { readBundle } from './converter/bundle/read.ts';
import { loadGameModel } from './runtime/game/world.ts';
import type { ServedModel } from './runtime/game/agents.ts';
import type { Deployment } from './contracts/ts/deploy.ts';
import type { DemoSummary } from './contracts/ts/demo.ts';

// ── tensors and files ──────────────────────────────────────────────────────────────────────────────
export type { HostTensor } from './converter/ir/host-tensor.ts';
export type { DType, Graph } from './converter/ir/types.ts';
export { hostTensor, toNumbers } from './converter/ir/host-tensor.ts';
export { readTensorFile, writeTensorPb, TensorFileError } from './converter/io/tensor-files.ts';

// ── errors (each message is one line naming the file and what to do) ───────────────────────────────
export { ConvertError } from './converter/errors.ts';
export { BundleError } from './converter/bundle/read.ts';
export { CompileError } from './compiler/errors.ts';
export { RunError } from './runtime/native/executor.ts';
export { ProofFormatError } from './runtime/opvm/proof.ts';
export { ChainError } from './runtime/game/chain.ts';

// ── the pipeline ───────────────────────────────────────────────────────────────────────────────────
export type { ConvertOptions, ConvertResult } from './converter/convert.ts';
export type { CompileOptions } from './compiler/compile.ts';
export type { CompiledManifest } from './compiler/format.ts';
export type { ExecutorOptions } from './runtime/native/executor.ts';
export type { VmNodeStats } from './runtime/opvm/vm-executor.ts';
export type { StepProofFile } from './runtime/opvm/proof.ts';
export type { ModelStepProofFile } from './runtime/opvm/prove-model.ts';
export type { BundleSummary } from './converter/inspect.ts';
export { readBundle } from './converter/bundle/read.ts';
export { summarise } from './converter/inspect.ts';
/** Load a compiled bundle once and run it many times (`run` loads it per call). */
export { NativeExecutor } from './runtime/native/executor.ts';
export { VmExecutor } from './runtime/opvm/vm-executor.ts';

/** A model's inputs: in its input order, or by input name; each a tensor or a .pb/.npy/.json file. */
export type Inputs = readonly (HostTensor | string)[] | Readonly<Record<string, HostTensor | string>>;

/**
 * Convert an ONNX (.onnx) or TensorFlow.js (model.json) model into a graph bundle directory, written
 * atomically (default: the model's path with .opml).
 */
export function convert(model: string, out: string = defaultBundlePath(model), opts: ConvertOptions = {}): ConvertResult {
  return convertModel(model, out, opts);
}

/** Compile a graph bundle into a compiled bundle (default: BUNDLE with .opmlc), written atomically. */
export async function compile(bundle: string, out: string = bundle.replace(/\.opml\/?$/, '') + '.opmlc', opts: CompileOptions = {}): Promise<CompiledManifest> {
  const { compileBundle } = await import('./compiler/compile.ts');
  return compileBundle(bundle, out, opts);
}

export type { GenerateOptions, StepRecord, Transcript } from './runtime/generate-types.ts';
import type { GenerateOptions, Transcript } from './runtime/generate-types.ts';

/**
 * Token-by-token decoding of an ONNX language model (`opml generate`, docs/generate.md): greedy or seeded
 * sampling, with a KV cache when the model has past_key_values; every step a verifiable inference whose
 * output commitments chain into the next step's inputs. Resolves to the transcript.
 */
export async function generate(model: string, opts: GenerateOptions): Promise<Transcript> {
  const g = await import('./runtime/generate.ts');
  return g.generate(model, opts);
}

/** The inputs of `graph` as tensors in its input order, checked against its dtypes and shapes. */
export function modelInputs(graph: Graph, inputs: Inputs): HostTensor[] {
  const names = graph.inputs.map((i) => graph.tensors[i]!.name);
  const list = Array.isArray(inputs)
    ? (inputs as readonly (HostTensor | string)[])
    : names.map((n) => {
      const v = (inputs as Record<string, HostTensor | string>)[n];
      if (v === undefined) throw new RunError(`input '${n}' is missing; the model takes ${names.join(', ')}`);
      return v;
    });
  if (!Array.isArray(inputs)) {
    const extra = Object.keys(inputs).filter((k) => !names.includes(k));
    if (extra.length) throw new RunError(`the model has no input ${extra.map((e) => `'${e}'`).join(', ')}; it takes ${names.join(', ')}`);
  }
  if (list.length !== names.length) throw new RunError(`the model takes ${names.length} input${names.length > 1 ? 's' : ''} (${names.join(', ')}), got ${list.length}`);
  return list.map((v, i) => {
    const want = graph.tensors[graph.inputs[i]!]!;
    const t = typeof v === 'string' ? readTensorFile(v, want) : v;
    const same = t.dtype === want.dtype && t.shape.length === want.shape.length && t.shape.every((d, k) => d === want.shape[k]);
    if (!same) {
      throw new RunError(`input '${want.name}'${typeof v === 'string' ? ` from ${v}` : ''}: expected ${want.dtype}[${want.shape.join('x')}], got ${t.dtype}[${t.shape.join('x')}]`);
    }
    return t;
  });
}

export interface RunOptions extends ExecutorOptions {
  /** 'native' (default; WebAssembly) or 'vm' (the OPVM interpreter the dispute game re-executes: same bytes, slow). */
  engine?: 'native' | 'vm';
}

export interface RunResult {
  /** In the model's output order. */
  outputs: HostTensor[];
  outputNames: string[];
  /** With engine 'vm': each node's step count. */
  vmStats?: VmNodeStats[];
}

/** Run a compiled bundle on inputs. */
export async function run(compiled: string, inputs: Inputs, opts: RunOptions = {}): Promise<RunResult> {
  if (opts.engine === 'vm') {
    const ex = VmExecutor.load(compiled);
    const g = ex.graph;
    const { outputs, stats } = ex.run(modelInputs(g, inputs));
    return { outputs, outputNames: g.outputs.map((id) => g.tensors[id]!.name), vmStats: stats };
  }
  const ex = await NativeExecutor.load(compiled, opts);
  try {
    const g = ex.graph;
    return { outputs: ex.run(modelInputs(g, inputs)), outputNames: g.outputs.map((id) => g.tensors[id]!.name) };
  } finally {
    await ex.close();
  }
}

export interface TraceResult {
  modelHash: string;
  /** Root of the constants-only graph state, 0x-hex. */
  constantState: string;
  /** S_0 … S_n, 0x-hex: the phase-2 trace of the dispute game (docs/commitments.md). */
  states: string[];
  outputs: { name: string; slot: number; commitment: string; tensor: HostTensor }[];
}

/** Run a compiled bundle natively and return its graph states S_0 … S_n and output commitments. */
export async function trace(compiled: string, inputs: Inputs, onProgress?: (phase: string, done: number, total: number) => void): Promise<TraceResult> {
  const ex = await NativeExecutor.load(compiled);
  try {
    const g = ex.graph;
    const t = traceRun(ex, modelInputs(g, inputs), onProgress, compiled);
    return {
      modelHash: ex.manifest.modelHash,
      constantState: toHex(t.constantState),
      states: t.states.map(toHex),
      outputs: g.outputs.map((id, i) => ({ name: g.tensors[id]!.name, slot: id, commitment: toHex(t.commitments[id]!), tensor: t.outputs[i]! })),
    };
  } finally {
    await ex.close();
  }
}

/** The proof of OPVM step `step` (from 0) of node `node` (from 1, as in trace) on the given inputs. */
export async function proveStep(compiled: string, inputs: Inputs, node: number, step: number, onProgress?: (phase: string, done: number, total: number) => void): Promise<ModelStepProofFile> {
  const files = Array.isArray(inputs) && inputs.every((v) => typeof v === 'string') ? (inputs as string[]) : null;
  if (files) return proveModelStep(compiled, files, node, step, onProgress);
  return proveModelStep(compiled, modelInputs(readBundle(compiled).graph, inputs), node, step, onProgress);
}

/**
 * Check a step proof (an object from proveStep, or the path of a JSON file from `opml prove-step`) with
 * the TypeScript verifier. A malformed proof throws ProofFormatError; a wrong one returns ok: false.
 */
export function verifyStep(proof: StepProofFile | string): { ok: boolean; message: string } {
  if (typeof proof !== 'string') return checkProofFile(proof);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(proof, 'utf8'));
  } catch (e) {
    throw new ProofFormatError(`${proof}: cannot read a proof (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a file written by 'opml prove-step'`);
  }
  try {
    return checkProofFile(json);
  } catch (e) {
    if (e instanceof ProofFormatError) throw new ProofFormatError(`${proof}: ${e.message}`);
    throw e;
  }
}

export type { OnChainOptions } from './contracts/ts/verify-onchain.ts';

type OnChainFn = typeof import('./contracts/ts/verify-onchain.ts').verifyStepOnChain;

/** Check a step proof with the Solidity verifier too: on an anvil started for it, or on `o.rpc`. */
export async function verifyStepOnChain(...args: Parameters<OnChainFn>): ReturnType<OnChainFn> {
  return (await import('./contracts/ts/verify-onchain.ts')).verifyStepOnChain(...args);
}

// ── the chain: contracts, requester, agents ────────────────────────────────────────────────────────
export type { GameModel } from './runtime/game/world.ts';
export type { ServedModel, AgentEvent, AgentOptions, SubmitterOptions, ChallengerOptions } from './runtime/game/agents.ts';
export type { RequestOptions, TaskReport } from './runtime/game/requester.ts';
export type { Deployment } from './contracts/ts/deploy.ts';
export type { DeployOptions } from './contracts/ts/defaults.ts';
export type { Anvil } from './contracts/ts/anvil.ts';
export type { DemoOptions, DemoSummary } from './contracts/ts/demo.ts';
export type { CheatKind } from './runtime/game/options.ts';
export { Submitter, Challenger } from './runtime/game/agents.ts';
export { registerModel, requestInference, resolveModelId, registrationsOf, finalize, withdraw, taskReport, submissionOutputs } from './runtime/game/requester.ts';
export { loadGameModel } from './runtime/game/world.ts';
export { Party, connect, loadKey, GasLedger } from './runtime/game/chain.ts';
export { CHEATS, DEFAULT_RPC, DEPLOYMENT_FILE, MIN_DISSECTION, MAX_DISSECTION } from './runtime/game/options.ts';
export { startAnvil, anvilKey } from './contracts/ts/anvil.ts';

/** A compiled bundle as the agents serve it: its game model and a loaded native executor (close `ex` when done). */
export async function loadServedModel(compiled: string, opts: ExecutorOptions = {}): Promise<ServedModel> {
  const model = loadGameModel(compiled);
  const served = { model, modelId: model.manifest.model!.commitment, ex: await NativeExecutor.load(compiled, opts) };
  return served;
}

type DeployFn = typeof import('./contracts/ts/deploy.ts').deploy;
type DemoFn = typeof import('./contracts/ts/demo.ts').runDemo;

/** Compile the contracts (solc-js, offline) and deploy the verifier, the coordinator and its game. */
export async function deploy(...args: Parameters<DeployFn>): Promise<Deployment> {
  return (await import('./contracts/ts/deploy.ts')).deploy(...args);
}

/** The whole protocol on one machine (what `opml demo` runs). */
export async function runDemo(...args: Parameters<DemoFn>): Promise<DemoSummary> {
  return (await import('./contracts/ts/demo.ts')).runDemo(...args);
}
