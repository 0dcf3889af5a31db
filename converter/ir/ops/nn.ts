/** IR ops: nn family (see docs/ir-ops.md). */
export {};
