/**
 * The compiled step bound of a node (compiler/opvm/step-bound.ts, docs/opvm.md §8) is never below a real
 * run: on every node of every bundled model (several samples each), on a broad sample of the ONNX
 * conformance cases, on random inputs to kernels whose control flow depends on their data, and on random
 * kernels. It is exact for programs without data-dependent branches, and falls back to MAX_STEPS when
 * the program's control flow cannot be bounded. The assumption it rests on (each loop head runs its
 * kernel loop's trip count per entry) is checked by single-stepping. Tightness (bound ÷ steps) is printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import type { Attrs, TensorType } from '../../converter/ir/types.ts';
import { shape } from '../../converter/ir/types.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostTensor } from '../../converter/ir/host-tensor.ts';
import { importModel } from '../../converter/convert.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { testdataAvailable, TESTDATA_ROOT } from '../../converter/conformance/testdata.ts';
import { compileGraph, kernelForNode, manifestOf } from '../../compiler/compile.ts';
import type { Expr, Kernel, Stmt } from '../../compiler/kernel/ast.ts';
import * as k from '../../compiler/kernel/build.ts';
import { prepareKernel } from '../../compiler/kernel/harness.ts';
import { compileNodeVm } from '../../compiler/opvm/compile-node.ts';
import type { Insn } from '../../compiler/opvm/isa.ts';
import { encodeInsn, insn, INSN_BYTES, LEAF_BYTES, MAX_STEPS, Op, Status } from '../../compiler/opvm/isa.ts';
import type { NodeVmProgram } from '../../compiler/opvm/compile-node.ts';
import type { LoopTrips } from '../../compiler/opvm/step-bound.ts';
import { programStepBound } from '../../compiler/opvm/step-bound.ts';
import { runE2E } from '../conformance/e2e.ts';
import { runKernelProgramVm, runKernelVm } from '../opvm/kernel-run.ts';
import { VmExecutor } from '../opvm/vm-executor.ts';
import { VmMemory } from '../opvm/memory.ts';
import { Interpreter } from '../opvm/interpreter.ts';
import { nodeImage } from '../opvm/node-image.ts';
import type { NodeImage } from '../opvm/tracer.ts';
import { KNOWN_VALUE_FAILURES } from '../../converter/conformance/known-failures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CAP = Number(MAX_STEPS);

/** "median m, max x over n nodes" of bound ÷ steps. */
function tightness(pairs: readonly { steps: number; bound: number }[]): { median: number; max: number; text: string } {
  const r = pairs.map((p) => p.bound / p.steps).sort((a, b) => a - b);
  const median = r.length % 2 ? r[r.length >> 1]! : (r[r.length / 2 - 1]! + r[r.length / 2]!) / 2;
  const max = r[r.length - 1]!;
  return { median, max, text: `bound ÷ steps: median ${median.toFixed(4)}, max ${max.toFixed(4)} over ${r.length} nodes (${r.filter((x) => x === 1).length} exact)` };
}

/** Run hand-made code (code base 0) in the interpreter to a stop; its step count. */
function runCode(code: readonly Insn[], regs: bigint[] = []): number {
  const bytes = new Uint8Array(code.length * INSN_BYTES);
  code.forEach((x, i) => encodeInsn(x, bytes, i * INSN_BYTES));
  const mem = VmMemory.create(Math.max(4096, bytes.length));
  mem.write(0, bytes);
  const r = new BigUint64Array(32);
  regs.forEach((v, i) => { r[i] = v; });
  const it = new Interpreter(mem, { pc: 0, regs: r, code: { first: 0, count: code.length } });
  it.run(1 << 20);
  assert.notEqual(it.status, Status.Running);
  return it.steps;
}

const IMM = (v: number) => ({ immB: true, imm: BigInt(v) });

/**
 * The assumption the bound rests on, checked on a real run: every entry into a wasm loop runs its first
 * instruction exactly T times (docs/opvm.md §8, step 3). A loop's body follows its first instruction
 * and only code inside it can branch to it (wasm labels are lexically scoped), so arriving at the head
 * from a lower pc is an entry and from a higher one an iteration. Returns the entries seen.
 */
