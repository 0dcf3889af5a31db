/**
 * The task coordinator's on-chain commitments (contracts/src/TaskCoordinator.sol, Commitments.sol) against
 * the TypeScript reference (compiler/commit/, runtime/native/trace.ts), on a local anvil chain:
 *
 *   (a) registerModel's modelId for the bundled Fashion-MNIST CNN equals the TS modelCommitment (the
 *       compiled manifest's `model.commitment`);
 *   (b) the data root the contract computes from input bytes equals compiler/commit/tensor.ts dataRoot for
 *       lengths 0, 1, 31, 32, 33, 3136 and 5000 — through the view and through requestInference on a
 *       one-slot model, whose S_0 is the input commitment itself;
 *   (c) S_0 computed at requestInference equals traceRun(…).states[0] for models/fmnist-cnn/samples/input_0.pb;
 *   (d) end to end through the FashionMnistConsumer example: the real logits, bound to the real S_n by a slot
 *       path, finalize and call back with the arg-max class, which is the sample's label;
 *   (e) a whole dispute game on the CNN with the real OPVM contract: phase 2 narrowed to node 7 (Reshape, whose
 *       code region follows its input region), openNode with the compiler's layout and the native run's
 *       tensors — the contract's initial state H_0 equals the TS tracer's — then phase 1 to one step, proved
 *       with the tracer's step proof: the honest submitter wins.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ethers } from 'ethers';
import { minedReceipt } from '../../runtime/game/chain.ts';
import { resultCommitment } from '../../runtime/game/agents.ts';
import { registryModelId } from '../../runtime/game/requester.ts';
import { dtypeCode } from '../../converter/ir/dtype.ts';
import { anvilKey } from '../ts/anvil.ts';
import type { Graph, TensorId } from '../../converter/ir/types.ts';
import { importModel } from '../../converter/convert.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { keccak256, toHex } from '../../converter/ir/keccak.ts';
import { modelHash } from '../../converter/ir/encoding.ts';
import { compileGraph, manifestOf } from '../../compiler/compile.ts';
import type { CompiledGraph } from '../../compiler/compile.ts';
import { modelCommitment } from '../../compiler/commit/model.ts';
import { commitTensor, dataRoot, typeHash } from '../../compiler/commit/tensor.ts';
import { SlotTree } from '../../compiler/commit/graph-state.ts';
import { merkleProof } from '../../compiler/commit/merkle.ts';
import { NativeExecutor } from '../../runtime/native/executor.ts';
import { Tracer } from '../../runtime/opvm/tracer.ts';
import { nodeImage } from '../../runtime/opvm/node-image.ts';
import { encodeHeader, stateHash } from '../../runtime/opvm/state.ts';
import { packProof } from '../../runtime/opvm/proof.ts';
import { traceRun } from '../../runtime/native/trace.ts';
import type { RunTrace } from '../../runtime/native/trace.ts';
import { compileContracts } from '../ts/compile.ts';
import { startAnvil } from '../ts/anvil.ts';
import type { Anvil } from '../ts/anvil.ts';

const MODEL = 'models/fmnist-cnn/model.onnx';
const SAMPLE = 'models/fmnist-cnn/samples/input_0.pb';
const SUB_BOND = ethers.parseEther('1');
const CHAL_BOND = ethers.parseEther('0.5');
const CLOCK = 3600n;
const MIN_WINDOW = 60n;
/** Per test: a stuck chain fails the test instead of hanging it. */
const TIMEOUT = 180_000;

let anvil: Anvil;
let provider: ethers.JsonRpcProvider;
let wallet: ethers.NonceManager;
/** A second account: the challenger (nobody may challenge its own result). */
let wallet2: ethers.NonceManager;
let coord: ethers.Contract;
let graph: Graph;
let compiled: CompiledGraph;
let trace: RunTrace;
let inputBytes: Uint8Array;
/** Every tensor's bytes after the native run. */
let values: Uint8Array[];
let labels: number[];
let deployConsumer: (modelId: string) => Promise<ethers.Contract>;

