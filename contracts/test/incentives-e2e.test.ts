/**
 * The incentive rules of docs/game.md §3.4 end to end: the real contracts on anvil, the real clients, the
 * bundled Fashion-MNIST CNN. Each attack of issue 11 is played and fails: a cheater that rejects its own
 * result through a sybil's challenge still pays the honest challenger (whose agent claims bond and share);
 * a challenge signed against a result that was replaced meanwhile reverts unspent; a submitter claiming
 * more OPVM steps than the node's compiled bound cannot open the node; a copied result has no commitment;
 * zero-padded inputs are refused. test/Incentives.t.sol plays the same attacks in forge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ethers } from 'ethers';
import { hostBytes } from '../../converter/ir/host-tensor.ts';
import { TaskWorld } from '../../runtime/game/world.ts';
import { Challenger, openingArgs, resultCommitment, Submitter } from '../../runtime/game/agents.ts';
import type { AgentEvent } from '../../runtime/game/agents.ts';
import { cheatingWorld } from '../../runtime/game/cheat.ts';
import { hexOf, Party } from '../../runtime/game/chain.ts';
import { s0Paths } from '../../runtime/game/requester.ts';
import { Move, SubmissionStatus } from '../../runtime/game/abi.ts';
import { anvilKey as key } from '../ts/anvil.ts';
import { balance, BOND, chainWithTask, LOCAL, shareOf, tickUntil, useCnn } from './helpers/cnn-game.ts';

const cnn = useCnn('opml-incentives-');
const served = () => cnn.served();
const setup = () => chainWithTask(cnn, { dissection: 2, modelUri: 'ipfs://fmnist-cnn' });

test('a cheater that rejects its own result through a sybil still pays the honest challenger; a challenge in flight cannot land on its resubmission', async () => {
  const w = await setup();
  try {
    const co = w.requester.coordinator;
    const cheater = new Submitter(await Party.create('cheater', w.provider, key(1), w.coordinator, w.ledger), [await served()], { cheat: { kind: 'wrong-output' }, strict: true });
    const events: AgentEvent[] = [];
    const honest = new Challenger(await Party.create('honest', w.provider, key(2), w.coordinator, w.ledger), [await served()], { onEvent: (e) => events.push(e), strict: true });
    const sybil = await Party.create('sybil', w.provider, key(3), w.coordinator, w.ledger);
    await cheater.tick(); // commits, then reveals its wrong result
    const sid1 = BigInt((await co.getFunction('getTask')(w.taskId)).liveSubmission);
    const sn1 = String((await co.getFunction('getSubmission')(sid1)).finalState);
    await tickUntil([honest], () => events.some((e) => e.kind === 'challenged'), 'the honest challenge');
    // The cheater's sybil challenges too, and the cheater never answers it (nor the honest game): it loses on purpose.
    const bond = BigInt(await co.getFunction('challengerBond')());
    const rc = await sybil.send('sybil challenge', () => sybil.coordinator.getFunction('challenge')(w.taskId, sid1, sn1, { value: bond }));
    const sybilGame = BigInt(sybil.coordinator.interface.parseLog(rc.logs.find((l) => l.address.toLowerCase() === w.coordinator.toLowerCase() && sybil.coordinator.interface.parseLog(l)?.name === 'Challenged')!)!.args.gameId);
    await w.provider.send('evm_increaseTime', [LOCAL.clockSeconds + 1]);
    await w.provider.send('evm_mine', []);
    await sybil.send('claim the timeout', () => sybil.game.getFunction('timeout')(sybilGame));
    const sub = await co.getFunction('getSubmission')(sid1);
    assert.equal(Number(sub.status), SubmissionStatus.Rejected, 'rejected through the sybil\'s game');
    assert.equal(BigInt(sub.rejectedBy), sybilGame);
    // The honest agent sees the rejection and claims its bond and share instead of playing on.
    await tickUntil([honest], () => events.some((e) => e.kind === 'rewarded'), 'the honest challenger\'s reward');
    const rewarded = events.find((e) => e.kind === 'rewarded');
    assert.ok(rewarded && rewarded.kind === 'rewarded' && rewarded.amount === BOND + shareOf(2n), 'bond + half the unburnt bond');
    assert.equal(await balance(honest.party), BOND + shareOf(2n), 'the honest challenger is paid');
    const cheaterSide = (await balance(cheater.party)) + (await balance(sybil)) - BOND - bond;
    assert.equal(cheaterSide, shareOf(2n) - BOND, 'the cheater and its sybil: the bond lost, one share back');
    assert.ok(cheaterSide <= -(BOND / 2n), 'at least the burnt half of the bond lost: losing on purpose never breaks even');

    // The cheater resubmits the honest result (from another of its addresses: the agent does not answer a task
    // twice); a challenge signed against the first result lands now.
    const resubmitter = new Submitter(await Party.create('cheater2', w.provider, key(5), w.coordinator, w.ledger), [await served()], { strict: true });
    await resubmitter.tick();
    const sid2 = BigInt((await co.getFunction('getTask')(w.taskId)).liveSubmission);
    assert.ok(sid2 > sid1, 'a new live result');
    const late = await Party.create('late', w.provider, key(4), w.coordinator, w.ledger);
    const before = await w.provider.getBalance(late.address);
    await assert.rejects(late.send('late challenge', () => late.coordinator.getFunction('challenge')(w.taskId, sid1, sn1, { value: bond })), new RegExp(`NotLiveSubmission\\(${sid1}, ${sid2}\\)`));
    assert.equal(await w.provider.getBalance(late.address), before, 'the bond never left (estimation refused it)');
    // The honest agent checks the new result and agrees: no challenge.
    await tickUntil([honest], () => events.some((e) => e.kind === 'verified' && e.submissionId === sid2), 'the check of the resubmission');
    assert.ok(events.some((e) => e.kind === 'verified' && e.submissionId === sid2 && e.agrees));
  } finally {
    await w.anvil.stop();
  }
});

test('a submitter cannot claim more OPVM steps than the node\'s compiled bound; a copied result has no commitment; padded inputs are refused', async () => {
  const w = await setup();
  try {
    const co = w.requester.coordinator;
    const cheaterParty = await Party.create('cheater', w.provider, key(1), w.coordinator, w.ledger);
    const cheater = new Submitter(cheaterParty, [await served()], { cheat: { kind: 'wrong-output' }, strict: true });
    const challenger = new Challenger(await Party.create('challenger', w.provider, key(2), w.coordinator, w.ledger), [await served()], { strict: true });
    const g = cheaterParty.game;
    // Play until the cheater must open the disputed node, then try to open it with an inflated step count.
    await cheater.tick();
    const gameOpen = async () => {
      if (Number(await g.getFunction('gameCount')()) === 0) return false;
      const v = await g.getFunction('getGame')(1n);
      return Number(v.expected) === Move.Open;
    };
    for (let i = 0; i < 200 && !(await gameOpen()); i++) {
      await challenger.tick();
      if (await gameOpen()) break;
      await cheater.tick();
    }
    assert.ok(await gameOpen(), 'the cheater is to open a node');
    const node = Number((await g.getFunction('getGame')(1n)).hi);
    const ex = await served();
    const world = cheatingWorld(TaskWorld.fromNative(cnn.model, ex.ex, [cnn.sample(1)]), 'wrong-output').world;
    const opening = world.nodeRun(node).opening();
    const bound = cnn.model.manifest.nodes[node - 1]!.vm!.stepBound;
    assert.equal(opening.stepBound, bound);
    assert.ok(opening.steps <= bound, `the true count ${opening.steps} is within the bound ${bound}`);
    const inflated = { ...opening, steps: 2 ** 40 };
    await assert.rejects(cheaterParty.send('open with 2^40 steps', () => g.getFunction('openNode')(1n, openingArgs(inflated))), new RegExp(`StepsAboveBound\\(${2 ** 40}, ${bound}\\)`));
    await assert.rejects(cheaterParty.send('open with a bound of its own', () => g.getFunction('openNode')(1n, openingArgs({ ...inflated, stepBound: 2 ** 40 }))), /BadRecordProof/);
    // The cheater's agent opens honestly (within the bound) and loses at the step proof.
    await tickUntil([cheater, challenger], () => challenger.endedGames.size === 1, 'the game to end');
    assert.equal(await balance(challenger.party), BOND + shareOf(1n));

    // A copier replays an honest reveal as its own: it has no commitment (the commitment binds the address).
    const honestWorld = TaskWorld.fromNative(cnn.model, ex.ex, [cnn.sample(1)]);
    const outputs = honestWorld.outputs().map(hexOf);
    const sn = hexOf(honestWorld.states[honestWorld.nodes]!);
    const paths = honestWorld.outputPaths().map((p) => p.map(hexOf));
    const honestParty = await Party.create('honest', w.provider, key(3), w.coordinator, w.ledger);
    const copier = await Party.create('copier', w.provider, key(4), w.coordinator, w.ledger);
    const salt = ethers.hexlify(ethers.randomBytes(32));
    await honestParty.send('commit', () => honestParty.coordinator.getFunction('commitResult')(resultCommitment(w.taskId, honestParty.address, sn, outputs, salt)));
    await assert.rejects(copier.send('copy the reveal', () => copier.coordinator.getFunction('submitResult')(w.taskId, sn, outputs, paths, salt, { value: BOND })), /NoCommitment/);
    await honestParty.send('reveal', () => honestParty.coordinator.getFunction('submitResult')(w.taskId, sn, outputs, paths, salt, { value: BOND }));
    assert.equal(String((await co.getFunction('getSubmission')((await co.getFunction('getTask')(w.taskId)).liveSubmission)).submitter), honestParty.address);

    // Input bytes with zero padding: the same data root's prefix, another tensor: refused by length.
    const input = cnn.sample(1);
    const bytes = hostBytes(input);
    const padded = ethers.concat([bytes, new Uint8Array(32)]);
    await assert.rejects(w.requester.send('padded request', () => co.getFunction('requestInference')(w.modelId, [{ data: padded, dataRoot: ethers.ZeroHash, uri: '' }], s0Paths(cnn.model, [input]).map((p) => p.map(hexOf)), 600, 10n ** 12n, 2, false)), new RegExp(`BadInputLength\\(0, ${bytes.length + 32}, ${bytes.length}\\)`));
  } finally {
    await w.anvil.stop();
  }
});
