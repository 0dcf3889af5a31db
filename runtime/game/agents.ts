/**
 * The submitter and the challenger as agents (docs/game.md): each polls the chain, rebuilds what it
 * needs from contract state and event logs alone (so a restarted agent resumes where it stopped), and
 * answers every move that is its turn from its own world (runtime/game/world.ts): phase 2 from the
 * graph states of a native run, phase 1 from the OPVM tracer of the disputed node. Both claim a timeout
 * when the other party's clock has run out.
 */
import type { Contract, EventLog, Log } from 'ethers';
import { AbiCoder, hexlify, keccak256, randomBytes } from 'ethers';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostFromBytes } from '../../converter/ir/host-tensor.ts';
import type { NativeExecutor } from '../native/executor.ts';
import { decodeInsn, formatInsn } from '../../compiler/opvm/isa.ts';
import { unpackProof } from '../opvm/proof.ts';
import { GameStatus, Move, PHASE_GRAPH, SubmissionStatus, TaskStatus } from './abi.ts';
import { chooseSegment, midsFor } from './bisection.ts';
import type { CheatPlan } from './cheat.ts';
import type { CheatKind } from './options.ts';
import { cheatingWorld } from './cheat.ts';
import type { Party } from './chain.ts';
import { bytesOf, ChainError, eventOf, hexOf } from './chain.ts';
import type { GameModel, NodeOpening } from './world.ts';
import { inputFromUri } from './inputs.ts';
import { TaskWorld } from './world.ts';

/**
 * A model an agent can compute: its compiled files and a native executor over them. The agent serves every
 * registration of the model's commitment (each URI it was registered at is its own model id, docs/game.md §2).
 */
export interface ServedModel {
  model: GameModel;
  ex: NativeExecutor;
}

/** keccak256(abi.encode(outputs)): what the coordinator stores of a result's output bytes. */
export function outputsHash(outputs: readonly string[]): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['bytes[]'], [outputs]));
}

/** The commitment a submitter posts before revealing its result (TaskCoordinator.resultCommitment, docs/game.md §3.2). */
export function resultCommitment(taskId: bigint, submitter: string, finalState: string, outputs: readonly string[], salt: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['uint256', 'address', 'bytes32', 'bytes32', 'bytes32'], [taskId, submitter, finalState, outputsHash(outputs), salt]));
}

/** What agents report as the game goes (the demo prints these). */
export type AgentEvent =
  | { kind: 'submitted'; party: string; taskId: bigint; submissionId: bigint; finalState: string; gas: bigint; commitGas: bigint; cheat?: CheatPlan }
  | { kind: 'verified'; party: string; taskId: bigint; submissionId: bigint; agrees: boolean }
  | { kind: 'challenged'; party: string; taskId: bigint; gameId: bigint; gas: bigint }
  | { kind: 'move'; party: string; gameId: bigint; move: 'bisect' | 'choose' | 'open' | 'prove' | 'timeout'; phase: number; lo: bigint; hi: bigint; gas: bigint; detail: string }
  | { kind: 'resolved'; party: string; gameId: bigint; won: boolean; reason: number }
  | { kind: 'rewarded'; party: string; gameId: bigint; amount: bigint; gas: bigint }
  | { kind: 'warning'; party: string; what: string; message: string }
  | { kind: 'stuck'; party: string; gameId: bigint; detail: string };

export interface AgentOptions {
  onEvent?: (e: AgentEvent) => void;
  /**
   * Throw when handling a task or a game fails (demonstrations and tests). By default the failure is
   * reported as a warning event and the agent goes on with its other work, retrying on the next tick.
   */
  strict?: boolean;
  /** First block to scan for events (default 0: everything, which is how an agent resumes). */
  fromBlock?: number;
}

interface Bisection {
  phase: number;
  lo: bigint;
  hi: bigint;
  mids: string[];
}

const modelKey = (id: string) => id.toLowerCase();

abstract class Agent {
  /** Served models by commitment, and by the registry ids found for them on chain. */
  private readonly byCommitment: Map<string, ServedModel>;
  protected readonly models = new Map<string, ServedModel>();
  protected scanned: number;
  protected readonly games = new Set<bigint>();
  private readonly finished = new Set<bigint>();
  private readonly inputsCache = new Map<bigint, { modelId: string; inputs: HostTensor[] }>();
  /** Milliseconds this agent spent computing (worlds, traces, proofs), not waiting for the chain. */
  computeMs = 0;

