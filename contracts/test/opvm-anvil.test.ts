/**
 * The Solidity verifier (contracts/src/OPVM.sol, compiled with solc-js, deployed to a local anvil) against
 * the TypeScript reference verifier (runtime/opvm/verify.ts) and its soft-float (runtime/opvm/softfloat.ts):
 *
 *   - every ALU opcode 0x10 … 0x9A (gaps included) on biased random operands, in batches through
 *     OPVMHarness.aluMany: the same rd value or the same trap;
 *   - random single steps (every opcode, loads and stores with in-range, unaligned and out-of-bounds
 *     addresses, fixed points, fetches past memory) in batches through OPVMHarness.stepMany: the same
 *     post-state hash;
 *   - mutated proofs (a flipped bit anywhere, a truncated or extended proof): both verifiers reject;
 *   - gas of real transactions calling OPVM.step, per instruction class, within the targets
 *     (≤ 100k for integer instructions, ≤ 200k for F32_DIV and F32_SQRT, calldata and the 21k included).
 *
 * OPVM_ANVIL_RUNS scales the random case counts (default 1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ethers } from 'ethers';
import { minedReceipt } from '../../runtime/game/chain.ts';
import type { Insn } from '../../compiler/opvm/isa.ts';
import { encodeInsn, insn, MEM_BYTES, MEM_LEAVES, Op, OP_NAMES } from '../../compiler/opvm/isa.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { packProof } from '../../runtime/opvm/proof.ts';
import type { StepProof } from '../../runtime/opvm/proof.ts';
import { verifyStep, VerifyError } from '../../runtime/opvm/verify.ts';
import { compileContracts } from '../ts/compile.ts';
import { startAnvil } from '../ts/anvil.ts';
import type { Anvil } from '../ts/anvil.ts';
import { buildStep } from '../ts/proofs.ts';
import { gasTable, measureStepGas } from '../ts/gas.ts';

const SCALE = Number(process.env.OPVM_ANVIL_RUNS ?? 1);
const CALL = { gasLimit: 3_000_000_000n };

let anvil: Anvil;
let provider: ethers.JsonRpcProvider;
let wallet: ethers.NonceManager;
let opvm: ethers.Contract;
let harness: ethers.Contract;

before(async () => {
  const c = compileContracts({ only: ['src/OPVM.sol', 'test/harness/OPVMHarness.sol'] });
  anvil = await startAnvil(['--disable-block-gas-limit']);
  provider = new ethers.JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, batchMaxCount: 1, polling: true, pollingInterval: 50 });
  wallet = new ethers.NonceManager(new ethers.Wallet(anvil.privateKey, provider));
  const deploy = async (name: string) => {
    const f = new ethers.ContractFactory(c[name]!.abi as ethers.InterfaceAbi, c[name]!.bytecode, wallet);
    const k = await f.deploy();
    await minedReceipt(provider, k.deploymentTransaction()!.hash);
    return new ethers.Contract(await k.getAddress(), c[name]!.abi as ethers.InterfaceAbi, wallet);
  };
  opvm = await deploy('OPVM');
  harness = await deploy('OPVMHarness');
});

after(async () => {
  provider?.destroy();
  await anvil?.stop();
});

// ---------------------------------------------------------------------------------------------------
// Operand generators

const f32 = (s: number, e: number, f: number) => BigInt((((s << 31) | (e << 23) | f) >>> 0));
const F32_SPECIAL = [
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff, 0x7fffffff,
  0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x00800001, 0x00400000, 0x7f7fffff, 0xff7fffff, 0x7f7ffffe,
  0x3f800000, 0xbf800000, 0x3f800001, 0x3f7fffff, 0x3f000000, 0xbf000000, 0x3fc00000, 0x40000000, 0x40200000, 0x4b000000,
  0x4b000001, 0x4affffff, 0x4b7fffff, 0x4b800000, 0x4f000000, 0xcf000000, 0x4effffff, 0x4f800000, 0x5f000000, 0xdf000000,
  0x5effffff, 0x5f800000, 0x33800000, 0x34000000, 0x3eaaaaab, 0x40490fdb,
].map(BigInt);
const EDGE_EXPS = [0, 1, 2, 22, 23, 24, 0x3f, 0x67, 0x68, 0x7d, 0x7e, 0x7f, 0x80, 0x95, 0x96, 0x97, 0x9d, 0x9e, 0x9f, 0xbd, 0xbe, 0xbf, 0xfd, 0xfe, 0xff];
const EDGE_FRACS = [0, 1, 2, 3, 0x400000, 0x3fffff, 0x400001, 0x7fffff, 0x7ffffe, 0x200000, 0x000100];
const fracArb = fc.oneof(fc.integer({ min: 0, max: 0x7fffff }), fc.constantFrom(...EDGE_FRACS),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 20 })).map(([m, k]) => (m << k) & 0x7fffff));
const expArb = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...EDGE_EXPS));
const f32Arb = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: 1 }), expArb, fracArb).map(([s, e, f]) => f32(s, e, f)) },
  { weight: 1, arbitrary: fc.constantFrom(...F32_SPECIAL) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 0xffffffffn }) },
);
const INT_SPECIAL = [0n, 1n, 2n, 31n, 32n, 33n, 63n, 64n, 65n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n,
  0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xffffffff80000000n, 0xffffffff00000000n];
const u64Arb = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...INT_SPECIAL) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 0xffffffffn }) },
  { weight: 1, arbitrary: fc.tuple(fc.bigInt({ min: 0n, max: 0xffffffffn }), f32Arb).map(([hi, lo]) => (hi << 32n) | lo) },
  { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }).map((x) => BigInt.asUintN(64, BigInt(x))) },
);
/** f32 pairs: close exponents (alignment, ties) and near-equal magnitudes (cancellation) too. */
const f32PairArb: fc.Arbitrary<[bigint, bigint]> = fc.oneof(
  fc.tuple(f32Arb, f32Arb),
  fc.tuple(f32Arb, fc.integer({ min: -30, max: 30 }), fracArb, fc.integer({ min: 0, max: 1 }))
    .map(([a, d, f, s]): [bigint, bigint] => [a, f32(s, Math.max(0, Math.min(255, Number((a >> 23n) & 0xffn) + d)), f)]),
  fc.tuple(f32Arb, fc.integer({ min: -4, max: 4 }), fc.boolean()).map(([a, k, neg]): [bigint, bigint] => [a, (BigInt.asUintN(32, a + BigInt(k))) ^ (neg ? 0x80000000n : 0n)]),
);

