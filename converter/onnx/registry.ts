/**
 * ONNX op lowerings: one handler per ONNX op type (default domain), registered by the family files
 * in ops/. A handler reads the ONNX node through an OnnxNodeContext, resolves opset differences and
 * defaults, and emits IR through the builder. Ops that are known and deliberately unsupported are
 * registered with their reason, so the error for a model names the reason too.
 */
import type { OnnxNodeContext } from './context.ts';
import type { ConvertErrorCategory } from '../errors.ts';

export type OnnxHandler = (ctx: OnnxNodeContext) => void;

const handlers = new Map<string, OnnxHandler>();
const refusals = new Map<string, { category: ConvertErrorCategory; reason: string }>();

/** Register the lowering of ONNX op `opType` (domain '' / 'ai.onnx'). */
export function onnxOp(opType: string, handler: OnnxHandler): void {
  if (handlers.has(opType)) throw new Error(`ONNX handler for ${opType} registered twice`);
  handlers.set(opType, handler);
}

/** Record that `opType` is deliberately unsupported, and why. */
export function onnxRefuse(opType: string, category: ConvertErrorCategory, reason: string): void {
  refusals.set(opType, { category, reason });
}

export function onnxHandler(domain: string, opType: string): OnnxHandler | undefined {
  return domain === '' || domain === 'ai.onnx' ? handlers.get(opType) : undefined;
}

export function onnxRefusal(domain: string, opType: string): { category: ConvertErrorCategory; reason: string } | undefined {
  if (domain === 'ai.onnx.ml') return { category: 'unsupported-op', reason: 'ai.onnx.ml (classical ML) operators are not supported' };
  if (domain === 'ai.onnx.preview.training') return { category: 'unsupported-op', reason: 'training operators are out of scope (inference only)' };
  if (domain !== '' && domain !== 'ai.onnx') return { category: 'unsupported-op', reason: `custom domain '${domain}'` };
  return refusals.get(opType);
}

export function supportedOnnxOps(): string[] {
  return [...handlers.keys()].sort();
}