  constructor(readonly party: Party, models: readonly ServedModel[], protected readonly opts: AgentOptions = {}) {
    this.byCommitment = new Map(models.map((m) => [modelKey(m.model.manifest.model!.commitment), m]));
    this.scanned = (opts.fromBlock ?? 0) - 1;
  }

  /** Learn the registry ids of the served models from ModelRegistered events up to block `to` (from block 0 once). */
  private registrationsScanned = -1;
  protected async scanRegistrations(to: number): Promise<void> {
    if (this.registrationsScanned >= to) return;
    const co = this.party.coordinator;
    const logs = (await co.queryFilter(co.filters.ModelRegistered!(), this.registrationsScanned + 1, to)) as (EventLog | Log)[];
    for (const l of logs) {
      if (!('args' in l)) continue;
      const served = this.byCommitment.get(modelKey(String(l.args.commitment)));
      if (served) this.models.set(modelKey(String(l.args.modelId)), served);
    }
    this.registrationsScanned = to;
  }

  protected emit(e: AgentEvent): void {
    this.opts.onEvent?.(e);
  }

  /** One pass: read what is new, act where it is this agent's turn. Returns true when it sent a transaction. */
  abstract tick(): Promise<boolean>;

  /** Tick until `done()` holds (polling every `pollMs` when idle). */
  async runUntil(done: () => boolean | Promise<boolean>, pollMs = 100): Promise<void> {
    while (!(await done())) if (!(await this.tick())) await sleep(pollMs);
  }

  /** Games this agent took part in that have ended (or that it left because their result was rejected by another game). */
  get endedGames(): ReadonlySet<bigint> {
    return this.finished;
  }

  /** Stop playing a game (its result was rejected by another game: nothing is at stake any more). */
  protected leave(gameId: bigint): void {
    this.finished.add(gameId);
  }

  /** Whether the result a game disputes was rejected (by another game). */
  protected async resultRejected(gameId: bigint): Promise<boolean> {
    const co = this.party.coordinator;
    const rec = await co.getFunction('getGameRecord')(gameId);
    if (rec.settledLive) return false;
    const sub = await co.getFunction('getSubmission')(rec.submissionId);
    return Number(sub.status) === SubmissionStatus.Rejected;
  }

  protected async newLogs(contract: Contract, filter: ReturnType<Contract['filters'][string]>, to: number): Promise<EventLog[]> {
    if (this.scanned + 1 > to) return [];
    const logs = (await contract.queryFilter(filter, this.scanned + 1, to)) as (EventLog | Log)[];
    return logs.filter((l): l is EventLog => 'args' in l);
  }

  protected async blockTime(): Promise<bigint> {
    const b = await this.party.signer.provider!.getBlock('latest');
    return BigInt(b!.timestamp);
  }

  /** A task's model and inputs, from its InferenceRequested event. */
  protected async taskInputs(taskId: bigint): Promise<{ served: ServedModel; inputs: HostTensor[] } | null> {
    let c = this.inputsCache.get(taskId);
    if (!c) {
      const co = this.party.coordinator;
      const logs = (await co.queryFilter(co.filters.InferenceRequested!(taskId), 0)) as EventLog[];
      const ev = logs[0];
      if (!ev) throw new ChainError(`task ${taskId}: no InferenceRequested event`);
      const modelId = String(ev.args.modelId);
      const served = this.models.get(modelKey(modelId));
      if (!served) return null;
      const g = served.model.graph;
      const inputs = (ev.args.inputs as { data: string; dataRoot: string; uri: string }[]).map((d, i) => {
        const t = g.tensors[g.inputs[i]!]!;
        const bytes = bytesOf(d.data);
        if (bytes.length > 0) return hostFromBytes(t.dtype, t.shape, bytes.slice());
        return inputFromUri(d.uri, t, bytesOf(d.dataRoot), `task ${taskId} input ${i}`);
      });
      c = { modelId, inputs };
      this.inputsCache.set(taskId, c);
    }
    const served = this.models.get(modelKey(c.modelId));
    return served ? { served, inputs: c.inputs } : null;
  }

