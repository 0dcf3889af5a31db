// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleLib} from "./MerkleLib.sol";
import {IOPVM} from "./IOPVM.sol";
import {Commitments} from "./Commitments.sol";

/// What the dispute game calls when a game ends (the task coordinator).
interface IGameResolver {
    function onGameResolved(uint256 gameId, bool submitterWon) external;
}

/**
 * @title DisputeGame — the two-phase dispute game of docs/game.md §4
 * @notice One game per challenge, between the submitter (who defends S_n and posts every claim) and the
 * challenger (who only chooses where to look). Phase 2 bisects over the graph states S_0 … S_n down to
 * one node k; the submitter opens node k (its record, its input and output slots, its OPVM run's start,
 * which the contract computes, and its claimed halted final state); phase 1 bisects over the OPVM steps
 * of node k down to one step, which the OPVM verifier re-executes.
 *
 * Turns (§4.5): bisect and openNode are the submitter's, choose and proveStep the challenger's (anyone may
 * send a step proof; the challenger's clock runs). Each party has `clockSeconds` of thinking time per game.
 * Only a hash of the last mids is stored; the challenger passes them back in choose.
 */
contract DisputeGame {
    // ---------------------------------------------------------------------------------------------------
    // Types

    enum Status {
        None,
        Active,
        SubmitterWon,
        ChallengerWon
    }

    /// The move the game waits for.
    enum Move {
        None,
        Bisect,
        Choose,
        Open,
        Prove
    }

    /// What the coordinator passes to create.
    struct GameSetup {
        uint256 taskId;
        address submitter;
        address challenger;
        bytes32 s0; // agreed: computed on chain at the request
        bytes32 sn; // claimed: the submitter's final state
        bytes32 recordsRoot;
        uint32 nodes;
        uint8 slotDepth;
        uint8 dissection;
    }

    /// The submitter's opening of node k (docs/game.md §4.3).
    struct NodeOpening {
        bytes32 opHash;
        bytes32 codeRoot;
        uint8[] kinds;
        uint16[] indexes;
        uint8[] heights;
        uint32[] inSlots;
        bytes32[] inTypes;
        uint32[] outSlots;
        bytes32[] outTypes;
        bytes32[] recordPath;
        bytes32[] inRoots;
        bytes32[][] inPaths;
        bytes32[] outRoots;
        bytes32[][] outPaths;
        uint64 stepBound; // the node record's step bound, fixed at compile time
        uint64 steps;
        bytes finalHeader;
        bytes32[][] outRegionPaths;
    }

    struct Game {
        // slot 0
        uint256 taskId;
        // slot 1
        address submitter;
        uint32 nodes;
        uint32 node; // the disputed node in phase 1 (0 in phase 2)
        uint8 slotDepth;
        uint8 dissection;
        uint8 phase; // 2: over graph states; 1: over OPVM steps of `node`
        Status status;
        // slot 2
        address challenger;
        uint64 lastMove; // timestamp of creation or of the last move
        bool bisected; // the submitter has bisected [lo, hi]; the challenger chooses next
        // slot 3
        uint64 submitterClock; // seconds left
        uint64 challengerClock;
        uint64 lo;
        uint64 hi;
        // slots 4 … 7
        bytes32 recordsRoot;
        bytes32 loHash; // agreed hash at lo
        bytes32 hiHash; // claimed hash at hi
        bytes32 midsHash; // keccak256(abi.encodePacked(mids)) of the last bisection
    }

    // ---------------------------------------------------------------------------------------------------
    // Constants, immutables, storage

    uint256 public constant MAX_DISSECTION = 16;
    uint256 public constant MAX_IO = 16;
    /// Code, inputs, outputs and scratch.
    uint256 public constant MAX_REGIONS = 2 + 2 * MAX_IO;
    uint256 public constant MAX_SLOT_DEPTH = 32;
    uint256 public constant MAX_STEPS = 1 << 48;
    uint256 public constant MEM_DEPTH = 26;
    uint256 public constant HEADER_BYTES = 296;

    uint8 public constant PHASE_GRAPH = 2;
    uint8 public constant PHASE_STEPS = 1;
    uint8 public constant REASON_STEP_PROOF = 0;
    uint8 public constant REASON_TIMEOUT = 1;

    address public immutable coordinator;
    IOPVM public immutable verifier;
    uint64 public immutable clockSeconds;

    uint256 public gameCount;
    mapping(uint256 => Game) internal _games;

    // ---------------------------------------------------------------------------------------------------
    // Events

    event GameCreated(
        uint256 indexed gameId,
        uint256 indexed taskId,
        address indexed submitter,
        address challenger,
        bytes32 s0,
        bytes32 sn,
        uint32 nodes,
        uint8 dissection
    );
    /// The submitter's claimed hashes at the cut points p_1 … p_{m−1} of [lo, hi].
    event Bisected(uint256 indexed gameId, uint8 phase, uint64 lo, uint64 hi, bytes32[] mids);
    /// The challenger chose `segment`; [lo, hi] is the new interval.
    event Chosen(uint256 indexed gameId, uint8 phase, uint256 segment, uint64 lo, uint64 hi);
    event NodeOpened(uint256 indexed gameId, uint32 node, bytes32 initialState, uint64 steps, bytes32 finalState);
    /// reason 0: step proof, 1: timeout.
    event GameResolved(uint256 indexed gameId, bool submitterWon, uint8 reason);

    // ---------------------------------------------------------------------------------------------------
    // Errors

    error OnlyCoordinator();
    error BadSetup();
    error UnknownGame();
    error GameOver();
    error NotYourTurn();
    error WrongPhase();
    error ClockExpired();
    error ClockNotExpired();
    error BadMids(uint256 got, uint256 want);
    error MidsMismatch();
    error BadSegment();
    error BadOpening();
    error BadLayout();
    error BadRecordProof();
    error BadInputProof(uint256 i);
    error BadTransition();
    error BadSteps();
    error StepsAboveBound(uint64 steps, uint64 bound);
    error BadFinalState();
    error BadOutputRegion(uint256 j);

    // ---------------------------------------------------------------------------------------------------

    constructor(address coordinator_, IOPVM verifier_, uint64 clockSeconds_) {
        coordinator = coordinator_;
        verifier = verifier_;
        clockSeconds = clockSeconds_;
    }

    /// Start a game in phase 2 over [0, n] with agreed S_0 and claimed S_n; the submitter moves first.
    function create(GameSetup calldata s) external returns (uint256 gameId) {
        if (msg.sender != coordinator) revert OnlyCoordinator();
        if (
            s.nodes == 0 || s.slotDepth > MAX_SLOT_DEPTH || s.dissection < 2 || s.dissection > MAX_DISSECTION
                || s.submitter == address(0) || s.challenger == address(0) || s.submitter == s.challenger
        ) revert BadSetup();
        gameId = ++gameCount;
        Game storage g = _games[gameId];
        g.taskId = s.taskId;
        g.submitter = s.submitter;
        g.nodes = s.nodes;
        g.slotDepth = s.slotDepth;
        g.dissection = s.dissection;
        g.phase = PHASE_GRAPH;
        g.status = Status.Active;
        g.challenger = s.challenger;
        g.lastMove = uint64(block.timestamp);
        g.submitterClock = clockSeconds;
        g.challengerClock = clockSeconds;
        g.hi = s.nodes;
        g.recordsRoot = s.recordsRoot;
        g.loHash = s.s0;
        g.hiHash = s.sn;
        emit GameCreated(gameId, s.taskId, s.submitter, s.challenger, s.s0, s.sn, s.nodes, s.dissection);
    }

    // ---------------------------------------------------------------------------------------------------
    // Moves

    /// Submitter: the claimed hashes at p_1 … p_{m−1} of the current interval.
    function bisect(uint256 gameId, bytes32[] calldata mids) external {
        Game storage g = _begin(gameId, Move.Bisect);
        uint256 want = _segments(g.lo, g.hi, g.dissection) - 1;
        if (mids.length != want) revert BadMids(mids.length, want);
        g.midsHash = keccak256(abi.encodePacked(mids));
        g.bisected = true;
        emit Bisected(gameId, g.phase, g.lo, g.hi, mids);
    }

    /// Challenger: the same mids again, and the segment [p_s, p_{s+1}] to continue with.
    function choose(uint256 gameId, uint256 segment, bytes32[] calldata mids) external {
        Game storage g = _begin(gameId, Move.Choose);
        if (keccak256(abi.encodePacked(mids)) != g.midsHash) revert MidsMismatch();
        uint256 lo = g.lo;
        uint256 span = g.hi - lo;
        uint256 m = _segments(lo, g.hi, g.dissection);
        if (segment >= m) revert BadSegment();
        if (segment != 0) g.loHash = mids[segment - 1];
        if (segment + 1 != m) g.hiHash = mids[segment];
        uint64 newLo = uint64(lo + (span * segment) / m);
        uint64 newHi = uint64(lo + (span * (segment + 1)) / m);
        g.lo = newLo;
        g.hi = newHi;
        g.bisected = false;
        emit Chosen(gameId, g.phase, segment, newLo, newHi);
    }

    /// Submitter, at the end of phase 2 ([k − 1, k]): open node k and start phase 1 over its OPVM steps.
    function openNode(uint256 gameId, NodeOpening calldata o) external {
        Game storage g = _begin(gameId, Move.Open);
        uint256 nIn = o.inSlots.length;
        uint256 nOut = o.outSlots.length;
        if (
            nIn > MAX_IO || nOut > MAX_IO || o.inTypes.length != nIn || o.inRoots.length != nIn || o.inPaths.length != nIn
                || o.outTypes.length != nOut || o.outRoots.length != nOut || o.outPaths.length != nOut
                || o.outRegionPaths.length != nOut || o.kinds.length > MAX_REGIONS || o.indexes.length != o.kinds.length
                || o.heights.length != o.kinds.length
        ) revert BadOpening();
        uint256 k = g.hi;
        // 1. the node record under recordsRoot
        (uint256[] memory kinds, uint256[] memory indexes, uint256[] memory heights) = _layout(o);
        _checkRecord(g, o, k, MerkleLib.layoutHash(kinds, indexes, heights));
        // 2. inputs under S_{k−1}; 3. S_{k−1} → S_k writes the output slots only
        _checkSlots(g, o);
        // 4. the initial OPVM state; 5. the claimed final state
        bytes32 h0 = _initialState(o, kinds, indexes, heights);
        bytes32 hn = _finalState(o, kinds, indexes, heights);
        g.phase = PHASE_STEPS;
        g.node = uint32(k);
        g.lo = 0;
        g.hi = o.steps;
        g.loHash = h0;
        g.hiHash = hn;
        emit NodeOpened(gameId, uint32(k), h0, o.steps, hn);
    }

    /**
     * At [s, s + 1] of phase 1, anyone: the packed step proof (docs/opvm.md §5) for the agreed state h_s.
     * The submitter wins when the verifier's post-state is the claimed h_{s+1}, the challenger otherwise.
     * An invalid proof reverts with the verifier's error.
     */
    function proveStep(uint256 gameId, bytes calldata proof) external {
        Game storage g = _begin(gameId, Move.Prove);
        bytes32 post = verifier.step(g.loHash, proof);
        _resolve(gameId, g, post == g.hiHash, REASON_STEP_PROOF);
    }

    /// Anyone, when the party to move has used up its clock: the other party wins.
    function timeout(uint256 gameId) external {
        Game storage g = _games[gameId];
        if (g.status == Status.None) revert UnknownGame();
        if (g.status != Status.Active) revert GameOver();
        (, bool challengerMoves) = _expected(g);
        uint256 left = challengerMoves ? g.challengerClock : g.submitterClock;
        if (block.timestamp - g.lastMove <= left) revert ClockNotExpired();
        _resolve(gameId, g, challengerMoves, REASON_TIMEOUT);
    }

    // ---------------------------------------------------------------------------------------------------
    // Views

    struct GameView {
        uint256 taskId;
        address submitter;
        address challenger;
        Status status;
        uint8 phase;
        uint32 nodes;
        uint32 node;
        uint8 slotDepth;
        uint8 dissection;
        uint64 lo;
        uint64 hi;
        bytes32 loHash;
        bytes32 hiHash;
        bytes32 midsHash;
        bool bisected;
        bytes32 recordsRoot;
        uint64 submitterClock;
        uint64 challengerClock;
        uint64 lastMove;
        Move expected; // None once the game is over
        address mover; // the party whose clock runs (the challenger for Prove)
        uint64 moverDeadline; // last timestamp at which the mover may still move
    }

    function getGame(uint256 gameId) external view returns (GameView memory v) {
        Game storage g = _games[gameId];
        v.taskId = g.taskId;
        v.submitter = g.submitter;
        v.challenger = g.challenger;
        v.status = g.status;
        v.phase = g.phase;
        v.nodes = g.nodes;
        v.node = g.node;
        v.slotDepth = g.slotDepth;
        v.dissection = g.dissection;
        v.lo = g.lo;
        v.hi = g.hi;
        v.loHash = g.loHash;
        v.hiHash = g.hiHash;
        v.midsHash = g.midsHash;
        v.bisected = g.bisected;
        v.recordsRoot = g.recordsRoot;
        v.submitterClock = g.submitterClock;
        v.challengerClock = g.challengerClock;
        v.lastMove = g.lastMove;
        if (g.status == Status.Active) {
            (Move m, bool challengerMoves) = _expected(g);
            v.expected = m;
            v.mover = challengerMoves ? g.challenger : g.submitter;
            v.moverDeadline = g.lastMove + (challengerMoves ? g.challengerClock : g.submitterClock);
        }
    }

    /// The cut points p_0 … p_m of [lo, hi] with m = min(k, hi − lo) (docs/game.md §4.1).
    function cutPoints(uint64 lo, uint64 hi, uint8 k) external pure returns (uint64[] memory p) {
        if (hi <= lo || k < 2) revert BadSegment();
        uint256 m = _segments(lo, hi, k);
        p = new uint64[](m + 1);
        for (uint256 j = 0; j <= m; j++) p[j] = uint64(lo + (uint256(hi - lo) * j) / m);
    }

    // ---------------------------------------------------------------------------------------------------
    // Turns and clocks

    function _segments(uint256 lo, uint256 hi, uint256 k) internal pure returns (uint256) {
        uint256 span = hi - lo;
        return span < k ? span : k;
    }

    function _expected(Game storage g) internal view returns (Move, bool challengerMoves) {
        if (g.hi - g.lo == 1) return g.phase == PHASE_GRAPH ? (Move.Open, false) : (Move.Prove, true);
        return g.bisected ? (Move.Choose, true) : (Move.Bisect, false);
    }

    /// Check that `move` is the move the game waits for, by its party, within its clock; charge the clock.
    function _begin(uint256 gameId, Move move) internal returns (Game storage g) {
        g = _games[gameId];
        if (g.status == Status.None) revert UnknownGame();
        if (g.status != Status.Active) revert GameOver();
        (Move want, bool challengerMoves) = _expected(g);
        // Anyone may send a step proof (the outcome does not depend on who sends it).
        if (move != Move.Prove && msg.sender != (challengerMoves ? g.challenger : g.submitter)) revert NotYourTurn();
        if (move != want) revert WrongPhase();
        uint256 elapsed = block.timestamp - g.lastMove;
        uint256 left = challengerMoves ? g.challengerClock : g.submitterClock;
        if (elapsed > left) revert ClockExpired();
        if (challengerMoves) g.challengerClock = uint64(left - elapsed);
        else g.submitterClock = uint64(left - elapsed);
        g.lastMove = uint64(block.timestamp);
    }

    function _resolve(uint256 gameId, Game storage g, bool submitterWon, uint8 reason) internal {
        g.status = submitterWon ? Status.SubmitterWon : Status.ChallengerWon;
        emit GameResolved(gameId, submitterWon, reason);
        IGameResolver(coordinator).onGameResolved(gameId, submitterWon);
    }

    // ---------------------------------------------------------------------------------------------------
    // Opening a node

    function _layout(NodeOpening calldata o)
        internal
        pure
        returns (uint256[] memory kinds, uint256[] memory indexes, uint256[] memory heights)
    {
        uint256 n = o.kinds.length;
        kinds = new uint256[](n);
        indexes = new uint256[](n);
        heights = new uint256[](n);
        for (uint256 r = 0; r < n; r++) {
            kinds[r] = o.kinds[r];
            indexes[r] = o.indexes[r];
            heights[r] = o.heights[r];
        }
    }

    /// 1. R_k = H(opHash ‖ codeRoot ‖ layoutHash ‖ ioHash(node IO) ‖ u256(stepBound)) at leaf k − 1 under recordsRoot.
    function _checkRecord(Game storage g, NodeOpening calldata o, uint256 k, bytes32 layoutHash) internal view {
        bytes32 io = Commitments.ioHash(o.inSlots, o.inTypes, o.outSlots, o.outTypes);
        bytes32 record = Commitments.nodeRecord(o.opHash, o.codeRoot, layoutHash, io, o.stepBound);
        if (o.recordPath.length != Commitments.ceilLog2(g.nodes)) revert BadRecordProof();
        if (MerkleLib.rootFromCalldataPath(record, k - 1, o.recordPath) != g.recordsRoot) revert BadRecordProof();
    }

    /// 2. each input's commitment at its slot under S_{k−1}; 3. S_{k−1} with the output slots written is S_k.
    function _checkSlots(Game storage g, NodeOpening calldata o) internal view {
        uint256 depth = g.slotDepth;
        bytes32 prev = g.loHash;
        for (uint256 i = 0; i < o.inSlots.length; i++) {
            bytes32 c = Commitments.tensorCommitment(o.inRoots[i], o.inTypes[i]);
            bytes32[] calldata path = o.inPaths[i];
            if (path.length != depth || MerkleLib.rootFromCalldataPath(c, o.inSlots[i], path) != prev) revert BadInputProof(i);
        }
        bytes32 cur = prev;
        for (uint256 j = 0; j < o.outSlots.length; j++) {
            bytes32[] calldata path = o.outPaths[j];
            uint256 slot = o.outSlots[j];
            if (path.length != depth) revert BadTransition();
            (bytes32 was, bytes32 next) = MerkleLib.rootsFromPacked(
                bytes32(0), Commitments.tensorCommitment(o.outRoots[j], o.outTypes[j]), slot, _pathAt(path), depth
            );
            if (was != cur) revert BadTransition();
            cur = next;
        }
        if (cur != g.hiHash) revert BadTransition();
    }

    function _pathAt(bytes32[] calldata path) internal pure returns (uint256 offset) {
        assembly ("memory-safe") {
            offset := path.offset
        }
    }

    /**
     * 4. H_0: the memory root composed from the region roots in address order (code: codeRoot, input i:
     * inRoots[i], output and scratch: Z_h), pc = the code region's leaf address, status 0, registers 0.
     */
    function _initialState(NodeOpening calldata o, uint256[] memory kinds, uint256[] memory indexes, uint256[] memory heights)
        internal
        pure
        returns (bytes32)
    {
        uint256 n = kinds.length;
        bytes32[] memory roots = new bytes32[](n);
        bytes32[27] memory z = MerkleLib.zeroHashes();
        uint256 leafAt = 0; // leaf address of region r
        uint256 codeAt = type(uint256).max;
        for (uint256 r = 0; r < n; r++) {
            uint256 kind = kinds[r];
            uint256 h = heights[r];
            if (h > MEM_DEPTH) revert BadLayout();
            if (kind == 0) {
                roots[r] = o.codeRoot;
                if (codeAt == type(uint256).max) codeAt = leafAt;
            } else if (kind == 1) {
                if (indexes[r] >= o.inRoots.length) revert BadLayout();
                roots[r] = o.inRoots[indexes[r]];
            } else if (kind == 2 || kind == 3) {
                roots[r] = z[h];
            } else {
                revert BadLayout();
            }
            leafAt += uint256(1) << h;
        }
        if (codeAt == type(uint256).max) revert BadLayout();
        bytes32 memRoot = MerkleLib.composeMemoryRoot(heights, roots);
        // memRoot ‖ pc (u32 BE) ‖ status 0 ‖ 000000 ‖ 32 zero registers
        bytes memory header = new bytes(HEADER_BYTES);
        assembly ("memory-safe") {
            mstore(add(header, 0x20), memRoot)
            mstore(add(header, 0x40), shl(224, codeAt))
        }
        return keccak256(header);
    }

    /**
     * 5. 1 ≤ steps ≤ min(stepBound, 2^48) (the bound of the node record, checked in step 1); the final
     * header is halted (status 1, zero padding) and output j's region root outRoots[j] lies at leaf
     * address / 2^h (height h) under its memRoot.
     */
    function _finalState(NodeOpening calldata o, uint256[] memory kinds, uint256[] memory indexes, uint256[] memory heights)
        internal
        pure
        returns (bytes32)
    {
        if (o.steps == 0 || o.steps > MAX_STEPS) revert BadSteps();
        if (o.steps > o.stepBound) revert StepsAboveBound(o.steps, o.stepBound);
        bytes calldata header = o.finalHeader;
        if (header.length != HEADER_BYTES) revert BadFinalState();
        bytes32 memRoot = bytes32(header[0:32]);
        // bytes 36 … 39: status ‖ padding
        if (bytes4(header[36:40]) != bytes4(0x01000000)) revert BadFinalState();
        for (uint256 j = 0; j < o.outRoots.length; j++) {
            // output j's region: the first output region with index j
            uint256 leafAt = 0;
            uint256 r = 0;
            for (; r < kinds.length; r++) {
                if (kinds[r] == 2 && indexes[r] == j) break;
                leafAt += uint256(1) << heights[r];
            }
            if (r == kinds.length) revert BadOutputRegion(j);
            uint256 h = heights[r];
            bytes32[] calldata path = o.outRegionPaths[j];
            if (path.length != MEM_DEPTH - h || MerkleLib.rootFromCalldataPath(o.outRoots[j], leafAt >> h, path) != memRoot) {
                revert BadOutputRegion(j);
            }
        }
        return keccak256(header);
    }
}