function checkLoopTrips(image: NodeImage, p: NodeVmProgram, what: string): number {
  const heads = new Map<number, number>();
  const starts = new Map<number, number>();
  for (const l of p.loops) starts.set(l.at, (starts.get(l.at) ?? 0) + 1);
  for (const l of p.loops) {
    assert.notEqual(l.trips, null, `${what}: loop at ${l.at} has a kernel range`);
    if (starts.get(l.at) === 1) heads.set(p.codeBase + l.at, l.trips!);
  }
  const it = new Interpreter(image.mem, { pc: image.pc, code: image.code, compile: false });
  const open = new Map<number, number>();
  const close = (h: number) => {
    const n = open.get(h);
    if (n !== undefined) assert.equal(n, heads.get(h), `${what}: loop at pc ${h} ran its head ${n} times in one entry, its kernel loop has ${heads.get(h)} trips`);
  };
  let prev = -1, entries = 0;
  while (it.status === Status.Running) {
    const pc = it.pc;
    if (heads.has(pc)) {
      if (prev < pc) { close(pc); open.set(pc, 1); entries++; } else open.set(pc, open.get(pc)! + 1);
    }
    prev = pc;
    it.run(1);
  }
  assert.equal(it.status, Status.Halted, what);
  for (const h of open.keys()) close(h);
  return entries;
}

test('hand-made programs: exact for straight-line code and a counted loop; MAX_STEPS when they cannot be bounded', () => {
  const straight = [insn(Op.MOV, { rd: 1, ...IMM(3) }), insn(Op.MOV, { rd: 2, ...IMM(4) }), insn(Op.I32_ADD, { rd: 3, ra: 1, rb: 2 }), insn(Op.HALT)];
  const sb = programStepBound(straight, 0, [], 1);
  assert.deepEqual(sb, { steps: 4, fallback: null, loops: 0, unknownLoops: 0 });
  assert.equal(runCode(straight), 4);

  // r1 = 0; do { r1 += 1 } while (r1 < 10): the loop head at instruction 1 runs 10 times per entry.
  const loop = [insn(Op.MOV, { rd: 1, ...IMM(0) }), insn(Op.I32_ADD, { rd: 1, ra: 1, ...IMM(1) }), insn(Op.I32_LT_U, { rd: 2, ra: 1, ...IMM(10) }), insn(Op.BRNZ, { ra: 2, target: 1 }), insn(Op.HALT)];
  const lb = programStepBound(loop, 0, [{ at: 1, trips: 10 }], 99);
  assert.equal(lb.steps, 1 + 10 * 3 + 1);
  assert.equal(runCode(loop), lb.steps);
  // The same loop without a known trip count takes the kernel-wide fallback (here 12) and says so.
  const unknown = programStepBound(loop, 0, [{ at: 1, trips: null }], 12);
  assert.deepEqual(unknown, { steps: 1 + 12 * 3 + 1, fallback: null, loops: 1, unknownLoops: 1 });
  // A data-dependent if: the longer arm counts. if (r5) { 3 insns } else { 1 insn }.
  const branchy = [insn(Op.BRZ, { ra: 5, target: 5 }), insn(Op.MOV, { rd: 1, ...IMM(1) }), insn(Op.MOV, { rd: 1, ...IMM(2) }), insn(Op.MOV, { rd: 1, ...IMM(3) }), insn(Op.JMP, { target: 6 }), insn(Op.MOV, { rd: 1, ...IMM(9) }), insn(Op.HALT)];
  assert.equal(programStepBound(branchy, 0, [], 1).steps, 6);
  assert.equal(runCode(branchy, [0n, 0n, 0n, 0n, 0n, 1n]), 6);
  assert.equal(runCode(branchy, [0n, 0n, 0n, 0n, 0n, 0n]), 3);

  const fails: [string, Insn[], LoopTrips[], RegExp][] = [
    // Two entries into the cycle 1 ⇄ 2: neither dominates the other.
    ['irreducible', [insn(Op.BRNZ, { ra: 1, target: 2 }), insn(Op.MOV, { rd: 2, ...IMM(0) }), insn(Op.BRNZ, { ra: 3, target: 1 }), insn(Op.HALT)], [{ at: 1, trips: 5 }], /irreducible/],
    ['branch outside the code', [insn(Op.JMP, { target: 7 }), insn(Op.HALT)], [], /outside the code/],
    ['runs off the end', [insn(Op.MOV, { rd: 1, ...IMM(0) })], [], /past the end/],
    ['a loop that is no kernel loop', loop, [], /not a wasm loop/],
  ];
  for (const [what, code, loops, why] of fails) {
    const b = programStepBound(code, 0, loops, 10);
    assert.equal(b.steps, CAP, what);
    assert.match(b.fallback ?? '', why, what);
  }
});

