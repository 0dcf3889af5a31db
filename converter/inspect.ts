/** Summaries of a graph bundle: op histogram, parameters, interface, model hash. */
import type { LoadedBundle } from './bundle/read.ts';
import { numel } from './ir/types.ts';
import type { Graph } from './ir/types.ts';

export interface BundleSummary {
  modelHash: string;
  source: LoadedBundle['json']['source'];
  nodes: number;
  ops: Record<string, number>;
  parameters: number;
  constants: number;
  weightsBytes: number;
  inputs: { name: string; dtype: string; shape: number[] }[];
  outputs: { name: string; dtype: string; shape: number[] }[];
}

/** Node count per op. */
export function opHistogram(g: Graph): Record<string, number> {
  const ops: Record<string, number> = {};
  for (const n of g.nodes) ops[n.op] = (ops[n.op] ?? 0) + 1;
  return ops;
}

export function summarise(b: LoadedBundle): BundleSummary {
  const g = b.graph;
  const ops = opHistogram(g);
  let parameters = 0;
  for (const id of g.constants.keys()) parameters += numel(g.tensors[id]!.shape);
  const io = (id: number) => ({ name: g.tensors[id]!.name, dtype: g.tensors[id]!.dtype, shape: [...g.tensors[id]!.shape] });
  return {
    modelHash: b.modelHash,
    source: b.json.source,
    nodes: g.nodes.length,
    ops: Object.fromEntries(Object.entries(ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    parameters,
    constants: g.constants.size,
    weightsBytes: b.json.weightsBytes,
    inputs: g.inputs.map(io),
    outputs: g.outputs.map(io),
  };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function formatSummary(s: BundleSummary): string {
  const lines: string[] = [];
  lines.push(`model hash  ${s.modelHash}`);
  lines.push(`source      ${s.source.file} (${s.source.format}${s.source.producer ? `, ${s.source.producer}` : ''})`);
  lines.push(`nodes       ${s.nodes}`);
  lines.push(`parameters  ${human(s.parameters)} in ${s.constants} constants, ${human(s.weightsBytes)}B of weights`);
  lines.push('inputs');
  for (const t of s.inputs) lines.push(`  ${t.name}  ${t.dtype}[${t.shape.join('x')}]`);
  lines.push('outputs');
  for (const t of s.outputs) lines.push(`  ${t.name}  ${t.dtype}[${t.shape.join('x')}]`);
  lines.push('ops');
  const w = Math.max(...Object.keys(s.ops).map((k) => k.length), 4);
  for (const [op, n] of Object.entries(s.ops)) lines.push(`  ${op.padEnd(w)}  ${n}`);
  return lines.join('\n');
}
