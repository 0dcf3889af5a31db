/** Deployment parameters: the bonds and the chess clock (docs/game.md §1), and their defaults. */
import { ethers } from 'ethers';

export interface DeployOptions {
  submitterBond: bigint;
  challengerBond: bigint;
  clockSeconds: number;
}

export const DEFAULT_DEPLOY: DeployOptions = { submitterBond: ethers.parseEther('0.1'), challengerBond: ethers.parseEther('0.1'), clockSeconds: 3600 };
