/**
 * The kernel ops whose native == OPVM check lives in runtime/test/opvm-kernels.test.ts, because no
 * passing ONNX conformance case and no bundled model contains them; every other kernel op is checked
 * node by node on the conformance data (runtime/test/e2e-conformance.test.ts enforces the split).
 */
export const VM_KERNEL_CASE_OPS: readonly string[] = [
  'BitwiseAnd', 'BitwiseNot', 'BitwiseOr', 'BitwiseXor', 'Col2Im', 'CumSum', 'Gelu', 'GroupNormalization',
  'LpNormalization', 'LpPool', 'Mish', 'OneHot', 'ReduceLogSumExp',
];
