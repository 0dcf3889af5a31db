/**
 * Data-movement ops: shape changes, transposes, concatenation, slicing, gathers and scatters,
 * padding and tiling. None of them computes on values, so every one folds exactly.
 */
import { numel, shape } from '../types.ts';
import { defineOp, IrError } from '../op-registry.ts';
import { hostTensor, strides } from '../host-tensor.ts';
import { allocTyped } from '../dtype.ts';

defineOp({
  name: 'Reshape',
  summary: 'same elements in row-major order, new static shape',
  doc: 'attrs.shape is the full output shape (no 0 or −1: the importer resolves them); its element count equals the input\'s.',
  inputs: [1, 1],
  outputs: 1,
  attrs: { shape: 'ints' },
  infer([x], attrs) {
    const s = shape(attrs.shape as number[]);
    if (numel(s) !== numel(x!.shape)) throw new IrError(`cannot reshape [${x!.shape.join(',')}] to [${s.join(',')}]`);
    return [{ dtype: x!.dtype, shape: s }];
  },
  fold: ([x], attrs) => [hostTensor(x!.dtype, attrs.shape as number[], x!.data)],
});

defineOp({
  name: 'Transpose',
  summary: 'permute the axes: output axis i is input axis perm[i]',
  doc: 'attrs.perm is a permutation of 0..rank−1 (the importer fills the default reversal).',
  inputs: [1, 1],
  outputs: 1,
  attrs: { perm: 'ints' },
  infer([x], attrs) {
    const perm = attrs.perm as number[];
    const r = x!.shape.length;
    if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw new IrError(`perm [${perm}] is not a permutation of rank ${r}`);
    return [{ dtype: x!.dtype, shape: shape(perm.map((p) => x!.shape[p]!)) }];
  },
  fold([x], attrs) {
    const perm = attrs.perm as number[];
    const outShape = perm.map((p) => x!.shape[p]!);
    const inStr = strides(x!.shape);
    const n = numel(outShape);
    const out = allocTyped(x!.dtype, n);
    const r = outShape.length;
    const idx = new Array<number>(r).fill(0);
    for (let f = 0; f < n; f++) {
      let src = 0;
      for (let i = 0; i < r; i++) src += idx[i]! * inStr[perm[i]!]!;
      (out as Float32Array)[f] = (x!.data as Float32Array)[src]!;
      for (let i = r - 1; i >= 0; i--) {
        if (++idx[i]! < outShape[i]!) break;
        idx[i] = 0;
      }
    }
    return [hostTensor(x!.dtype, outShape, out)];
  },
});
