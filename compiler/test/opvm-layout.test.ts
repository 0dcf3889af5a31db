import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex } from '../../converter/ir/keccak.ts';
import { merkleRootOfBytes, ZERO_HASHES } from '../commit/merkle.ts';
import { dataRoot } from '../commit/tensor.ts';
import { MEM_DEPTH } from '../opvm/isa.ts';
import type { RegionSpec } from '../opvm/layout.ts';
import { composeMemoryRoot, initialMemoryRoot, layoutHash, planNodeMemory, regionHeight } from '../opvm/layout.ts';

const specsArb = fc.record({
  code: fc.integer({ min: 1, max: 3000 }),
  inputs: fc.array(fc.integer({ min: 0, max: 20000 }), { maxLength: 5 }),
  outputs: fc.array(fc.integer({ min: 0, max: 20000 }), { minLength: 1, maxLength: 3 }),
  scratch: fc.integer({ min: 0, max: 9000 }),
}).map(({ code, inputs, outputs, scratch }): RegionSpec[] => [
  { kind: 'code', index: 0, bytes: 32 * code },
  ...inputs.map((bytes, index): RegionSpec => ({ kind: 'input', index, bytes })),
  ...outputs.map((bytes, index): RegionSpec => ({ kind: 'output', index, bytes })),
  ...(scratch ? [{ kind: 'scratch', index: 0, bytes: scratch } as RegionSpec] : []),
]);

test('regions are aligned power-of-two subtrees, contiguous from 0, heights non-increasing, each large enough', () => {
  fc.assert(fc.property(specsArb, (specs) => {
    const l = planNodeMemory(specs);
    let at = 0;
    l.regions.forEach((r, i) => {
      const size = 32 * 2 ** r.height;
      assert.equal(r.address, at);
      assert.equal(r.address % size, 0, 'aligned to its own size');
      assert.ok(size >= r.bytes && r.height === regionHeight(r.bytes));
      if (i) assert.ok(r.height <= l.regions[i - 1]!.height);
      at += size;
    });
    assert.equal(l.totalBytes, at);
    assert.equal(l.regions.length, specs.length);
  }), { numRuns: 200 });
});

test('the composed initial memory root equals the root of the whole memory image (property)', () => {
  fc.assert(fc.property(specsArb, fc.integer({ min: 0, max: 1e9 }), (specs, seed) => {
    const l = planNodeMemory(specs);
    const image = new Uint8Array(l.totalBytes);
    const roots = new Map<string, Uint8Array>();
    let x = seed;
    for (const r of l.regions) {
      if (r.kind === 'output' || r.kind === 'scratch') continue;
      const content = Uint8Array.from({ length: r.bytes }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
      image.set(content, r.address);
      roots.set(`${r.kind}${r.index}`, dataRoot(content));
    }
    const whole = merkleRootOfBytes(image, MEM_DEPTH);
    const inputRoots = l.regions.filter((r) => r.kind === 'input').sort((a, b) => a.index - b.index).map((r) => roots.get(`input${r.index}`)!);
    assert.equal(toHex(initialMemoryRoot(l, roots.get('code0')!, inputRoots)), toHex(whole));
  }), { numRuns: 60 });
});

test('composition of nothing and of one full-height region', () => {
  assert.equal(toHex(composeMemoryRoot([])), toHex(ZERO_HASHES[MEM_DEPTH]!));
  const r = new Uint8Array(32).fill(7);
  assert.equal(toHex(composeMemoryRoot([{ height: MEM_DEPTH, root: r }])), toHex(r));
  assert.throws(() => composeMemoryRoot([{ height: 1, root: r }, { height: 2, root: r }]), /non-increasing/);
});

test('layout hash binds kinds, positions and heights', () => {
  const specs: RegionSpec[] = [{ kind: 'code', index: 0, bytes: 320 }, { kind: 'input', index: 0, bytes: 64 }, { kind: 'output', index: 0, bytes: 64 }];
  const l = planNodeMemory(specs);
  assert.equal(toHex(l.layoutHash), toHex(layoutHash(l.regions)));
  const other = planNodeMemory([specs[0]!, specs[1]!, { kind: 'output', index: 0, bytes: 65 }]);
  assert.notEqual(toHex(other.layoutHash), toHex(l.layoutHash));
  const swapped = l.regions.map((r) => (r.kind === 'input' ? { ...r, kind: 'output' as const } : r.kind === 'output' ? { ...r, kind: 'input' as const } : r));
  assert.notEqual(toHex(layoutHash(swapped)), toHex(l.layoutHash));
});

test('a node larger than the OPVM memory is refused', () => {
  assert.throws(() => planNodeMemory([{ kind: 'code', index: 0, bytes: 32 }, { kind: 'input', index: 0, bytes: 2 ** 31 }]), /needs .* bytes of VM memory/);
});
