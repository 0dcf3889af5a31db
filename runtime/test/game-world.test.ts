/**
 * The game's data, played in memory with the rules of docs/game.md checked in TypeScript: an honest
 * challenger against each cheating submitter (wrong output, wrong intermediate tensor, wrong VM step)
 * and an honest submitter against a challenger that picks segments at random, on the bundled CNN, with
 * binary and 8-way dissection. Every node opening is checked as the contract checks it (record proof,
 * input openings, transition, composed initial state, halted final state with its output regions), and
 * the last step is decided by the TypeScript verifier.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { convertModel } from '../../converter/convert.ts';
import { compileBundle } from '../../compiler/compile.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import { rootFromProof, ZERO_HASHES } from '../../compiler/commit/merkle.ts';
import { u256 } from '../../compiler/commit/tensor.ts';
import { composeMemoryRoot, layoutHash, RegionKind } from '../../compiler/opvm/layout.ts';
import type { RegionKind as RegionKindName } from '../../compiler/opvm/layout.ts';
import { MEM_DEPTH, REGS } from '../../compiler/opvm/isa.ts';
import { NativeExecutor } from '../native/executor.ts';
import { decodeHeader, encodeHeader, stateHash } from '../opvm/state.ts';
import { unpackProof } from '../opvm/proof.ts';
import { verifyStep } from '../opvm/verify.ts';
import { loadGameModel, TaskWorld } from '../game/world.ts';
import type { NodeOpening } from '../game/world.ts';
import { cheatingWorld } from '../game/cheat.ts';
import { CHEATS } from '../game/options.ts';
import { chooseSegment, cutPoints, midsFor } from '../game/bisection.ts';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const H = (...parts: Uint8Array[]) => keccak256(cat(...parts));
const eq = (a: Uint8Array, b: Uint8Array) => toHex(a) === toHex(b);

function ioHash(inSlots: number[], inTypes: Uint8Array[], outSlots: number[], outTypes: Uint8Array[]): Uint8Array {
  const part = (s: number[], t: Uint8Array[]) => [u256(s.length), ...s.flatMap((x, i) => [u256(x), t[i]!])];
  return H(...part(inSlots, inTypes), ...part(outSlots, outTypes));
}

/**
 * openNode's checks (docs/game.md §4.3); returns the initial and final state hashes. `stepBound` is the
 * node's compiled step bound from the manifest, the last word of its record (docs/commitments.md), which
 * the opening must carry.
 */
function checkOpening(o: NodeOpening, k: number, recordsRoot: Uint8Array, before: Uint8Array, after: Uint8Array, stepBound: number): { initial: Uint8Array; final: Uint8Array } {
  assert.equal(o.stepBound, stepBound, 'the opening carries the compiled step bound');
  const names = Object.keys(RegionKind) as RegionKindName[];
  const regions = o.kinds.map((kind, i) => ({ kind: names[kind]!, index: o.indexes[i]!, height: o.heights[i]! }));
  const record = H(o.opHash, o.codeRoot, layoutHash(regions), ioHash(o.inSlots, o.inTypes, o.outSlots, o.outTypes), u256(stepBound));
  assert.ok(eq(rootFromProof(record, k - 1, o.recordPath), recordsRoot), 'record proof');
  o.inSlots.forEach((slot, i) => assert.ok(eq(rootFromProof(H(o.inRoots[i]!, o.inTypes[i]!), slot, o.inPaths[i]!), before), `input ${i} opening`));
  let root: Uint8Array = before;
  o.outSlots.forEach((slot, j) => {
    assert.ok(eq(rootFromProof(ZERO_HASHES[0]!, slot, o.outPaths[j]!), root), `output ${j} slot was empty`);
    root = rootFromProof(H(o.outRoots[j]!, o.outTypes[j]!), slot, o.outPaths[j]!);
  });
  assert.ok(eq(root, after), 'transition S_{k-1} → S_k');
  let at = 0;
  const addresses = regions.map((r) => { const a = at; at += 32 * 2 ** r.height; return a; });
  const memRoot = composeMemoryRoot(regions.map((r) => ({
    height: r.height,
    root: r.kind === 'code' ? o.codeRoot : r.kind === 'input' ? o.inRoots[r.index]! : ZERO_HASHES[r.height]!,
  })));
  const codeAt = addresses[regions.findIndex((r) => r.kind === 'code')]!;
  const initial = stateHash({ memRoot, pc: codeAt / 32, status: 0, regs: new BigUint64Array(REGS) });
  const fin = decodeHeader(o.finalHeader);
  assert.equal(fin.status, 1, 'final state halted');
  regions.forEach((r, i) => {
    if (r.kind !== 'output') return;
    const idx = addresses[i]! / (32 * 2 ** r.height);
    assert.equal(o.outRegionPaths[r.index]!.length, MEM_DEPTH - r.height);
    assert.ok(eq(rootFromProof(o.outRoots[r.index]!, idx, o.outRegionPaths[r.index]!), fin.memRoot), `output region ${r.index}`);
  });
  assert.ok(o.steps >= 1 && o.steps <= stepBound, `1 ≤ steps ${o.steps} ≤ step bound ${stepBound}`);
  return { initial, final: keccak256(o.finalHeader) };
}

