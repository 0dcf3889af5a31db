/**
 * Test helpers of ops-nn / ops-quant: convert an ONNX backend test case with some or all of its
 * inputs frozen into constants (so the whole graph folds on the host) and compare the folded outputs
 * with the expected outputs of the test data.
 */
import path from 'node:path';
import type { Graph } from '../../ir/types.ts';
import type { HostTensor } from '../../ir/host-tensor.ts';
import { hostFromBytes } from '../../ir/host-tensor.ts';
import { readDataSet, TESTDATA_ROOT, testdataAvailable } from '../../conformance/testdata.ts';
import type { TestCase } from '../../conformance/testdata.ts';
import { decodeTensor } from '../../onnx/tensor.ts';
import { importOnnx, readOnnxModel } from '../../onnx/import.ts';

export { testdataAvailable };

export function testCase(suite: string, name: string): TestCase {
  const dir = path.join(TESTDATA_ROOT, suite, name);
  return { suite, name, dir, model: path.join(dir, 'model.onnx') };
}

function decode(t: ReturnType<typeof readDataSet>['inputs'][number], dir: string): HostTensor {
  const d = decodeTensor(t.proto, dir, t.name, { warn: () => {} });
  return d.value ?? hostFromBytes(d.type.dtype, d.type.shape, d.source!.read().slice());
}

/**
 * Convert a case. `freeze` picks which inputs (by index) become constants: 'all', or a list; the
 * others are runtime inputs with the test data's shapes.
 */
export function convertCase(c: TestCase, freeze: 'all' | readonly number[] = []): { graph: Graph; expected: HostTensor[] } {
  const data = readDataSet(c);
  const ins = data.inputs.map((t) => decode(t, c.dir));
  const model = readOnnxModel(c.model);
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((i) => i.name));
  const gi = (g.input ?? []).filter((v) => !inits.has(v.name));
  const frozen = new Map<string, HostTensor>();
  const shapes = new Map<string, number[]>();
  gi.slice(0, ins.length).forEach((v, i) => {
    if (freeze === 'all' || freeze.includes(i)) frozen.set(v.name!, ins[i]!);
    else shapes.set(v.name!, [...ins[i]!.shape]);
  });
  if (gi.length > ins.length) {
    const keep = new Set(gi.slice(0, ins.length).map((v) => v.name));
    g.input = (g.input ?? []).filter((v) => keep.has(v.name) || inits.has(v.name)) as typeof g.input;
  }
  const graph = importOnnx(model, c.model, { frozenInputs: frozen, inputShapes: shapes }).graph;
  return { graph, expected: data.outputs.map((t) => decode(t, c.dir)) };
}

/** Folded value of graph output i (throws when the output is not a constant). */
export function outputValue(g: Graph, i: number): HostTensor {
  const id = g.outputs[i]!;
  const src = g.constants.get(id);
  if (!src) throw new Error(`output ${i} did not fold (nodes: ${g.nodes.map((n) => n.op).join(', ')})`);
  const t = g.tensors[id]!;
  return hostFromBytes(t.dtype, t.shape, src.read().slice());
}

/** Largest relative difference max|a − b| / max(1, |b|) between two tensors (NaN = NaN). */
export function maxRelDiff(a: HostTensor, b: HostTensor): number {
  if (a.data.length !== b.data.length) return Infinity;
  let worst = 0;
  for (let k = 0; k < a.data.length; k++) {
    const x = Number(a.data[k]), y = Number(b.data[k]);
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    const e = Math.abs(x - y) / Math.max(1, Math.abs(y));
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

/** Fold a whole case and return the worst relative difference over its outputs. */
export function foldedCaseError(suite: string, name: string): number {
  const { graph, expected } = convertCase(testCase(suite, name), 'all');
  let worst = 0;
  expected.forEach((e, i) => {
    const got = outputValue(graph, i);
    if (got.dtype !== e.dtype || got.shape.join() !== e.shape.join()) throw new Error(`${name} output ${i}: ${got.dtype}[${got.shape}] vs ${e.dtype}[${e.shape}]`);
    worst = Math.max(worst, maxRelDiff(got, e));
  });
  return worst;
}
