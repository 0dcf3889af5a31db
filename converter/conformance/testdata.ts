/**
 * The ONNX backend test data shipped by Debian's libonnx-testdata: locating cases and reading their
 * input/output TensorProto files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { onnx, int64 } from '../onnx/proto.ts';
import { irDTypeOf } from '../onnx/tensor.ts';

export const TESTDATA_ROOT = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
export const SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;

export interface TestCase {
  suite: string;
  name: string;
  dir: string;
  model: string;
}

export interface PbTensor {
  name: string;
  /** IR dtype, or undefined when the IR cannot carry the element type. */
  dtype: string | undefined;
  onnxType: number;
  dims: number[];
  /** Raw bytes as stored (raw_data), or undefined when the file uses typed fields. */
  proto: ReturnType<typeof onnx.TensorProto.decode>;
}

export function testdataAvailable(): boolean {
  return fs.existsSync(path.join(TESTDATA_ROOT, 'node'));
}

export function listCases(suites: readonly string[] = SUITES): TestCase[] {
  const out: TestCase[] = [];
  for (const suite of suites) {
    const sd = path.join(TESTDATA_ROOT, suite);
    if (!fs.existsSync(sd)) continue;
    for (const name of fs.readdirSync(sd).sort()) {
      const model = path.join(sd, name, 'model.onnx');
      if (fs.existsSync(model)) out.push({ suite, name, dir: path.join(sd, name), model });
    }
  }
  return out;
}

/** The tensors of the first test data set: inputs and expected outputs, in index order. */
export function readDataSet(c: TestCase, set = 0): { inputs: PbTensor[]; outputs: PbTensor[] } {
  const dir = path.join(c.dir, `test_data_set_${set}`);
  const read = (prefix: string) => {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb')) : [];
    files.sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
    return files.map((f) => {
      const p = onnx.TensorProto.decode(fs.readFileSync(path.join(dir, f)));
      const t = p.dataType ?? 0;
      return { name: p.name ?? '', dtype: irDTypeOf(t), onnxType: t, dims: (p.dims ?? []).map((d) => int64(d)), proto: p };
    });
  };
  return { inputs: read('input_'), outputs: read('output_') };
}
