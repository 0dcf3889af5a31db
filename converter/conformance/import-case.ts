/**
 * Convert one ONNX backend test case the way a user would: input shapes from its test inputs
 * (--input-shape), and, when a shape-determining value arrives as a graph input (a Reshape's shape, a
 * Range's limits …), those small inputs frozen from the test data (--freeze-input), since the IR is
 * static-shaped. Which inputs were frozen is reported.
 */
import type { HostTensor } from '../ir/host-tensor.ts';
import type { Graph } from '../ir/types.ts';
import { numel } from '../ir/types.ts';
import { importOnnx, readOnnxModel } from '../onnx/import.ts';
import { ConvertError } from '../errors.ts';
import type { CaseValue, TestCase } from './testdata.ts';
import type { StructuredInput } from '../onnx/sequence.ts';

const BFLOAT16 = 16;

/** Inputs with at most this many elements may be frozen. */
const FREEZE_LIMIT = 64;

export interface ImportedCase {
  graph: Graph;
  /** Names of inputs frozen into constants. */
  frozen: string[];
  /** The test inputs the converted model still takes, in order. */
  runtimeInputs: HostTensor[];
}

export function importCase(c: TestCase, inputs: readonly CaseValue[]): ImportedCase {
  const attempt = (freeze: 'none' | 'integers' | 'small'): ImportedCase => {
    const model = readOnnxModel(c.model);
    const g = model.graph!;
    const inits = new Set((g.initializer ?? []).map((i) => i.name));
    const graphInputs = (g.input ?? []).filter((v) => !inits.has(v.name));
    // Inputs beyond the given test tensors are omitted optional inputs.
    if (graphInputs.length > inputs.length) {
      const keep = new Set(graphInputs.slice(0, inputs.length).map((v) => v.name));
      g.input = (g.input ?? []).filter((v) => keep.has(v.name) || inits.has(v.name)) as typeof g.input;
    }
    const shapes = new Map<string, number[]>();
    const frozenInputs = new Map<string, HostTensor>();
    const runtimeInputs: HostTensor[] = [];
    const structured = new Map<string, StructuredInput>();
    graphInputs.slice(0, inputs.length).forEach((v, i) => {
      const cv = inputs[i]!;
      // Sequences and empty optionals: their elements' shapes from the test data, each element an input.
      if ('empty' in cv) return void structured.set(v.name ?? '', { kind: 'empty' });
      if ('sequence' in cv) {
        structured.set(v.name ?? '', { kind: 'sequence', elements: cv.sequence.map((t) => ({ dtype: t.dtype, shape: t.shape })) });
        return void runtimeInputs.push(...cv.sequence);
      }
      let t = cv;
      if (v.type?.optionalType?.elemType?.tensorType) v.type = v.type.optionalType.elemType; // a present optional tensor is the tensor
      // ONNX 1.12 stores bfloat16 test data as uint16 bit patterns.
      if (v.type?.tensorType?.elemType === BFLOAT16 && t.dtype === 'uint16') t = { ...t, dtype: 'bfloat16' };
      // Some cases feed an input of another shape than the model declares (CastLike's `like`, whose
      // values are never read): the test data is what the case runs, so it replaces the declaration.
      const dims = v.type?.tensorType?.shape?.dim;
      if (dims && (dims.length !== t.shape.length || dims.some((d, k) => d.dimValue != null && Number(d.dimValue) > 0 && Number(d.dimValue) !== t.shape[k]))) {
        (v.type!.tensorType as { shape: unknown }).shape = { dim: t.shape.map((n) => ({ dimValue: n })) };
      }
      if (freeze !== 'none' && numel(t.shape) <= FREEZE_LIMIT && (freeze === 'small' || t.dtype !== 'float32')) frozenInputs.set(v.name ?? '', t);
      else {
        shapes.set(v.name ?? '', [...t.shape]);
        runtimeInputs.push(t);
      }
    });
    const graph = importOnnx(model, c.model, { inputShapes: shapes, frozenInputs, structuredInputs: structured }).graph;
    return { graph, frozen: [...frozenInputs.keys()], runtimeInputs };
  };
  try {
    return attempt('none');
  } catch (e) {
    // Values the static IR needs at convert time: shapes, and quantization scales (integer requantization).
    if (!(e instanceof ConvertError) || !(e.category === 'dynamic-shape' || /must be a constant/.test(e.message))) throw e;
    let last: unknown;
    for (const level of ['integers', 'small'] as const) {
      try {
        return attempt(level);
      } catch (e2) {
        last = e2; // try the next level
      }
    }
    // With every value frozen, a refusal for another reason is the real one (e.g. Dropout's random
    // training mode); otherwise report the original error.
    if (last instanceof ConvertError && last.category !== 'dynamic-shape' && !/must be a constant/.test(last.message)) throw last;
    throw e;
  }
}
