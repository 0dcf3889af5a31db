/**
 * On-disk graph bundle (docs/ir.md §Bundle): a directory with graph.json (the graph, readable)
 * and weights.bin (every constant's little-endian bytes, each at an offset aligned to
 * WEIGHT_ALIGNMENT so that a reader may map and view them in place).
 */
import type { Attrs, DType, TensorOrigin } from '../ir/types.ts';

export const BUNDLE_FORMAT = 'opml-ir';
export const BUNDLE_VERSION = 1;
export const GRAPH_FILE = 'graph.json';
export const WEIGHTS_FILE = 'weights.bin';
export const WEIGHT_ALIGNMENT = 64;

export interface BundleTensor {
  name: string;
  dtype: DType;
  shape: number[];
  origin: TensorOrigin;
}

export interface BundleConstant {
  id: number;
  offset: number;
  byteLength: number;
  /** keccak256 of the bytes, 0x-hex. */
  keccak: string;
}

export interface BundleNode {
  op: string;
  name: string;
  inputs: number[];
  outputs: number[];
  attrs: Attrs;
}

export interface BundleSource {
  /** 'onnx' | 'tfjs-graph' | 'tfjs-layers' */
  format: string;
  file: string;
  producer?: string;
  opsets?: Record<string, number>;
}

export interface BundleJson {
  format: typeof BUNDLE_FORMAT;
  version: number;
  /** keccak256 of the canonical encoding, 0x-hex. */
  modelHash: string;
  source: BundleSource;
  tensors: BundleTensor[];
  inputs: number[];
  outputs: number[];
  constants: BundleConstant[];
  nodes: BundleNode[];
  weightsBytes: number;
}
