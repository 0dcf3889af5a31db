/**
 * Step proofs for a node of a compiled model (`opml prove-step`) and their check (`opml verify-step`):
 * the native engine computes node k's inputs, the interpreter replays node k with snapshots, the tracer
 * proves one step; the verifier recomputes the post-state from the pre-state hash and the proof alone.
 */
import type { TensorId } from '../../converter/ir/types.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { decodeInsn, OP_NAMES } from '../../compiler/opvm/isa.ts';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { NativeExecutor, RunError } from '../native/executor.ts';
import { bundleConstantTrees } from '../native/trace.ts';
import { readVmCode } from './vm-executor.ts';
import { resolveInputs } from '../cli.ts';
import { nodeImage } from './node-image.ts';
import { Tracer } from './tracer.ts';
import { stateHash } from './state.ts';
import type { StepProofFile } from './proof.ts';
import { fromHex, packProof, PROOF_FORMAT, PROOF_VERSION, proofFromJson, proofToJson, ProofFormatError } from './proof.ts';
import { verifyStep, VerifyError } from './verify.ts';

export interface ModelStepProofFile extends StepProofFile {
  op: string;
  nodeName: string;
  /** Steps node k takes to halt on this input. */
  nodeSteps: number;
  proofBytes: number;
  modelCommitment: string | null;
}

/**
 * Prove step `step` of node `node` (from 1) of the compiled model in `dir` on the given inputs: files
 * (in model order or NAME=FILE, as on the command line) or tensors in model order. `onProgress` hears of
 * the phases: the native run, the node's OPVM run, the proof.
 */
export async function proveModelStep(dir: string, inputs: readonly string[] | readonly HostTensor[], node: number, step: number, onProgress?: (phase: string, done: number, total: number) => void): Promise<ModelStepProofFile> {
  return (await proveModelSteps(dir, inputs, node, [step], onProgress))[0]!;
}

/**
 * Prove several steps of one node in one run (e.g. the first, middle and last, or a dissection round's
 * cut points): the node runs forward once with checkpoints (runtime/opvm/tracer.ts), each proof
 * replays from the nearest checkpoint. The weights' roots and paths come from the bundle's constant
 * trees when it has them, so they are never hashed whole.
 */
export async function proveModelSteps(dir: string, inputs: readonly string[] | readonly HostTensor[], node: number, steps: readonly number[], onProgress?: (phase: string, done: number, total: number) => void): Promise<ModelStepProofFile[]> {
  const ex = await NativeExecutor.load(dir);
  try {
    const g = ex.graph;
    if (node < 1 || node > g.nodes.length) throw new RunError(`--node ${node}: the model has nodes 1 … ${g.nodes.length} (see opml trace)`);
    const n = g.nodes[node - 1]!;
    const cn = ex.manifest.nodes[node - 1]!;
    if (!cn.vm) throw new RunError(`${dir} has no OPVM programs; compile it again with this opml`);
    const code = readVmCode(dir, cn, node);
    const tensors = inputs.length && typeof inputs[0] !== 'string'
      ? (inputs as readonly HostTensor[])
      : resolveInputs(g.inputs.map((i) => g.tensors[i]!.name), g.inputs.map((i) => g.tensors[i]!), inputs as readonly string[]);
    onProgress?.('native', 0, 3);
    ex.run(tensors);
    const value = (id: number) => { const t = ex.tensor(id as TensorId); return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength); };
    const trees = n.inputs.some((id) => g.constants.has(id as TensorId)) ? bundleConstantTrees(dir, g, ex.manifest.model?.constantState) : null;
    const tracer = new Tracer(nodeImage(g, n, cn.vm, code, value, (id) => trees?.get(id)));
    onProgress?.(`node ${node}`, 1, 3);
    const nodeSteps = tracer.runToEnd();
    onProgress?.('proof', 2, 3);
    const out = steps.map((step) => {
      const { pre, post, proof } = tracer.proveStep(step);
      return {
        format: PROOF_FORMAT, version: PROOF_VERSION, node, step, preState: toHex(stateHash(pre)), postState: toHex(stateHash(post)), proof: proofToJson(proof),
        op: n.op, nodeName: n.name, nodeSteps, proofBytes: packProof(proof).length, modelCommitment: ex.manifest.model?.commitment ?? null,
      } satisfies ModelStepProofFile;
    });
    onProgress?.('proof', 3, 3);
    return out;
  } finally {
    await ex.close();
  }
}

export function checkProofFile(json: unknown): { ok: boolean; message: string } {
  const f = json as Partial<StepProofFile>;
  if (!f || typeof f !== 'object' || f.format !== PROOF_FORMAT) throw new ProofFormatError(`not an ${PROOF_FORMAT} file; make one with 'opml prove-step'`);
  if (f.version !== PROOF_VERSION) throw new ProofFormatError(`${PROOF_FORMAT} version ${f.version}; this opml reads version ${PROOF_VERSION}`);
  const pre = fromHex(f.preState, 'preState', 32);
  const want = fromHex(f.postState, 'postState', 32);
  const proof = proofFromJson(f.proof);
  const what = `step ${f.step ?? '?'} of node ${f.node ?? '?'}`;
  const insn = proof.insnLeaf ? OP_NAMES.get(decodeInsn(proof.insnLeaf).op) ?? 'illegal opcode' : 'no instruction (halted, trapped or pc out of range)';
  try {
    const { postHash } = verifyStep(pre, proof);
    if (toHex(postHash) !== toHex(want)) return { ok: false, message: `${what} (${insn}): the proof leads to post-state ${toHex(postHash)}, the file claims ${toHex(want)}` };
    return { ok: true, message: `${what} (${insn}): ${toHex(pre)} → ${toHex(want)}` };
  } catch (e) {
    if (e instanceof VerifyError) return { ok: false, message: `${what} (${insn}): ${e.message}` };
    throw e;
  }
}