const hex = (b: Uint8Array) => toHex(b);
const bytesOf = (t: { data: ArrayBufferView }) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

before(async () => {
  graph = importModel(MODEL).graph;
  compiled = compileGraph(graph, MODEL);
  const hashes = new Map<TensorId, Uint8Array>();
  for (const [id, c] of graph.constants) hashes.set(id, keccak256(c.read()));
  const manifest = manifestOf(compiled, toHex(modelHash(graph, hashes)), 'test');
  const ex = await NativeExecutor.create(graph, manifest, compiled.kernels.map((k) => k.wasm));
  try {
    const x = readTensorFile(SAMPLE, graph.tensors[graph.inputs[0]!]);
    inputBytes = bytesOf(x).slice();
    trace = traceRun(ex, [x]);
    values = graph.tensors.map((_, id) => bytesOf(ex.tensor(id as TensorId)).slice());
  } finally {
    await ex.close();
  }
  labels = (JSON.parse(fs.readFileSync('models/fmnist-cnn/samples/labels.json', 'utf8')) as { labels: number[] }).labels;

  const c = compileContracts({ extraSources: ['src/examples/FashionMnistConsumer.sol'] });
  anvil = await startAnvil();
  provider = new ethers.JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, batchMaxCount: 1, polling: true, pollingInterval: 50 });
  wallet = new ethers.NonceManager(new ethers.Wallet(anvil.privateKey, provider));
  wallet2 = new ethers.NonceManager(new ethers.Wallet(anvilKey(1), provider));
  const deploy = async (name: string, args: unknown[] = []) => {
    const k = await new ethers.ContractFactory(c[name]!.abi as ethers.InterfaceAbi, c[name]!.bytecode, wallet).deploy(...args);
    await minedReceipt(provider, k.deploymentTransaction()!.hash);
    return new ethers.Contract(await k.getAddress(), c[name]!.abi as ethers.InterfaceAbi, wallet);
  };
  const opvm = await deploy('OPVM');
  coord = await deploy('TaskCoordinator', [SUB_BOND, CHAL_BOND, CLOCK, MIN_WINDOW, await opvm.getAddress()]);
  const coordAddress = await coord.getAddress();
  deployConsumer = (modelId: string) => deploy('FashionMnistConsumer', [coordAddress, modelId, MIN_WINDOW]);
}, { timeout: 2 * TIMEOUT });


after(async () => {
  provider?.destroy();
  await anvil?.stop();
});

/** The registration spec of a graph: manifest's records root and constant state, graph IO with dtype and shape. */
function specOf(g: Graph, m: { recordsRoot: string; constantState: string }) {
  const types = (ids: readonly TensorId[]) => ids.map((id) => ({ dtype: dtypeCode(g.tensors[id]!.dtype), dims: g.tensors[id]!.shape }));
  return {
    recordsRoot: m.recordsRoot, nodes: g.nodes.length, constantState: m.constantState, slots: g.tensors.length,
    inSlots: [...g.inputs], inTypes: types(g.inputs), outSlots: [...g.outputs], outTypes: types(g.outputs),
  };
}

async function send(method: string, args: unknown[], value = 0n): Promise<ethers.TransactionReceipt> {
  const tx = await (coord[method] as ethers.BaseContractMethod)(...args, { value });
  const r = await minedReceipt(provider, tx.hash);
  assert.equal(r.status, 1, `${method} succeeded`);
  return r;
}

/** Commit to a result, then reveal it (the reveal lands in a later block): the submission id. */
async function submitResult(taskId: bigint, root: string, outputs: readonly Uint8Array[], outPaths: string[][]): Promise<bigint> {
  const salt = ethers.hexlify(ethers.randomBytes(32));
  await send('commitResult', [resultCommitment(taskId, await wallet.getAddress(), root, outputs.map(hex), salt)]);
  const r = await send('submitResult', [taskId, root, outputs, outPaths, salt], SUB_BOND);
  return event(r, 'ResultSubmitted').args.submissionId as bigint;
}

