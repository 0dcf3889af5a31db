/** Convert a model file (ONNX, or a TFJS model.json) into a graph bundle on disk. */
import fs from 'node:fs';
import path from 'node:path';
import type { Graph } from './ir/types.ts';
import type { HostTensor } from './ir/host-tensor.ts';
import type { WarningSink } from './errors.ts';
import { ConvertError, fileProblem } from './errors.ts';
import { importOnnx, readOnnxModel } from './onnx/import.ts';
import { importTfjs } from './tfjs/import.ts';
import type { BundleSource } from './bundle/format.ts';
import { writeBundle } from './bundle/write.ts';
import { MAX_NODE_STEPS, splitLargeNodes } from './ir/passes/split-large.ts';

export type ModelFormat = 'onnx' | 'tfjs';

export interface ConvertOptions {
  inputShapes?: ReadonlyMap<string, readonly number[]>;
  /** ONNX only: graph inputs frozen as constants (see OnnxImportOptions.frozenInputs). */
  frozenInputs?: ReadonlyMap<string, HostTensor>;
  warnings?: WarningSink;
  onProgress?: (phase: string, done: number, total: number) => void;
  /**
   * Split MatMul nodes whose OPVM run could exceed this many steps into column blocks and a Concat, so
   * that no phase-1 dispute is longer (converter/ir/passes/split-large.ts; default 2^32).
   */
  splitSteps?: number;
}

export interface ConvertResult {
  dir: string;
  modelHash: string;
  graph: Graph;
  weightsBytes: number;
}

/** Decide the front-end from the file's content, not only its name. */
export function detectFormat(file: string): ModelFormat {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new ConvertError(`${file}: cannot open ${fileProblem(e)}`, 'malformed');
  }
  try {
    if (fs.fstatSync(fd).isDirectory()) throw new ConvertError(`${file} is a directory; give the model file (model.onnx or model.json)`, 'malformed');
    const head = Buffer.alloc(64);
    const n = fs.readSync(fd, head, 0, 64, 0);
    const text = head.subarray(0, n).toString('utf8').trimStart();
    if (text.startsWith('{')) return 'tfjs';
    if (n === 0) throw new ConvertError(`${file}: empty file`, 'malformed');
    return 'onnx';
  } finally {
    fs.closeSync(fd);
  }
}

/** Import a model file into an IR graph (no disk output). */
export function importModel(file: string, opts: ConvertOptions = {}): { graph: Graph; source: BundleSource } {
  const r = importUnsplit(file, opts);
  return { ...r, graph: splitLargeNodes(r.graph, opts.splitSteps ?? MAX_NODE_STEPS) };
}

function importUnsplit(file: string, opts: ConvertOptions): { graph: Graph; source: BundleSource } {
  const format = detectFormat(file);
  if (format === 'tfjs') return importTfjs(file, opts);
  opts.onProgress?.('parse', 0, 2);
  const model = readOnnxModel(file);
  opts.onProgress?.('import', 1, 2);
  const r = importOnnx(model, file, opts);
  opts.onProgress?.('import', 2, 2);
  return { graph: r.graph, source: { format: 'onnx', file: path.basename(file), producer: r.producer || undefined, opsets: { '': r.opset } } };
}

/** Default bundle path: model.onnx → model.opml beside it. */
export function defaultBundlePath(file: string): string {
  return path.join(path.dirname(file), path.basename(file).replace(/\.(onnx|json)$/i, '') + '.opml');
}

export function convertModel(file: string, outDir: string, opts: ConvertOptions = {}): ConvertResult {
  const { graph, source } = importModel(file, opts);
  const r = writeBundle(graph, outDir, source, (d, t) => opts.onProgress?.('weights', d, t));
  return { dir: r.dir, modelHash: r.modelHash, graph, weightsBytes: r.weightsBytes };
}