function hasIf(ss: readonly Stmt[]): boolean {
  return ss.some((s) => (s.kind === 'if' && !(s.cond.kind === 'const' && s.cond.value !== 0)) || (s.kind === 'for' && hasIf(s.body)) || (s.kind === 'if' && (hasIf(s.then) || hasIf(s.else))));
}

const floats = (dims: number[], f: (i: number) => number = (i) => Math.sin(i * 1.7) * 3): HostTensor =>
  hostTensor('float32', dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => f(i)));

test('kernels without data-dependent branches: the bound is the exact step count', () => {
  const cases: [string, HostTensor[], Attrs][] = [
    ['MatMul', [floats([3, 5]), floats([5, 4])], {}],
    ['Transpose', [floats([2, 3, 4])], { perm: [2, 0, 1] }],
    ['Add', [floats([4, 1, 3]), floats([1, 5, 1])], {}],
    ['ReduceSum', [floats([3, 4, 5])], { axes: [1], keepdims: 1 }],
  ];
  for (const [op, ins, attrs] of cases) {
    const { k: kern } = prepareKernel(op, ins, attrs);
    assert.ok(!hasIf(kern.body), `${op}: the kernel has no data-dependent if`);
    const b = compileNodeVm(kern).stepBound;
    assert.equal(b.fallback, null, op);
    assert.equal(b.steps, runKernelVm(op, ins, attrs).steps, `${op}: bound == steps`);
  }
});

/** A kernel program's memory image with `inputs` in their regions. */
function kernelImage(p: NodeVmProgram, inputs: readonly HostTensor[]): NodeImage {
  const mem = VmMemory.create(p.layout.totalBytes);
  mem.write(p.codeBase * LEAF_BYTES, p.code);
  inputs.forEach((t, i) => { if (t.data.byteLength) mem.write(p.region('input', i).address, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)); });
  return { mem, pc: p.codeBase, code: { first: p.codeBase, count: p.insns } };
}

test('loop heads run exactly their kernel loop\'s trip count per entry: every node of the CNN and the int8 CNN on a sample', () => {
  for (const name of ['fmnist-cnn', 'fmnist-cnn-int8']) {
    const { graph } = importModel(path.join(ROOT, 'models', name, 'model.onnx'));
    const compiled = compileGraph(graph, name);
    const manifest = manifestOf(compiled, '', 'test');
    const input = readTensorFile(path.join(ROOT, 'models', name, 'samples', 'input_2.pb'), graph.tensors[graph.inputs[0]!]);
    const { values } = VmExecutor.create(graph, manifest, compiled.kernels.map((c) => c.opvm!)).run([input]);
    const value = (id: number) => values.get(id as never) ?? graph.constants.get(id as never)!.read();
    graph.nodes.forEach((n, i) => {
      const prog = compileNodeVm(kernelForNode(graph, n));
      assert.equal(prog.code.length, compiled.kernels[i]!.opvm!.length);
      const entries = checkLoopTrips(nodeImage(graph, n, manifest.nodes[i]!.vm!, compiled.kernels[i]!.opvm!, value), prog, `${name} node ${i + 1} (${n.op})`);
      assert.ok(entries > 0);
    });
  }
});

const MODELS = [
  ['fmnist-mlp', 'model.onnx'], ['fmnist-cnn', 'model.onnx'], ['fmnist-cnn-int8', 'model.onnx'], ['fmnist-tfjs', 'model.json'], ['tiny-transformer', 'model.onnx'],
] as const;