  /** Run one piece of work (a task, a challenge, a game move); a failure is a warning unless strict. */
  protected async guard(what: string, f: () => Promise<boolean>): Promise<boolean> {
    try {
      return await f();
    } catch (e) {
      if (this.opts.strict) throw e;
      this.emit({ kind: 'warning', party: this.party.name, what, message: (e as Error).message });
      return false;
    }
  }

  protected timed<T>(f: () => T): T {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      this.computeMs += performance.now() - t0;
    }
  }

  private readonly worlds = new Map<bigint, TaskWorld>();

  /**
   * The world this agent believes for a task, from the honest one (a native run on the task's inputs):
   * the honest world itself, except for the deliberately wrong parties of demonstrations and tests.
   */
  protected believe(honest: TaskWorld, _taskId: bigint): TaskWorld {
    return honest;
  }

  /** This agent's world for a task (computed once, from the task's inputs on chain). */
  protected async worldFor(taskId: bigint): Promise<TaskWorld> {
    let w = this.worlds.get(taskId);
    if (w) return w;
    const t = await this.taskInputs(taskId);
    if (!t) throw new ChainError(`task ${taskId} is for a model this agent does not serve`);
    w = this.timed(() => this.believe(TaskWorld.fromNative(t.served.model, t.served.ex, t.inputs), taskId));
    this.worlds.set(taskId, w);
    return w;
  }

  /** Make this agent's move in a game, if it is its turn; claim a timeout if the other party's clock ran out. */
  protected async play(gameId: bigint): Promise<boolean> {
    if (this.finished.has(gameId)) return false;
    const game = this.party.game;
    const g = await game.getFunction('getGame')(gameId);
    const status = Number(g.status);
    if (status !== GameStatus.Active) {
      this.finished.add(gameId);
      const submitterWon = status === GameStatus.SubmitterWon;
      const iAmSubmitter = String(g.submitter).toLowerCase() === this.party.address.toLowerCase();
      const resolved = (await game.queryFilter(game.filters.GameResolved!(gameId), 0)) as EventLog[];
      this.emit({ kind: 'resolved', party: this.party.name, gameId, won: submitterWon === iAmSubmitter, reason: Number(resolved[0]?.args.reason ?? 0) });
      return false;
    }
    const lo = BigInt(g.lo), hi = BigInt(g.hi), phase = Number(g.phase), k = Number(g.dissection);
    if (String(g.mover).toLowerCase() !== this.party.address.toLowerCase()) {
      if ((await this.blockTime()) > BigInt(g.moverDeadline)) {
        const r = await this.party.send(`timeout game ${gameId}`, () => game.getFunction('timeout')(gameId));
        this.emit({ kind: 'move', party: this.party.name, gameId, move: 'timeout', phase, lo, hi, gas: r.gasUsed, detail: 'the other party\'s clock ran out' });
        return true;
      }
      return false;
    }
    const world = await this.worldFor(BigInt(g.taskId));
    const expected = Number(g.expected);
    const ev = (move: 'bisect' | 'choose' | 'open' | 'prove', gas: bigint, detail: string, nlo = lo, nhi = hi) =>
      this.emit({ kind: 'move', party: this.party.name, gameId, move, phase, lo: nlo, hi: nhi, gas, detail });
    switch (expected) {
      case Move.Bisect: {
        const mids = this.timed(() => phase === PHASE_GRAPH
          ? midsFor(Number(lo), Number(hi), k, (p) => world.states[p]!)
          : midsFor(Number(lo), Number(hi), k, (p) => world.nodeRun(Number(g.node)).stateHash(p)));
        const r = await this.party.send(`bisect game ${gameId}`, () => game.getFunction('bisect')(gameId, mids.map(hexOf)));
        ev('bisect', r.gasUsed, `${mids.length} claim${mids.length > 1 ? 's' : ''}`);
        return true;
      }
      case Move.Choose: {
        const b = await this.lastBisection(gameId, phase, lo, hi);
        const own = (p: number) => phase === PHASE_GRAPH ? world.states[p]! : world.nodeRun(Number(g.node)).stateHash(p);
        const seg = this.timed(() => chooseSegment(Number(lo), Number(hi), k, b.mids.map(bytesOf), bytesOf(g.hiHash), own));
        if (seg === null) return this.stuck(gameId, `it agrees with every claim of [${lo}, ${hi}]`);
        const r = await this.party.send(`choose game ${gameId}`, () => game.getFunction('choose')(gameId, seg, b.mids));
        const after = await game.getFunction('getGame')(gameId);
        ev('choose', r.gasUsed, `segment ${seg}`, BigInt(after.lo), BigInt(after.hi));
        return true;
      }
      case Move.Open: {
        const node = Number(hi);
        const run = this.timed(() => world.nodeRun(node));
        const o = this.timed(() => run.opening());
        const r = await this.party.send(`open node ${node} in game ${gameId}`, () => game.getFunction('openNode')(gameId, openingArgs(o)));
        const n = world.model.graph.nodes[node - 1]!;
        ev('open', r.gasUsed, `node ${node} '${n.name}' (${n.op}): ${run.steps.toLocaleString('en')} steps`);
        return true;
      }
      case Move.Prove: {
        const run = this.timed(() => world.nodeRun(Number(g.node)));
        const s = Number(lo);
        if (hexOf(run.stateHash(s)) !== String(g.loHash).toLowerCase()) return this.stuck(gameId, `the agreed state at step ${s} is not its own; it cannot prove the step`);
        const proof = this.timed(() => run.stepProof(s));
        const insn = unpackProof(proof).insnLeaf;
        const r = await this.party.send(`prove step ${s} of game ${gameId}`, () => game.getFunction('proveStep')(gameId, hexOf(proof)));
        ev('prove', r.gasUsed, `step ${s.toLocaleString('en')}: ${insn ? formatInsn(decodeInsn(insn)) : 'halted/trapped'} (${proof.length} bytes)`);
        return true;
      }
      default:
        return false;
    }
  }

  private readonly stuckOn = new Set<bigint>();

  /** No valid move (only a party that believes a wrong world gets here): say so once, then let the clock run. */
  private stuck(gameId: bigint, detail: string): boolean {
    if (!this.stuckOn.has(gameId)) this.emit({ kind: 'stuck', party: this.party.name, gameId, detail });
    this.stuckOn.add(gameId);
    return false;
  }

  /** The mids of the submitter's bisection of [lo, hi] in the given phase, from the Bisected events. */
  private async lastBisection(gameId: bigint, phase: number, lo: bigint, hi: bigint): Promise<Bisection> {
    const game = this.party.game;
    const logs = (await game.queryFilter(game.filters.Bisected!(gameId), 0)) as EventLog[];
    for (let i = logs.length - 1; i >= 0; i--) {
      const a = logs[i]!.args;
      if (Number(a.phase) === phase && BigInt(a.lo) === lo && BigInt(a.hi) === hi) return { phase, lo, hi, mids: (a.mids as string[]).map(String) };
    }
    throw new ChainError(`game ${gameId}: no Bisected event for [${lo}, ${hi}] in phase ${phase}`);
  }
}

