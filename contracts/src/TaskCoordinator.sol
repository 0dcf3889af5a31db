// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleLib} from "./MerkleLib.sol";
import {IOPVM} from "./IOPVM.sol";
import {Commitments} from "./Commitments.sol";
import {DisputeGame, IGameResolver} from "./DisputeGame.sol";
import {IOPMLConsumer} from "./IOPMLConsumer.sol";

/**
 * @title TaskCoordinator — models, inference tasks, results, challenges and payouts (docs/game.md §1–3)
 * @notice A requester registers (or reuses) a model by its commitment and asks for an inference with a
 * reward; a submitter posts the final graph state S_n and the output bytes, bound to S_n, with a bond; during
 * the challenge window anyone may challenge with a bond, each challenge being a game in the DisputeGame this
 * coordinator deploys. A result whose games the submitter all won becomes final after its window; a lost
 * game rejects the result and reopens the task. Money is only credited to balances and taken with
 * withdraw().
 */
contract TaskCoordinator is IGameResolver {
    // ---------------------------------------------------------------------------------------------------
    // Types (docs/game.md §2, §3)

    /// A graph input's or output's tensor type: dtype code (docs/ir.md §5) and shape.
    struct TensorType {
        uint8 dtype;
        uint64[] dims;
    }

    /// What registerModel takes: the model commitment's fields, with the graph IO's full tensor types.
    struct ModelSpec {
        bytes32 recordsRoot;
        uint32 nodes;
        bytes32 constantState;
        uint32 slots;
        uint32[] inSlots;
        TensorType[] inTypes;
        uint32[] outSlots;
        TensorType[] outTypes;
    }

    /// A graph input or output as stored: its slot, dtype, byte length and type hash.
    struct IOSpec {
        uint32 slot;
        uint8 dtype;
        uint64 byteLength;
        bytes32 typeHash;
    }

    /// A registered model (docs/game.md §2).
    struct Model {
        bytes32 commitment; // M, the model commitment of docs/commitments.md
        bytes32 recordsRoot;
        uint32 nodes;
        uint32 slots;
        bytes32 constantState;
        IOSpec[] inputs;
        IOSpec[] outputs;
    }

    struct InputData {
        bytes data;
        bytes32 dataRoot;
        string uri;
    }

    enum TaskStatus {
        None,
        Open, // waiting for a result, or a result is live (liveSubmission ≠ 0)
        Final,
        Reclaimed
    }

    struct Task {
        bytes32 modelId;
        address requester;
        uint64 challengeWindow;
        uint8 dissection;
        bool callback;
        TaskStatus status;
        uint64 deadline;
        uint256 reward;
        bytes32 s0;
        uint256 liveSubmission; // the live result's submission id, 0 when none
        uint256 finalSubmission;
    }

    enum SubmissionStatus {
        None,
        Live,
        Rejected,
        Final
    }

    struct Submission {
        uint256 taskId;
        address submitter;
        uint64 windowEnd; // challenges before, finalize from
        SubmissionStatus status;
        uint32 openGames; // games not yet resolved (while live)
        bytes32 finalState;
        bytes32 outputsHash; // keccak256(abi.encode(outputs))
        uint64 rejectedBy; // the game the submitter lost
        uint192 share; // once rejected: each rewarded challenger's part of the submitter's bond (same slot)
    }

    struct GameRecord {
        uint256 submissionId;
        address challenger;
        bool resolved; // onGameResolved was called
        bool submitterWon;
        bool settledLive; // settled while its submission was live
        bool claimed; // bond and share credited (a game of a rejected result)
    }

    // ---------------------------------------------------------------------------------------------------
    // Constants, immutables, storage

    uint256 public constant MAX_IO = 16;
    uint256 public constant MAX_RANK = 16;
    uint256 public constant MAX_DISSECTION = 16;
    /// Gas given to IOPMLConsumer.onInferenceResult.
    uint256 public constant CALLBACK_GAS = 300_000;
    /// Gas finalize keeps beyond the callback's share (the call itself, the 1/64 rule's remainder).
    uint256 internal constant CALLBACK_RESERVE = 10_000;
    /// Part of a rejected submitter's bond that is burnt, in basis points, so that losing against one's own
    /// challenge never breaks even (docs/game.md §3.4). Burnt wei stay here for ever: no function pays them
    /// out; ResultRejected reports each amount.
    uint256 public constant BURN_BPS = 5_000;
    /// Blocks between a result's commitment and its reveal (submitResult).
    uint256 public constant REVEAL_DELAY_BLOCKS = 1;

    uint256 public immutable submitterBond;
    uint256 public immutable challengerBond;
    uint64 public immutable clockSeconds;
    uint64 public immutable minChallengeWindow;
    IOPVM public immutable verifier;
    DisputeGame public immutable game;

    mapping(bytes32 => Model) internal _models;
    uint256 public taskCount;
    mapping(uint256 => Task) internal _tasks;
    uint256 public submissionCount;
    mapping(uint256 => Submission) internal _submissions;
    mapping(uint256 => uint256[]) internal _gamesOf; // submission id → game ids
    mapping(uint256 => GameRecord) internal _gameRecords; // game id → record
    mapping(address => uint256) public balanceOf;
    /// Result commitment → the block it was committed in (0: none).
    mapping(bytes32 => uint256) public commitBlock;

    bool private transient _locked;

    // ---------------------------------------------------------------------------------------------------
    // Events

    event ModelRegistered(
        bytes32 indexed modelId,
        bytes32 indexed commitment,
        bytes32 recordsRoot,
        uint32 nodes,
        bytes32 constantState,
        uint32 slots,
        string uri
    );
    event InferenceRequested(
        uint256 indexed taskId,
        bytes32 indexed modelId,
        address indexed requester,
        uint256 reward,
        bytes32 s0,
        InputData[] inputs,
        uint64 challengeWindow,
        uint64 deadline,
        uint8 dissection
    );
    event ResultCommitted(bytes32 indexed commitment, address indexed by);
    event ResultSubmitted(
        uint256 indexed taskId, uint256 indexed submissionId, address indexed submitter, bytes32 finalState, bytes[] outputs
    );
    event Challenged(uint256 indexed taskId, uint256 indexed submissionId, uint256 indexed gameId, address challenger);
    event ResultFinalized(uint256 indexed taskId, uint256 indexed submissionId);
    /// The submitter lost `gameId`: the result is rejected, its bond shared and burnt, the task reopens.
    event ResultRejected(
        uint256 indexed taskId, uint256 indexed submissionId, uint256 indexed gameId, uint32 rewardedGames, uint256 share, uint256 burnt
    );
    /// A game's outcome reached the coordinator; `afterRejection`: its result had already been rejected.
    event GameSettled(uint256 indexed gameId, uint256 indexed submissionId, bool submitterWon, bool afterRejection);
    /// A challenger of a rejected result was credited its bond and its share of the submitter's bond.
    event ChallengeRewarded(uint256 indexed gameId, address indexed challenger, uint256 amount);
    event TaskReclaimed(uint256 indexed taskId, address indexed requester, uint256 amount);
    event CallbackFailed(uint256 indexed taskId);
    event Withdrawn(address indexed account, uint256 amount);

    // ---------------------------------------------------------------------------------------------------
    // Errors

    error BadParameters();
    error ModelExists();
    error BadModel();
    error UnknownModel();
    error BadInputCount(uint256 got, uint256 want);
    error BadInputData(uint256 i);
    error BadInputLength(uint256 i, uint256 got, uint256 want);
    error BadS0Proof(uint256 i);
    error BadWindow(uint64 got, uint64 min);
    error BadDeadline();
    error BadDissection();
    error UnknownTask();
    error WrongBond(uint256 sent, uint256 want);
    error TaskNotOpen();
    error PastDeadline();
    error BadOutputCount(uint256 got, uint256 want);
    error BadOutputLength(uint256 j, uint256 got, uint256 want);
    error BadOutputProof(uint256 j);
    error BadCommitment();
    error AlreadyCommitted();
    error NoCommitment();
    error RevealTooEarly(uint256 committedAt, uint256 revealableFrom);
    error NoLiveResult();
    error NotLiveSubmission(uint256 named, uint256 live);
    error FinalStateMismatch();
    error SelfChallenge();
    error WindowClosed();
    error WindowOpen();
    error OpenGames();
    error OutputsMismatch();
    error InsufficientGas();
    error OnlyGame();
    error UnknownGame();
    error AlreadySettled();
    error NotRewardable();
    error AlreadyClaimed();
    error DeadlineNotPassed();
    error ResultPending();
    error NothingToWithdraw();
    error TransferFailed();
    error Reentrancy();

    // ---------------------------------------------------------------------------------------------------

    /**
     * Deploys this coordinator's DisputeGame (`game()`), whose games call back onGameResolved. Every request's
     * challenge window must be at least `minChallengeWindow_` seconds (days on a public chain).
     */
    constructor(
        uint256 submitterBond_,
        uint256 challengerBond_,
        uint64 clockSeconds_,
        uint64 minChallengeWindow_,
        IOPVM verifier_
    ) {
        if (
            submitterBond_ == 0 || submitterBond_ > type(uint192).max || challengerBond_ == 0 || clockSeconds_ == 0
                || minChallengeWindow_ == 0
        ) {
            revert BadParameters();
        }
        submitterBond = submitterBond_;
        challengerBond = challengerBond_;
        clockSeconds = clockSeconds_;
        minChallengeWindow = minChallengeWindow_;
        verifier = verifier_;
        game = new DisputeGame(address(this), verifier_, clockSeconds_);
    }

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    // ---------------------------------------------------------------------------------------------------
    // Models (§2)

    /**
     * Register a model under the id H(M ‖ H(uri)): M, the model commitment, is computed here from the spec
     * (the graph IO's type hashes from their dtypes and shapes), and the URI is bound to the id, so a
     * registration with a wrong URI cannot stand in for a right one.
     */
    function registerModel(ModelSpec calldata spec, string calldata uri) external returns (bytes32 modelId) {
        uint256 nIn = spec.inSlots.length;
        uint256 nOut = spec.outSlots.length;
        if (
            spec.nodes == 0 || spec.slots == 0 || nIn > MAX_IO || nOut > MAX_IO || spec.inTypes.length != nIn
                || spec.outTypes.length != nOut
        ) revert BadModel();
        (bytes memory inIo, IOSpec[] memory ins) = _ioSpecs(spec.inSlots, spec.inTypes, spec.slots);
        (bytes memory outIo, IOSpec[] memory outs) = _ioSpecs(spec.outSlots, spec.outTypes, spec.slots);
        bytes32 commitment = Commitments.modelCommitment(
            spec.recordsRoot, spec.nodes, spec.constantState, spec.slots, keccak256(bytes.concat(inIo, outIo))
        );
        modelId = modelIdOf(commitment, uri);
        _storeModel(modelId, commitment, spec, ins, outs);
        _emitRegistered(modelId, spec, uri);
    }

    function _emitRegistered(bytes32 modelId, ModelSpec calldata spec, string calldata uri) internal {
        Model storage m = _models[modelId];
        emit ModelRegistered(modelId, m.commitment, spec.recordsRoot, spec.nodes, spec.constantState, spec.slots, uri);
    }

    function _storeModel(
        bytes32 modelId,
        bytes32 commitment,
        ModelSpec calldata spec,
        IOSpec[] memory ins,
        IOSpec[] memory outs
    ) internal {
        Model storage m = _models[modelId];
        if (m.nodes != 0) revert ModelExists();
        m.commitment = commitment;
        m.recordsRoot = spec.recordsRoot;
        m.nodes = spec.nodes;
        m.slots = spec.slots;
        m.constantState = spec.constantState;
        for (uint256 i = 0; i < ins.length; i++) {
            m.inputs.push(ins[i]);
        }
        for (uint256 j = 0; j < outs.length; j++) {
            m.outputs.push(outs[j]);
        }
    }

    /// The registry id of a model commitment published at `uri`: keccak256(M ‖ keccak256(uri)).
    function modelIdOf(bytes32 commitment, string calldata uri) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(commitment, keccak256(bytes(uri))));
    }

    /// The IO specs of one side and its part of ioHash's preimage: u256(n) ‖ (u256(slot) ‖ typeHash)….
    function _ioSpecs(uint32[] calldata slots_, TensorType[] calldata types, uint32 slotCount)
        internal
        pure
        returns (bytes memory pre, IOSpec[] memory specs)
    {
        uint256 n = slots_.length;
        specs = new IOSpec[](n);
        pre = abi.encodePacked(n);
        for (uint256 i = 0; i < n; i++) {
            TensorType calldata t = types[i];
            uint256 size = Commitments.elementBytes(t.dtype);
            if (slots_[i] >= slotCount || size == 0 || t.dims.length > MAX_RANK) revert BadModel();
            uint256 bytes_ = size;
            for (uint256 d = 0; d < t.dims.length; d++) {
                bytes_ *= t.dims[d]; // ≤ 2^64 per factor, at most MAX_RANK factors: checked below
                if (bytes_ > type(uint64).max) revert BadModel();
            }
            bytes32 th = Commitments.tensorTypeHash(t.dtype, t.dims);
            specs[i] = IOSpec({slot: slots_[i], dtype: t.dtype, byteLength: uint64(bytes_), typeHash: th});
            pre = bytes.concat(pre, abi.encodePacked(uint256(slots_[i]), th));
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Tasks (§3)

    /// Ask for an inference; msg.value is the reward. S_0 is computed here from the inputs.
    function requestInference(
        bytes32 modelId,
        InputData[] calldata inputs,
        bytes32[][] calldata s0Paths,
        uint64 challengeWindow,
        uint64 deadline,
        uint8 dissection,
        bool callback
    ) external payable returns (uint256 taskId) {
        Model storage m = _models[modelId];
        if (m.nodes == 0) revert UnknownModel();
        if (challengeWindow < minChallengeWindow) revert BadWindow(challengeWindow, minChallengeWindow);
        if (deadline <= block.timestamp) revert BadDeadline();
        if (dissection < 2 || dissection > MAX_DISSECTION) revert BadDissection();
        taskId = _newTask(modelId, _initialState(m, inputs, s0Paths), challengeWindow, deadline, dissection, callback);
        _emitRequested(taskId, inputs);
    }

    function _newTask(bytes32 modelId, bytes32 s0, uint64 challengeWindow, uint64 deadline, uint8 dissection, bool callback)
        internal
        returns (uint256 taskId)
    {
        taskId = ++taskCount;
        Task storage t = _tasks[taskId];
        t.modelId = modelId;
        t.requester = msg.sender;
        t.challengeWindow = challengeWindow;
        t.dissection = dissection;
        t.callback = callback;
        t.status = TaskStatus.Open;
        t.deadline = deadline;
        t.reward = msg.value;
        t.s0 = s0;
    }

    function _emitRequested(uint256 taskId, InputData[] calldata inputs) internal {
        Task storage t = _tasks[taskId];
        emit InferenceRequested(
            taskId, t.modelId, t.requester, t.reward, t.s0, inputs, t.challengeWindow, t.deadline, t.dissection
        );
    }

    /// S_0: the constant state with each input's commitment written into its (zero) slot, in model order.
    function _initialState(Model storage m, InputData[] calldata inputs, bytes32[][] calldata s0Paths)
        internal
        view
        returns (bytes32 root)
    {
        uint256 n = m.inputs.length;
        if (inputs.length != n) revert BadInputCount(inputs.length, n);
        if (s0Paths.length != n) revert BadInputCount(s0Paths.length, n);
        uint256 depth = Commitments.ceilLog2(m.slots);
        root = m.constantState;
        for (uint256 i = 0; i < n; i++) {
            root = _writeInput(m.inputs[i], inputs[i], s0Paths[i], root, depth, i);
        }
    }

    /// Input i's commitment written into its zero slot under `root` (proved by `path`): the next root.
    function _writeInput(
        IOSpec storage io,
        InputData calldata d,
        bytes32[] calldata path,
        bytes32 root,
        uint256 depth,
        uint256 i
    ) internal view returns (bytes32) {
        if (path.length != depth) revert BadS0Proof(i);
        (bytes32 was, bytes32 next) =
            MerkleLib.rootsFromPacked(bytes32(0), _inputCommitment(io, d, i), io.slot, _pathAt(path), depth);
        if (was != root) revert BadS0Proof(i);
        return next;
    }

    /**
     * c_i = H(dataRoot_i ‖ typeHash_i), the data root computed from the bytes when they are given, which must
     * then be exactly the input's byte length. A given root (bytes elsewhere, at `uri`) is the requester's word.
     */
    function _inputCommitment(IOSpec storage io, InputData calldata d, uint256 i) internal view returns (bytes32) {
        bytes32 dr;
        if (d.data.length != 0) {
            if (d.dataRoot != 0) revert BadInputData(i);
            if (d.data.length != io.byteLength) revert BadInputLength(i, d.data.length, io.byteLength);
            dr = Commitments.dataRoot(d.data);
        } else {
            dr = d.dataRoot;
        }
        return Commitments.tensorCommitment(dr, io.typeHash);
    }

    /**
     * The hash a submitter commits to before revealing its result with submitResult (commit-reveal, §3.2):
     * keccak256(abi.encode(taskId, submitter, finalState, keccak256(abi.encode(outputs)), salt)).
     */
    function resultCommitment(uint256 taskId, address submitter, bytes32 finalState, bytes32 outputsHash, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(taskId, submitter, finalState, outputsHash, salt));
    }

    /// First half of a submission: commit to a result (resultCommitment) without showing it.
    function commitResult(bytes32 commitment) external {
        if (commitment == 0) revert BadCommitment();
        if (commitBlock[commitment] != 0) revert AlreadyCommitted();
        commitBlock[commitment] = block.number;
        emit ResultCommitted(commitment, msg.sender);
    }

    /**
     * Reveal a committed result at least REVEAL_DELAY_BLOCKS after its commitment: the final state S_n and the
     * graph outputs' bytes (each of the output's byte length, bound to its slot under S_n), with the bond.
     */
    function submitResult(
        uint256 taskId,
        bytes32 finalState,
        bytes[] calldata outputs,
        bytes32[][] calldata outPaths,
        bytes32 salt
    ) external payable {
        if (msg.value != submitterBond) revert WrongBond(msg.value, submitterBond);
        Task storage t = _tasks[taskId];
        if (t.status == TaskStatus.None) revert UnknownTask();
        if (t.status != TaskStatus.Open || t.liveSubmission != 0) revert TaskNotOpen();
        if (block.timestamp > t.deadline) revert PastDeadline();
        _checkOutputs(_models[t.modelId], finalState, outputs, outPaths);
        bytes32 outputsHash = keccak256(abi.encode(outputs));
        _consumeCommitment(resultCommitment(taskId, msg.sender, finalState, outputsHash, salt));
        uint256 submissionId = _newSubmission(t, taskId, finalState, outputsHash);
        emit ResultSubmitted(taskId, submissionId, msg.sender, finalState, outputs);
    }

    /// The commitment must be from a block at least REVEAL_DELAY_BLOCKS back; it is used up.
    function _consumeCommitment(bytes32 c) internal {
        uint256 committedAt = commitBlock[c];
        if (committedAt == 0) revert NoCommitment();
        if (block.number < committedAt + REVEAL_DELAY_BLOCKS) {
            revert RevealTooEarly(committedAt, committedAt + REVEAL_DELAY_BLOCKS);
        }
        delete commitBlock[c];
    }

    function _newSubmission(Task storage t, uint256 taskId, bytes32 finalState, bytes32 outputsHash)
        internal
        returns (uint256 submissionId)
    {
        submissionId = ++submissionCount;
        Submission storage s = _submissions[submissionId];
        s.taskId = taskId;
        s.submitter = msg.sender;
        uint256 windowEnd = block.timestamp + t.challengeWindow;
        s.windowEnd = windowEnd > type(uint64).max ? type(uint64).max : uint64(windowEnd);
        s.status = SubmissionStatus.Live;
        s.finalState = finalState;
        s.outputsHash = outputsHash;
        t.liveSubmission = submissionId;
    }

    /// Output j: its byte length, and its commitment H(dataRoot ‖ typeHash) at its slot under the final state.
    function _checkOutputs(Model storage m, bytes32 finalState, bytes[] calldata outputs, bytes32[][] calldata outPaths)
        internal
        view
    {
        uint256 n = m.outputs.length;
        if (outputs.length != n) revert BadOutputCount(outputs.length, n);
        if (outPaths.length != n) revert BadOutputCount(outPaths.length, n);
        uint256 depth = Commitments.ceilLog2(m.slots);
        for (uint256 j = 0; j < n; j++) {
            IOSpec storage io = m.outputs[j];
            if (outputs[j].length != io.byteLength) revert BadOutputLength(j, outputs[j].length, io.byteLength);
            bytes32 c = Commitments.tensorCommitment(Commitments.dataRoot(outputs[j]), io.typeHash);
            bytes32[] calldata path = outPaths[j];
            if (path.length != depth || MerkleLib.rootFromCalldataPath(c, io.slot, path) != finalState) {
                revert BadOutputProof(j);
            }
        }
    }

    /**
     * Dispute the live result `submissionId` of the task, whose final state the challenger names; msg.value
     * is the challenger's bond. A challenge naming a result that is no longer live (rejected, replaced by a
     * resubmission) reverts, so it can never land on another result. Starts a game.
     */
    function challenge(uint256 taskId, uint256 submissionId, bytes32 finalState)
        external
        payable
        returns (uint256 gameId)
    {
        if (msg.value != challengerBond) revert WrongBond(msg.value, challengerBond);
        Task storage t = _tasks[taskId];
        if (t.status == TaskStatus.None) revert UnknownTask();
        uint256 live = t.liveSubmission;
        if (live == 0) revert NoLiveResult();
        if (submissionId != live) revert NotLiveSubmission(submissionId, live);
        Submission storage s = _submissions[live];
        if (s.finalState != finalState) revert FinalStateMismatch();
        if (msg.sender == s.submitter) revert SelfChallenge();
        if (block.timestamp >= s.windowEnd) revert WindowClosed();
        Model storage m = _models[t.modelId];
        gameId = game.create(
            DisputeGame.GameSetup({
                taskId: taskId,
                submitter: s.submitter,
                challenger: msg.sender,
                s0: t.s0,
                sn: finalState,
                recordsRoot: m.recordsRoot,
                nodes: m.nodes,
                slotDepth: uint8(Commitments.ceilLog2(m.slots)),
                dissection: t.dissection
            })
        );
        _gameRecords[gameId] = GameRecord({
            submissionId: live,
            challenger: msg.sender,
            resolved: false,
            submitterWon: false,
            settledLive: false,
            claimed: false
        });
        _gamesOf[live].push(gameId);
        s.openGames++;
        emit Challenged(taskId, live, gameId, msg.sender);
    }

    /**
     * After the window, with every game won by the submitter: the result is final, the submitter is credited
     * reward + bond, and (with callback) the requester's onInferenceResult is called last, gas-capped; its
     * failure does not undo finality.
     */
    function finalize(uint256 taskId, bytes[] calldata outputs) external {
        Task storage t = _tasks[taskId];
        if (t.status == TaskStatus.None) revert UnknownTask();
        uint256 submissionId = t.liveSubmission;
        if (submissionId == 0) revert NoLiveResult();
        Submission storage s = _submissions[submissionId];
        if (block.timestamp < s.windowEnd) revert WindowOpen();
        if (s.openGames != 0) revert OpenGames();
        if (keccak256(abi.encode(outputs)) != s.outputsHash) revert OutputsMismatch();
        s.status = SubmissionStatus.Final;
        t.status = TaskStatus.Final;
        t.liveSubmission = 0;
        t.finalSubmission = submissionId;
        balanceOf[s.submitter] += t.reward + submitterBond;
        emit ResultFinalized(taskId, submissionId);
        if (t.callback) _callback(t.requester, taskId, outputs);
    }

    /**
     * onInferenceResult with CALLBACK_GAS, its return data never copied. The caller must leave enough gas
     * for the callee to get the whole CALLBACK_GAS (the 63/64 rule), so that no one can make a callback fail
     * by starving it.
     */
    function _callback(address requester, uint256 taskId, bytes[] calldata outputs) internal {
        bytes memory data = abi.encodeCall(IOPMLConsumer.onInferenceResult, (taskId, outputs));
        if (gasleft() < CALLBACK_GAS + CALLBACK_GAS / 63 + CALLBACK_RESERVE) revert InsufficientGas();
        bool ok;
        uint256 cap = CALLBACK_GAS;
        assembly ("memory-safe") {
            ok := call(cap, requester, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (!ok) emit CallbackFailed(taskId);
    }

    /**
     * Called by the DisputeGame once per game when it ends. A submitter's win while the result is live takes
     * the challenger's bond. A submitter's loss rejects the result: BURN_BPS of the submitter's bond is burnt,
     * the rest is shared equally by the challengers of every game still open at that moment (this one
     * included), and each of them also gets its own bond back: this game's challenger at once, the others
     * with claimChallengeReward (docs/game.md §3.4).
     */
    function onGameResolved(uint256 gameId, bool submitterWon) external {
        if (msg.sender != address(game)) revert OnlyGame();
        GameRecord storage r = _gameRecords[gameId];
        uint256 submissionId = r.submissionId;
        if (submissionId == 0) revert UnknownGame();
        if (r.resolved) revert AlreadySettled();
        r.resolved = true;
        r.submitterWon = submitterWon;
        Submission storage s = _submissions[submissionId];
        if (s.status != SubmissionStatus.Live) {
            // Rejected by another game first: this challenger is rewarded by claimChallengeReward.
            emit GameSettled(gameId, submissionId, submitterWon, true);
            return;
        }
        r.settledLive = true;
        emit GameSettled(gameId, submissionId, submitterWon, false);
        if (submitterWon) {
            s.openGames--;
            balanceOf[s.submitter] += challengerBond;
            return;
        }
        uint32 rewarded = s.openGames; // the games open now, this one included (≥ 1)
        uint256 share = (submitterBond - submitterBond * BURN_BPS / 10_000) / rewarded;
        s.openGames = 0;
        s.status = SubmissionStatus.Rejected;
        s.rejectedBy = uint64(gameId);
        s.share = uint192(share); // ≤ submitterBond < 2^192 (constructor)
        uint256 taskId = s.taskId;
        _tasks[taskId].liveSubmission = 0;
        r.claimed = true;
        uint256 amount = challengerBond + share;
        balanceOf[r.challenger] += amount;
        emit ResultRejected(taskId, submissionId, gameId, rewarded, share, submitterBond - share * rewarded);
        emit ChallengeRewarded(gameId, r.challenger, amount);
    }

    /**
     * A challenger whose game was still open when another game rejected the result: its bond and its share of
     * the submitter's bond are credited. Anyone may call it; the money goes to the challenger.
     */
    function claimChallengeReward(uint256 gameId) external {
        GameRecord storage r = _gameRecords[gameId];
        if (r.submissionId == 0) revert UnknownGame();
        Submission storage s = _submissions[r.submissionId];
        if (s.status != SubmissionStatus.Rejected || r.settledLive) revert NotRewardable();
        if (r.claimed) revert AlreadyClaimed();
        r.claimed = true;
        uint256 amount = challengerBond + s.share;
        balanceOf[r.challenger] += amount;
        emit ChallengeRewarded(gameId, r.challenger, amount);
    }

    /// After the deadline, a task without a final (or live) result refunds its reward to the requester.
    function reclaim(uint256 taskId) external {
        Task storage t = _tasks[taskId];
        if (t.status == TaskStatus.None) revert UnknownTask();
        if (t.status != TaskStatus.Open) revert TaskNotOpen();
        if (block.timestamp <= t.deadline) revert DeadlineNotPassed();
        if (t.liveSubmission != 0) revert ResultPending();
        t.status = TaskStatus.Reclaimed;
        uint256 amount = t.reward;
        balanceOf[t.requester] += amount;
        emit TaskReclaimed(taskId, t.requester, amount);
    }

    /// Pay out the caller's balance.
    function withdraw() external nonReentrant {
        uint256 amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        balanceOf[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    // ---------------------------------------------------------------------------------------------------
    // Views

    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _models[modelId];
    }

    function isRegistered(bytes32 modelId) external view returns (bool) {
        return _models[modelId].nodes != 0;
    }

    /// Depth of the model's slot tree (the length of every slot path).
    function slotDepth(bytes32 modelId) external view returns (uint256) {
        Model storage m = _models[modelId];
        if (m.nodes == 0) revert UnknownModel();
        return Commitments.ceilLog2(m.slots);
    }

    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    function getSubmission(uint256 submissionId) external view returns (Submission memory) {
        return _submissions[submissionId];
    }

    function gamesOf(uint256 submissionId) external view returns (uint256[] memory) {
        return _gamesOf[submissionId];
    }

    function gameCountOf(uint256 submissionId) external view returns (uint256) {
        return _gamesOf[submissionId].length;
    }

    function getGameRecord(uint256 gameId) external view returns (GameRecord memory) {
        return _gameRecords[gameId];
    }

    /// The data root the contract computes for input or output bytes (docs/commitments.md).
    function dataRootOf(bytes calldata data) external pure returns (bytes32) {
        return Commitments.dataRoot(data);
    }

    function _pathAt(bytes32[] calldata path) internal pure returns (uint256 offset) {
        assembly ("memory-safe") {
            offset := path.offset
        }
    }
}
