/**
 * `opml verify-step --chain`: check a step proof file (runtime/opvm/proof.ts) with the Solidity verifier
 * OPVM.step on a chain, and measure what the step costs there.
 *
 *   - No rpc: start a local anvil (contracts/ts/anvil.ts), deploy OPVM with anvil's first dev key, read the
 *     post-state with eth_call, then send the same call as a real transaction: its receipt's gasUsed is
 *     the gas. The chain is stopped afterwards.
 *   - rpc and verifier: eth_call and eth_estimateGas against that OPVM; no key, nothing is sent.
 *   - rpc, no verifier: deploy OPVM with a key (--key-file or OPML_KEY), then as above.
 *
 * Execution gas (the contract alone, without the 21 000 base and the calldata) comes from a
 * debug_traceCall struct log when the node offers it (anvil does), else from gasUsed − intrinsic when
 * the EIP-7623 calldata floor does not hide it.
 */
import { ethers } from 'ethers';
import type { StepProofFile } from '../../runtime/opvm/proof.ts';
import { fromHex, packProof, proofFromJson } from '../../runtime/opvm/proof.ts';
import { ChainError, loadKey, minedReceipt, shortError } from '../../runtime/game/chain.ts';
import { compileContracts } from './compile.ts';
import { ANVIL_KEY_0, startAnvil } from './anvil.ts';
import type { Anvil } from './anvil.ts';
import { calldataCost } from './gas.ts';

export interface OnChainOptions {
  /** JSON-RPC endpoint; without it a local anvil is started and stopped. */
  rpc?: string;
  /** A deployed OPVM; without it one is deployed. */
  verifier?: string;
  /** With rpc and no verifier: the file holding the deployer's key (default: OPML_KEY). */
  keyFile?: string;
}

export interface OnChainResult {
  /** The call returned the file's postState. */
  ok: boolean;
  /** One line: what the contract said (post-state, or the custom error it reverted with). */
  message: string;
  /** The post-state hash OPVM.step returned (absent when it reverted). */
  postState?: string;
  /** Custom error (or other reason) of a revert. */
  revert?: string;
  /** Gas of the whole transaction (21 000 + calldata + execution, or the EIP-7623 floor when higher). */
  gasUsed?: bigint;
  /** 'transaction': a mined transaction's gasUsed; 'estimate': eth_estimateGas. */
  gasSource?: 'transaction' | 'estimate';
  /** The contract's execution alone, when it could be measured. */
  executionGas?: bigint;
  /** How the gas splits, one line. */
  gasDetail?: string;
  calldataBytes: number;
  /** 21 000 + 4 per zero and 16 per non-zero calldata byte. */
  intrinsicGas: number;
  /** EIP-7623: 21 000 + 10 × (zero bytes + 4 × non-zero bytes). */
  floorGas: number;
  verifier?: string;
  chainId?: bigint;
  /** A deployment made for this check (address and gas), when there was one. */
  deployed?: { address: string; gas: bigint };
}

const OPVM_UNIT = 'src/OPVM.sol';

function opvmArtifact() {
  const c = compileContracts({ only: [OPVM_UNIT] });
  if (!c.OPVM) throw new Error('contract OPVM missing from the compiled sources');
  return c.OPVM;
}

/** eth_chainId with a timeout: a JsonRpcProvider would retry an unreachable endpoint for ever. */
async function chainIdOf(rpc: string, timeoutMs = 10_000): Promise<bigint> {
  let res: Response;
  try {
    res = await fetch(rpc, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new ChainError(`cannot reach a chain at ${rpc} (${(e as Error).message}); start one (e.g. npx anvil) or leave out --rpc to let opml start anvil`);
  }
  const body = (await res.json().catch(() => null)) as { result?: string } | null;
  if (!res.ok || typeof body?.result !== 'string') throw new ChainError(`${rpc} answered eth_chainId with HTTP ${res.status}: not a JSON-RPC endpoint of an EVM chain`);
  return BigInt(body.result);
}

function provider(rpc: string, chainId: bigint): ethers.JsonRpcProvider {
  return new ethers.JsonRpcProvider(rpc, chainId, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1, pollingInterval: 50 });
}

/** Deploy OPVM; returns its address and the deployment's gas. */
export async function deployVerifier(signer: ethers.Signer): Promise<{ address: string; gas: bigint }> {
  const a = opvmArtifact();
  let k: ethers.BaseContract;
  try {
    k = await new ethers.ContractFactory(a.abi as ethers.InterfaceAbi, a.bytecode, signer).deploy();
  } catch (e) {
    throw new ChainError(`deploying the OPVM verifier failed: ${shortError(e)}`);
  }
  const r = await minedReceipt(signer.provider!, k.deploymentTransaction()!.hash);
  if (r.status !== 1) throw new ChainError(`deploying the OPVM verifier failed (tx ${r.hash})`);
  return { address: await k.getAddress(), gas: r.gasUsed };
}

/**
 * Execution gas of a call from a struct-log trace (debug_traceCall): gas available at the first
 * opcode minus gas left after the last. Undefined when the node has no debug namespace.
 */
