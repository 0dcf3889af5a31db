/**
 * Talking to an EVM chain over JSON-RPC (ethers): the provider, a party's signer, the coordinator and
 * game contracts, sending a transaction with a readable error for every custom-error revert, and the
 * gas ledger every party keeps. Keys come from a file or an environment variable, never from the
 * command line.
 */
import fs from 'node:fs';
import { Contract, ethers, JsonRpcProvider, NonceManager, Wallet } from 'ethers';
import type { ContractTransactionResponse, TransactionReceipt, TransactionResponse } from 'ethers';
import { COORDINATOR_ABI, ERRORS_ABI, GAME_ABI } from './abi.ts';

export class ChainError extends Error {
  override readonly name = 'ChainError';
}

export function connect(rpc: string): JsonRpcProvider {
  // No response cache and a short polling interval: a game reads state right after each move.
  return new JsonRpcProvider(rpc, undefined, { cacheTimeout: -1, pollingInterval: 50, batchMaxCount: 1 });
}

/** A private key from `--key-file FILE` or the environment variable `env` (default OPML_KEY). */
export function loadKey(keyFile: string | undefined, env = 'OPML_KEY'): string {
  let key: string | undefined;
  if (keyFile) {
    if (!fs.existsSync(keyFile)) throw new ChainError(`--key-file ${keyFile}: no such file`);
    key = fs.readFileSync(keyFile, 'utf8').trim();
  } else key = process.env[env]?.trim();
  if (!key) throw new ChainError(`no key: give --key-file FILE (a file holding a 0x-hex private key) or set ${env}`);
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) throw new ChainError(`the key${keyFile ? ` in ${keyFile}` : ` in ${env}`} is not a 32-byte hex private key`);
  return key.startsWith('0x') ? key : `0x${key}`;
}

export interface LedgerEntry {
  party: string;
  action: string;
  gas: bigint;
  tx: string;
}

/** Every transaction each party sent, with its gas. */
export class GasLedger {
  readonly entries: LedgerEntry[] = [];

  add(e: LedgerEntry): void {
    this.entries.push(e);
  }

  byParty(): Map<string, { txs: number; gas: bigint }> {
    const m = new Map<string, { txs: number; gas: bigint }>();
    for (const e of this.entries) {
      const x = m.get(e.party) ?? { txs: 0, gas: 0n };
      x.txs++;
      x.gas += e.gas;
      m.set(e.party, x);
    }
    return m;
  }
}

/** The coordinator and its game contract, bound to one signer. */
export interface Contracts {
  coordinator: Contract;
  game: Contract;
}

export async function contractsAt(address: string, runner: ethers.ContractRunner): Promise<Contracts> {
  const coordinator = new Contract(address, [...COORDINATOR_ABI, ...ERRORS_ABI], runner);
  let gameAddress: string;
  try {
    gameAddress = await coordinator.getFunction('game')();
  } catch (e) {
    throw new ChainError(`no OPML coordinator at ${address} (${shortError(e)}); deploy one with 'opml deploy'`);
  }
  return { coordinator, game: new Contract(gameAddress, [...GAME_ABI, ...ERRORS_ABI], runner) };
}

/**
 * A nonce-tracking signer whose gas estimates carry a margin: the estimate runs on the last block's
 * timestamp, and a game move mined one second later also charges the mover's chess clock (a storage
 * write the estimate did not see).
 */
class GameWallet extends Wallet {
  override async estimateGas(tx: ethers.TransactionRequest): Promise<bigint> {
    const g = await super.estimateGas(tx);
    return (g * 5n) / 4n + 20_000n;
  }
}

/** A signer with its own nonce tracking, the contracts, and the ledger its transactions go to. */
export class Party {
  readonly address: string;
  readonly signer: NonceManager;
  readonly contracts: Contracts;

  private constructor(readonly name: string, signer: NonceManager, address: string, contracts: Contracts, readonly ledger: GasLedger) {
    this.signer = signer;
    this.address = address;
    this.contracts = contracts;
  }

  static async create(name: string, provider: JsonRpcProvider, key: string, coordinator: string, ledger = new GasLedger()): Promise<Party> {
    const wallet = new GameWallet(key, provider);
    const signer = new NonceManager(wallet);
    return new Party(name, signer, wallet.address, await contractsAt(coordinator, signer), ledger);
  }

