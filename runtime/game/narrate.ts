/**
 * One line per agent event, for `opml serve`, `opml watch` and `opml demo`: who did what in which phase,
 * on which interval, node and step, and the gas it paid. Also counts the rounds and remembers where the
 * last dispute ended.
 */
import { ethers } from 'ethers';
import type { Graph } from '../../converter/ir/types.ts';
import { PHASE_GRAPH } from './abi.ts';
import type { AgentEvent } from './agents.ts';

const gas = (g: bigint) => g.toLocaleString('en');
const short = (h: string) => `${h.slice(0, 10)}…`;

export class Narrator {
  /** Rounds (choices) per game. */
  readonly roundsByGame = new Map<bigint, { phase2: number; phase1: number }>();

  /** The rounds of the longest game (several challengers each play their own game of about one length). */
  get rounds(): { phase2: number; phase1: number } {
    let best = { phase2: 0, phase1: 0 };
    for (const r of this.roundsByGame.values()) if (r.phase2 + r.phase1 > best.phase2 + best.phase1) best = r;
    return { ...best };
  }
  disputedNode = 0;
  disputedStep: number | null = null;
  private readonly phase1Node = new Map<bigint, number>();

  constructor(private readonly graph: Graph | null, private readonly print: (line: string) => void) {}

  nodeName(k: number): string {
    const n = this.graph?.nodes[k - 1];
    return n ? `${k} '${n.name}' (${n.op})` : String(k);
  }

  readonly handle = (e: AgentEvent): void => {
    const p = this.print;
    switch (e.kind) {
      case 'submitted':
        p(`submit     ${e.party}: task ${e.taskId} → S_n ${short(e.finalState)}${e.cheat ? ` (cheat: ${e.cheat.kind} at node ${this.nodeName(e.cheat.node)}${e.cheat.step ? `, step ${e.cheat.step.toLocaleString('en')}` : ''})` : ''}   gas ${gas(e.commitGas)} + ${gas(e.gas)} (commit + reveal)`);
        return;
      case 'verified':
        p(`verify     ${e.party} re-executes task ${e.taskId}: ${e.agrees ? 'same S_n, no challenge' : 'S_n differs → challenge'}`);
        return;
      case 'challenged':
        p(`challenge  ${e.party}: game ${e.gameId} on task ${e.taskId}   gas ${gas(e.gas)}`);
        return;
      case 'move': {
        const unit = e.phase === PHASE_GRAPH ? 'nodes' : 'steps';
        const of = e.phase === PHASE_GRAPH ? '' : ` of node ${this.phase1Node.get(e.gameId) ?? '?'}`;
        switch (e.move) {
          case 'bisect':
            p(`phase ${e.phase}    ${e.party} bisects ${unit} [${e.lo}, ${e.hi}]${of}: ${e.detail}   gas ${gas(e.gas)}`);
            return;
          case 'choose': {
            const r = this.roundsByGame.get(e.gameId) ?? { phase2: 0, phase1: 0 };
            if (e.phase === PHASE_GRAPH) r.phase2++; else r.phase1++;
            this.roundsByGame.set(e.gameId, r);
            const end = e.hi - e.lo === 1n ? (e.phase === PHASE_GRAPH ? ` → node ${this.nodeName(Number(e.hi))}` : ` → step ${e.lo.toLocaleString('en')}`) : '';
            p(`phase ${e.phase}    ${e.party} chooses ${unit} [${e.lo}, ${e.hi}]${end}   gas ${gas(e.gas)}`);
            return;
          }
          case 'open':
            this.disputedNode = Number(e.hi);
            this.phase1Node.set(e.gameId, this.disputedNode);
            p(`open       ${e.party} opens ${e.detail}   gas ${gas(e.gas)}`);
            return;
          case 'prove':
            this.disputedStep = Number(e.lo);
            p(`step       ${e.party} proves ${e.detail} on chain   gas ${gas(e.gas)}`);
            return;
          case 'timeout':
            p(`timeout    ${e.party} claims game ${e.gameId}: ${e.detail}   gas ${gas(e.gas)}`);
            return;
        }
        return;
      }
      case 'resolved':
        p(`result     game ${e.gameId}: ${e.party} ${e.won ? 'wins' : 'loses'} (${e.reason === 0 ? 'step proof' : 'timeout'})`);
        return;
      case 'rewarded':
        p(`reward     ${e.party}: another game rejected the result of game ${e.gameId}; bond and share claimed: ${ethers.formatEther(e.amount)} ETH   gas ${gas(e.gas)}`);
        return;
      case 'warning':
        p(`warning    ${e.party}: ${e.what}: ${e.message} (will retry)`);
        return;
      case 'stuck':
        p(`stuck      ${e.party} in game ${e.gameId}: ${e.detail}; its clock runs`);
        return;
    }
  };
}