async function tracedExecutionGas(p: ethers.JsonRpcProvider, tx: { to: string; data: string }): Promise<bigint | undefined> {
  try {
    const t = await p.send('debug_traceCall', [tx, 'latest', { disableStorage: true, disableMemory: true, disableStack: true }]) as
      { failed?: boolean; structLogs?: { gas: number; gasCost: number; depth: number }[] };
    const logs = t.structLogs ?? [];
    if (t.failed || logs.length === 0) return undefined;
    const first = logs[0]!, last = logs[logs.length - 1]!;
    return BigInt(first.gas - (last.gas - last.gasCost));
  } catch {
    return undefined;
  }
}

/** Check a proof file's step with OPVM.step on a chain (see the file comment). */
export async function verifyStepOnChain(file: StepProofFile, o: OnChainOptions = {}): Promise<OnChainResult> {
  const pre = ethers.hexlify(fromHex(file.preState, 'preState', 32));
  const want = ethers.hexlify(fromHex(file.postState, 'postState', 32));
  const proof = packProof(proofFromJson(file.proof));
  if (o.verifier !== undefined && !ethers.isAddress(o.verifier)) throw new ChainError(`--verifier ${o.verifier} is not an address`);

  const iface = new ethers.Interface(opvmArtifact().abi as ethers.InterfaceAbi);
  const data = iface.encodeFunctionData('step', [pre, proof]);
  const { intrinsic, floor } = calldataCost(ethers.getBytes(data));
  const calldataBytes = ethers.dataLength(data);

  let anvil: Anvil | null = null;
  let p: ethers.JsonRpcProvider | null = null;
  try {
    let where: string;
    let chainId: bigint;
    let signer: ethers.Signer | null = null;
    if (o.rpc) {
      chainId = await chainIdOf(o.rpc);
      p = provider(o.rpc, chainId);
      where = `${o.rpc} (chain ${chainId})`;
      if (!o.verifier) signer = new ethers.NonceManager(new ethers.Wallet(loadKey(o.keyFile), p));
    } else {
      try {
        anvil = await startAnvil();
      } catch (e) {
        throw new ChainError(`could not start anvil: ${(e as Error).message}`);
      }
      chainId = await chainIdOf(anvil.url);
      p = provider(anvil.url, chainId);
      where = `a local anvil (chain ${chainId})`;
      signer = new ethers.NonceManager(new ethers.Wallet(ANVIL_KEY_0, p));
    }

    let deployed: OnChainResult['deployed'];
    let verifier = o.verifier;
    if (verifier) {
      verifier = ethers.getAddress(verifier);
      if ((await p.getCode(verifier)) === '0x') throw new ChainError(`no contract at --verifier ${verifier} on ${where}`);
    } else {
      deployed = await deployVerifier(signer!);
      verifier = deployed.address;
    }
    const base = { calldataBytes, intrinsicGas: intrinsic, floorGas: floor, verifier, chainId, deployed };
    const at = `OPVM.step at ${verifier} on ${where}${deployed && o.rpc ? ` (deployed for this check, ${deployed.gas} gas)` : ''}`;
    const opvm = new ethers.Contract(verifier, iface, p);

    let post: string;
    try {
      post = (await opvm.getFunction('step').staticCall(pre, proof)) as string;
    } catch (e) {
      if ((e as { code?: string }).code === 'BAD_DATA') {
        throw new ChainError(`${verifier} on ${where} does not answer step(bytes32,bytes) with a bytes32: not an OPVM verifier`);
      }
      const why = shortError(e);
      return { ...base, ok: false, revert: why, message: `${at} reverts with ${why}` };
    }

    // Gas: a real transaction on our own chain; an estimate on someone else's.
    let gasUsed: bigint;
    let gasSource: 'transaction' | 'estimate';
    if (anvil) {
      const tx = await signer!.sendTransaction({ to: verifier, data });
      const r = await minedReceipt(p, tx.hash);
      if (r.status !== 1) throw new ChainError(`the transaction calling ${at} failed (tx ${tx.hash})`);
      gasUsed = r.gasUsed;
      gasSource = 'transaction';
    } else {
      gasUsed = await p.estimateGas({ to: verifier, data });
      gasSource = 'estimate';
    }
    let executionGas = await tracedExecutionGas(p, { to: verifier, data });
    if (executionGas === undefined && gasUsed > BigInt(floor)) executionGas = gasUsed - BigInt(intrinsic);
    const how = gasSource === 'transaction' ? 'a mined transaction' : 'eth_estimateGas';
    const std = `21000 + calldata ${intrinsic - 21000} for ${calldataBytes} bytes`;
    let gasDetail: string;
    if (executionGas === undefined) gasDetail = `${how}; ${std}, EIP-7623 floor ${floor}; execution not measurable on this node (no debug_traceCall)`;
    else if (BigInt(floor) > BigInt(intrinsic) + executionGas) gasDetail = `${how}; the EIP-7623 calldata floor, above ${std} + execution ${executionGas} = ${BigInt(intrinsic) + executionGas}`;
    else gasDetail = `${how}; ${std} + execution ${executionGas}; EIP-7623 floor ${floor}`;
    const ok = post.toLowerCase() === want.toLowerCase();
    return {
      ...base, ok, postState: post, gasUsed, gasSource, executionGas, gasDetail,
      message: ok ? `${at} returns ${post}, the file's post-state` : `${at} returns post-state ${post}, the file claims ${want}`,
    };
  } finally {
    p?.destroy();
    await anvil?.stop();
  }
}
