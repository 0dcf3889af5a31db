/**
 * Gas of one OPVM step per instruction class (integer ALU, branch, load, store, f32 add/mul/div/sqrt), in
 * real transactions calling OPVM.step on local anvil chains (contracts/ts/gas.ts). Figures per class,
 * averaged over the class's cases: `<class>_total`, what a prague chain charges (21 000 + calldata +
 * execution, or the EIP-7623 calldata floor when that is higher); `<class>_total_4_16`, the same on a
 * cancun chain (calldata at 4/16 gas per byte, no floor); `<class>_exec`, the contract's execution alone.
 * Targets (docs: whole transaction): ≤ 100k on average for integer instructions (ALU, branch, load,
 * store), ≤ 200k for f32 div and sqrt.
 */
import { GAS_CASES, measureStepGas } from '../contracts/ts/gas.ts';
import type { GasRow } from '../contracts/ts/gas.ts';
import type { BenchResult } from './run.ts';

const CLASSES: [cls: string, key: string][] = [
  ['integer ALU', 'int_alu'], ['branch', 'branch'], ['load', 'load'], ['store', 'store'],
  ['f32 add', 'f32_add'], ['f32 mul', 'f32_mul'], ['f32 div', 'f32_div'], ['f32 sqrt', 'f32_sqrt'],
];
const INTEGER = new Set(['integer ALU', 'branch', 'load', 'store']);

const avg = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
/** What the transaction costs on the contracts' hardfork: prague, floor included. */
const total = (r: GasRow) => Math.max(r.prague, r.cancun);

export async function benchGas(): Promise<BenchResult> {
  const wanted = new Set(CLASSES.map(([c]) => c));
  const rows = await measureStepGas(GAS_CASES.filter((g) => wanted.has(g.cls)));
  const figures: Record<string, number> = {};
  for (const [cls, key] of CLASSES) {
    const rs = rows.filter((r) => r.cls === cls);
    if (!rs.length) throw new Error(`no gas case of class ${cls} in contracts/ts/gas.ts`);
    figures[`${key}_total`] = avg(rs.map(total));
    figures[`${key}_total_4_16`] = avg(rs.map((r) => r.cancun));
    figures[`${key}_exec`] = avg(rs.map((r) => r.execution));
  }
  const integer = rows.filter((r) => INTEGER.has(r.cls));
  const intAvg = avg(integer.map(total));
  const intMax = Math.max(...integer.map(total));
  const divSqrtMax = Math.max(...rows.filter((r) => r.cls === 'f32 div' || r.cls === 'f32 sqrt').map(total));
  figures.int_avg_total = intAvg;
  figures.int_max_total = intMax;
  figures.f32_div_sqrt_max_total = divSqrtMax;
  return {
    name: 'gas', ok: intAvg <= 100_000 && divSqrtMax <= 200_000, figures,
    note: `real transactions on anvil (prague and cancun), ${rows.length} cases; targets: integer average ≤ 100k, f32 div/sqrt ≤ 200k (21k + calldata included)`,
  };
}
