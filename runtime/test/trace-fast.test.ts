/**
 * The fast tracer (checkpoints, region roots; runtime/opvm/tracer.ts `Tracer`) against the reference
 * tracer (`ReplayTracer`: whole-memory snapshots and tree) on real nodes of the bundled models: the same
 * state hashes at random steps, at a dissection's cut points served in one pass, at 0, the last step and
 * beyond the end; the same step proofs (bytes) and memory proofs; and the fallback to the reference path
 * when a program writes outside its output and scratch regions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { importModel } from '../../converter/convert.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { dataRoot } from '../../compiler/commit/tensor.ts';
import { chunkedRoot, chunkedTree, decodeConstantTrees, encodeConstantTrees } from '../../compiler/commit/constant-tree.ts';
import { encodeInsn, insn, Op, LEAF_BYTES } from '../../compiler/opvm/isa.ts';
import type { Insn } from '../../compiler/opvm/isa.ts';
import { runBundledModel } from './helpers/bundled-model.ts';
import { nodeImage, vmRegion } from '../opvm/node-image.ts';
import { ReplayTracer, Tracer } from '../opvm/tracer.ts';
import type { NodeImage } from '../opvm/tracer.ts';
import { VmMemory } from '../opvm/memory.ts';
import { stateHash } from '../opvm/state.ts';
import { packProof } from '../opvm/proof.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODELS = [['fmnist-cnn', 'model.onnx'], ['fmnist-cnn-int8', 'model.onnx'], ['fmnist-mlp', 'model.onnx'], ['tiny-transformer', 'model.onnx']] as const;

/** Deterministic pseudo-random steps. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32; };
}

const h = (t: { stateAt(s: number): Parameters<typeof stateHash>[0] }, s: number) => toHex(stateHash(t.stateAt(s)));

function compare(fast: Tracer, ref: ReplayTracer, what: string, seed: number, outLeaf: number, inLeaves: readonly number[]): void {
  const steps = fast.runToEnd();
  assert.ok(fast.fast, `${what}: fast path`);
  assert.equal(ref.runToEnd(), steps, `${what}: step count`);
  const r = rng(seed);
  const picks = [0, 1, steps - 1, steps, steps + 5, ...Array.from({ length: 12 }, () => Math.floor(r() * steps))];
  // out of order on purpose: backward queries restore checkpoints, forward ones continue
  for (const s of picks) assert.equal(h(fast, s), h(ref, s), `${what}: state ${s} of ${steps}`);
  for (const s of [0, steps - 1, ...Array.from({ length: 5 }, () => Math.floor(r() * steps))]) {
    const a = fast.proveStep(s), b = ref.proveStep(s);
    assert.equal(toHex(packProof(a.proof)), toHex(packProof(b.proof)), `${what}: proof of step ${s}`);
    assert.equal(toHex(stateHash(a.post)), toHex(stateHash(b.post)), `${what}: post-state of step ${s}`);
  }
  // a 16-way dissection round of a random interval, served in one pass
  const lo = Math.floor(r() * steps), hi = Math.min(steps, lo + 1 + Math.floor(r() * steps));
  const cuts = Array.from({ length: 17 }, (_, j) => lo + Math.floor(((hi - lo) * j) / 16));
  const states = fast.statesAt(cuts);
  cuts.forEach((s, j) => assert.equal(toHex(stateHash(states[j]!)), h(ref, s), `${what}: cut point ${s}`));
  assert.deepEqual(fast.memoryProof(steps, outLeaf).map(toHex), ref.memoryProof(steps, outLeaf).map(toHex), `${what}: output region path`);
  const mid = Math.floor(steps / 2);
  for (const l of inLeaves) assert.deepEqual(fast.memoryProof(mid, l).map(toHex), ref.memoryProof(mid, l).map(toHex), `${what}: path of input leaf ${l}`);
  assert.ok(Buffer.from(fast.finalMemory.dense).equals(Buffer.from(ref.finalMemory.dense)), `${what}: final memory`);
}

for (const [name, file] of MODELS) {
  test(`${name}: fast tracer == reference tracer on every node (states, cut points, step and memory proofs)`, async () => {
    const { graph, compiled, manifest, ex, bytes } = await runBundledModel(name, file);
    try {
      const trees = compiled.constantTrees!;
      assert.ok(decodeConstantTrees(graph, encodeConstantTrees(trees), compiled.model!.constantState), 'constant trees compose to the constant state');
      graph.nodes.forEach((n, k) => {
        const vm = compiled.kernels[k]!.node.vm!;
        const code = compiled.kernels[k]!.opvm!;
        // the inputs' regions known three ways: hashed by the tracer, by data root, by constant tree (inputs that are not constants: data root)
        const known = [undefined, (id: number) => dataRoot(bytes(id)), (id: number) => trees.get(id) ?? dataRoot(bytes(id))][k % 3];
        const image = (mode: boolean) => nodeImage(graph, n, vm, code, bytes, mode ? known : undefined);
        const outLeaf = vmRegion(vm, 'output', 0).address / LEAF_BYTES;
        const inLeaves = n.inputs.flatMap((id, i) => {
          const first = vmRegion(vm, 'input', i).address / LEAF_BYTES, count = Math.ceil(bytes(id).length / LEAF_BYTES);
          return [first, first + (count >> 1), first + count - 1, first + count];
        });
        // small intervals and a small checkpoint cap, so that restores, diffs, full copies and thinning all happen
        const every = 1 << (6 + (k % 6));
        compare(new Tracer(image(true), { snapshotEvery: every, maxSnapshots: 9 }), new ReplayTracer(image(false)), `node ${k + 1} ${n.op}`, 7 + k, outLeaf, inLeaves);
      });
    } finally {
      await ex.close();
    }
  });
}

/** A hand-made image with a layout: code at leaf 0 (8 leaves), an input region, an output region. */
function handImage(prog: Insn[], withRebuild: boolean): NodeImage {
  const make = (): NodeImage => {
    const mem = VmMemory.create(2048);
    const code = new Uint8Array(32 * prog.length);
    prog.forEach((p, i) => encodeInsn(p, code, 32 * i));
    mem.write(0, code);
    mem.write(512, new Uint8Array(64).map((_, i) => i + 1));
    const regions = [
      { kind: 'code' as const, index: 0, address: 0, height: 4 },
      { kind: 'input' as const, index: 0, address: 512, height: 2 },
      { kind: 'output' as const, index: 0, address: 1024, height: 2 },
    ];
    return { mem, pc: 0, code: { first: 0, count: prog.length }, regions, ...(withRebuild ? { rebuild: make } : {}) };
  };
  return make();
}

