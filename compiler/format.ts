/**
 * Compiled bundle on disk (docs/compiled-bundle.md): the graph bundle's files plus one native kernel
 * per node and a manifest with the arena layout and every kernel's hash.
 */
export const COMPILED_FORMAT = 'opml-compiled';
export const COMPILED_VERSION = 2;
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
}

export interface CompiledManifest {
  format: typeof COMPILED_FORMAT;
  version: number;
  modelHash: string;
  compiler: string;
  /** Kernels import a shared memory of exactly `pages` pages (so worker threads can share the arena). */
  arena: { offsets: number[]; scratchOffset: number; scratchBytes: number; bytes: number; pages: number };
  nodes: CompiledNode[];
}
