/**
 * The requester's side (docs/game.md §2–§3): register a compiled model, request an inference (input
 * bytes in calldata, S_0's paths computed from the model's constants), finalize a result after its
 * window, read a task's status, withdraw.
 */
import type { EventLog } from 'ethers';
import { ethers, ZeroHash } from 'ethers';
import type { TensorId } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostBytes, hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { formatShape, shapeEquals } from '../../converter/ir/types.ts';
import type { Bytes32 } from '../../compiler/commit/merkle.ts';
import { commitTensor, dataRoot, tensorCommitment } from '../../compiler/commit/tensor.ts';
import { dtypeCode } from '../../converter/ir/dtype.ts';
import { SlotTree } from '../../compiler/commit/graph-state.ts';
import { RunError } from '../native/executor.ts';
import { SubmissionStatus, TaskStatus } from './abi.ts';
import type { Party } from './chain.ts';
import { bytesOf, ChainError, eventOf, hexOf } from './chain.ts';
import type { GameModel } from './world.ts';
import { constantDataRoots } from './world.ts';

/** The ModelSpec of docs/game.md §2 for a compiled model: the commitment's fields, graph IO with dtype and shape. */
export function modelSpec(m: GameModel): Record<string, unknown> {
  const g = m.graph;
  const mc = m.manifest.model!;
  const types = (ids: readonly TensorId[]) => ids.map((id) => ({ dtype: dtypeCode(g.tensors[id]!.dtype), dims: g.tensors[id]!.shape.map(BigInt) }));
  return {
    recordsRoot: mc.recordsRoot, nodes: g.nodes.length, constantState: mc.constantState, slots: g.tensors.length,
    inSlots: [...g.inputs], inTypes: types(g.inputs), outSlots: [...g.outputs], outTypes: types(g.outputs),
  };
}

/** The slot tree of the constant state. */
function constantTree(m: GameModel): SlotTree {
  const g = m.graph;
  const t = new SlotTree(g.tensors.length);
  for (const [id, root] of constantDataRoots(m)) t.set(id, tensorCommitment(g.tensors[id]!.dtype, g.tensors[id]!.shape, root));
  return t;
}

/** The paths of docs/game.md §3.1: each input slot's zero leaf, the inputs set in order from the constant state. */
export function s0Paths(m: GameModel, inputs: readonly HostTensor[]): Bytes32[][] {
  const g = m.graph;
  const t = constantTree(m);
  return g.inputs.map((id, i) => {
    const p = t.proof(id);
    t.set(id, commitTensor(g.tensors[id]!.dtype, g.tensors[id]!.shape, hostBytes(inputs[i]!)));
    return p;
  });
}

export function checkInputs(m: GameModel, inputs: readonly HostTensor[]): void {
  const g = m.graph;
  if (inputs.length !== g.inputs.length) throw new RunError(`the model takes ${g.inputs.length} inputs, got ${inputs.length}`);
  inputs.forEach((t, i) => {
    const want = g.tensors[g.inputs[i]!]!;
    if (t.dtype !== want.dtype || !shapeEquals(t.shape, want.shape)) throw new RunError(`input '${want.name}' must be ${want.dtype}${formatShape(want.shape)}, got ${t.dtype}${formatShape(t.shape)}`);
  });
}

/** The registry id of a model commitment published at `uri`: keccak256(M ‖ keccak256(uri)) (docs/game.md §2). */
export function registryModelId(commitment: string, uri: string): string {
  return ethers.solidityPackedKeccak256(['bytes32', 'bytes32'], [commitment, ethers.keccak256(ethers.toUtf8Bytes(uri))]);
}

/** Every registration of a model commitment on this coordinator: its id and the URI it was published at. */
export async function registrationsOf(party: Party, commitment: string): Promise<{ modelId: string; uri: string }[]> {
  const co = party.coordinator;
  const logs = (await co.queryFilter(co.filters.ModelRegistered!(null, commitment), 0)) as EventLog[];
  return logs.map((e) => ({ modelId: String(e.args.modelId), uri: String(e.args.uri) }));
}

