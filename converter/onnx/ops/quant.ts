/**
 * ONNX lowerings: quantization family. QuantizeLinear / DequantizeLinear map to their IR ops;
 * MatMulInteger / ConvInteger to the int32-accumulating IR ops; QLinearMatMul / QLinearConv become
 * MatMulInteger / ConvInteger (+ int32 bias) followed by an integer-only Requantize whose fixed-point
 * multipliers the importer derives exactly from the constant float32 scales.
 */
import { onnxOp } from '../registry.ts';
import type { OnnxNodeContext } from '../context.ts';
import type { DType, TensorId } from '../../ir/types.ts';
import { numel } from '../../ir/types.ts';
import type { HostTensor } from '../../ir/host-tensor.ts';
import { hostTensor } from '../../ir/host-tensor.ts';
import { fixedPointMultiplier } from '../../ir/ops/quant.ts';
import { IrError } from '../../ir/op-registry.ts';

function fmt(s: readonly number[]): string {
  return `[${s.join('x')}]`;
}

function requireQ8(c: OnnxNodeContext, i: number, what: string): DType {
  const d = c.type(i).dtype;
  if (d !== 'int8' && d !== 'uint8') c.fail(`${what} has element type ${d}; only int8 and uint8 quantization is supported`, 'dtype');
  return d;
}

/** Zero point input i, or a zero scalar of dtype d when it is missing. */
function zeroPoint(c: OnnxNodeContext, i: number, d: DType, name: string): TensorId {
  if (c.has(i)) {
    if (c.type(i).dtype !== d) c.fail(`${name} has element type ${c.type(i).dtype}, expected ${d}`, 'dtype');
    return c.in(i);
  }
  return c.constant(hostTensor(d, [], [0]), name);
}

/**
 * Make a quantization parameter rank 0 when it has one element and the op is per-tensor, or rank 1 of
 * length `dim` when it is per-axis. Returns the id and whether it is per-axis.
 */
function param(c: OnnxNodeContext, id: TensorId, dim: number, what: string): { id: TensorId; perAxis: boolean } {
  const s = c.b.typeOf(id).shape;
  const n = numel(s);
  if (n === 1) {
    return { id: s.length === 0 ? id : c.emit1('Reshape', [id], { shape: [] }), perAxis: false };
  }
  if (n === dim) return { id: s.length === 1 ? id : c.emit1('Reshape', [id], { shape: [dim] }), perAxis: true };
  return c.fail(`${what} ${fmt(s)} must have 1 element (per-tensor) or ${dim} (per-axis)`, 'invalid-model');
}

/** The normalised axis of a per-axis parameter of length n (per-tensor parameters ignore axis: 0). */
function axisAttr(c: OnnxNodeContext, r: number, n: number): number {
  let axis = c.opset >= 13 ? c.int('axis', 1) : 1;
  if (r === 0 || n === 1) return 0;
  if (axis < -r || axis >= r) c.fail(`axis ${axis} out of range for rank ${r}`, 'invalid-model');
  if (axis < 0) axis += r;
  return axis;
}

function checkBlock(c: OnnxNodeContext): void {
  if (c.int('block_size', 0) !== 0) c.fail('blocked quantization (block_size ≠ 0) is not supported');
}

