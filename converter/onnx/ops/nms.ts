/**
 * NonMaxSuppression: how many boxes it keeps depends on the input values, and the IR is static-shaped,
 * so like NonZero and Unique it converts only when its inputs are constants (or frozen with
 * --freeze-input), computing the selection at convert time in float32 (every + − × ÷ rounded once, as
 * the determinism contract allows host folds to). Otherwise it is refused with that reason.
 */
import { onnxOp } from '../registry.ts';
import { hostTensor, toNumbers } from '../../ir/host-tensor.ts';

const f = Math.fround;

onnxOp('NonMaxSuppression', (c) => {
  const boxes = c.constOf(0), scores = c.constOf(1);
  if (!boxes || !scores) return c.fail('the number of boxes kept depends on the input values (the IR is static-shaped); only constant inputs are supported', 'dynamic-shape');
  const maxOut = c.has(2) ? c.constInts(2, 'max_output_boxes_per_class')[0]! : 0;
  const iouT = c.has(3) ? f(c.constFloats(3, 'iou_threshold')[0]!) : 0;
  const scoreT = c.has(4) ? f(c.constFloats(4, 'score_threshold')[0]!) : -Infinity;
  const center = c.int('center_point_box', 0);
  const [B, N] = boxes.shape as unknown as [number, number];
  const C = scores.shape[1]!;
  if (boxes.shape.length !== 3 || boxes.shape[2] !== 4 || scores.shape.length !== 3 || scores.shape[0] !== B || scores.shape[2] !== N) {
    c.fail(`boxes [${boxes.shape.join(', ')}] and scores [${scores.shape.join(', ')}] must be [B, N, 4] and [B, C, N]`, 'invalid-model');
  }
  const bx = toNumbers(boxes), sc = toNumbers(scores);
  /** Corners (y1, x1, y2, x2) with y1 ≤ y2, x1 ≤ x2. */
  const corners = (b: number, i: number): [number, number, number, number] => {
    const [p, q, r, s] = [0, 1, 2, 3].map((k) => bx[(b * N + i) * 4 + k]!) as [number, number, number, number];
    if (center) {
      const hw = f(r / 2), hh = f(s / 2); // [x_center, y_center, width, height]
      return [f(q - hh), f(p - hw), f(q + hh), f(p + hw)];
    }
    return [Math.min(p, r), Math.min(q, s), Math.max(p, r), Math.max(q, s)];
  };
  const iou = (a: number[], b: number[]): number => {
    const areaA = f(f(a[2]! - a[0]!) * f(a[3]! - a[1]!)), areaB = f(f(b[2]! - b[0]!) * f(b[3]! - b[1]!));
    if (areaA <= 0 || areaB <= 0) return 0;
    const h = f(Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!)), w = f(Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
    if (h <= 0 || w <= 0) return 0;
    const inter = f(h * w);
    return f(inter / f(f(areaA + areaB) - inter));
  };
  const out: bigint[] = [];
  for (let b = 0; b < B; b++) {
    const box = Array.from({ length: N }, (_, i) => corners(b, i));
    for (let k = 0; k < C; k++) {
      if (maxOut <= 0) continue;
      const cand = Array.from({ length: N }, (_, i) => i).filter((i) => sc[(b * C + k) * N + i]! > scoreT);
      cand.sort((x, y) => sc[(b * C + k) * N + y]! - sc[(b * C + k) * N + x]! || x - y); // score descending, then index
      const kept: number[] = [];
      for (const i of cand) {
        if (kept.length >= maxOut) break;
        if (kept.every((j) => !(iou(box[i]!, box[j]!) > iouT))) kept.push(i);
      }
      for (const i of kept) out.push(BigInt(b), BigInt(k), BigInt(i));
    }
  }
  c.out(c.constant(hostTensor('int64', [out.length / 3, 3], out), 'selected_indices'));
});