function event(r: ethers.TransactionReceipt, name: string): ethers.LogDescription {
  for (const log of r.logs) {
    try {
      const d = coord.interface.parseLog(log);
      if (d?.name === name) return d;
    } catch { /* another contract's log */ }
  }
  throw new Error(`no ${name} event`);
}

/** The slot tree of the constants and the proofs of the input slots before each is set (S_0's paths). */
function s0PathsOf(g: Graph, inputCommitments: readonly Uint8Array[]): { tree: SlotTree; paths: string[][] } {
  const tree = new SlotTree(g.tensors.length);
  for (const [id, c] of g.constants) tree.set(id, commitTensor(g.tensors[id]!.dtype, g.tensors[id]!.shape, c.read()));
  const paths = g.inputs.map((id, i) => {
    const p = tree.proof(id).map(hex);
    tree.set(id, inputCommitments[i]!);
    return p;
  });
  return { tree, paths };
}

let cnnModelId = '';

test('(a) registerModel computes the TS model commitment of the bundled CNN', { timeout: TIMEOUT }, async () => {
  const m = compiled.model!;
  const mc = modelCommitment(graph, compiled.kernels.map((k) => ({
    codeRoot: ethers.getBytes(k.node.vm!.codeRoot), layoutHash: ethers.getBytes(k.node.vm!.layoutHash), stepBound: k.node.vm!.stepBound,
  })));
  assert.equal(hex(mc.commitment), m.commitment, 'manifest and modelCommitment agree');
  const spec = specOf(graph, m);
  const id = registryModelId(m.commitment, 'models/fmnist-cnn');
  const predicted = await (coord.registerModel as ethers.BaseContractMethod).staticCall(spec, 'models/fmnist-cnn');
  assert.equal(predicted, id, 'modelId = H(M ‖ H(uri))');
  const r = await send('registerModel', [spec, 'models/fmnist-cnn']);
  const e = event(r, 'ModelRegistered');
  assert.equal(e.args.modelId, id);
  assert.equal(e.args.commitment, m.commitment, 'M computed on chain from the spec == the compiler\'s');
  assert.equal(e.args.recordsRoot, m.recordsRoot);
  assert.equal(Number(e.args.nodes), graph.nodes.length);
  assert.equal(Number(e.args.slots), graph.tensors.length);
  assert.equal(await (coord.isRegistered as ethers.BaseContractMethod)(id), true);
  const stored = await (coord.getModel as ethers.BaseContractMethod)(id);
  const t = graph.tensors[graph.inputs[0]!]!;
  assert.equal(stored.inputs[0].typeHash, hex(typeHash(t.dtype, t.shape)), 'type hash computed on chain from dtype and shape');
  assert.equal(Number(stored.inputs[0].byteLength), 4 * t.shape.reduce((a, b) => a * b, 1), 'input byte length');
  cnnModelId = id;
});

test('(b) data roots of input bytes: contract == compiler/commit/tensor.ts', { timeout: TIMEOUT }, async () => {
  // One-slot models (slot depth 0), one per length: S_0 is the input commitment H(dataRoot ‖ type) itself.
  const block = await provider.getBlock('latest');
  const deadline = BigInt(block!.timestamp) + 86_400n;
  for (const len of [0, 1, 31, 32, 33, 3136, 5000]) {
    const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 151 + len * 7 + 1) & 0xff);
    const want = hex(dataRoot(bytes));
    assert.equal(await (coord.dataRootOf as ethers.BaseContractMethod)(bytes), want, `dataRootOf, ${len} bytes`);
    if (len === 0) continue; // empty data means "the data root is given"
    const type = hex(typeHash('uint8', [len]));
    const spec = { recordsRoot: ethers.ZeroHash, nodes: 1, constantState: ethers.ZeroHash, slots: 1, inSlots: [0], inTypes: [{ dtype: dtypeCode('uint8'), dims: [len] }], outSlots: [], outTypes: [] };
    const modelId = event(await send('registerModel', [spec, `one slot of ${len} bytes`]), 'ModelRegistered').args.modelId as string;
    const rr = await send('requestInference', [modelId, [{ data: bytes, dataRoot: ethers.ZeroHash, uri: '' }], [[]], 60, deadline, 2, false]);
    const s0 = event(rr, 'InferenceRequested').args.s0 as string;
    assert.equal(s0, ethers.keccak256(ethers.concat([want, type])), `requestInference, ${len} bytes`);
  }
});

