/**
 * End-to-end conformance over the ONNX backend test data: convert → compile → run natively, outputs
 * compared with the shipped expected outputs at ONNX's default tolerance (rtol 1e-3, atol 1e-7;
 * integers and booleans exactly; NaN matches NaN). With `vm`, every node is also run in the OPVM
 * interpreter: each of its outputs must equal the native engine's byte for byte, and its step count
 * may not exceed the node's compiled step bound (docs/opvm.md §8).
 */
import path from 'node:path';
import { importCase } from '../../converter/conformance/import-case.ts';
import { ConvertError } from '../../converter/errors.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import type { TestCase } from '../../converter/conformance/testdata.ts';
import { flatTensors, listCases, readCaseValues } from '../../converter/conformance/testdata.ts';
import type { CaseValue } from '../../converter/conformance/testdata.ts';
import { reasonKey } from '../../converter/conformance/shapes.ts';
import { compileGraph, manifestOf, CompileError } from '../../compiler/compile.ts';
import { NativeExecutor } from '../native/executor.ts';
import { VmExecutor } from '../opvm/vm-executor.ts';
import type { TensorId } from '../../converter/ir/types.ts';
import { decodeTensor } from '../../converter/onnx/tensor.ts';
import { onnx } from '../../converter/onnx/proto.ts';
import { hostFromBytes } from '../../converter/ir/host-tensor.ts';
import { isFloatStorage } from '../../converter/ir/dtype.ts';
import { bf16BitsToFloat, halfBitsToFloat } from '../../converter/ir/ops/boundary.ts';
import type { DType } from '../../converter/ir/types.ts';
import fs from 'node:fs';

export const RTOL = 1e-3;
export const ATOL = 1e-7;

export interface E2EResult {
  case: TestCase;
  status: 'pass' | 'fail' | 'unsupported' | 'error';
  category?: string;
  reason?: string;
  frozen?: string[];
  /** The IR ops of a passing case's graph. */
  ops?: string[];
  /** With `vm`: each node's OPVM step count beside its compiled step bound. */
  vmSteps?: { op: string; steps: number; bound: number }[];
}

/** A float element as a number (float16 and bfloat16 host values are their bits). */
function floatValue(d: DType, v: number): number {
  return d === 'float16' ? halfBitsToFloat(v) : d === 'bfloat16' ? bf16BitsToFloat(v) : v;
}

