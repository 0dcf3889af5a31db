/** `opml run`. */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { HostTensor } from '../converter/ir/host-tensor.ts';
import { NativeExecutor, RunError } from './native/executor.ts';
import { readTensorFile, TensorFileError, writeTensorPb } from '../converter/io/tensor-files.ts';
import { checkOutputPath, examples } from '../converter/cli-common.ts';
import { progressReporter } from '../converter/progress.ts';

/** The input files in model order, from arguments in model order or as NAME=FILE. */
export function inputFiles(names: readonly string[], args: readonly string[], types?: readonly { dtype: HostTensor['dtype']; shape: readonly number[] }[]): string[] {
  const byName = new Map<string, string>();
  const positional: string[] = [];
  for (const a of args) {
    const m = /^([^=]+)=(.+)$/.exec(a);
    if (m && names.includes(m[1]!)) byName.set(m[1]!, m[2]!);
    else positional.push(a);
  }
  if (byName.size && positional.length) throw new RunError('give inputs either all as NAME=FILE or all in model order, not mixed');
  const files = byName.size ? names.map((n) => byName.get(n)) : positional;
  if (files.length !== names.length || files.some((f) => !f)) {
    const missing = names.filter((n, i) => !files[i]);
    const list = names.map((n, i) => (types ? `${n}: ${types[i]!.dtype}[${types[i]!.shape.join('x')}]` : n)).join(', ');
    throw new RunError(`the model takes ${names.length} input${names.length > 1 ? 's' : ''} (${list}); ${files.length > names.length ? `got ${files.length} files` : `missing ${missing.join(', ') || `${names.length - files.length}`}`}`);
  }
  return files as string[];
}

export function resolveInputs(names: readonly string[], types: readonly { dtype: HostTensor['dtype']; shape: readonly number[] }[], args: readonly string[]): HostTensor[] {
  const files = inputFiles(names, args, types);
  return files.map((f, i) => {
    const t = readTensorFile(f!, types[i]);
    const want = types[i]!;
    if (t.dtype !== want.dtype || t.shape.length !== want.shape.length || t.shape.some((d, k) => d !== want.shape[k])) {
      throw new RunError(`input '${names[i]}' from ${f}: expected ${want.dtype}[${want.shape.join('x')}], the file holds ${t.dtype}[${t.shape.join('x')}]; give a file with that dtype and shape`);
    }
    return t;
  });
}

export function summary(name: string, t: HostTensor): string {
  const head = `${name}: ${t.dtype}[${t.shape.join('x')}]`;
  const n = t.data.length;
  if (t.dtype === 'float32' && n > 1 && n <= 100000 && t.shape.filter((d) => d > 1).length === 1) {
    const idx = [...Array(n).keys()].sort((a, b) => (t.data[b] as number) - (t.data[a] as number) || a - b).slice(0, 5);
    return `${head}  top-${idx.length}: ${idx.map((i) => `#${i} ${(t.data[i] as number).toPrecision(5)}`).join(', ')}`;
  }
  const vals = [...t.data.subarray(0, 8)].map((v) => (typeof v === 'bigint' ? v.toString() : Number(v).toPrecision(5)));
  return `${head}  ${vals.join(', ')}${n > 8 ? ', …' : ''}`;
}

export function registerRuntimeCommands(program: Command): void {
  program
    .command('run')
    .summary('run a compiled model on inputs')
    .description(
      'Run a compiled bundle (from opml compile) with the native executor, or with --engine vm in the OPVM interpreter (the machine the dispute game re-executes: slow, same bytes). Inputs are ONNX TensorProto (.pb), NumPy (.npy) or JSON files, given in the model\'s input order or as NAME=FILE; each must have the dtype and shape the model declares. With --out the outputs are written as DIR/output_0.pb, output_1.pb … (the ONNX test-data layout); without it a summary is printed (shapes, top-5 for vectors such as classifier logits).\n\n' +
        'Exit codes: 0 ran, 2 a missing or damaged bundle, an unreadable or mismatched input, or an output directory that cannot be written, 1 other failure.',
    )
    .argument('<compiled>', 'compiled bundle directory (model.opmlc)')
    .argument('<inputs...>', 'input files, in model order or as NAME=FILE')
    .option('--out <dir>', 'write outputs as TensorProto files into DIR')
    .option('--engine <engine>', 'native (fast, WebAssembly) or vm (the OPVM interpreter; prints step counts)', (v) => {
      if (v !== 'native' && v !== 'vm') throw new InvalidArgumentError('expected native or vm');
      return v;
    }, 'native')
    .option('--threads <n>', 'worker threads for large kernels (results are identical for any n)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected an integer from 1 to 64');
      return n;
    }, Math.min(4, os.availableParallelism()))
    .option('--progress', 'with --engine vm: each node\'s steps on stderr as it finishes, also when stderr is not a terminal')
    .addHelpText('after', examples(
      'opml run out/mlp.opmlc models/fmnist-mlp/samples/input_0.pb               # prints the top-5 logits',
      'opml run out/mlp.opmlc image=models/fmnist-mlp/samples/input_0.pb --out /tmp/result',
      'opml run out/mlp.opmlc models/fmnist-mlp/samples/input_0.pb --engine vm   # the OPVM: same bytes, step counts',
    ))
    .action(async (dir: string, inputs: string[], o: { out?: string; threads: number; engine: 'native' | 'vm'; progress?: boolean }) => {
      if (o.out) checkOutputPath(o.out, '--out', 'dir');
      if (o.engine === 'vm') return runVm(dir, inputs, o.out, o.progress === true);
      const ex = await NativeExecutor.load(dir, { threads: o.threads });
      const g = ex.graph;
      const ins = resolveInputs(g.inputs.map((i) => g.tensors[i]!.name), g.inputs.map((i) => g.tensors[i]!), inputs);
      const t0 = performance.now();
      const outs = ex.run(ins);
      const ms = performance.now() - t0;
      if (o.out) {
        writeOutputs(o.out, g.outputs.map((id) => g.tensors[id]!.name), outs);
        process.stdout.write(`wrote ${outs.length} output${outs.length > 1 ? 's' : ''} to ${o.out} (${ms.toFixed(2)} ms)\n`);
      } else {
        outs.forEach((t, i) => process.stdout.write(summary(g.tensors[g.outputs[i]!]!.name, t) + '\n'));
        process.stdout.write(`(${ms.toFixed(2)} ms, ${ex.threads} thread${ex.threads > 1 ? 's' : ''})\n`);
      }
      await ex.close();
    });
}

