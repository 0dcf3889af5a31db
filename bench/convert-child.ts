/** Child process of the convert-large benchmark: converts one model, prints time and peak RSS as JSON. */
import { convertModel } from '../converter/convert.ts';

const [model, out] = process.argv.slice(2);
const baselineRssBytes = process.memoryUsage().rss;
const t0 = performance.now();
convertModel(model!, out!);
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, maxRssBytes: process.resourceUsage().maxRSS * 1024, baselineRssBytes }) + '\n');
