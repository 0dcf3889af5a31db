/**
 * Write a graph bundle atomically: everything goes to a temporary sibling directory which is renamed
 * into place only when complete, so a failed or interrupted write leaves nothing behind, and an
 * existing bundle at the destination is replaced only by a complete one.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Graph, TensorId } from '../ir/types.ts';
import { keccakStream, toHex } from '../ir/keccak.ts';
import { modelHash } from '../ir/encoding.ts';
import type { BundleJson, BundleSource } from './format.ts';
import { BUNDLE_FORMAT, BUNDLE_VERSION, GRAPH_FILE, WEIGHT_ALIGNMENT, WEIGHTS_FILE } from './format.ts';

export interface WriteResult {
  dir: string;
  modelHash: string;
  weightsBytes: number;
}

/** Stream every constant into weights.bin, hashing as it goes. */
function writeWeights(g: Graph, file: string, onProgress?: (done: number, total: number) => void) {
  const fd = fs.openSync(file, 'w');
  const hashes = new Map<TensorId, Uint8Array>();
  const entries: BundleJson['constants'] = [];
  const total = [...g.constants.values()].reduce((a, c) => a + c.byteLength, 0);
  let offset = 0;
  let done = 0;
  const pad = new Uint8Array(WEIGHT_ALIGNMENT);
  try {
    for (const id of [...g.constants.keys()].sort((a, b) => a - b)) {
      const src = g.constants.get(id)!;
      const misalign = offset % WEIGHT_ALIGNMENT;
      if (misalign) {
        fs.writeSync(fd, pad, 0, WEIGHT_ALIGNMENT - misalign);
        offset += WEIGHT_ALIGNMENT - misalign;
      }
      const bytes = src.read();
      if (bytes.byteLength !== src.byteLength) throw new Error(`constant ${g.tensors[id]!.name}: read ${bytes.byteLength} bytes, expected ${src.byteLength}`);
      const h = keccakStream();
      const CHUNK = 16 << 20;
      for (let o = 0; o < bytes.byteLength; o += CHUNK) {
        const part = bytes.subarray(o, Math.min(o + CHUNK, bytes.byteLength));
        h.update(part);
        let w = 0;
        while (w < part.byteLength) w += fs.writeSync(fd, part, w, part.byteLength - w);
        done += part.byteLength;
        onProgress?.(done, total);
      }
      const digest = h.digest();
      hashes.set(id, digest);
      entries.push({ id, offset, byteLength: bytes.byteLength, keccak: toHex(digest) });
      offset += bytes.byteLength;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { hashes, entries, size: offset };
}

export function bundleJson(g: Graph, source: BundleSource, hash: string, constants: BundleJson['constants'], weightsBytes: number): BundleJson {
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    modelHash: hash,
    source,
    tensors: g.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], origin: t.origin })),
    inputs: [...g.inputs],
    outputs: [...g.outputs],
    constants,
    nodes: g.nodes.map((n) => ({ op: n.op, name: n.name, inputs: [...n.inputs], outputs: [...n.outputs], attrs: n.attrs })),
    weightsBytes,
  };
}

export function writeBundle(g: Graph, outDir: string, source: BundleSource, onProgress?: (done: number, total: number) => void): WriteResult {
  const dir = path.resolve(outDir);
  if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, GRAPH_FILE))) {
    throw new Error(`${outDir} exists and is not an OPML bundle; choose another output path or remove it`);
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now().toString(36)}`;
  fs.mkdirSync(tmp);
  try {
    const { hashes, entries, size } = writeWeights(g, path.join(tmp, WEIGHTS_FILE), onProgress);
    const hash = toHex(modelHash(g, hashes));
    const json = bundleJson(g, source, hash, entries, size);
    fs.writeFileSync(path.join(tmp, GRAPH_FILE), JSON.stringify(json, null, 1) + '\n');
    if (fs.existsSync(dir)) {
      const old = `${dir}.tmp-old-${process.pid}-${Date.now().toString(36)}`;
      fs.renameSync(dir, old);
      fs.renameSync(tmp, dir);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, dir);
    }
    return { dir, modelHash: hash, weightsBytes: size };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