/** The OPVM run: on a terminal a line per node redrawn in place, with --progress a line per node, else quiet. */
async function runVm(dir: string, inputs: string[], out: string | undefined, progress: boolean): Promise<void> {
  const { VmExecutor } = await import('./opvm/vm-executor.ts');
  const ex = VmExecutor.load(dir);
  const g = ex.graph;
  const ins = resolveInputs(g.inputs.map((i) => g.tensors[i]!.name), g.inputs.map((i) => g.tensors[i]!), inputs);
  const t0 = performance.now();
  const tty = process.stderr.isTTY;
  const { outputs, stats } = ex.run(ins, {
    onNode: (s, total) => {
      const n = g.nodes[s.index - 1]!;
      const line = `node ${s.index}/${total} ${n.op} '${n.name}': ${s.steps.toLocaleString('en')} steps, ${s.ms.toFixed(0)} ms`;
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (progress) process.stderr.write(line + '\n');
    },
  });
  if (tty) process.stderr.write('\r\x1b[K');
  const ms = performance.now() - t0;
  const steps = stats.reduce((a, s) => a + s.steps, 0);
  if (out) {
    writeOutputs(out, g.outputs.map((id) => g.tensors[id]!.name), outputs);
    process.stdout.write(`wrote ${outputs.length} output${outputs.length > 1 ? 's' : ''} to ${out}\n`);
  } else outputs.forEach((t, i) => process.stdout.write(summary(g.tensors[g.outputs[i]!]!.name, t) + '\n'));
  process.stdout.write(`(OPVM: ${steps.toLocaleString('en')} steps over ${stats.length} nodes in ${(ms / 1000).toFixed(2)} s, ${(steps / ms / 1000).toFixed(1)} M steps/s)\n`);
}

/**
 * Write DIR/output_<i>.pb for every output, all or none: each goes to a temporary file first, and only when
 * all are written are they renamed into place (a directory created for them is removed on failure).
 */
export function writeOutputs(dir: string, names: readonly string[], outs: readonly HostTensor[]): void {
  const created = !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = outs.map((_, i) => path.join(dir, `.output_${i}.pb.tmp-${process.pid}`));
  try {
    outs.forEach((t, i) => writeTensorPb(tmp[i]!, names[i]!, t));
    tmp.forEach((f, i) => fs.renameSync(f, path.join(dir, `output_${i}.pb`)));
  } catch (e) {
    for (const f of tmp) fs.rmSync(f, { force: true });
    if (created) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export function registerTraceCommand(program: Command): void {
  program
    .command('trace')
    .summary('run a compiled model and print its graph-state roots S_0 … S_n')
    .description(
      'Run a compiled bundle natively and print the phase-2 trace of the dispute game: the constant-state root, S_0 (constants and inputs) and S_k after each node k, and the commitment of every output (docs/commitments.md). Inputs as for opml run.\n\n' +
        'Exit codes: 0 traced, 2 a missing or damaged bundle or an unreadable or mismatched input, 1 other failure.',
    )
    .argument('<compiled>', 'compiled bundle directory (model.opmlc)')
    .argument('<inputs...>', 'input files, in model order or as NAME=FILE')
    .option('--json', 'print the trace as JSON')
    .option('--progress', 'show progress on stderr even when it is not a terminal (shown on a terminal when the work takes more than a second)')
    .addHelpText('after', examples(
      'opml trace out/fmnist-cnn.opmlc models/fmnist-cnn/samples/input_0.pb',
      'opml trace out/fmnist-cnn.opmlc image=input.npy --json > trace.json',
    ))
    .action(async (dir: string, inputs: string[], o: { json?: boolean; progress?: boolean }) => {
      const { traceRun, formatTrace } = await import('./native/trace.ts');
      const { toHex } = await import('../converter/ir/keccak.ts');
      const ex = await NativeExecutor.load(dir);
      const g = ex.graph;
      const ins = resolveInputs(g.inputs.map((i) => g.tensors[i]!.name), g.inputs.map((i) => g.tensors[i]!), inputs);
      const progress = progressReporter(true, process.stderr, { force: o.progress });
      let t;
      try {
        t = traceRun(ex, ins, progress, dir);
      } finally {
        progress.done();
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({
          modelHash: ex.manifest.modelHash,
          constantState: toHex(t.constantState),
          states: t.states.map(toHex),
          outputs: g.outputs.map((id) => ({ name: g.tensors[id]!.name, slot: id, commitment: toHex(t.commitments[id]!) })),
        }, null, 2) + '\n');
      } else {
        process.stdout.write(formatTrace(ex, t) + '\n');
        for (const id of g.outputs) process.stdout.write(`output ${g.tensors[id]!.name} (slot ${id})  ${toHex(t.commitments[id]!)}\n`);
      }
      await ex.close();
    });
}

export function runtimeErrorExit(e: unknown): { code: number; message: string } | undefined {
  if (e instanceof RunError || e instanceof TensorFileError) return { code: 2, message: e.message };
  return undefined;
}
