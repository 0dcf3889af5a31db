/**
 * Shape conformance over the ONNX backend test data: convert every case (input shapes taken from
 * its test inputs, as a user would pass --input-shape) and compare each output's inferred dtype and
 * shape with the expected output tensor. Failures are grouped by category and reason, the way
 * onnxruntime keeps its filter list.
 */
import { onnx } from '../onnx/proto.ts';
import { importOnnx, readOnnxModel } from '../onnx/import.ts';
import { ConvertError } from '../errors.ts';
import type { TestCase } from './testdata.ts';
import { listCases, readDataSet } from './testdata.ts';

export type CaseStatus = 'pass' | 'mismatch' | 'unsupported' | 'error';

export interface CaseResult {
  case: TestCase;
  status: CaseStatus;
  category?: string;
  reason?: string;
}

/** Normalise a failure message into a short, groupable reason. */
export function reasonKey(msg: string): string {
  return msg
    .replace(/^\/\S+: /, '')
    .replace(/node '[^']*' /g, '')
    .replace(/'[^']*'/g, "'…'")
    .replace(/\[[0-9x, ]*\]/g, '[…]')
    .replace(/\d+/g, 'N')
    .split('\n')[0]!
    .slice(0, 160);
}

export function checkCase(c: TestCase): CaseResult {
  let data;
  try {
    data = readDataSet(c);
  } catch (e) {
    return { case: c, status: 'error', category: 'testdata', reason: (e as Error).message };
  }
  try {
    const model = readOnnxModel(c.model);
    const graphInputs = (model.graph?.input ?? []).filter((vi) => !(model.graph?.initializer ?? []).some((i) => i.name === vi.name));
    const shapes = new Map<string, number[]>();
    graphInputs.forEach((vi, i) => {
      const t = data.inputs[i];
      if (t) shapes.set(vi.name ?? '', t.dims);
    });
    // Inputs beyond the given test tensors are omitted optional inputs: drop them.
    if (graphInputs.length > data.inputs.length && model.graph) {
      const keep = new Set(graphInputs.slice(0, data.inputs.length).map((v) => v.name));
      const inits = new Set((model.graph.initializer ?? []).map((i) => i.name));
      model.graph.input = (model.graph.input ?? []).filter((v) => keep.has(v.name) || inits.has(v.name)) as typeof model.graph.input;
    }
    for (const t of data.inputs) if (!t.dtype) return { case: c, status: 'unsupported', category: 'dtype', reason: `input element type ${t.onnxType}` };
    const r = importOnnx(model, c.model, { inputShapes: shapes });
    const g = r.graph;
    if (g.outputs.length !== data.outputs.length) {
      return { case: c, status: 'mismatch', category: 'outputs', reason: `${g.outputs.length} outputs, expected ${data.outputs.length}` };
    }
    for (let i = 0; i < g.outputs.length; i++) {
      const got = g.tensors[g.outputs[i]!]!;
      const want = data.outputs[i]!;
      if (got.dtype !== want.dtype || got.shape.length !== want.dims.length || got.shape.some((d, k) => d !== want.dims[k])) {
        return { case: c, status: 'mismatch', category: 'shape', reason: `output ${i}: got ${got.dtype}[${got.shape.join('x')}], expected ${want.dtype ?? want.onnxType}[${want.dims.join('x')}]` };
      }
    }
    return { case: c, status: 'pass' };
  } catch (e) {
    if (e instanceof ConvertError) {
      const status: CaseStatus = e.category === 'invalid-model' || e.category === 'malformed' ? 'error' : 'unsupported';
      return { case: c, status, category: e.category, reason: [e.message, ...e.details].join(' | ') };
    }
    return { case: c, status: 'error', category: 'crash', reason: (e as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(e) };
  }
}

export interface ShapeReport {
  total: number;
  passed: number;
  results: CaseResult[];
}

export function runShapeConformance(filter?: (c: TestCase) => boolean): ShapeReport {
  const cases = listCases().filter((c) => !filter || filter(c));
  const results = cases.map(checkCase);
  return { total: cases.length, passed: results.filter((r) => r.status === 'pass').length, results };
}

/** Text report: converted/total, then failures grouped by status, category and reason. */
export function formatShapeReport(r: ShapeReport, verbose = false): string {
  const lines = [`shape conformance: ${r.passed}/${r.total} cases convert with matching output shapes`];
  const groups = new Map<string, string[]>();
  for (const x of r.results) {
    if (x.status === 'pass') continue;
    const key = `${x.status} · ${x.category} · ${reasonKey(x.reason ?? '')}`;
    const g = groups.get(key) ?? [];
    g.push(`${x.case.suite}/${x.case.name}`);
    groups.set(key, g);
  }
  for (const [k, v] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${String(v.length).padStart(4)}  ${k}`);
    if (verbose) lines.push(`        ${v.slice(0, 8).join(', ')}${v.length > 8 ? ', …' : ''}`);
  }
  return lines.join('\n');
}

export { onnx };
