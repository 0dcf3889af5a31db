/**
 * The full demo dispute on the bundled Fashion-MNIST CNN (issue target: the whole two-phase dispute in
 * under 15 s of wall time on a local chain with instant mining, challenger gas under 3 M), binary and
 * 8-way, with two honest challengers (each its own game): wall time and transactions of the dispute (from
 * the first challenge to the rejection), gas per party,
 * and the time each party spent computing. The cheat is a wrong OPVM step in the node with the most work.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { runDemo } from '../contracts/ts/demo.ts';
import type { BenchResult } from './run.ts';

export async function benchDispute(): Promise<BenchResult> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-bench-dispute-'));
  try {
    const figures: Record<string, number | string> = {};
    let ok = true;
    for (const k of [2, 8]) {
      const s = await runDemo({
        model: 'models/fmnist-cnn/model.onnx', input: 'models/fmnist-cnn/samples/input_0.pb', dissection: k, cheat: 'wrong-step',
        workDir, print: () => {},
      });
      const challengerGas = Number(s.dispute.gasByParty.challenger ?? 0);
      ok &&= s.ok && s.dispute.wallS < 15 && challengerGas < 3e6;
      figures[`k${k}_dispute_s`] = s.dispute.wallS;
      figures[`k${k}_txs`] = s.dispute.txs;
      figures[`k${k}_rounds`] = `${s.rounds.phase2}+${s.rounds.phase1}`;
      figures[`k${k}_challenger_gas`] = challengerGas;
      figures[`k${k}_challenger2_gas`] = Number(s.dispute.gasByParty.challenger2 ?? 0);
      figures[`k${k}_cheater_gas`] = Number(s.dispute.gasByParty.cheater ?? 0);
      figures[`k${k}_compute_ms`] = `cheater ${s.computeMsByParty.cheater}, challenger ${s.computeMsByParty.challenger}, challenger2 ${s.computeMsByParty.challenger2}`;
      figures[`k${k}_demo_s`] = s.wallS;
    }
    return { name: 'dispute', ok, figures, note: 'targets: dispute < 15 s wall time, challenger gas < 3 M; node 4 (Conv, 2.27 M OPVM steps) disputed' };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
