/**
 * What the end-to-end game tests share: the bundled Fashion-MNIST CNN converted and compiled once per test
 * file, native executors for the agents (closed after the file), a fresh anvil with the contracts deployed
 * (local profile), the model registered and one task requested, and a loop that ticks agents until a
 * condition holds.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ethers, Wallet } from 'ethers';
import { convertModel } from '../../../converter/convert.ts';
import { compileBundle } from '../../../compiler/compile.ts';
import { readTensorFile } from '../../../converter/io/tensor-files.ts';
import type { HostTensor } from '../../../converter/ir/host-tensor.ts';
import { NativeExecutor } from '../../../runtime/native/executor.ts';
import { loadGameModel } from '../../../runtime/game/world.ts';
import type { GameModel } from '../../../runtime/game/world.ts';
import type { ServedModel } from '../../../runtime/game/agents.ts';
import { connect, GasLedger, Party } from '../../../runtime/game/chain.ts';
import { registerModel, requestInference } from '../../../runtime/game/requester.ts';
import { anvilKey, startAnvil } from '../../ts/anvil.ts';
import type { Anvil } from '../../ts/anvil.ts';
import { deploy } from '../../ts/deploy.ts';
import { DEPLOY_PROFILES } from '../../ts/defaults.ts';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const LOCAL = DEPLOY_PROFILES.local;
export const BOND = LOCAL.submitterBond;
/** Each rewarded challenger's share of a rejected submitter's bond when `games` games were open (BURN_BPS = 50 %). */
export const shareOf = (games: bigint) => (BOND - BOND / 2n) / games;

/** The compiled CNN of this test file (set up by `useCnn`). */
export interface Cnn {
  dir: string;
  compiled: string;
  model: GameModel;
  /** A native executor over the compiled model, for one agent (closed after the file). */
  served(): Promise<ServedModel>;
  /** models/fmnist-cnn/samples/input_K.pb as the model's input tensor. */
  sample(k: number): HostTensor;
}

/** Convert and compile the CNN before the file's tests; remove it and close the executors after them. */
export function useCnn(prefix: string): Cnn {
  const executors: NativeExecutor[] = [];
  const cnn = {
    dir: '', compiled: '', model: null as unknown as GameModel,
    async served(): Promise<ServedModel> {
      const ex = await NativeExecutor.load(cnn.compiled);
      executors.push(ex);
      return { model: cnn.model, ex };
    },
    sample(k: number): HostTensor {
      const g = cnn.model.graph;
      return readTensorFile(path.join(ROOT, `models/fmnist-cnn/samples/input_${k}.pb`), g.tensors[g.inputs[0]!]);
    },
  };
  before(() => {
    cnn.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    convertModel(path.join(ROOT, 'models/fmnist-cnn/model.onnx'), path.join(cnn.dir, 'cnn.opml'));
    cnn.compiled = path.join(cnn.dir, 'cnn.opmlc');
    compileBundle(path.join(cnn.dir, 'cnn.opml'), cnn.compiled);
    cnn.model = loadGameModel(cnn.compiled);
  });
  after(async () => {
    for (const ex of executors) await ex.close();
    fs.rmSync(cnn.dir, { recursive: true, force: true });
  });
  return cnn;
}

export interface ChainWorld {
  anvil: Anvil;
  provider: ethers.JsonRpcProvider;
  coordinator: string;
  ledger: GasLedger;
  requester: Party;
  modelId: string;
  taskId: bigint;
}

/**
 * A fresh anvil with the contracts deployed (local profile), the CNN registered at `uri` and one task
 * requested on sample 1 (its input by URI when `inputUri`), with a 600 s window.
 */
export async function chainWithTask(cnn: Cnn, o: { dissection: number; inputUri?: string; modelUri?: string }): Promise<ChainWorld> {
  const anvil = await startAnvil();
  const provider = connect(anvil.url);
  const d = await deploy(new Wallet(anvilKey(0), provider), LOCAL);
  const ledger = new GasLedger();
  const requester = await Party.create('requester', provider, anvilKey(0), d.coordinator, ledger);
  const { modelId } = await registerModel(requester, cnn.model, o.modelUri ?? 'test');
  const { taskId } = await requestInference(requester, cnn.model, [cnn.sample(1)], {
    modelId, reward: ethers.parseEther('0.05'), challengeWindow: 600, deadlineIn: 86400, dissection: o.dissection,
    uris: o.inputUri ? [o.inputUri] : undefined,
  });
  return { anvil, provider, coordinator: d.coordinator, ledger, requester, modelId, taskId };
}

/** Tick the agents in order until `done` (bounded). */
export async function tickUntil(agents: { tick(): Promise<boolean> }[], done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await done()) return;
    let acted = false;
    for (const a of agents) acted = (await a.tick()) || acted;
    if (!acted) await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`gave up waiting for: ${what}`);
}

/** A party's balance in the coordinator. */
export const balance = async (p: Party) => BigInt(await p.coordinator.getFunction('balanceOf')(p.address));
