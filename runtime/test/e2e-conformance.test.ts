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

/** Raise when kernels are added; a drop below is a regression. */
const MIN_PASSED = 905;

test('ONNX backend test data end to end: passed/total, no wrong values, OPVM == native on every node', async () => {
  assert.ok(testdataAvailable(), `ONNX test data not found at ${TESTDATA_ROOT}: apt-get install libonnx-testdata`);
  const r = await runE2E(undefined, { vm: true });
  process.stdout.write(formatE2E(r, true) + '\n');
  const wrong = r.results.filter((x) => x.status === 'fail' || x.status === 'error');
  assert.deepEqual(wrong.map((x) => `${x.case.suite}/${x.case.name}: ${x.category}: ${x.reason}`), []);
  assert.ok(r.passed >= MIN_PASSED, `${r.passed}/${r.total} passed, floor is ${MIN_PASSED}`);
});
