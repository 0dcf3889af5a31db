/**
 * A node's OPVM memory layout and initial memory root (docs/opvm.md §7): code, inputs, outputs and
 * scratch as power-of-two regions, each one aligned subtree, placed by height (descending) from address 0;
 * the initial memory root is composed from the region roots alone, by the stack algorithm the contract
 * mirrors line for line.
 */
import type { Bytes32 } from '../commit/merkle.ts';
import { depthFor, ZERO_HASHES } from '../commit/merkle.ts';
import { hashPair } from '../commit/keccak-pairs.ts';
import { u256 } from '../commit/tensor.ts';
import { keccak256 } from '../../converter/ir/keccak.ts';
import { LEAF_BYTES, MEM_BYTES, MEM_DEPTH } from './isa.ts';

export const RegionKind = { code: 0, input: 1, output: 2, scratch: 3 } as const;
export type RegionKind = keyof typeof RegionKind;

export interface RegionSpec {
  readonly kind: RegionKind;
  /** Input or output position; 0 for code and scratch. */
  readonly index: number;
  /** Bytes of content (the region holds at least this many). */
  readonly bytes: number;
}

export interface Region extends RegionSpec {
  /** log2 of the region's leaf count. */
  readonly height: number;
  /** Byte address of the region's first byte (a multiple of its size). */
  readonly address: number;
}

export interface NodeMemoryLayout {
  /** In address order (heights non-increasing). */
  readonly regions: readonly Region[];
  /** Bytes covered by the regions (the dense memory an interpreter needs). */
  readonly totalBytes: number;
  readonly layoutHash: Bytes32;
}

export class LayoutError extends Error {
  override readonly name = 'LayoutError';
}

/** Height of the region that holds `bytes` bytes: the data-root depth of a tensor of that size. */
export function regionHeight(bytes: number): number {
  return depthFor(Math.max(1, Math.ceil(bytes / LEAF_BYTES)));
}

export function planNodeMemory(specs: readonly RegionSpec[]): NodeMemoryLayout {
  const order = (s: RegionSpec) => RegionKind[s.kind];
  const sorted = specs
    .map((s, i) => ({ s, i, h: regionHeight(s.bytes) }))
    .sort((a, b) => b.h - a.h || order(a.s) - order(b.s) || a.s.index - b.s.index || a.i - b.i);
  let at = 0;
  const regions: Region[] = [];
  for (const { s, h } of sorted) {
    const size = LEAF_BYTES * 2 ** h;
    regions.push({ ...s, height: h, address: at });
    at += size;
  }
  if (at > MEM_BYTES) throw new LayoutError(`the node needs ${at} bytes of VM memory; the OPVM has ${MEM_BYTES}`);
  return { regions, totalBytes: at, layoutHash: layoutHash(regions) };
}

/** keccak256(u256(count) ‖ for each region: u256(kind) ‖ u256(index) ‖ u256(height)). */
export function layoutHash(regions: readonly Pick<Region, 'kind' | 'index' | 'height'>[]): Bytes32 {
  const b = new Uint8Array(32 * (1 + 3 * regions.length));
  b.set(u256(regions.length), 0);
  regions.forEach((r, i) => {
    b.set(u256(RegionKind[r.kind]), 32 + 96 * i);
    b.set(u256(r.index), 64 + 96 * i);
    b.set(u256(r.height), 96 + 96 * i);
  });
  return keccak256(b) as unknown as Bytes32;
}

/**
 * Root of the whole depth-MEM_DEPTH memory from its regions' roots in address order (heights
 * non-increasing, contiguous from address 0), docs/opvm.md §7.
 */
export function composeMemoryRoot(regions: readonly { readonly height: number; readonly root: Uint8Array }[]): Bytes32 {
  if (regions.length === 0) return ZERO_HASHES[MEM_DEPTH]!;
  const heights: number[] = [];
  const hashes: Uint8Array[] = [];
  for (const r of regions) {
    if (!(Number.isInteger(r.height) && r.height >= 0 && r.height <= MEM_DEPTH)) throw new LayoutError(`region height ${r.height} outside 0 … ${MEM_DEPTH}`);
    if (heights.length && r.height > heights[heights.length - 1]!) throw new LayoutError('regions must come in address order with non-increasing heights');
    heights.push(r.height);
    hashes.push(r.root);
    while (heights.length >= 2 && heights[heights.length - 1] === heights[heights.length - 2]) {
      const h = heights.pop()!;
      const right = hashes.pop()!;
      heights.pop();
      const left = hashes.pop()!;
      if (h + 1 > MEM_DEPTH) throw new LayoutError('regions exceed the memory');
      heights.push(h + 1);
      hashes.push(hashPair(left, right));
    }
  }
  let h = heights.pop()!;
  let acc = hashes.pop()!;
  while (h < MEM_DEPTH) {
    if (heights.length && heights[heights.length - 1] === h) {
      heights.pop();
      acc = hashPair(hashes.pop()!, acc);
    } else {
      acc = hashPair(acc, ZERO_HASHES[h]!);
    }
    h++;
  }
  if (heights.length) throw new LayoutError('regions exceed the memory');
  return acc as Bytes32;
}

/**
 * A node's initial memory root: the code root, each input's data root, zero outputs and scratch
 * (docs/opvm.md §7). `inputRoots[i]` is the data root of input position i.
 */
export function initialMemoryRoot(layout: NodeMemoryLayout, codeRoot: Uint8Array, inputRoots: readonly Uint8Array[]): Bytes32 {
  return composeMemoryRoot(layout.regions.map((r) => ({
    height: r.height,
    root: r.kind === 'code' ? codeRoot : r.kind === 'input' ? inputRoots[r.index]! : ZERO_HASHES[r.height]!,
  })));
}
