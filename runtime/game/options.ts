/** Names and limits the game's commands show before anything heavy is loaded. */

/** Written by `opml deploy`, read by every other chain command. */
export const DEPLOYMENT_FILE = 'opml-deployment.json';
export const DEFAULT_RPC = 'http://127.0.0.1:8545';

/** Dissection degrees the contracts accept (docs/game.md §3.1). */
export const MIN_DISSECTION = 2;
export const MAX_DISSECTION = 16;

/** How a cheating submitter lies (runtime/game/cheat.ts). */
export const CHEATS = ['wrong-output', 'wrong-tensor', 'wrong-step'] as const;
export type CheatKind = (typeof CHEATS)[number];
