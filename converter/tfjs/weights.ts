/**
 * TensorFlow.js model.json loading and weight decoding. Shards are read from disk beside model.json
 * (no URLs) and decoded, dequantised (uint8/uint16 affine, float16) by @tensorflow/tfjs-core's
 * io.decodeWeights, so the values match what TensorFlow.js itself loads.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tfc from '@tensorflow/tfjs-core';
import type { DType } from '../ir/types.ts';
import { numel } from '../ir/types.ts';
import type { HostTensor } from '../ir/host-tensor.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import { ConvertError, fileProblem } from '../errors.ts';

export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology?: unknown;
  weightsManifest?: WeightGroup[];
  signature?: unknown;
  modelInitializer?: unknown;
  userDefinedMetadata?: unknown;
}

export interface WeightGroup {
  paths: string[];
  weights: tfc.io.WeightsManifestEntry[];
}

/** Read and parse model.json, with messages that say what is wrong. */
export function readModelJson(file: string): ModelJson {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConvertError(`${file}: cannot read ${fileProblem(e)}`, 'malformed');
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new ConvertError(`${file}: malformed JSON (${(e as Error).message}); a TensorFlow.js model.json was expected`, 'malformed');
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new ConvertError(`${file}: not a TensorFlow.js model.json (the top level is not an object)`, 'malformed');
  const m = j as ModelJson;
  if (m.modelTopology === undefined || m.modelTopology === null || typeof m.modelTopology !== 'object') {
    throw new ConvertError(`${file}: not a TensorFlow.js model.json (no 'modelTopology' object)`, 'malformed');
  }
  if (m.weightsManifest !== undefined && !Array.isArray(m.weightsManifest)) throw new ConvertError(`${file}: 'weightsManifest' must be an array of weight groups`, 'malformed');
  for (const [i, g] of (m.weightsManifest ?? []).entries()) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new ConvertError(`${file}: weightsManifest[${i}] needs 'paths' and 'weights' arrays`, 'malformed');
    for (const w of g.weights) {
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string') {
        throw new ConvertError(`${file}: weightsManifest[${i}] has an entry without name, shape and dtype: ${JSON.stringify(w).slice(0, 120)}`, 'malformed');
      }
    }
  }
  return m;
}

// ---------------------------------------------------------------- a host-memory backend for tfjs-core

/**
 * io.decodeWeights returns tfjs tensors, which need a backend. When no backend is registered (the
 * CLI loads tfjs-core only) this minimal one stores values in host memory; it is registered with the
 * lowest priority so that a real backend (cpu, in tests) wins when present.
 */
class HostBackend extends tfc.KernelBackend {
  private readonly store = new WeakMap<object, { values: unknown; refCount: number }>();
  private count = 0;
  override write(values: tfc.backend_util.BackendValues, _shape: number[], _dtype: tfc.DataType): tfc.DataId {
    const id = {};
    this.store.set(id, { values, refCount: 1 });
    this.count++;
    return id;
  }
  override move(dataId: tfc.DataId, values: tfc.backend_util.BackendValues, _shape: number[], _dtype: tfc.DataType, refCount: number): void {
    if (!this.store.has(dataId)) this.count++;
    this.store.set(dataId, { values, refCount });
  }
  override readSync(dataId: object): tfc.backend_util.BackendValues {
    const d = this.store.get(dataId);
    if (!d) throw new Error('opml-host backend: unknown tensor data');
    return d.values as tfc.backend_util.BackendValues;
  }
  override async read(dataId: object): Promise<tfc.backend_util.BackendValues> {
    return this.readSync(dataId);
  }
  override disposeData(dataId: object, force = false): boolean {
    const d = this.store.get(dataId);
    if (!d) return true;
    if (!force && --d.refCount > 0) return false;
    this.store.delete(dataId);
    this.count--;
    return true;
  }
  override incRef(dataId: object): void {
    const d = this.store.get(dataId);
    if (d) d.refCount++;
  }
  override refCount(dataId: object): number {
    return this.store.get(dataId)?.refCount ?? 0;
  }
  override numDataIds(): number {
    return this.count;
  }
  override memory(): { unreliable: boolean } {
    return { unreliable: true };
  }
  override floatPrecision(): 32 {
    return 32;
  }
  override epsilon(): number {
    return 1e-7;
  }
  override dispose(): void {}
}

const HOST_BACKEND = 'opml-host';

/**
 * Run fn with a backend available: the host backend is registered for the call and removed after it,
 * so that a process which loads a real TensorFlow.js backend later is not left on it.
 */
