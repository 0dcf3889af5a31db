/**
 * Which nodes the host kernels run (runtime/native/cpu.ts), and each one's call over its arena memory:
 * MatMul whose B is a packed constant, 2-D float32 Conv, and 2-D 8-bit ConvInteger. Every other node, and
 * every node when the host kernels are not available, runs its WebAssembly kernel, with the same bits.
 */
import type { Graph, Node, TensorId, TensorInfo } from '../../converter/ir/types.ts';
import { numel } from '../../converter/ir/types.ts';
import { memoryOfNode, offsetIn } from '../../compiler/arena.ts';
import type { CompiledManifest } from '../../compiler/format.ts';
import type { PackedConstant } from '../../compiler/native-layout.ts';
import type { HostKernels } from './cpu.ts';
import { HOST_CONV_MAX_KW } from './cpu.ts';

/** Runs one node, splitting its outputs over `threads`. */
export type HostCall = (threads: number) => void;

/** Where a node's tensors lie: its memory's view and each tensor's byte offset in it. */
interface Site {
  view: Uint8Array;
  at(id: TensorId): number | undefined;
}

/** hostCalls(…)[i]: node i's host call, or undefined when its WebAssembly kernel runs. */
export function hostCalls(g: Graph, m: CompiledManifest, views: readonly Uint8Array[], host: HostKernels | undefined, packed: ReadonlyMap<number, PackedConstant>): (HostCall | undefined)[] {
  return g.nodes.map((n, i) => {
    if (!host) return undefined;
    const mi = memoryOfNode(m.arena, i);
    const mem = m.arena.memories[mi]!;
    const site: Site = { view: views[mi]!, at: (id) => offsetIn(mem, id) };
    switch (n.op) {
      case 'MatMul': return matmulCall(g, n, host, packed, site);
      case 'Conv': return convCall(g, n, host, site);
      case 'ConvInteger': return convIntegerCall(g, n, host, site);
      default: return undefined;
    }
  });
}

/** Each offset, or undefined when a tensor has no slot in the node's memory. */
function offsets(site: Site, ids: readonly TensorId[]): number[] | undefined {
  const o = ids.map((id) => site.at(id));
  return o.every((x) => x !== undefined) ? (o as number[]) : undefined;
}

/**
 * MatMul: float32 A, B a packed constant (so [K, n], n a multiple of the panel); A's leading dimensions and
 * rows are one run of rows, since B is shared by all of them.
 */
function matmulCall(g: Graph, n: Node, host: HostKernels, packed: ReadonlyMap<number, PackedConstant>, site: Site): HostCall | undefined {
  const p = packed.get(n.inputs[1]!);
  const ta = g.tensors[n.inputs[0]!]!;
  if (!p || p.panel !== host.panel || ta.dtype !== 'float32' || ta.shape.at(-1) !== p.rows) return undefined;
  const o = offsets(site, [n.inputs[0]!, n.inputs[1]!, n.outputs[0]!]);
  if (!o) return undefined;
  const [a, b, y] = o as [number, number, number];
  const rows = numel(ta.shape) / p.rows;
  return (threads) => host.matmul(site.view, a, b, y, rows, p.rows, p.cols, threads);
}

/** A 2-D convolution's geometry in host.h's ConvGeo order, or undefined when it is not 2-D. */
function convGeometry(g: Graph, n: Node): number[] | undefined {
  const [tx, tw] = [g.tensors[n.inputs[0]!]!, g.tensors[n.inputs[1]!]!];
  const ty = g.tensors[n.outputs[0]!]!;
  const strides = n.attrs.strides as number[] | undefined, dil = n.attrs.dilations as number[] | undefined, pads = n.attrs.pads as number[] | undefined;
  const group = n.attrs.group as number | undefined;
  if (tx.shape.length !== 4 || !strides || !dil || !pads || !group) return undefined;
  const [N, C, H, W] = tx.shape as readonly number[] as [number, number, number, number];
  const [M, , KH, KW] = tw.shape as readonly number[] as [number, number, number, number];
  const [, , OH, OW] = ty.shape as readonly number[] as [number, number, number, number];
  return [N, C, H, W, M, group, KH, KW, OH, OW, strides[0]!, strides[1]!, pads[0]!, pads[1]!, dil[0]!, dil[1]!];
}

/**
 * Conv (runtime/native/cpu/conv.cc): 2-D, float32, a kernel at most HOST_CONV_MAX_KW wide. Each output is
 * the scalar kernel's sum in the same order (docs/kernels.md "Host Conv").
 */
function convCall(g: Graph, n: Node, host: HostKernels, site: Site): HostCall | undefined {
  const conv = host.conv;
  const geo = convGeometry(g, n);
  const float = (id: TensorId) => g.tensors[id]!.dtype === 'float32';
  if (!conv || !geo || geo[7]! > HOST_CONV_MAX_KW || !n.inputs.every(float) || !float(n.outputs[0]!)) return undefined;
  const o = offsets(site, [n.inputs[0]!, n.inputs[1]!, n.outputs[0]!]);
  const b = n.inputs.length > 2 ? site.at(n.inputs[2]!) : -1;
  if (!o || b === undefined) return undefined;
  const params = Float64Array.from([o[0]!, o[1]!, b, o[2]!, ...geo]);
  return (threads) => conv(site.view, params, threads);
}

/** ConvInteger (runtime/native/cpu/conv_integer.cc): 2-D, 8-bit x and w with their zero points, int32 y. */
function convIntegerCall(g: Graph, n: Node, host: HostKernels, site: Site): HostCall | undefined {
  const convInteger = host.convInteger;
  const geo = convGeometry(g, n);
  if (!convInteger || !geo || n.inputs.length !== 4) return undefined;
  const [tx, tw, txz, twz] = n.inputs.map((id) => g.tensors[id]!) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
  const byte = (d: string) => d === 'uint8' || d === 'int8';
  const [N, C, H, W, M, , KH, KW, OH, OW, sh, sw, ph, pw, dh, dw] = geo as number[] as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
  if (!byte(tx.dtype) || !byte(tw.dtype) || txz.dtype !== tx.dtype || twz.dtype !== tw.dtype || g.tensors[n.outputs[0]!]!.dtype !== 'int32') return undefined;
  if (numel(txz.shape) !== 1 || (numel(twz.shape) !== 1 && numel(twz.shape) !== M)) return undefined;
  // the kernel copies x into a zero-padded int32 plane: at most 2^26 elements (conv_integer.cc PLANE_MAX)
  const Hp = Math.max(H + ph, (OH - 1) * sh + (KH - 1) * dh + 1);
  const Wp = Math.max(W + pw, (Math.ceil(OW / 8) * 8 - 1) * sw + (KW - 1) * dw + 1);
  if (N * C * Hp * Wp > 2 ** 26) return undefined;
  const o = offsets(site, [...n.inputs, n.outputs[0]!]);
  if (!o) return undefined;
  const params = Float64Array.from([...o, ...geo, tx.dtype === 'int8' ? 1 : 0, tw.dtype === 'int8' ? 1 : 0, numel(twz.shape) > 1 ? 1 : 0]);
  return (threads) => convInteger(site.view, params, threads);
}
