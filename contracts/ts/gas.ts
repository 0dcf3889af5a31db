/**
 * Gas of OPVM.step in real transactions, per instruction class: the contract is deployed to two local
 * anvil chains, cancun (gasUsed = 21000 + 4/16 gas per zero/non-zero calldata byte + execution) and prague
 * (where EIP-7623's calldata floor 21000 + 10 × (zeros + 4 × non-zeros) applies when it is higher), and
 * each step proof is sent as a transaction. Used by contracts/test/opvm-anvil.test.ts and
 * contracts/tools/gas-report.ts (the table in contracts/README.md).
 */
import { ethers } from 'ethers';
import { minedReceipt } from '../../runtime/game/chain.ts';
import type { Insn } from '../../compiler/opvm/isa.ts';
import { insn, Op } from '../../compiler/opvm/isa.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { packProof } from '../../runtime/opvm/proof.ts';
import { verifyStep } from '../../runtime/opvm/verify.ts';
import { compileContracts } from './compile.ts';
import { startAnvil } from './anvil.ts';
import { buildStep } from './proofs.ts';

const DATA = 64 * 1024;
const bytes = (f: (i: number) => number) => Uint8Array.from({ length: 32 }, (_, i) => f(i));

export interface GasCase {
  name: string;
  cls: string;
  ins: Insn;
  regs: Record<number, bigint>;
  data?: [number, Uint8Array][];
  status?: number;
  /** Target for the whole transaction (docs: ≤ 100k integer, ≤ 200k F32_DIV / F32_SQRT). */
  limit: number;
}

export const GAS_CASES: GasCase[] = [
  { name: 'I32_ADD', cls: 'integer ALU', ins: insn(Op.I32_ADD, { rd: 3, ra: 1, rb: 2 }), regs: { 1: 5n, 2: 7n }, limit: 100_000 },
  { name: 'I32_GE_U', cls: 'integer ALU', ins: insn(Op.I32_GE_U, { rd: 3, ra: 1, rb: 2 }), regs: { 1: 5n, 2: 7n }, limit: 100_000 },
  { name: 'I64_MUL', cls: 'integer ALU', ins: insn(Op.I64_MUL, { rd: 3, ra: 1, rb: 2 }), regs: { 1: 0x123456789n, 2: 0xabcdefn }, limit: 100_000 },
  { name: 'I64_DIV_S', cls: 'integer ALU', ins: insn(Op.I64_DIV_S, { rd: 3, ra: 1, rb: 2 }), regs: { 1: 0xfffffffffffff000n, 2: 7n }, limit: 100_000 },
  { name: 'I64_POPCNT', cls: 'integer ALU', ins: insn(Op.I64_POPCNT, { rd: 3, ra: 1 }), regs: { 1: 0x123456789n }, limit: 100_000 },
  { name: 'MOV (imm)', cls: 'move', ins: insn(Op.MOV, { rd: 3, immB: true, imm: 0x1234n }), regs: {}, limit: 100_000 },
  { name: 'BRNZ', cls: 'branch', ins: insn(Op.BRNZ, { ra: 1, target: 7 }), regs: { 1: 1n }, limit: 100_000 },
  { name: 'LOAD64', cls: 'load', ins: insn(Op.LOAD64, { rd: 3, ra: 1, off: 8 }), regs: { 1: BigInt(DATA) }, data: [[DATA, bytes((i) => i + 1)]], limit: 100_000 },
  { name: 'I32_LOAD8_S', cls: 'load', ins: insn(Op.I32_LOAD8_S, { rd: 3, ra: 1 }), regs: { 1: BigInt(DATA + 5) }, data: [[DATA, bytes((i) => 0x80 + i)]], limit: 100_000 },
  { name: 'STORE64', cls: 'store', ins: insn(Op.STORE64, { ra: 1, rb: 2, off: 8 }), regs: { 1: BigInt(DATA), 2: 0x1122334455667788n }, data: [[DATA, bytes((i) => i + 1)]], limit: 100_000 },
  { name: 'STORE8', cls: 'store', ins: insn(Op.STORE8, { ra: 1, rb: 2 }), regs: { 1: BigInt(DATA + 3), 2: 0xabn }, data: [[DATA, bytes((i) => i + 1)]], limit: 100_000 },
  { name: 'F32_ADD', cls: 'f32 add', ins: insn(Op.F32_ADD, { rd: 3, ra: 1, rb: 2 }), regs: { 1: 0x3fc00000n, 2: 0xc0100001n }, limit: 200_000 },
  { name: 'F32_MUL', cls: 'f32 mul', ins: insn(Op.F32_MUL, { rd: 3, ra: 1, rb: 2 }), regs: { 1: 0x3fc00001n, 2: 0x40100001n }, limit: 200_000 },
  { name: 'F32_DIV', cls: 'f32 div', ins: insn(Op.F32_DIV, { rd: 3, ra: 1, rb: 2 }), regs: { 1: 0x3f800000n, 2: 0x40400000n }, limit: 200_000 },
  { name: 'F32_SQRT', cls: 'f32 sqrt', ins: insn(Op.F32_SQRT, { rd: 3, ra: 1 }), regs: { 1: 0x40000000n }, limit: 200_000 },
  { name: 'F32_SQRT (subnormal)', cls: 'f32 sqrt', ins: insn(Op.F32_SQRT, { rd: 3, ra: 1 }), regs: { 1: 0x00000003n }, limit: 200_000 },
  { name: 'F32_CONVERT_I64_U', cls: 'conversion', ins: insn(Op.F32_CONVERT_I64_U, { rd: 3, ra: 1 }), regs: { 1: 0xffffff7fffffffffn }, limit: 100_000 },
  { name: 'halted (fixed point)', cls: 'fixed point', ins: insn(Op.HALT), regs: {}, status: 1, limit: 100_000 },
];