/** NodeOpening as the ABI tuple. */
export function openingArgs(o: NodeOpening): unknown {
  const h = (x: Uint8Array) => hexOf(x);
  return {
    opHash: h(o.opHash), codeRoot: h(o.codeRoot), kinds: o.kinds, indexes: o.indexes, heights: o.heights,
    inSlots: o.inSlots, inTypes: o.inTypes.map(h), outSlots: o.outSlots, outTypes: o.outTypes.map(h),
    recordPath: o.recordPath.map(h), inRoots: o.inRoots.map(h), inPaths: o.inPaths.map((p) => p.map(h)),
    outRoots: o.outRoots.map(h), outPaths: o.outPaths.map((p) => p.map(h)), stepBound: o.stepBound, steps: o.steps, finalHeader: h(o.finalHeader),
    outRegionPaths: o.outRegionPaths.map((p) => p.map(h)),
  };
}

export interface SubmitterOptions extends AgentOptions {
  /** Cheat on every task (demonstrations and tests). */
  cheat?: { kind: CheatKind; node?: number };
}

/**
 * `opml serve`: answers every request for a served model with a result (honest, or cheating when told
 * to), and defends it in every game. A submitter whose result was rejected does not answer that task again.
 */
export class Submitter extends Agent {
  private readonly pending = new Set<bigint>();
  private readonly submittedTo = new Set<bigint>();
  private readonly mySubmissions = new Set<bigint>();
  readonly plans = new Map<bigint, CheatPlan>();

