/**
 * `opml verify-step --chain` as a user calls it: proofs of real steps of a compiled model (an ALU step, a
 * load, a store) hold for the TypeScript verifier and for OPVM.step on an anvil the command starts, with
 * the gas printed; a tampered post-state or path fails (the contract names its custom error); --rpc with
 * --verifier needs no key, --rpc without one deploys with OPML_KEY. And every golden step vector of
 * test-vectors/opvm-steps.json through the deployed contract (batched eth_calls) gives its postState.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ethers } from 'ethers';
import { startAnvil, ANVIL_KEY_0 } from '../ts/anvil.ts';
import type { Anvil } from '../ts/anvil.ts';
import { deployVerifier } from '../ts/verify-onchain.ts';
import { compileContracts } from '../ts/compile.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'opml.mjs');
const SAMPLE = path.join(ROOT, 'models/fmnist-mlp/samples/input_2.pb');
/** The children never see the caller's key or chain unless a test gives them. */
const baseEnv = () => {
  const e = { ...process.env };
  delete e.OPML_KEY;
  delete e.OPML_RPC;
  return e;
};

function opml(args: string[], env: NodeJS.ProcessEnv = baseEnv()): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d: Buffer) => { out += d; });
    c.stderr.on('data', (d: Buffer) => { err += d; });
    c.once('error', reject);
    c.once('close', (code) => resolve({ code, out, err }));
  });
}
const show = (r: { out: string; err: string }) => `stdout:\n${r.out}\nstderr:\n${r.err}`;

interface ProofJson { node: number; step: number; preState: string; postState: string; proof: { insnLeaf: string | null; insnPath: string[] | null; dataLeaf: string | null; dataPath: string[] | null } }

