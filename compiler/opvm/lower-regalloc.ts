/**
 * Register allocation for virtual OPVM code: liveness over the instruction graph, an interference
 * graph (types ignored: an i32, i64 and f32 value may share a register), conservative coalescing of
 * copies (Briggs), then Chaitin–Briggs colouring with K registers. Values that find no register live in
 * 8-byte spill slots; their weight is the static count of their uses and definitions, ×8 per loop
 * nesting level. When anything spills, one register (the last) is kept at zero as the spill base, so
 * K drops by one. Everything is a function of the code's structure, never of its constants.
 */
import type { VCode } from './lower-vcode.ts';
import { isReg, successors, usesOf } from './lower-vcode.ts';
import { Op } from './isa.ts';

export interface Allocation {
  /** Per virtual register: a register number ≥ 0, or −1 − slot for a spill slot, or null when never used. */
  readonly where: (number | null)[];
  readonly spillSlots: number;
  /** The register holding zero for spill addressing, or −1 when nothing spills. */
  readonly zeroReg: number;
  /** Registers used (highest register number + 1, including the zero register). */
  readonly registers: number;
}

/** Bit sets over virtual registers. */
class Bits {
  constructor(readonly w: Uint32Array) {}
  static make(n: number): Bits { return new Bits(new Uint32Array((n + 31) >>> 5)); }
  has(i: number): boolean { return (this.w[i >>> 5]! & (1 << (i & 31))) !== 0; }
  add(i: number): void { this.w[i >>> 5]! |= 1 << (i & 31); }
  del(i: number): void { this.w[i >>> 5]! &= ~(1 << (i & 31)); }
  *items(): Generator<number> {
    for (let k = 0; k < this.w.length; k++) {
      let x = this.w[k]!;
      while (x) { const b = 31 - Math.clz32(x & -x); yield (k << 5) | b; x &= x - 1; }
    }
  }
}

/** Live-out sets per instruction (fixpoint of backward dataflow). */
export function liveness(code: VCode): Bits[] {
  const n = code.insns.length;
  const words = (code.vregs + 31) >>> 5;
  const liveIn = Array.from({ length: n }, () => Bits.make(code.vregs));
  const liveOut = Array.from({ length: n }, () => Bits.make(code.vregs));
  const succ = code.insns.map((_, i) => successors(code, i).filter((s) => s < n));
  const uses = code.insns.map(usesOf);
  const tmp = new Uint32Array(words);
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      const out = liveOut[i]!.w;
      for (const s of succ[i]!) {
        const si = liveIn[s]!.w;
        for (let k = 0; k < words; k++) out[k]! |= si[k]!;
      }
      const inn = liveIn[i]!.w;
      const rd = code.insns[i]!.rd;
      for (let k = 0; k < words; k++) tmp[k] = out[k]!;
      if (rd >= 0) tmp[rd >>> 5]! &= ~(1 << (rd & 31));
      for (const u of uses[i]!) tmp[u >>> 5]! |= 1 << (u & 31);
      for (let k = 0; k < words; k++) if (tmp[k] !== inn[k]) { inn[k] = tmp[k]!; changed = true; }
    }
  }
  return liveOut;
}

/** Virtual registers read before any write on some path from the entry (wasm locals start at zero). */
export function liveAtEntry(code: VCode): number[] {
  if (code.insns.length === 0) return [];
  const out = liveness(code)[0]!;
  const first = code.insns[0]!;
  const live = new Set(out.items());
  if (first.rd >= 0) live.delete(first.rd);
  for (const u of usesOf(first)) live.add(u);
  return [...live].sort((a, b) => a - b);
}

export function allocate(code: VCode, maxRegs: number): Allocation {
  const first = colour(code, maxRegs);
  if (first.spillSlots === 0) return first;
  return colour(code, maxRegs - 1);
}

