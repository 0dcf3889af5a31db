/**
 * A sound upper bound on the number of OPVM steps a node's program executes from its initial state until
 * it halts, for any input data (docs/opvm.md §8). The model commitment carries it in the node's record so
 * the game can refuse a claimed step count above it.
 *
 * Method: the basic blocks of the lowered program form a control-flow graph; it must be reducible (every
 * retreating edge of a depth-first search goes to a dominator), so its cycles are natural loops, properly
 * nested. Every natural loop's header is the first instruction of a wasm `loop` that the kernel emitter
 * wrote for one kernel `for` with constant bounds, so the header runs a known number of times per entry
 * into the loop, whatever the data (`trips`). Bottom up, each loop collapses into one node costing
 * trips × (the longest path through one iteration, inner loops already collapsed); the bound is the
 * longest path from the entry through what remains. Data-dependent `if`s only choose between paths, and
 * the longest one is counted. When an assumption fails (a branch outside the code, a path running off
 * the code's end, an irreducible graph, a loop that is not a kernel loop) the bound is MAX_STEPS = 2^48
 * and `fallback` says why.
 */
import type { Insn } from './isa.ts';
import { MAX_STEPS, Op } from './isa.ts';
import type { LoopRange } from '../kernel/emit-wasm.ts';
import type { Kernel, Stmt } from '../kernel/ast.ts';

/** The (start, end) the OPVM program gives its kernel function (lower-wasm.ts: its first two instructions). */
export const OPVM_START = 0;
export const OPVM_END = 0x7fffffff;

/** A loop head of the lowered program: the index of its first instruction and its header runs per entry. */
export interface LoopTrips {
  readonly at: number;
  /** Header executions per entry into the loop, or null when unknown (no kernel loop range). */
  readonly trips: number | null;
}

export interface StepBound {
  /** Upper bound on the steps from the initial state to the halted state, 1 … MAX_STEPS. */
  readonly steps: number;
  /** Why the bound is MAX_STEPS because the program could not be bounded, or null. */
  readonly fallback: string | null;
  /** Natural loops of the program, and how many of them took the kernel-wide fallback trip count. */
  readonly loops: number;
  readonly unknownLoops: number;
}

/** Header executions per entry of a scalar-form loop over `r` in the OPVM run (emit-wasm.ts scalarLoop). */
export function loopTrips(r: LoopRange): number {
  const lo = r.split ? Math.max(OPVM_START, r.lo) : r.lo;
  const hi = r.split ? Math.min(OPVM_END, r.hi) : r.hi;
  return Math.max(0, hi - lo);
}

/** 1 + the largest trip count of any `for` in the kernel: the trip count used for a loop without a known range. */
export function kernelFallbackTrips(k: Kernel): number {
  let max = 0;
  const visit = (ss: readonly Stmt[]) => {
    for (const s of ss) {
      if (s.kind === 'for') { max = Math.max(max, s.hi - s.lo); visit(s.body); }
      if (s.kind === 'if') { visit(s.then); visit(s.else); }
    }
  };
  visit(k.body);
  return max + 1;
}

class Unbounded extends Error {}

const CAP = MAX_STEPS;

interface Cfg {
  /** First instruction index of each block; block b spans [start[b], start[b + 1]). */
  start: number[];
  end: number[];
  succ: number[][];
}

