/**
 * Deploying OPML: the OPVM verifier, then the task coordinator (which creates its dispute game), compiled
 * with solc-js (contracts/ts/compile.ts), with the bonds and chess clock given. The deployment is written
 * as JSON so that the other commands find the coordinator.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ContractFactory } from 'ethers';
import type { ethers } from 'ethers';
import type { Signer } from 'ethers';
import { compileContracts } from './compile.ts';
import { minedReceipt } from '../../runtime/game/chain.ts';

import type { DeployOptions } from './defaults.ts';
import { DEPLOY_PROFILES } from './defaults.ts';

export interface Deployment {
  format: 'opml-deployment';
  chainId: string;
  coordinator: string;
  game: string;
  verifier: string;
  submitterBond: string;
  challengerBond: string;
  clockSeconds: number;
  minChallengeWindow: number;
  block: number;
  gas: { verifier: string; coordinator: string };
}

export async function deploy(signer: Signer, o: DeployOptions = DEPLOY_PROFILES.local): Promise<Deployment> {
  const c = compileContracts();
  const need = (name: string) => {
    const x = c[name];
    if (!x) throw new Error(`contract ${name} missing from the compiled sources`);
    return x;
  };
  const opvm = need('OPVM');
  const vf = await new ContractFactory(opvm.abi as ethers.InterfaceAbi, opvm.bytecode, signer).deploy();
  const vr = await minedReceipt(signer.provider!, vf.deploymentTransaction()!.hash);
  const tc = need('TaskCoordinator');
  const cf = await new ContractFactory(tc.abi as ethers.InterfaceAbi, tc.bytecode, signer).deploy(o.submitterBond, o.challengerBond, o.clockSeconds, o.minChallengeWindow, await vf.getAddress());
  const cr = await minedReceipt(signer.provider!, cf.deploymentTransaction()!.hash);
  const coordinator = await cf.getAddress();
  const game = await cf.getFunction('game')() as string;
  const net = await signer.provider!.getNetwork();
  return {
    format: 'opml-deployment', chainId: net.chainId.toString(), coordinator, game, verifier: await vf.getAddress(),
    submitterBond: o.submitterBond.toString(), challengerBond: o.challengerBond.toString(), clockSeconds: o.clockSeconds, minChallengeWindow: o.minChallengeWindow,
    block: cr.blockNumber, gas: { verifier: vr.gasUsed.toString(), coordinator: cr.gasUsed.toString() },
  };
}

export function writeDeployment(file: string, d: Deployment): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(d, null, 1) + '\n');
  fs.renameSync(`${file}.tmp`, file);
}