/** r1 counts down from 200; each iteration loads the input, adds, stores into `storeAt`. */
function loop(storeAt: number): Insn[] {
  return [
    insn(Op.MOV, { rd: 1, immB: true, imm: 200n }),
    insn(Op.MOV, { rd: 3, immB: true, imm: 0n }),
    insn(Op.LOAD32, { rd: 2, ra: 3, off: 512 }), // 2: loop head
    insn(Op.I32_ADD, { rd: 4, ra: 4, rb: 2 }),
    insn(Op.I32_ADD, { rd: 5, ra: 1, immB: true, imm: 0n }),
    insn(Op.I32_AND, { rd: 5, ra: 5, immB: true, imm: 7n }),
    insn(Op.I32_SHL, { rd: 5, ra: 5, immB: true, imm: 2n }),
    insn(Op.STORE32, { ra: 5, rb: 4, off: storeAt }),
    insn(Op.I32_SUB, { rd: 1, ra: 1, immB: true, imm: 1n }),
    insn(Op.BRNZ, { ra: 1, target: 2 }),
    insn(Op.HALT, {}),
  ];
}

test('fast tracer: a run confined to its output region stays on the fast path; a store into an input or the code falls back, with the same answers', () => {
  for (const [storeAt, confined] of [[1024, true], [512, false], [64, false]] as const) {
    for (const withRebuild of [true, false]) {
      const fast = new Tracer(handImage(loop(storeAt), withRebuild), { snapshotEvery: 16, maxSnapshots: 5 });
      const ref = new ReplayTracer(handImage(loop(storeAt), false));
      const steps = fast.runToEnd();
      assert.equal(steps, ref.runToEnd());
      assert.equal(fast.fast, confined, `store at ${storeAt}`);
      for (let s = 0; s <= steps + 1; s += 7) assert.equal(h(fast, s), h(ref, s), `store at ${storeAt}, state ${s}`);
      for (const s of [0, 3, 9, steps - 1]) assert.equal(toHex(packProof(fast.proveStep(s).proof)), toHex(packProof(ref.proveStep(s).proof)));
    }
  }
});

