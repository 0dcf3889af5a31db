/**
 * The game's commands over any EVM JSON-RPC endpoint: register-model, request, serve, watch (alias
 * challenge), status, finalize, withdraw. Keys come from --key-file or the OPML_KEY environment variable;
 * the coordinator from --coordinator or the opml-deployment.json that `opml deploy` writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { ethers } from 'ethers';
import { RunError } from '../native/executor.ts';
import { ethArg, intArg } from '../cli-args.ts';
import { inputFiles, resolveInputs, summary } from '../cli.ts';
import type { ServedModel, Submitter, Challenger } from './agents.ts';
import { CHEATS, MAX_DISSECTION, MIN_DISSECTION } from './options.ts';
import type { CheatKind } from './options.ts';
import { ChainError, connect, loadKey, Party } from './chain.ts';
import { TaskStatus } from './abi.ts';
import { Narrator } from './narrate.ts';
import type { GameModel } from './world.ts';

import { DEFAULT_RPC, DEPLOYMENT_FILE } from './options.ts';

export { DEPLOYMENT_FILE };

export interface ChainArgs {
  rpc: string;
  keyFile?: string;
  coordinator?: string;
}

export function addChainOptions(c: Command, withCoordinator = true): Command {
  c.option('--rpc <url>', 'JSON-RPC endpoint of the chain', process.env.OPML_RPC ?? DEFAULT_RPC)
    .option('--key-file <file>', 'file holding the 0x-hex private key to sign with (default: the OPML_KEY environment variable)');
  if (withCoordinator) c.option('--coordinator <address>', `the TaskCoordinator (default: from ./${DEPLOYMENT_FILE})`);
  return c;
}

export function coordinatorAddress(a: ChainArgs): string {
  if (a.coordinator) {
    if (!ethers.isAddress(a.coordinator)) throw new ChainError(`--coordinator ${a.coordinator} is not an address`);
    return a.coordinator;
  }
  if (!fs.existsSync(DEPLOYMENT_FILE)) throw new ChainError(`no --coordinator given and no ./${DEPLOYMENT_FILE}; deploy with 'opml deploy' or pass --coordinator ADDRESS`);
  const d = JSON.parse(fs.readFileSync(DEPLOYMENT_FILE, 'utf8')) as { coordinator?: string };
  if (!d.coordinator || !ethers.isAddress(d.coordinator)) throw new ChainError(`./${DEPLOYMENT_FILE} names no coordinator`);
  return d.coordinator;
}

/** A signing party; `readOnly` parties without a key get a throwaway one (they never send). */
async function party(name: string, a: ChainArgs, readOnly = false): Promise<Party> {
  const provider = connect(a.rpc);
  try {
    await provider.getBlockNumber();
  } catch {
    throw new ChainError(`cannot reach a chain at ${a.rpc}; start one (e.g. npx anvil) or pass --rpc URL`);
  }
  const key = readOnly && !a.keyFile && !process.env.OPML_KEY ? ethers.Wallet.createRandom().privateKey : loadKey(a.keyFile);
  return Party.create(name, provider, key, coordinatorAddress(a));
}

async function served(dirs: readonly string[]): Promise<ServedModel[]> {
  const { loadGameModel } = await import('./world.ts');
  const { NativeExecutor } = await import('../native/executor.ts');
  return Promise.all(dirs.map(async (d) => {
    const model = loadGameModel(d);
    return { model, ex: await NativeExecutor.load(d) };
  }));
}

const taskArg = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a task id is a positive integer');
  return BigInt(v);
};

/** Run an agent until Ctrl-C (after warning about models the coordinator does not know). */
async function runAgent(agent: Submitter | Challenger, exs: ServedModel[]): Promise<void> {
  const { registrationsOf } = await import('./requester.ts');
  for (const s of exs) {
    const c = s.model.manifest.model!.commitment;
    if ((await registrationsOf(agent.party, c)).length === 0) {
      process.stderr.write(`warning: model ${c} (${s.model.dir}) is not registered with this coordinator, so no task can name it yet; run 'opml register-model ${s.model.dir}'\n`);
    }
  }
  let stop = false;
  const onSig = () => { stop = true; process.stderr.write('\nstopping …\n'); };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    await agent.runUntil(() => stop, 250);
  } finally {
    for (const s of exs) await s.ex.close();
  }
}

