/**
 * A pool of worker threads sharing the executor's arena memories. A kernel whose body is one top-level
 * parallel loop is split into contiguous output ranges, one per thread; every output is computed by
 * exactly one thread with the same code, so results are bit-identical to a single thread.
 */
import { Worker } from 'node:worker_threads';

export type KernelFn = (start: number, end: number) => void;

export class ThreadPool {
  private closed = false;

  private constructor(
    private readonly workers: Worker[],
    /** [generation, node, finished workers, stop] */
    private readonly ctrl: Int32Array,
    /** [start, end) per worker */
    private readonly ranges: Int32Array,
  ) {}

  /** `memOf[i]`: index in `memories` of the memory kernel `modules[i]` imports. */
  static async start(threads: number, memories: readonly WebAssembly.Memory[], memOf: readonly number[], modules: readonly WebAssembly.Module[]): Promise<ThreadPool> {
    const ctrlBuf = new SharedArrayBuffer(16);
    const rangesBuf = new SharedArrayBuffer(8 * Math.max(1, threads));
    const workers: Worker[] = [];
    for (let id = 0; id < threads - 1; id++) {
      workers.push(new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { memories, memOf, modules, ctrl: ctrlBuf, ranges: rangesBuf, id } }));
    }
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    })));
    for (const w of workers) w.unref();
    return new ThreadPool(workers, new Int32Array(ctrlBuf), new Int32Array(rangesBuf));
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Run kernel `node` over [0, extent) split across all threads; the main thread takes the last range. */
  run(node: number, fn: KernelFn, extent: number): void {
    const t = this.threads;
    const per = Math.ceil(extent / t);
    for (let w = 0; w < t - 1; w++) {
      this.ranges[2 * w] = Math.min(extent, w * per);
      this.ranges[2 * w + 1] = Math.min(extent, (w + 1) * per);
    }
    Atomics.store(this.ctrl, 1, node);
    Atomics.store(this.ctrl, 2, 0);
    Atomics.add(this.ctrl, 0, 1);
    Atomics.notify(this.ctrl, 0);
    fn(Math.min(extent, (t - 1) * per), extent);
    let done: number;
    while ((done = Atomics.load(this.ctrl, 2)) < t - 1) Atomics.wait(this.ctrl, 2, done);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, 3, 1);
    Atomics.add(this.ctrl, 0, 1);
    Atomics.notify(this.ctrl, 0);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
