/**
 * A local anvil chain for tests and the demo (node_modules/@foundry-rs/anvil's binary; offline): started on
 * a free port, stopped by its process id. Hardfork prague, as the contracts are compiled for
 * (contracts/ts/compile.ts).
 *
 * anvil logs every RPC call. Its output goes to a file, not a pipe: a pipe must be drained by this
 * process's event loop, and a caller that blocks (spawnSync of a long command) would let the pipe fill
 * and stall anvil mid-request.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HDNodeWallet } from 'ethers';
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
const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

/** The private key of anvil's funded dev account i (0 … 9); only for a local chain. */
export function anvilKey(i: number): string {
  return HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey;
}

/**
 * Start anvil on a free port; extra arguments are passed through (e.g. ['--disable-block-gas-limit']).
 * `hardfork` defaults to prague (the contracts' EVM version); cancun is useful to measure gas without the
 * EIP-7623 calldata floor.
 */
export async function startAnvil(args: readonly string[] = [], opts: { hardfork?: string; timeoutMs?: number } = {}): Promise<Anvil> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-anvil-'));
  const log = path.join(dir, 'anvil.log');
  const fd = fs.openSync(log, 'w');
  const child: ChildProcess = spawn(foundryBinary('anvil'), ['--port', '0', '--hardfork', opts.hardfork ?? 'prague', ...args], {
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  for (;;) {
    const out = fs.readFileSync(log, 'utf8');
    const m = /Listening on ([0-9.]+):(\d+)/.exec(out);
    if (m) return { url: `http://${m[1]}:${m[2]}`, privateKey: ANVIL_KEY_0, stop };
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`anvil exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}`);
    }
    if (Date.now() - t0 > timeoutMs) {
      await stop();
      throw new Error(`anvil did not start within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
