/**
 * Threads across outputs: latency of a large convolution (32→32 channels, 3×3, 56×56) with 1 and 2
 * threads in the same process; results are byte-identical (tested), so only the speed differs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeExecutor } from '../runtime/native/executor.ts';
import { hostTensor } from '../converter/ir/host-tensor.ts';
import { compileBundle } from '../compiler/compile.ts';
import { convertModel } from '../converter/convert.ts';
import { onnx } from '../converter/onnx/proto.ts';
import type { BenchResult } from './run.ts';

export async function benchThreads(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-bench-threads-'));
  try {
    const T = onnx.TensorProto.DataType;
    const w = new Float32Array(32 * 32 * 9).map((_, i) => ((i * 7919) % 101) / 1000 - 0.05);
    const vi = (name: string) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: [1, 32, 56, 56].map((d) => ({ dimValue: d })) } } } });
    const model = onnx.ModelProto.create({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: { name: 'conv', input: [vi('x')], output: [vi('y')], initializer: [{ name: 'w', dataType: T.FLOAT, dims: [32, 32, 3, 3], rawData: new Uint8Array(w.buffer) }],
        node: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'pads', type: 7, ints: [1, 1, 1, 1] }] }] },
    });
    fs.writeFileSync(path.join(dir, 'm.onnx'), onnx.ModelProto.encode(model).finish());
    convertModel(path.join(dir, 'm.onnx'), path.join(dir, 'm.opml'));
    compileBundle(path.join(dir, 'm.opml'), path.join(dir, 'm.opmlc'));
    const x = hostTensor('float32', [1, 32, 56, 56], new Float32Array(32 * 56 * 56).map((_, i) => (i % 13) / 13));
    const ms: Record<number, number> = {};
    for (const t of [1, 2]) {
      const ex = await NativeExecutor.load(path.join(dir, 'm.opmlc'), { threads: t });
      for (let i = 0; i < 5; i++) ex.run([x]);
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < 1000) { ex.run([x]); n++; }
      ms[t] = (performance.now() - t0) / n;
      await ex.close();
    }
    const gflop = (32 * 32 * 9 * 56 * 56 * 2) / 1e9;
    return {
      name: 'threads', ok: ms[2]! < ms[1]!,
      figures: { conv_1t_ms: +ms[1]!.toFixed(2), conv_2t_ms: +ms[2]!.toFixed(2), speedup: +(ms[1]! / ms[2]!).toFixed(2), gflops_1t: +(gflop / (ms[1]! / 1000)).toFixed(2) },
      note: `${os.availableParallelism()} cores`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