onnxOp('QuantizeLinear', (c) => {
  checkBlock(c);
  const xd = c.type(0).dtype;
  if (xd !== 'float32' && xd !== 'int32') c.fail(`x has element type ${xd}; float32 and int32 are supported`, 'dtype');
  if (c.type(1).dtype !== 'float32') c.fail(`y_scale has element type ${c.type(1).dtype}; only float32 is supported`, 'dtype');
  // Without a zero point the output is uint8, or (opset 21) the output_dtype attribute: 2 = uint8, 3 = int8.
  const od = c.int('output_dtype', 0);
  const zd: DType = c.has(2) ? c.type(2).dtype : od === 3 ? 'int8' : od === 0 || od === 2 ? 'uint8' : c.fail(`output_dtype ${od} is not supported (uint8 or int8 only)`, 'dtype');
  if (zd !== 'int8' && zd !== 'uint8') c.fail(`y_zero_point has element type ${zd}; only int8 and uint8 quantization is supported`, 'dtype');
  const x = c.type(0);
  const axis = axisAttr(c, x.shape.length, numel(c.type(1).shape));
  const dim = x.shape.length ? x.shape[axis]! : 1;
  const s = param(c, c.in(1), dim, 'y_scale');
  const zid = zeroPoint(c, 2, zd, 'y_zero_point');
  const z = s.perAxis && numel(c.b.typeOf(zid).shape) === 1 && dim !== 1
    ? c.emit1('Reshape', [c.emit1('Add', [zid, c.constant(hostTensor(zd, [dim], new Array<number>(dim).fill(0)), 'zeros')])], { shape: [dim] })
    : param(c, zid, dim, 'y_zero_point').id;
  // int32 x (opset 10–18) is converted to float32 first (round to nearest even), then quantized.
  const x0 = xd === 'int32' ? c.emit1('Cast', [c.in(0)], { to: 'float32' }) : c.in(0);
  c.out(c.emit1('QuantizeLinear', [x0, s.id, z], { axis }));
});

onnxOp('DequantizeLinear', (c) => {
  checkBlock(c);
  const xd = c.type(0).dtype;
  if (xd !== 'int8' && xd !== 'uint8' && xd !== 'int32') c.fail(`x has element type ${xd}; int8, uint8 and int32 are supported`, 'dtype');
  if (c.type(1).dtype !== 'float32') c.fail(`x_scale has element type ${c.type(1).dtype}; only float32 is supported`, 'dtype');
  const x = c.type(0);
  const axis = axisAttr(c, x.shape.length, numel(c.type(1).shape));
  const dim = x.shape.length ? x.shape[axis]! : 1;
  const s = param(c, c.in(1), dim, 'x_scale');
  const zid = zeroPoint(c, 2, xd, 'x_zero_point');
  const z = s.perAxis && numel(c.b.typeOf(zid).shape) === 1 && dim !== 1
    ? c.emit1('Reshape', [c.emit1('Add', [zid, c.constant(hostTensor(xd, [dim], new Array<number>(dim).fill(0)), 'zeros')])], { shape: [dim] })
    : param(c, zid, dim, 'x_zero_point').id;
  c.out(c.emit1('DequantizeLinear', [c.in(0), s.id, z], { axis }));
});

onnxOp('DynamicQuantizeLinear', (c) => {
  if (c.type(0).dtype !== 'float32') c.fail(`x has element type ${c.type(0).dtype}; only float32 is supported`, 'dtype');
  c.out(...c.emit('DynamicQuantizeLinear', [c.in(0)], {}));
});

// ---------------------------------------------------------------- integer matmul / conv

/** A zero point for MatMulInteger: scalar, or per row (A) / per column (B) of length n. */
function mmZeroPoint(c: OnnxNodeContext, i: number, d: DType, n: number, name: string): TensorId {
  const id = zeroPoint(c, i, d, name);
  const s = c.b.typeOf(id).shape;
  if (numel(s) === 1 && (s.length !== 1 || n !== 1)) return s.length === 0 ? id : c.emit1('Reshape', [id], { shape: [] });
  if (numel(s) === n) return s.length === 1 ? id : c.emit1('Reshape', [id], { shape: [n] });
  return c.fail(`${name} ${fmt(s)} must be a scalar or have ${n} elements`, 'invalid-model');
}