/** Node k's compiled step bound (manifest vm.stepBound). */
const stepBoundOf = (w: TaskWorld, k: number): number => w.model.manifest.nodes[k - 1]!.vm!.stepBound;

interface Party { world: TaskWorld }

/** Play one game in memory; returns who won and where it ended. */
function play(sub: Party, chal: Party, k: number, recordsRoot: Uint8Array, pickRandom = false): { submitterWon: boolean; node: number; step: number } {
  const n = sub.world.nodes;
  let lo = 0, hi = n;
  let rng = 12345;
  const rand = (m: number) => { rng = (rng * 1103515245 + 12345) % 2147483648; return rng % m; };
  // phase 2
  assert.ok(eq(sub.world.states[0]!, chal.world.states[0]!), 'S_0 agreed');
  let claimedHi: Uint8Array = sub.world.states[n]!;
  while (hi - lo > 1) {
    const mids = midsFor(lo, hi, k, (p) => sub.world.states[p]!);
    const seg = pickRandom ? rand(mids.length + 1) : chooseSegment(lo, hi, k, mids, claimedHi, (p) => chal.world.states[p]!);
    assert.notEqual(seg, null, 'the challenger disagrees somewhere');
    const pts = cutPoints(lo, hi, k);
    const claims = [...mids, claimedHi];
    [lo, hi] = [pts[seg!]!, pts[seg! + 1]!];
    claimedHi = claims[seg!]!;
  }
  const node = hi;
  const run = sub.world.nodeRun(node);
  const { initial, final } = checkOpening(run.opening(), node, recordsRoot, sub.world.states[node - 1]!, sub.world.states[node]!, stepBoundOf(sub.world, node));
  assert.ok(eq(initial, run.initialHash), 'composed initial state == the run\'s');
  // phase 1
  const own = pickRandom ? null : chal.world.nodeRun(node);
  let slo = 0, shi = run.steps;
  let agreed: Uint8Array = initial;
  claimedHi = final;
  while (shi - slo > 1) {
    const mids = midsFor(slo, shi, k, (p) => run.stateHash(p));
    const seg = own ? chooseSegment(slo, shi, k, mids, claimedHi, (p) => own.stateHash(p)) : rand(mids.length + 1);
    assert.notEqual(seg, null);
    const pts = cutPoints(slo, shi, k);
    const hashes = [agreed, ...mids, claimedHi];
    [slo, shi] = [pts[seg!]!, pts[seg! + 1]!];
    agreed = hashes[seg!]!;
    claimedHi = hashes[seg! + 1]!;
  }
  // the last step, proved by an honest party from the agreed state
  const prover = own ?? run;
  assert.ok(eq(prover.stateHash(slo), agreed), 'the prover is at the agreed state');
  const post = verifyStep(agreed, unpackProof(prover.stepProof(slo))).postHash;
  return { submitterWon: eq(post, claimedHi), node, step: slo };
}