  constructor(party: Party, models: readonly ServedModel[], private readonly sopts: SubmitterOptions = {}) {
    super(party, models, sopts);
  }

  protected override believe(honest: TaskWorld, taskId: bigint): TaskWorld {
    if (!this.sopts.cheat) return honest;
    const { world, plan } = cheatingWorld(honest, this.sopts.cheat.kind, this.sopts.cheat.node);
    this.plans.set(taskId, plan);
    return world;
  }

  async tick(): Promise<boolean> {
    const co = this.party.coordinator;
    const to = await this.party.signer.provider!.getBlockNumber();
    await this.scanRegistrations(to);
    for (const e of await this.newLogs(co, co.filters.InferenceRequested!(), to)) {
      if (this.models.has(modelKey(String(e.args.modelId)))) this.pending.add(BigInt(e.args.taskId));
    }
    for (const e of await this.newLogs(co, co.filters.ResultSubmitted!(null, null, this.party.address), to)) {
      this.submittedTo.add(BigInt(e.args.taskId));
      this.mySubmissions.add(BigInt(e.args.submissionId));
    }
    for (const e of await this.newLogs(co, co.filters.Challenged!(), to)) {
      if (this.mySubmissions.has(BigInt(e.args.submissionId))) this.games.add(BigInt(e.args.gameId));
    }
    this.scanned = to;
    let acted = false;
    for (const taskId of [...this.pending]) acted = (await this.guard(`task ${taskId}`, () => this.answer(taskId))) || acted;
    for (const gameId of this.games) {
      if (this.endedGames.has(gameId)) continue;
      acted = (await this.guard(`game ${gameId}`, async () => {
        if (await this.resultRejected(gameId)) { this.leave(gameId); return false; }
        return this.play(gameId);
      })) || acted;
    }
    return acted;
  }

  /** Salt and gas of this agent's commitment per task (commit-reveal), until its reveal lands. */
  private readonly commits = new Map<bigint, { salt: string; gas: bigint }>();

  /**
   * Submit a result for a pending task when it has none live: commit to it (a hash of the result, this
   * agent's address and a random salt), then reveal it with the bond. The reveal is sent once the commitment
   * is mined, so it always lands in a later block, as the coordinator requires; a copier that sees the
   * reveal is too late to commit (docs/game.md §3.2).
   */
  private async answer(taskId: bigint): Promise<boolean> {
    const co = this.party.coordinator;
    const task = await co.getFunction('getTask')(taskId);
    if (Number(task.status) !== TaskStatus.Open || this.submittedTo.has(taskId) || (await this.blockTime()) > BigInt(task.deadline)) { this.pending.delete(taskId); return false; }
    if (BigInt(task.liveSubmission) !== 0n) return false;
    const world = await this.worldFor(taskId);
    const finalState = hexOf(world.states[world.nodes]!);
    const outputs = world.outputs().map(hexOf);
    let c = this.commits.get(taskId);
    if (!c) {
      const salt = hexlify(randomBytes(32));
      const commitment = resultCommitment(taskId, this.party.address, finalState, outputs, salt);
      const rc = await this.party.send(`commit to a result for task ${taskId}`, () => co.getFunction('commitResult')(commitment));
      c = { salt, gas: rc.gasUsed };
      this.commits.set(taskId, c);
    }
    const bond = await co.getFunction('submitterBond')();
    const r = await this.party.send(`submit result for task ${taskId}`, () =>
      co.getFunction('submitResult')(taskId, finalState, outputs, world.outputPaths().map((p) => p.map(hexOf)), c.salt, { value: bond }));
    const ev = eventOf(co, r, 'ResultSubmitted');
    const submissionId = BigInt(ev!.args.submissionId);
    this.commits.delete(taskId);
    this.submittedTo.add(taskId);
    this.mySubmissions.add(submissionId);
    this.pending.delete(taskId);
    this.emit({ kind: 'submitted', party: this.party.name, taskId, submissionId, finalState, gas: r.gasUsed, commitGas: c.gas, cheat: this.plans.get(taskId) });
    return true;
  }
}

