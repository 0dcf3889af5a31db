/** The `opml` command: each pipeline stage registers its own subcommands. */
import { Command, CommanderError } from 'commander';
import { registerConverterCommands, converterErrorExit } from '../converter/cli.ts';
import { registerCompilerCommands, compilerErrorExit } from '../compiler/cli.ts';
import { registerRuntimeCommands, registerTraceCommand, runtimeErrorExit } from '../runtime/cli.ts';
import { registerOpvmCommands, opvmErrorExit } from '../runtime/opvm-cli.ts';
import { registerGenerateCommand } from '../runtime/generate-cli.ts';
import { registerGameCommands, gameErrorExit } from '../runtime/game/cli.ts';
import { registerContractCommands } from '../contracts/ts/cli.ts';
import { examples, fsErrorExit } from '../converter/cli-common.ts';

const program = new Command('opml')
  .description('OPML: optimistic machine learning. Convert a model, compile it to deterministic kernels, run it, and settle its results on an EVM chain with a two-phase fraud proof.\n\nEvery command has its own help: opml help COMMAND or opml COMMAND --help.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText('after', examples(
    'opml demo                                                 # the whole protocol on a local chain, about 4 s',
    'opml convert models/fmnist-cnn/model.onnx -o out/cnn.opml  # ONNX or TensorFlow.js → graph bundle',
    'opml compile out/cnn.opml                                 # → out/cnn.opmlc: kernels, OPVM code, commitments',
    'opml run out/cnn.opmlc models/fmnist-cnn/samples/input_0.pb',
  ));

registerConverterCommands(program);
registerCompilerCommands(program);
registerRuntimeCommands(program);
registerTraceCommand(program);
registerGenerateCommand(program);
registerOpvmCommands(program, { chainCheck: async (f, o) => (await import('../contracts/ts/verify-onchain.ts')).verifyStepOnChain(f, o) });
registerContractCommands(program);
registerGameCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  const known = converterErrorExit(e) ?? compilerErrorExit(e) ?? runtimeErrorExit(e) ?? opvmErrorExit(e) ?? gameErrorExit(e) ?? fsErrorExit(e);
  if (known) {
    process.stderr.write(`error: ${known.message}\n`);
    process.exit(known.code);
  }
  process.stderr.write(`internal error: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
