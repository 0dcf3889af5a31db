/** `opml generate`: token-by-token decoding, one verifiable inference per token (docs/generate.md). */
import fs from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { intArg } from './cli-args.ts';
import { RunError } from './native/executor.ts';
import { checkOutputPath, examples } from '../converter/cli-common.ts';

export function parsePromptIds(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim()).filter((s) => s.length);
  const ids = parts.map(Number);
  const bad = parts.findIndex((s, i) => !/^\d+$/.test(s) || !Number.isSafeInteger(ids[i]));
  if (!parts.length || bad >= 0) throw new RunError(`--prompt-ids: expected comma-separated token ids such as 1,2,3${bad >= 0 ? `, got '${parts[bad]}'` : ''}`);
  return ids;
}

const short = (h: string) => `${h.slice(0, 10)}…${h.slice(-6)}`;

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .summary('decode tokens from a causal language model, one verifiable inference per token')
    .description(
      'Generate tokens from an ONNX causal language model, each token one inference of a compiled bundle. A model with past_key_values inputs (the optimum decoder_with_past layout, or a folder holding decoder_with_past_model.onnx) runs with a fixed-size KV cache of CONTEXT - 1 positions: two bundles (the prompt, one token) serve every step, and each step\'s present.N outputs are fed unchanged as the next step\'s past_key_values.N inputs, so their commitments chain. A model without a cache re-runs its last CONTEXT tokens. Greedy arg-max (ties to the lowest id) or, with --sample, seeded sampling in integer and float32 arithmetic. Prints each step\'s graph states S_0, S_n and token; --transcript writes every input and output commitment as JSON. Compiled bundles are cached by model hash in --cache-dir (docs/generate.md).\n\n' +
        'Exit codes: 0 done, 2 bad model or input (e.g. a prompt id outside the vocabulary, a KV-cache tensor of the wrong shape), 1 other failure.',
    )
    .argument('<model>', 'ONNX model file, or a folder with decoder_with_past_model.onnx or model.onnx')
    .requiredOption('--prompt-ids <ids>', 'prompt token ids, comma-separated (e.g. 1,2,3)')
    .option('--max-tokens <n>', 'tokens to generate', intArg('--max-tokens', 1, 100000), 16)
    .option('--sample', 'sample from softmax(logits / temperature) instead of the arg-max')
    .option('--seed <n>', 'seed of the sampler\'s splitmix64 stream', intArg('--seed', 0), 0)
    .option('--temperature <t>', 'softmax temperature for --sample', (v) => {
      const t = Number(v);
      if (!(t > 0 && Number.isFinite(t))) throw new InvalidArgumentError('--temperature must be a number > 0');
      return t;
    }, 1)
    .option('--top-k <k>', 'sample among the k most likely tokens only (0: all)', intArg('--top-k', 0), 0)
    .option('--context <n>', 'context length (cache positions + 1); default prompt + max-tokens − 1, or the model\'s fixed length', intArg('--context', 2))
    .option('--transcript <file>', 'write the JSON transcript (commitments of every step) to FILE')
    .option('--save-steps <dir>', 'write each step\'s inputs as DIR/step_T/NAME.pb (for opml run, trace, request)')
    .option('--cache-dir <dir>', 'where compiled bundles are kept', undefined)
    .option('--threads <n>', 'worker threads for large kernels (results are identical for any n)', intArg('--threads', 1, 64), 1)
    .option('--no-states', 'skip the graph states S_0, S_n (only input and output commitments)')
    .option('--json', 'print the transcript as JSON on stdout instead of one line per step')
    .addHelpText('after', examples(
      'opml generate models/tiny-transformer/model.onnx --prompt-ids 43,57,54,1 --max-tokens 24   # "The " → text',
      'opml generate out/llama --prompt-ids 1,2,3 --max-tokens 8 --sample --seed 7 --top-k 40 --transcript t.json',
    ))
    .action(async (model: string, o: {
      promptIds: string; maxTokens: number; sample?: boolean; seed: number; temperature: number; topK: number; context?: number;
      transcript?: string; saveSteps?: string; cacheDir?: string; threads: number; states: boolean; json?: boolean;
    }) => {
      const { generate } = await import('./generate.ts');
      const promptIds = parsePromptIds(o.promptIds);
      if (o.transcript) checkOutputPath(o.transcript, '--transcript', 'file');
      if (o.saveSteps) checkOutputPath(o.saveSteps, '--save-steps', 'dir');
      if (o.cacheDir) checkOutputPath(o.cacheDir, '--cache-dir', 'dir');
      const log = (s: string) => process.stderr.write(s + '\n');
      const tr = await generate(model, {
        promptIds, maxTokens: o.maxTokens, sample: o.sample, seed: o.seed, temperature: o.temperature, topK: o.topK, context: o.context,
        cacheDir: o.cacheDir, saveSteps: o.saveSteps, threads: Math.min(o.threads, os.availableParallelism()), states: o.states,
        onCompile: (what, phase, ms) => {
          if (phase === 'start') log(`compiling the ${what} bundle …`);
          else if (phase === 'done') log(`compiled the ${what} bundle in ${(ms! / 1000).toFixed(1)} s`);
          else log(`${what} bundle: cached`);
        },
        onStep: o.json ? undefined : (s) => {
          const kv = Object.keys(s.outputs).filter((k) => k.startsWith('present'));
          process.stdout.write(
            `step ${String(s.step).padStart(3)}  ${s.bundle.padEnd(7)} pos ${String(s.position).padStart(4)}  token ${String(s.token).padStart(6)}` +
              (s.s0 ? `  S_0 ${short(s.s0)}  S_n ${short(s.sn!)}` : '') +
              (kv.length ? `  ${kv[0]} ${short(s.outputs[kv[0]!]!)}` : '') + `  ${s.ms.toFixed(1)} ms\n`);
        },
      });
      if (o.transcript) fs.writeFileSync(o.transcript, JSON.stringify(tr, null, 1) + '\n');
      if (o.json) process.stdout.write(JSON.stringify(tr, null, 1) + '\n');
      else {
        process.stdout.write(`tokens ${tr.tokens.join(',')}\n`);
        if (tr.text !== undefined) process.stdout.write(`text ${JSON.stringify(tr.text)}\n`);
        if (tr.chained !== undefined) process.stdout.write(`kv chain ${tr.chained ? 'ok' : 'BROKEN'}: every past_key_values input of step t+1 has the commitment of step t's present output\n`);
      }
    });
}
