/**
 * One phase of `npm run bench -- llm`, in its own process so that its peak RSS is its own. argv[2] is a
 * JSON job; the last stdout line is a JSON result with ms and maxRssBytes (and phase figures).
 */
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { convertModel } from '../converter/convert.ts';
import { compileBundle } from '../compiler/compile.ts';
import { NativeExecutor } from '../runtime/native/executor.ts';
import type { HostTensor } from '../converter/ir/host-tensor.ts';
import { hostTensor } from '../converter/ir/host-tensor.ts';

interface Job {
  phase: 'convert' | 'compile' | 'run' | 'trace' | 'prove' | 'generate';
  dir: string;
  seq: number;
  past: number;
  kvHeads: number;
  headDim: number;
  layers: number;
  vocab: number;
}
const job = JSON.parse(process.argv[2]!) as Job;
const P = (n: string) => path.join(job.dir, n);
const t0 = performance.now();
const out: Record<string, number | string> = {};

/** Deterministic inputs: S prompt ids, a past of `past` positions with small values. */
function inputs(seq: number, past: number, names: readonly string[]): HostTensor[] {
  const ids = Array.from({ length: seq }, (_, i) => BigInt((i * 7919 + 3) % job.vocab));
  const m = new Map<string, HostTensor>([
    ['input_ids', hostTensor('int64', [1, seq], BigInt64Array.from(ids))],
    ['attention_mask', hostTensor('int64', [1, past + seq], new BigInt64Array(past + seq).fill(1n))],
    ['position_ids', hostTensor('int64', [1, seq], BigInt64Array.from(Array.from({ length: seq }, (_, i) => BigInt(past + i))))],
  ]);
  let s = 12345;
  for (let l = 0; l < job.layers; l++) {
    for (const kv of ['key', 'value']) {
      const a = new Float32Array(job.kvHeads * past * job.headDim);
      for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 2; }
      m.set(`past_key_values.${l}.${kv}`, hostTensor('float32', [1, job.kvHeads, past, job.headDim], a));
    }
  }
  return names.map((n) => m.get(n)!);
}

const shapes = (seq: number, past: number) => {
  const m = new Map<string, number[]>([['input_ids', [1, seq]], ['attention_mask', [1, past + seq]], ['position_ids', [1, seq]]]);
  if (past) for (let l = 0; l < job.layers; l++) for (const kv of ['key', 'value']) m.set(`past_key_values.${l}.${kv}`, [1, job.kvHeads, past, job.headDim]);
  return m;
};

