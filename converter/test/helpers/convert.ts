/** Converting models in tests, and asserting on conversion errors. */
import assert from 'node:assert/strict';
import { importOnnx, readOnnxModel } from '../../onnx/import.ts';
import { ConvertError } from '../../errors.ts';
import type { ModelSpec } from './onnx-build.ts';
import { tmpDir, writeModel } from './onnx-build.ts';

/** Convert an ONNX file to an IR graph, collecting warnings. */
export function convertFile(file: string, shapes?: Record<string, number[]>, warnings: string[] = []) {
  return importOnnx(readOnnxModel(file), file, { inputShapes: shapes && new Map(Object.entries(shapes)), warnings: { warn: (m) => warnings.push(m) } }).graph;
}

/** Write a model spec to a temporary file and convert it. */
export function convertSpec(spec: ModelSpec, shapes?: Record<string, number[]>) {
  return convertFile(writeModel(tmpDir(), spec), shapes);
}

export function expectConvertError(fn: () => unknown, category: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConvertError, `expected ConvertError, got ${e}`);
    assert.equal(e.category, category, e.describe());
    assert.match(e.describe(), pattern);
    return true;
  });
}