// ---------------------------------------------------------------------------------------------------
// The TypeScript side of one ALU case: r4 ← op(r1, r2) through verifyStep

function expectedAlu(op: number, a: bigint, b: bigint): bigint {
  const s = buildStep(insn(op as never, { rd: 4, ra: 1, rb: 2 }), { regs: { 1: a, 2: b } });
  const { post } = verifyStep(s.preHash, s.proof);
  return post.status !== 0 ? BigInt(post.status) << 64n : post.regs[4]!;
}

async function checkAlu(cases: [number, bigint, bigint][]): Promise<void> {
  for (let i = 0; i < cases.length; i += 2000) {
    const chunk = cases.slice(i, i + 2000);
    const packed = chunk.map(([op, a, b]) => (BigInt(op) << 128n) | (a << 64n) | b);
    const got = (await harness.aluMany!.staticCall(packed, CALL)) as bigint[];
    chunk.forEach(([op, a, b], j) => {
      const want = expectedAlu(op, a, b);
      if (got[j] !== want) {
        assert.fail(`${OP_NAMES.get(op) ?? `op 0x${op.toString(16)}`}(0x${a.toString(16)}, 0x${b.toString(16)}): Solidity 0x${got[j]!.toString(16)}, TypeScript 0x${want.toString(16)}`);
      }
    });
  }
}

