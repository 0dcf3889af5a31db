/**
 * The whole game on a real anvil chain with the real contracts and the real clients, on the bundled
 * Fashion-MNIST CNN: every kind of cheating submitter loses to an honest challenger at its node (and
 * step), binary and 8-way; an honest submitter beats a challenger that believes a wrong world (by step
 * proof) and one that falls silent (by timeout); a challenger killed mid-game and started again resumes
 * from the chain and still wins; with two challengers, one wins and the other is paid from the same
 * rejection (its bond and a share of the cheater's); everyone is paid what the rules say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ethers } from 'ethers';
import { Challenger, Submitter } from '../../runtime/game/agents.ts';
import type { AgentEvent } from '../../runtime/game/agents.ts';
import { Party } from '../../runtime/game/chain.ts';
import { GameStatus, SubmissionStatus } from '../../runtime/game/abi.ts';
import { runDemo } from '../ts/demo.ts';
import { anvilKey as key } from '../ts/anvil.ts';
import { balance, BOND, chainWithTask, LOCAL, ROOT, shareOf, tickUntil, useCnn } from './helpers/cnn-game.ts';

const cnn = useCnn('opml-game-');
const served = () => cnn.served();
const setup = (dissection: number, uri?: string) => chainWithTask(cnn, { dissection, inputUri: uri });

for (const [cheat, k] of [['wrong-step', 2], ['wrong-tensor', 8], ['wrong-output', 8], ['wrong-step', 8]] as const) {
  test(`demo: a ${cheat} cheater loses (${k}-way) and the honest result finalizes`, async () => {
    const lines: string[] = [];
    const s = await runDemo({ model: cnn.compiled, input: path.join(ROOT, 'models/fmnist-cnn/samples/input_0.pb'), dissection: k, cheat, workDir: cnn.dir, print: (l) => lines.push(l) });
    assert.ok(s.ok, lines.join('\n'));
    assert.ok(s.cheaterLost && s.finalized && s.challengersPaid);
    const paidEach = ethers.formatEther(BOND + shareOf(2n));
    assert.equal(s.paid.challenger, paidEach, 'the winning challenger gets its bond and half the unburnt part of the cheater\'s');
    assert.equal(s.paid.challenger2, paidEach, 'so does the other honest challenger');
    assert.equal(s.paid.honest, '0.15', 'the honest submitter gets reward and bond');
    assert.equal(s.paid.cheater, '0.0');
    const plan = lines.find((l) => l.startsWith('submit     cheater'))!;
    assert.match(plan, new RegExp(`node ${s.disputedNode} `), 'phase 2 ends at the cheat\'s node');
    if (cheat === 'wrong-step') {
      const step = Number(/step ([\d,]+)\)/.exec(plan)![1]!.replace(/,/g, ''));
      assert.equal(s.disputedStep, step - 1, 'phase 1 ends at the faulty step');
    }
    assert.ok(BigInt(s.dispute.gasByParty.challenger!) < 3_000_000n, `challenger gas ${s.dispute.gasByParty.challenger}`);
  });
}

test('an honest submitter beats a challenger that believes a wrong world (step proof), and one that falls silent (timeout)', async () => {
  const w = await setup(2);
  try {
    const events: AgentEvent[] = [];
    const sub = new Submitter(await Party.create('submitter', w.provider, key(1), w.coordinator, w.ledger), [await served()], { onEvent: (e) => events.push(e) });
    const liar = new Challenger(await Party.create('liar', w.provider, key(2), w.coordinator, w.ledger), [await served()], { lie: { kind: 'wrong-step' }, onEvent: (e) => events.push(e) });
    await tickUntil([sub, liar], () => liar.endedGames.size === 1 && sub.endedGames.size === 1, 'the liar\'s game to end');
    const res = events.filter((e) => e.kind === 'resolved');
    assert.deepEqual(res.map((e) => e.kind === 'resolved' && [e.party, e.won, e.reason]).sort(), [['liar', false, 0], ['submitter', true, 0]].sort());
    assert.equal(await balance(sub.party), BOND, 'the submitter is credited the challenger\'s bond');

    // A second challenger that challenges the same (correct) result and then stops answering.
    const silent = new Challenger(await Party.create('silent', w.provider, key(3), w.coordinator, w.ledger), [await served()], { lie: { kind: 'wrong-output' } });
    const g = sub.party.game;
    const before = Number(await g.getFunction('gameCount')());
    await tickUntil([silent, sub], async () => Number(await g.getFunction('gameCount')()) > before, 'a second challenge');
    const gameId = BigInt(before + 1);
    // The submitter bisects; then it is the silent challenger's turn, and it never moves again.
    const silentToMove = async () => String((await g.getFunction('getGame')(gameId)).mover).toLowerCase() === silent.party.address.toLowerCase();
    await tickUntil([sub], silentToMove, 'the silent challenger\'s turn');
    await w.provider.send('evm_increaseTime', [LOCAL.clockSeconds + 1]);
    await w.provider.send('evm_mine', []);
    await tickUntil([sub], async () => Number((await g.getFunction('getGame')(gameId)).status) !== GameStatus.Active, 'the timeout');
    const view = await g.getFunction('getGame')(gameId);
    assert.equal(Number(view.status), GameStatus.SubmitterWon, 'the silent challenger loses on time');
    assert.equal(await balance(sub.party), 2n * BOND);
  } finally {
    await w.anvil.stop();
  }
});

test('an input given by URI: only its data root goes on chain; agents read the file, check its root, and play as usual', async () => {
  const file = path.join(ROOT, 'models/fmnist-cnn/samples/input_1.pb');
  const w = await setup(4, pathToFileURL(file).href);
  try {
    const co = w.requester.coordinator;
    const req = ((await co.queryFilter(co.filters.InferenceRequested!(w.taskId), 0)) as ethers.EventLog[])[0]!;
    assert.equal(req.args.inputs[0].data, '0x', 'no input bytes in calldata');
    const events: AgentEvent[] = [];
    const cheater = new Submitter(await Party.create('cheater', w.provider, key(1), w.coordinator, w.ledger), [await served()], { cheat: { kind: 'wrong-output' }, strict: true });
    const challenger = new Challenger(await Party.create('challenger', w.provider, key(2), w.coordinator, w.ledger), [await served()], { onEvent: (e) => events.push(e), strict: true });
    await tickUntil([cheater, challenger], () => challenger.endedGames.size === 1, 'the game on a URI input');
    assert.ok(events.some((e) => e.kind === 'resolved' && e.won), 'the challenger wins');
  } finally {
    await w.anvil.stop();
  }
  // A URI whose bytes are not the committed ones is refused (a warning, the agent goes on).
  const w2 = await setup(2, pathToFileURL(path.join(ROOT, 'models/fmnist-cnn/samples/input_0.pb')).href.replace('input_0', 'input_3'));
  try {
    const events: AgentEvent[] = [];
    const sub = new Submitter(await Party.create('submitter', w2.provider, key(1), w2.coordinator, w2.ledger), [await served()], { onEvent: (e) => events.push(e) });
    await sub.tick();
    const warning = events.find((e) => e.kind === 'warning');
    assert.ok(warning && warning.kind === 'warning' && /have data root 0x[0-9a-f]+, the request committed to 0x/.test(warning.message), JSON.stringify(events, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
  } finally {
    await w2.anvil.stop();
  }
});

test('a challenger killed mid-game and started again resumes from the chain and wins; a second challenger is paid from the same rejection', async () => {
  const w = await setup(2);
  try {
    const cheater = new Submitter(await Party.create('cheater', w.provider, key(1), w.coordinator, w.ledger), [await served()], { cheat: { kind: 'wrong-step' } });
    const first = new Challenger(await Party.create('challenger', w.provider, key(2), w.coordinator, w.ledger), [await served()]);
    const other = new Challenger(await Party.create('other', w.provider, key(3), w.coordinator, w.ledger), [await served()]);
    let moves = 0;
    const counting = { tick: async () => { const a = await first.tick(); if (a) moves++; return a; } };
    // Both challenge; the first plays a few moves and is then dropped (as if killed).
    await tickUntil([cheater, counting, other], () => moves >= 6, 'six moves by the first challenger');
    const restarted = new Challenger(await Party.create('challenger', w.provider, key(2), w.coordinator, w.ledger), [await served()]);
    const taskDone = async () => {
      const t = await w.requester.coordinator.getFunction('getTask')(w.taskId);
      const subs = (await w.requester.coordinator.getFunction('getSubmission')(1n));
      return Number(subs.status) === SubmissionStatus.Rejected && BigInt(t.liveSubmission) === 0n && restarted.endedGames.size + other.endedGames.size >= 2;
    };
    await tickUntil([cheater, restarted, other], taskDone, 'the cheater\'s result to be rejected and both games to end for the challengers');
    assert.equal(await balance(restarted.party), BOND + shareOf(2n), 'the restarted challenger: its bond and its share');
    assert.equal(await balance(other.party), BOND + shareOf(2n), 'the other challenger: the same');
    assert.equal(await balance(cheater.party), 0n);
  } finally {
    await w.anvil.stop();
  }
});
