/**
 * Compiled bundle on disk (docs/kernels.md): the graph bundle's files plus, per node, one native kernel
 * and one OPVM program, and a manifest with the arena layout, every kernel's hash, each OPVM program's
 * memory layout and code root, and the model commitment.
 */
import type { ArenaMemory } from './arena.ts';
import type { PackedConstant } from './native-layout.ts';

export const COMPILED_FORMAT = 'opml-compiled';
/**
 * 4: OPVM nodes carry a step bound, and records and the model commitment are version 2 (docs/commitments.md).
 * 5: the native arena may span several memories (`arena.memories`, `arena.homes`).
 * 6: MatMul's constant B may be held packed in the native arena (`packed`).
 */
export const COMPILED_VERSION = 6;
export const OPVM_DIR = 'opvm';
export const MANIFEST_FILE = 'manifest.json';
export const KERNEL_DIR = 'kernels';
/** Name of the function every kernel module exports: run(start, end). */
export const KERNEL_EXPORT = 'run';

export interface CompiledNode {
  index: number;
  op: string;
  name: string;
  /** Native kernel file, relative to the bundle. */
  native: string;
  /** keccak256 of the native .wasm, 0x-hex. */
  nativeHash: string;
  /** Extent of the kernel's top-level parallel loop (split across threads), if any. */
  splitExtent: number | null;
  /** Estimated statement executions (decides whether splitting across threads pays). */
  work: number;
  compileMs: number;
  /** The node's OPVM program (absent when compiled without --vm, e.g. in native-only conformance runs). */
  vm?: CompiledVmNode;
}

export interface CompiledVmRegion {
  kind: 'code' | 'input' | 'output' | 'scratch';
  index: number;
  height: number;
  address: number;
  bytes: number;
}

export interface CompiledVmNode {
  /** OPVM code file (32 bytes per instruction), relative to the bundle. */
  code: string;
  /** Data root of the code (its region root), 0x-hex. */
  codeRoot: string;
  insns: number;
  /** Leaf index of the first instruction (the initial pc). */
  codeBase: number;
  registers: number;
  spillSlots: number;
  layoutHash: string;
  /**
   * Most OPVM steps the program takes from its initial state to HALT, for any input data (docs/opvm.md §8);
   * MAX_STEPS = 2^48 when the program could not be bounded. Part of the node's record.
   */
  stepBound: number;
  /** Present when the bound is weaker than the analysis normally gives: why (the compile command prints it). */
  stepBoundNote?: string;
  /** In address order (docs/opvm.md §7). */
  regions: CompiledVmRegion[];
  /** keccak256(record) of docs/commitments.md, 0x-hex. */
  record: string;
}

export interface CompiledModelCommitment {
  commitment: string;
  recordsRoot: string;
  constantState: string;
  io: string;
}

export interface CompiledManifest {
  format: typeof COMPILED_FORMAT;
  version: number;
  modelHash: string;
  compiler: string;
  /**
   * The native arena (compiler/arena.ts): one or more memories, each run by consecutive nodes. A node's
   * kernel imports its memory, shared (so worker threads can share it), of exactly that memory's `pages`.
   * `offsets`/`homes`: each tensor's offset in its home memory; `bytes`/`pages`: totals.
   */
  arena: { offsets: number[]; homes: number[]; memories: ArenaMemory[]; scratchOffset: number; scratchBytes: number; bytes: number; pages: number };
  /**
   * Constants the native arena holds in a native-only layout (compiler/native-layout.ts: MatMul's B
   * panel-major); the executor packs them on load and unpacks them when a tensor is read back.
   */
  packed: PackedConstant[];
  nodes: CompiledNode[];
  /** docs/commitments.md; absent when compiled without OPVM programs. */
  model?: CompiledModelCommitment;
}
