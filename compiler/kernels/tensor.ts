/** Data-movement kernels: Reshape (a copy), Transpose. */
import { numel } from '../../converter/ir/types.ts';
import * as k from '../kernel/build.ts';
import { strides } from '../../converter/ir/host-tensor.ts';
import { defineKernel } from './registry.ts';

defineKernel('Reshape', (r) => {
  const K = new k.KernelBuilder('Reshape');
  const t = r.inputs[0]!;
  const x = K.input('x', t.dtype, numel(t.shape));
  const y = K.output('y', t.dtype, numel(t.shape));
  return K.build([k.pfor(numel(t.shape), (i) => [k.store(y, i, k.load(x, i))])]);
});

defineKernel('Transpose', (r) => {
  const K = new k.KernelBuilder('Transpose');
  const t = r.inputs[0]!;
  const perm = r.attrs.perm as number[];
  const out = [...r.outputs[0]!.shape];
  const inStr = strides(t.shape);
  const x = K.input('x', t.dtype, numel(t.shape));
  const y = K.output('y', t.dtype, numel(out));
  if (out.length === 0) return K.build([k.store(y, k.i32(0), k.load(x, k.i32(0)))]);
  return K.build(k.pforShape(out, (idx) => {
    let src = k.i32(0);
    idx.forEach((e, a) => { src = k.add(src, k.mul(e, k.i32(inStr[perm[a]!]!))); });
    return [k.store(y, k.flatIndex(idx, out), k.load(x, src))];
  }));
});
