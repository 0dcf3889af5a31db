/** Every IR op has a kernel, and every kernel is exercised by name in a kernel test file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { allOps } from '../../converter/ir/op-registry.ts';
import '../../converter/ir/ops/index.ts';
import { kernelOps } from '../kernels/registry.ts';
import '../kernels/index.ts';

test('every IR op has a kernel', () => {
  const have = new Set(kernelOps());
  assert.deepEqual(allOps().map((o) => o.name).filter((n) => !have.has(n)), []);
});

test('every kernel is named in a compiler test (native == scalar checks live there)', () => {
  const dir = new URL('.', import.meta.url);
  const text = fs.readdirSync(dir).filter((f) => f.endsWith('.test.ts') && f !== 'kernel-coverage.test.ts').map((f) => fs.readFileSync(new URL(f, dir), 'utf8')).join('\n');
  assert.deepEqual(kernelOps().filter((op) => !new RegExp(`['"\`]${op}['"\`]`).test(text)), []);
});