test('fast tracer: a fault after step s changes every later state as in the reference tracer', () => {
  const fault = { step: 50, reg: 4, xor: 1n << 20n };
  const fast = new Tracer(handImage(loop(1024), true), { snapshotEvery: 8, fault });
  const ref = new ReplayTracer(handImage(loop(1024), false), { fault });
  const steps = fast.runToEnd();
  assert.equal(steps, ref.runToEnd());
  for (let s = 0; s <= steps; s += 5) assert.equal(h(fast, s), h(ref, s), `state ${s}`);
});

test('constant trees: the cut tree composes to the data root for any size; a file that does not match the constant state is refused', () => {
  const r = rng(3);
  for (const n of [0, 1, 31, 32, 33, 64, 1000, 32 * 1024, 32 * 1024 + 1, 32 * 1024 * 3 + 5, 100_000, 1 << 20]) {
    const b = new Uint8Array(n).map(() => Math.floor(r() * 256));
    assert.equal(toHex(chunkedRoot(chunkedTree(b))), toHex(dataRoot(b)), `${n} bytes`);
  }
  const { graph } = importModel(path.join(ROOT, 'models', 'fmnist-mlp', 'model.onnx'));
  const compiled = compileGraph(graph, 'fmnist-mlp');
  const file = encodeConstantTrees(compiled.constantTrees!);
  assert.ok(decodeConstantTrees(graph, file, compiled.model!.constantState));
  const bad = file.slice();
  bad[bad.length - 1]! ^= 1;
  assert.equal(decodeConstantTrees(graph, bad, compiled.model!.constantState), null);
  assert.equal(decodeConstantTrees(graph, file.subarray(0, file.length - 32), compiled.model!.constantState), null);
  assert.equal(decodeConstantTrees(graph, null, compiled.model!.constantState), null);
});

test('fast tracer: a tiny checkpoint budget (thinning by bytes, merged diffs and full copies) gives the same answers', () => {
  for (const opts of [{ snapshotEvery: 4, checkpointBytes: 300 }, { snapshotEvery: 1, maxSnapshots: 3 }, { snapshotEvery: 3, maxSnapshots: 1000, checkpointBytes: 1 << 20 }]) {
    const fast = new Tracer(handImage(loop(1024), true), opts);
    const ref = new ReplayTracer(handImage(loop(1024), false));
    const steps = fast.runToEnd();
    assert.equal(steps, ref.runToEnd());
    assert.ok(fast.fast);
    const r = rng(11);
    for (let q = 0; q < 60; q++) { const s = Math.floor(r() * (steps + 2)); assert.equal(h(fast, s), h(ref, s), `${JSON.stringify(opts)}: state ${s}`); }
    assert.deepEqual(fast.statesAt([steps, 0, 17, 5]).map((x) => toHex(stateHash(x))), [steps, 0, 17, 5].map((s) => h(ref, s)));
  }
});
