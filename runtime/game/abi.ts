/**
 * The contract interface the game clients use (docs/game.md), as ethers human-readable ABI. The clients
 * depend on this interface only, never on the contracts' sources; contracts/test checks that the
 * compiled contracts provide every fragment here.
 */
const TENSOR_TYPE = 'tuple(uint8 dtype, uint64[] dims)';
const MODEL_SPEC = `tuple(bytes32 recordsRoot, uint32 nodes, bytes32 constantState, uint32 slots, uint32[] inSlots, ${TENSOR_TYPE}[] inTypes, uint32[] outSlots, ${TENSOR_TYPE}[] outTypes)`;
const IO_SPEC = 'tuple(uint32 slot, uint8 dtype, uint64 byteLength, bytes32 typeHash)';
const MODEL = `tuple(bytes32 commitment, bytes32 recordsRoot, uint32 nodes, uint32 slots, bytes32 constantState, ${IO_SPEC}[] inputs, ${IO_SPEC}[] outputs)`;
const INPUT_DATA = 'tuple(bytes data, bytes32 dataRoot, string uri)';
const TASK = 'tuple(bytes32 modelId, address requester, uint64 challengeWindow, uint8 dissection, bool callback, uint8 status, uint64 deadline, uint256 reward, bytes32 s0, uint256 liveSubmission, uint256 finalSubmission)';
const SUBMISSION = 'tuple(uint256 taskId, address submitter, uint64 windowEnd, uint8 status, uint32 openGames, bytes32 finalState, bytes32 outputsHash, uint64 rejectedBy, uint192 share)';
const GAME_RECORD = 'tuple(uint256 submissionId, address challenger, bool resolved, bool submitterWon, bool settledLive, bool claimed)';
export const NODE_OPENING = 'tuple(bytes32 opHash, bytes32 codeRoot, uint8[] kinds, uint16[] indexes, uint8[] heights, uint32[] inSlots, bytes32[] inTypes, uint32[] outSlots, bytes32[] outTypes, bytes32[] recordPath, bytes32[] inRoots, bytes32[][] inPaths, bytes32[] outRoots, bytes32[][] outPaths, uint64 stepBound, uint64 steps, bytes finalHeader, bytes32[][] outRegionPaths)';
const GAME_VIEW = 'tuple(uint256 taskId, address submitter, address challenger, uint8 status, uint8 phase, uint32 nodes, uint32 node, uint8 slotDepth, uint8 dissection, uint64 lo, uint64 hi, bytes32 loHash, bytes32 hiHash, bytes32 midsHash, bool bisected, bytes32 recordsRoot, uint64 submitterClock, uint64 challengerClock, uint64 lastMove, uint8 expected, address mover, uint64 moverDeadline)';

export const COORDINATOR_ABI = [
  `function registerModel(${MODEL_SPEC} spec, string uri) returns (bytes32 modelId)`,
  `function requestInference(bytes32 modelId, ${INPUT_DATA}[] inputs, bytes32[][] s0Paths, uint64 challengeWindow, uint64 deadline, uint8 dissection, bool callback) payable returns (uint256 taskId)`,
  'function modelIdOf(bytes32 commitment, string uri) pure returns (bytes32)',
  'function resultCommitment(uint256 taskId, address submitter, bytes32 finalState, bytes32 outputsHash, bytes32 salt) pure returns (bytes32)',
  'function commitResult(bytes32 commitment)',
  'function commitBlock(bytes32 commitment) view returns (uint256)',
  'function submitResult(uint256 taskId, bytes32 finalState, bytes[] outputs, bytes32[][] outPaths, bytes32 salt) payable',
  'function challenge(uint256 taskId, uint256 submissionId, bytes32 finalState) payable returns (uint256 gameId)',
  'function finalize(uint256 taskId, bytes[] outputs)',
  'function claimChallengeReward(uint256 gameId)',
  'function reclaim(uint256 taskId)',
  'function withdraw()',
  'function submitterBond() view returns (uint256)',
  'function challengerBond() view returns (uint256)',
  'function clockSeconds() view returns (uint64)',
  'function minChallengeWindow() view returns (uint64)',
  'function BURN_BPS() view returns (uint256)',
  'function game() view returns (address)',
  'function verifier() view returns (address)',
  'function balanceOf(address) view returns (uint256)',
  'function taskCount() view returns (uint256)',
  'function isRegistered(bytes32 modelId) view returns (bool)',
  `function getModel(bytes32 modelId) view returns (${MODEL})`,
  `function getTask(uint256 taskId) view returns (${TASK})`,
  `function getSubmission(uint256 submissionId) view returns (${SUBMISSION})`,
  'function gamesOf(uint256 submissionId) view returns (uint256[])',
  `function getGameRecord(uint256 gameId) view returns (${GAME_RECORD})`,
  'event ModelRegistered(bytes32 indexed modelId, bytes32 indexed commitment, bytes32 recordsRoot, uint32 nodes, bytes32 constantState, uint32 slots, string uri)',
  `event InferenceRequested(uint256 indexed taskId, bytes32 indexed modelId, address indexed requester, uint256 reward, bytes32 s0, ${INPUT_DATA}[] inputs, uint64 challengeWindow, uint64 deadline, uint8 dissection)`,
  'event ResultCommitted(bytes32 indexed commitment, address indexed by)',
  'event ResultSubmitted(uint256 indexed taskId, uint256 indexed submissionId, address indexed submitter, bytes32 finalState, bytes[] outputs)',
  'event Challenged(uint256 indexed taskId, uint256 indexed submissionId, uint256 indexed gameId, address challenger)',
  'event ResultFinalized(uint256 indexed taskId, uint256 indexed submissionId)',
  'event ResultRejected(uint256 indexed taskId, uint256 indexed submissionId, uint256 indexed gameId, uint32 rewardedGames, uint256 share, uint256 burnt)',
  'event GameSettled(uint256 indexed gameId, uint256 indexed submissionId, bool submitterWon, bool afterRejection)',
  'event ChallengeRewarded(uint256 indexed gameId, address indexed challenger, uint256 amount)',
  'event CallbackFailed(uint256 indexed taskId)',
  'event Withdrawn(address indexed account, uint256 amount)',
] as const;