export function compareTensors(got: HostTensor, want: HostTensor): string | undefined {
  // ONNX 1.12 stores bfloat16 test data as uint16 bit patterns.
  if (got.dtype === 'bfloat16' && want.dtype === 'uint16') want = { ...want, dtype: 'bfloat16' };
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, expected ${want.dtype}`;
  if (got.shape.join('x') !== want.shape.join('x')) return `shape [${got.shape.join('x')}], expected [${want.shape.join('x')}]`;
  let worst = -1, worstErr = 0;
  for (let i = 0; i < got.data.length; i++) {
    const a = got.data[i]!, b = want.data[i]!;
    if (!isFloatStorage(got.dtype)) {
      if (a !== b) return `element ${i}: ${a}, expected ${b}`;
      continue;
    }
    const x = floatValue(got.dtype, a as number), y = floatValue(got.dtype, b as number);
    if (x !== x && y !== y) continue;
    if (x === y) continue;
    const err = Math.abs(x - y);
    if (!(err <= ATOL + RTOL * Math.abs(y))) {
      if (err > worstErr || x !== x) { worst = i; worstErr = err; }
    }
  }
  if (worst >= 0) return `element ${worst}: ${floatValue(got.dtype, got.data[worst] as number)}, expected ${floatValue(got.dtype, want.data[worst] as number)} (beyond rtol ${RTOL}, atol ${ATOL})`;
  return undefined;
}

/** A test data TensorProto with its stored element type (float64, float16 … stay what they are). */
export function readTestTensor(file: string): HostTensor {
  const d = decodeTensor(onnx.TensorProto.decode(fs.readFileSync(file)), path.dirname(file), file, { warn: () => {} }, { exact: true });
  return d.value ?? hostFromBytes(d.type.dtype, d.type.shape, d.source!.read().slice());
}

export interface E2EOptions {
  /** Also run every node in the OPVM and require its outputs to equal the native ones byte for byte. */
  vm?: boolean;
}

export async function runCase(c: TestCase, opts: E2EOptions = {}): Promise<E2EResult> {
  let inputs: CaseValue[], expected: HostTensor[];
  try {
    const v = readCaseValues(c);
    inputs = v.inputs;
    expected = v.outputs.flatMap(flatTensors); // a sequence output is one output per element
  } catch (e) {
    return { case: c, status: 'unsupported', category: 'dtype', reason: `test data: ${(e as Error).message}` };
  }
  let graph, runtimeInputs: HostTensor[], frozen: string[];
  try {
    ({ graph, runtimeInputs, frozen } = importCase(c, inputs));
  } catch (e) {
    if (e instanceof ConvertError) return { case: c, status: 'unsupported', category: `convert/${e.category}`, reason: [e.message, ...e.details].join(' | ') };
    return { case: c, status: 'error', category: 'convert-crash', reason: String((e as Error).stack ?? e).split('\n').slice(0, 3).join(' ') };
  }
  try {
    const compiled = compileGraph(graph, c.model, { vm: !!opts.vm });
    const manifest = manifestOf(compiled, '', 'conformance');
    const ex = await NativeExecutor.create(graph, manifest, compiled.kernels.map((k) => k.wasm));
    const outs = ex.run(runtimeInputs);
    if (outs.length !== expected.length) return { case: c, status: 'fail', category: 'values', reason: `${outs.length} outputs, expected ${expected.length}` };
    for (let i = 0; i < expected.length; i++) {
      const why = outs[i] ? compareTensors(outs[i]!, expected[i]!) : 'missing output';
      if (why) return { case: c, status: 'fail', category: 'values', reason: `output ${i}: ${why}` };
    }
    let vmSteps: E2EResult['vmSteps'];
    if (opts.vm) {
      const vm = VmExecutor.create(graph, manifest, compiled.kernels.map((k) => k.opvm!)).run(runtimeInputs);
      vmSteps = graph.nodes.map((n, k) => ({ op: n.op, steps: vm.stats[k]!.steps, bound: manifest.nodes[k]!.vm!.stepBound }));
      const over = vmSteps.findIndex((x) => x.steps > x.bound);
      if (over >= 0) {
        await ex.close();
        return { case: c, status: 'fail', category: 'vm', reason: `node '${graph.nodes[over]!.name}' (${vmSteps[over]!.op}): ${vmSteps[over]!.steps} OPVM steps, above its step bound ${vmSteps[over]!.bound}` };
      }
      for (const n of graph.nodes) {
        for (const o of n.outputs) {
          const a = ex.tensor(o as TensorId), b = vm.values.get(o as TensorId)!;
          if (Buffer.compare(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength), Buffer.from(b)) !== 0) {
            return { case: c, status: 'fail', category: 'vm', reason: `node '${n.name}' (${n.op}) output ${g(graph, o)}: OPVM bytes differ from native` };
          }
        }
      }
    }
    await ex.close();
    return { case: c, status: 'pass', frozen, ops: [...new Set(graph.nodes.map((n) => n.op))], ...(vmSteps ? { vmSteps } : {}) };
  } catch (e) {
    if (e instanceof CompileError) return { case: c, status: 'unsupported', category: 'compile', reason: e.describe() };
    return { case: c, status: 'error', category: 'run-crash', reason: String((e as Error).stack ?? e).split('\n').slice(0, 3).join(' ') };
  }
}

const g = (graph: { tensors: readonly { name: string }[] }, id: number) => `'${graph.tensors[id]!.name}'`;

export async function runE2E(filter?: (c: TestCase) => boolean, opts: E2EOptions = {}): Promise<{ total: number; passed: number; results: E2EResult[] }> {
  const cases = listCases().filter((c) => !filter || filter(c));
  const results: E2EResult[] = [];
  for (const c of cases) results.push(await runCase(c, opts));
  return { total: cases.length, passed: results.filter((r) => r.status === 'pass').length, results };
}

export function formatE2E(r: { total: number; passed: number; results: E2EResult[] }, verbose = false): string {
  const frozen = r.results.filter((x) => x.status === 'pass' && x.frozen?.length).length;
  const lines = [`end-to-end conformance: ${r.passed}/${r.total} cases pass (convert → compile → run, rtol ${RTOL}, atol ${ATOL}; ${frozen} with shape-determining inputs frozen)`];
  const groups = new Map<string, string[]>();
  for (const x of r.results) {
    if (x.status === 'pass') continue;
    const key = `${x.status} · ${x.category} · ${reasonKey(x.reason ?? '')}`;
    groups.set(key, [...(groups.get(key) ?? []), `${x.case.suite}/${x.case.name}`]);
  }
  for (const [k, v] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${String(v.length).padStart(4)}  ${k}`);
    if (verbose) lines.push(`        ${v.slice(0, 8).join(', ')}${v.length > 8 ? ', …' : ''}`);
  }
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('e2e.ts')) {
  const args = process.argv.slice(2);
  const fi = args.indexOf('--filter');
  const re = fi >= 0 ? new RegExp(args[fi + 1]!) : undefined;
  const r = await runE2E(re ? (c) => re.test(`${c.suite}/${c.name}`) : undefined, { vm: args.includes('--vm') });
  process.stdout.write(formatE2E(r, args.includes('-v')) + '\n');
  if (args.includes('--failures')) for (const x of r.results) if (x.status === 'fail' || x.status === 'error') process.stdout.write(`${x.case.suite}/${x.case.name}: ${x.category}: ${x.reason}\n`);
}
