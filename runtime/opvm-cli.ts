/** `opml prove-step`, `opml verify-step` and `opml vectors`: the OPVM's proofs and golden vectors on the command line. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { RunError } from './native/executor.ts';
import { intArg } from './cli-args.ts';
import { ProofFormatError } from './opvm/proof.ts';
import type { StepProofFile } from './opvm/proof.ts';
import { checkOutputPath, examples, removeStaleTemps } from '../converter/cli-common.ts';
import { progressReporter } from '../converter/progress.ts';

export interface ChainCheckOptions {
  rpc?: string;
  verifier?: string;
  keyFile?: string;
}

/** The on-chain half of `verify-step --chain`; supplied by the composition root (runtime does not import contracts). */
export type ChainCheck = (file: StepProofFile, o: ChainCheckOptions) => Promise<{ ok: boolean; message: string; gasUsed?: bigint; gasDetail?: string }>;

export function registerOpvmCommands(program: Command, deps: { chainCheck?: ChainCheck } = {}): void {
  program
    .command('prove-step')
    .summary('prove one OPVM step of one node (phase 1 of the dispute game)')
    .description(
      'Run the model natively to get node K\'s inputs, run node K in the OPVM interpreter, and write the proof of step I (the transition from state I to state I+1, counted from the node\'s initial state) as JSON: {preState, postState, proof: {header, insnLeaf, insnPath, dataLeaf, dataPath}} with 0x-hex strings (docs/opvm.md §5). Nodes are numbered 1 … n as in opml trace. A step at or past the node\'s last step proves the halted fixed point. The file is written atomically.\n\n' +
        'Exit codes: 0 written, 2 a missing or damaged bundle, an unreadable or mismatched input, a node out of range or an output file that cannot be written, 1 other failure.',
    )
    .argument('<compiled>', 'compiled bundle directory (model.opmlc)')
    .requiredOption('--input <files...>', 'input files, in model order or as NAME=FILE')
    .requiredOption('--node <k>', 'node number, 1 … n', intArg('--node', 1))
    .requiredOption('--step <i>', 'step index within the node, from 0', intArg('--step', 0))
    .option('-o, --out <file>', 'write the proof here (default: stdout)')
    .option('--progress', 'show progress on stderr even when it is not a terminal (shown on a terminal when the work takes more than a second)')
    .addHelpText('after', examples(
      'opml prove-step out/cnn.opmlc --input models/fmnist-cnn/samples/input_0.pb --node 4 --step 1000000 -o proof.json',
      'opml verify-step proof.json',
    ))
    .action(async (dir: string, o: { input: string[]; node: number; step: number; out?: string; progress?: boolean }) => {
      if (o.out) {
        checkOutputPath(o.out, '-o', 'file');
        removeStaleTemps(o.out);
      }
      const { proveModelStep } = await import('./opvm/prove-model.ts');
      const t0 = performance.now();
      const progress = progressReporter(true, process.stderr, { force: o.progress });
      let file;
      try {
        file = await proveModelStep(dir, o.input, o.node, o.step, progress);
      } finally {
        progress.done();
      }
      const text = JSON.stringify(file, null, 1) + '\n';
      if (o.out) {
        fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
        const tmp = `${o.out}.tmp-${process.pid}`;
        try {
          fs.writeFileSync(tmp, text);
          fs.renameSync(tmp, o.out);
        } catch (e) {
          fs.rmSync(tmp, { force: true });
          throw e;
        }
        process.stderr.write(`node ${o.node} (${file.op}) has ${file.nodeSteps} steps; proof of step ${o.step} written to ${o.out} (${file.proofBytes} bytes packed, ${((performance.now() - t0) / 1000).toFixed(2)} s)\n`);
      } else process.stdout.write(text);
    });

  program
    .command('verify-step')
    .summary('check a step proof with the TypeScript verifier (and, with --chain, the deployed contract)')
    .description(
      'Check a proof written by opml prove-step: the header must hash to preState, the instruction (and data) leaf must lie under its memory root, and executing the instruction must give postState.\n\n' +
        'With --chain the proof is also checked by the Solidity verifier OPVM.step: on an anvil chain started for the check (OPVM deployed, the step sent as a real transaction), or on --rpc URL (the OPVM at --verifier ADDRESS, called with eth_call and eth_estimateGas, so no key is needed; without --verifier one is deployed with the key in --key-file or OPML_KEY). Both verdicts and the gas are printed.\n\n' +
        'Exit codes: 0 the proof holds (for both verifiers with --chain), 1 it does not (a wrong post-state or a revert), 2 the file is missing or not a proof, or the chain cannot be used.',
    )
    .argument('<proof>', 'proof JSON file')
    .option('--chain', 'also check with the OPVM contract on a chain (anvil unless --rpc)')
    .option('--rpc <url>', 'check on this chain instead of a local anvil (implies --chain)')
    .option('--verifier <address>', 'the deployed OPVM to call (default: deploy one; implies --chain)')
    .option('--key-file <file>', 'with --rpc and no --verifier: file holding the deployer\'s 0x-hex private key (default: OPML_KEY)')
    .addHelpText('after', examples(
      'opml verify-step proof.json',
      'opml verify-step proof.json --chain                # also the Solidity verifier, on an anvil it starts; prints the gas',
      'opml verify-step proof.json --chain --rpc http://127.0.0.1:8545 --verifier 0x5FbDB2315678afecb367f032d93F642f64180aa3',
    ))
    .action(async (file: string, o: ChainCheckOptions & { chain?: boolean }) => {
      const { checkProofFile } = await import('./opvm/prove-model.ts');
      if (!fs.existsSync(file)) throw new RunError(`${file}: no such file; give a proof written by 'opml prove-step'`);
      let json: unknown;
      try {
        json = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (e) {
        throw new ProofFormatError(`${file}: not JSON (${(e as Error).message}); give a proof written by 'opml prove-step'`);
      }
      const onChain = o.chain || o.rpc !== undefined || o.verifier !== undefined;
      let r;
      try {
        r = checkProofFile(json);
      } catch (e) {
        if (e instanceof ProofFormatError) throw new ProofFormatError(`${file}: ${e.message}${/prove-step/.test(e.message) ? '' : '; the proof is damaged, write it again with \'opml prove-step\''}`);
        throw e;
      }
      if (!onChain) {
        if (r.ok) process.stdout.write(`ok: ${r.message}\n`);
        else {
          process.stdout.write(`FAILED: ${r.message}\n`);
          process.exitCode = 1;
        }
        return;
      }
      if (!deps.chainCheck) throw new RunError('--chain: this opml has no on-chain verifier wired in');
      process.stdout.write(`TypeScript verifier: ${r.ok ? 'ok' : 'FAILED'}: ${r.message}\n`);
      const c = await deps.chainCheck(json as StepProofFile, { rpc: o.rpc, verifier: o.verifier, keyFile: o.keyFile });
      process.stdout.write(`contract verifier:   ${c.ok ? 'ok' : 'FAILED'}: ${c.message}\n`);
      if (c.gasUsed !== undefined) process.stdout.write(`gas used: ${c.gasUsed}${c.gasDetail ? ` (${c.gasDetail})` : ''}\n`);
      if (!r.ok || !c.ok) process.exitCode = 1;
    });

  program
    .command('vectors')
    .summary('regenerate the golden vectors in test-vectors/')
    .description(
      'Generate the golden vectors that TypeScript and Solidity must both reproduce: OPVM step vectors for every opcode with its edge cases, Merkle proofs, node initial-root composition, and whole-model traces of the bundled models. With --check nothing is written and the command fails when a committed file differs from what this code generates.',
    )
    .option('--out <dir>', 'output directory', 'test-vectors')
    .option('--check', 'compare with the committed files instead of writing')
    .option('--models <names...>', 'only these bundled models')
    .addHelpText('after', examples(
      'opml vectors --check                 # what CI runs: fails when test-vectors/ drifted from the code',
      'opml vectors --models fmnist-mlp     # regenerate only that model\'s trace vectors',
    ))
    .action(async (o: { out: string; check?: boolean; models?: string[] }) => {
      const { generateVectors, writeVectors, driftedVectors } = await import('./vectors/generate.ts');
      const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
      const files = await generateVectors(root, { models: o.models, onProgress: (w) => process.stderr.write(`generating ${w} …\n`) });
      if (o.check) {
        const drift = driftedVectors(o.out, files);
        if (drift.length) throw new RunError(`golden vectors drifted from the code: ${drift.join(', ')}; run 'opml vectors' and review the diff`);
        process.stdout.write(`${files.length} vector files match\n`);
      } else {
        const changed = writeVectors(o.out, files);
        process.stdout.write(`${files.length} vector files in ${o.out}; ${changed.length ? `changed: ${changed.join(', ')}` : 'none changed'}\n`);
      }
    });
}

export function opvmErrorExit(e: unknown): { code: number; message: string } | undefined {
  if (e instanceof ProofFormatError) return { code: 2, message: e.message };
  return undefined;
}