test('ALU: every opcode 0x10 … 0x9A (gaps: illegal) agrees with verify.ts on biased random integer operands', async () => {
  const cases: [number, bigint, bigint][] = [];
  const rnd = fc.sample(fc.tuple(u64Arb, u64Arb), { numRuns: Math.round(300 * SCALE), seed: 1 });
  for (let op = 0x10; op <= 0x9a; op++) {
    if (op >= 0x70 && op <= 0x86) continue; // f32: the next test
    for (const [a, b] of rnd) cases.push([op, a, b]);
  }
  await checkAlu(cases);
});

test('ALU: f32 arithmetic, comparisons, rounding and conversions agree with softfloat.ts (via verify.ts) on biased operands', async () => {
  const cases: [number, bigint, bigint][] = [];
  const pairs = fc.sample(f32PairArb, { numRuns: Math.round(2500 * SCALE), seed: 2 });
  for (let op = 0x70; op <= 0x86; op++) for (const [a, b] of pairs) cases.push([op, a, b]);
  for (const a of F32_SPECIAL) for (const b of F32_SPECIAL) for (const op of [Op.F32_ADD, Op.F32_SUB, Op.F32_MUL, Op.F32_DIV, Op.F32_MIN, Op.F32_MAX, Op.F32_LT, Op.F32_EQ]) cases.push([op, a, b]);
  const ints = fc.sample(u64Arb, { numRuns: Math.round(1500 * SCALE), seed: 3 });
  for (let op = 0x90; op <= 0x9a; op++) {
    for (const a of ints) cases.push([op, a, 0n]);
    for (const [a] of pairs) cases.push([op, a, 0n]);
  }
  await checkAlu(cases);
});

// ---------------------------------------------------------------------------------------------------
// Whole steps

const DATA = 64 * 1024;
const regIdx = fc.integer({ min: 0, max: 7 });
const opArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...OP_NAMES.keys()) },
  { weight: 4, arbitrary: fc.constantFrom(...[...OP_NAMES.keys()].filter((o) => o >= 0xa0)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const addrArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 127 }).map((i) => BigInt(DATA + 8 * i)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 1023 }).map((i) => BigInt(DATA + i)) },
  { weight: 1, arbitrary: fc.constantFrom(BigInt(MEM_BYTES - 8), BigInt(MEM_BYTES - 1), BigInt(MEM_BYTES), 0xfffffff8n, 0xffffffffn, 0x1_0000_1000n) },
);
interface StepCase { ins: Insn; regs: bigint[]; pc: number; status: number; data: Uint8Array; dataAt: number }
const stepArb: fc.Arbitrary<StepCase> = fc.record({
  ins: fc.record({
    op: opArb, rd: regIdx, ra: regIdx, rb: regIdx, rc: regIdx, immB: fc.boolean(), imm: u64Arb,
    off: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 64 }), fc.constantFrom(0xffffffff, MEM_BYTES - 8)),
    target: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(MEM_LEAVES - 1, MEM_LEAVES, 0xffffffff)),
  }),
  regs: fc.array(fc.oneof(u64Arb, addrArb), { minLength: 8, maxLength: 8 }),
  pc: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 4000 }) }, { weight: 1, arbitrary: fc.constantFrom(MEM_LEAVES - 1, MEM_LEAVES, 0xffffffff) }),
  status: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 255 }) }),
  data: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  dataAt: fc.oneof(fc.constant(DATA), fc.integer({ min: 0, max: 2000 }).map((i) => DATA + 32 * i)),
});

function built(c: StepCase) {
  // The data bytes sit where the random base registers point (two leaves), plus the instruction.
  const regs: Record<number, bigint> = {};
  c.regs.forEach((v, i) => { regs[i] = v; });
  return buildStep(encodeInsn(c.ins), { regs, pc: c.pc, status: c.status, data: [[c.dataAt, c.data]] });
}

