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

    struct ModelSpec {
        bytes32 recordsRoot;
        uint32 nodes;
        bytes32 constantState;
        uint32 slots;
        uint32[] inSlots;
        bytes32[] inTypes;
        uint32[] outSlots;
        bytes32[] outTypes;
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
        uint256 rejectedBy; // the game the submitter lost
    }

    struct GameRecord {
        uint256 submissionId;
        address challenger;
        bool resolved; // onGameResolved was called
        bool submitterWon;
        bool paid; // settled while its submission was live (not void)
        bool reclaimed; // void challenge bond taken back
    }

    // ---------------------------------------------------------------------------------------------------
    // Constants, immutables, storage

    uint256 public constant MAX_IO = 16;
    uint256 public constant MAX_DISSECTION = 16;
    /// Gas given to IOPMLConsumer.onInferenceResult.
    uint256 public constant CALLBACK_GAS = 300_000;
    /// Gas finalize keeps beyond the callback's share (the call itself, the 1/64 rule's remainder).
    uint256 internal constant CALLBACK_RESERVE = 10_000;

    uint256 public immutable submitterBond;
    uint256 public immutable challengerBond;
    uint64 public immutable clockSeconds;
    IOPVM public immutable verifier;
    DisputeGame public immutable game;

    mapping(bytes32 => ModelSpec) internal _models;
    uint256 public taskCount;
    mapping(uint256 => Task) internal _tasks;
    uint256 public submissionCount;
    mapping(uint256 => Submission) internal _submissions;
    mapping(uint256 => uint256[]) internal _gamesOf; // submission id → game ids
    mapping(uint256 => GameRecord) internal _gameRecords; // game id → record
    mapping(address => uint256) public balanceOf;

    bool private transient _locked;

    // ---------------------------------------------------------------------------------------------------
    // Events

    event ModelRegistered(
        bytes32 indexed modelId, bytes32 recordsRoot, uint32 nodes, bytes32 constantState, uint32 slots, string uri
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
    event ResultSubmitted(
        uint256 indexed taskId, uint256 indexed submissionId, address indexed submitter, bytes32 finalState, bytes[] outputs
    );
    event Challenged(uint256 indexed taskId, uint256 indexed submissionId, uint256 indexed gameId, address challenger);
    event ResultFinalized(uint256 indexed taskId, uint256 indexed submissionId);
    /// The submitter lost `gameId`: the result is rejected and the task reopens.
    event ResultRejected(uint256 indexed taskId, uint256 indexed submissionId, uint256 indexed gameId);
    /// A game's outcome reached the coordinator; `isVoid`: its result had already been rejected (no payout).
    event GameSettled(uint256 indexed gameId, uint256 indexed submissionId, bool submitterWon, bool isVoid);
    event ChallengeReclaimed(uint256 indexed gameId, address indexed challenger, uint256 amount);
    event TaskReclaimed(uint256 indexed taskId, address indexed requester, uint256 amount);
    event CallbackFailed(uint256 indexed taskId);
    event Withdrawn(address indexed account, uint256 amount);

    // ---------------------------------------------------------------------------------------------------
    // Errors

    error ModelExists();
    error BadModel();
    error UnknownModel();
    error BadInputCount(uint256 got, uint256 want);
    error BadInputData(uint256 i);
    error BadS0Proof(uint256 i);
    error BadWindow();
    error BadDeadline();
    error BadDissection();
    error UnknownTask();
    error WrongBond(uint256 sent, uint256 want);
    error TaskNotOpen();
    error PastDeadline();
    error BadOutputCount(uint256 got, uint256 want);
    error BadOutputProof(uint256 j);
    error NoLiveResult();
    error WindowClosed();
    error WindowOpen();
    error OpenGames();
    error OutputsMismatch();
    error InsufficientGas();
    error OnlyGame();
    error UnknownGame();
    error AlreadySettled();
    error NotVoid();
    error AlreadyReclaimed();
    error DeadlineNotPassed();
    error ResultPending();
    error NothingToWithdraw();
    error TransferFailed();
    error Reentrancy();

    // ---------------------------------------------------------------------------------------------------

    /// Deploys this coordinator's DisputeGame (`game()`), whose games call back onGameResolved.
    constructor(uint256 submitterBond_, uint256 challengerBond_, uint64 clockSeconds_, IOPVM verifier_) {
        submitterBond = submitterBond_;
        challengerBond = challengerBond_;
        clockSeconds = clockSeconds_;
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

    /// Register a model by its commitment M, computed here from the spec.
    function registerModel(ModelSpec calldata spec, string calldata uri) external returns (bytes32 modelId) {
        uint256 nIn = spec.inSlots.length;
        uint256 nOut = spec.outSlots.length;
        if (
            spec.nodes == 0 || spec.slots == 0 || nIn > MAX_IO || nOut > MAX_IO || spec.inTypes.length != nIn
                || spec.outTypes.length != nOut
        ) revert BadModel();
        for (uint256 i = 0; i < nIn; i++) {
            if (spec.inSlots[i] >= spec.slots) revert BadModel();
        }
        for (uint256 j = 0; j < nOut; j++) {
            if (spec.outSlots[j] >= spec.slots) revert BadModel();
        }
        bytes32 io = Commitments.ioHash(spec.inSlots, spec.inTypes, spec.outSlots, spec.outTypes);
        modelId = Commitments.modelCommitment(spec.recordsRoot, spec.nodes, spec.constantState, spec.slots, io);
        if (_models[modelId].nodes != 0) revert ModelExists();
        _models[modelId] = spec;
        emit ModelRegistered(modelId, spec.recordsRoot, spec.nodes, spec.constantState, spec.slots, uri);
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
        ModelSpec storage m = _models[modelId];
        if (m.nodes == 0) revert UnknownModel();
        if (challengeWindow == 0) revert BadWindow();
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
    function _initialState(ModelSpec storage m, InputData[] calldata inputs, bytes32[][] calldata s0Paths)
        internal
        view
        returns (bytes32 root)
    {
        uint256 n = m.inSlots.length;
        if (inputs.length != n) revert BadInputCount(inputs.length, n);
        if (s0Paths.length != n) revert BadInputCount(s0Paths.length, n);
        uint256 depth = Commitments.ceilLog2(m.slots);
        root = m.constantState;
        for (uint256 i = 0; i < n; i++) {
            bytes32[] calldata path = s0Paths[i];
            if (path.length != depth) revert BadS0Proof(i);
            (bytes32 was, bytes32 next) =
                MerkleLib.rootsFromPacked(bytes32(0), _inputCommitment(m, inputs[i], i), m.inSlots[i], _pathAt(path), depth);
            if (was != root) revert BadS0Proof(i);
            root = next;
        }
    }

    /// c_i = H(dataRoot_i ‖ inTypes[i]), the data root computed from the bytes when they are given.
    function _inputCommitment(ModelSpec storage m, InputData calldata d, uint256 i) internal view returns (bytes32) {
        bytes32 dr;
        if (d.data.length != 0) {
            if (d.dataRoot != 0) revert BadInputData(i);
            dr = Commitments.dataRoot(d.data);
        } else {
            dr = d.dataRoot;
        }
        return Commitments.tensorCommitment(dr, m.inTypes[i]);
    }

    /// Post a result: the final state S_n and the graph outputs' bytes, each bound to its slot under S_n.
    function submitResult(uint256 taskId, bytes32 finalState, bytes[] calldata outputs, bytes32[][] calldata outPaths)
        external
        payable
    {
        if (msg.value != submitterBond) revert WrongBond(msg.value, submitterBond);
        Task storage t = _tasks[taskId];
        if (t.status == TaskStatus.None) revert UnknownTask();
        if (t.status != TaskStatus.Open || t.liveSubmission != 0) revert TaskNotOpen();
        if (block.timestamp > t.deadline) revert PastDeadline();
        _checkOutputs(_models[t.modelId], finalState, outputs, outPaths);
        uint256 submissionId = ++submissionCount;
        Submission storage s = _submissions[submissionId];
        s.taskId = taskId;
        s.submitter = msg.sender;
        uint256 windowEnd = block.timestamp + t.challengeWindow;
        s.windowEnd = windowEnd > type(uint64).max ? type(uint64).max : uint64(windowEnd);
        s.status = SubmissionStatus.Live;
        s.finalState = finalState;
        s.outputsHash = keccak256(abi.encode(outputs));
        t.liveSubmission = submissionId;
        emit ResultSubmitted(taskId, submissionId, msg.sender, finalState, outputs);
    }

    /// Output j's commitment H(dataRoot(outputs[j]) ‖ outTypes[j]) at outSlots[j] under the final state.
    function _checkOutputs(ModelSpec storage m, bytes32 finalState, bytes[] calldata outputs, bytes32[][] calldata outPaths)
        internal
        view
    {
        uint256 n = m.outSlots.length;
        if (outputs.length != n) revert BadOutputCount(outputs.length, n);
        if (outPaths.length != n) revert BadOutputCount(outPaths.length, n);
        uint256 depth = Commitments.ceilLog2(m.slots);
        for (uint256 j = 0; j < n; j++) {
            bytes32 c = Commitments.tensorCommitment(Commitments.dataRoot(outputs[j]), m.outTypes[j]);
            bytes32[] calldata path = outPaths[j];
            if (path.length != depth || MerkleLib.rootFromCalldataPath(c, m.outSlots[j], path) != finalState) {
                revert BadOutputProof(j);
            }
        }
    }

    /// Dispute the live result; msg.value is the challenger's bond. Starts a game.
    function challenge(uint256 taskId) external payable returns (uint256 gameId) {
        if (msg.value != challengerBond) revert WrongBond(msg.value, challengerBond);
        Task storage t = _tasks[taskId];
        if (t.status == TaskStatus.None) revert UnknownTask();
        uint256 submissionId = t.liveSubmission;
        if (submissionId == 0) revert NoLiveResult();
        Submission storage s = _submissions[submissionId];
        if (block.timestamp >= s.windowEnd) revert WindowClosed();
        ModelSpec storage m = _models[t.modelId];
        gameId = game.create(
            DisputeGame.GameSetup({
                taskId: taskId,
                submitter: s.submitter,
                challenger: msg.sender,
                s0: t.s0,
                sn: s.finalState,
                recordsRoot: m.recordsRoot,
                nodes: m.nodes,
                slotDepth: uint8(Commitments.ceilLog2(m.slots)),
                dissection: t.dissection
            })
        );
        _gameRecords[gameId] = GameRecord({
            submissionId: submissionId,
            challenger: msg.sender,
            resolved: false,
            submitterWon: false,
            paid: false,
            reclaimed: false
        });
        _gamesOf[submissionId].push(gameId);
        s.openGames++;
        emit Challenged(taskId, submissionId, gameId, msg.sender);
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

    /// Called by the DisputeGame once per game when it ends.
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
            // The result was rejected by another game: this one is void (reclaimVoidChallenge).
            emit GameSettled(gameId, submissionId, submitterWon, true);
            return;
        }
        r.paid = true;
        s.openGames--;
        emit GameSettled(gameId, submissionId, submitterWon, false);
        if (submitterWon) {
            balanceOf[s.submitter] += challengerBond;
        } else {
            s.status = SubmissionStatus.Rejected;
            s.rejectedBy = gameId;
            uint256 taskId = s.taskId;
            _tasks[taskId].liveSubmission = 0;
            balanceOf[r.challenger] += submitterBond + challengerBond;
            emit ResultRejected(taskId, submissionId, gameId);
        }
    }

    /// A challenge whose result another game rejected before it was settled: its bond goes back.
    function reclaimVoidChallenge(uint256 gameId) external {
        GameRecord storage r = _gameRecords[gameId];
        if (r.submissionId == 0) revert UnknownGame();
        if (_submissions[r.submissionId].status != SubmissionStatus.Rejected || r.paid) revert NotVoid();
        if (r.reclaimed) revert AlreadyReclaimed();
        r.reclaimed = true;
        balanceOf[r.challenger] += challengerBond;
        emit ChallengeReclaimed(gameId, r.challenger, challengerBond);
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

    function getModel(bytes32 modelId) external view returns (ModelSpec memory) {
        return _models[modelId];
    }

    function isRegistered(bytes32 modelId) external view returns (bool) {
        return _models[modelId].nodes != 0;
    }

    /// Depth of the model's slot tree (the length of every slot path).
    function slotDepth(bytes32 modelId) external view returns (uint256) {
        ModelSpec storage m = _models[modelId];
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
