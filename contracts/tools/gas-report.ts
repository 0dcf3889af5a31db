/**
 * Print the gas of OPVM.step per instruction class in real transactions on local anvil chains (cancun:
 * 21000 + calldata at 4/16 gas per byte + execution; prague: with the EIP-7623 calldata floor), as the
 * markdown table of contracts/README.md.
 *
 *   node --import tsx contracts/tools/gas-report.ts
 */
import { gasTable, measureStepGas } from '../ts/gas.ts';

const rows = await measureStepGas();
process.stdout.write(gasTable(rows) + '\n');
const over = rows.filter((r) => r.cancun > r.limit || r.prague > r.limit);
if (over.length) {
  process.stderr.write(`over the target: ${over.map((r) => `${r.name} (${Math.max(r.cancun, r.prague)} > ${r.limit})`).join(', ')}\n`);
  process.exitCode = 1;
}
