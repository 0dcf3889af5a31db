/** Read a graph bundle back into an IR graph; constants are read lazily from weights.bin. */
import fs from 'node:fs';
import path from 'node:path';
import type { ConstantSource, Graph, Node, TensorId, TensorInfo } from '../ir/types.ts';
import { shape, tensorId } from '../ir/types.ts';
import { isDType } from '../ir/dtype.ts';
import { hasOp } from '../ir/op-registry.ts';
import { keccak256, toHex } from '../ir/keccak.ts';
import { modelHash } from '../ir/encoding.ts';
import type { BundleJson } from './format.ts';
import { BUNDLE_FORMAT, BUNDLE_VERSION, GRAPH_FILE, WEIGHTS_FILE } from './format.ts';
import '../ir/ops/index.ts';

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

export interface LoadedBundle {
  dir: string;
  json: BundleJson;
  graph: Graph;
  modelHash: string;
}

export function readBundle(dir: string, opts: { verifyWeights?: boolean } = {}): LoadedBundle {
  const gp = path.join(dir, GRAPH_FILE);
  const wp = path.join(dir, WEIGHTS_FILE);
  if (!fs.existsSync(gp)) throw new BundleError(`${dir} is not an OPML bundle (no ${GRAPH_FILE}); make one with 'opml convert'`);
  let json: BundleJson;
  try {
    json = JSON.parse(fs.readFileSync(gp, 'utf8')) as BundleJson;
  } catch (e) {
    throw new BundleError(`${gp}: not valid JSON (${(e as Error).message}); the bundle is damaged, convert the model again`);
  }
  if (json.format !== BUNDLE_FORMAT || json.version !== BUNDLE_VERSION) {
    throw new BundleError(`${gp}: format ${json.format} v${json.version}, this opml reads ${BUNDLE_FORMAT} v${BUNDLE_VERSION}; convert the model again with this opml`);
  }
  const missing: string[] = [
    ...(['tensors', 'inputs', 'outputs', 'constants', 'nodes'] as const).filter((k) => !Array.isArray(json[k])),
    ...(typeof json.weightsBytes === 'number' ? [] : ['weightsBytes']),
    ...(typeof json.modelHash === 'string' ? [] : ['modelHash']),
  ];
  if (missing.length) throw new BundleError(`${gp}: incomplete (no ${missing.join(', ')}); the bundle is damaged, convert the model again`);
  const wsize = fs.existsSync(wp) ? fs.statSync(wp).size : -1;
  if (wsize !== json.weightsBytes) throw new BundleError(`${wp}: ${wsize < 0 ? 'missing' : `${wsize} bytes`}, graph.json says ${json.weightsBytes}; the bundle is truncated or damaged, convert the model again`);

  const tensors: TensorInfo[] = json.tensors.map((t, i) => {
    if (!isDType(t.dtype)) throw new BundleError(`${gp}: tensor ${i} has unknown dtype ${t.dtype}; convert the model again with this opml`);
    return { name: t.name, dtype: t.dtype, shape: shape(t.shape), origin: t.origin };
  });
  const constants = new Map<TensorId, ConstantSource>();
  const hashes = new Map<TensorId, Uint8Array>();
  for (const c of json.constants) {
    const src: ConstantSource = {
      byteLength: c.byteLength,
      read() {
        const fd = fs.openSync(wp, 'r');
        try {
          const b = new Uint8Array(c.byteLength);
          let got = 0;
          while (got < c.byteLength) {
            const n = fs.readSync(fd, b, got, c.byteLength - got, c.offset + got);
            if (n === 0) throw new BundleError(`${wp}: truncated at constant ${c.id}; convert the model again`);
            got += n;
          }
          return b;
        } finally {
          fs.closeSync(fd);
        }
      },
    };
    if (opts.verifyWeights && toHex(keccak256(src.read())) !== c.keccak) {
      throw new BundleError(`${wp}: bytes of constant '${json.tensors[c.id]?.name}' do not match their hash; the bundle is corrupt, convert again`);
    }
    constants.set(tensorId(c.id), src);
    hashes.set(tensorId(c.id), Buffer.from(c.keccak.slice(2), 'hex'));
  }
  const nodes: Node[] = json.nodes.map((n) => {
    if (!hasOp(n.op)) throw new BundleError(`${gp}: node '${n.name}' has op ${n.op}, unknown to this opml`);
    return { op: n.op, name: n.name, inputs: n.inputs.map(tensorId), outputs: n.outputs.map(tensorId), attrs: n.attrs };
  });
  const graph: Graph = { tensors, inputs: json.inputs.map(tensorId), outputs: json.outputs.map(tensorId), constants, nodes };
  const hash = toHex(modelHash(graph, hashes));
  if (hash !== json.modelHash) throw new BundleError(`${gp}: content does not match its model hash (${json.modelHash}); the bundle was edited or is corrupt`);
  return { dir, json, graph, modelHash: hash };
}
