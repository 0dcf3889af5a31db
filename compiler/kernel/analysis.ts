/** Static facts about a kernel: how much work it does (for deciding whether threads pay). */
import type { Kernel, Stmt } from './ast.ts';

/** Number of statement executions, counting every loop iteration (a cost estimate, not a time). */
export function estimateWork(k: Kernel): number {
  const visit = (ss: readonly Stmt[]): number =>
    ss.reduce((acc, s) => {
      switch (s.kind) {
        case 'for': return acc + Math.max(0, s.hi - s.lo) * Math.max(1, visit(s.body));
        case 'if': return acc + 1 + Math.max(visit(s.then), visit(s.else));
        default: return acc + 1;
      }
    }, 0);
  return visit(k.body);
}
