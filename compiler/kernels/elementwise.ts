/**
 * Elementwise kernels: unary maps and broadcasting binary/ternary ops. The loop nest runs over the
 * output shape (innermost axis vectorised); each input is indexed through its broadcast strides.
 */
import type { DType, TensorType } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import type { Buffer, Expr } from '../kernel/ast.ts';
import { computeType } from '../kernel/ast.ts';
import * as k from '../kernel/build.ts';
import { defineKernel } from './registry.ts';
import type { KernelRequest } from './registry.ts';

/** Flat index into `t` broadcast to `out` from the output's per-axis indices. */
export function broadcastIndex(idx: readonly Expr[], t: TensorType, out: readonly number[]): Expr {
  const r = out.length;
  let e: Expr = k.i32(0);
  let stride = 1;
  for (let a = t.shape.length - 1; a >= 0; a--) {
    const oa = r - t.shape.length + a;
    if (t.shape[a] !== 1) e = k.add(e, k.mul(idx[oa]!, k.i32(stride)));
    stride *= t.shape[a]!;
  }
  return e;
}

/** Collapse an elementwise loop nest: one flat loop when no input broadcasts. */
function mapKernel(r: KernelRequest, f: (vals: Expr[], outType: DType) => Expr): ReturnType<k.KernelBuilder['build']> {
  const K = new k.KernelBuilder(r.op);
  const ins: Buffer[] = r.inputs.map((t, i) => K.input(`x${i}`, t.dtype, numel(t.shape)));
  const out = r.outputs[0]!;
  const y = K.output('y', out.dtype, numel(out.shape));
  const dims = [...out.shape];
  const plain = r.inputs.every((t) => numel(t.shape) === numel(dims));
  if (plain || dims.length <= 1) {
    return K.build([k.pfor(numel(dims), (i) => [k.store(y, i, f(ins.map((b, j) => k.load(b, numel(r.inputs[j]!.shape) === 1 ? k.i32(0) : i)), out.dtype))])]);
  }
  return K.build(k.pforShape(dims, (idx) => [
    k.store(y, k.flatIndex(idx, dims), f(ins.map((b, j) => k.load(b, broadcastIndex(idx, r.inputs[j]!, dims))), out.dtype)),
  ]));
}

const zero = (t: DType) => k.constOf(computeType(t), 0);

// Unary
defineKernel('Neg', (r) => mapKernel(r, ([x]) => k.neg(x!)));
defineKernel('Abs', (r) => mapKernel(r, ([x]) => k.abs(x!)));
defineKernel('Sqrt', (r) => mapKernel(r, ([x]) => k.sqrt(x!)));
defineKernel('Floor', (r) => mapKernel(r, ([x]) => k.floor(x!)));
defineKernel('Ceil', (r) => mapKernel(r, ([x]) => k.ceil(x!)));
defineKernel('Round', (r) => mapKernel(r, ([x]) => k.nearest(x!)));
defineKernel('Reciprocal', (r) => mapKernel(r, ([x]) => k.div(k.f32(1), x!)));
defineKernel('Relu', (r) => mapKernel(r, ([x], t) => (t === 'float32' ? k.max(x!, k.f32(0)) : k.select(k.gt(x!, zero(t)), x!, zero(t)))));
defineKernel('LeakyRelu', (r) => mapKernel(r, ([x]) => k.select(k.lt(x!, k.f32(0)), k.mul(k.f32(r.attrs.alpha as number), x!), x!)));
defineKernel('Not', (r) => mapKernel(r, ([x]) => k.eqz(x!)));
defineKernel('IsNaN', (r) => mapKernel(r, ([x]) => k.ne(x!, x!)));
defineKernel('Sign', (r) => mapKernel(r, ([x], t) => {
  const z = zero(t), one = k.constOf(computeType(t), 1), m1 = k.constOf(computeType(t), -1);
  const s = k.select(k.gt(x!, z), one, k.select(k.lt(x!, z), m1, z));
  return t === 'float32' ? k.select(k.ne(x!, x!), x!, s) : s;
}));

// Binary
defineKernel('Add', (r) => mapKernel(r, ([a, b]) => k.add(a!, b!)));
defineKernel('Sub', (r) => mapKernel(r, ([a, b]) => k.sub(a!, b!)));
defineKernel('Mul', (r) => mapKernel(r, ([a, b]) => k.mul(a!, b!)));
defineKernel('Div', (r) => mapKernel(r, ([a, b], t) => (t === 'float32' ? k.div(a!, b!) : k.idiv(a!, b!))));
defineKernel('Max', (r) => mapKernel(r, ([a, b], t) => (t === 'float32' ? k.max(a!, b!) : k.select(k.gt(a!, b!), a!, b!))));
defineKernel('Min', (r) => mapKernel(r, ([a, b], t) => (t === 'float32' ? k.min(a!, b!) : k.select(k.lt(a!, b!), a!, b!))));
defineKernel('PRelu', (r) => mapKernel(r, ([a, b], t) => k.select(k.lt(a!, zero(t)), k.mul(b!, a!), a!)));
for (const op of ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual'] as const) {
  const f = { Equal: k.eq, Less: k.lt, LessOrEqual: k.le, Greater: k.gt, GreaterOrEqual: k.ge }[op];
  defineKernel(op, (r) => mapKernel(r, ([a, b]) => f(a!, b!)));
}
defineKernel('And', (r) => mapKernel(r, ([a, b]) => k.and(a!, b!)));
defineKernel('Or', (r) => mapKernel(r, ([a, b]) => k.or(a!, b!)));
defineKernel('Xor', (r) => mapKernel(r, ([a, b]) => k.xor(a!, b!)));
defineKernel('Where', (r) => mapKernel(r, ([c, a, b]) => k.select(c!, a!, b!)));
defineKernel('Clip', (r) => mapKernel(r, ([x, lo, hi], t) =>
  t === 'float32' ? k.min(k.max(x!, lo!), hi!) : k.select(k.gt(k.select(k.lt(x!, lo!), lo!, x!), hi!), hi!, k.select(k.lt(x!, lo!), lo!, x!))));
