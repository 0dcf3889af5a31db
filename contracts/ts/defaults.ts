/**
 * Deployment parameters (docs/game.md §1): the bonds, each party's chess clock and the minimum challenge
 * window a request may ask for, in two profiles. `public` is for a real chain, where parties must have
 * days to notice and answer (Cannon's clock is 3.5 days, Arbitrum BOLD's challenge period 6.4 days);
 * `local` is for a development chain such as anvil, whose clock the demo and tests move forward.
 */
import { ethers } from 'ethers';

export interface DeployOptions {
  submitterBond: bigint;
  challengerBond: bigint;
  clockSeconds: number;
  /** Shortest challenge window a request may ask for (the coordinator refuses shorter ones). */
  minChallengeWindow: number;
}

const DAY = 86_400;

export const DEPLOY_PROFILES = {
  public: { submitterBond: ethers.parseEther('0.1'), challengerBond: ethers.parseEther('0.1'), clockSeconds: 3.5 * DAY, minChallengeWindow: 3.5 * DAY },
  local: { submitterBond: ethers.parseEther('0.1'), challengerBond: ethers.parseEther('0.1'), clockSeconds: 3600, minChallengeWindow: 1 },
} as const satisfies Record<string, DeployOptions>;

export type DeployProfile = keyof typeof DEPLOY_PROFILES;

/** Chain ids of development chains (anvil, hardhat), where `opml deploy` uses the local profile by default. */
export const LOCAL_CHAIN_IDS: readonly bigint[] = [31337n];

/** The profile for a chain: local on a development chain, public anywhere else. */
export function profileFor(chainId: bigint): DeployProfile {
  return LOCAL_CHAIN_IDS.includes(chainId) ? 'local' : 'public';
}
