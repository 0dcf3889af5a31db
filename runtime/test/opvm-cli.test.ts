/** opml run --engine vm, prove-step and verify-step as a user calls them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { tmpDir } from '../../converter/test/helpers/onnx-build.ts';

const BIN = fileURLToPath(new URL('../../bin/opml.mjs', import.meta.url));
const opml = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const hex = (t: { data: ArrayBufferView }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

test('run --engine vm writes the same output bytes as the native engine; prove-step → verify-step; tampering fails', () => {
  const dir = tmpDir();
  assert.equal(opml('convert', 'models/fmnist-mlp/model.onnx', '-o', path.join(dir, 'mlp.opml'), '-q').code, 0);
  assert.equal(opml('compile', path.join(dir, 'mlp.opml')).code, 0);
  const compiled = path.join(dir, 'mlp.opmlc');
  const sample = 'models/fmnist-mlp/samples/input_2.pb';
  const n = opml('run', compiled, sample, '--out', path.join(dir, 'native'));
  assert.equal(n.code, 0, n.err);
  const v = opml('run', compiled, sample, '--out', path.join(dir, 'vm'), '--engine', 'vm');
  assert.equal(v.code, 0, v.err);
  assert.match(v.out, /OPVM: [\d,]+ steps over \d+ nodes/);
  assert.equal(hex(readTensorFile(path.join(dir, 'vm', 'output_0.pb'))), hex(readTensorFile(path.join(dir, 'native', 'output_0.pb'))));

  const proofFile = path.join(dir, 'proof.json');
  const p = opml('prove-step', compiled, '--input', sample, '--node', '1', '--step', '1000', '-o', proofFile);
  assert.equal(p.code, 0, p.err);
  assert.match(p.err, /proof of step 1000 written/);
  const ok = opml('verify-step', proofFile);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /^ok: step 1000 of node 1/);

  const j = JSON.parse(fs.readFileSync(proofFile, 'utf8'));
  const bad = structuredClone(j);
  bad.postState = '0x' + '11'.repeat(32);
  fs.writeFileSync(path.join(dir, 'bad1.json'), JSON.stringify(bad));
  const r1 = opml('verify-step', path.join(dir, 'bad1.json'));
  assert.equal(r1.code, 1);
  assert.match(r1.out, /FAILED: .*the file claims/);
  const bad2 = structuredClone(j);
  const s = bad2.proof.insnPath[3] as string;
  bad2.proof.insnPath[3] = s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');
  fs.writeFileSync(path.join(dir, 'bad2.json'), JSON.stringify(bad2));
  assert.equal(opml('verify-step', path.join(dir, 'bad2.json')).code, 1);
  fs.writeFileSync(path.join(dir, 'bad3.json'), '{"format": "something"}');
  const r3 = opml('verify-step', path.join(dir, 'bad3.json'));
  assert.equal(r3.code, 2);
  assert.match(r3.err, /not an opml-step-proof file/);

  const e = opml('prove-step', compiled, '--input', sample, '--node', '99', '--step', '0');
  assert.equal(e.code, 2);
  assert.match(e.err, /--node 99: the model has nodes 1 … \d+/);
});
