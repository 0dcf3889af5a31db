/**
 * A LLaMA-shaped decoder as ONNX, with random weights from a fixed seed, in the two graph forms Hugging
 * Face optimum exports for causal LMs:
 *
 *   decoder_model.onnx            input_ids, attention_mask, position_ids → logits, present.N.key/value
 *   decoder_with_past_model.onnx  the same plus past_key_values.N.key/value [batch, kv_heads, past, head_dim]
 *
 * Layers: token embedding (Gather), per block RMSNorm → q/k/v projections → rotary embeddings (rotate-half
 * form, cos/sin tables gathered by position_ids) → causal softmax attention with grouped KV heads
 * (Unsqueeze/Expand/Reshape, as transformers' repeat_kv) and the padding mask from attention_mask →
 * output projection → residual; RMSNorm → SwiGLU MLP (down(silu(gate(x)) · up(x))) → residual; final
 * RMSNorm and the LM head (tied to the embedding or its own matrix). Opset 14, ops the converter lowers.
 * batch, sequence and past length are symbolic dimensions (convert fixes them with --input-shape).
 *
 * Weights go into one external-data file (model.onnx_data, shared by both graphs) when they exceed
 * `externalAbove` bytes (default 64 MiB, protobuf's own limit is 2 GiB); else inline raw_data. With
 * `dataFiles: 'per-tensor'` each weight gets its own file named after the tensor, as onnx.save does with
 * all_tensors_to_one_file=False (external data spread over many files).
 *
 *   node --import tsx bench/gen-llama-onnx.ts OUT_DIR [--size tiny|small|medium|1.1b] [--d 256 --layers 4 …]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from '../converter/onnx/proto.ts';
import type { OnnxTypes } from '../converter/onnx/proto.ts';
import { SplitMix64 } from '../runtime/sample.ts'; // the weights' generator: fixed seed, identical on every machine

export interface LlamaConfig {
  dModel: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocab: number;
  /** Rows of the rotary tables: the largest position id the model accepts + 1. */
  maxPositions: number;
  tied: boolean;
  seed: number;
  ropeTheta: number;
  rmsEps: number;
}

export const LLAMA_SIZES: Record<string, Omit<LlamaConfig, 'seed' | 'ropeTheta' | 'rmsEps'>> = {
  /** For unit tests: converts and compiles in seconds. */
  tiny: { dModel: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, vocab: 97, maxPositions: 64, tied: false },
  /** The benchmark's default (CI). */
  small: { dModel: 256, layers: 4, heads: 8, kvHeads: 4, ffn: 688, vocab: 2048, maxPositions: 256, tied: false },
  /** About the issue's 134 M-parameter measurement (0.5 GB): fits one wasm32 arena. */
  medium: { dModel: 768, layers: 12, heads: 12, kvHeads: 4, ffn: 2048, vocab: 32000, maxPositions: 512, tied: false },
  /** TinyLlama-1.1B's shape (4.4 GB of float32 weights). */
  '1.1b': { dModel: 2048, layers: 22, heads: 32, kvHeads: 4, ffn: 5632, vocab: 32000, maxPositions: 2048, tied: false },
};

export function llamaConfig(size = 'small', over: Partial<LlamaConfig> = {}): LlamaConfig {
  const base = LLAMA_SIZES[size];
  if (!base) throw new Error(`unknown size '${size}' (one of ${Object.keys(LLAMA_SIZES).join(', ')})`);
  const c: LlamaConfig = { ...base, seed: 1, ropeTheta: 10000, rmsEps: 1e-5, ...over };
  if (c.dModel % c.heads) throw new Error(`d_model ${c.dModel} is not a multiple of heads ${c.heads}`);
  if (c.heads % c.kvHeads) throw new Error(`heads ${c.heads} is not a multiple of kv heads ${c.kvHeads}`);
  if ((c.dModel / c.heads) % 2) throw new Error('head_dim must be even (rotary embeddings rotate pairs)');
  return c;
}

