/**
 * TfIdfVectorizer over integer tokens (pool_int64s), lowered to tensor ops: for every n-gram size n
 * in [min_gram_length, max_gram_length] and skip s in [0, max_skip_count] (unigrams once, at skip 0),
 * the windows x[j], x[j+s+1], …, x[j+(n−1)(s+1)] are compared with every pool n-gram (Slice, Equal,
 * And), the matches counted (Cast, ReduceSum), and the counts placed at their ngram_indexes by a
 * constant 0/1 matrix (MatMul; small integer counts are exact in float32). Modes TF, IDF (min(count, 1)
 * · weight) and TFIDF (count · weight). String pools are refused (the IR has no strings).
 */
import { onnxOp } from '../registry.ts';
import type { TensorId } from '../../ir/types.ts';
import { hostTensor } from '../../ir/host-tensor.ts';

onnxOp('TfIdfVectorizer', (c) => {
  if (c.hasAttr('pool_strings')) c.fail('string pools are not supported (the IR has no string tensors)', 'dtype');
  const x = c.type(0);
  if (x.dtype !== 'int32' && x.dtype !== 'int64') c.fail(`input must be int32 or int64, got ${x.dtype}`, 'dtype');
  if (x.shape.length !== 1 && x.shape.length !== 2) c.fail(`input must be rank 1 or 2, got ${x.shape.length}`, 'invalid-model');
  const mode = c.string('mode');
  if (!['TF', 'IDF', 'TFIDF'].includes(mode)) c.fail(`mode '${mode}' must be TF, IDF or TFIDF`);
  const minN = c.int('min_gram_length'), maxN = c.int('max_gram_length'), maxSkip = c.int('max_skip_count');
  const pool = c.ints('pool_int64s'), starts = c.ints('ngram_counts'), indexes = c.ints('ngram_indexes');
  const weights = c.hasAttr('weights') ? c.floats('weights') : indexes.map(() => 1);
  const outDim = Math.max(...indexes) + 1;
  const B = x.shape.length === 2 ? x.shape[0]! : 1, C = x.shape[x.shape.length - 1]!;
  const X = c.emit1('Reshape', [c.in(0)], { shape: [B, C] });
  const consts = (vals: number[], shape: number[]) => c.constant(x.dtype === 'int64' ? hostTensor('int64', shape, vals.map(BigInt)) : hostTensor('int32', shape, vals));
  // Per pool n-gram (pool order), its count as a [B, G_n] float tensor per size n.
  const perSize: TensorId[] = [];
  let total = 0;
  for (let n = 1; n <= starts.length; n++) {
    const from = starts[n - 1]!, to = n < starts.length ? starts[n]! : pool.length;
    const G = (to - from) / n;
    if (!Number.isInteger(G)) c.fail(`ngram_counts do not split the pool into ${n}-grams`, 'invalid-model');
    total += G;
    const parts: TensorId[] = [];
    if (n >= minN && n <= maxN && G > 0) {
      for (let s = 0; s <= (n === 1 ? 0 : maxSkip); s++) {
        const L = C - (n - 1) * (s + 1);
        if (L <= 0) break;
        let m: TensorId | undefined;
        for (let i = 0; i < n; i++) {
          const o = i * (s + 1);
          const win = c.emit1('Reshape', [c.emit1('Slice', [X], { starts: [0, o], ends: [B, o + L], steps: [1, 1] })], { shape: [B, L, 1] });
          const items = Array.from({ length: G }, (_, g) => pool[from + g * n + i]!);
          const eq = c.emit1('Equal', [win, consts(items, [1, 1, G])]);
          m = m === undefined ? eq : c.emit1('And', [m, eq]);
        }
        parts.push(c.emit1('ReduceSum', [c.emit1('Cast', [m!], { to: 'float32' })], { axes: [1], keepdims: 0 }));
      }
    }
    if (G === 0) continue;
    let cnt = parts.length ? parts[0]! : c.constant(hostTensor('float32', [B, G]), `zeros${n}`);
    for (const p of parts.slice(1)) cnt = c.emit1('Add', [cnt, p]);
    perSize.push(cnt);
  }
  if (total !== indexes.length) c.fail(`${indexes.length} ngram_indexes for ${total} pool n-grams`, 'invalid-model');
  const counts = perSize.length === 1 ? perSize[0]! : c.emit1('Concat', perSize, { axis: 1 });
  const M = new Float32Array(total * outDim);
  const w = new Float32Array(outDim).fill(1);
  indexes.forEach((o, k) => { M[k * outDim + o] = 1; w[o] = weights[k]!; });
  let y = c.emit1('MatMul', [counts, c.constant(hostTensor('float32', [total, outDim], M), 'placement')]);
  if (mode === 'IDF') y = c.emit1('Min', [y, c.constant(hostTensor('float32', [], [1]), 'one')]);
  if (mode !== 'TF') y = c.emit1('Mul', [y, c.constant(hostTensor('float32', [outDim], w), 'weights')]);
  c.out(c.emit1('Reshape', [y], { shape: x.shape.length === 2 ? [B, outDim] : [outDim] }));
});