/**
 * The registration to request a model under: the one with `modelId` when given, else the only one (a model
 * registered at several URIs needs --model-id).
 */
export async function resolveModelId(party: Party, m: GameModel, modelId?: string): Promise<string> {
  const regs = await registrationsOf(party, m.manifest.model!.commitment);
  if (modelId) {
    if (!regs.some((r) => r.modelId.toLowerCase() === modelId.toLowerCase())) throw new ChainError(`model id ${modelId} is not a registration of ${m.dir} (commitment ${m.manifest.model!.commitment}); registrations: ${regs.map((r) => `${r.modelId} (${r.uri})`).join(', ') || 'none'}`);
    return modelId;
  }
  if (regs.length === 0) throw new ChainError(`model ${m.manifest.model!.commitment} (${m.dir}) is not registered; run 'opml register-model ${m.dir}' first`);
  if (regs.length > 1) throw new ChainError(`model ${m.dir} is registered at ${regs.length} URIs; choose one with --model-id: ${regs.map((r) => `${r.modelId} (${r.uri})`).join(', ')}`);
  return regs[0]!.modelId;
}

export async function registerModel(party: Party, m: GameModel, uri: string): Promise<{ modelId: string; gas: bigint; existed: boolean }> {
  const co = party.coordinator;
  const modelId = registryModelId(m.manifest.model!.commitment, uri);
  if (await co.getFunction('isRegistered')(modelId)) return { modelId, gas: 0n, existed: true };
  const r = await party.send('register model', () => co.getFunction('registerModel')(modelSpec(m), uri));
  const ev = eventOf(co, r, 'ModelRegistered');
  if (!ev || String(ev.args.modelId).toLowerCase() !== modelId.toLowerCase()) throw new ChainError(`the coordinator registered ${ev?.args.modelId}, the compiled model's commitment with ${uri} gives ${modelId}`);
  return { modelId, gas: r.gasUsed, existed: false };
}

export interface RequestOptions {
  /** The registration to request under (registryModelId); resolveModelId finds it. */
  modelId: string;
  reward: bigint;
  /** Seconds. */
  challengeWindow: number;
  /** Seconds from now. */
  deadlineIn: number;
  dissection: number;
  callback?: boolean;
  /**
   * Per input, a URI to put on chain instead of the bytes (large inputs: only the data root is committed;
   * submitters and challengers must be able to read the URI, docs/game.md §3.1).
   */
  uris?: readonly (string | undefined)[];
}

export async function requestInference(party: Party, m: GameModel, inputs: readonly HostTensor[], o: RequestOptions): Promise<{ taskId: bigint; gas: bigint }> {
  checkInputs(m, inputs);
  const co = party.coordinator;
  const now = (await party.signer.provider!.getBlock('latest'))!.timestamp;
  const data = inputs.map((t, i) => {
    const uri = o.uris?.[i];
    return uri ? { data: '0x', dataRoot: hexOf(dataRoot(hostBytes(t))), uri } : { data: hexOf(hostBytes(t)), dataRoot: ZeroHash, uri: '' };
  });
  const paths = s0Paths(m, inputs).map((p) => p.map(hexOf));
  const r = await party.send('request inference', () => co.getFunction('requestInference')(
    o.modelId, data, paths, o.challengeWindow, now + o.deadlineIn, o.dissection, o.callback ?? false, { value: o.reward }));
  const ev = eventOf(co, r, 'InferenceRequested');
  return { taskId: BigInt(ev!.args.taskId), gas: r.gasUsed };
}

