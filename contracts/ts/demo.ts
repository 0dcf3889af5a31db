/**
 * `opml demo`: the whole protocol on one machine. It starts an anvil chain (or uses --rpc), deploys the
 * contracts, registers a bundled model, requests an inference on a bundled input, lets a cheating
 * submitter answer and two honest challengers dispute it; one wins through both phases down to one on-chain
 * step, the other is paid from the same rejection (docs/game.md §3.4). An honest submitter then answers the
 * reopened task and the result finalizes after its window; everyone withdraws. It narrates the game and ends
 * with a summary; it succeeds only when the cheater lost, both challengers were paid more than their bonds
 * and the honest result became final.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ethers, JsonRpcProvider, Wallet } from 'ethers';
import { convertModel } from '../../converter/convert.ts';
import { compileBundle } from '../../compiler/compile.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { NativeExecutor, RunError } from '../../runtime/native/executor.ts';
import { loadGameModel } from '../../runtime/game/world.ts';
import type { GameModel } from '../../runtime/game/world.ts';
import type { AgentEvent, ServedModel } from '../../runtime/game/agents.ts';
import { Challenger, Submitter } from '../../runtime/game/agents.ts';
import type { CheatKind } from '../../runtime/game/options.ts';
import { connect, GasLedger, minedReceipt, Party, shortError } from '../../runtime/game/chain.ts';
import { finalize, registerModel, requestInference, taskReport, withdraw } from '../../runtime/game/requester.ts';
import { TaskStatus } from '../../runtime/game/abi.ts';
import { Narrator } from '../../runtime/game/narrate.ts';
import type { Anvil } from './anvil.ts';
import { anvilKey, startAnvil } from './anvil.ts';
import { deploy } from './deploy.ts';
import { DEPLOY_PROFILES } from './defaults.ts';

export interface DemoOptions {
  /** An ONNX or TensorFlow.js model file, or a compiled bundle directory. */
  model: string;
  input: string;
  /** Use this chain instead of starting anvil; the key (OPML_KEY or keyFile) must hold funds. */
  rpc?: string;
  keyFile?: string;
  dissection: number;
  cheat: CheatKind;
  cheatNode?: number;
  /** Where the converted and compiled model go. */
  workDir: string;
  print: (line: string) => void;
  /** Called with the anvil process so a caller can stop it on a signal. */
  onChain?: (anvil: Anvil | null) => void;
}

export interface DemoSummary {
  ok: boolean;
  cheaterLost: boolean;
  /** Both honest challengers withdrew more than their bond. */
  challengersPaid: boolean;
  finalized: boolean;
  nodes: number;
  disputedNode: number;
  disputedStep: number | null;
  rounds: { phase2: number; phase1: number };
  /** Transactions and gas of the dispute only (challenge to resolution), by party. */
  dispute: { txs: number; gasByParty: Record<string, string>; wallS: number };
  /** Every transaction of the demo, by party. */
  all: { txs: number; gasByParty: Record<string, string> };
  computeMsByParty: Record<string, number>;
  wallS: number;
  paid: Record<string, string>;
}


const gwei = (g: bigint) => g.toLocaleString('en');
const eth = (w: bigint) => `${ethers.formatEther(w)} ETH`;
const short = (h: string) => `${h.slice(0, 10)}…`;

function prepareModel(o: DemoOptions): string {
  if (fs.existsSync(path.join(o.model, 'manifest.json'))) return o.model;
  if (!fs.existsSync(o.model)) throw new RunError(`--model ${o.model}: no such file`);
  const name = path.basename(path.dirname(path.resolve(o.model)));
  const bundle = path.join(o.workDir, `${name}.opml`);
  const compiled = path.join(o.workDir, `${name}.opmlc`);
  convertModel(o.model, bundle);
  compileBundle(bundle, compiled);
  return compiled;
}

