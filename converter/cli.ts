/** `opml convert` and `opml inspect`. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ConvertError } from './errors.ts';
import { readBundle, BundleError } from './bundle/read.ts';
import { formatSummary, summarise } from './inspect.ts';
import { progressReporter } from './progress.ts';
import { readTensorFile, TensorFileError } from './io/tensor-files.ts';
import { checkOutputPath, examples, OutputPathError, removeStaleTemps } from './cli-common.ts';
import { GRAPH_FILE } from './bundle/format.ts';

/** Parse repeated `--input-shape name=1x3x224x224` options. */
export function parseInputShape(value: string, prev: Map<string, number[]> = new Map()): Map<string, number[]> {
  const m = /^(.+)=(\d+(?:x\d+)*|scalar)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected NAME=DIMxDIM… (e.g. input=1x3x224x224, or NAME=scalar), got '${value}'`);
  const dims = m[2] === 'scalar' ? [] : m[2]!.split('x').map(Number);
  if (prev.has(m[1]!)) throw new InvalidArgumentError(`input '${m[1]}' given twice`);
  prev.set(m[1]!, dims);
  return prev;
}

function parseFreeze(value: string, prev: Map<string, string> = new Map()): Map<string, string> {
  const m = /^([^=]+)=(.+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected NAME=FILE, got '${value}'`);
  prev.set(m[1]!, m[2]!);
  return prev;
}

export function registerConverterCommands(program: Command): void {
  program
    .command('convert')
    .summary('convert an ONNX or TensorFlow.js model into an OPML graph bundle')
    .description(
      'Convert a model into an OPML graph bundle: a static-shaped graph IR (graph.json) and its weights (weights.bin), with a model hash that changes exactly when the computation changes.\n\n' +
        'MODEL is an .onnx file (IR 3–9, opsets 1–19) or a TensorFlow.js model.json (graph or layers model, weight shards beside it). Inputs with dynamic dimensions need --input-shape. The bundle is written atomically: on failure nothing is left behind.\n\n' +
        'Exit codes: 0 converted, 2 unsupported or malformed model (or a bad path), 1 other failure.',
    )
    .argument('<model>', 'model.onnx or model.json')
    .option('-o, --out <dir>', 'bundle directory (default: MODEL with .opml instead of its extension)')
    .option('--input-shape <name=dims>', 'fix an input shape, e.g. input=1x3x224x224 (repeatable)', parseInputShape)
    .option('--freeze-input <name=file>', 'make an input a constant read from a .pb/.npy/.json file, e.g. a shape fed as an input (repeatable)', parseFreeze)
    .option('-q, --quiet', 'print only errors')
    .option('--progress', 'show progress on stderr even when it is not a terminal (shown on a terminal when the work takes more than a second)')
    .addHelpText('after', examples(
      'opml convert models/fmnist-mlp/model.onnx                  # writes models/fmnist-mlp/model.opml',
      'opml convert bert.onnx --input-shape input_ids=1x128 --input-shape attention_mask=1x128 -o bert.opml',
      'opml convert web_model/model.json -o web.opml               # a TensorFlow.js model',
    ))
    .action(async (model: string, o: { out?: string; inputShape?: Map<string, number[]>; freezeInput?: Map<string, string>; quiet?: boolean; progress?: boolean }) => {
      // the front-ends (protobuf, TensorFlow.js, every op) load only when converting: every other command starts faster
      const { convertModel, defaultBundlePath } = await import('./convert.ts');
      const out = o.out ?? defaultBundlePath(model);
      checkBundleOutput(out, o.out ? '-o' : 'output');
      const frozenInputs = new Map([...(o.freezeInput ?? [])].map(([k, f]) => [k, readTensorFile(f)]));
      const progress = progressReporter(!o.quiet, process.stderr, { force: o.progress });
      const warnings = { warn: (m: string) => { if (!o.quiet) process.stderr.write(`warning: ${m}\n`); } };
      const t0 = performance.now();
      let r;
      try {
        r = convertModel(model, out, { inputShapes: o.inputShape, frozenInputs, warnings, onProgress: progress });
      } finally {
        progress.done();
      }
      if (!o.quiet) {
        const ms = (performance.now() - t0).toFixed(0);
        process.stdout.write(`converted ${model} → ${r.dir} (${r.graph.nodes.length} nodes, ${r.weightsBytes} weight bytes, ${ms} ms)\nmodel hash ${r.modelHash}\n`);
      }
    });

  program
    .command('inspect')
    .summary('summarise a graph bundle: ops, parameters, inputs, outputs, model hash')
    .argument('<bundle>', 'bundle directory made by opml convert')
    .option('--json', 'print the summary as JSON')
    .description('Summarise a graph bundle (from opml convert) or a compiled bundle: the op histogram, parameter count, inputs and outputs with their shapes, and the model hash.\n\nExit codes: 0 ok, 2 not a bundle or a damaged one.')
    .option('--verify', 'also re-hash every weight against graph.json')
    .addHelpText('after', examples(
      'opml inspect out/fmnist-mlp.opml',
      'opml inspect --json --verify out/fmnist-mlp.opml',
    ))
    .action((dir: string, o: { json?: boolean; verify?: boolean }) => {
      const b = readBundle(dir, { verifyWeights: o.verify });
      const s = summarise(b);
      process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s) + '\n');
    });
}

/** The bundle directory must be creatable, and if it exists, be a bundle (it is replaced). */
function checkBundleOutput(out: string, option: string): void {
  checkOutputPath(out, option, 'dir');
  removeStaleTemps(out);
  if (fs.existsSync(out) && !fs.existsSync(path.join(out, GRAPH_FILE))) {
    throw new OutputPathError(`${option} ${out} exists and is not an OPML bundle; choose another output path or remove it`);
  }
  if (fs.existsSync(path.join(out, 'manifest.json'))) {
    throw new OutputPathError(`${option} ${out} is a compiled bundle; write the graph bundle elsewhere (e.g. ${out.replace(/\.opmlc\/?$/, '')}.opml) or remove it`);
  }
}

/** Exit code and message for an error thrown by a converter command. */
export function converterErrorExit(e: unknown): { code: number; message: string } | undefined {
  if (e instanceof ConvertError) return { code: 2, message: e.describe() };
  if (e instanceof BundleError || e instanceof TensorFileError || e instanceof OutputPathError) return { code: 2, message: e.message };
  return undefined;
}