export interface ChallengerOptions extends AgentOptions {
  /**
   * Believe a cheating world instead of the honest one (tests only): such a challenger disputes correct
   * results and must lose, by step proof or by running out of clock when it has no valid move.
   */
  lie?: { kind: CheatKind; node?: number };
}

/**
 * `opml watch`: re-executes every live result of a served model and challenges each one whose final
 * state differs from its own, then plays the game to the end.
 */
export class Challenger extends Agent {
  private readonly candidates = new Map<bigint, bigint>(); // submission → task
  private readonly challenged = new Set<bigint>();

  constructor(party: Party, models: readonly ServedModel[], private readonly copts: ChallengerOptions = {}) {
    super(party, models, copts);
  }

  protected override believe(honest: TaskWorld): TaskWorld {
    return this.copts.lie ? cheatingWorld(honest, this.copts.lie.kind, this.copts.lie.node).world : honest;
  }

  async tick(): Promise<boolean> {
    const co = this.party.coordinator;
    const to = await this.party.signer.provider!.getBlockNumber();
    await this.scanRegistrations(to);
    for (const e of await this.newLogs(co, co.filters.ResultSubmitted!(), to)) this.candidates.set(BigInt(e.args.submissionId), BigInt(e.args.taskId));
    for (const e of await this.newLogs(co, co.filters.Challenged!(), to)) {
      if (String(e.args.challenger).toLowerCase() === this.party.address.toLowerCase()) {
        this.challenged.add(BigInt(e.args.submissionId));
        this.games.add(BigInt(e.args.gameId));
      }
    }
    this.scanned = to;
    let acted = false;
    for (const [submissionId, taskId] of [...this.candidates]) {
      this.candidates.delete(submissionId);
      acted = (await this.guard(`result ${submissionId} of task ${taskId}`, () => this.check(submissionId, taskId))) || acted;
    }
    for (const gameId of this.games) {
      if (this.endedGames.has(gameId)) continue;
      acted = (await this.guard(`game ${gameId}`, async () => {
        if (await this.resultRejected(gameId)) {
          // Another game already rejected this result: claim the bond and the share of the submitter's
          // bond instead of playing on (docs/game.md §3.4).
          const rec = await co.getFunction('getGameRecord')(gameId);
          let sent = false;
          if (!rec.claimed) {
            const r = await this.party.send(`claim the reward of game ${gameId}`, () => co.getFunction('claimChallengeReward')(gameId));
            const ev = eventOf(co, r, 'ChallengeRewarded');
            this.emit({ kind: 'rewarded', party: this.party.name, gameId, amount: BigInt(ev?.args.amount ?? 0n), gas: r.gasUsed });
            sent = true;
          }
          this.leave(gameId);
          return sent;
        }
        return this.play(gameId);
      })) || acted;
    }
    return acted;
  }

  /** Re-execute a live result and challenge it when its final state differs from this agent's. */
  private async check(submissionId: bigint, taskId: bigint): Promise<boolean> {
    const co = this.party.coordinator;
    if (this.challenged.has(submissionId)) return false;
    if (!(await this.taskInputs(taskId))) return false;
    const sub = await co.getFunction('getSubmission')(submissionId);
    if (Number(sub.status) !== SubmissionStatus.Live || (await this.blockTime()) >= BigInt(sub.windowEnd)) return false;
    const world = await this.worldFor(taskId);
    const mine = hexOf(world.states[world.nodes]!);
    const agrees = mine === String(sub.finalState).toLowerCase();
    this.emit({ kind: 'verified', party: this.party.name, taskId, submissionId, agrees });
    if (agrees) return false;
    const bond = await co.getFunction('challengerBond')();
    // Name the result disputed: if it is no longer live (rejected, replaced), the challenge reverts unspent.
    const r = await this.party.send(`challenge result ${submissionId} of task ${taskId}`, () => co.getFunction('challenge')(taskId, submissionId, sub.finalState, { value: bond }));
    const ev = eventOf(co, r, 'Challenged');
    const gameId = BigInt(ev!.args.gameId);
    this.challenged.add(submissionId);
    this.games.add(gameId);
    this.emit({ kind: 'challenged', party: this.party.name, taskId, gameId, gas: r.gasUsed });
    return true;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
