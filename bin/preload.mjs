// Loaded with --import BEFORE tsx: binaryen (a 15 MB ES module) is imported here by plain Node in about
// 0.3 s. Imported later through tsx's loader, it would be rewritten for its dynamic import() and given an
// inline source map, which takes 5–9 s in every process that compiles kernels. Once in Node's module
// cache, later imports of 'binaryen' (from TypeScript, through tsx) reuse it.
await import('binaryen');