export function registerGameCommands(program: Command): void {
  addChainOptions(program
    .command('register-model')
    .summary('register a compiled model\'s commitment with the coordinator')
    .description('Register the model commitment of a compiled bundle (its node records, constant state and IO; docs/commitments.md) so that inferences can be requested for it. The registration\'s id binds the URI the model is published at (docs/game.md §2): the same model at another URI is another registration, and registering the same URI twice is a no-op.')
    .argument('<compiled>', 'compiled bundle directory (from opml compile)')
    .option('--uri <uri>', 'where others find the model (default: the bundle\'s path)')
    .addHelpText('after', '\nExample:\n  OPML_KEY=0x… opml register-model out/fmnist-cnn.opmlc --rpc http://127.0.0.1:8545'))
    .action(async (dir: string, o: ChainArgs & { uri?: string }) => {
      const { loadGameModel } = await import('./world.ts');
      const { registerModel } = await import('./requester.ts');
      const m = loadGameModel(dir);
      const r = await registerModel(await party('requester', o), m, o.uri ?? `file://${path.resolve(dir)}`);
      process.stdout.write(`${r.existed ? 'already registered' : 'registered'}: model ${r.modelId}${r.existed ? '' : ` (gas ${r.gas.toLocaleString('en')})`}\n`);
    });

  addChainOptions(program
    .command('request')
    .summary('request an inference (pays the reward)')
    .description('Request an inference of a registered model on the given inputs (in calldata; the contract computes their commitments and S_0). Prints the task id. With --wait, waits for a result, finalizes it once its challenge window has passed and no game is open, and prints the outputs.')
    .argument('<compiled>', 'compiled bundle directory of the model')
    .argument('<inputs...>', 'input files (.pb, .npy, .json), in model order or as NAME=FILE')
    // the default is a bigint (wei), which commander cannot print in the help: describe it
    .addOption(new Option('--reward <eth>', 'reward for the submitter').argParser(ethArg('--reward')).default(ethers.parseEther('0.01'), '0.01 ETH'))
    .option('--window <seconds>', 'challenge window of a result (default: the coordinator\'s minimum, days on a public chain)', intArg('--window', 1))
    .option('--model-id <id>', 'the registration to use when the model is registered at several URIs')
    .option('--deadline <seconds>', 'seconds from now until no result is accepted', intArg('--deadline', 1), 86400)
    .option('--dissection <n>', `dissection degree of a dispute (${MIN_DISSECTION} … ${MAX_DISSECTION})`, intArg('--dissection', MIN_DISSECTION, MAX_DISSECTION), 2)
    .option('--wait', 'wait for the result, finalize it and print it')
    .option('--by-uri', 'put only each input\'s data root and its file:// URI on chain, not its bytes (large inputs; servers must read the files)')
    .addHelpText('after', '\nExample:\n  opml request out/fmnist-cnn.opmlc models/fmnist-cnn/samples/input_0.pb --reward 0.01 --wait'))
    .action(async (dir: string, files: string[], o: ChainArgs & { reward: bigint; window?: number; modelId?: string; deadline: number; dissection: number; wait?: boolean; byUri?: boolean }) => {
      const { loadGameModel } = await import('./world.ts');
      const { requestInference, resolveModelId } = await import('./requester.ts');
      const m = loadGameModel(dir);
      const g = m.graph;
      const inputs = resolveInputs(g.inputs.map((i) => g.tensors[i]!.name), g.inputs.map((i) => g.tensors[i]!), files);
      const p = await party('requester', o);
      const modelId = await resolveModelId(p, m, o.modelId);
      const minWindow = Number(await p.coordinator.getFunction('minChallengeWindow')());
      const window = o.window ?? minWindow;
      if (window < minWindow) throw new ChainError(`--window ${window}: this coordinator's minimum challenge window is ${minWindow} s`);
      const uris = o.byUri ? inputFiles(g.inputs.map((i) => g.tensors[i]!.name), files).map((f) => pathToFileURL(path.resolve(f)).href) : undefined;
      const r = await requestInference(p, m, inputs, { modelId, reward: o.reward, challengeWindow: window, deadlineIn: o.deadline, dissection: o.dissection, uris });
      process.stdout.write(`task ${r.taskId} requested (gas ${r.gas.toLocaleString('en')})\n`);
      if (o.wait) await waitAndFinalize(p, r.taskId, m);
    });

  addChainOptions(program
    .command('serve')
    .summary('answer requests for models and defend the results (a submitter)')
    .description('Watch the coordinator for requests of the given models, run each natively, submit the result with a bond, and defend it in every dispute game (phase 2 from the native trace, phase 1 from the OPVM interpreter). It resumes games from the chain after a restart. Runs until Ctrl-C.\n\n--cheat makes it a cheating submitter, for demonstrations: it will lose its bond.')
    .argument('<compiled...>', 'compiled bundle directories of the models to serve')
    .addOption(new Option('--cheat <kind>', 'submit wrong results (demonstrations only)').choices([...CHEATS]))
    .option('--cheat-node <k>', 'the node the cheat targets (default: chosen per kind)', intArg('--cheat-node', 1))
    .option('--from-block <n>', 'first block to scan for events', intArg('--from-block', 0), 0)
    .addHelpText('after', '\nExample:\n  OPML_KEY=0x… opml serve out/fmnist-cnn.opmlc'))
    .action(async (dirs: string[], o: ChainArgs & { cheat?: CheatKind; cheatNode?: number; fromBlock: number }) => {
      const models = await served(dirs);
      const { Submitter } = await import('./agents.ts');
      const narrator = new Narrator(models.length === 1 ? models[0]!.model.graph : null, (l) => process.stdout.write(l + '\n'));
      const agent = new Submitter(await party('submitter', o), models, { cheat: o.cheat ? { kind: o.cheat, node: o.cheatNode } : undefined, onEvent: narrator.handle, fromBlock: o.fromBlock });
      process.stderr.write(`serving ${models.map((m) => m.model.manifest.model!.commitment).join(', ')} as ${agent.party.address}${o.cheat ? ` (CHEATING: ${o.cheat})` : ''}; Ctrl-C stops\n`);
      await runAgent(agent, models);
    });

  for (const name of ['watch', 'challenge']) {
    addChainOptions(program
      .command(name)
      .summary(name === 'watch' ? 're-execute every result of the given models and challenge the wrong ones' : 'the same as watch')
      .description('Re-execute every live result of the given models natively and challenge each one whose final graph state differs from its own (with a bond), then play the dispute game to the end. It resumes games from the chain after a restart. Runs until Ctrl-C.')
      .argument('<compiled...>', 'compiled bundle directories of the models to check')
      .option('--from-block <n>', 'first block to scan for events', intArg('--from-block', 0), 0)
      .addHelpText('after', `\nExample:\n  OPML_KEY=0x… opml ${name} out/fmnist-cnn.opmlc`))
      .action(async (dirs: string[], o: ChainArgs & { fromBlock: number }) => {
        const models = await served(dirs);
        const { Challenger } = await import('./agents.ts');
        const narrator = new Narrator(models.length === 1 ? models[0]!.model.graph : null, (l) => process.stdout.write(l + '\n'));
        const agent = new Challenger(await party('challenger', o), models, { onEvent: narrator.handle, fromBlock: o.fromBlock });
        process.stderr.write(`watching ${models.map((m) => m.model.manifest.model!.commitment).join(', ')} as ${agent.party.address}; Ctrl-C stops\n`);
        await runAgent(agent, models);
      });
  }

  addChainOptions(program
    .command('status')
    .summary('show a task: its results, their games, and the outputs')
    .argument('<task>', 'task id', taskArg)
    .option('--model <compiled>', 'compiled bundle of the task\'s model, to decode the outputs')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  opml status 1 --model out/fmnist-cnn.opmlc'))
    .action(async (taskId: bigint, o: ChainArgs & { model?: string; json?: boolean }) => {
      const p = await party('reader', o, true);
      const { loadGameModel } = await import('./world.ts');
      const { taskReport } = await import('./requester.ts');
      const m = o.model ? loadGameModel(o.model) : undefined;
      const r = await taskReport(p, taskId, m);
      if (o.json) { process.stdout.write(JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 1) + '\n'); return; }
      const lines = [`task ${r.taskId}: ${r.status}; model ${r.modelId}; reward ${ethers.formatEther(r.reward)} ETH; deadline ${new Date(Number(r.deadline) * 1000).toISOString()}; ${r.dissection}-way dissection`];
      for (const s of r.submissions) {
        lines.push(`  result ${s.id} by ${s.submitter}: ${s.status}${s.status === 'live' ? `, challenge window until ${new Date(Number(s.windowEnd) * 1000).toISOString()}` : ''}`);
        for (const gm of s.games) lines.push(`    game ${gm.id} by ${gm.challenger}: ${gm.resolved ? (gm.submitterWon ? 'submitter won' : 'challenger won') : 'in progress'}`);
      }
      if (r.outputs && m) r.outputs.forEach((t, i) => lines.push(`  ${summary(m.graph.tensors[m.graph.outputs[i]!]!.name, t)}`));
      process.stdout.write(lines.join('\n') + '\n');
    });

  addChainOptions(program
    .command('finalize')
    .summary('finalize a result whose challenge window has passed')
    .argument('<task>', 'task id', taskArg)
    .addHelpText('after', '\nExample:\n  OPML_KEY=0x… opml finalize 1'))
    .action(async (taskId: bigint, o: ChainArgs) => {
      const { finalize } = await import('./requester.ts');
      const gas = await finalize(await party('finalizer', o), taskId);
      process.stdout.write(`task ${taskId} finalized (gas ${gas.toLocaleString('en')})\n`);
    });

  addChainOptions(program
    .command('withdraw')
    .summary('take out what the coordinator owes you (rewards, bonds)')
    .addHelpText('after', '\nExample:\n  opml withdraw --key-file submitter.key'))
    .action(async (o: ChainArgs) => {
      const { withdraw } = await import('./requester.ts');
      const w = await withdraw(await party('account', o));
      process.stdout.write(w.amount === 0n ? 'nothing to withdraw\n' : `withdrew ${ethers.formatEther(w.amount)} ETH (gas ${w.gas.toLocaleString('en')})\n`);
    });
}

