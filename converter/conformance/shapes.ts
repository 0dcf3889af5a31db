/**
 * Shape conformance over the ONNX backend test data: convert every case (input shapes taken from
 * its test inputs, as a user would pass --input-shape) and compare each output's inferred dtype and
 * shape with the expected output tensor. Failures are grouped by category and reason, the way
 * onnxruntime keeps its filter list.
 */
import { onnx } from '../onnx/proto.ts';
import { ConvertError } from '../errors.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostFromBytes } from '../ir/host-tensor.ts';
import { decodeTensor, onnxTypeName } from '../onnx/tensor.ts';
import { importCase } from './import-case.ts';
import type { TestCase } from './testdata.ts';
import { flatTensors, listCases, readCaseValues } from './testdata.ts';
import type { CaseValue } from './testdata.ts';

export type CaseStatus = 'pass' | 'mismatch' | 'unsupported' | 'error';

export interface CaseResult {
  case: TestCase;
  status: CaseStatus;
  category?: string;
  reason?: string;
  /** Inputs frozen from the test data (shape-determining values). */
  frozen?: string[];
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
  let inputs: CaseValue[], outputs: HostTensor[];
  try {
    const v = readCaseValues(c);
    inputs = v.inputs;
    outputs = v.outputs.flatMap(flatTensors); // a sequence output is one output per element
  } catch (e) {
    if (e instanceof ConvertError) return { case: c, status: 'unsupported', category: 'dtype', reason: `test data: ${e.message.replace(/^\S+: /, '')}` };
    return { case: c, status: 'error', category: 'testdata', reason: (e as Error).message };
  }
  try {
    const { graph: g, frozen } = importCase(c, inputs);
    if (g.outputs.length !== outputs.length) {
      return { case: c, status: 'mismatch', category: 'outputs', reason: `${g.outputs.length} outputs, expected ${outputs.length}` };
    }
    for (let i = 0; i < g.outputs.length; i++) {
      const got = g.tensors[g.outputs[i]!]!;
      const want = outputs[i]!;
      const wantD = got.dtype === 'bfloat16' && want.dtype === 'uint16' ? 'bfloat16' : want.dtype; // ONNX 1.12 stores bfloat16 test data as uint16
      if (got.dtype !== wantD || got.shape.length !== want.shape.length || got.shape.some((d, k) => d !== want.shape[k])) {
        return { case: c, status: 'mismatch', category: 'shape', reason: `output ${i}: got ${got.dtype}[${got.shape.join('x')}], expected ${wantD}[${want.shape.join('x')}]` };
      }
    }
    return { case: c, status: 'pass', frozen };
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
  const frozen = r.results.filter((x) => x.status === 'pass' && x.frozen?.length).length;
  const lines = [`shape conformance: ${r.passed}/${r.total} cases convert with matching output shapes (${frozen} of them with shape-determining inputs frozen from the test data)`];
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
