/** Writes an MLP ONNX model: LAYERS MatMul+Relu layers with N×N float32 weights (deterministic values). */
import fs from 'node:fs';
import { onnx } from '../converter/onnx/proto.ts';

const [file, nArg, layersArg] = process.argv.slice(2);
const N = Number(nArg ?? 4096);
const LAYERS = Number(layersArg ?? 8);
const T = onnx.TensorProto.DataType;
const initializer = [];
const node = [];
let prev = 'x';
for (let l = 0; l < LAYERS; l++) {
  const w = new Float32Array(N * N);
  let s = l + 1;
  for (let i = 0; i < w.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    w[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 0.02;
  }
  initializer.push({ name: `w${l}`, dataType: T.FLOAT, dims: [N, N], rawData: new Uint8Array(w.buffer) });
  node.push({ opType: 'MatMul', name: `mm${l}`, input: [prev, `w${l}`], output: [`h${l}`] });
  node.push({ opType: 'Relu', name: `relu${l}`, input: [`h${l}`], output: [`a${l}`] });
  prev = `a${l}`;
}
const vi = (name: string) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: N }] } } } });
const model = onnx.ModelProto.create({
  irVersion: 8, producerName: 'opml-bench', opsetImport: [{ domain: '', version: 13 }],
  graph: { name: 'big', input: [vi('x')], output: [vi(prev)], initializer, node },
});
fs.writeFileSync(file!, onnx.ModelProto.encode(model).finish());