export interface GasRow {
  name: string;
  cls: string;
  calldataBytes: number;
  /** 21000 + 4 per zero byte + 16 per non-zero byte of the transaction's calldata. */
  intrinsic: number;
  /** EIP-7623: 21000 + 10 × (zero bytes + 4 × non-zero bytes). */
  floor: number;
  /** gasUsed on a cancun chain: intrinsic + execution. */
  cancun: number;
  /** gasUsed on a prague chain: max(cancun, floor). */
  prague: number;
  /** cancun − intrinsic. */
  execution: number;
  limit: number;
}

export function calldataCost(data: Uint8Array): { intrinsic: number; floor: number } {
  let zero = 0;
  for (const b of data) if (b === 0) zero++;
  const nonzero = data.length - zero;
  return { intrinsic: 21000 + 4 * zero + 16 * nonzero, floor: 21000 + 10 * (zero + 4 * nonzero) };
}

/** Deploy OPVM on a cancun and a prague anvil and send every case's step proof as a transaction. */
export async function measureStepGas(cases: readonly GasCase[] = GAS_CASES): Promise<GasRow[]> {
  const { OPVM } = compileContracts({ only: ['src/OPVM.sol'] });
  const gasUsed: Record<string, number[]> = {};
  for (const hardfork of ['cancun', 'prague']) {
    const anvil = await startAnvil([], { hardfork });
    const provider = new ethers.JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, batchMaxCount: 1, polling: true, pollingInterval: 50 });
    try {
      const wallet = new ethers.NonceManager(new ethers.Wallet(anvil.privateKey, provider));
      const k = await new ethers.ContractFactory(OPVM!.abi as ethers.InterfaceAbi, OPVM!.bytecode, wallet).deploy();
      await minedReceipt(provider, k.deploymentTransaction()!.hash);
      const opvm = new ethers.Contract(await k.getAddress(), OPVM!.abi as ethers.InterfaceAbi, wallet);
      gasUsed[hardfork] = [];
      for (const g of cases) {
        const s = buildStep(g.ins, { regs: g.regs, data: g.data, status: g.status });
        const proof = packProof(s.proof);
        const want = toHex(verifyStep(s.preHash, s.proof).postHash);
        const got = await opvm.step!.staticCall(s.preHash, proof);
        if (got !== want) throw new Error(`${g.name}: OPVM.step gave ${got}, verify.ts ${want}`);
        const tx = await wallet.sendTransaction({ to: await opvm.getAddress(), data: opvm.interface.encodeFunctionData('step', [s.preHash, proof]) });
        const r = await minedReceipt(provider, tx.hash);
        if (r.status !== 1) throw new Error(`${g.name}: transaction failed`);
        gasUsed[hardfork]!.push(Number(r.gasUsed));
      }
    } finally {
      provider.destroy();
      await anvil.stop();
    }
  }
  const iface = new ethers.Interface(OPVM!.abi as ethers.InterfaceAbi);
  return cases.map((g, i) => {
    const s = buildStep(g.ins, { regs: g.regs, data: g.data, status: g.status });
    const data = ethers.getBytes(iface.encodeFunctionData('step', [s.preHash, packProof(s.proof)]));
    const { intrinsic, floor } = calldataCost(data);
    const cancun = gasUsed.cancun![i]!;
    return { name: g.name, cls: g.cls, calldataBytes: data.length, intrinsic, floor, cancun, prague: gasUsed.prague![i]!, execution: cancun - intrinsic, limit: g.limit };
  });
}

export function gasTable(rows: readonly GasRow[]): string {
  const lines = [
    '| instruction | class | calldata bytes | 21000 + calldata (4/16) | execution | total (cancun) | EIP-7623 floor | total (prague) |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) lines.push(`| ${r.name} | ${r.cls} | ${r.calldataBytes} | ${r.intrinsic} | ${r.execution} | ${r.cancun} | ${r.floor} | ${r.prague} |`);
  return lines.join('\n');
}
