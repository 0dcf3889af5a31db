/** ONNX ops that only carry values: Constant, Identity, Dropout (inference), If on a constant condition. */
import { onnxOp } from '../registry.ts';
import { hostTensor } from '../../ir/host-tensor.ts';

onnxOp('Constant', (c) => {
  const t = c.tensorAttr('value');
  if (t) return c.out(c.constant(t, 'value'));
  if (c.hasAttr('value_float')) return c.out(c.constant(hostTensor('float32', [], [c.float('value_float')])));
  if (c.hasAttr('value_floats')) { const v = c.floats('value_floats'); return c.out(c.constant(hostTensor('float32', [v.length], v))); }
  if (c.hasAttr('value_int')) return c.out(c.constant(hostTensor('int64', [], [BigInt(c.int('value_int'))])));
  if (c.hasAttr('value_ints')) { const v = c.ints('value_ints'); return c.out(c.constant(hostTensor('int64', [v.length], v.map(BigInt)))); }
  if (c.hasAttr('sparse_value')) c.fail('sparse constants are not supported');
  if (c.hasAttr('value_string') || c.hasAttr('value_strings')) c.fail('string constants are not supported', 'dtype');
  c.fail('has no value attribute', 'malformed');
});

onnxOp('Identity', (c) => c.out(c.inAny(0))); // tensors, sequences and optionals alike

onnxOp('Dropout', (c) => {
  // Inference: identity. training_mode (opset 12+) is an input; a constant false is fine.
  if (c.opset >= 12 && c.has(2)) {
    const t = c.constOf(2);
    if (!t) return c.fail('training_mode must be a constant; inference runs with training_mode = false', 'dynamic-shape');
    if (t.data[0]) {
      // Training mode drops each element with probability `ratio`: random unless ratio = 0, where
      // every element is kept and scaled by 1/(1 − 0) = 1, so the output is the input, the mask all true.
      const r = c.has(1) ? c.constOf(1) : undefined;
      if (!r || Number(r.data[0]) !== 0) c.fail('training_mode = true with a ratio other than a constant 0 makes Dropout random; OPML runs inference only', 'unsupported-attr');
    }
  }
  if (c.opset < 7 && c.int('is_test', 0) === 0) c.warn('is_test = 0 ignored: inference runs Dropout as identity');
  const x = c.in(0);
  if (c.hasOut(1)) {
    const t = c.type(0);
    return c.out(x, c.constant(hostTensor('bool', t.shape, new Uint8Array(t.shape.reduce((a, b) => a * b, 1)).fill(1)), 'mask'));
  }
  c.out(x);
});

onnxOp('If', (c) => {
  const cond = c.constOf(0);
  if (!cond) return c.fail('the condition must be a constant (data-dependent control flow is not supported)', 'dynamic-shape');
  const branch = c.graphAttr(cond.data[0] ? 'then_branch' : 'else_branch');
  if (!branch) return c.fail('missing branch graph', 'malformed');
  c.out(...c.inlineGraph(branch));
});