export function parameterCount(c: LlamaConfig): number {
  const hd = c.dModel / c.heads;
  const attn = c.dModel * c.dModel * 2 + c.dModel * c.kvHeads * hd * 2;
  const mlp = 3 * c.dModel * c.ffn;
  return c.vocab * c.dModel * (c.tied ? 1 : 2) + c.layers * (attn + mlp + 2 * c.dModel) + c.dModel;
}

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const MIN_F32 = -3.4028234663852886e38;

/** A fast 32-bit generator (xorshift32) seeded per tensor from splitmix64, for bulk weights. */
function fillUniform(a: Float32Array, seed: bigint, scale: number, offset = 0): void {
  let s = Number(seed & 0xffffffffn) | 1;
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    // uniform in [-1, 1) times scale: std = scale / √3
    a[i] = offset + ((s >>> 0) / 2 ** 31 - 1) * scale;
  }
}

interface Init { name: string; dims: number[]; data: Float32Array | BigInt64Array; dtype: number }

export interface LlamaFiles { dir: string; prefill: string; withPast: string; data?: string; config: LlamaConfig; parameters: number; weightBytes: number }

/**
 * Write decoder_model.onnx and decoder_with_past_model.onnx (and model.onnx_data when external) into
 * `dir`, plus config.json. Weight tensors are generated one at a time and streamed to the data file.
 */
export function writeLlamaOnnx(dir: string, c: LlamaConfig, opts: { externalAbove?: number; dataFiles?: 'one' | 'per-tensor' } = {}): LlamaFiles {
  fs.mkdirSync(dir, { recursive: true });
  const hd = c.dModel / c.heads;
  const rng = new SplitMix64(c.seed);
  const std = 0.02 * Math.sqrt(3);
  const specs: { name: string; dims: number[]; scale: number; offset?: number }[] = [{ name: 'model.embed_tokens.weight', dims: [c.vocab, c.dModel], scale: std * 5 }];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    specs.push(
      { name: `${p}.input_layernorm.weight`, dims: [c.dModel], scale: 0.1, offset: 1 },
      { name: `${p}.self_attn.q_proj.weight`, dims: [c.dModel, c.heads * hd], scale: std * 2 },
      { name: `${p}.self_attn.k_proj.weight`, dims: [c.dModel, c.kvHeads * hd], scale: std * 2 },
      { name: `${p}.self_attn.v_proj.weight`, dims: [c.dModel, c.kvHeads * hd], scale: std * 2 },
      { name: `${p}.self_attn.o_proj.weight`, dims: [c.heads * hd, c.dModel], scale: std },
      { name: `${p}.post_attention_layernorm.weight`, dims: [c.dModel], scale: 0.1, offset: 1 },
      { name: `${p}.mlp.gate_proj.weight`, dims: [c.dModel, c.ffn], scale: std * 2 },
      { name: `${p}.mlp.up_proj.weight`, dims: [c.dModel, c.ffn], scale: std * 2 },
      { name: `${p}.mlp.down_proj.weight`, dims: [c.ffn, c.dModel], scale: std },
    );
  }
  specs.push({ name: 'model.norm.weight', dims: [c.dModel], scale: 0.1, offset: 1 });
  if (!c.tied) specs.push({ name: 'lm_head.weight', dims: [c.dModel, c.vocab], scale: std * 2 });
  const weightBytes = specs.reduce((a, s) => a + 4 * s.dims.reduce((x, y) => x * y, 1), 0);
  const external = weightBytes > (opts.externalAbove ?? 64 * 2 ** 20);

  // rotary tables (cos/sin of position × inverse frequency, rotate-half layout: [maxPositions, head_dim])
  const cos = new Float32Array(c.maxPositions * hd);
  const sin = new Float32Array(c.maxPositions * hd);
  for (let p = 0; p < c.maxPositions; p++) {
    for (let i = 0; i < hd / 2; i++) {
      const f = p / c.ropeTheta ** ((2 * i) / hd);
      cos[p * hd + i] = cos[p * hd + i + hd / 2] = Math.cos(f);
      sin[p * hd + i] = sin[p * hd + i + hd / 2] = Math.sin(f);
    }
  }

  // weights: inline tensors or one shared external-data file
  const dataName = 'model.onnx_data';
  const weightProtos: OnnxTypes.ITensorProto[] = [];
  const perTensor = external && opts.dataFiles === 'per-tensor';
  const fd = external && !perTensor ? fs.openSync(path.join(dir, dataName), 'w') : undefined;
  let offset = 0;
  try {
    for (const s of specs) {
      const a = new Float32Array(s.dims.reduce((x, y) => x * y, 1));
      fillUniform(a, rng.next(), s.scale, s.offset ?? 0);
      const bytes = new Uint8Array(a.buffer);
      if (perTensor) {
        fs.writeFileSync(path.join(dir, s.name), bytes);
        weightProtos.push({ name: s.name, dataType: T.FLOAT, dims: s.dims, dataLocation: 1, externalData: [{ key: 'location', value: s.name }] });
      } else if (fd !== undefined) {
        fs.writeSync(fd, bytes, 0, bytes.length, offset);
        weightProtos.push({
          name: s.name, dataType: T.FLOAT, dims: s.dims, dataLocation: 1,
          externalData: [{ key: 'location', value: dataName }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(bytes.length) }],
        });
        offset += bytes.length;
        const pad = (64 - (offset % 64)) % 64; // keep tensors 64-byte aligned, as onnx's save does for mmap
        offset += pad;
      } else weightProtos.push({ name: s.name, dataType: T.FLOAT, dims: s.dims, rawData: bytes });
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }

  const files: LlamaFiles = {
    dir, prefill: path.join(dir, 'decoder_model.onnx'), withPast: path.join(dir, 'decoder_with_past_model.onnx'),
    ...(external && !perTensor ? { data: path.join(dir, dataName) } : {}), config: c, parameters: parameterCount(c), weightBytes,
  };
  for (const withPast of [false, true]) {
    const model = buildGraph(c, withPast, weightProtos, { cos, sin });
    fs.writeFileSync(withPast ? files.withPast : files.prefill, onnx.ModelProto.encode(model).finish());
  }
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: c.dModel, num_hidden_layers: c.layers,
    num_attention_heads: c.heads, num_key_value_heads: c.kvHeads, intermediate_size: c.ffn, vocab_size: c.vocab,
    max_position_embeddings: c.maxPositions, tie_word_embeddings: c.tied, rope_theta: c.ropeTheta, rms_norm_eps: c.rmsEps,
    opml_seed: c.seed, opml_parameters: files.parameters,
  }, null, 1) + '\n');
  return files;
}

