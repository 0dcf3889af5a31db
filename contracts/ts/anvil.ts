/**
 * A local anvil chain for tests (node_modules/@foundry-rs/anvil's binary; offline): started on a free port,
 * stopped by its process id. Hardfork prague, as the contracts are compiled for (contracts/ts/compile.ts).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { foundryBinary } from './foundry.ts';

export interface Anvil {
  /** JSON-RPC URL, e.g. http://127.0.0.1:35875 */
  url: string;
  /** anvil's first default account (funded, unlocked) private key. */
  privateKey: string;
  stop(): Promise<void>;
}

/** anvil's well-known first dev account (mnemonic "test test … junk"); only for a local test chain. */
export const ANVIL_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

/**
 * Start anvil on a free port; extra arguments are passed through (e.g. ['--disable-block-gas-limit']).
 * `hardfork` defaults to prague (the contracts' EVM version); cancun is useful to measure gas without the
 * EIP-7623 calldata floor.
 */
export function startAnvil(args: readonly string[] = [], opts: { hardfork?: string; timeoutMs?: number } = {}): Promise<Anvil> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const child: ChildProcess = spawn(foundryBinary('anvil'), ['--port', '0', '--hardfork', opts.hardfork ?? 'prague', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise<Anvil>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`anvil did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /Listening on ([0-9.]+):(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining
        resolve({ url: `http://${m[1]}:${m[2]}`, privateKey: ANVIL_KEY_0, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited (${code}) before listening:\n${output}`));
    });
  });
}