test('(c) S_0 computed at requestInference == traceRun(…).states[0] for input_0.pb', { timeout: TIMEOUT }, async () => {
  assert.ok(cnnModelId, 'registered in (a)');
  const inputId = graph.inputs[0]!;
  const t = graph.tensors[inputId]!;
  const c0 = commitTensor(t.dtype, t.shape, inputBytes);
  assert.equal(hex(c0), hex(trace.commitments[inputId]!), 'input commitment');
  const { paths } = s0PathsOf(graph, [c0]);
  const block = await provider.getBlock('latest');
  const r = await send('requestInference', [cnnModelId, [{ data: inputBytes, dataRoot: ethers.ZeroHash, uri: '' }], paths, 60, BigInt(block!.timestamp) + 86_400n, 2, false], 1000n);
  const e = event(r, 'InferenceRequested');
  assert.equal(e.args.s0, hex(trace.states[0]!), 'S_0');
  const task = await (coord.getTask as ethers.BaseContractMethod)(e.args.taskId);
  assert.equal(task.s0, hex(trace.states[0]!));
  // the same input by its data root (data empty, as for a large input)
  const r2 = await send('requestInference', [cnnModelId, [{ data: '0x', dataRoot: hex(dataRoot(inputBytes)), uri: 'file:input_0.pb' }], paths, 60, BigInt(block!.timestamp) + 86_400n, 2, false]);
  assert.equal(event(r2, 'InferenceRequested').args.s0, hex(trace.states[0]!), 'S_0 from a given data root');
});

test('(d) FashionMnistConsumer: the real logits, bound to S_n, finalize with the arg-max class', { timeout: TIMEOUT }, async () => {
  assert.ok(cnnModelId, 'registered in (a)');
  const consumer = await deployConsumer(cnnModelId);
  const inputId = graph.inputs[0]!;
  const t = graph.tensors[inputId]!;
  const { tree, paths } = s0PathsOf(graph, [commitTensor(t.dtype, t.shape, inputBytes)]);
  const block = await provider.getBlock('latest');
  const tx = await (consumer.classify as ethers.BaseContractMethod)(inputBytes, paths[0], BigInt(block!.timestamp) + 86_400n, 2, { value: 1000n });
  await minedReceipt(provider, tx.hash);
  const taskId = await (consumer.lastTaskId as ethers.BaseContractMethod)();
  // the final state: every node's outputs written (trace.commitments), as traceRun builds S_n
  for (const n of graph.nodes) for (const o of n.outputs) tree.set(o, trace.commitments[o]!);
  assert.equal(hex(tree.root()), hex(trace.states.at(-1)!), 'S_n');
  const outputs = trace.outputs.map((o) => bytesOf(o));
  const outPaths = graph.outputs.map((id) => tree.proof(id).map(hex));
  await submitResult(taskId, hex(tree.root()), outputs, outPaths);
  await provider.send('evm_increaseTime', [61]);
  await provider.send('evm_mine', []);
  await send('finalize', [taskId, outputs]);
  const c = await (consumer.classifications as ethers.BaseContractMethod)(taskId);
  assert.equal(c.answered, true, 'called back');
  const logits = new Float32Array(outputs[0]!.slice().buffer);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  assert.equal(Number(c.label), best, 'arg-max of the float32 logits');
  assert.equal(Number(c.label), labels[0], 'the sample is labelled so');
});

const REGION_KIND = { code: 0, input: 1, output: 2, scratch: 3 } as const;

