/** IR ops: reduce family (see docs/ir-ops.md). */
export {};
