/** `opml compile`. */
import type { Command } from 'commander';
import { CompileError } from './errors.ts';
import { progressReporter } from '../converter/progress.ts';

export function registerCompilerCommands(program: Command): void {
  program
    .command('compile')
    .summary('compile a graph bundle into deterministic per-node kernels')
    .description(
      'Compile every node of a graph bundle (from opml convert) into a WebAssembly kernel specialised to\n' +
        'its shapes and attributes, following the determinism contract (docs/determinism.md). Writes a\n' +
        'compiled bundle (manifest.json, kernels/, and the graph and weights) atomically.\n\n' +
        'Exit codes: 0 compiled, 2 an op has no kernel or the bundle is invalid, 1 other failure.',
    )
    .argument('<bundle>', 'graph bundle directory (model.opml)')
    .option('-o, --out <dir>', 'compiled bundle directory (default: BUNDLE with .opmlc)')
    .option('-q, --quiet', 'print only errors')
    .addHelpText('after', '\nExample:\n  opml convert models/fmnist-mlp/model.onnx -o out/mlp.opml && opml compile out/mlp.opml')
    .action(async (bundle: string, o: { out?: string; quiet?: boolean }) => {
      // binaryen is large: load it only when compiling
      const { compileBundle } = await import('./compile.ts');
      const out = o.out ?? bundle.replace(/\.opml\/?$/, '') + '.opmlc';
      const progress = progressReporter(!o.quiet);
      const t0 = performance.now();
      const m = compileBundle(bundle, out, { onProgress: (d, t) => progress('compile', d, t) });
      progress.done();
      if (!o.quiet) {
        process.stdout.write(`compiled ${m.nodes.length} nodes → ${out} in ${(performance.now() - t0).toFixed(0)} ms (arena ${(m.arena.bytes / 2 ** 20).toFixed(1)} MiB)\n`);
      }
    });
}

export function compilerErrorExit(e: unknown): { code: number; message: string } | undefined {
  if (e instanceof CompileError) return { code: 2, message: e.describe() };
  return undefined;
}