test('in-memory games on the CNN: every cheat loses at its node (and step); an honest submitter beats a random challenger', async () => {
  const dir = tmpDir();
  convertModel(path.join(ROOT, 'models/fmnist-cnn/model.onnx'), path.join(dir, 'cnn.opml'));
  compileBundle(path.join(dir, 'cnn.opml'), path.join(dir, 'cnn.opmlc'));
  const model = loadGameModel(path.join(dir, 'cnn.opmlc'));
  const ex = await NativeExecutor.load(model.dir);
  try {
    const g = model.graph;
    const input = readTensorFile(path.join(ROOT, 'models/fmnist-cnn/samples/input_0.pb'), g.tensors[g.inputs[0]!]);
    const honest = TaskWorld.fromNative(model, ex, [input]);
    const recordsRoot = Uint8Array.from(Buffer.from(model.manifest.model!.recordsRoot.slice(2), 'hex'));
    assert.equal(toHex(honest.constantState), model.manifest.model!.constantState);
    for (const kind of CHEATS) {
      const { world, plan } = cheatingWorld(honest, kind);
      assert.notEqual(toHex(world.states[g.nodes.length]!), toHex(honest.states[g.nodes.length]!), `${kind}: the cheat changes S_n`);
      for (const k of [2, 8]) {
        const r = play({ world }, { world: honest }, k, recordsRoot);
        assert.equal(r.submitterWon, false, `${kind} (${k}-way) must lose`);
        assert.equal(r.node, plan.node, `${kind}: phase 2 ends at the cheat's node`);
        if (plan.step !== undefined) assert.equal(r.step, plan.step - 1, `${kind}: phase 1 ends at the faulty step`);
        else assert.equal(r.step, honest.nodeRun(plan.node).steps - 1, `${kind}: phase 1 ends at the fabricated final step`);
      }
    }
    for (const k of [2, 8]) {
      const r = play({ world: honest }, { world: honest }, k, recordsRoot, true);
      assert.equal(r.submitterWon, true, `honest submitter (${k}-way) wins against a random challenger`);
    }
  } finally {
    await ex.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a node opening binds the initial OPVM state: the header the contract composes equals the interpreter\'s', async () => {
  const dir = tmpDir();
  convertModel(path.join(ROOT, 'models/fmnist-mlp/model.onnx'), path.join(dir, 'm.opml'));
  compileBundle(path.join(dir, 'm.opml'), path.join(dir, 'm.opmlc'));
  const model = loadGameModel(path.join(dir, 'm.opmlc'));
  const ex = await NativeExecutor.load(model.dir);
  try {
    const g = model.graph;
    const input = readTensorFile(path.join(ROOT, 'models/fmnist-mlp/samples/input_0.pb'), g.tensors[g.inputs[0]!]);
    const w = TaskWorld.fromNative(model, ex, [input]);
    const recordsRoot = Uint8Array.from(Buffer.from(model.manifest.model!.recordsRoot.slice(2), 'hex'));
    for (let k = 1; k <= g.nodes.length; k++) {
      const run = w.nodeRun(k);
      const { initial, final } = checkOpening(run.opening(), k, recordsRoot, w.states[k - 1]!, w.states[k]!, stepBoundOf(w, k));
      assert.ok(eq(initial, run.initialHash), `node ${k} initial`);
      assert.ok(eq(final, run.finalHash), `node ${k} final`);
      assert.ok(eq(keccak256(encodeHeader(run.finalState)), final));
    }
  } finally {
    await ex.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