test('steps: random instructions, addresses, fixed points and far fetches give the post-state of verify.ts', async () => {
  const cases = fc.sample(stepArb, { numRuns: Math.round(1500 * SCALE), seed: 4 });
  for (let i = 0; i < cases.length; i += 150) {
    const chunk = cases.slice(i, i + 150).map(built);
    const want = chunk.map((s) => toHex(verifyStep(s.preHash, s.proof).postHash));
    const got = (await harness.stepMany!.staticCall(chunk.map((s) => s.preHash), chunk.map((s) => packProof(s.proof)), CALL)) as string[];
    chunk.forEach((s, j) => {
      assert.equal(got[j], want[j], `step ${i + j}: ${toHex(s.proof.insnLeaf ?? new Uint8Array())}`);
    });
  }
});

/** Unpack a packed proof whose length is one of the three valid lengths. */
function unpack(p: Uint8Array): StepProof {
  const at = (o: number) => p.slice(o, o + 32);
  const path = (o: number) => Array.from({ length: 26 }, (_, k) => at(o + 32 * k));
  return {
    header: p.slice(0, 296),
    insnLeaf: p.length >= 1160 ? at(296) : null, insnPath: p.length >= 1160 ? path(328) : null,
    dataLeaf: p.length === 2024 ? at(1160) : null, dataPath: p.length === 2024 ? path(1192) : null,
  };
}

test('steps: a mutated proof (any flipped bit, truncated, extended) is rejected by both verifiers', async () => {
  const mutation = fc.record({ c: stepArb, where: fc.nat(), bit: fc.integer({ min: 0, max: 7 }), kind: fc.integer({ min: 0, max: 9 }) });
  const cases = fc.sample(mutation, { numRuns: Math.round(150 * SCALE), seed: 5 });
  let checked = 0;
  for (const { c, where, bit, kind } of cases) {
    const s = built(c);
    const honest = packProof(s.proof);
    let bad: Uint8Array;
    if (kind === 0) bad = honest.slice(0, Math.max(0, honest.length - 1 - (where % 40)));
    else if (kind === 1) bad = Uint8Array.from([...honest, ...new Uint8Array(1 + (where % 900))]);
    else {
      bad = honest.slice();
      const i = where % bad.length;
      bad[i] = bad[i]! ^ (1 << bit);
      // Flipping a padding or status byte of a running header into another valid header changes the hash anyway.
    }
    let tsRejects = false;
    try {
      if (![296, 1160, 2024].includes(bad.length)) tsRejects = true;
      else verifyStep(s.preHash, unpack(bad));
    } catch (e) {
      if (!(e instanceof VerifyError)) throw e;
      tsRejects = true;
    }
    let solRejects = false;
    try {
      await opvm.step!.staticCall(s.preHash, bad);
    } catch (e) {
      const data = (e as { data?: string }).data;
      assert.ok(data && data.length >= 10, `revert without a custom error: ${(e as Error).message}`);
      const parsed = opvm.interface.parseError(data);
      assert.ok(parsed, `unknown revert data ${data}`);
      solRejects = true;
    }
    // A header-only proof of a fixed point is valid whatever path bits are (there are none), so a flipped
    // bit always lands in a checked part: both must reject.
    assert.equal(tsRejects, true, 'TypeScript accepted a mutated proof');
    assert.equal(solRejects, true, 'Solidity accepted a mutated proof');
    checked++;
  }
  assert.equal(checked, cases.length);
});

// ---------------------------------------------------------------------------------------------------
// Gas of real transactions

test('gas: real transactions calling OPVM.step, per instruction class, within the targets', async (t) => {
  const rows = await measureStepGas();
  for (const line of gasTable(rows).split('\n')) t.diagnostic(line);
  for (const r of rows) {
    assert.ok(r.cancun <= r.limit, `${r.name}: ${r.cancun} gas (21000 + calldata + execution) > ${r.limit}`);
    assert.ok(r.prague <= r.limit, `${r.name}: ${r.prague} gas on prague (EIP-7623 floor ${r.floor}) > ${r.limit}`);
    assert.equal(r.prague, Math.max(r.cancun, r.floor), `${r.name}: prague gas is max(cancun, floor)`);
  }
});
