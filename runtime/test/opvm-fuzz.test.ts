/**
 * Differential fuzz: random straight-line and looping OPVM programs run in the fast interpreter (with
 * snapshots and step proofs, compiled blocks and the switch interpreter); on every step the independent
 * verifier (reference semantics, integer soft-float) must compute the interpreter's post-state from the
 * pre-state hash and the proof alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Insn } from '../../compiler/opvm/isa.ts';
import { decodeInsn, encodeInsn, formatInsn, insn, MEM_BYTES, Op, OP_NAMES } from '../../compiler/opvm/isa.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { VmMemory } from '../opvm/memory.ts';
import { Tracer } from '../opvm/tracer.ts';
import { stateHash } from '../opvm/state.ts';
import { verifyStep } from '../opvm/verify.ts';

const CODE_AT = 256; // leaf index
const DATA_AT = 4096; // byte address, 4 KiB of data
const OPCODES = [...OP_NAMES.keys()].filter((o) => o !== Op.HALT && o !== Op.UNREACHABLE && o !== Op.JMP && o !== Op.BRZ && o !== Op.BRNZ);

const f32bits = (x: number) => { const v = new DataView(new ArrayBuffer(4)); v.setFloat32(0, x); return BigInt(v.getUint32(0)); };
const interesting = fc.oneof(
  fc.constantFrom(0n, 1n, 2n, 31n, 32n, 63n, 64n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x8000000000000000n, 0xffffffffffffffffn,
    0x7fc00000n, 0xffc00001n, 0x7f800000n, 0xff800000n, 0x80000000n, 1n, 0x007fffffn, 0x00800000n, 0x7f7fffffn, f32bits(0.5), f32bits(-2.5), f32bits(1 + 2 ** -23), 0x33800000n),
  fc.bigInt({ min: 0n, max: 0xffffffffn }),
  fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
  fc.integer({ min: -1e6, max: 1e6 }).map((x) => f32bits(x / 64)),
);
/** Addresses into the data area (mostly aligned), sometimes unaligned or out of bounds. */
const address = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 4088 / 8 }).map((i) => BigInt(DATA_AT + 8 * i)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4095 }).map((i) => BigInt(DATA_AT + i)) },
  { weight: 1, arbitrary: fc.constantFrom(BigInt(MEM_BYTES - 8), BigInt(MEM_BYTES), 0xfffffff8n, BigInt(CODE_AT * 32)) },
);
const regIdx = fc.integer({ min: 0, max: 7 });
const randomInsn: fc.Arbitrary<Insn> = fc.record({
  op: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...OPCODES) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  rd: regIdx, ra: regIdx, rb: regIdx, rc: regIdx, immB: fc.boolean(), imm: interesting,
  off: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 64 })), target: fc.constant(0),
});

interface Program {
  prologue: { reg: number; value: bigint }[];
  body: Insn[];
  loops: number;
}

const program: fc.Arbitrary<Program> = fc.record({
  prologue: fc.array(fc.record({ reg: fc.integer({ min: 0, max: 7 }), value: fc.oneof(interesting, address) }), { maxLength: 10 }),
  body: fc.array(randomInsn, { minLength: 1, maxLength: 25 }),
  loops: fc.integer({ min: 0, max: 4 }),
});

function assemble(p: Program): Insn[] {
  const code: Insn[] = p.prologue.map(({ reg, value }) => insn(Op.MOV, { rd: reg, immB: true, imm: value }));
  if (p.loops === 0) return [...code, ...p.body, insn(Op.HALT)];
  // r31 counts the loop down; the body never names r31 (registers 0 … 7).
  code.push(insn(Op.MOV, { rd: 31, immB: true, imm: BigInt(p.loops) }));
  const top = CODE_AT + code.length;
  code.push(...p.body);
  code.push(insn(Op.I32_SUB, { rd: 31, ra: 31, immB: true, imm: 1n }));
  code.push(insn(Op.BRNZ, { ra: 31, target: top }));
  code.push(insn(Op.HALT));
  return code;
}

/**
 * Both execution paths are checked: with the code window given (basic blocks compiled to JavaScript,
 * dense memory covering code and data) and without (every instruction decoded when fetched, the code
 * beyond the dense memory).
 */
function check(p: Program): void {
  checkWith(p, true);
  checkWith(p, false);
}

function checkWith(p: Program, compiled: boolean): void {
  const code = assemble(p);
  const mem = VmMemory.create(compiled ? 16384 : 8192);
  const bytes = new Uint8Array(32 * code.length);
  code.forEach((c, i) => encodeInsn(c, bytes, 32 * i));
  mem.write(CODE_AT * 32, bytes);
  mem.write(DATA_AT, Uint8Array.from({ length: 256 }, (_, i) => (i * 97 + 13) & 0xff));
  const t = new Tracer({ mem, pc: CODE_AT, ...(compiled ? { code: { first: CODE_AT, count: code.length } } : {}) }, { snapshotEvery: 7 });
  const end = t.runToEnd(2000);
  for (let s = 0; s <= Math.min(end, 2000); s++) {
    const { pre, post, proof } = t.proveStep(s);
    let got: string;
    try {
      got = toHex(verifyStep(stateHash(pre), proof).postHash);
    } catch (e) {
      assert.fail(`step ${s} (${proof.insnLeaf ? formatInsn(decodeLeaf(proof.insnLeaf)) : 'no insn'}): verifier rejected: ${(e as Error).message}`);
    }
    assert.equal(got, toHex(stateHash(post)), `step ${s}: ${proof.insnLeaf ? formatInsn(decodeLeaf(proof.insnLeaf)) : 'no insn'}`);
    assert.equal(toHex(stateHash(t.stateAt(s + 1))), toHex(stateHash(post)));
  }
}

const decodeLeaf = (l: Uint8Array) => decodeInsn(l);

test('fuzz: interpreter + proofs and the verifier agree on every step of random programs (straight-line and loops)', () => {
  fc.assert(fc.property(program, check), { numRuns: Number(process.env.OPVM_FUZZ_RUNS ?? 250) });
});

test('fuzz: every opcode appears with edge operands (one instruction programs, all opcodes)', () => {
  for (const op of [...OP_NAMES.keys()]) {
    fc.assert(fc.property(fc.array(fc.record({ reg: fc.integer({ min: 0, max: 7 }), value: fc.oneof(interesting, address) }), { minLength: 8, maxLength: 8 }), randomInsn, (prologue, i) => {
      check({ prologue, body: [{ ...i, op, target: op === Op.JMP || op === Op.BRZ || op === Op.BRNZ ? CODE_AT + 20 : 0 }], loops: 0 });
    }), { numRuns: 25 });
  }
});