test('bundled models: every node, two samples each: steps ≤ step bound ≤ 2^48, no fallback', (t) => {
  const all: { steps: number; bound: number }[] = [];
  for (const [name, file] of MODELS) {
    const { graph } = importModel(path.join(ROOT, 'models', name, file));
    const compiled = compileGraph(graph, name);
    const manifest = manifestOf(compiled, '', 'test');
    const vmEx = VmExecutor.create(graph, manifest, compiled.kernels.map((c) => c.opvm!));
    const pairs: { steps: number; bound: number }[] = [];
    for (const sample of ['input_0.pb', 'input_1.pb']) {
      const input = readTensorFile(path.join(ROOT, 'models', name, 'samples', sample), graph.tensors[graph.inputs[0]!]);
      const run = vmEx.run([input]);
      graph.nodes.forEach((n, i) => {
        const vm = manifest.nodes[i]!.vm!;
        const steps = run.stats[i]!.steps;
        assert.equal(vm.stepBoundNote, undefined, `${name} node ${i + 1} (${n.op})`);
        assert.ok(Number.isSafeInteger(vm.stepBound) && vm.stepBound <= CAP);
        assert.ok(steps <= vm.stepBound, `${name} node ${i + 1} '${n.name}' (${n.op}) on ${sample}: ${steps} steps > bound ${vm.stepBound}`);
        pairs.push({ steps, bound: vm.stepBound });
      });
    }
    t.diagnostic(`${name}: ${tightness(pairs).text}`);
    all.push(...pairs);
  }
  const tt = tightness(all);
  t.diagnostic(`all models: ${tt.text}`);
  assert.ok(tt.max < 1.1, `the models' bounds stay within 10% of their runs (${tt.text})`);
});

test('ONNX conformance cases (every third, in the OPVM): steps ≤ step bound on every node', async (t) => {
  assert.ok(testdataAvailable(), `ONNX test data not found at ${TESTDATA_ROOT}: apt-get install libonnx-testdata`);
  let i = 0;
  const r = await runE2E(() => i++ % 3 === 0, { vm: true });
  // Value failures the conformance test knows (docs/onnx-support.md: test data OPML cannot reproduce) are not
  // this test's business; a step bound exceeded is reported as a 'vm' failure and is.
  const wrong = r.results.filter((x) => (x.status === 'fail' || x.status === 'error') && !(x.category === 'values' && KNOWN_VALUE_FAILURES[`${x.case.suite}/${x.case.name}`]));
  assert.deepEqual(wrong.map((x) => `${x.case.suite}/${x.case.name}: ${x.reason}`), []);
  const pairs = r.results.flatMap((x) => x.vmSteps ?? []);
  assert.ok(pairs.length > 200, `${pairs.length} nodes run`);
  for (const p of pairs) assert.ok(p.steps <= p.bound && p.bound < CAP, `${p.op}: ${p.steps} steps, bound ${p.bound}`);
  const worst = r.results.flatMap((x) => (x.vmSteps ?? []).map((v) => ({ name: x.case.name, ...v }))).sort((a, b) => b.bound / b.steps - a.bound / a.steps)[0]!;
  t.diagnostic(`${r.passed}/${r.total} cases pass; ${tightness(pairs).text}; loosest ${worst.name} (${worst.op}) ${worst.steps} steps, bound ${worst.bound}`);
});

test('property: kernels whose branches depend on their data (Det pivoting, RoiAlign sample ranges, ScatterND bounds checks): every input runs within the bound', (t) => {
  const seen = new Map<string, Set<number>>();
  const bounds = new Map<string, number>();
  const check = (label: string, op: string, ins: HostTensor[], attrs: Attrs) => {
    const { k: kern } = prepareKernel(op, ins, attrs);
    const prog = compileNodeVm(kern);
    const bound = prog.stepBound;
    assert.equal(bound.fallback, null, label);
    const { steps } = runKernelVm(op, ins, attrs);
    checkLoopTrips(kernelImage(prog, ins), prog, label);
    assert.ok(steps <= bound.steps, `${label}: ${steps} steps > bound ${bound.steps}`);
    seen.set(label, (seen.get(label) ?? new Set()).add(steps));
    bounds.set(label, Math.max(bounds.get(label) ?? 0, bound.steps));
  };
  const small = fc.integer({ min: -3, max: 3 });
  fc.assert(fc.property(fc.array(small, { minLength: 2 * 16, maxLength: 2 * 16 }), (v) => {
    // zeros make pivots vanish (an early stop), distinct magnitudes make rows swap
    check('Det 4×4', 'Det', [hostTensor('float32', [2, 4, 4], Float32Array.from(v))], {});
  }), { numRuns: 40, seed: 11 });
  fc.assert(fc.property(fc.array(fc.float({ min: -4, max: 12, noNaN: true }), { minLength: 8, maxLength: 8 }), (box) => {
    const rois = hostTensor('float32', [2, 4], Float32Array.from(box, (x) => Math.fround(x)));
    check('RoiAlign sampling_ratio 0', 'RoiAlign', [floats([1, 2, 6, 6]), rois, hostTensor('int64', [2], [0n, 0n])],
      { mode: 'avg', output_height: 2, output_width: 2, sampling_ratio: 0, spatial_scale: 1, half_pixel: 1 });
  }), { numRuns: 25, seed: 12 });
  fc.assert(fc.property(fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 3, maxLength: 3 }), (idx) => {
    check('ScatterND', 'ScatterND', [floats([4, 3]), hostTensor('int64', [3, 1], idx.map(BigInt)), floats([3, 3])], { reduction: 'none' });
  }), { numRuns: 25, seed: 13 });
  for (const [label, values] of seen) t.diagnostic(`${label}: step counts ${[...values].sort((a, b) => a - b).join(', ')}; bound ${bounds.get(label)}`);
  assert.ok([...seen.values()].some((s) => s.size > 1), 'some kernel took data-dependent step counts');
});