test('(e) a dispute game on the CNN with the real OPVM: open node 7, bisect its steps, prove one', { timeout: TIMEOUT }, async () => {
  assert.ok(cnnModelId, 'registered in (a)');
  const K = 7; // Reshape
  const node = graph.nodes[K - 1]!;
  const kernel = compiled.kernels[K - 1]!;
  const vm = kernel.node.vm!;
  const gameAddress = await (coord.game as ethers.BaseContractMethod)();
  const gameAbi = compileContracts().DisputeGame!.abi as ethers.InterfaceAbi;
  const game = new ethers.Contract(gameAddress, gameAbi, wallet);
  const gameAsChallenger = new ethers.Contract(gameAddress, gameAbi, wallet2);
  const gameEvent = (r: ethers.TransactionReceipt, name: string) => {
    for (const log of r.logs) {
      const d = log.address === game.target ? game.interface.parseLog(log) : null;
      if (d?.name === name) return d;
    }
    throw new Error(`no ${name} event`);
  };
  const gameSend = async (method: string, args: unknown[]) => {
    // A game move mined a second after its estimate also charges the mover's chess clock (a storage write
    // the estimate, made on the last block's timestamp, did not see): send with a margin.
    const mover = method === 'choose' || method === 'proveStep' ? gameAsChallenger : game;
    const fn = mover[method] as ethers.BaseContractMethod;
    const gasLimit = ((await fn.estimateGas(...args)) * 5n) / 4n + 20_000n;
    const r = await minedReceipt(provider, (await fn(...args, { gasLimit })).hash);
    assert.equal(r.status, 1, `${method} succeeded`);
    return r;
  };
  // a task, the honest result, a challenge by the second account
  const inputId = graph.inputs[0]!;
  const { tree, paths } = s0PathsOf(graph, [trace.commitments[inputId]!]);
  const block = await provider.getBlock('latest');
  const rq = await send('requestInference', [cnnModelId, [{ data: inputBytes, dataRoot: ethers.ZeroHash, uri: '' }], paths, 3600, BigInt(block!.timestamp) + 86_400n, 2, false]);
  const taskId = event(rq, 'InferenceRequested').args.taskId as bigint;
  for (const n of graph.nodes) for (const o of n.outputs) tree.set(o, trace.commitments[o]!);
  const outputs = trace.outputs.map((o) => bytesOf(o));
  const sid = await submitResult(taskId, hex(tree.root()), outputs, graph.outputs.map((id) => tree.proof(id).map(hex)));
  const coordAsChallenger = coord.connect(wallet2) as ethers.Contract;
  const rc = await minedReceipt(provider, (await (coordAsChallenger.challenge as ethers.BaseContractMethod)(taskId, sid, hex(tree.root()), { value: CHAL_BOND })).hash);
  assert.equal(rc.status, 1, 'challenge succeeded');
  const gameId = event(rc, 'Challenged').args.gameId as bigint;

  // phase 2: the challenger steers to [K − 1, K]
  const states = trace.states.map(hex);
  for (;;) {
    const v = await (game.getGame as ethers.BaseContractMethod)(gameId);
    if (BigInt(v.hi) - BigInt(v.lo) === 1n) break;
    const p = (await (game.cutPoints as ethers.BaseContractMethod)(v.lo, v.hi, v.dissection) as bigint[]).map(Number);
    const mids = p.slice(1, -1).map((x) => states[x]!);
    const rb = await gameSend('bisect', [gameId, mids]);
    assert.deepEqual([...gameEvent(rb, 'Bisected').args.mids], mids, 'Bisected carries the mids');
    const seg = p.findIndex((x, j) => j + 1 < p.length && x < K && K <= p[j + 1]!);
    await gameSend('choose', [gameId, seg, mids]);
  }

  // the opening of node K from the compiler's layout, the records, S_{K−1} and the node's OPVM run
  const mc = modelCommitment(graph, compiled.kernels.map((k) => ({ codeRoot: ethers.getBytes(k.node.vm!.codeRoot), layoutHash: ethers.getBytes(k.node.vm!.layoutHash), stepBound: k.node.vm!.stepBound })));
  const sk = new SlotTree(graph.tensors.length); // S_{K−1}: constants, the input, nodes 1 … K − 1
  for (const [id] of graph.constants) sk.set(id, trace.commitments[id]!);
  sk.set(inputId, trace.commitments[inputId]!);
  for (let k = 1; k < K; k++) for (const o of graph.nodes[k - 1]!.outputs) sk.set(o, trace.commitments[o]!);
  assert.equal(hex(sk.root()), states[K - 1], 'S_{K-1}');
  const type = (id: number) => hex(typeHash(graph.tensors[id]!.dtype, graph.tensors[id]!.shape));
  const inPaths = node.inputs.map((id) => sk.proof(id).map(hex));
  const outPaths: string[][] = [];
  for (const o of node.outputs) {
    outPaths.push(sk.proof(o).map(hex)); // a zero leaf in the current root, then written
    sk.set(o, trace.commitments[o]!);
  }
  assert.equal(hex(sk.root()), states[K], 'S_K');
  const tracer = new Tracer(nodeImage(graph, node, vm, kernel.opvm!, (id) => values[id]!));
  const steps = tracer.runToEnd();
  const opening = {
    opHash: hex(keccak256(new TextEncoder().encode(node.op))), codeRoot: vm.codeRoot,
    kinds: vm.regions.map((r) => REGION_KIND[r.kind]), indexes: vm.regions.map((r) => r.index), heights: vm.regions.map((r) => r.height),
    inSlots: [...node.inputs], inTypes: node.inputs.map(type), outSlots: [...node.outputs], outTypes: node.outputs.map(type),
    recordPath: merkleProof(mc.records, K - 1).map(hex),
    inRoots: node.inputs.map((id) => hex(dataRoot(values[id]!))), inPaths,
    outRoots: node.outputs.map((id) => hex(dataRoot(values[id]!))), outPaths,
    stepBound: vm.stepBound, steps, finalHeader: encodeHeader(tracer.stateAt(steps)),
    // output j's region root under the final memRoot: the region's first leaf's path above height h
    outRegionPaths: node.outputs.map((_, j) => {
      const r = vm.regions.find((x) => x.kind === 'output' && x.index === j)!;
      return tracer.memoryProof(steps, r.address / 32).slice(r.height).map(hex);
    }),
  };
  const ro = await gameSend('openNode', [gameId, opening]);
  const opened = gameEvent(ro, 'NodeOpened');
  assert.equal(Number(opened.args.node), K);
  assert.ok(vm.codeBase > 0, 'the code region is not at address 0');
  assert.equal(opened.args.initialState, hex(stateHash(tracer.stateAt(0))), 'H_0 on chain == the tracer\'s initial state');
  assert.equal(opened.args.finalState, hex(stateHash(tracer.stateAt(steps))), 'H_N');
  assert.equal(Number(opened.args.steps), steps);

  // phase 1: bisect the steps (always the middle segment), then prove the last step
  let rounds = 0;
  for (;;) {
    const v = await (game.getGame as ethers.BaseContractMethod)(gameId);
    if (BigInt(v.hi) - BigInt(v.lo) === 1n) break;
    const p = (await (game.cutPoints as ethers.BaseContractMethod)(v.lo, v.hi, v.dissection) as bigint[]).map(Number);
    const mids = p.slice(1, -1).map((x) => hex(stateHash(tracer.stateAt(x))));
    await gameSend('bisect', [gameId, mids]);
    await gameSend('choose', [gameId, (rounds++ * 7) % (p.length - 1), mids]);
  }
  const v = await (game.getGame as ethers.BaseContractMethod)(gameId);
  assert.equal(Number(v.phase), 1);
  const { proof } = tracer.proveStep(Number(v.lo));
  const rp = await gameSend('proveStep', [gameId, packProof(proof)]);
  const resolved = gameEvent(rp, 'GameResolved');
  assert.equal(resolved.args.submitterWon, true, 'the honest claim stands');
  assert.equal(Number(resolved.args.reason), 0, 'by a step proof');
  const rec = await (coord.getGameRecord as ethers.BaseContractMethod)(gameId);
  assert.equal(rec.resolved, true);
});
