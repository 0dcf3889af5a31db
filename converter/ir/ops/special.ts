/** IR ops: special family (see docs/ir-ops.md). */
export {};