  get coordinator(): Contract {
    return this.contracts.coordinator;
  }

  get game(): Contract {
    return this.contracts.game;
  }

  private replayError(tx: TransactionResponse, r: TransactionReceipt | undefined): Promise<string> {
    return replayRevert(this.signer.provider!, tx, r);
  }

  /** Send a contract call, wait for it to be mined, record its gas; reverts become ChainErrors naming the custom error. */
  async send(action: string, call: () => Promise<ContractTransactionResponse | TransactionResponse>): Promise<TransactionReceipt> {
    let tx: ContractTransactionResponse | TransactionResponse;
    try {
      tx = await call();
    } catch (e) {
      this.signer.reset();
      throw new ChainError(`${this.name}: ${action} failed: ${shortError(e)}`);
    }
    const receipt = await minedReceipt(this.signer.provider!, tx.hash);
    if (receipt.status !== 1) throw new ChainError(`${this.name}: ${action} reverted in block ${receipt.blockNumber}: ${await this.replayError(tx, receipt)}`);
    this.ledger.add({ party: this.name, action, gas: receipt.gasUsed, tx: tx.hash });
    return receipt;
  }
}

/** Why a mined transaction reverted: the same call replayed on the state before its block. */
async function replayRevert(provider: ethers.Provider, tx: TransactionResponse, receipt: TransactionReceipt | undefined): Promise<string> {
  try {
    await provider.call({ to: tx.to, from: tx.from, data: tx.data, value: tx.value, gasLimit: tx.gasLimit, blockTag: receipt ? receipt.blockNumber - 1 : 'latest' });
    return receipt && receipt.gasUsed >= tx.gasLimit ? `out of gas (limit ${tx.gasLimit})` : 'the replay does not revert';
  } catch (e) {
    return shortError(e);
  }
}

const ERROR_IFACE = new ethers.Interface([...COORDINATOR_ABI, ...GAME_ABI, ...ERRORS_ABI]);

/** The useful part of an ethers error: the custom error's name and arguments when the contract reverted with one. */
export function shortError(e: unknown): string {
  const err = e as { revert?: { name: string; args: unknown[] }; data?: string; shortMessage?: string; message?: string; info?: { error?: { message?: string } } };
  if (err?.revert) return `${err.revert.name}(${err.revert.args.map(String).join(', ')})`;
  if (typeof err?.data === 'string' && err.data.length >= 10) {
    try {
      const parsed = ERROR_IFACE.parseError(err.data);
      if (parsed) return `${parsed.name}(${parsed.args.map(String).join(', ')})`;
    } catch { /* not one of ours */ }
    return `reverted with data ${err.data.slice(0, 10)}`;
  }
  return err?.info?.error?.message ?? err?.shortMessage ?? err?.message ?? String(e);
}

/**
 * The receipt of a sent transaction, by asking for it until it exists. ethers' `tx.wait()` waits for a
 * new block when the first look finds no receipt; anvil mines each transaction as it arrives but answers
 * the send slightly before the receipt exists (measured: 2 of 300 sends), and an idle anvil makes no
 * further block, so `wait()` could hang for good.
 */
export async function minedReceipt(provider: ethers.Provider, hash: string, timeoutMs = 600_000): Promise<TransactionReceipt> {
  const t0 = Date.now();
  for (let delay = 2; ; delay = Math.min(250, delay * 2)) {
    const r = await provider.getTransactionReceipt(hash);
    if (r) return r;
    if (Date.now() - t0 > timeoutMs) throw new ChainError(`transaction ${hash} was not mined within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The first event named `name` that `contract` emitted in a receipt (its decoded form), or null. */
export function eventOf(contract: Contract, receipt: TransactionReceipt, name: string): ethers.LogDescription | null {
  for (const log of receipt.logs) {
    let d: ethers.LogDescription | null = null;
    try { d = contract.interface.parseLog(log); } catch { /* another contract's event */ }
    if (d?.name === name) return d;
  }
  return null;
}

export const hexOf = (b: Uint8Array): string => ethers.hexlify(b);
export const bytesOf = (h: string): Uint8Array => ethers.getBytes(h);
