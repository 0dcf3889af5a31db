/**
 * Sequence and optional values (converter/onnx/sequence.ts) become convert-time lists of IR tensors;
 * TfIdfVectorizer over integer pools lowers to tensor ops. Values are checked end to end by the ONNX
 * conformance cases (runtime/test/e2e-conformance.test.ts); these check the lowering's structure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertSpec, expectConvertError } from './helpers/convert.ts';
import { F, int64Tensor, valueInfo } from './helpers/onnx-build.ts';

test('sequence ops select and combine tensors at convert time; positions must be constants', () => {
  const g = convertSpec({
    inputs: [valueInfo('a', F.FLOAT, [2, 3]), valueInfo('b', F.FLOAT, [2, 3])],
    outputs: [valueInfo('y', F.FLOAT, [2, 3, 3]), valueInfo('n', F.INT64, []), valueInfo('z', F.FLOAT, [2, 3])],
    initializers: [int64Tensor('p0', [], [0]), int64Tensor('pm1', [], [-1])],
    nodes: [
      { op: 'SequenceConstruct', inputs: ['a', 'b'], outputs: ['s1'] },
      { op: 'SequenceInsert', inputs: ['s1', 'b', 'p0'], outputs: ['s2'] }, // [b, a, b]
      { op: 'ConcatFromSequence', inputs: ['s2'], outputs: ['y'], attrs: { axis: -1, new_axis: 1 } },
      { op: 'SplitToSequence', inputs: ['a'], outputs: ['s3'], attrs: { axis: 1 } },
      { op: 'SequenceLength', inputs: ['s3'], outputs: ['n'] },
      { op: 'SequenceAt', inputs: ['s2', 'pm1'], outputs: ['z'] },
    ],
    opset: 12,
  });
  assert.deepEqual(g.outputs.map((o) => [...g.tensors[o]!.shape]), [[2, 3, 3], [], [2, 3]]);
  assert.equal(g.constants.has(g.outputs[1]!), true, 'SequenceLength folds to a constant');
  assert.equal(g.outputs[2], g.inputs[1], 'SequenceAt(−1) of [b, a, b] is b itself');
  expectConvertError(() => convertSpec({
    inputs: [valueInfo('a', F.FLOAT, [2]), valueInfo('p', F.INT64, [])],
    outputs: [valueInfo('z', F.FLOAT, [2])],
    nodes: [{ op: 'SequenceConstruct', inputs: ['a'], outputs: ['s'] }, { op: 'SequenceAt', inputs: ['s', 'p'], outputs: ['z'] }],
    opset: 12,
  }), 'dynamic-shape', /position \(input 1\) must be a constant/);
});

test('TfIdfVectorizer: integer pools lower to tensor ops, string pools are refused', () => {
  const spec = (attrs: Record<string, number | number[] | string>) => ({
    inputs: [valueInfo('x', F.INT32, [2, 6])], outputs: [valueInfo('y', F.FLOAT, [2, 3])],
    nodes: [{ op: 'TfIdfVectorizer', inputs: ['x'], outputs: ['y'], attrs: { min_gram_length: 1, max_gram_length: 2, max_skip_count: 1, mode: 'TF', ngram_counts: [0, 2], ngram_indexes: [0, 1, 2], pool_int64s: [2, 3, 5, 4], ...attrs } }],
    opset: 9,
  });
  const g = convertSpec(spec({}));
  assert.deepEqual([...g.tensors[g.outputs[0]!]!.shape], [2, 3]);
  assert.ok(g.nodes.some((n) => n.op === 'MatMul') && g.nodes.some((n) => n.op === 'Equal'));
  expectConvertError(() => convertSpec(spec({ mode: 'BM25' })), 'unsupported-attr', /mode 'BM25'/);
});
