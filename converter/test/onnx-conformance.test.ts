/**
 * Shape conformance over the whole ONNX backend test suite (Debian's libonnx-testdata): every case
 * whose ops the converter covers must convert with the expected output dtypes and shapes; the rest
 * must be refused with a categorised reason. The report is printed for CI logs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { formatShapeReport, runShapeConformance } from '../conformance/shapes.ts';
import { renderSupportDoc } from '../conformance/support-doc.ts';
import { testdataAvailable, TESTDATA_ROOT } from '../conformance/testdata.ts';

/** Raise this floor when coverage grows; a drop below it is a regression. */
const MIN_PASSED = 1035;

test('ONNX backend test data: converted/total with categorised exclusions', () => {
  assert.ok(testdataAvailable(), `ONNX test data not found at ${TESTDATA_ROOT}: apt-get install libonnx-testdata (or set ONNX_TESTDATA)`);
  const r = runShapeConformance();
  const report = formatShapeReport(r, true);
  process.stdout.write(report + '\n');
  const wrong = r.results.filter((x) => x.status === 'mismatch' || x.status === 'error');
  assert.deepEqual(
    wrong.map((x) => `${x.case.suite}/${x.case.name}: ${x.status} ${x.category}: ${x.reason}`),
    [],
    'covered cases must convert with matching shapes, never crash',
  );
  assert.ok(r.passed >= MIN_PASSED, `${r.passed}/${r.total} passed, floor is ${MIN_PASSED}`);
  const doc = fs.readFileSync(new URL('../../docs/onnx-support.md', import.meta.url), 'utf8');
  assert.equal(doc, renderSupportDoc(r), 'docs/onnx-support.md is stale: run npm run docs:onnx');
});
