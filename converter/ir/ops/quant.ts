/** IR ops: quant family (see docs/ir-ops.md). */
export {};