export const GAME_ABI = [
  'function bisect(uint256 gameId, bytes32[] mids)',
  'function choose(uint256 gameId, uint256 segment, bytes32[] mids)',
  `function openNode(uint256 gameId, ${NODE_OPENING} o)`,
  'function proveStep(uint256 gameId, bytes proof)',
  'function timeout(uint256 gameId)',
  `function getGame(uint256 gameId) view returns (${GAME_VIEW})`,
  'function gameCount() view returns (uint256)',
  'event GameCreated(uint256 indexed gameId, uint256 indexed taskId, address indexed submitter, address challenger, bytes32 s0, bytes32 sn, uint32 nodes, uint8 dissection)',
  'event Bisected(uint256 indexed gameId, uint8 phase, uint64 lo, uint64 hi, bytes32[] mids)',
  'event Chosen(uint256 indexed gameId, uint8 phase, uint256 segment, uint64 lo, uint64 hi)',
  'event NodeOpened(uint256 indexed gameId, uint32 node, bytes32 initialState, uint64 steps, bytes32 finalState)',
  'event GameResolved(uint256 indexed gameId, bool submitterWon, uint8 reason)',
] as const;

/** Every custom error the contracts revert with (coordinator, game, verifier), to name reverts in messages. */
export const ERRORS_ABI = [
  'error AlreadyClaimed()',
  'error AlreadyCommitted()',
  'error AlreadySettled()',
  'error BadCommitment()',
  'error BadDataProof()',
  'error BadDeadline()',
  'error BadDissection()',
  'error BadFinalState()',
  'error BadHeaderPadding()',
  'error BadInputCount(uint256 got, uint256 want)',
  'error BadInputData(uint256 i)',
  'error BadInputLength(uint256 i, uint256 got, uint256 want)',
  'error BadInputProof(uint256 i)',
  'error BadInsnProof()',
  'error BadLayout()',
  'error BadMids(uint256 got, uint256 want)',
  'error BadModel()',
  'error BadOpening()',
  'error BadOutputCount(uint256 got, uint256 want)',
  'error BadOutputLength(uint256 j, uint256 got, uint256 want)',
  'error BadOutputProof(uint256 j)',
  'error BadOutputRegion(uint256 j)',
  'error BadParameters()',
  'error BadPreState()',
  'error BadProofLength(uint256 got, uint256 want)',
  'error BadRecordProof()',
  'error BadRegionOrder(uint256 i)',
  'error BadS0Proof(uint256 i)',
  'error BadSegment()',
  'error BadSetup()',
  'error BadSteps()',
  'error BadTransition()',
  'error BadWindow(uint64 got, uint64 min)',
  'error ClockExpired()',
  'error ClockNotExpired()',
  'error DeadlineNotPassed()',
  'error FinalStateMismatch()',
  'error GameOver()',
  'error InsufficientGas()',
  'error LengthMismatch(uint256 a, uint256 b)',
  'error MidsMismatch()',
  'error ModelExists()',
  'error NoCommitment()',
  'error NoLiveResult()',
  'error NotLiveSubmission(uint256 named, uint256 live)',
  'error NotRewardable()',
  'error NotYourTurn()',
  'error NothingToWithdraw()',
  'error OnlyCoordinator()',
  'error OnlyGame()',
  'error OpenGames()',
  'error OutputsMismatch()',
  'error PastDeadline()',
  'error Reentrancy()',
  'error RegionTooHigh(uint256 i, uint256 height)',
  'error RegionsExceedMemory()',
  'error ResultPending()',
  'error RevealTooEarly(uint256 committedAt, uint256 revealableFrom)',
  'error SelfChallenge()',
  'error StepsAboveBound(uint64 steps, uint64 bound)',
  'error TaskNotOpen()',
  'error TransferFailed()',
  'error UnknownGame()',
  'error UnknownModel()',
  'error UnknownTask()',
  'error WindowClosed()',
  'error WindowOpen()',
  'error WrongBond(uint256 sent, uint256 want)',
  'error WrongPhase()',
] as const;

/** DisputeGame.Move */
export const Move = { None: 0, Bisect: 1, Choose: 2, Open: 3, Prove: 4 } as const;
/** DisputeGame.Status */
export const GameStatus = { None: 0, Active: 1, SubmitterWon: 2, ChallengerWon: 3 } as const;
/** TaskCoordinator.TaskStatus */
export const TaskStatus = { None: 0, Open: 1, Final: 2, Reclaimed: 3 } as const;
/** TaskCoordinator.SubmissionStatus */
export const SubmissionStatus = { None: 0, Live: 1, Rejected: 2, Final: 3 } as const;
export const PHASE_GRAPH = 2;
export const PHASE_STEPS = 1;
