/** CLI: `node --import tsx converter/conformance/run-shapes.ts [--filter REGEX] [-v]` prints the shape report. */
import { formatShapeReport, runShapeConformance } from './shapes.ts';

const args = process.argv.slice(2);
const fi = args.indexOf('--filter');
const re = fi >= 0 ? new RegExp(args[fi + 1]!) : undefined;
const r = runShapeConformance(re ? (c) => re.test(`${c.suite}/${c.name}`) : undefined);
process.stdout.write(formatShapeReport(r, args.includes('-v')) + '\n');
if (args.includes('--failures')) for (const x of r.results) if (x.status !== 'pass') process.stdout.write(`${x.case.suite}/${x.case.name}: ${x.status} ${x.category}: ${x.reason}\n`);
