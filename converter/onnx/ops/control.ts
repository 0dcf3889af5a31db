/**
 * Loop and Scan, unrolled at convert time: the IR is a static graph, so a Loop runs only when its trip
 * count and every iteration's condition fold to constants (or shapes), and a Scan over its static scan
 * axis. Each iteration inlines the body graph with its inputs bound; scan outputs are stacked along a new
 * leading axis. The unrolled graph computes exactly what the loop computes, iteration by iteration.
 */
import { onnxOp } from '../registry.ts';
import type { OnnxNodeContext } from '../context.ts';
import type { TensorId } from '../../ir/types.ts';
import { hostTensor } from '../../ir/host-tensor.ts';
import type { OnnxTypes } from '../proto.ts';

/** At most this many iterations are unrolled (the graph grows with every one). */
const MAX_UNROLL = 1024;

function bodyInputs(c: OnnxNodeContext, body: OnnxTypes.IGraphProto): string[] {
  const inits = new Set((body.initializer ?? []).map((i) => i.name));
  return (body.input ?? []).filter((v) => !inits.has(v.name)).map((v) => v.name ?? '');
}

/** Stack same-shaped tensors along a new axis 0. */
function stack(c: OnnxNodeContext, xs: readonly TensorId[]): TensorId {
  const rows = xs.map((x) => c.emit1('Reshape', [x], { shape: [1, ...c.b.typeOf(x).shape] }));
  return rows.length === 1 ? rows[0]! : c.emit1('Concat', rows, { axis: 0 });
}

onnxOp('Loop', (c) => {
  const body = c.graphAttr('body');
  if (!body) return c.fail('missing body graph', 'malformed');
  const names = bodyInputs(c, body);
  const trip = c.has(0) ? c.constOf(0) : undefined;
  if (c.has(0) && !trip) c.fail('the trip count must be a constant or computable from shapes (loops are unrolled at convert time)', 'dynamic-shape');
  const maxTrip = trip ? Number(trip.data[0]) : Infinity;
  let cond = true;
  if (c.has(1)) {
    const v = c.constOf(1);
    if (!v) return c.fail('the initial condition must be a constant (loops are unrolled at convert time)', 'dynamic-shape');
    cond = !!v.data[0];
  }
  let carried = Array.from({ length: Math.max(0, c.nIn - 2) }, (_, k) => c.inAny(k + 2)); // tensors or sequences
  const nCarried = carried.length;
  const scans: TensorId[][] = [];
  let i = 0;
  for (; i < maxTrip && cond; i++) {
    if (i >= MAX_UNROLL) c.fail(`more than ${MAX_UNROLL} iterations (loops are unrolled at convert time)`, 'dynamic-shape');
    const bind = new Map<string, TensorId>();
    bind.set(names[0]!, c.constant(hostTensor('int64', [], [BigInt(i)]), `iter${i}`));
    bind.set(names[1]!, c.constant(hostTensor('bool', [], [cond ? 1 : 0]), `cond${i}`));
    names.slice(2).forEach((n, k) => bind.set(n, carried[k]!));
    const outs = c.inlineGraph(body, bind);
    const condOut = c.b.constValue(outs[0]!);
    if (!condOut) return c.fail('the loop condition must fold to a constant in every iteration (loops are unrolled at convert time)', 'dynamic-shape');
    cond = !!condOut.data[0];
    carried = outs.slice(1, 1 + nCarried);
    outs.slice(1 + nCarried).forEach((s, k) => (scans[k] ??= []).push(s));
  }
  const nScan = (body.output ?? []).length - 1 - nCarried;
  if (i === 0 && nScan > 0) c.fail('a loop that runs zero times has scan outputs of unknown shape', 'dynamic-shape');
  c.out(...carried, ...Array.from({ length: nScan }, (_, k) => stack(c, scans[k]!)));
});

onnxOp('Scan', (c) => {
  const body = c.graphAttr('body');
  if (!body) return c.fail('missing body graph', 'malformed');
  const names = bodyInputs(c, body);
  const nScanIn = c.int('num_scan_inputs');
  for (const a of ['scan_input_axes', 'scan_input_directions', 'scan_output_axes', 'scan_output_directions', 'directions']) {
    if (c.hasAttr(a) && c.ints(a).some((v) => v !== 0)) c.fail(`${a} other than 0 is not supported`);
  }
  // Opset 8 has a batch axis first and an optional sequence_lens input; opset 9+ neither.
  const batched = c.opset < 9;
  if (batched && c.has(0)) c.fail('sequence_lens is not supported (every sequence runs its full length)');
  const ins = batched ? c.ins(1) : c.ins(0);
  const nState = ins.length - nScanIn;
  const slice = (x: TensorId, axis: number, j: number) => c.emit1('Gather', [x, c.constant(hostTensor('int64', [], [BigInt(j)]), 'idx')], { axis });
  const run = (states: TensorId[], xs: TensorId[]): TensorId[] => {
    const T = c.b.typeOf(xs[0]!).shape[0]!;
    const scans: TensorId[][] = [];
    for (let t = 0; t < T; t++) {
      const bind = new Map<string, TensorId>();
      names.forEach((n, k) => bind.set(n, k < nState ? states[k]! : slice(xs[k - nState]!, 0, t)));
      const outs = c.inlineGraph(body, bind);
      states = outs.slice(0, nState);
      outs.slice(nState).forEach((s, k) => (scans[k] ??= []).push(s));
    }
    if (T === 0) c.fail('an empty scan axis gives scan outputs of unknown shape', 'dynamic-shape');
    return [...states, ...scans.map((s) => stack(c, s))];
  };
  if (!batched) return c.out(...run(ins.slice(0, nState), ins.slice(nState)));
  const B = c.b.typeOf(ins[0]!).shape[0]!;
  const per = Array.from({ length: B }, (_, b) => run(ins.slice(0, nState).map((s) => slice(s, 0, b)), ins.slice(nState).map((x) => slice(x, 0, b))));
  c.out(...per[0]!.map((_, k) => stack(c, per.map((p) => p[k]!))));
});