function matmulInteger(c: OnnxNodeContext, a: number, azp: number, b: number, bzp: number): TensorId {
  const ad = requireQ8(c, a, 'A'), bd = requireQ8(c, b, 'B');
  const as = c.type(a).shape, bs = c.type(b).shape;
  const m = as.length >= 2 ? as[as.length - 2]! : 1;
  const n = bs.length >= 2 ? bs[bs.length - 1]! : 1;
  return c.emit1('MatMulInteger', [c.in(a), c.in(b), mmZeroPoint(c, azp, ad, m, 'a_zero_point'), mmZeroPoint(c, bzp, bd, n, 'b_zero_point')]);
}

onnxOp('MatMulInteger', (c) => c.out(matmulInteger(c, 0, 2, 1, 3)));

interface ConvAttrs { group: number; strides: number[]; dilations: number[]; pads: number[] }

function convAttrs(c: OnnxNodeContext, xi: number, wi: number): ConvAttrs {
  const xs = c.type(xi).shape, ws = c.type(wi).shape;
  if (xs.length < 3 || ws.length !== xs.length) c.fail(`x ${fmt(xs)} must be (N, C, spatial…) and w ${fmt(ws)} of the same rank`, 'invalid-model');
  const sp = xs.slice(2);
  const n = sp.length;
  const kernel = c.ints('kernel_shape', ws.slice(2));
  if (kernel.length !== n || kernel.some((k, i) => k !== ws[2 + i])) c.fail(`kernel_shape [${kernel}] does not match w ${fmt(ws)}`, 'invalid-model');
  const ones = new Array<number>(n).fill(1);
  const strides = c.ints('strides', ones), dilations = c.ints('dilations', ones);
  if (strides.length !== n || dilations.length !== n) c.fail(`strides and dilations need ${n} values`, 'invalid-model');
  const autoPad = c.string('auto_pad', 'NOTSET');
  let pads: number[];
  if (autoPad === 'NOTSET' || autoPad === '') pads = c.ints('pads', new Array<number>(2 * n).fill(0));
  else if (autoPad === 'VALID') pads = new Array<number>(2 * n).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const b: number[] = [], e: number[] = [];
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(sp[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - sp[i]!);
      const small = Math.floor(total / 2);
      b.push(autoPad === 'SAME_UPPER' ? small : total - small);
      e.push(autoPad === 'SAME_UPPER' ? total - small : small);
    }
    pads = [...b, ...e];
  } else return c.fail(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  if (pads.length !== 2 * n || pads.some((p) => p < 0)) c.fail(`pads [${pads}] needs ${2 * n} non-negative values`, 'invalid-model');
  return { group: c.int('group', 1), strides, dilations, pads };
}

function convInteger(c: OnnxNodeContext, x: number, xzp: number, w: number, wzp: number): TensorId {
  const xd = requireQ8(c, x, 'x'), wd = requireQ8(c, w, 'w');
  const M = c.type(w).shape[0] ?? 0;
  const attrs = convAttrs(c, x, w);
  const xz = mmZeroPoint(c, xzp, xd, 1, 'x_zero_point');
  if (c.b.typeOf(xz).shape.length !== 0) c.fail('x_zero_point must be a scalar', 'invalid-model');
  return c.emit1('ConvInteger', [c.in(x), c.in(w), xz, mmZeroPoint(c, wzp, wd, M, 'w_zero_point')], { ...attrs });
}

onnxOp('ConvInteger', (c) => c.out(convInteger(c, 0, 2, 1, 3)));

// ---------------------------------------------------------------- QLinear*: integer requantization

/** Values of a constant float32 scale input (QLinear ops need them at conversion time). */
function constScale(c: OnnxNodeContext, i: number, what: string): number[] {
  const v: HostTensor | undefined = c.constOf(i);
  if (!v) return c.fail(`${what} must be a constant: requantization multipliers are derived from the scales at conversion time`);
  if (v.dtype !== 'float32') return c.fail(`${what} has element type ${v.dtype}; only float32 is supported`, 'dtype');
  const out = [...(v.data as Float32Array)];
  for (const s of out) if (!(s > 0) || !Number.isFinite(s)) c.fail(`${what} contains ${s}; scales must be positive and finite`, 'invalid-model');
  return out;
}

