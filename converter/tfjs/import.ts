/** TensorFlow.js models (graph and layers) → IR graph. */
import type { Graph } from '../ir/types.ts';
import type { BundleSource } from '../bundle/format.ts';
import type { WarningSink } from '../errors.ts';
import { ConvertError } from '../errors.ts';

export interface TfjsImportOptions {
  inputShapes?: ReadonlyMap<string, readonly number[]>;
  warnings?: WarningSink;
}

export function importTfjs(file: string, _opts: TfjsImportOptions = {}): { graph: Graph; source: BundleSource } {
  throw new ConvertError(`${file}: TensorFlow.js models are not supported yet`, 'unsupported-op');
}
