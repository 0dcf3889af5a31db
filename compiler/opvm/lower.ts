/**
 * Lowering of a kernel to OPVM bytecode (docs/opvm.md §6). The kernel's scalar form is built as a
 * binaryen function, optimised (level 3) and flattened into three-address code whose operands are
 * locals or constants (lower-wasm.ts turns it into virtual OPVM code); the virtual registers get
 * machine registers r0 … r28 by graph colouring (lower-regalloc.ts), spilling to 8-byte slots at
 * `spillBase` when they do not fit; emission (lower-emit.ts) encodes the instructions with r29 – r31 as
 * temporaries. The instruction count and spill slots depend only on the kernel, never on the addresses
 * (a caller lowers once to size its code region and again with the final layout).
 */
import binaryen from 'binaryen';
import type { Buffer, Kernel } from '../kernel/ast.ts';
import type { LoopRange } from '../kernel/emit-wasm.ts';
import { FunctionEmitter } from '../kernel/emit-wasm.ts';
import { KERNEL_EXPORT } from '../format.ts';
import { dtypeSize } from '../../converter/ir/dtype.ts';
import { MEM_BYTES, Op } from './isa.ts';
import type { VCode, VInsn } from './lower-vcode.ts';
import { UnsupportedWasm, WasmLowerer } from './lower-wasm.ts';
import { allocate, liveAtEntry } from './lower-regalloc.ts';
import { emitCode, TEMPS } from './lower-emit.ts';

export interface LowerOptions {
  /** Byte address of each kernel buffer in VM memory. */
  addressOf(b: Buffer): number;
  /** Leaf index (= pc) of the first instruction. */
  codeBase: number;
  /** Byte address of spill slot 0 (8-byte aligned); slot i at spillBase + 8i. */
  spillBase: number;
}

/** A wasm loop of the lowered code: the index of its first instruction and its kernel loop's range, when known. */
export interface LoopHead {
  readonly at: number;
  readonly name: string | null;
  readonly range: LoopRange | null;
}

export interface OpvmProgram {
  /** 32 bytes per instruction. */
  code: Uint8Array;
  insns: number;
  /** Every loop's first instruction (the target of its backward branches), with its trip range (step-bound.ts). */
  loops: LoopHead[];
  spillSlots: number;
  /** Registers used: the highest register number written or read + 1, temporaries included. */
  registers: number;
}

/** A kernel the OPVM cannot run as built; the message names the kernel, the wasm instruction, and what to do. */
export class LowerError extends Error {
  override name = 'LowerError';
}

/** binaryen passes after -O3: three-address code with local.get / const operands and few locals. */
export const LOWER_PASSES = ['flatten', 'simplify-locals-nonesting', 'coalesce-locals', 'reorder-locals', 'vacuum'];
/** Registers the allocator may give to values (r29 – r31 are the emitter's temporaries). */
export const VALUE_REGS = TEMPS[0];
const MEM_PAGES = MEM_BYTES / 65536;

/**
 * The optimised, flattened binaryen function of a kernel, handed to `use` with the ranges of the scalar
 * loops the emitter wrote, by wasm loop name (the module is disposed after).
 */
export function withFlatKernel<T>(k: Kernel, addressOf: (b: Buffer) => number, use: (m: binaryen.Module, fn: binaryen.FunctionRef, loops: ReadonlyMap<string, LoopRange>) => T): T {
  const m = new binaryen.Module();
  try {
    m.setFeatures(binaryen.Features.MVP | binaryen.Features.NontrappingFPToInt | binaryen.Features.SignExt);
    m.setMemory(MEM_PAGES, -1, null, [], false, false, 'mem');
    m.addMemoryImport('mem', 'env', 'memory', false);
    const emitter = new FunctionEmitter(m, k, { addressOf }, false);
    emitter.emit(KERNEL_EXPORT);
    m.addFunctionExport(KERNEL_EXPORT, KERNEL_EXPORT);
    if (!m.validate()) throw new LowerError(`kernel ${k.name}: binaryen validation of its scalar form failed; fix the kernel generator`);
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(0);
    m.optimize();
    m.runPasses(LOWER_PASSES);
    return use(m, m.getFunction(KERNEL_EXPORT), emitter.scalarLoops);
  } finally {
    m.dispose();
  }
}

function elemBytes(b: Buffer): number {
  return dtypeSize(b.dtype);
}

/** Drop branches to the very next instruction (e.g. `br` at the end of its block). */
function dropJumpsToNext(code: VCode): VCode {
  const keep = code.insns.map((x, i) => !((x.op === Op.JMP || x.op === Op.BRZ || x.op === Op.BRNZ) && code.labels[x.label] === i + 1));
  return compact(code, keep);
}

