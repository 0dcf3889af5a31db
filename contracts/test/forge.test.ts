/**
 * The forge side of the contracts, from `npm test`: `forge test` in contracts/ (offline, solc-js through
 * contracts/tools/solc-shim) must pass, and `forge snapshot --check` must match the committed
 * contracts/.gas-snapshot (the gas per OPVM instruction class, OPVMGasTest, and per external function of
 * the coordinator and the game, GameGasTest; regenerate it with
 * `cd contracts && npx forge snapshot --match-contract 'OPVMGasTest|GameGasTest'` when a change of gas is intended).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CONTRACTS_DIR } from '../ts/compile.ts';
import { foundryBinary } from '../ts/foundry.ts';

// The platform binary, not `npx forge`: the npm wrapper exits 0 even when forge fails.
const FORGE = foundryBinary('forge');

function forge(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(FORGE, args, {
    cwd: CONTRACTS_DIR,
    encoding: 'utf8',
    timeout: 15 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FOUNDRY_OFFLINE: 'true', NO_COLOR: '1' },
  });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** The lines of forge's output that say what failed (the whole output can be long). */
function failures(out: string): string {
  const lines = out.split('\n').filter((l) => /FAIL|Error|error\[|panicked|Diff in|↑|↓|-->/.test(l));
  return (lines.length ? lines : out.split('\n').slice(-40)).join('\n');
}

test('forge test: every Solidity test passes (unit, fuzz, golden vectors)', () => {
  const r = forge(['test']);
  assert.equal(r.status, 0, `forge test failed:\n${failures(r.out)}`);
  assert.match(r.out, /0 failed/);
});

test('forge snapshot --check: gas per OPVM instruction class and per external function matches contracts/.gas-snapshot', () => {
  assert.ok(fs.existsSync(path.join(CONTRACTS_DIR, '.gas-snapshot')), 'contracts/.gas-snapshot is missing');
  const r = forge(['snapshot', '--match-contract', 'OPVMGasTest|GameGasTest', '--check']);
  assert.equal(
    r.status, 0,
    `gas changed against contracts/.gas-snapshot (if intended: cd contracts && npx forge snapshot --match-contract 'OPVMGasTest|GameGasTest'):\n${failures(r.out)}`,
  );
});
