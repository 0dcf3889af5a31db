/**
 * The game's commands as separate processes against a real anvil chain, as a user runs them: deploy,
 * register-model, request, a cheating `serve`, a `watch` that is killed (SIGKILL) in the middle of the
 * game and started again (it resumes from the chain and wins), status, an honest `serve`, finalize,
 * `request --wait` (which finalizes its own task) and withdraw. Also the errors a user meets first: no key, no chain, no deployment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { anvilKey as key, startAnvil } from '../ts/anvil.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = fileURLToPath(new URL('../../bin/opml.mjs', import.meta.url));

function opml(cwd: string, env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A long-running command whose stdout lines are collected. */
function background(cwd: string, env: Record<string, string>, ...args: string[]): { child: ChildProcess; lines: string[]; waitFor(re: RegExp, ms?: number): Promise<string> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const waitFor = async (re: RegExp, ms = 120_000) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return hit;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no line matching ${re} from opml ${args.join(' ')} (exit ${child.exitCode}):\n${lines.join('\n')}\n${err}`);
  };
  return { child, lines, waitFor };
}

const stop = async (c: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') => {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill(signal);
  await done;
};

test('the game through the CLI: a cheating serve loses to a watch that is killed mid-game and restarted; an honest serve\'s result finalizes', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-cli-game-'));
  const anvil = await startAnvil();
  const procs: ChildProcess[] = [];
  try {
    const keyFile = (i: number) => { const f = path.join(cwd, `key${i}`); fs.writeFileSync(f, key(i) + '\n', { mode: 0o600 }); return f; };
    const rpc = { OPML_RPC: anvil.url };
    // errors first
    const noChain = opml(cwd, { OPML_RPC: 'http://127.0.0.1:9' }, 'deploy', '--key-file', keyFile(0));
    assert.equal(noChain.code, 2);
    assert.match(noChain.err, /cannot reach a chain at http:\/\/127\.0\.0\.1:9/);
    const noKey = opml(cwd, { ...rpc, OPML_KEY: '' }, 'deploy');
    assert.equal(noKey.code, 2);
    assert.match(noKey.err, /no key: give --key-file FILE .* or set OPML_KEY/);
    const noDeployment = opml(cwd, { ...rpc, OPML_KEY: key(0) }, 'withdraw');
    assert.equal(noDeployment.code, 2);
    assert.match(noDeployment.err, /no --coordinator given and no \.\/opml-deployment\.json/);

    assert.equal(opml(cwd, {}, 'convert', path.join(ROOT, 'models/fmnist-cnn/model.onnx'), '-o', 'cnn.opml', '-q').code, 0);
    assert.equal(opml(cwd, {}, 'compile', 'cnn.opml').code, 0);
    const d = opml(cwd, rpc, 'deploy', '--key-file', keyFile(0));
    assert.equal(d.code, 0, d.err);
    assert.match(d.out, /coordinator 0x[0-9a-fA-F]{40}/);
    assert.match(d.err, /profile local: .*clock 3600 s, minimum challenge window 1 s/, 'anvil (chain id 31337) gets the local profile');
    const reg = opml(cwd, rpc, 'register-model', 'cnn.opmlc', '--key-file', keyFile(0));
    assert.equal(reg.code, 0, reg.err);
    assert.match(reg.out, /^registered: model 0x/);
    const req = opml(cwd, rpc, 'request', 'cnn.opmlc', path.join(ROOT, 'models/fmnist-cnn/samples/input_2.pb'), '--reward', '0.02', '--window', '300', '--key-file', keyFile(0));
    assert.equal(req.code, 0, req.err);
    assert.match(req.out, /^task 1 requested/);

    const cheater = background(cwd, rpc, 'serve', 'cnn.opmlc', '--cheat', 'wrong-step', '--key-file', keyFile(1));
    procs.push(cheater.child);
    await cheater.waitFor(/^submit +submitter: task 1 /);
    let watch = background(cwd, rpc, 'watch', 'cnn.opmlc', '--key-file', keyFile(2));
    procs.push(watch.child);
    await watch.waitFor(/^challenge +challenger: game 1/);
    await watch.waitFor(/^phase 1 +challenger chooses/);
    await stop(watch.child, 'SIGKILL');
    const st = opml(cwd, rpc, 'status', '1');
    assert.equal(st.code, 0, st.err);
    assert.match(st.out, /game 1 by 0x[0-9a-fA-F]{40}: in progress/);

    watch = background(cwd, rpc, 'watch', 'cnn.opmlc', '--key-file', keyFile(2));
    procs.push(watch.child);
    const proved = await watch.waitFor(/^step +challenger proves step/);
    assert.match(proved, /proves step [\d,]+: \w+/);
    await watch.waitFor(/^result +game 1: challenger wins \(step proof\)/);
    await stop(cheater.child);

    const honest = background(cwd, rpc, 'serve', 'cnn.opmlc', '--key-file', keyFile(3));
    procs.push(honest.child);
    await honest.waitFor(/^submit +submitter: task 1 /);
    await watch.waitFor(/^verify +challenger re-executes task 1: same S_n, no challenge/);
    const early = opml(cwd, rpc, 'finalize', '1', '--key-file', keyFile(0));
    assert.equal(early.code, 2);
    assert.match(early.err, /WindowOpen/);
    await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_increaseTime', params: [301] }) });
    await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'evm_mine', params: [] }) });
    const fin = opml(cwd, rpc, 'finalize', '1', '--key-file', keyFile(0));
    assert.equal(fin.code, 0, fin.err);
    const done = opml(cwd, rpc, 'status', '1', '--model', 'cnn.opmlc');
    assert.match(done.out, /^task 1: final/);
    assert.match(done.out, /result 1 by .*: rejected/);
    assert.match(done.out, /result 2 by .*: final/);
    assert.match(done.out, /top-5: #1 /, 'input_2 is a trouser (class 1)');
    // A second task while the honest serve and the watch keep running: request --wait finalizes it itself.
    // (Spawned asynchronously: a blocking spawn would stop this process from draining anvil's output.)
    const waited = background(cwd, rpc, 'request', 'cnn.opmlc', path.join(ROOT, 'models/fmnist-cnn/samples/input_0.pb'), '--reward', '0.01', '--window', '2', '--wait', '--key-file', keyFile(0));
    procs.push(waited.child);
    assert.match(await waited.waitFor(/^task 2 requested/), /task 2/);
    await waited.waitFor(/top-5: #9 /); // input_0 is an ankle boot (class 9)
    assert.equal(await new Promise((r) => (waited.child.exitCode !== null ? r(waited.child.exitCode) : waited.child.once('exit', r))), 0);
    const w2 = opml(cwd, rpc, 'withdraw', '--key-file', keyFile(2));
    assert.match(w2.out, /^withdrew 0\.15 ETH/, 'the only challenger: its bond and the unburnt half of the cheater\'s');
    const w3 = opml(cwd, rpc, 'withdraw', '--key-file', keyFile(3));
    assert.match(w3.out, /^withdrew 0\.23 ETH/, 'the honest submitter takes both rewards and its bonds');
    const w1 = opml(cwd, rpc, 'withdraw', '--key-file', keyFile(1));
    assert.match(w1.out, /^nothing to withdraw/);
  } finally {
    for (const p of procs) await stop(p);
    await anvil.stop();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