// ---------------------------------------------------------------- random kernels

type Desc =
  | { t: 'store'; at: number; from: number }
  | { t: 'for'; n: number; lo: number; body: Desc[] }
  | { t: 'if'; c: number; th: Desc[]; el: Desc[] };

const N = 16;
const descArb = fc.letrec<{ stmt: Desc; stmts: Desc[] }>((tie) => ({
  stmt: fc.oneof({ maxDepth: 4, depthSize: 'small' },
    fc.record({ t: fc.constant('store' as const), at: fc.nat(N - 1), from: fc.nat(N - 1) }),
    fc.record({ t: fc.constant('for' as const), n: fc.nat(5), lo: fc.nat(2), body: tie('stmts') }),
    fc.record({ t: fc.constant('if' as const), c: fc.nat(N - 1), th: tie('stmts'), el: tie('stmts') })),
  stmts: fc.array(tie('stmt'), { maxLength: 3 }),
})).stmts;

/** A kernel from a description: loops with constant ranges, ifs on the input's sign, stores at in-range indices. */
function buildKernel(desc: readonly Desc[], topParallel: boolean): Kernel {
  const K = new k.KernelBuilder('Random');
  const x = K.input('x', 'float32', N);
  const y = K.output('y', 'float32', N);
  const acc = K.local('acc', 'f32');
  const idx = (base: number, vars: readonly Expr[]): Expr => k.remIndex(vars.reduce((a, v) => k.add(a, v), k.i32(base)), N);
  const lower = (ds: readonly Desc[], vars: readonly Expr[]): Stmt[] => ds.map((d): Stmt => {
    switch (d.t) {
      case 'store': return k.store(y, idx(d.at, vars), k.add(k.load(x, idx(d.from, vars)), k.get(acc)));
      case 'for': return k.sfor(d.lo + d.n, (i) => [k.set(acc, k.add(k.get(acc), k.f32(1))), ...lower(d.body, [...vars, i])], d.lo);
      case 'if': return k.when(k.gt(k.load(x, idx(d.c, vars)), k.f32(0)), lower(d.th, vars), lower(d.el, vars));
    }
  });
  return K.build(topParallel ? [k.pfor(3, (i) => lower(desc, [i]))] : lower(desc, []));
}

const hasDataIf = (ds: readonly Desc[]): boolean => ds.some((d) => d.t === 'if' || (d.t === 'for' && hasDataIf(d.body)));

test('property: random kernels on random data run within their bound, and exactly at it without ifs', () => {
  const outTypes: TensorType[] = [{ dtype: 'float32', shape: shape([N]) }];
  fc.assert(fc.property(descArb, fc.boolean(), fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 3 * N, maxLength: 3 * N }), (desc, par, data) => {
    const kern = buildKernel(desc, par);
    const prog = compileNodeVm(kern);
    const bound = prog.stepBound;
    assert.equal(bound.fallback, null);
    assert.equal(bound.unknownLoops, 0);
    for (let r = 0; r < 3; r++) {
      const input = hostTensor('float32', [N], Float32Array.from(data.slice(r * N, (r + 1) * N)));
      const { steps } = runKernelProgramVm(kern, outTypes, [input]);
      assert.ok(steps <= bound.steps, `${steps} steps > bound ${bound.steps}`);
      if (r === 0) checkLoopTrips(kernelImage(prog, [input]), prog, 'random kernel');
      if (!hasDataIf(desc)) assert.equal(steps, bound.steps, 'exact without ifs');
    }
  }), { numRuns: 60, seed: 7 });
});
