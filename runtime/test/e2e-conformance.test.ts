/**
 * End-to-end conformance (convert → compile → native run) over the ONNX backend test data: no case
 * may produce wrong values or crash; cases without a kernel yet are reported, not failed. Every node of
 * every passing case also runs in the OPVM interpreter, whose outputs must equal the native engine's
 * byte for byte. The report is printed for the CI log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatE2E, runE2E } from '../conformance/e2e.ts';
import { testdataAvailable, TESTDATA_ROOT } from '../../converter/conformance/testdata.ts';
import path from 'node:path';
import { importModel } from '../../converter/convert.ts';
import { kernelOps } from '../../compiler/kernels/registry.ts';
import '../../compiler/kernels/index.ts';
import { VM_KERNEL_CASE_OPS } from './helpers/vm-kernel-ops.ts';
import { KNOWN_VALUE_FAILURES } from '../../converter/conformance/known-failures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Raise when kernels are added; a drop below is a regression. */
const MIN_PASSED = 1028;

test('ONNX backend test data end to end: passed/total, no wrong values, OPVM == native on every node', async () => {
  assert.ok(testdataAvailable(), `ONNX test data not found at ${TESTDATA_ROOT}: apt-get install libonnx-testdata`);
  const r = await runE2E(undefined, { vm: true });
  process.stdout.write(formatE2E(r, true) + '\n');
  const wrong = r.results.filter((x) => (x.status === 'fail' || x.status === 'error') && !(x.category === 'values' && KNOWN_VALUE_FAILURES[`${x.case.suite}/${x.case.name}`]));
  assert.deepEqual(wrong.map((x) => `${x.case.suite}/${x.case.name}: ${x.category}: ${x.reason}`), []);
  // The known value failures (docs/onnx-support.md) still fail; one that passes now leaves the list.
  const known = r.results.filter((x) => x.status === 'fail' && KNOWN_VALUE_FAILURES[`${x.case.suite}/${x.case.name}`]).map((x) => `${x.case.suite}/${x.case.name}`);
  assert.deepEqual(known.sort(), Object.keys(KNOWN_VALUE_FAILURES).sort());
  assert.ok(r.passed >= MIN_PASSED, `${r.passed}/${r.total} passed, floor is ${MIN_PASSED}`);
  // Every kernel op is checked native == OPVM somewhere: on a passing case here, on a bundled model
  // (runtime/test/opvm-models.test.ts) or in runtime/test/opvm-kernels.test.ts.
  const covered = new Set([...r.results.flatMap((x) => x.ops ?? []), ...VM_KERNEL_CASE_OPS]);
  for (const m of ['fmnist-mlp/model.onnx', 'fmnist-cnn/model.onnx', 'fmnist-cnn-int8/model.onnx', 'fmnist-tfjs/model.json', 'tiny-transformer/model.onnx']) {
    for (const n of importModel(path.join(ROOT, 'models', m)).graph.nodes) covered.add(n.op);
  }
  assert.deepEqual(kernelOps().filter((op) => !covered.has(op)), [], 'kernel ops with no native == OPVM check: add cases to runtime/test/opvm-kernels.test.ts');
});
