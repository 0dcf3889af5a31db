/**
 * Compile cost of the bundled models: whole-model compile time, per-node mean and max, and the size of
 * the compiled kernels (native .wasm) next to the model's weights.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertModel } from '../converter/convert.ts';
import { compileBundle } from '../compiler/compile.ts';
import type { BenchResult } from './run.ts';

export async function benchCompile(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-bench-compile-'));
  const figures: Record<string, number | string> = {};
  try {
    for (const m of fs.readdirSync('models').sort()) {
      const src = ['model.onnx', 'model.json'].map((f) => path.join('models', m, f)).find((f) => fs.existsSync(f));
      if (!src) continue;
      const r = convertModel(src, path.join(dir, `${m}.opml`));
      const t0 = performance.now();
      const man = compileBundle(path.join(dir, `${m}.opml`), path.join(dir, `${m}.opmlc`));
      const ms = performance.now() - t0;
      const per = man.nodes.map((n) => n.compileMs);
      const kernelBytes = man.nodes.reduce((a, n) => a + fs.statSync(path.join(dir, `${m}.opmlc`, n.native)).size, 0);
      figures[`${m}_nodes`] = man.nodes.length;
      figures[`${m}_compile_ms`] = +ms.toFixed(0);
      figures[`${m}_node_mean_ms`] = +(per.reduce((a, b) => a + b, 0) / per.length).toFixed(1);
      figures[`${m}_node_max_ms`] = +Math.max(...per).toFixed(1);
      figures[`${m}_kernels_kB`] = +(kernelBytes / 1024).toFixed(1);
      figures[`${m}_weights_kB`] = +(r.weightsBytes / 1024).toFixed(1);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { name: 'compile', ok: true, figures, note: 'per-node times include binaryen validation and -O3' };
}
