import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { GraphBuilder } from '../ir/builder.ts';
import { hostTensor } from '../ir/host-tensor.ts';
import { shape } from '../ir/types.ts';
import { writeBundle } from '../bundle/write.ts';
import { readBundle, BundleError } from '../bundle/read.ts';
import { WEIGHT_ALIGNMENT } from '../bundle/format.ts';
import { tmpDir } from './helpers/onnx-build.ts';

function graph(w = [1, 2, 3]) {
  const b = new GraphBuilder();
  const x = b.addInput('x', { dtype: 'float32', shape: shape([3]) });
  const c = b.addConstant('c', hostTensor('float32', [3], w));
  const k = b.addConstant('k', hostTensor('int8', [5], [1, 2, 3, 4, 5]));
  const y = b.emit1('Add', [x, c], {});
  const z = b.emit1('Cast', [k], { to: 'float32' }, { fold: false });
  b.setOutputs([y, z]);
  return b.build();
}

const src = { format: 'onnx', file: 'test.onnx' };

test('bundle round trip keeps graph, weights and hash; weights are aligned', () => {
  const dir = path.join(tmpDir(), 'm.opml');
  const r = writeBundle(graph(), dir, src);
  const back = readBundle(dir, { verifyWeights: true });
  assert.equal(back.modelHash, r.modelHash);
  assert.deepEqual(back.graph.nodes.map((n) => n.op), ['Add', 'Cast']);
  for (const c of back.json.constants) assert.equal(c.offset % WEIGHT_ALIGNMENT, 0);
  const [w] = [...back.graph.constants.values()];
  assert.deepEqual([...new Float32Array(w!.read().buffer)], [1, 2, 3]);
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['m.opml'], 'no temporary files left');
});

test('a failed write leaves nothing behind and keeps an existing bundle intact', () => {
  const parent = tmpDir();
  const dir = path.join(parent, 'm.opml');
  const first = writeBundle(graph(), dir, src);
  const g = graph([4, 5, 6]);
  const bad = { ...g, constants: new Map([...g.constants].map(([id, c]) => [id, { byteLength: c.byteLength, read: () => { throw new Error('disk on fire'); } }])) };
  assert.throws(() => writeBundle(bad, dir, src), /disk on fire/);
  assert.deepEqual(fs.readdirSync(parent), ['m.opml']);
  assert.equal(readBundle(dir).modelHash, first.modelHash, 'old bundle untouched');
  const second = writeBundle(graph([4, 5, 6]), dir, src);
  assert.notEqual(second.modelHash, first.modelHash);
  assert.equal(readBundle(dir).modelHash, second.modelHash, 'replaced by the complete new one');
});

test('refuses to overwrite a directory that is not a bundle', () => {
  const parent = tmpDir();
  fs.mkdirSync(path.join(parent, 'photos'));
  assert.throws(() => writeBundle(graph(), path.join(parent, 'photos'), src), /exists and is not an OPML bundle/);
});

test('tampering is detected: edited graph.json, corrupted or truncated weights', () => {
  const dir = path.join(tmpDir(), 'm.opml');
  writeBundle(graph(), dir, src);
  const gj = path.join(dir, 'graph.json');
  const orig = fs.readFileSync(gj, 'utf8');
  fs.writeFileSync(gj, orig.replace('"op": "Add"', '"op": "Sub"'));
  assert.throws(() => readBundle(dir), (e: unknown) => e instanceof BundleError && /does not match its model hash/.test(e.message));
  fs.writeFileSync(gj, orig);
  const wp = path.join(dir, 'weights.bin');
  const w = fs.readFileSync(wp);
  w[0] ^= 1;
  fs.writeFileSync(wp, w);
  assert.throws(() => readBundle(dir, { verifyWeights: true }), /do not match their hash/);
  fs.writeFileSync(wp, w.subarray(0, 3));
  assert.throws(() => readBundle(dir), /3 bytes, graph.json says/);
  assert.throws(() => readBundle(path.join(dir, 'nope')), /is not an OPML bundle/);
});
