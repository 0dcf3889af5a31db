/**
 * Canonical binary encoding of a graph's semantics (docs/ir.md §Encoding) and the model hash.
 * Names, doc strings and producer metadata are not encoded; everything that can change a result is:
 * dtypes, shapes, the node list with ops, wiring and attributes, and each constant's keccak256.
 */
import type { AttrKind, AttrValue, Graph, TensorId } from './types.ts';
import { dtypeCode, isDType } from './dtype.ts';
import { getOp } from './op-registry.ts';
import type { Hash32 } from './keccak.ts';
import { keccak256 } from './keccak.ts';
import { CANONICAL_NAN_BITS } from './host-tensor.ts';

export const ENCODING_MAGIC = 'OPMLIR';
export const ENCODING_VERSION = 1;
const ORIGIN_CODE = { input: 0, constant: 1, node: 2 } as const;
const KIND_CODE: Record<AttrKind, number> = { int: 1, float: 2, ints: 3, floats: 4, string: 5, dtype: 6 };

class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private len = 0;
  private ensure(n: number) {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number) { this.ensure(1); this.view.setUint8(this.len, v); this.len += 1; }
  u32(v: number) { this.ensure(4); this.view.setUint32(this.len, v, true); this.len += 4; }
  i64(v: number) { this.ensure(8); this.view.setBigInt64(this.len, BigInt(v), true); this.len += 8; }
  f32(v: number) {
    this.ensure(4);
    if (v !== v) this.view.setUint32(this.len, CANONICAL_NAN_BITS, true);
    else this.view.setFloat32(this.len, v, true);
    this.len += 4;
  }
  bytes(b: Uint8Array) { this.ensure(b.length); this.buf.set(b, this.len); this.len += b.length; }
  str(s: string) { const b = new TextEncoder().encode(s); this.u32(b.length); this.bytes(b); }
  done(): Uint8Array { return this.buf.slice(0, this.len); }
}

function encodeAttr(w: ByteWriter, kind: AttrKind, v: AttrValue): void {
  w.u8(KIND_CODE[kind]);
  switch (kind) {
    case 'int': w.i64(v as number); break;
    case 'float': w.f32(v as number); break;
    case 'ints': { const a = v as readonly number[]; w.u32(a.length); for (const x of a) w.i64(x); break; }
    case 'floats': { const a = v as readonly number[]; w.u32(a.length); for (const x of a) w.f32(x); break; }
    case 'string': w.str(v as string); break;
    case 'dtype': {
      if (typeof v !== 'string' || !isDType(v)) throw new Error(`not a dtype: ${String(v)}`);
      w.u8(dtypeCode(v));
      break;
    }
  }
}

/**
 * Encode the graph. `constantHashes` holds keccak256 of each constant's bytes (as written to the
 * weights file); the encoding needs no weight bytes itself.
 */
export function encodeGraph(g: Graph, constantHashes: ReadonlyMap<TensorId, Uint8Array>): Uint8Array {
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode(ENCODING_MAGIC));
  w.u8(0);
  w.u8(ENCODING_VERSION);
  w.u32(g.tensors.length);
  for (const t of g.tensors) {
    w.u8(dtypeCode(t.dtype));
    w.u8(ORIGIN_CODE[t.origin]);
    w.u32(t.shape.length);
    for (const d of t.shape) w.i64(d);
  }
  w.u32(g.inputs.length);
  for (const i of g.inputs) w.u32(i);
  w.u32(g.outputs.length);
  for (const o of g.outputs) w.u32(o);
  const constIds = [...g.constants.keys()].sort((a, b) => a - b);
  w.u32(constIds.length);
  for (const id of constIds) {
    const h = constantHashes.get(id);
    if (!h || h.length !== 32) throw new Error(`no keccak256 for constant ${g.tensors[id]?.name ?? id}`);
    w.u32(id);
    w.bytes(h);
  }
  w.u32(g.nodes.length);
  for (const n of g.nodes) {
    const def = getOp(n.op);
    w.str(n.op);
    w.u32(n.inputs.length);
    for (const i of n.inputs) w.u32(i);
    w.u32(n.outputs.length);
    for (const o of n.outputs) w.u32(o);
    const keys = Object.keys(def.attrs).sort();
    w.u32(keys.length);
    for (const k of keys) {
      w.str(k);
      encodeAttr(w, def.attrs[k]!, n.attrs[k]!);
    }
  }
  return w.done();
}

export function modelHash(g: Graph, constantHashes: ReadonlyMap<TensorId, Uint8Array>): Hash32 {
  return keccak256(encodeGraph(g, constantHashes));
}
