import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { renderOpDocs } from '../ir/op-docs.ts';
import { allOps } from '../ir/op-registry.ts';

test('docs/ir-ops.md matches the op definitions (run npm run docs:ops after changing an op)', () => {
  const committed = fs.readFileSync(new URL('../../docs/ir-ops.md', import.meta.url), 'utf8');
  assert.equal(committed, renderOpDocs());
});

test('every op has a real spec: summary, doc, attribute kinds', () => {
  for (const d of allOps()) {
    assert.ok(d.summary.length > 3, `${d.name}: summary`);
    assert.ok(d.doc.length >= d.summary.length, `${d.name}: doc`);
    assert.ok(d.inputs[0] <= d.inputs[1], `${d.name}: input range`);
  }
});
