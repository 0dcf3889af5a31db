/** Parsers of command-line values shared by the runtime's and the contracts' commands (commander). */
import { InvalidArgumentError } from 'commander';
import { ethers } from 'ethers';

/** An integer from `min` to `max` (default: any safe integer ≥ min). */
export const intArg = (what: string, min: number, max = Number.MAX_SAFE_INTEGER) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `${what} must be an integer ≥ ${min}` : `${what} must be an integer from ${min} to ${max}`);
  }
  return n;
};

/** An amount of ether ("0.05"), as wei. */
export const ethArg = (what: string) => (v: string): bigint => {
  let w: bigint;
  try {
    w = ethers.parseEther(v);
  } catch {
    throw new InvalidArgumentError(`${what} must be an amount of ETH, e.g. 0.05`);
  }
  if (w < 0n) throw new InvalidArgumentError(`${what} must not be negative`);
  return w;
};
