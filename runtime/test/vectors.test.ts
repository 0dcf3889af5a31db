/**
 * Golden vectors: regenerating test-vectors/ with this code gives the committed files exactly, and every
 * committed step vector verifies with the TypeScript verifier (the contracts replay the same files).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { toHex } from '../../converter/ir/keccak.ts';
import { driftedVectors, generateVectors } from '../vectors/generate.ts';
import { unpackProof } from '../opvm/proof.ts';
import { verifyStep } from '../opvm/verify.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIR = path.join(ROOT, 'test-vectors');

test('regenerating the golden vectors gives the committed files (opml vectors --check)', async () => {
  const files = await generateVectors(ROOT);
  assert.deepEqual(driftedVectors(DIR, files), [], "run 'opml vectors' and review the diff");
});

test('every committed step vector verifies: proof + pre-state → post-state', () => {
  const { vectors } = JSON.parse(fs.readFileSync(path.join(DIR, 'opvm-steps.json'), 'utf8')) as { vectors: { name: string; preState: string; postState: string; proof: string }[] };
  assert.ok(vectors.length > 400, `${vectors.length} vectors`);
  for (const v of vectors) {
    const { postHash } = verifyStep(Buffer.from(v.preState.slice(2), 'hex'), unpackProof(Buffer.from(v.proof.slice(2), 'hex')));
    assert.equal(toHex(postHash), v.postState, v.name);
  }
});