function multipliers(c: OnnxNodeContext, ratios: readonly (readonly [number[], number[]])[]): { multipliers: number[]; shifts: number[] } {
  const ms: number[] = [], ss: number[] = [];
  for (const [num, den] of ratios) {
    try {
      const r = fixedPointMultiplier(num, den);
      ms.push(r.multiplier);
      ss.push(r.shift);
    } catch (e) {
      if (e instanceof IrError) c.fail(`cannot requantize: ${e.message}`);
      throw e;
    }
  }
  return { multipliers: ms, shifts: ss };
}

function scalarZp(c: OnnxNodeContext, i: number, what: string): TensorId {
  requireQ8(c, i, what);
  const id = c.in(i);
  const s = c.type(i).shape;
  if (numel(s) !== 1) c.fail(`${what} ${fmt(s)} must be a scalar`, 'invalid-model');
  return s.length === 0 ? id : c.emit1('Reshape', [id], { shape: [] });
}

onnxOp('QLinearMatMul', (c) => {
  // inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
  const acc = matmulInteger(c, 0, 2, 3, 5);
  const as = constScale(c, 1, 'a_scale'), bs = constScale(c, 4, 'b_scale'), ys = constScale(c, 6, 'y_scale');
  if (ys.length !== 1) c.fail('y_scale must be a scalar', 'invalid-model');
  const r = c.b.typeOf(acc).shape.length;
  let axis = 0;
  let ratios: [number[], number[]][];
  if (as.length > 1 && bs.length > 1) return c.fail('per-row a_scale together with per-column b_scale is not supported (the multiplier would be a matrix)');
  if (as.length > 1) { axis = r - 2; ratios = as.map((a) => [[a, bs[0]!], [ys[0]!]]); }
  else if (bs.length > 1) { axis = r - 1; ratios = bs.map((b) => [[as[0]!, b], [ys[0]!]]); }
  else ratios = [[[as[0]!, bs[0]!], [ys[0]!]]];
  if (ratios.length > 1 && (axis < 0 || c.b.typeOf(acc).shape[axis] !== ratios.length)) c.fail(`per-axis scales of length ${ratios.length} do not match the output ${fmt(c.b.typeOf(acc).shape)}`, 'invalid-model');
  const m = multipliers(c, ratios);
  c.out(c.emit1('Requantize', [acc, scalarZp(c, 7, 'y_zero_point')], { ...m, axis }));
});

onnxOp('QLinearConv', (c) => {
  // inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B
  let acc = convInteger(c, 0, 2, 3, 5);
  const M = c.type(3).shape[0]!;
  const xs = constScale(c, 1, 'x_scale'), ws = constScale(c, 4, 'w_scale'), ys = constScale(c, 6, 'y_scale');
  if (xs.length !== 1 || ys.length !== 1) c.fail('x_scale and y_scale must be scalars', 'invalid-model');
  if (ws.length !== 1 && ws.length !== M) c.fail(`w_scale must be a scalar or have ${M} elements`, 'invalid-model');
  if (c.has(8)) {
    const b = c.type(8);
    if (b.dtype !== 'int32') c.fail(`B has element type ${b.dtype}; expected int32`, 'dtype');
    if (numel(b.shape) !== M) c.fail(`B ${fmt(b.shape)} must have ${M} elements`, 'invalid-model');
    const r = c.b.typeOf(acc).shape.length;
    acc = c.emit1('Add', [acc, c.emit1('Reshape', [c.in(8)], { shape: [M, ...new Array<number>(r - 2).fill(1)] })]);
  }
  const m = multipliers(c, ws.map((w) => [[xs[0]!, w], [ys[0]!]] as [number[], number[]]));
  c.out(c.emit1('Requantize', [acc, scalarZp(c, 7, 'y_zero_point')], { ...m, axis: 1 }));
});