function buildCfg(insns: readonly Insn[], codeBase: number): Cfg {
  const n = insns.length;
  if (n === 0) throw new Unbounded('the program is empty');
  const lead = new Uint8Array(n + 1);
  lead[0] = 1;
  const targetOf = (i: number): number => {
    const t = insns[i]!.target - codeBase;
    if (!(t >= 0 && t < n)) throw new Unbounded(`instruction ${i} branches to pc ${insns[i]!.target}, outside the code`);
    return t;
  };
  insns.forEach((x, i) => {
    if (x.op === Op.JMP || x.op === Op.BRZ || x.op === Op.BRNZ) { lead[targetOf(i)] = 1; lead[i + 1] = 1; }
    if (x.op === Op.HALT || x.op === Op.UNREACHABLE) lead[i + 1] = 1;
  });
  const start: number[] = [];
  for (let i = 0; i < n; i++) if (lead[i]) start.push(i);
  const blockOf = new Int32Array(n);
  start.forEach((s, b) => { const e = b + 1 < start.length ? start[b + 1]! : n; for (let i = s; i < e; i++) blockOf[i] = b; });
  const end = start.map((_, b) => (b + 1 < start.length ? start[b + 1]! : n));
  const succ = start.map((_, b) => {
    const last = end[b]! - 1;
    const x = insns[last]!;
    const next = (): number => {
      if (last + 1 >= n) throw new Unbounded(`instruction ${last} (the last) can continue past the end of the code`);
      return blockOf[last + 1]!;
    };
    switch (x.op) {
      case Op.JMP: return [blockOf[targetOf(last)]!];
      case Op.BRZ: case Op.BRNZ: return [next(), blockOf[targetOf(last)]!];
      case Op.HALT: case Op.UNREACHABLE: return [];
      default: return [next()];
    }
  });
  return { start, end, succ };
}

/** Depth-first order from block 0 (iterative): preorder and postorder numbers, −1 when unreachable. */
function dfs(cfg: Cfg): { pre: Int32Array; post: Int32Array; rpo: number[] } {
  const nb = cfg.start.length;
  const pre = new Int32Array(nb).fill(-1), post = new Int32Array(nb).fill(-1);
  const order: number[] = [];
  const stack: [number, number][] = [[0, 0]];
  let p = 0, q = 0;
  pre[0] = p++;
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [b, k] = top;
    const ss = cfg.succ[b]!;
    if (k < ss.length) {
      top[1]++;
      const s = ss[k]!;
      if (pre[s] === -1) { pre[s] = p++; stack.push([s, 0]); }
    } else {
      post[b] = q++;
      order.push(b);
      stack.pop();
    }
  }
  return { pre, post, rpo: order.reverse() };
}

/** Immediate dominators (Cooper, Harvey, Kennedy), over the reachable blocks. */
function dominators(cfg: Cfg, rpo: readonly number[], post: Int32Array): Int32Array {
  const nb = cfg.start.length;
  const preds: number[][] = Array.from({ length: nb }, () => []);
  for (const b of rpo) for (const s of cfg.succ[b]!) preds[s]!.push(b);
  const idom = new Int32Array(nb).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (post[a]! < post[b]!) a = idom[a]!;
      while (post[b]! < post[a]!) b = idom[b]!;
    }
    return a;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const b of rpo) {
      if (b === 0) continue;
      let d = -1;
      for (const p of preds[b]!) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
      if (d !== idom[b]) { idom[b] = d; changed = true; }
    }
  }
  return idom;
}

function dominates(idom: Int32Array, a: number, b: number): boolean {
  for (;;) {
    if (a === b) return true;
    if (b === 0) return false;
    b = idom[b]!;
  }
}

interface Loop {
  header: number;
  body: Set<number>;
  parent: Loop | null;
  trips: bigint;
}

/**
 * Step bound of a lowered program. `loops` are the wasm loop heads (instruction indices) with their header
 * runs per entry; `fallbackTrips` is used for a natural loop whose head has no known trip count.
 */
export function programStepBound(insns: readonly Insn[], codeBase: number, loops: readonly LoopTrips[], fallbackTrips: number): StepBound {
  try {
    return analyse(insns, codeBase, loops, fallbackTrips);
  } catch (e) {
    if (!(e instanceof Unbounded)) throw e;
    return { steps: Number(CAP), fallback: e.message, loops: 0, unknownLoops: 0 };
  }
}