function withBackend<T>(fn: () => T): T {
  if (tfc.findBackendFactory(HOST_BACKEND)) return fn();
  tfc.registerBackend(HOST_BACKEND, () => new HostBackend(), -1000);
  try {
    return fn();
  } finally {
    tfc.removeBackend(HOST_BACKEND);
  }
}

// ---------------------------------------------------------------- weights

const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };
const PLAIN_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const IR_OF: Record<string, DType> = { float32: 'float32', int32: 'int32', bool: 'bool' };

function specBytes(w: tfc.io.WeightsManifestEntry, file: string): number {
  const n = numel(w.shape);
  if (w.quantization) {
    const q = QUANT_BYTES[w.quantization.dtype];
    if (!q) throw new ConvertError(`${file}: weight '${w.name}' uses quantization '${w.quantization.dtype}'; supported: uint8, uint16, float16`, 'dtype');
    return n * q;
  }
  if (w.dtype === 'string') return 0; // variable length; such weights are skipped (see loadWeights)
  const p = PLAIN_BYTES[w.dtype];
  if (!p) throw new ConvertError(`${file}: weight '${w.name}' has dtype '${w.dtype}', which the IR does not carry (float32, int32, bool)`, 'dtype');
  return n * p;
}

/**
 * Read every weight group of the manifest from the shard files beside model.json and decode them.
 * Missing shards are reported all at once. Weights of dtypes the IR does not carry (string) are left
 * out and listed in `unsupported` (name → dtype).
 */
export function loadWeights(file: string, manifest: readonly WeightGroup[], unsupported = new Map<string, string>()): Map<string, HostTensor> {
  const dir = path.dirname(path.resolve(file));
  const missing: string[] = [];
  const urls = manifest.flatMap((g) => g.paths).filter((p) => /^[a-z][a-z0-9+.-]*:\/\//i.test(p));
  if (urls.length) {
    throw new ConvertError(`${file}: weight shards are given as URLs, which are not fetched; download them beside model.json and list them by file name:`, 'malformed', urls);
  }
  for (const g of manifest) {
    for (const p of g.paths) {
      const f = path.resolve(dir, p);
      if (!fs.existsSync(f)) missing.push(`${p} (expected at ${f})`);
    }
  }
  if (missing.length === 1) {
    throw new ConvertError(`${file}: weight shard ${missing[0]} is missing; put the shards beside model.json as listed in its weightsManifest`, 'malformed');
  }
  if (missing.length) {
    throw new ConvertError(`${file}: ${missing.length} weight shard file${missing.length > 1 ? 's are' : ' is'} missing (they must sit beside model.json as listed in weightsManifest):`, 'malformed', missing);
  }
  const out = new Map<string, HostTensor>();
  for (const g of manifest) {
    const parts = g.paths.map((p) => fs.readFileSync(path.resolve(dir, p)));
    const total = parts.reduce((a, p) => a + p.byteLength, 0);
    const need = g.weights.reduce((a, w) => a + specBytes(w, file), 0);
    if (total < need) {
      throw new ConvertError(`${file}: weight shards ${g.paths.join(', ')} hold ${total} bytes, the manifest's weights (${g.weights.map((w) => w.name).join(', ')}) need ${need}; are the shards truncated or from another model?`, 'malformed');
    }
    const buf = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      buf.set(p, off);
      off += p.byteLength;
    }
    withBackend(() => {
      let decoded: tfc.NamedTensorMap;
      try {
        decoded = tfc.io.decodeWeights(buf.buffer, g.weights);
      } catch (e) {
        throw new ConvertError(`${file}: cannot decode weights of ${g.paths.join(', ')}: ${(e as Error).message}`, 'malformed');
      }
      for (const w of g.weights) {
        const t = decoded[w.name]!;
        const irType = IR_OF[t.dtype];
        if (!irType) {
          // String tensors (vocabularies, hash-table keys) are not IR values; a use of one is refused by the importer.
          t.dispose();
          unsupported.set(w.name, t.dtype);
          continue;
        }
        const values = t.dataSync();
        t.dispose();
        let data: Float32Array | Int32Array | Uint8Array;
        if (irType === 'float32') data = Float32Array.from(values as Float32Array);
        else if (irType === 'int32') data = Int32Array.from(values as Int32Array);
        else data = Uint8Array.from(values as Uint8Array, (v) => (v ? 1 : 0));
        out.set(w.name, hostTensor(irType, w.shape, data));
      }
    });
  }
  return out;
}