function colour(code: VCode, K: number): Allocation {
  const n = code.vregs;
  const liveOut = liveness(code);
  // interference
  const adj: Set<number>[] = Array.from({ length: n }, () => new Set());
  const weight = new Float64Array(n);
  const mentioned = new Uint8Array(n);
  const copies: { d: number; s: number; w: number }[] = [];
  code.insns.forEach((ins, i) => {
    const w = 8 ** Math.min(ins.depth, 12);
    for (const u of usesOf(ins)) { weight[u]! += w; mentioned[u] = 1; }
    if (ins.rd < 0) return;
    const d = ins.rd;
    weight[d]! += w;
    mentioned[d] = 1;
    const src = ins.op === Op.MOV && isReg(ins.b) ? ins.b.reg : -1;
    if (src >= 0 && src !== d) copies.push({ d, s: src, w });
    for (const v of liveOut[i]!.items()) {
      if (v === d || v === src) continue;
      adj[d]!.add(v);
      adj[v]!.add(d);
    }
  });
  // coalescing (union–find over nodes), heaviest copies first, Briggs' conservative test
  const rep = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => { while (rep[x] !== x) { rep[x] = rep[rep[x]!]!; x = rep[x]!; } return x; };
  copies.sort((x, y) => y.w - x.w || x.d - y.d || x.s - y.s);
  for (const { d, s } of copies) {
    const a = find(d), b = find(s);
    if (a === b || adj[a]!.has(b)) continue;
    const union = new Set<number>([...adj[a]!, ...adj[b]!]);
    let significant = 0;
    for (const v of union) {
      const deg = adj[v]!.size - (adj[v]!.has(a) && adj[v]!.has(b) ? 1 : 0);
      if (deg >= K) significant++;
    }
    if (significant >= K) continue;
    const [keep, gone] = a < b ? [a, b] : [b, a];
    rep[gone] = keep;
    for (const v of adj[gone]!) { adj[v]!.delete(gone); adj[v]!.add(keep); adj[keep]!.add(v); }
    adj[gone]!.clear();
    weight[keep]! += weight[gone]!;
    mentioned[keep] = mentioned[keep]! | mentioned[gone]!;
  }
  const nodes: number[] = [];
  for (let v = 0; v < n; v++) if (find(v) === v && mentioned[v]) nodes.push(v);
  // simplify / select (Chaitin–Briggs, optimistic)
  const degree = new Int32Array(n);
  for (const v of nodes) degree[v] = adj[v]!.size;
  const removed = new Uint8Array(n);
  const stack: number[] = [];
  let remaining = nodes.length;
  while (remaining > 0) {
    let pick = -1;
    for (const v of nodes) if (!removed[v] && degree[v]! < K) { pick = v; break; }
    if (pick < 0) {
      let best = Infinity;
      for (const v of nodes) {
        if (removed[v]) continue;
        const cost = weight[v]! / Math.max(1, degree[v]!);
        if (cost < best) { best = cost; pick = v; }
      }
    }
    removed[pick] = 1;
    remaining--;
    stack.push(pick);
    for (const u of adj[pick]!) if (!removed[u]) degree[u]!--;
  }
  const colourOf = new Int32Array(n).fill(-1);
  const spilled: number[] = [];
  while (stack.length) {
    const v = stack.pop()!;
    let used = 0n;
    for (const u of adj[v]!) if (colourOf[u]! >= 0) used |= 1n << BigInt(colourOf[u]!);
    let c = 0;
    while (c < K && (used >> BigInt(c)) & 1n) c++;
    if (c < K) colourOf[v] = c;
    else spilled.push(v);
  }
  // spill slots: spilled values that do not interfere share a slot
  const slotOf = new Map<number, number>();
  let slots = 0;
  spilled.sort((a, b) => a - b);
  for (const v of spilled) {
    const busy = new Set<number>();
    for (const u of adj[v]!) { const s = slotOf.get(u); if (s !== undefined) busy.add(s); }
    let s = 0;
    while (busy.has(s)) s++;
    slotOf.set(v, s);
    slots = Math.max(slots, s + 1);
  }
  const where: (number | null)[] = new Array(n).fill(null);
  let top = 0;
  for (let v = 0; v < n; v++) {
    const r = find(v);
    if (!mentioned[r]) continue;
    const s = slotOf.get(r);
    where[v] = s !== undefined ? -1 - s : colourOf[r]!;
    if (s === undefined) top = Math.max(top, colourOf[r]! + 1);
  }
  const zeroReg = slots > 0 ? K : -1;
  return { where, spillSlots: slots, zeroReg, registers: slots > 0 ? K + 1 : top };
}