function labelsFor(input: string): string[] | null {
  const f = path.join(path.dirname(input), 'labels.json');
  if (!fs.existsSync(f)) return null;
  try {
    return (JSON.parse(fs.readFileSync(f, 'utf8')) as { classes?: string[] }).classes ?? null;
  } catch {
    return null;
  }
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const t0 = performance.now();
  const p = o.print;
  const tm = performance.now();
  const compiledDir = prepareModel(o);
  if (compiledDir !== o.model) p(`model      ${o.model} converted and compiled to ${path.relative(process.cwd(), compiledDir) || compiledDir} (${((performance.now() - tm) / 1000).toFixed(1)} s)`);
  const model: GameModel = loadGameModel(compiledDir);
  const g = model.graph;
  const input: HostTensor = readTensorFile(o.input, g.tensors[g.inputs[0]!]);
  if (g.inputs.length !== 1) throw new RunError(`the demo feeds one input; ${o.model} takes ${g.inputs.length}`);
  p(`OPML demo: ${path.basename(compiledDir)} (${g.nodes.length} nodes), input ${o.input}, ${o.dissection}-way dissection, cheat: ${o.cheat}`);

  let anvil: Anvil | null = null;
  const exs: NativeExecutor[] = [];
  try {
    let provider: JsonRpcProvider;
    let keys: string[];
    if (o.rpc) {
      provider = connect(o.rpc);
      const { loadKey } = await import('../../runtime/game/chain.ts');
      const funder = new Wallet(loadKey(o.keyFile), provider);
      keys = [funder.privateKey];
      for (let i = 0; i < 4; i++) {
        const w = Wallet.createRandom();
        const tx = await funder.sendTransaction({ to: w.address, value: ethers.parseEther('0.5') });
        await minedReceipt(provider, tx.hash);
        keys.push(w.privateKey);
      }
      p(`chain      ${o.rpc} (funded four fresh accounts with 0.5 ETH each from ${funder.address})`);
    } else {
      anvil = await startAnvil();
      o.onChain?.(anvil);
      provider = connect(anvil.url);
      keys = [0, 1, 2, 3, 4].map(anvilKey);
      p(`chain      anvil at ${anvil.url} (started by the demo, instant mining)`);
    }
    const deployer = new Wallet(keys[0]!, provider);
    const d = await deploy(deployer, DEPLOY_PROFILES.local);
    p(`deploy     verifier ${d.verifier}, coordinator ${d.coordinator}, game ${d.game} (gas ${gwei(BigInt(d.gas.verifier) + BigInt(d.gas.coordinator))}); local profile: ${d.clockSeconds} s clocks, ${d.minChallengeWindow} s minimum window`);

    const ledger = new GasLedger();
    const requester = await Party.create('requester', provider, keys[0]!, d.coordinator, ledger);
    const cheater = await Party.create('cheater', provider, keys[1]!, d.coordinator, ledger);
    const challengerP = await Party.create('challenger', provider, keys[2]!, d.coordinator, ledger);
    const honestP = await Party.create('honest', provider, keys[3]!, d.coordinator, ledger);
    const challenger2P = await Party.create('challenger2', provider, keys[4]!, d.coordinator, ledger);

    const reg = await registerModel(requester, model, `file://${path.resolve(compiledDir)}`);
    p(`register   model ${short(reg.modelId)} (${g.nodes.length} nodes, ${g.tensors.length} slots)   gas ${gwei(reg.gas)}`);
    const served = async (): Promise<ServedModel> => {
      const ex = await NativeExecutor.load(compiledDir);
      exs.push(ex);
      return { model, ex };
    };

    const window = o.rpc ? 30 : 600;
    const req = await requestInference(requester, model, [input], { modelId: reg.modelId, reward: ethers.parseEther('0.05'), challengeWindow: window, deadlineIn: 86400, dissection: o.dissection });
    p(`request    task ${req.taskId}: reward 0.05 ETH, challenge window ${window} s   gas ${gwei(req.gas)}`);

    const narrator = new Narrator(g, p);
    let cheaterLost = false;
    let disputeStart = 0, disputeEnd = 0, ledgerAtDispute = 0, ledgerAfterDispute = 0;
    const onEvent = (e: AgentEvent) => {
      if (e.kind === 'challenged') { disputeStart = performance.now(); ledgerAtDispute = ledger.entries.length - 1; }
      if (e.kind === 'challenged' && disputeStart !== 0) return narrator.handle(e);
      if (e.kind === 'resolved') {
        if (!e.party.startsWith('challenger')) return;
        if (!cheaterLost) {
          disputeEnd = performance.now();
          ledgerAfterDispute = ledger.entries.length;
        }
        cheaterLost ||= e.won;
      }
      narrator.handle(e);
      if (e.kind === 'resolved' && e.won) p('           the cheater\'s result is rejected and the task reopens; half its bond is burnt, the other half shared by every open game\'s challenger, who also get their bonds back');
    };
    const cheatAgent = new Submitter(cheater, [await served()], { cheat: { kind: o.cheat, node: o.cheatNode }, onEvent, strict: true });
    const challenger = new Challenger(challengerP, [await served()], { onEvent, strict: true });
    const challenger2 = new Challenger(challenger2P, [await served()], { onEvent, strict: true });
    const honest = new Submitter(honestP, [await served()], { onEvent, strict: true });

    const co = requester.coordinator;
    const taskState = async () => co.getFunction('getTask')(req.taskId);
    // The cheater answers first; the honest submitter only answers a task without a live result.
    await cheatAgent.tick();
    let honestSubmitted = false;
    const challengers = [challenger, challenger2];
    for (let idle = 0; idle < 4000; idle++) {
      let acted = false;
      for (const c of challengers) acted = (await c.tick()) || acted;
      acted = (await cheatAgent.tick()) || acted;
      if (cheaterLost) {
        const before: boolean = honestSubmitted;
        acted = (await honest.tick()) || acted;
        const t = await taskState();
        honestSubmitted = before || BigInt(t.liveSubmission) !== 0n;
        // done once the honest result is in and both challengers have left their games (won, or rewarded)
        if (honestSubmitted && challengers.every((c) => c.endedGames.size > 0)) {
          for (const c of challengers) await c.tick();
          break;
        }
      }
      if (!acted) await new Promise((r) => setTimeout(r, 20));
    }
    if (!honestSubmitted) throw new RunError('the game did not end with a reopened task and an honest result');

    // Let the challenge window pass: on the demo's own anvil by moving its clock, elsewhere by waiting.
    const t = await taskState();
    const sub = await co.getFunction('getSubmission')(t.liveSubmission);
    const now = BigInt((await provider.getBlock('latest'))!.timestamp);
    const wait = Number(BigInt(sub.windowEnd) - now);
    if (wait > 0) {
      if (anvil) {
        await provider.send('evm_increaseTime', [wait]);
        await provider.send('evm_mine', []);
        p(`window     +${wait} s on the local chain's clock (evm_increaseTime): nobody challenged the honest result`);
      } else {
        p(`window     waiting ${wait} s for the challenge window to close …`);
        await new Promise((r) => setTimeout(r, (wait + 2) * 1000));
      }
    }
    const fgas = await finalize(requester, req.taskId);
    const report = await taskReport(requester, req.taskId, model);
    const finalized = report.status === 'final';
    const labels = labelsFor(o.input);
    const out = report.outputs?.[0];
    let answer = '';
    if (out && out.dtype === 'float32') {
      const v = Array.from(out.data as Float32Array);
      const top = v.indexOf(Math.max(...v));
      answer = `: top-1 #${top}${labels?.[top] ? ` (${labels[top]})` : ''}, logit ${v[top]!.toFixed(4)}`;
    }
    p(`finalize   task ${req.taskId} is final${answer}   gas ${gwei(fgas)}`);

    const paid: Record<string, string> = {};
    for (const party of [requester, cheater, challengerP, challenger2P, honestP]) {
      const w = await withdraw(party);
      paid[party.name] = ethers.formatEther(w.amount);
    }
    const bond = d.challengerBond;
    const challengersPaid = [paid.challenger!, paid.challenger2!].every((x) => ethers.parseEther(x) > BigInt(bond));
    p(`withdraw   challenger ${eth(ethers.parseEther(paid.challenger!))} and challenger2 ${eth(ethers.parseEther(paid.challenger2!))} (each its bond and a share of the cheater's), honest ${eth(ethers.parseEther(paid.honest!))} (reward and bond), cheater ${eth(ethers.parseEther(paid.cheater!))}`);

    const sum = (entries: typeof ledger.entries) => {
      const by: Record<string, string> = {};
      for (const e of entries) by[e.party] = (BigInt(by[e.party] ?? '0') + e.gas).toString();
      return by;
    };
    const disputeEntries = ledger.entries.slice(ledgerAtDispute, ledgerAfterDispute);
    const summary: DemoSummary = {
      ok: cheaterLost && finalized && challengersPaid,
      cheaterLost, challengersPaid, finalized, nodes: g.nodes.length, disputedNode: narrator.disputedNode, disputedStep: narrator.disputedStep,
      rounds: narrator.rounds,
      dispute: { txs: disputeEntries.length, gasByParty: sum(disputeEntries), wallS: +((disputeEnd - disputeStart) / 1000).toFixed(2) },
      all: { txs: ledger.entries.length, gasByParty: sum(ledger.entries) },
      computeMsByParty: { cheater: Math.round(cheatAgent.computeMs), challenger: Math.round(challenger.computeMs), challenger2: Math.round(challenger2.computeMs), honest: Math.round(honest.computeMs) },
      wallS: +((performance.now() - t0) / 1000).toFixed(2),
      paid,
    };
    p('');
    p(`summary    dispute: ${narrator.roundsByGame.size} games of ${summary.rounds.phase2} phase-2 and ${summary.rounds.phase1} phase-1 rounds, ended at node ${narrator.nodeName(summary.disputedNode)}${summary.disputedStep !== null ? `, step ${summary.disputedStep.toLocaleString('en')}` : ''}; ` +
      `${summary.dispute.txs} transactions in ${summary.dispute.wallS} s`);
    const txsOf = (party: string) => ledger.entries.filter((e) => e.party === party).length;
    p(`           ${'party'.padEnd(11)} ${'dispute gas'.padStart(11)} ${'all gas'.padStart(11)} ${'txs'.padStart(4)} ${'computing'.padStart(10)}  withdrew`);
    for (const party of ['requester', 'cheater', 'challenger', 'challenger2', 'honest']) {
      const d = BigInt(summary.dispute.gasByParty[party] ?? '0'), a = BigInt(summary.all.gasByParty[party] ?? '0');
      const ms = summary.computeMsByParty[party];
      p(`           ${party.padEnd(11)} ${gwei(d).padStart(11)} ${gwei(a).padStart(11)} ${String(txsOf(party)).padStart(4)} ${(ms === undefined ? '' : `${ms} ms`).padStart(10)}  ${summary.paid[party]} ETH`);
    }
    p(`           whole demo: ${summary.all.txs} transactions after the deployment, ${summary.wallS} s`);
    p(summary.ok ? 'ok: the cheater lost its bond, both honest challengers were paid, and the honest result is final' : `FAILED: ${cheaterLost ? '' : 'the cheater did not lose; '}${challengersPaid ? '' : 'a challenger was not paid; '}${finalized ? '' : 'the honest result is not final'}`);
    if (Number((await taskState()).status) !== TaskStatus.Final && finalized) throw new RunError('inconsistent task status');
    return summary;
  } catch (e) {
    if (e instanceof RunError) throw e;
    if (process.env.OPML_DEBUG) console.error(e);
    throw new RunError(`demo failed: ${shortError(e)}`);
  } finally {
    for (const ex of exs) await ex.close();
    if (anvil) await anvil.stop();
    o.onChain?.(null);
  }
}
