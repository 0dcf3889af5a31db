/**
 * `npm run bench -- llm`: a LLaMA-shaped decoder (bench/gen-llama-onnx.ts, random weights from a fixed
 * seed) through the pipeline: convert and compile of the 16-token prefill graph and of the 1-token decode
 * graph with a 15-position KV cache, native run of both against onnxruntime-node (1 thread, same process),
 * the phase-2 trace of the prefill, prove-step of the decode's LM-head MatMul, and `opml generate` of 16
 * tokens after a 16-token prompt with the KV cache (compile of its two bundles, then the steps with their
 * commitments and graph states). Each phase runs in its own process and reports its time and peak RSS.
 *
 * Size: `--size small` (default, CI: d 256, 4 layers, 8 heads / 4 KV heads, FFN 688, vocab 2048),
 * `--size tiny`, `--size medium` (d 768, 12 layers, 12 heads / 4 KV heads, FFN 2048, vocab 32000: 125 M
 * parameters), or `--size 1.1b` (TinyLlama's shape: d 2048, 22 layers, FFN 5632, 32 heads / 4 KV heads,
 * vocab 32000; 4.4 GB of weights in model.onnx_data, an arena of two wasm32 memories — not run by default);
 * or OPML_BENCH_LLM_SIZE. Benchmark figures, not a timed test.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaConfig, writeLlamaOnnx } from './gen-llama-onnx.ts';
import type { BenchResult } from './run.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SEQ = 16;

function sizeArg(): string {
  const i = process.argv.indexOf('--size');
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? process.env.OPML_BENCH_LLM_SIZE ?? 'small';
}

class PhaseError extends Error {}

export async function benchLlm(): Promise<BenchResult> {
  const size = sizeArg();
  const cfg = llamaConfig(size, { maxPositions: Math.max(64, SEQ) });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-bench-llm-'));
  const figures: Record<string, number | string> = { size };
  const mb = (b: number) => +(b / 2 ** 20).toFixed(0);
  let failed: string | undefined;
  try {
    const g0 = performance.now();
    const f = writeLlamaOnnx(dir, cfg);
    figures.params_M = +(f.parameters / 1e6).toFixed(2);
    figures.weights_MB = mb(f.weightBytes);
    figures.gen_onnx_s = +((performance.now() - g0) / 1000).toFixed(2);
    const job = { dir, seq: SEQ, past: SEQ - 1, kvHeads: cfg.kvHeads, headDim: cfg.dModel / cfg.heads, layers: cfg.layers, vocab: cfg.vocab };
    const phase = (p: string): Record<string, number | string> => {
      process.stderr.write(`  llm: ${p} …\n`);
      const r = spawnSync(process.execPath, ['--expose-gc', '--import', path.join(HERE, '..', 'bin', 'preload.mjs'), '--import', 'tsx', path.join(HERE, 'llm-child.ts'), JSON.stringify({ ...job, phase: p })], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (r.status !== 0) throw new PhaseError(`${p} failed (exit ${r.status ?? r.signal}): ${(r.stderr.trim().split('\n').find((l) => /^\w*Error\b/.test(l)) ?? r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 300)}`);
      const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number | string>;
      process.stderr.write(`  llm: ${p}: ${JSON.stringify(res)}\n`); // kept even if a later phase fails or is killed
      return res;
    };
    const conv = phase('convert');
    figures.nodes = conv.nodes!;
    figures.convert_s = +((conv.ms as number) / 1000).toFixed(2);
    figures.convert_rss_MB = mb(conv.maxRssBytes as number);
    figures.convert_rss_per_weight_byte = +((conv.maxRssBytes as number) / f.weightBytes).toFixed(2); // issue 12 target ≤ 1.3
    const comp = phase('compile');
    figures.compile_prefill_s = +((comp.prefill_ms as number) / 1000).toFixed(2);
    figures.compile_decode_s = +((comp.decode_ms as number) / 1000).toFixed(2);
    figures.compile_rss_MB = mb(comp.maxRssBytes as number);
    figures.arena_memories = comp.memories!;
    figures.max_step_bound_log2 = +Math.log2(comp.max_step_bound as number).toFixed(2); // ≤ 32: no dispute over more than 2^32 steps
    const run = phase('run');
    for (const k of ['prefill_opml_ms', 'prefill_ort_ms', 'prefill_ratio', 'prefill_max_err', 'decode_opml_ms', 'decode_ort_ms', 'decode_ratio', 'decode_max_err',
      'prefill_2t_ratio', 'decode_2t_ratio']) figures[k] = run[k]!;
    figures.run_rss_MB = mb(run.maxRssBytes as number);
    const tr = phase('trace');
    figures.trace_s = +((tr.trace_ms as number) / 1000).toFixed(2);
    figures.trace_rss_MB = mb(tr.maxRssBytes as number);
    const pr = phase('prove');
    figures.prove_node = pr.node!;
    figures.prove_node_steps = pr.node_steps!;
    figures.prove_step_s = +((pr.prove_ms as number) / 1000).toFixed(2);
    figures.prove_queries = pr.prove_queries!;
    figures.prove_queries_s = +((pr.prove_queries_ms as number) / 1000).toFixed(2);
    figures.prove_rss_MB = mb(pr.maxRssBytes as number);
    const gen = phase('generate');
    figures.generate_compile_s = +((gen.compile_ms as number) / 1000).toFixed(2);
    figures.generate_steps_s = +(((gen.generate_ms as number) - (gen.compile_ms as number)) / 1000).toFixed(2);
    figures.generate_prefill_step_ms = +(gen.prefill_step_ms as number).toFixed(2);
    figures.generate_decode_step_ms = +(gen.decode_step_ms as number).toFixed(2);
    figures.generate_kv_chain = gen.chained!;
    figures.generate_rss_MB = mb(gen.maxRssBytes as number);
  } catch (e) {
    if (!(e instanceof PhaseError)) throw e;
    failed = e.message;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (failed) figures.failed = failed;
  const ok = !failed && Number(figures.prefill_ratio) <= 2 && Number(figures.decode_ratio) <= 2 && figures.generate_kv_chain === 'true';
  return {
    name: 'llm', ok, figures,
    note: `LLaMA-shaped, ${SEQ}-token prefill and 1-token decode with a ${SEQ - 1}-position KV cache; ratio = opml native / onnxruntime (1 thread); issue 12 target ≤ 2`,
  };
}
