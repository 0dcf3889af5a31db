/**
 * Sequence and optional ops over convert-time lists (converter/onnx/sequence.ts): every position,
 * split and length must be a constant, and each op becomes the tensor ops it selects or combines
 * (Concat, Reshape, Slice) or nothing at all.
 */
import { onnxOp } from '../registry.ts';
import type { OnnxNodeContext } from '../context.ts';
import type { TensorId } from '../../ir/types.ts';
import { hostTensor } from '../../ir/host-tensor.ts';
import { handleValue, isHandle, makeHandle } from '../sequence.ts';

function seqIn(c: OnnxNodeContext, i: number): TensorId[] {
  const id = c.inAny(i);
  const v = isHandle(id) ? handleValue(c.b, id) : undefined;
  if (!v) return c.fail(`input ${i} must be a sequence`, 'invalid-model');
  return [...v];
}

function position(c: OnnxNodeContext, i: number, n: number, def: number, inclusiveEnd: boolean): number {
  if (!c.has(i)) return def;
  let p = c.constInts(i, 'position')[0]!;
  if (p < 0) p += n;
  if (p < 0 || p > (inclusiveEnd ? n : n - 1)) c.fail(`position ${p} is out of range for a sequence of ${n}`, 'invalid-model');
  return p;
}

const seqOut = (c: OnnxNodeContext, items: TensorId[]) => c.out(makeHandle(c.b, items));

onnxOp('SequenceEmpty', (c) => seqOut(c, []));
onnxOp('SequenceConstruct', (c) => seqOut(c, c.ins(0)));
onnxOp('SequenceInsert', (c) => {
  const s = seqIn(c, 0);
  s.splice(position(c, 2, s.length, s.length, true), 0, c.in(1));
  seqOut(c, s);
});
onnxOp('SequenceErase', (c) => {
  const s = seqIn(c, 0);
  if (!s.length) c.fail('erase from an empty sequence', 'invalid-model');
  s.splice(position(c, 1, s.length, s.length - 1, false), 1);
  seqOut(c, s);
});
onnxOp('SequenceAt', (c) => {
  const s = seqIn(c, 0);
  c.out(s[position(c, 1, s.length, 0, false)]!);
});
onnxOp('SequenceLength', (c) => c.out(c.constant(hostTensor('int64', [], [BigInt(seqIn(c, 0).length)]), 'length')));
onnxOp('ConcatFromSequence', (c) => {
  const s = seqIn(c, 0);
  if (!s.length) c.fail('concatenating an empty sequence', 'invalid-model');
  const newAxis = c.int('new_axis', 0);
  const r = c.b.typeOf(s[0]!).shape.length;
  let axis = c.int('axis');
  if (axis < 0) axis += r + newAxis;
  if (axis < 0 || axis >= r + newAxis) c.fail(`axis out of range for rank ${r}`, 'invalid-model');
  const parts = newAxis ? s.map((x) => { const d = [...c.b.typeOf(x).shape]; d.splice(axis, 0, 1); return c.emit1('Reshape', [x], { shape: d }); }) : s;
  c.out(parts.length === 1 ? c.emit1('Reshape', [parts[0]!], { shape: [...c.b.typeOf(parts[0]!).shape] }) : c.emit1('Concat', parts, { axis }));
});
onnxOp('SplitToSequence', (c) => {
  const t = c.type(0);
  const r = t.shape.length;
  let axis = c.int('axis', 0);
  if (axis < 0) axis += r;
  const d = t.shape[axis]!;
  let sizes: number[];
  const split = c.has(1) ? c.constInts(1, 'split') : undefined;
  const keep = !c.has(1) ? c.int('keepdims', 1) : 1;
  if (!split) sizes = new Array(d).fill(1);
  else if (c.rank(1) === 0) { const k = split[0]!; sizes = []; for (let o = 0; o < d; o += k) sizes.push(Math.min(k, d - o)); }
  else sizes = split;
  if (sizes.reduce((a, b) => a + b, 0) !== d) c.fail(`split sizes [${sizes.join(', ')}] do not add up to ${d}`, 'invalid-model');
  const items: TensorId[] = [];
  let o = 0;
  for (const n of sizes) {
    const starts = t.shape.map((_, i) => (i === axis ? o : 0)), ends = t.shape.map((e, i) => (i === axis ? o + n : e));
    let y = c.emit1('Slice', [c.in(0)], { starts, ends, steps: t.shape.map(() => 1) });
    if (!keep) y = c.emit1('Reshape', [y], { shape: t.shape.filter((_, i) => i !== axis) });
    items.push(y);
    o += n;
  }
  seqOut(c, items);
});
onnxOp('SequenceMap', (c) => {
  const body = c.graphAttr('body');
  if (!body) return c.fail('missing body graph', 'malformed');
  const ins = Array.from({ length: c.nIn }, (_, i) => c.inAny(i));
  const n = seqIn(c, 0).length;
  const names = (body.input ?? []).map((v) => v.name ?? '');
  const outs: TensorId[][] = (body.output ?? []).map(() => []);
  for (let k = 0; k < n; k++) {
    const bind = new Map<string, TensorId>();
    ins.forEach((id, i) => bind.set(names[i]!, isHandle(id) ? seqIn(c, i)[k]! : id));
    c.inlineGraph(body, bind).forEach((y, j) => outs[j]!.push(y));
  }
  c.out(...outs.map((s) => makeHandle(c.b, s)));
});
onnxOp('Optional', (c) => c.out(c.has(0) ? c.inAny(0) : makeHandle(c.b, null)));
onnxOp('OptionalHasElement', (c) => {
  const present = c.has(0) && !(isHandle(c.inAny(0)) && handleValue(c.b, c.inAny(0)) === null);
  c.out(c.constant(hostTensor('bool', [], [present ? 1 : 0]), 'has_element'));
});
onnxOp('OptionalGetElement', (c) => {
  const id = c.inAny(0);
  if (isHandle(id) && handleValue(c.b, id) === null) c.fail('the optional is empty', 'invalid-model');
  c.out(id);
});
