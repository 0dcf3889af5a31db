/** `opml deploy` and `opml demo`: the commands that deploy the contracts (and, for the demo, run everything). */
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ethers, Wallet } from 'ethers';
import { addChainOptions, DEPLOYMENT_FILE } from '../../runtime/game/cli.ts';
import { ChainError, connect, loadKey, shortError } from '../../runtime/game/chain.ts';
import { CHEATS, MAX_DISSECTION, MIN_DISSECTION } from '../../runtime/game/options.ts';
import type { CheatKind } from '../../runtime/game/options.ts';
import { RunError } from '../../runtime/native/executor.ts';
import { ethArg, intArg } from '../../runtime/cli-args.ts';
import type { Anvil } from './anvil.ts';
import type { DeployProfile } from './defaults.ts';
import { DEPLOY_PROFILES, profileFor } from './defaults.ts';
import { bundledFile } from '../../converter/cli-common.ts';


export function registerContractCommands(program: Command): void {
  addChainOptions(program
    .command('deploy')
    .summary('deploy the OPVM verifier, the task coordinator and its dispute game')
    .description(`Compile the contracts (solc-js, offline) and deploy them; the addresses go to ./${DEPLOYMENT_FILE} (or -o FILE), where the other chain commands find them. Parameters come from a profile: public (clocks and minimum challenge window of 3.5 days, for a real chain) or local (a 1 h clock and a 1 s minimum window, for anvil); the default is local on a development chain (chain id 31337) and public anywhere else.`)
    .addOption(new Option('--profile <name>', 'parameter profile (default: by chain id)').choices(Object.keys(DEPLOY_PROFILES)))
    .option('--submitter-bond <eth>', 'bond of a result (default: the profile\'s)', ethArg('--submitter-bond'))
    .option('--challenger-bond <eth>', 'bond of a challenge (default: the profile\'s)', ethArg('--challenger-bond'))
    .option('--clock <seconds>', 'each party\'s chess clock per game (default: the profile\'s)', intArg('--clock', 1))
    .option('--min-window <seconds>', 'shortest challenge window a request may ask for (default: the profile\'s)', intArg('--min-window', 1))
    .option('-o, --out <file>', 'deployment file', DEPLOYMENT_FILE)
    .addHelpText('after', '\nExamples:\n  npx anvil &   # a local chain: the local profile\n  OPML_KEY=0xac09…ff80 opml deploy --rpc http://127.0.0.1:8545\n  opml deploy --rpc https://rpc.example --key-file deployer.key --profile public --submitter-bond 1'), false)
    .action(async (o: { rpc: string; keyFile?: string; profile?: DeployProfile; submitterBond?: bigint; challengerBond?: bigint; clock?: number; minWindow?: number; out: string }) => {
      const provider = connect(o.rpc);
      try {
        await provider.getBlockNumber();
      } catch {
        throw new ChainError(`cannot reach a chain at ${o.rpc}; start one (e.g. npx anvil) or pass --rpc URL`);
      }
      const signer = new Wallet(loadKey(o.keyFile), provider);
      const { deploy, writeDeployment } = await import('./deploy.ts');
      const profile = o.profile ?? profileFor((await provider.getNetwork()).chainId);
      const base = DEPLOY_PROFILES[profile];
      const params = {
        submitterBond: o.submitterBond ?? base.submitterBond, challengerBond: o.challengerBond ?? base.challengerBond,
        clockSeconds: o.clock ?? base.clockSeconds, minChallengeWindow: o.minWindow ?? base.minChallengeWindow,
      };
      process.stderr.write(`profile ${profile}: bonds ${ethers.formatEther(params.submitterBond)} / ${ethers.formatEther(params.challengerBond)} ETH, clock ${params.clockSeconds} s, minimum challenge window ${params.minChallengeWindow} s\n`);
      let d;
      try {
        d = await deploy(signer, params);
      } catch (e) {
        throw new ChainError(`deployment failed: ${shortError(e)}`);
      }
      writeDeployment(o.out, d);
      process.stdout.write(`coordinator ${d.coordinator}\ngame        ${d.game}\nverifier    ${d.verifier}\nwritten to ${o.out}\n`);
    });

  program
    .command('demo')
    .summary('the whole protocol on a local chain: a cheater loses a dispute, an honest result finalizes')
    .description(
      'Start an anvil chain (or use --rpc), deploy the contracts, register a bundled model (converted and ' +
        'compiled on the way), request an inference on a bundled input, let a cheating submitter answer and ' +
        'an honest challenger win the two-phase dispute down to one on-chain OPVM step, then let an honest ' +
        'submitter answer the reopened task and the result finalize after its window. Prints the game as it ' +
        'goes and a summary (rounds, transactions, gas per party, time). Exits 0 only when the cheater lost and ' +
        'the honest result is final.\n\n' +
        'Cheats: wrong-output (the model\'s output altered), wrong-tensor (an intermediate tensor altered), ' +
        'wrong-step (one OPVM step computes a wrong value).',
    )
    .option('--model <file>', 'ONNX or TensorFlow.js model, or a compiled bundle', bundledFile('models/fmnist-cnn/model.onnx'))
    .option('--input <file>', 'the input (.pb, .npy, .json)', bundledFile('models/fmnist-cnn/samples/input_0.pb'))
    .option('--rpc <url>', 'use this chain instead of starting anvil (needs a funded key: --key-file or OPML_KEY)')
    .option('--key-file <file>', 'with --rpc: file holding the funding account\'s private key')
    .option('--dissection <n>', `dissection degree (${MIN_DISSECTION} … ${MAX_DISSECTION})`, intArg('--dissection', MIN_DISSECTION, MAX_DISSECTION), 2)
    .addOption(new Option('--cheat <kind>', 'how the cheating submitter lies').choices([...CHEATS]).default('wrong-step'))
    .option('--cheat-node <k>', 'the node the cheat targets (default: the output node for wrong-output, else the node with the most work)', intArg('--cheat-node', 1))
    .option('--work-dir <dir>', 'where the converted and compiled model go', 'out/demo')
    .addHelpText('after', '\nExamples:\n  opml demo\n  opml demo --dissection 8 --cheat wrong-output\n  opml demo --model models/fmnist-mlp/model.onnx --input models/fmnist-mlp/samples/input_1.pb')
    .action(async (o: { model: string; input: string; rpc?: string; keyFile?: string; dissection: number; cheat: CheatKind; cheatNode?: number; workDir: string }) => {
      let chain: Anvil | null = null;
      const stop = () => {
        process.stderr.write('\ninterrupted: stopping the chain\n');
        void (chain ? chain.stop() : Promise.resolve()).then(() => process.exit(130));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const { runDemo } = await import('./demo.ts');
      const s = await runDemo({
        model: o.model, input: o.input, rpc: o.rpc, keyFile: o.keyFile, dissection: o.dissection, cheat: o.cheat, cheatNode: o.cheatNode,
        workDir: path.resolve(o.workDir), print: (l) => process.stdout.write(l + '\n'), onChain: (a) => { chain = a; },
      });
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (!s.ok) throw new RunError('the demo did not end as it must');
    });
}
