/** A one-loop kernel y[i] = f(x0[i], x1[i], …) over math.ts functions, run in the scalar or native form (kernel tests). */
import type { Expr } from '../../kernel/ast.ts';
import { KernelBuilder, load, pfor, store } from '../../kernel/build.ts';
import { MathCtx } from '../../kernel/math.ts';
import { buildKernelModule, KERNEL_EXPORT } from '../../kernel/module.ts';

/** Run a math.ts function directly, in a one-loop kernel built here, in the scalar or native form. */
export function runMathN(f: (m: MathCtx, xs: Expr[]) => Expr, cols: readonly (readonly number[])[], simd: boolean): Float32Array {
  const n = cols[0]!.length;
  const K = new KernelBuilder('math');
  const ins = cols.map((_, j) => K.input(`x${j}`, 'float32', n));
  const Y = K.output('y', 'float32', n);
  const kern = K.build([pfor(n, (i) => {
    const m = new MathCtx(K);
    const v = f(m, ins.map((b) => m.let(load(b, i))));
    return [...m.take(), store(Y, i, v)];
  })]);
  const stride = Math.ceil((n * 4) / 64) * 64 + 64;
  const addr = (j: number) => 64 + j * stride;
  const pages = Math.ceil((addr(cols.length + 1) + 64) / 65536);
  const wasm = buildKernelModule(kern, { addressOf: (b) => (b === Y ? addr(cols.length) : addr(ins.indexOf(b))) }, { simd, memoryPages: pages });
  const memory = new WebAssembly.Memory({ initial: pages });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { memory } });
  cols.forEach((c, j) => new Float32Array(memory.buffer, addr(j), n).set(c));
  (inst.exports[KERNEL_EXPORT] as (a: number, b: number) => void)(0, 0x7fffffff);
  return new Float32Array(memory.buffer.slice(addr(cols.length), addr(cols.length) + n * 4));
}