function buildGraph(c: LlamaConfig, withPast: boolean, weights: OnnxTypes.ITensorProto[], tables: { cos: Float32Array; sin: Float32Array }): OnnxTypes.ModelProto {
  const hd = c.dModel / c.heads;
  const nodes: OnnxTypes.INodeProto[] = [];
  const inits: OnnxTypes.ITensorProto[] = [...weights];
  const initNames = new Set<string>();
  let counter = 0;
  const node = (op: string, inputs: string[], attrs: OnnxTypes.IAttributeProto[] = [], name?: string, outputs?: string[]): string => {
    const nm = name ?? `/${op}_${counter++}`;
    const outs = outputs ?? [`${nm}_output_0`];
    nodes.push({ opType: op, name: nm, input: inputs, output: outs, attribute: attrs });
    return outs[0]!;
  };
  const ints = (name: string, v: number[]): OnnxTypes.IAttributeProto => ({ name, type: A.INTS, ints: v });
  const int = (name: string, v: number): OnnxTypes.IAttributeProto => ({ name, type: A.INT, i: v });
  const constI64 = (name: string, v: number[], dims = [v.length]): string => {
    if (!initNames.has(name)) {
      initNames.add(name);
      inits.push({ name, dataType: T.INT64, dims, rawData: new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer) });
    }
    return name;
  };
  const constF = (name: string, v: number[], dims: number[] = []): string => {
    if (!initNames.has(name)) {
      initNames.add(name);
      inits.push({ name, dataType: T.FLOAT, dims, rawData: new Uint8Array(Float32Array.from(v).buffer) });
    }
    return name;
  };
  inits.push({ name: 'rotary.cos_cached', dataType: T.FLOAT, dims: [c.maxPositions, hd], rawData: new Uint8Array(tables.cos.buffer) });
  inits.push({ name: 'rotary.sin_cached', dataType: T.FLOAT, dims: [c.maxPositions, hd], rawData: new Uint8Array(tables.sin.buffer) });

  const rmsNorm = (x: string, w: string, p: string): string => {
    const sq = node('Mul', [x, x], [], `${p}/Mul_sq`);
    const ms = node('ReduceMean', [sq], [ints('axes', [-1]), int('keepdims', 1)], `${p}/ReduceMean`);
    const r = node('Sqrt', [node('Add', [ms, constF('const.rms_eps', [c.rmsEps])], [], `${p}/Add_eps`)], [], `${p}/Sqrt`);
    const n = node('Mul', [x, node('Reciprocal', [r], [], `${p}/Reciprocal`)], [], `${p}/Mul_norm`);
    return node('Mul', [n, w], [], `${p}/Mul_weight`);
  };

  // ---- shared prologue: embeddings, rotary cos/sin for position_ids, attention mask [B, 1, S, T]
  const h0 = node('Gather', ['model.embed_tokens.weight', 'input_ids'], [int('axis', 0)], '/model/embed_tokens/Gather');
  const cosP = node('Unsqueeze', [node('Gather', ['rotary.cos_cached', 'position_ids'], [int('axis', 0)], '/model/rotary/Gather_cos'), constI64('const.axes1', [1])], [], '/model/rotary/Unsqueeze_cos');
  const sinP = node('Unsqueeze', [node('Gather', ['rotary.sin_cached', 'position_ids'], [int('axis', 0)], '/model/rotary/Gather_sin'), constI64('const.axes1', [1])], [], '/model/rotary/Unsqueeze_sin');
  // total length T = attention_mask.shape[1], query length S = input_ids.shape[1]
  const tLen = node('Gather', [node('Shape', ['attention_mask'], [], '/model/mask/Shape_T'), constI64('const.one_scalar', [1], [])], [int('axis', 0)], '/model/mask/Gather_T');
  const sLen = node('Gather', [node('Shape', ['input_ids'], [], '/model/mask/Shape_S'), constI64('const.one_scalar', [1], [])], [int('axis', 0)], '/model/mask/Gather_S');
  const zero = constI64('const.zero_scalar', [0], []);
  const one = constI64('const.one_i64', [1], []);
  const qpos = node('Range', [node('Sub', [tLen, sLen], [], '/model/mask/Sub_past'), tLen, one], [], '/model/mask/Range_q');
  const kpos = node('Range', [zero, tLen, one], [], '/model/mask/Range_k');
  const future = node('Greater', [
    node('Unsqueeze', [kpos, constI64('const.axes0', [0])], [], '/model/mask/Unsqueeze_k'),
    node('Unsqueeze', [qpos, constI64('const.axes1', [1])], [], '/model/mask/Unsqueeze_q'),
  ], [], '/model/mask/Greater'); // [S, T]
  const padded = node('Not', [node('Cast', [node('Unsqueeze', ['attention_mask', constI64('const.axes12', [1, 2])], [], '/model/mask/Unsqueeze_am')], [int('to', T.BOOL)], '/model/mask/Cast_am')], [], '/model/mask/Not'); // [B,1,1,T]
  const masked = node('Or', [future, padded], [], '/model/mask/Or'); // [B,1,S,T]
  const mask = node('Where', [masked, constF('const.min_f32', [MIN_F32]), constF('const.zero_f32', [0])], [], '/model/mask/Where');

  const headsShape = (n: number) => constI64(`const.shape_heads_${n}`, [0, 0, n, hd]);
  const rotateHalf = (x: string, p: string): string => {
    const [x1, x2] = [`${p}/Split_output_0`, `${p}/Split_output_1`];
    node('Split', [x, constI64('const.split_half', [hd / 2, hd / 2])], [int('axis', -1)], `${p}/Split`, [x1, x2]);
    return node('Concat', [node('Neg', [x2], [], `${p}/Neg`), x1], [int('axis', -1)], `${p}/Concat`);
  };
  const rope = (x: string, p: string): string =>
    node('Add', [node('Mul', [x, cosP], [], `${p}/Mul_cos`), node('Mul', [rotateHalf(x, p), sinP], [], `${p}/Mul_sin`)], [], `${p}/Add`);

  const presentOutputs: string[] = [];
  const pastInputs: string[] = [];
  let h = h0;
  const nRep = c.heads / c.kvHeads;
  for (let l = 0; l < c.layers; l++) {
    const p = `/model/layers.${l}`;
    const w = `model.layers.${l}`;
    const x = rmsNorm(h, `${w}.input_layernorm.weight`, `${p}/input_layernorm`);
    const proj = (nm: string, heads: number) => node('Transpose', [node('Reshape', [node('MatMul', [x, `${w}.self_attn.${nm}_proj.weight`], [], `${p}/self_attn/${nm}_proj/MatMul`), headsShape(heads)], [], `${p}/self_attn/Reshape_${nm}`)], [ints('perm', [0, 2, 1, 3])], `${p}/self_attn/Transpose_${nm}`);
    const q = rope(proj('q', c.heads), `${p}/self_attn/rotary_q`);
    let k = rope(proj('k', c.kvHeads), `${p}/self_attn/rotary_k`);
    let v = proj('v', c.kvHeads);
    const pk = `present.${l}.key`, pv = `present.${l}.value`;
    if (withPast) {
      pastInputs.push(`past_key_values.${l}.key`, `past_key_values.${l}.value`);
      node('Concat', [`past_key_values.${l}.key`, k], [int('axis', 2)], `${p}/self_attn/Concat_k`, [pk]);
      node('Concat', [`past_key_values.${l}.value`, v], [int('axis', 2)], `${p}/self_attn/Concat_v`, [pv]);
    } else {
      node('Identity', [k], [], `${p}/self_attn/Identity_k`, [pk]);
      node('Identity', [v], [], `${p}/self_attn/Identity_v`, [pv]);
    }
    presentOutputs.push(pk, pv);
    k = pk;
    v = pv;
    if (nRep > 1) {
      // repeat_kv: [B, kvh, T, hd] → [B, kvh, n_rep, T, hd] → [B, heads, T, hd]
      const rep = (t: string, nm: string) => node('Reshape', [
        node('Expand', [node('Unsqueeze', [t, constI64('const.axes2', [2])], [], `${p}/self_attn/Unsqueeze_${nm}`), constI64('const.expand_rep', [1, 1, nRep, 1, 1])], [], `${p}/self_attn/Expand_${nm}`),
        constI64('const.shape_rep', [0, c.heads, -1, hd]),
      ], [], `${p}/self_attn/Reshape_rep_${nm}`);
      k = rep(k, 'k');
      v = rep(v, 'v');
    }
    const kt = node('Transpose', [k], [ints('perm', [0, 1, 3, 2])], `${p}/self_attn/Transpose_kt`);
    const scores = node('Mul', [node('MatMul', [q, kt], [], `${p}/self_attn/MatMul_qk`), constF('const.attn_scale', [1 / Math.sqrt(hd)])], [], `${p}/self_attn/Mul_scale`);
    const probs = node('Softmax', [node('Add', [scores, mask], [], `${p}/self_attn/Add_mask`)], [int('axis', -1)], `${p}/self_attn/Softmax`);
    const ctx = node('Reshape', [
      node('Transpose', [node('MatMul', [probs, v], [], `${p}/self_attn/MatMul_pv`)], [ints('perm', [0, 2, 1, 3])], `${p}/self_attn/Transpose_ctx`),
      constI64('const.shape_merge', [0, 0, c.heads * hd]),
    ], [], `${p}/self_attn/Reshape_ctx`);
    h = node('Add', [h, node('MatMul', [ctx, `${w}.self_attn.o_proj.weight`], [], `${p}/self_attn/o_proj/MatMul`)], [], `${p}/Add_attn`);
    const y = rmsNorm(h, `${w}.post_attention_layernorm.weight`, `${p}/post_attention_layernorm`);
    const gate = node('MatMul', [y, `${w}.mlp.gate_proj.weight`], [], `${p}/mlp/gate_proj/MatMul`);
    const silu = node('Mul', [gate, node('Sigmoid', [gate], [], `${p}/mlp/act_fn/Sigmoid`)], [], `${p}/mlp/act_fn/Mul`);
    const up = node('MatMul', [y, `${w}.mlp.up_proj.weight`], [], `${p}/mlp/up_proj/MatMul`);
    const down = node('MatMul', [node('Mul', [silu, up], [], `${p}/mlp/Mul`), `${w}.mlp.down_proj.weight`], [], `${p}/mlp/down_proj/MatMul`);
    h = node('Add', [h, down], [], `${p}/Add_mlp`);
  }
  const hn = rmsNorm(h, 'model.norm.weight', '/model/norm');
  const head = c.tied ? node('Transpose', ['model.embed_tokens.weight'], [ints('perm', [1, 0])], '/lm_head/Transpose') : 'lm_head.weight';
  node('MatMul', [hn, head], [], '/lm_head/MatMul', ['logits']);

  const vi = (name: string, elem: number, dims: (number | string)[]): OnnxTypes.IValueInfoProto => ({
    name, type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const total = withPast ? 'past_sequence_length + sequence_length' : 'sequence_length';
  const inputs = [
    vi('input_ids', T.INT64, ['batch_size', 'sequence_length']),
    vi('attention_mask', T.INT64, ['batch_size', total]),
    vi('position_ids', T.INT64, ['batch_size', 'sequence_length']),
    ...pastInputs.map((n) => vi(n, T.FLOAT, ['batch_size', c.kvHeads, 'past_sequence_length', hd])),
  ];
  const outputs = [
    vi('logits', T.FLOAT, ['batch_size', 'sequence_length', c.vocab]),
    ...presentOutputs.map((n) => vi(n, T.FLOAT, ['batch_size', c.kvHeads, total, hd])),
  ];
  return onnx.ModelProto.create({
    irVersion: 8, producerName: 'opml gen-llama-onnx', producerVersion: '0.1.0', opsetImport: [{ domain: '', version: 14 }],
    graph: { name: 'llama', input: inputs, output: outputs, initializer: inits, node: nodes },
  });
}

// ---- command line
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const out = args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1]!.startsWith('--')));
  if (!out) {
    process.stderr.write('usage: gen-llama-onnx.ts OUT_DIR [--size tiny|small|medium|1.1b] [--d N --layers N --heads N --kv-heads N --ffn N --vocab N --max-positions N --tied --seed N]\n');
    process.exit(2);
  }
  const opt = (k: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : undefined; };
  const num = (k: string) => (opt(k) !== undefined ? Number(opt(k)) : undefined);
  const over: Partial<LlamaConfig> = {};
  const set = <K extends keyof LlamaConfig>(k: K, v: LlamaConfig[K] | undefined) => { if (v !== undefined) over[k] = v; };
  set('dModel', num('d')); set('layers', num('layers')); set('heads', num('heads')); set('kvHeads', num('kv-heads'));
  set('ffn', num('ffn')); set('vocab', num('vocab')); set('maxPositions', num('max-positions')); set('seed', num('seed'));
  if (args.includes('--tied')) over.tied = true;
  const f = writeLlamaOnnx(out, llamaConfig(opt('size') ?? 'small', over));
  process.stdout.write(`wrote ${f.prefill} and ${f.withPast}${f.data ? ` (+ ${f.data})` : ''}: ${(f.parameters / 1e6).toFixed(2)} M parameters, ${(f.weightBytes / 2 ** 20).toFixed(1)} MiB\n`);
}
