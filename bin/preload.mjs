// Native kernels are hot loops that run once per node per inference. V8 compiles WebAssembly with its
// baseline compiler (Liftoff) first and swaps in TurboFan's code only when a background compile finishes,
// which on a loaded 2-core machine takes seconds: meanwhile a MatMul runs about 4x slower and small
// kernels (Softmax, Transpose) up to 10x. So every module is compiled by TurboFan up front. The flag takes
// effect only before the process compiles its first module (binaryen's, below), hence here.
import v8 from 'node:v8';
v8.setFlagsFromString('--no-liftoff');

// Loaded with --import BEFORE tsx: binaryen (a 15 MB ES module) is imported here by plain Node in about
// 0.3 s. Imported later through tsx's loader, it would be rewritten for its dynamic import() and given an
// inline source map, which takes 5–9 s in every process that compiles kernels. Once in Node's module
// cache, later imports of 'binaryen' (from TypeScript, through tsx) reuse it.
await import('binaryen');
