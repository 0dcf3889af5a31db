/**
 * Step proofs (docs/opvm.md §5): the pre-state header, the instruction leaf with its path and, for a
 * load or store that passes the bounds and alignment checks, the data leaf with its path. JSON form
 * for files, packed form for the contract.
 */
import { HEADER_BYTES, MEM_DEPTH } from '../../compiler/opvm/isa.ts';
import { toHex } from '../../converter/ir/keccak.ts';

export const PROOF_FORMAT = 'opml-step-proof';
export const PROOF_VERSION = 1;

export interface StepProof {
  header: Uint8Array;
  /** Absent when the pre-state is halted or trapped, or pc is out of bounds. */
  insnLeaf: Uint8Array | null;
  insnPath: Uint8Array[] | null;
  dataLeaf: Uint8Array | null;
  dataPath: Uint8Array[] | null;
}

export interface StepProofFile {
  format: typeof PROOF_FORMAT;
  version: number;
  node: number;
  step: number;
  preState: string;
  postState: string;
  proof: { header: string; insnLeaf: string | null; insnPath: string[] | null; dataLeaf: string | null; dataPath: string[] | null };
}

export class ProofFormatError extends Error {
  override readonly name = 'ProofFormatError';
}

export function fromHex(s: unknown, what: string, bytes?: number): Uint8Array {
  if (typeof s !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(s)) throw new ProofFormatError(`${what}: expected a 0x-hex string`);
  const out = Uint8Array.from(Buffer.from(s.slice(2), 'hex'));
  if (bytes !== undefined && out.length !== bytes) throw new ProofFormatError(`${what}: expected ${bytes} bytes, got ${out.length}`);
  return out;
}

function path(p: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(p) || p.length !== MEM_DEPTH) throw new ProofFormatError(`${what}: expected ${MEM_DEPTH} sibling hashes`);
  return p.map((x, i) => fromHex(x, `${what}[${i}]`, 32));
}

export function proofToJson(p: StepProof): StepProofFile['proof'] {
  return {
    header: toHex(p.header),
    insnLeaf: p.insnLeaf && toHex(p.insnLeaf), insnPath: p.insnPath && p.insnPath.map(toHex),
    dataLeaf: p.dataLeaf && toHex(p.dataLeaf), dataPath: p.dataPath && p.dataPath.map(toHex),
  };
}

export function proofFromJson(j: unknown): StepProof {
  const o = j as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw new ProofFormatError('proof: expected an object');
  const header = fromHex(o.header, 'proof.header', HEADER_BYTES);
  const present = (x: unknown) => x !== null && x !== undefined;
  const hasInsn = present(o.insnLeaf);
  const hasData = present(o.dataLeaf);
  if (!hasInsn && present(o.insnPath)) throw new ProofFormatError('proof.insnPath without proof.insnLeaf');
  if (!hasData && present(o.dataPath)) throw new ProofFormatError('proof.dataPath without proof.dataLeaf');
  if (hasData && !hasInsn) throw new ProofFormatError('proof.dataLeaf without proof.insnLeaf');
  return {
    header,
    insnLeaf: hasInsn ? fromHex(o.insnLeaf, 'proof.insnLeaf', 32) : null,
    insnPath: hasInsn ? path(o.insnPath, 'proof.insnPath') : null,
    dataLeaf: hasData ? fromHex(o.dataLeaf, 'proof.dataLeaf', 32) : null,
    dataPath: hasData ? path(o.dataPath, 'proof.dataPath') : null,
  };
}

/** header ‖ insnLeaf ‖ insnPath ‖ dataLeaf ‖ dataPath, absent parts omitted. */
export function packProof(p: StepProof): Uint8Array {
  const parts: Uint8Array[] = [p.header];
  if (p.insnLeaf) parts.push(p.insnLeaf, ...p.insnPath!);
  if (p.dataLeaf) parts.push(p.dataLeaf, ...p.dataPath!);
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const x of parts) { out.set(x, at); at += x.length; }
  return out;
}

/** The parts of a packed proof, told apart by its length (docs/opvm.md §5: 296, 1 160 or 2 024 bytes). */
export function unpackProof(b: Uint8Array): StepProof {
  const pathLen = 32 * MEM_DEPTH;
  const withInsn = HEADER_BYTES + 32 + pathLen;
  const withData = withInsn + 32 + pathLen;
  if (b.length !== HEADER_BYTES && b.length !== withInsn && b.length !== withData) {
    throw new ProofFormatError(`a packed step proof has ${HEADER_BYTES}, ${withInsn} or ${withData} bytes, got ${b.length}`);
  }
  const path = (at: number) => Array.from({ length: MEM_DEPTH }, (_, k) => b.slice(at + 32 * k, at + 32 * k + 32));
  const hasInsn = b.length >= withInsn, hasData = b.length === withData;
  return {
    header: b.slice(0, HEADER_BYTES),
    insnLeaf: hasInsn ? b.slice(HEADER_BYTES, HEADER_BYTES + 32) : null,
    insnPath: hasInsn ? path(HEADER_BYTES + 32) : null,
    dataLeaf: hasData ? b.slice(withInsn, withInsn + 32) : null,
    dataPath: hasData ? path(withInsn + 32) : null,
  };
}

export function proofSize(p: StepProof): number {
  return packProof(p).length;
}
