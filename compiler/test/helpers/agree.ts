/** The core kernel check: native == scalar == the IR's host fold, bit for bit. */
import assert from 'node:assert/strict';
import type { Attrs } from '../../../converter/ir/types.ts';
import type { HostTensor } from '../../../converter/ir/host-tensor.ts';
import { getOp, IrError } from '../../../converter/ir/op-registry.ts';
import { runKernelOnce } from '../../kernel/harness.ts';

export const hex = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

/** Runs op on inputs in both forms and against its fold; false (nothing run) when the IR rejects the inputs. */
export function agree(op: string, ins: HostTensor[], attrs: Attrs): boolean {
  try {
    getOp(op).infer(ins, attrs);
  } catch (e) {
    if (e instanceof IrError) return false;
    throw e;
  }
  const s = runKernelOnce(op, ins, attrs, false).outputs;
  const n = runKernelOnce(op, ins, attrs, true).outputs;
  const f = getOp(op).fold!(ins, attrs);
  assert.equal(s.length, f.length);
  s.forEach((t, i) => {
    assert.equal(hex(n[i]!), hex(t), `${op} native vs scalar, output ${i}`);
    assert.equal(hex(t), hex(f[i]!), `${op} kernel vs fold, output ${i}`);
  });
  return true;
}