/** Keep the marked instructions; a label on a dropped one moves to the next kept one. */
function compact(code: VCode, keep: boolean[]): VCode {
  const newIndex = new Int32Array(code.insns.length + 1);
  let n = 0;
  for (let i = 0; i <= code.insns.length; i++) { newIndex[i] = n; if (i < code.insns.length && keep[i]) n++; }
  return { insns: code.insns.filter((_, i) => keep[i]), labels: code.labels.map((l) => newIndex[l]!), loops: code.loops, vregs: code.vregs };
}

/** wasm locals start at zero: set those read before written, right after the (start, end) moves. */
function zeroLiveIns(code: VCode): VCode {
  const live = liveAtEntry(code);
  if (live.length === 0) return code;
  const inits: VInsn[] = live.map((v) => ({ op: Op.MOV, rd: v, a: null, b: { imm: 0n }, c: null, off: 0, label: -1, depth: 0, what: 'local zero' }));
  const insns = [...code.insns.slice(0, 2), ...inits, ...code.insns.slice(2)];
  return { insns, labels: code.labels.map((l) => (l >= 2 ? l + inits.length : l)), loops: code.loops, vregs: code.vregs };
}

/** The virtual code of a kernel before register allocation (exported for tools and tests). */
/** binaryen's C API functions that its typings leave out (present in binaryen 132's build). */
const C = binaryen as unknown as {
  _BinaryenFunctionGetNumVars(fn: binaryen.FunctionRef): number;
  _BinaryenFunctionGetVar(fn: binaryen.FunctionRef, i: number): binaryen.Type;
  _BinaryenFunctionGetBody(fn: binaryen.FunctionRef): binaryen.ExpressionRef;
};

export function kernelVCode(k: Kernel, addressOf: (b: Buffer) => number): VCode & { ranges: ReadonlyMap<string, LoopRange> } {
  return withFlatKernel(k, addressOf, (m, fn, ranges) => {
    const params = 2;
    const vars = C._BinaryenFunctionGetNumVars(fn);
    for (let i = 0; i < vars; i++) {
      const t = C._BinaryenFunctionGetVar(fn, i);
      if (t !== binaryen.i32 && t !== binaryen.i64 && t !== binaryen.f32) throw new UnsupportedWasm(`local ${params + i} has a type the OPVM lacks (${binaryen.expandType(t).join(',')})`);
    }
    const onAccess = (bytes: number, offset: number, what: string) => {
      if (offset % bytes !== 0) throw new UnsupportedWasm(`${what}: offset ${offset} is not a multiple of the access width ${bytes} (the OPVM traps on unaligned accesses)`);
    };
    const body = C._BinaryenFunctionGetBody(fn);
    return { ...zeroLiveIns(dropJumpsToNext(new WasmLowerer(m, params + vars, onAccess).lower(body))), ranges: new Map(ranges) };
  });
}

export function lowerKernel(k: Kernel, o: LowerOptions): OpvmProgram {
  for (const b of k.buffers) {
    const a = o.addressOf(b);
    if (!Number.isInteger(a) || a < 0 || a + b.numel * elemBytes(b) > MEM_BYTES) throw new LowerError(`kernel ${k.name}: buffer ${b.name} at ${a} lies outside the OPVM memory`);
    if (a % 8 !== 0) throw new LowerError(`kernel ${k.name}: buffer ${b.name} at ${a} is not 8-byte aligned; the OPVM traps on unaligned accesses, place buffers at multiples of 32`);
  }
  if (!Number.isInteger(o.spillBase) || o.spillBase % 8 !== 0 || o.spillBase < 0) throw new LowerError(`kernel ${k.name}: spillBase ${o.spillBase} is not an 8-byte aligned address`);
  if (!Number.isInteger(o.codeBase) || o.codeBase < 0) throw new LowerError(`kernel ${k.name}: codeBase ${o.codeBase} is not a leaf index`);
  let code: VCode & { ranges: ReadonlyMap<string, LoopRange> };
  try {
    code = kernelVCode(k, (b) => o.addressOf(b));
  } catch (e) {
    if (e instanceof UnsupportedWasm) {
      throw new LowerError(`kernel ${k.name}: wasm instruction ${e.message}; write the kernel (compiler/kernels/) with operations the OPVM has (docs/opvm.md §4)`);
    }
    throw e;
  }
  const alloc = allocate(code, VALUE_REGS);
  const { code: bytes, insns, labelAt } = emitCode(code, alloc, o);
  const loops = code.loops.map((l): LoopHead => ({ at: labelAt[l.label]!, name: l.name, range: (l.name !== null && code.ranges.get(l.name)) || null }));
  const usesTemps = insns.some((x) => x.rd >= TEMPS[0] || x.ra >= TEMPS[0] || (!x.immB && x.rb >= TEMPS[0]) || x.rc >= TEMPS[0]);
  return { code: bytes, insns: insns.length, loops, spillSlots: alloc.spillSlots, registers: usesTemps ? 32 : alloc.registers };
}
