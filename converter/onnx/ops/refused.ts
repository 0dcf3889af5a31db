/**
 * ONNX ops that are deliberately unsupported, with the reason a user is shown. These are the
 * categories the conformance report groups by (docs/onnx-support.md).
 */
import { onnxRefuse } from '../registry.ts';

for (const op of ['Bernoulli', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Multinomial']) {
  onnxRefuse(op, 'unsupported-op', 'random sampling has no single correct result to prove');
}
for (const op of ['StringNormalizer', 'RegexFullMatch', 'StringConcat', 'StringSplit']) {
  onnxRefuse(op, 'dtype', 'string tensors are not supported');
}
