/** ONNX elementwise ops → IR elementwise ops (variadic ops become chains of binary ops). */
import { onnxOp } from '../registry.ts';
import type { OnnxNodeContext } from '../context.ts';
import type { DType, TensorId } from '../../ir/types.ts';
import { hostTensor } from '../../ir/host-tensor.ts';
import { intRange } from '../../ir/dtype.ts';
import { irDTypeOf, onnxTypeName } from '../tensor.ts';
import { castToDeclared, declaredDType } from '../boundary.ts';

const same = (irOp: string) => (c: OnnxNodeContext) => c.out(c.emit1(irOp, [c.in(0)]));

for (const op of ['Abs', 'Neg', 'Floor', 'Ceil', 'Round', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan',
  'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Tanh', 'Erf', 'Sigmoid', 'Softplus', 'Softsign', 'HardSwish', 'Mish', 'Relu', 'Sign',
  'Not', 'IsNaN', 'BitwiseNot']) {
  onnxOp(op, same(op));
}
onnxOp('IsInf', (c) => c.out(c.emit1('IsInf', [c.in(0)], { detect_positive: c.int('detect_positive', 1), detect_negative: c.int('detect_negative', 1) })));
onnxOp('LeakyRelu', (c) => c.out(c.emit1('LeakyRelu', [c.in(0)], { alpha: c.float('alpha', 0.01) })));
onnxOp('ThresholdedRelu', (c) => c.out(c.emit1('ThresholdedRelu', [c.in(0)], { alpha: c.float('alpha', 1.0) })));
onnxOp('Elu', (c) => c.out(c.emit1('Elu', [c.in(0)], { alpha: c.float('alpha', 1.0) })));
onnxOp('Celu', (c) => c.out(c.emit1('Celu', [c.in(0)], { alpha: c.float('alpha', 1.0) })));
onnxOp('Selu', (c) => c.out(c.emit1('Selu', [c.in(0)], { alpha: c.float('alpha', 1.67326319217681884765625), gamma: c.float('gamma', 1.05070102214813232421875) })));
onnxOp('HardSigmoid', (c) => c.out(c.emit1('HardSigmoid', [c.in(0)], { alpha: c.float('alpha', 0.2), beta: c.float('beta', 0.5) })));
onnxOp('Shrink', (c) => c.out(c.emit1('Shrink', [c.in(0)], { lambd: c.float('lambd', 0.5), bias: c.float('bias', 0) })));
onnxOp('Gelu', (c) => {
  const a = c.string('approximate', 'none');
  if (a !== 'none' && a !== 'tanh') c.fail(`approximate='${a}' is not one of 'none', 'tanh'`);
  c.out(c.emit1('Gelu', [c.in(0)], { approximate: a === 'tanh' ? 1 : 0 }));
});

/**
 * Opset < 7 binary ops broadcast only with broadcast=1 and an axis: the right operand is aligned
 * at `axis` instead of at the trailing dims. Reshape it so numpy broadcasting does the same.
 */
function legacyAlign(c: OnnxNodeContext, a: TensorId, b: TensorId): TensorId {
  if (c.opset >= 7 || !c.int('broadcast', 0) || !c.hasAttr('axis')) return b;
  const ra = c.b.typeOf(a).shape.length;
  const bs = c.b.typeOf(b).shape;
  let axis = c.int('axis');
  if (axis < 0) axis += ra;
  const trailing = ra - axis - bs.length;
  if (trailing <= 0) return b;
  return c.emit1('Reshape', [b], { shape: [...bs, ...new Array(trailing).fill(1)] });
}

const binary = (irOp: string, extra: (c: OnnxNodeContext) => Record<string, number> = () => ({})) => (c: OnnxNodeContext) => {
  const a = c.in(0);
  c.out(c.emit1(irOp, [a, legacyAlign(c, a, c.in(1))], extra(c)));
};
for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor']) {
  onnxOp(op, binary(op));
}
onnxOp('Mod', (c) => {
  const fmod = c.int('fmod', 0);
  if (!fmod && c.type(0).dtype === 'float32') c.fail('fmod=0 on float inputs is not defined by ONNX; set fmod=1');
  // uint64 in int64 bits: unsigned remainder (fmod = 2); uint16/uint32 are exact in int32/int64.
  const unsigned = declaredDType(c.b, c.in(0)) === 'uint64';
  c.out(c.emit1('Mod', [c.in(0), c.in(1)], { fmod: unsigned ? 2 : fmod }));
});
onnxOp('BitShift', (c) => {
  const dir = c.string('direction');
  if (dir !== 'LEFT' && dir !== 'RIGHT') c.fail(`direction '${dir}' must be LEFT or RIGHT`);
  const d = declaredDType(c.b, c.in(0));
  if (!['uint8', 'uint16', 'uint32', 'uint64'].includes(d)) c.fail(`BitShift on ${d} is not defined by ONNX (unsigned types only)`, 'invalid-model');
  // uint16 computes in int32 and uint32 in int64, zero-extended: the shifted bits are the same, and the
  // cast back to the boundary dtype drops those above its width.
  c.out(c.emit1('BitShift', [c.in(0), c.in(1)], { direction: dir === 'RIGHT' ? 1 : 0 }));
});
onnxOp('PRelu', (c) => {
  // Opset < 7 slope broadcasts per channel (axis 1) when its rank is 1.
  const x = c.type(0);
  let slope = c.in(1);
  const s = c.type(1).shape;
  if (c.opset < 7 && s.length === 1 && x.shape.length > 2 && s[0] !== 1) slope = c.emit1('Reshape', [slope], { shape: [s[0]!, ...new Array(x.shape.length - 2).fill(1)] });
  c.out(c.emit1('PRelu', [c.in(0), slope]));
});
onnxOp('Pow', (c) => {
  const xt = c.type(0).dtype;
  let y = c.in(1);
  if (xt !== 'float32') {
    // Integer base: compute in float32 and cast back, as reference implementations do.
    let x = c.emit1('Cast', [c.in(0)], { to: 'float32' });
    if (c.type(1).dtype !== 'float32') y = c.emit1('Cast', [y], { to: 'float32' });
    const r = c.emit1('Pow', [x, y]);
    x = c.emit1('Cast', [r], { to: xt });
    return c.out(x);
  }
  if (c.type(1).dtype !== 'float32') y = c.emit1('Cast', [y], { to: 'float32' });
  // x² (LayerNorm decompositions, variances) is x·x: the correctly rounded square, cheaper than pow.
  const e = c.b.constValue(y);
  if (e && e.data.length === 1 && e.data[0] === 2 && e.shape.length <= c.rank(0)) return c.out(c.emit1('Mul', [c.in(0), c.in(0)]));
  c.out(c.emit1('Pow', [c.in(0), legacyAlign(c, c.in(0), y)]));
});