let dir: string;
let anvil: Anvil;
let provider: ethers.JsonRpcProvider;
let verifier: string;
/** Proof files by kind: an ALU (or branch) step, a load, a store. */
const proofs: Record<'alu' | 'load' | 'store', string> = { alu: '', load: '', store: '' };

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-verify-chain-'));
  const sync = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: baseEnv() });
    assert.equal(r.status, 0, `opml ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  };
  sync('convert', 'models/fmnist-mlp/model.onnx', '-o', path.join(dir, 'mlp.opml'), '-q');
  sync('compile', path.join(dir, 'mlp.opml'));
  // Node 1 copies its input in a short loop: eight consecutive steps hold a load, a store and ALU steps.
  const steps = Array.from({ length: 8 }, (_, i) => 1000 + i);
  const made = await Promise.all(steps.map(async (s) => {
    const f = path.join(dir, `step${s}.json`);
    const r = await opml(['prove-step', path.join(dir, 'mlp.opmlc'), '--input', SAMPLE, '--node', '1', '--step', String(s), '-o', f]);
    assert.equal(r.code, 0, show(r));
    return f;
  }));
  for (const f of made) {
    const j = JSON.parse(fs.readFileSync(f, 'utf8')) as ProofJson;
    const op = j.proof.insnLeaf ? parseInt(j.proof.insnLeaf.slice(2, 4), 16) : -1;
    const kind = j.proof.dataLeaf ? (op >= 0xb0 && op <= 0xb3 ? 'store' : 'load') : j.proof.insnLeaf ? 'alu' : null;
    if (kind && !proofs[kind]) proofs[kind] = f;
  }
  assert.ok(proofs.alu && proofs.load && proofs.store, `steps 1000 … 1007 of node 1 should hold an ALU step, a load and a store: ${JSON.stringify(proofs)}`);

  anvil = await startAnvil();
  provider = new ethers.JsonRpcProvider(anvil.url, 31337n, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1, pollingInterval: 50 });
  verifier = (await deployVerifier(new ethers.NonceManager(new ethers.Wallet(ANVIL_KEY_0, provider)))).address;
});

after(async () => {
  provider?.destroy();
  await anvil?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const tamper = (file: string, name: string, f: (j: ProofJson) => void): string => {
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as ProofJson;
  f(j);
  const out = path.join(dir, name);
  fs.writeFileSync(out, JSON.stringify(j));
  return out;
};
const flipLastNibble = (h: string) => h.slice(0, -1) + (h.endsWith('0') ? '1' : '0');
const gasOf = (out: string) => {
  const m = /^gas used: (\d+) \(a mined transaction; .*execution (\d+)/m.exec(out);
  assert.ok(m, `no gas line in:\n${out}`);
  return { total: Number(m[1]), execution: Number(m[2]) };
};

test('verify-step --chain: real ALU, load and store steps hold on anvil, with the gas; tampered proofs fail', async () => {
  const badPost = tamper(proofs.alu, 'bad-post.json', (j) => { j.postState = '0x' + '11'.repeat(32); });
  const badInsnPath = tamper(proofs.alu, 'bad-insn-path.json', (j) => { j.proof.insnPath![3] = flipLastNibble(j.proof.insnPath![3]!); });
  const badDataPath = tamper(proofs.load, 'bad-data-path.json', (j) => { j.proof.dataPath![5] = flipLastNibble(j.proof.dataPath![5]!); });
  const [alu, load, store, post, insnPath, dataPath] = await Promise.all(
    [proofs.alu, proofs.load, proofs.store, badPost, badInsnPath, badDataPath].map((f) => opml(['verify-step', f, '--chain'])),
  );

  for (const [r, what, limit] of [[alu!, 'ALU', 100_000], [load!, 'load', 100_000], [store!, 'store', 100_000]] as const) {
    assert.equal(r.code, 0, `${what}: ${show(r)}`);
    assert.match(r.out, /^TypeScript verifier: ok: step 100\d of node 1/m, what);
    assert.match(r.out, /^contract verifier: +ok: OPVM\.step at 0x[0-9a-fA-F]{40} on a local anvil \(chain 31337\) returns 0x[0-9a-f]{64}, the file's post-state$/m, what);
    const g = gasOf(r.out);
    assert.ok(g.total > 21_000 && g.total <= limit, `${what}: ${g.total} gas`);
    assert.ok(g.execution > 1_000 && g.execution < g.total - 21_000, `${what}: execution ${g.execution}`);
  }
  assert.match(load!.out, /\(LOAD/);
  assert.match(store!.out, /\(STORE/);
  assert.ok(gasOf(load!.out).execution > gasOf(alu!.out).execution, 'a load proves a data leaf too');

  assert.equal(post!.code, 1, show(post!));
  assert.match(post!.out, /^TypeScript verifier: FAILED: .*the file claims 0x(11){32}$/m);
  assert.match(post!.out, /^contract verifier: +FAILED: OPVM\.step at .* returns post-state 0x[0-9a-f]{64}, the file claims 0x(11){32}$/m);
  assert.match(post!.out, /^gas used: \d+/m);

  assert.equal(insnPath!.code, 1, show(insnPath!));
  assert.match(insnPath!.out, /^TypeScript verifier: FAILED: /m);
  assert.match(insnPath!.out, /^contract verifier: +FAILED: OPVM\.step at .* reverts with BadInsnProof\(\)$/m);
  assert.doesNotMatch(insnPath!.out, /^gas used/m);

  assert.equal(dataPath!.code, 1, show(dataPath!));
  assert.match(dataPath!.out, /^contract verifier: +FAILED: .* reverts with BadDataProof\(\)$/m);
});

test('verify-step --chain --rpc: --verifier needs no key (eth_estimateGas); without it OPML_KEY deploys one; bad chains and addresses exit 2', async () => {
  const [withVerifier, noKey, withKey, notContract, unreachable, noChainFlag] = await Promise.all([
    opml(['verify-step', proofs.store, '--chain', '--rpc', anvil.url, '--verifier', verifier]),
    opml(['verify-step', proofs.alu, '--chain', '--rpc', anvil.url]),
    opml(['verify-step', proofs.alu, '--chain', '--rpc', anvil.url], { ...baseEnv(), OPML_KEY: ANVIL_KEY_0 }),
    opml(['verify-step', proofs.alu, '--chain', '--rpc', anvil.url, '--verifier', '0x' + '12'.repeat(20)]),
    opml(['verify-step', proofs.alu, '--chain', '--rpc', 'http://127.0.0.1:1']),
    opml(['verify-step', proofs.alu, '--rpc', anvil.url, '--verifier', verifier]),
  ]);
  assert.equal(withVerifier.code, 0, show(withVerifier));
  assert.match(withVerifier.out, new RegExp(`^contract verifier: +ok: OPVM\\.step at ${verifier} on ${anvil.url.replace(/[.]/g, '\\.')} \\(chain 31337\\) returns`, 'm'));
  assert.match(withVerifier.out, /^gas used: \d+ \(eth_estimateGas; .*execution \d+/m);

  assert.equal(noKey.code, 2, show(noKey));
  assert.match(noKey.err, /no key: give --key-file FILE/);

  assert.equal(withKey.code, 0, show(withKey));
  assert.match(withKey.out, /\(deployed for this check, \d+ gas\) returns/);

  assert.equal(notContract.code, 2, show(notContract));
  assert.match(notContract.err, /no contract at --verifier 0x1212/);

  assert.equal(unreachable.code, 2, show(unreachable));
  assert.match(unreachable.err, /cannot reach a chain at http:\/\/127\.0\.0\.1:1/);

  // --rpc / --verifier alone imply --chain.
  assert.equal(noChainFlag.code, 0, show(noChainFlag));
  assert.match(noChainFlag.out, /^contract verifier: +ok/m);
});

test('every golden step vector (test-vectors/opvm-steps.json) through the deployed OPVM gives its postState', async () => {
  const { vectors } = JSON.parse(fs.readFileSync(path.join(ROOT, 'test-vectors/opvm-steps.json'), 'utf8')) as
    { vectors: { name: string; preState: string; postState: string; proof: string }[] };
  assert.ok(vectors.length > 900, `only ${vectors.length} vectors`);
  const iface = new ethers.Interface(compileContracts({ only: ['src/OPVM.sol'] }).OPVM!.abi as ethers.InterfaceAbi);
  const BATCH = 200;
  let checked = 0;
  for (let i = 0; i < vectors.length; i += BATCH) {
    const chunk = vectors.slice(i, i + BATCH);
    const body = chunk.map((v, j) => ({
      jsonrpc: '2.0', id: i + j, method: 'eth_call',
      params: [{ to: verifier, data: iface.encodeFunctionData('step', [v.preState, v.proof]) }, 'latest'],
    }));
    const res = await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answers = (await res.json()) as { id: number; result?: string; error?: { message: string; data?: string } }[];
    assert.equal(answers.length, chunk.length);
    const byId = new Map(answers.map((a) => [a.id, a]));
    chunk.forEach((v, j) => {
      const a = byId.get(i + j)!;
      assert.ok(a.result, `${v.name}: OPVM.step reverted: ${a.error?.message} ${a.error?.data ?? ''}`);
      assert.equal(iface.decodeFunctionResult('step', a.result)[0], v.postState, `${v.name}`);
      checked++;
    });
  }
  assert.equal(checked, vectors.length);
});