/** Wait until the task's live result can be finalized (window over, no open game), finalize, print. */
async function waitAndFinalize(p: Party, taskId: bigint, m: GameModel): Promise<void> {
  const { finalize, taskReport } = await import('./requester.ts');
  const co = p.coordinator;
  const provider = p.signer.provider!;
  let last = '';
  // The chain's clock as it will be in the next block: the latest block's timestamp plus the wall-clock
  // time since we read it (a chain that mines only on transactions, like anvil, keeps the last block's
  // timestamp until the next one, which then carries the current time).
  const seen = { chain: BigInt((await provider.getBlock('latest'))!.timestamp), wall: Date.now() };
  for (;;) {
    const t = await co.getFunction('getTask')(taskId);
    if (Number(t.status) === TaskStatus.Final) break;
    const live = BigInt(t.liveSubmission);
    let note = 'waiting for a result';
    let detail = '';
    if (live !== 0n) {
      const s = await co.getFunction('getSubmission')(live);
      const blockTs = BigInt((await provider.getBlock('latest'))!.timestamp);
      if (blockTs > seen.chain) { seen.chain = blockTs; seen.wall = Date.now(); }
      const now = seen.chain + BigInt(Math.floor((Date.now() - seen.wall) / 1000));
      const end = BigInt(s.windowEnd);
      if (Number(s.openGames) > 0) note = `result ${live} is being disputed (${s.openGames} game${Number(s.openGames) > 1 ? 's' : ''})`;
      else if (now < end) {
        note = `result ${live}: the challenge window closes at ${new Date(Number(end) * 1000).toISOString()}`;
        detail = ` (in ${end - now} s)`;
      } else {
        try {
          await finalize(p, taskId);
          break;
        } catch (e) {
          if (!/WindowOpen/.test((e as Error).message)) throw e;
          note = `result ${live}: waiting for a block past the challenge window`;
        }
      }
    }
    if (note !== last) process.stderr.write(note + detail + '\n');
    last = note;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const r = await taskReport(p, taskId, m);
  r.outputs?.forEach((t, i) => process.stdout.write(`${summary(m.graph.tensors[m.graph.outputs[i]!]!.name, t)}\n`));
}

export function gameErrorExit(e: unknown): { code: number; message: string } | undefined {
  if (e instanceof ChainError) return { code: 2, message: e.message };
  if (e instanceof RunError) return { code: 2, message: e.message };
  return undefined;
}
