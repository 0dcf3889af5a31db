/**
 * Converting a large ONNX model: a generated ~512 MB float32 MLP (8 MatMul layers of 4096×4096 weights in
 * raw_data). The conversion runs in a child process so its peak RSS is its own. Target: peak RSS below
 * 2× the model file's size.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './run.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export async function benchConvertLarge(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-bench-large-'));
  try {
    const model = path.join(dir, 'big.onnx');
    const gen = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'gen-large-onnx.ts'), model, '4096', '8'], { encoding: 'utf8' });
    if (gen.status !== 0) throw new Error(`generator failed: ${gen.stderr}`);
    const size = fs.statSync(model).size;
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'convert-child.ts'), model, path.join(dir, 'big.opml')], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`convert failed: ${run.stderr}`);
    const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { ms: number; maxRssBytes: number; baselineRssBytes: number };
    const ratio = r.maxRssBytes / size;
    return {
      name: 'convert-large',
      ok: ratio < 2,
      figures: {
        model_MB: +(size / 2 ** 20).toFixed(1),
        convert_s: +(r.ms / 1000).toFixed(2),
        throughput_MBps: +(size / 2 ** 20 / (r.ms / 1000)).toFixed(0),
        peak_rss_MB: +(r.maxRssBytes / 2 ** 20).toFixed(0),
        idle_rss_MB: +(r.baselineRssBytes / 2 ** 20).toFixed(0),
        peak_over_size: +ratio.toFixed(2),
      },
      note: 'target peak_over_size < 2',
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
