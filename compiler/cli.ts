/** `opml compile`. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CompileError } from './errors.ts';
import { MANIFEST_FILE } from './format.ts';
import { progressReporter } from '../converter/progress.ts';
import { checkOutputPath, examples, OutputPathError, removeStaleTemps } from '../converter/cli-common.ts';
import { readBundle } from '../converter/bundle/read.ts';

export function registerCompilerCommands(program: Command): void {
  program
    .command('compile')
    .summary('compile a graph bundle into deterministic per-node kernels')
    .description(
      'Compile every node of a graph bundle (from opml convert) into a WebAssembly kernel specialised to its shapes and attributes, following the determinism contract (docs/determinism.md), and the same kernel lowered to OPVM bytecode with its Merkle commitments. Writes a compiled bundle (manifest.json, kernels/, opvm/, and the graph and weights) atomically: on failure nothing is left behind.\n\n' +
        'Exit codes: 0 compiled, 2 an op has no kernel, the bundle is invalid or the output path cannot be written, 1 other failure.',
    )
    .argument('<bundle>', 'graph bundle directory (model.opml)')
    .option('-o, --out <dir>', 'compiled bundle directory (default: BUNDLE with .opmlc)')
    .option('-q, --quiet', 'print only errors')
    .option('--progress', 'show progress on stderr even when it is not a terminal (shown on a terminal when the work takes more than a second)')
    .addHelpText('after', examples(
      'opml compile out/mlp.opml                      # writes out/mlp.opmlc',
      'opml convert models/fmnist-cnn/model.onnx -o out/cnn.opml && opml compile out/cnn.opml -o out/cnn.opmlc',
    ))
    .action(async (bundle: string, o: { out?: string; quiet?: boolean; progress?: boolean }) => {
      const out = o.out ?? bundle.replace(/\.opmlc?\/?$/, '') + '.opmlc';
      if (path.resolve(out) === path.resolve(bundle)) throw new OutputPathError(`${bundle}: the output would replace the input; give another one with -o`);
      checkOutputPath(out, o.out ? '-o' : 'output', 'dir');
      removeStaleTemps(out);
      if (fs.existsSync(out) && !fs.existsSync(path.join(out, MANIFEST_FILE))) {
        throw new OutputPathError(`${o.out ? '-o ' : ''}${out} exists and is not a compiled bundle; choose another output path or remove it`);
      }
      readBundle(bundle); // a missing or damaged bundle is reported before binaryen loads
      // binaryen is large: load it only when compiling
      const { compileBundle } = await import('./compile.ts');
      const progress = progressReporter(!o.quiet, process.stderr, { force: o.progress });
      const t0 = performance.now();
      let m;
      try {
        m = compileBundle(bundle, out, { onProgress: (d, t) => progress('compile', d, t) });
      } finally {
        progress.done();
      }
      if (!o.quiet) {
        process.stdout.write(`compiled ${m.nodes.length} nodes → ${out} in ${(performance.now() - t0).toFixed(0)} ms (arena ${(m.arena.bytes / 2 ** 20).toFixed(1)} MiB${m.arena.memories.length > 1 ? ` in ${m.arena.memories.length} memories` : ''})\n`);
      }
    });
}

export function compilerErrorExit(e: unknown): { code: number; message: string } | undefined {
  if (e instanceof CompileError) return { code: 2, message: e.describe() };
  return undefined;
}
