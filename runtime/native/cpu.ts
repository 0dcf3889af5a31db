/**
 * The optional host kernels (runtime/native/cpu/*.cc, built by `npm install` through bin/build-native.mjs):
 * MatMul over a packed B, 2-D Conv and ConvInteger in 256-bit AVX2 lanes, each output by the same operations
 * in the same order as the WebAssembly kernel and the OPVM (docs/kernels.md "Host MatMul", "Host Conv").
 * Absent when the addon was not built, the CPU has no AVX2, or OPML_NATIVE_CPU=0; the executor then runs
 * the WebAssembly kernels.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface HostKernels {
  /** y = A·B at byte offsets of `memory`: A [rows][K], B panel-major [n/16][K][16], y [rows][n]; `threads` split the panels. */
  matmul(memory: Uint8Array, aOffset: number, bOffset: number, yOffset: number, rows: number, K: number, n: number, threads: number): void;
  readonly panel: number;
  /**
   * 2-D float32 Conv (runtime/native/cpu/conv.cc) at byte offsets of `memory`; `params` = [xOffset, wOffset,
   * bOffset (−1: no bias), yOffset, N, C, H, W, M, group, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw]; `threads`
   * split the output rows. Absent from an addon built before it existed.
   */
  conv?(memory: Uint8Array, params: Float64Array, threads: number): void;
  /**
   * 2-D ConvInteger (runtime/native/cpu/conv_integer.cc), 8-bit x and w, int32 y; `params` = [xOffset, wOffset,
   * xzOffset, wzOffset, yOffset, N, C, H, W, M, group, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, xSigned, wSigned,
   * wzPerChannel]. Absent from an addon built before it existed.
   */
  convInteger?(memory: Uint8Array, params: Float64Array, threads: number): void;
}

/** The widest kernel (KW) the host Conv takes. */
export const HOST_CONV_MAX_KW = 16;

interface Addon extends HostKernels { readonly available: boolean }

let cached: HostKernels | null | undefined;

/** The host kernels, or undefined when they are not available here (see the module comment). */
export function hostKernels(): HostKernels | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  if (process.env.OPML_NATIVE_CPU === '0') return undefined;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // runtime/native/ in the repository, dist/runtime/native/ in the package
  const file = [path.join(here, '..', '..', 'build', 'Release', 'opml_cpu.node'), path.join(here, '..', '..', '..', 'build', 'Release', 'opml_cpu.node')].find((f) => fs.existsSync(f));
  if (!file) return undefined;
  try {
    const addon = createRequire(import.meta.url)(file) as Addon;
    if (addon.available) cached = addon;
  } catch {
    // built for another Node or another machine: the WebAssembly kernels run instead
  }
  return cached ?? undefined;
}
