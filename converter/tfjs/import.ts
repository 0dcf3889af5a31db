/** TensorFlow.js models (graph and layers) → IR graph. */
import path from 'node:path';
import type { Graph } from '../ir/types.ts';
import type { BundleSource } from '../bundle/format.ts';
import type { WarningSink } from '../errors.ts';
import { ConvertError } from '../errors.ts';
import { readModelJson } from './weights.ts';
import { importGraphModel } from './graph.ts';
import { importLayersModel } from './layers.ts';

export interface TfjsImportOptions {
  inputShapes?: ReadonlyMap<string, readonly number[]>;
  warnings?: WarningSink;
}

/**
 * Import a TensorFlow.js model.json (graph model or layers model); its weight shards are read from
 * the directory of the file.
 */
export function importTfjs(file: string, opts: TfjsImportOptions = {}): { graph: Graph; source: BundleSource } {
  const model = readModelJson(file);
  const topo = model.modelTopology as Record<string, unknown>;
  let format = model.format;
  if (format === undefined) {
    // Older files carry no format: a GraphDef has 'node', a Keras config 'class_name' or 'model_config'.
    if (Array.isArray(topo.node)) format = 'graph-model';
    else if (topo.class_name !== undefined || topo.model_config !== undefined) format = 'layers-model';
  }
  const producer = [model.generatedBy, model.convertedBy].filter((x) => typeof x === 'string' && x).join(', ') || undefined;
  const base = { file: path.basename(file), producer };
  if (format === 'graph-model') return { graph: importGraphModel(file, model, opts), source: { format: 'tfjs-graph', ...base } };
  if (format === 'layers-model') return { graph: importLayersModel(file, model, opts), source: { format: 'tfjs-layers', ...base } };
  throw new ConvertError(`${file}: unknown TensorFlow.js model format '${String(format)}' (expected 'graph-model' or 'layers-model')`, 'malformed');
}
