/**
 * The package as another project gets it: `npm pack` of a copy of the working tree (prepack builds its
 * dist/; the repository's own is left alone), install the
 * tarball into an empty directory without the network, then run `npx opml demo` there and use the
 * library from a TypeScript file that the consumer's own tsc type-checks against the shipped .d.ts.
 *
 * Offline, npm cannot resolve versions (it needs registry metadata the cache does not hold), so the
 * consumer gets a lockfile: the tarball plus the exact versions of opml's dependencies from this
 * repository's package-lock.json, whose tarballs npm ci takes from its cache.
 *
 * About 30 s (the build, the install, the demo, the consumer's tsc).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

interface LockEntry { version?: string; resolved?: string; integrity?: string; dev?: boolean; link?: boolean; [k: string]: unknown }

/** A consumer's package-lock.json: the tarball as its one dependency, and opml's own locked dependencies. */
function consumerLock(tgz: string): object {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string> };
  const spec = `file:${path.basename(tgz)}`;
  const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;
  const packages: Record<string, LockEntry> = {
    '': { name: 'opml-consumer', dependencies: { opml: spec } },
    'node_modules/opml': { version: pkg.version, resolved: spec, integrity, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [k, v] of Object.entries(lock.packages)) if (k && !v.dev && !v.link) packages[k] = v;
  return { name: 'opml-consumer', lockfileVersion: 3, requires: true, packages };
}

test('npm pack → install offline into an empty directory → npx opml demo, and the library from TypeScript', { timeout: 600_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-pack-'));
  try {
    // pack a copy of the working tree, so that its build (prepack writes dist/) never meets another run's
    const src = path.join(tmp, 'opml');
    const skip = new Set(['node_modules', '.git', 'dist', 'out', 'test-vectors', 'build']);
    fs.cpSync(ROOT, src, { recursive: true, filter: (f) => !skip.has(path.relative(ROOT, f).split(path.sep)[0]!) });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'), 'dir');
    const packed = execFileSync(NPM, ['pack', '--json', '--pack-destination', tmp], { cwd: src, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const info = (JSON.parse(packed) as { filename: string; files: { path: string }[] }[])[0]!;
    const files = info.files.map((f) => f.path);
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('dist/bin/main.js'), 'the compiled library and CLI');
    assert.ok(files.includes('dist/contracts/src/OPVM.sol') && files.includes('dist/runtime/native/worker.mjs'), 'the files the compiled code reads');
    assert.ok(files.includes('models/fmnist-cnn/model.onnx'), 'the demo model');
    // the host kernels' sources (every one binding.gyp names), built by the package's install script (bin/build-native.mjs)
    const sources = (JSON.parse(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8')) as { targets: { sources: string[] }[] }).targets.flatMap((t) => t.sources);
    assert.ok(files.includes('binding.gyp') && sources.every((f) => files.includes(f)) && files.includes('bin/build-native.mjs'), 'the host kernel sources and their build');
    const shipped = (f: string) => sources.includes(f);
    for (const f of files) if (!shipped(f)) assert.doesNotMatch(f, /(^|\/)(node_modules|out|test)\/|\.test\.|^(converter|compiler|runtime|contracts)\//, `${f} does not belong in the package`);

    const tgz = path.join(tmp, info.filename);
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'opml-consumer', private: true, type: 'module', dependencies: { opml: `file:${path.basename(tgz)}` } }, null, 2));
    fs.copyFileSync(tgz, path.join(app, path.basename(tgz)));
    fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify(consumerLock(tgz), null, 2));
    const ci = spawnSync(NPM, ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts=false'], { cwd: app, encoding: 'utf8' });
    assert.equal(ci.status, 0, ci.stdout + ci.stderr);
    assert.ok(!fs.existsSync(path.join(app, 'node_modules', 'opml', 'node_modules', 'typescript')), 'no dev dependencies');
    if (process.arch === 'x64') assert.ok(fs.existsSync(path.join(app, 'node_modules', 'opml', 'build', 'Release', 'opml_cpu.node')), `the install built the host kernels: ${ci.stderr}`);

    const demo = spawnSync(NPX, ['--offline', 'opml', 'demo'], { cwd: app, encoding: 'utf8', timeout: 300_000 });
    assert.equal(demo.status, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /cheat/i);

    // The library: a consumer's TypeScript, checked by this repository's tsc against the shipped .d.ts only.
    fs.writeFileSync(path.join(app, 'use.ts'), [
      "import { convert, compile, run, verifyStep, proveStep, RunError, type HostTensor } from 'opml';",
      "const b = convert('node_modules/opml/models/fmnist-cnn/model.onnx', 'out/cnn.opml');",
      "await compile(b.dir, 'out/cnn.opmlc');",
      "const r = await run('out/cnn.opmlc', ['node_modules/opml/models/fmnist-cnn/samples/input_0.pb']);",
      'const logits: HostTensor = r.outputs[0]!;',
      "const p = await proveStep('out/cnn.opmlc', ['node_modules/opml/models/fmnist-cnn/samples/input_0.pb'], 1, 10);",
      'const v: { ok: boolean } = verifyStep(p);',
      "try { await run('out/cnn.opmlc', []); } catch (e) { if (!(e instanceof RunError)) throw e; }",
      "console.log(JSON.stringify({ shape: logits.shape, ok: v.ok, nodes: b.graph.nodes.length }));",
      '// token-by-token decoding, type-checked only',
      "import { generate } from 'opml';",
      "export async function decode(model: string): Promise<number[]> { const t = await generate(model, { promptIds: [1, 2], maxTokens: 4 }); return t.tokens; }",
      '// the chain side of the API, type-checked only (docs/library.md)',
      "import { Wallet } from 'ethers';",
      "import { connect, deploy, Party, loadGameModel, loadServedModel, registerModel, requestInference, Submitter, Challenger, finalize, withdraw, taskReport, startAnvil, anvilKey } from 'opml';",
      'export async function chain(x: HostTensor, params: Parameters<typeof deploy>[1]): Promise<void> {',
      '  const anvil = await startAnvil();',
      '  const provider = connect(anvil.url);',
      '  const d = await deploy(new Wallet(anvilKey(0), provider), params);',
      "  const requester = await Party.create('requester', provider, anvilKey(1), d.coordinator);",
      "  const model = loadGameModel('out/cnn.opmlc');",
      "  const { modelId } = await registerModel(requester, model, 'file:///out/cnn.opmlc');",
      '  const { taskId } = await requestInference(requester, model, [x], { modelId, reward: 10n ** 16n, challengeWindow: 600, deadlineIn: 86400, dissection: 2 });',
      "  const served = await loadServedModel('out/cnn.opmlc');",
      "  const s = new Submitter(await Party.create('submitter', provider, anvilKey(2), d.coordinator), [served], { onEvent: (e) => console.log(e.kind) });",
      "  const c = new Challenger(await Party.create('challenger', provider, anvilKey(3), d.coordinator), [served]);",
      '  await Promise.all([s.runUntil(() => true, 250), c.runUntil(() => true, 250)]);',
      '  await finalize(requester, taskId);',
      '  await withdraw(requester);',
      '  console.log((await taskReport(requester, taskId, model)).status);',
      '  await served.ex.close();',
      '  await anvil.stop();',
      '}',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'build', types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] }, files: ['use.ts'] }));
    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const use = spawnSync(process.execPath, [path.join(app, 'build', 'use.js')], { cwd: app, encoding: 'utf8' });
    assert.equal(use.status, 0, use.stdout + use.stderr);
    assert.deepEqual(JSON.parse(use.stdout), { shape: [1, 10], ok: true, nodes: 12 });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
