/**
 * The IR op vocabulary: every op's schema (arity, attributes and their kinds), its shape and dtype
 * inference, and optionally a host evaluator used for constant folding. docs/ir.md documents each op;
 * the ops are defined in ops/*.ts, one file per family.
 */
import type { AttrKind, Attrs, TensorType } from './types.ts';
import type { HostTensor } from './host-tensor.ts';

export interface OpDef {
  readonly name: string;
  /** One line for docs and `opml inspect`. */
  readonly summary: string;
  /**
   * The op's exact semantics in markdown (inputs, dtypes, shape rule, numerics, edge cases). This
   * text is the op's spec: docs/ir-ops.md is generated from it (`npm run docs:ops`).
   */
  readonly doc: string;
  /** Inclusive range of the number of inputs. Optional inputs are trailing; there are no holes. */
  readonly inputs: readonly [min: number, max: number];
  /** Number of outputs, or a function of the attributes (e.g. Split). */
  readonly outputs: number | ((attrs: Attrs) => number);
  /** Attribute schema: every attribute is always present on a node. */
  readonly attrs: Readonly<Record<string, AttrKind>>;
  /**
   * Output types from input types and attributes. Throws IrError on inputs the op does not accept
   * (wrong rank, dtype, incompatible broadcast …).
   */
  infer(inputs: readonly TensorType[], attrs: Attrs): TensorType[];
  /**
   * Host evaluation for constant folding. Only bit-exact, deterministic computations belong here:
   * data movement, integer arithmetic, and float32 + − × ÷ sqrt, comparisons and conversions
   * (each rounded once to float32). Ops with transcendental math have no evaluator.
   */
  fold?(inputs: readonly HostTensor[], attrs: Attrs): HostTensor[];
}

/** A problem with an IR node: bad attributes, shapes or dtypes. */
export class IrError extends Error {
  override readonly name = 'IrError';
}

const registry = new Map<string, OpDef>();

/** Boundary dtypes (docs/ir.md §Dtypes): only Cast takes or produces them. */
const BOUNDARY = new Set(['float64', 'float16', 'bfloat16', 'uint16', 'uint32', 'uint64']);

export function defineOp(def: OpDef): OpDef {
  if (registry.has(def.name)) throw new Error(`IR op ${def.name} defined twice`);
  const d: OpDef = def.name === 'Cast' ? def : {
    ...def,
    infer(inputs, attrs) {
      const b = inputs.find((t) => BOUNDARY.has(t.dtype));
      if (b) throw new IrError(`${def.name} does not take ${b.dtype}: a boundary dtype is only a graph input or output and a Cast operand`);
      const outs = def.infer(inputs, attrs);
      const o = outs.find((t) => BOUNDARY.has(t.dtype));
      if (o) throw new IrError(`${def.name} cannot produce ${o.dtype}: a boundary dtype is only a graph input or output and a Cast operand`);
      return outs;
    },
  };
  registry.set(def.name, d);
  return d;
}

export function getOp(name: string): OpDef {
  const d = registry.get(name);
  if (!d) throw new IrError(`unknown IR op ${name}`);
  return d;
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

export function allOps(): OpDef[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function outputCount(def: OpDef, attrs: Attrs): number {
  return typeof def.outputs === 'number' ? def.outputs : def.outputs(attrs);
}

/** Check that attrs match the op's schema exactly: all present, right kinds, nothing extra. */
export function checkAttrs(def: OpDef, attrs: Attrs): void {
  for (const [k, kind] of Object.entries(def.attrs)) {
    const v = attrs[k];
    if (v === undefined) throw new IrError(`${def.name}: attribute '${k}' missing`);
    const ok =
      kind === 'int' ? typeof v === 'number' && Number.isSafeInteger(v)
      : kind === 'float' ? typeof v === 'number' && Object.is(Math.fround(v), v)
      : kind === 'ints' ? Array.isArray(v) && v.every((x) => Number.isSafeInteger(x))
      : kind === 'floats' ? Array.isArray(v) && v.every((x) => typeof x === 'number' && Object.is(Math.fround(x), x))
      : typeof v === 'string';
    if (!ok) throw new IrError(`${def.name}: attribute '${k}' must be ${kind}, got ${JSON.stringify(v)}`);
  }
  for (const k of Object.keys(attrs)) {
    if (!(k in def.attrs)) throw new IrError(`${def.name}: unknown attribute '${k}'`);
  }
}
