/**
 * The tiny transformer's KV-cache form, from its trained weights: reads models/tiny-transformer/model.onnx
 * (the full-window export: ids [1x32] → logits) and writes decoder_with_past_model.onnx in the optimum
 * layout — input_ids [1, S], attention_mask [1, past + S], position_ids [1, S],
 * past_key_values.{0,1}.{key,value} [1, 4, past, 16] → logits [1, S, 76], present.* [1, 4, past + S, 16] —
 * with the same initializers and the same operations per position (LayerNorm as Sub/Pow/ReduceMean/Sqrt/
 * Div, the erf GELU, the exporter's own constants), keys and values concatenated to the cache, the causal
 * and padding masks from attention_mask, and the learned position embeddings gathered by position_ids
 * (so positions stop at 31, the trained context). vocab.json is copied beside it.
 *
 *   node --import tsx models/tiny-transformer-kv.ts OUT_DIR
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from '../converter/onnx/proto.ts';
import type { OnnxTypes } from '../converter/onnx/proto.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TINY_TRANSFORMER = path.join(HERE, 'tiny-transformer', 'model.onnx');

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const HEADS = 4;

export function writeTinyTransformerKv(outDir: string, src = TINY_TRANSFORMER): string {
  const m = onnx.ModelProto.decode(fs.readFileSync(src));
  const g = m.graph!;
  const byName = new Map((g.node ?? []).map((n) => [n.name!, n]));
  const weightOf = (node: string) => {
    const n = byName.get(node);
    if (!n) throw new Error(`${src}: no node '${node}' (not the tiny transformer's export?)`);
    return n.input!.find((x) => (g.initializer ?? []).some((t) => t.name === x && t.dims!.length === 2))!;
  };
  const constOut = (node: string) => {
    const n = byName.get(node);
    if (!n || n.opType !== 'Constant') throw new Error(`${src}: no Constant '${node}'`);
    return n.output![0]!;
  };
  const tok = 'tok.weight';
  const vocab = Number(g.initializer!.find((t) => t.name === tok)!.dims![0]);
  const d = Number(g.initializer!.find((t) => t.name === tok)!.dims![1]);
  const hd = d / HEADS;
  const posTable = byName.get('/Add')!.input![1]!; // the position embeddings for positions 0 … 31
  const layers = [...byName.keys()].filter((k) => /^\/blocks\.\d+\/qkv\/MatMul$/.test(k)).length;

  const nodes: OnnxTypes.INodeProto[] = (g.node ?? []).filter((n) => n.opType === 'Constant');
  const inits: OnnxTypes.ITensorProto[] = (g.initializer ?? []).filter((t) => t.name !== 'onnx::Where_297');
  let counter = 0;
  const node = (op: string, inputs: string[], attrs: OnnxTypes.IAttributeProto[] = [], outputs?: string[]): string => {
    const nm = `/kv/${op}_${counter++}`;
    const outs = outputs ?? [`${nm}_output_0`];
    nodes.push({ opType: op, name: nm, input: inputs, output: outs, attribute: attrs });
    return outs[0]!;
  };
  const ints = (name: string, v: number[]): OnnxTypes.IAttributeProto => ({ name, type: A.INTS, ints: v });
  const int = (name: string, v: number): OnnxTypes.IAttributeProto => ({ name, type: A.INT, i: v });
  const i64 = (name: string, v: number[], dims = [v.length]) => {
    inits.push({ name, dataType: T.INT64, dims, rawData: new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer) });
    return name;
  };
  const one = i64('kv.one', [1], []);
  const zero = i64('kv.zero', [0], []);
  const axes0 = i64('kv.axes0', [0]);
  const axes1 = i64('kv.axes1', [1]);
  const axes12 = i64('kv.axes12', [1, 2]);
  const headsShape = i64('kv.shape_heads', [0, 0, HEADS, hd]);
  const mergeShape = i64('kv.shape_merge', [0, 0, d]);

  const layerNorm = (x: string, p: string, w: string, b: string) => {
    const mean = node('ReduceMean', [x], [ints('axes', [-1])]);
    const dx = node('Sub', [x, mean]);
    const v = node('ReduceMean', [node('Pow', [dx, constOut(`${p}/Constant`)])], [ints('axes', [-1])]);
    const s = node('Sqrt', [node('Add', [v, constOut(`${p}/Constant_1`)])]);
    return node('Add', [node('Mul', [node('Div', [dx, s]), w]), b]);
  };

  // embeddings: token + learned position (gathered by position_ids)
  let h = node('Add', [node('Gather', [tok, 'input_ids'], [int('axis', 0)]), node('Gather', [posTable, 'position_ids'], [int('axis', 0)])]);
  // mask [B, 1, S, T]: a key is hidden when it lies after the query's position or attention_mask is 0 there
  const tLen = node('Gather', [node('Shape', ['attention_mask']), one], [int('axis', 0)]);
  const sLen = node('Gather', [node('Shape', ['input_ids']), one], [int('axis', 0)]);
  const qpos = node('Range', [node('Sub', [tLen, sLen]), tLen, one]);
  const kpos = node('Range', [zero, tLen, one]);
  const future = node('Greater', [node('Unsqueeze', [kpos, axes0]), node('Unsqueeze', [qpos, axes1])]);
  const padded = node('Not', [node('Cast', [node('Unsqueeze', ['attention_mask', axes12])], [int('to', T.BOOL)])]);
  const hidden = node('Or', [future, padded]);

  const past: string[] = [];
  const present: string[] = [];
  for (let l = 0; l < layers; l++) {
    const p = `/blocks.${l}`;
    const x = layerNorm(h, `${p}/ln1`, `blocks.${l}.ln1.weight`, `blocks.${l}.ln1.bias`);
    const qkv = node('Add', [`blocks.${l}.qkv.bias`, node('MatMul', [x, weightOf(`${p}/qkv/MatMul`)])]);
    const [q0, k0, v0] = [`/kv/split${l}_q`, `/kv/split${l}_k`, `/kv/split${l}_v`];
    node('Split', [qkv, constOut(`${p}/Constant`)], [int('axis', 2)], [q0, k0, v0]);
    const heads = (t: string) => node('Transpose', [node('Reshape', [t, headsShape])], [ints('perm', [0, 2, 1, 3])]);
    const [pk, pv] = [`present.${l}.key`, `present.${l}.value`];
    past.push(`past_key_values.${l}.key`, `past_key_values.${l}.value`);
    present.push(pk, pv);
    node('Concat', [`past_key_values.${l}.key`, heads(k0)], [int('axis', 2)], [pk]);
    node('Concat', [`past_key_values.${l}.value`, heads(v0)], [int('axis', 2)], [pv]);
    const scores = node('Mul', [node('MatMul', [heads(q0), node('Transpose', [pk], [ints('perm', [0, 1, 3, 2])])]), constOut(`${p}/Constant_4`)]);
    const probs = node('Softmax', [node('Where', [hidden, constOut(`${p}/Constant_5`), scores])], [int('axis', -1)]);
    const ctx = node('Reshape', [node('Transpose', [node('MatMul', [probs, pv])], [ints('perm', [0, 2, 1, 3])]), mergeShape]);
    h = node('Add', [h, node('Add', [`blocks.${l}.proj.bias`, node('MatMul', [ctx, weightOf(`${p}/proj/MatMul`)])])]);
    const y = layerNorm(h, `${p}/ln2`, `blocks.${l}.ln2.weight`, `blocks.${l}.ln2.bias`);
    const f1 = node('Add', [`blocks.${l}.fc1.bias`, node('MatMul', [y, weightOf(`${p}/fc1/MatMul`)])]);
    const gelu = node('Mul', [node('Mul', [f1, node('Add', [node('Erf', [node('Div', [f1, constOut(`${p}/Constant_7`)])]), constOut(`${p}/Constant_8`)])]), constOut(`${p}/Constant_9`)]);
    h = node('Add', [h, node('Add', [`blocks.${l}.fc2.bias`, node('MatMul', [gelu, weightOf(`${p}/fc2/MatMul`)])])]);
  }
  node('MatMul', [layerNorm(h, '/ln', 'ln.weight', 'ln.bias'), weightOf('/MatMul')], [], ['logits']);

  const vi = (name: string, elem: number, dims: (number | string)[]): OnnxTypes.IValueInfoProto => ({
    name, type: { tensorType: { elemType: elem, shape: { dim: dims.map((x) => (typeof x === 'number' ? { dimValue: x } : { dimParam: x })) } } },
  });
  const out = onnx.ModelProto.create({
    irVersion: 8, producerName: 'opml tiny-transformer-kv', producerVersion: '0.1.0', opsetImport: m.opsetImport,
    graph: {
      name: 'tiny-transformer-kv', initializer: inits, node: nodes,
      input: [
        vi('input_ids', T.INT64, [1, 'sequence_length']), vi('attention_mask', T.INT64, [1, 'total_sequence_length']), vi('position_ids', T.INT64, [1, 'sequence_length']),
        ...past.map((n) => vi(n, T.FLOAT, [1, HEADS, 'past_sequence_length', hd])),
      ],
      output: [vi('logits', T.FLOAT, [1, 'sequence_length', vocab]), ...present.map((n) => vi(n, T.FLOAT, [1, HEADS, 'total_sequence_length', hd]))],
    },
  });
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'decoder_with_past_model.onnx');
  fs.writeFileSync(file, onnx.ModelProto.encode(out).finish());
  fs.copyFileSync(path.join(path.dirname(src), 'vocab.json'), path.join(outDir, 'vocab.json'));
  return file;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) { process.stderr.write('usage: tiny-transformer-kv.ts OUT_DIR\n'); process.exit(2); }
  process.stdout.write(`wrote ${writeTinyTransformerKv(dir)}\n`);
}