// Variadic ops: a left-to-right chain of binary ops (the order is part of the result).
const variadic = (irOp: string) => (c: OnnxNodeContext) => {
  const xs = c.ins();
  if (xs.length === 0) c.fail('needs at least one input');
  let acc = xs[0]!;
  if (xs.length === 1) acc = c.emit1('Reshape', [acc], { shape: [...c.b.typeOf(acc).shape] });
  for (const x of xs.slice(1)) acc = c.emit1(irOp, [acc, x]);
  return acc;
};
onnxOp('Sum', (c) => c.out(variadic('Add')(c)));
/** uint64 values live in int64 bits: flipping the sign bit maps unsigned order onto signed order. */
const unsignedOrder = (irOp: string) => (c: OnnxNodeContext) => {
  if (c.ins().length < 2 || c.ins().some((x) => declaredDType(c.b, x) !== 'uint64')) return c.out(variadic(irOp)(c));
  const bias = c.constant(hostTensor('int64', [], [-(1n << 63n)]), 'sign_bit');
  let acc = c.emit1('BitwiseXor', [c.ins()[0]!, bias]);
  for (const x of c.ins().slice(1)) acc = c.emit1(irOp, [acc, c.emit1('BitwiseXor', [x, bias])]);
  c.out(c.emit1('BitwiseXor', [acc, bias]));
};
onnxOp('Max', unsignedOrder('Max'));
onnxOp('Min', unsignedOrder('Min'));
onnxOp('Mean', (c) => {
  const s = variadic('Add')(c);
  const n = c.ins().length;
  const d = c.b.typeOf(s).dtype;
  c.out(n === 1 ? s : c.emit1('Div', [s, c.constant(hostTensor(d, [], d === 'int64' ? [BigInt(n)] : [n]), 'count')]));
});

onnxOp('Where', (c) => c.out(c.emit1('Where', [c.in(0), c.in(1), c.in(2)])));

function limitConst(c: OnnxNodeContext, d: DType, which: 'lo' | 'hi') {
  if (d === 'float32') return c.constant(hostTensor(d, [], [which === 'lo' ? -Infinity : Infinity]), which);
  const [lo, hi] = intRange(d);
  const v = which === 'lo' ? lo : hi;
  return c.constant(hostTensor(d, [], [d === 'int64' ? v : Number(v)]), which);
}
onnxOp('Clip', (c) => {
  const x = c.in(0);
  const d = c.b.typeOf(x).dtype;
  let lo, hi;
  if (c.opset < 11) {
    lo = c.constant(hostTensor(d, [], [c.float('min', -Infinity)]), 'lo');
    hi = c.constant(hostTensor(d, [], [c.float('max', Infinity)]), 'hi');
  } else {
    lo = c.has(1) ? c.in(1) : limitConst(c, d, 'lo');
    hi = c.has(2) ? c.in(2) : limitConst(c, d, 'hi');
    for (const [id, w] of [[lo, 'min'], [hi, 'max']] as const) {
      const n = c.b.typeOf(id).shape.reduce((a, b) => a * b, 1);
      if (n !== 1) c.fail(`${w} must be a scalar`);
    }
    if (c.b.typeOf(lo).shape.length) lo = c.emit1('Reshape', [lo], { shape: [] });
    if (c.b.typeOf(hi).shape.length) hi = c.emit1('Reshape', [hi], { shape: [] });
  }
  c.out(c.emit1('Clip', [x, lo, hi]));
});

function castTo(c: OnnxNodeContext, to: number): DType {
  const d = irDTypeOf(to);
  if (!d) c.fail(`cast to ${onnxTypeName(to)} is not supported (the IR carries float32, int8/16/32/64, uint8 and bool, and float64, float16, bfloat16, uint16/32/64 as boundary dtypes)`, 'dtype');
  return d;
}
onnxOp('Cast', (c) => {
  const to = castTo(c, c.int('to'));
  if (declaredDType(c.b, c.in(0)) === to) return c.out(c.in(0));
  c.out(castToDeclared(c.b, c.in(0), to, c.name));
});
onnxOp('CastLike', (c) => {
  const to = declaredDType(c.b, c.in(1));
  c.out(to === declaredDType(c.b, c.in(0)) ? c.in(0) : castToDeclared(c.b, c.in(0), to, c.name));
});
