/**
 * TensorFlow.js's own op mapping metadata (@tensorflow/tfjs-converter op lists): which TF ops
 * TensorFlow.js can execute, and their category. Used to explain unsupported ops: an op TensorFlow.js
 * itself does not know is usually a sign of a custom op or a model not made by tensorflowjs_converter.
 */
import type { OpMapper } from '@tensorflow/tfjs-converter/dist/operations/types.js';
import { json as arithmetic } from '@tensorflow/tfjs-converter/dist/operations/op_list/arithmetic.js';
import { json as basic_math } from '@tensorflow/tfjs-converter/dist/operations/op_list/basic_math.js';
import { json as control } from '@tensorflow/tfjs-converter/dist/operations/op_list/control.js';
import { json as convolution } from '@tensorflow/tfjs-converter/dist/operations/op_list/convolution.js';
import { json as creation } from '@tensorflow/tfjs-converter/dist/operations/op_list/creation.js';
import { json as dynamic } from '@tensorflow/tfjs-converter/dist/operations/op_list/dynamic.js';
import { json as evaluation } from '@tensorflow/tfjs-converter/dist/operations/op_list/evaluation.js';
import { json as graph } from '@tensorflow/tfjs-converter/dist/operations/op_list/graph.js';
import { json as hash_table } from '@tensorflow/tfjs-converter/dist/operations/op_list/hash_table.js';
import { json as image } from '@tensorflow/tfjs-converter/dist/operations/op_list/image.js';
import { json as logical } from '@tensorflow/tfjs-converter/dist/operations/op_list/logical.js';
import { json as matrices } from '@tensorflow/tfjs-converter/dist/operations/op_list/matrices.js';
import { json as normalization } from '@tensorflow/tfjs-converter/dist/operations/op_list/normalization.js';
import { json as ragged } from '@tensorflow/tfjs-converter/dist/operations/op_list/ragged.js';
import { json as reduction } from '@tensorflow/tfjs-converter/dist/operations/op_list/reduction.js';
import { json as slice_join } from '@tensorflow/tfjs-converter/dist/operations/op_list/slice_join.js';
import { json as sparse } from '@tensorflow/tfjs-converter/dist/operations/op_list/sparse.js';
import { json as spectral } from '@tensorflow/tfjs-converter/dist/operations/op_list/spectral.js';
import { json as string } from '@tensorflow/tfjs-converter/dist/operations/op_list/string.js';
import { json as tfdf } from '@tensorflow/tfjs-converter/dist/operations/op_list/tfdf.js';
import { json as transformation } from '@tensorflow/tfjs-converter/dist/operations/op_list/transformation.js';

const ALL: readonly OpMapper[] = [
  ...arithmetic, ...basic_math, ...control, ...convolution, ...creation, ...dynamic, ...evaluation, ...graph, ...hash_table, ...image,
  ...logical, ...matrices, ...normalization, ...ragged, ...reduction, ...slice_join, ...sparse, ...spectral, ...string, ...tfdf, ...transformation,
];

let byName: Map<string, OpMapper> | undefined;

/** TensorFlow.js's mapping entry for a TF op, or undefined when TensorFlow.js does not know the op. */
export function tfjsOpInfo(op: string): OpMapper | undefined {
  byName ??= new Map(ALL.map((m) => [m.tfOpName, m]));
  return byName.get(op);
}

/** Why an op may be missing, for the unsupported-op message ('' when there is nothing to add). */
export function tfjsOpNote(op: string): string {
  const m = tfjsOpInfo(op);
  if (!m) return 'not a TensorFlow.js op either (a custom op?)';
  switch (m.category) {
    case 'control': return 'control flow is not supported (the IR is a static graph)';
    case 'dynamic': return 'its output shape depends on run-time values';
    case 'hash_table': case 'string': case 'ragged': case 'sparse': return 'string, hash-table, ragged and sparse tensors are not carried by the IR';
    default: return '';
  }
}
