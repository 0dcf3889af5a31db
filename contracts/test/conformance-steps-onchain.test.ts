/**
 * OPVM steps of real ONNX conformance cases through the deployed Solidity verifier (issue 13: "a sample of
 * steps checked against the EVM verifier"). A fixed sample of the backend cases that convert and compile
 * (every 30th case of the suite, in listing order) runs node by node in the OPVM tracer; for each node,
 * its first step, the steps at a quarter, half and three quarters of its run and its last step (the HALT) are
 * proved, and OPVM.step on anvil must
 * return exactly the tracer's post-state hash. Every opcode class the kernels use is thus checked on chain
 * on real programs, not only on the synthetic golden vectors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ethers, Wallet } from 'ethers';
import { listCases, readCaseValues, testdataAvailable, TESTDATA_ROOT } from '../../converter/conformance/testdata.ts';
import { importCase } from '../../converter/conformance/import-case.ts';
import { compileGraph, manifestOf } from '../../compiler/compile.ts';
import { VmExecutor } from '../../runtime/opvm/vm-executor.ts';
import { nodeImage } from '../../runtime/opvm/node-image.ts';
import { Tracer } from '../../runtime/opvm/tracer.ts';
import { stateHash } from '../../runtime/opvm/state.ts';
import { packProof } from '../../runtime/opvm/proof.ts';
import { connect } from '../../runtime/game/chain.ts';
import { anvilKey, startAnvil } from '../ts/anvil.ts';
import type { Anvil } from '../ts/anvil.ts';
import { deployVerifier } from '../ts/verify-onchain.ts';
import { compileContracts } from '../ts/compile.ts';

const EVERY = 30;
/** Nodes whose run is longer than this are skipped (the test proves five steps per node; tracing is linear). */
const MAX_NODE_STEPS = 2_000_000;

let anvil: Anvil;
let verifier: ethers.Contract;

before(async () => {
  anvil = await startAnvil();
  const provider = connect(anvil.url);
  const { address } = await deployVerifier(new Wallet(anvilKey(0), provider));
  verifier = new ethers.Contract(address, compileContracts().OPVM!.abi as ethers.InterfaceAbi, provider);
});

after(async () => {
  await anvil?.stop();
});

test('a sample of OPVM steps of real conformance cases: the deployed verifier computes the tracer\'s post-states', { timeout: 600_000 }, async () => {
  assert.ok(testdataAvailable(), `ONNX test data not found at ${TESTDATA_ROOT}: apt-get install libonnx-testdata`);
  const sample = listCases().filter((_, i) => i % EVERY === 0);
  let cases = 0, steps = 0;
  const opcodes = new Set<number>();
  for (const c of sample) {
    let imported: ReturnType<typeof importCase>;
    try {
      imported = importCase(c, readCaseValues(c).inputs);
    } catch {
      continue; // refused at convert time (docs/onnx-support.md lists why)
    }
    const { graph, runtimeInputs } = imported;
    let compiled: ReturnType<typeof compileGraph>;
    try {
      compiled = compileGraph(graph, c.model, { vm: true });
    } catch {
      continue;
    }
    const manifest = manifestOf(compiled, '', 'test');
    const codes = compiled.kernels.map((k) => k.opvm!);
    const { values, stats } = VmExecutor.create(graph, manifest, codes).run(runtimeInputs);
    const value = (id: number): Uint8Array => values.get(id as never) ?? graph.constants.get(id as never)!.read();
    cases++;
    for (let k = 0; k < graph.nodes.length; k++) {
      if (stats[k]!.steps > MAX_NODE_STEPS) continue;
      const tracer = new Tracer(nodeImage(graph, graph.nodes[k]!, manifest.nodes[k]!.vm!, codes[k]!, value));
      const n = tracer.runToEnd();
      for (const s of [...new Set([0, n >> 2, n >> 1, (3 * n) >> 2, n - 1])].filter((x) => x >= 0)) {
        const { pre, post, proof } = tracer.proveStep(s);
        if (proof.insnLeaf) opcodes.add(proof.insnLeaf[0]!);
        const got = await verifier.getFunction('step').staticCall(ethers.hexlify(stateHash(pre)), ethers.hexlify(packProof(proof))) as string;
        assert.equal(got, ethers.hexlify(stateHash(post)), `${c.suite}/${c.name} node ${k + 1} '${graph.nodes[k]!.name}' (${graph.nodes[k]!.op}) step ${s} of ${n}`);
        steps++;
      }
    }
  }
  process.stdout.write(`# ${steps} steps of ${cases} conformance cases (every ${EVERY}th of the suite) verified on chain; ${opcodes.size} distinct opcodes\n`);
  assert.ok(cases >= 25 && steps >= 250, `only ${cases} cases and ${steps} steps were checked`);
});