if (job.phase === 'convert') {
  const a = performance.now();
  convertModel(P('decoder_model.onnx'), P('prefill.opml'), { inputShapes: shapes(job.seq, 0) });
  out.prefill_ms = performance.now() - a;
  const b = performance.now();
  const r = convertModel(P('decoder_with_past_model.onnx'), P('decode.opml'), { inputShapes: shapes(1, job.past) });
  out.decode_ms = performance.now() - b;
  out.nodes = r.graph.nodes.length;
} else if (job.phase === 'compile') {
  const a = performance.now();
  const pm = compileBundle(P('prefill.opml'), P('prefill.opmlc'));
  out.memories = pm.arena.memories.length;
  out.prefill_ms = performance.now() - a;
  const b = performance.now();
  const dm = compileBundle(P('decode.opml'), P('decode.opmlc'));
  out.decode_ms = performance.now() - b;
  // the largest compiled step bound of any node (issue 12: no dispute over more than 2^32 steps, docs/opvm.md §9)
  out.max_step_bound = Math.max(...[...pm.nodes, ...dm.nodes].map((n) => n.vm?.stepBound ?? 0));
} else if (job.phase === 'run') {
  const timeIt = async (fn: () => unknown, minMs = 1000): Promise<number> => {
    for (let i = 0; i < 2; i++) await fn();
    let n = 0;
    const s = performance.now();
    while (performance.now() - s < minMs || n < 3) { await fn(); n++; }
    return (performance.now() - s) / n;
  };
  for (const [form, file, seq, past] of [['prefill', 'decoder_model.onnx', job.seq, 0], ['decode', 'decoder_with_past_model.onnx', 1, job.past]] as const) {
    let reference: Float32Array | undefined;
    // one intra-op thread each (the figure), then two (this machine has two cores): the threads figure
    for (const threads of [1, 2]) {
      const ex = await NativeExecutor.load(P(`${form}.opmlc`), { threads });
      const g = ex.graph;
      const ins = inputs(seq, past, g.inputs.map((i) => g.tensors[i]!.name));
      const sess = await ort.InferenceSession.create(P(file), { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
      const feeds = Object.fromEntries(g.inputs.map((id, i) => {
        const t = ins[i]!;
        return [g.tensors[id]!.name, new ort.Tensor(t.dtype === 'int64' ? 'int64' : 'float32', t.data as Float32Array, [...t.shape])];
      }));
      const mine = ex.run(ins)[0]!.data as Float32Array;
      const key = threads === 1 ? form : `${form}_${threads}t`;
      if (!reference) {
        reference = mine;
        const theirs = (await sess.run(feeds)).logits!.data as Float32Array;
        let err = 0, scale = 0;
        for (let i = 0; i < theirs.length; i++) { err = Math.max(err, Math.abs(mine[i]! - theirs[i]!)); scale = Math.max(scale, Math.abs(theirs[i]!)); }
        out[`${form}_max_err`] = (err / scale).toExponential(2);
      } else if (Buffer.compare(Buffer.from(mine.buffer, mine.byteOffset, mine.byteLength), Buffer.from(reference.buffer, reference.byteOffset, reference.byteLength)) !== 0) {
        throw new Error(`${form}: ${threads} threads changed the output bytes`);
      }
      const tO = await timeIt(() => ex.run(ins));
      const tR = await timeIt(() => sess.run(feeds));
      out[`${key}_opml_ms`] = +tO.toFixed(2);
      out[`${key}_ort_ms`] = +tR.toFixed(2);
      out[`${key}_ratio`] = +(tO / tR).toFixed(2);
      await ex.close();
      await sess.release();
      globalThis.gc?.(); // drop this arena before the next one is loaded (4.4 GB each at the 1.1b size)
    }
  }
} else if (job.phase === 'trace') {
  const { traceRun } = await import('../runtime/native/trace.ts');
  const ex = await NativeExecutor.load(P('prefill.opmlc'));
  const g = ex.graph;
  const a = performance.now();
  const t = traceRun(ex, inputs(job.seq, 0, g.inputs.map((i) => g.tensors[i]!.name)), undefined, P('prefill.opmlc'));
  out.trace_ms = performance.now() - a;
  out.states = t.states.length;
  await ex.close();
} else if (job.phase === 'prove') {
  // the LM head of the 1-token decode step: the largest MatMul a dispute over one token reaches
  const { proveModelStep } = await import('../runtime/opvm/prove-model.ts');
  const { readManifest } = await import('../runtime/native/executor.ts');
  const m = readManifest(P('decode.opmlc'));
  const node = m.nodes.findIndex((n) => n.name === '/lm_head/MatMul') + 1;
  const g = JSON.parse(fs.readFileSync(P('decode.opmlc/graph.json'), 'utf8')) as { inputs: number[]; tensors: { name: string }[] };
  const a = performance.now();
  const p = await proveModelStep(P('decode.opmlc'), inputs(1, job.past, g.inputs.map((i) => g.tensors[i]!.name)), node, 1000);
  out.prove_ms = performance.now() - a;
  out.node = `${node} ${p.op}`;
  out.node_steps = p.nodeSteps;
  // one process answering a whole phase-1 dispute's queries: the first, middle and last step, and the
  // 15 cut points of every round of a 16-way dissection down to one step (issue 12 item 3)
  const { proveModelSteps } = await import('../runtime/opvm/prove-model.ts');
  const N = p.nodeSteps, queries = [0, Math.floor(N / 2), N - 1];
  for (let lo = 0, hi = N, target = Math.floor(N * 0.618); hi - lo > 1;) {
    const m = Math.min(16, hi - lo), cuts = Array.from({ length: m + 1 }, (_, j) => lo + Math.floor(((hi - lo) * j) / m));
    queries.push(...cuts.slice(1, -1));
    const s = cuts.findIndex((c, j) => j < m && target >= c && target < cuts[j + 1]!);
    [lo, hi] = [cuts[s]!, cuts[s + 1]!];
  }
  const b = performance.now();
  await proveModelSteps(P('decode.opmlc'), inputs(1, job.past, g.inputs.map((i) => g.tensors[i]!.name)), node, queries);
  out.prove_queries = queries.length;
  out.prove_queries_ms = performance.now() - b;
}
else if (job.phase === 'generate') {
  // opml generate with the KV cache: 16 prompt tokens, 16 new ones, every step's commitments and states
  const { generate } = await import('../runtime/generate.ts');
  let compileMs = 0;
  const a = performance.now();
  const tr = await generate(job.dir, {
    promptIds: Array.from({ length: job.seq }, (_, i) => (i * 7919 + 3) % job.vocab), maxTokens: job.seq, cacheDir: P('generate-cache'),
    onCompile: (_w, ph, ms) => { if (ph === 'done') compileMs += ms!; },
  });
  out.generate_ms = performance.now() - a;
  out.compile_ms = compileMs;
  const decode = tr.steps.filter((s) => s.bundle === 'decode');
  out.prefill_step_ms = tr.steps[0]!.ms;
  out.decode_step_ms = decode.reduce((x, s) => x + s.ms, 0) / decode.length;
  out.chained = String(tr.chained);
  out.tokens = tr.tokens.slice(0, 8).join(',') + '…';
}
out.ms = performance.now() - t0;
out.maxRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify(out) + '\n');