function analyse(insns: readonly Insn[], codeBase: number, heads: readonly LoopTrips[], fallbackTrips: number): StepBound {
  const cfg = buildCfg(insns, codeBase);
  const { pre, post, rpo } = dfs(cfg);
  const idom = dominators(cfg, rpo, post);
  const isAncestor = (a: number, b: number) => pre[a]! <= pre[b]! && post[a]! >= post[b]!;
  const preds: number[][] = cfg.start.map(() => []);
  for (const b of rpo) for (const s of cfg.succ[b]!) preds[s]!.push(b);

  // Back edges (reducibility: every retreating edge targets a dominator) and natural loops by header.
  const byHeader = new Map<number, Set<number>>();
  for (const u of rpo) {
    for (const h of cfg.succ[u]!) {
      if (!isAncestor(h, u)) continue;
      if (!dominates(idom, h, u)) throw new Unbounded(`the control-flow graph is irreducible (edge from instruction ${cfg.end[u]! - 1} to ${cfg.start[h]})`);
      const body = byHeader.get(h) ?? new Set([h]);
      byHeader.set(h, body);
      const work = [u];
      while (work.length) {
        const x = work.pop()!;
        if (body.has(x)) continue;
        body.add(x);
        for (const p of preds[x]!) work.push(p);
      }
    }
  }

  // Trip counts: the wasm loops whose first instruction is the header's (nested loops that start at the
  // same instruction multiply).
  const headsAt = new Map<number, (number | null)[]>();
  for (const l of heads) headsAt.set(l.at, [...(headsAt.get(l.at) ?? []), l.trips]);
  let unknownLoops = 0;
  const loops: Loop[] = [...byHeader].map(([header, body]) => {
    const ts = headsAt.get(cfg.start[header]!);
    if (!ts) throw new Unbounded(`a loop at instruction ${cfg.start[header]} is not a wasm loop of the kernel`);
    let trips = 1n;
    for (const t of ts) {
      if (t === null) unknownLoops++;
      trips *= BigInt(t ?? fallbackTrips);
    }
    return { header, body, parent: null, trips };
  });
  loops.sort((a, b) => a.body.size - b.body.size);
  // Innermost loop of each block, and each loop's parent (the smallest loop strictly containing it).
  const inner = new Map<number, Loop>();
  for (const l of loops) for (const b of l.body) if (!inner.has(b)) inner.set(b, l);
  for (const l of loops) l.parent = loops.find((o) => o !== l && o.body.size > l.body.size && o.body.has(l.header)) ?? null;
  for (const l of loops) {
    for (const b of l.body) {
      // Proper nesting: every block of l lies in l's parent too.
      if (l.parent && !l.parent.body.has(b)) throw new Unbounded(`loops at instructions ${cfg.start[l.header]} and ${cfg.start[l.parent.header]} overlap without nesting`);
    }
  }

  /** The node representing block b inside region `r` (a loop, or null for the whole program). */
  const rep = (b: number, r: Loop | null): number | Loop => {
    let l = inner.get(b) ?? null;
    if (l === r) return b;
    while (l !== null && l.parent !== r) l = l.parent;
    if (l === null) throw new Unbounded(`block at instruction ${cfg.start[b]} is not inside the region being bounded`);
    return l;
  };
  const cost = new Map<Loop, bigint>();
  const cap = (x: bigint) => (x > CAP ? CAP + 1n : x);

  /** Longest path (in steps) from node `x` within region `r`, a back edge to r's header ending the path. */
  const longest = (start: number | Loop, r: Loop | null): bigint => {
    const memo = new Map<number | Loop, bigint>();
    const onStack = new Set<number | Loop>();
    const go = (x: number | Loop): bigint => {
      const m = memo.get(x);
      if (m !== undefined) return m;
      if (onStack.has(x)) throw new Unbounded('a cycle that no loop accounts for');
      onStack.add(x);
      const blocks = typeof x === 'number' ? [x] : [...x.body];
      const own = typeof x === 'number' ? BigInt(cfg.end[x]! - cfg.start[x]!) : cost.get(x)!;
      let best = 0n;
      for (const b of blocks) {
        for (const s of cfg.succ[b]!) {
          if (r !== null && (s === r.header || !r.body.has(s))) continue;
          const y = rep(s, r);
          if (y === x) continue;
          const v = go(y);
          if (v > best) best = v;
        }
      }
      onStack.delete(x);
      const total = cap(own + best);
      memo.set(x, total);
      return total;
    };
    return go(start);
  };

  for (const l of loops) cost.set(l, cap(l.trips * longest(l.header, l)));
  const steps = longest(rep(0, null), null);
  if (steps > CAP) return { steps: Number(CAP), fallback: `the longest path exceeds MAX_STEPS = 2^48`, loops: loops.length, unknownLoops };
  return { steps: Number(steps), fallback: null, loops: loops.length, unknownLoops };
}