/** The outputs of a submission, from its ResultSubmitted event. */
export async function submissionOutputs(party: Party, taskId: bigint, submissionId: bigint): Promise<string[]> {
  const co = party.coordinator;
  const logs = (await co.queryFilter(co.filters.ResultSubmitted!(taskId, submissionId), 0)) as EventLog[];
  if (!logs[0]) throw new ChainError(`submission ${submissionId} of task ${taskId}: no ResultSubmitted event`);
  return (logs[0].args.outputs as string[]).map(String);
}

export async function finalize(party: Party, taskId: bigint): Promise<bigint> {
  const co = party.coordinator;
  const task = await co.getFunction('getTask')(taskId);
  const sub = BigInt(task.liveSubmission);
  if (sub === 0n) throw new ChainError(`task ${taskId} has no live result to finalize`);
  const outputs = await submissionOutputs(party, taskId, sub);
  const r = await party.send(`finalize task ${taskId}`, () => co.getFunction('finalize')(taskId, outputs));
  return r.gasUsed;
}

export async function withdraw(party: Party): Promise<{ amount: bigint; gas: bigint }> {
  const co = party.coordinator;
  const amount = BigInt(await co.getFunction('balanceOf')(party.address));
  if (amount === 0n) return { amount, gas: 0n };
  const r = await party.send('withdraw', () => co.getFunction('withdraw')());
  return { amount, gas: r.gasUsed };
}

export interface TaskReport {
  taskId: bigint;
  modelId: string;
  status: 'open' | 'final' | 'reclaimed';
  requester: string;
  reward: bigint;
  deadline: bigint;
  dissection: number;
  submissions: { id: bigint; submitter: string; status: 'live' | 'rejected' | 'final'; windowEnd: bigint; games: { id: bigint; challenger: string; resolved: boolean; submitterWon: boolean }[] }[];
  /** The final or live outputs, decoded when the model is given. */
  outputs: HostTensor[] | null;
}

export async function taskReport(party: Party, taskId: bigint, m?: GameModel): Promise<TaskReport> {
  const co = party.coordinator;
  const task = await co.getFunction('getTask')(taskId);
  if (Number(task.status) === TaskStatus.None) throw new ChainError(`no task ${taskId} on this coordinator (it has ${await co.getFunction('taskCount')()})`);
  const subs = (await co.queryFilter(co.filters.ResultSubmitted!(taskId), 0)) as EventLog[];
  const submissions = [];
  for (const e of subs) {
    const id = BigInt(e.args.submissionId);
    const s = await co.getFunction('getSubmission')(id);
    const games = [];
    for (const gid of (await co.getFunction('gamesOf')(id)) as bigint[]) {
      const rec = await co.getFunction('getGameRecord')(gid);
      games.push({ id: BigInt(gid), challenger: String(rec.challenger), resolved: Boolean(rec.resolved), submitterWon: Boolean(rec.submitterWon) });
    }
    const st = Number(s.status);
    submissions.push({ id, submitter: String(s.submitter), status: st === SubmissionStatus.Final ? 'final' as const : st === SubmissionStatus.Rejected ? 'rejected' as const : 'live' as const, windowEnd: BigInt(s.windowEnd), games });
  }
  const shown = submissions.find((s) => s.status === 'final') ?? submissions.find((s) => s.status === 'live');
  let outputs: HostTensor[] | null = null;
  if (shown && m) {
    const raw = await submissionOutputs(party, taskId, shown.id);
    const g = m.graph;
    outputs = raw.map((h, i) => hostFromBytes(g.tensors[g.outputs[i]!]!.dtype, g.tensors[g.outputs[i]!]!.shape, bytesOf(h).slice()));
  }
  const status = Number(task.status) === TaskStatus.Final ? 'final' : Number(task.status) === TaskStatus.Reclaimed ? 'reclaimed' : 'open';
  return {
    taskId, modelId: String(task.modelId), status, requester: String(task.requester), reward: BigInt(task.reward), deadline: BigInt(task.deadline),
    dissection: Number(task.dissection), submissions, outputs,
  };
}
