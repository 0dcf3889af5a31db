// Worker of the native executor's thread pool (plain JavaScript: workers start without a TS loader).
// It instantiates every kernel over its shared arena memory, then runs the sub-ranges the main thread assigns:
// ctrl[0] generation (bumped per job), ctrl[1] node index, ctrl[2] finished workers, ctrl[3] stop flag;
// ranges[2*id], ranges[2*id+1] this worker's [start, end).
import { workerData, parentPort } from 'node:worker_threads';

const { memories, memOf, modules, ctrl: ctrlBuf, ranges: rangesBuf, id } = workerData;
const ctrl = new Int32Array(ctrlBuf);
const ranges = new Int32Array(rangesBuf);
const kernels = modules.map((m, i) => new WebAssembly.Instance(m, { env: { memory: memories[memOf[i]] } }).exports.run);
let generation = Atomics.load(ctrl, 0);
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctrl, 0, generation);
  generation = Atomics.load(ctrl, 0);
  if (Atomics.load(ctrl, 3)) break;
  const start = ranges[2 * id], end = ranges[2 * id + 1];
  if (start < end) kernels[Atomics.load(ctrl, 1)](start, end);
  Atomics.add(ctrl, 2, 1);
  Atomics.notify(ctrl, 2);
}
