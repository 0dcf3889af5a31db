// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TaskCoordinator} from "../TaskCoordinator.sol";
import {IOPMLConsumer} from "../IOPMLConsumer.sol";

/**
 * @title FashionMnistConsumer — an example requester (docs/game.md §6)
 * @notice Asks the task coordinator to classify a 28×28 Fashion-MNIST image (784 float32, little-endian,
 * 3136 bytes; the model's one input) with `callback = true`, and when the result is final records the
 * arg-max class of the float32 logits of output 0 (10 classes, 40 bytes).
 *
 * Comparing IEEE binary32 values needs no float code: a bit pattern b maps to the unsigned key
 * `b ^ 0x80000000` when the sign bit is clear and `~b` when it is set, and keys compare as the floats do
 * (−0 just below +0; NaN logits are skipped). Ties go to the lowest class.
 */
contract FashionMnistConsumer is IOPMLConsumer {
    uint256 public constant CLASSES = 10;
    uint256 public constant IMAGE_BYTES = 28 * 28 * 4;

    struct Classification {
        bool requested;
        bool answered;
        bool refunded;
        uint8 label;
        uint32 logitBits; // the winning logit's bit pattern
        address payer; // who paid the reward, and gets it back if the task is never answered
    }

    TaskCoordinator public immutable coordinator;
    bytes32 public immutable modelId;
    /// Every request's challenge window: fixed at deployment, never the caller's choice.
    uint64 public immutable challengeWindow;

    mapping(uint256 => Classification) public classifications;
    /// Rewards of unanswered tasks, owed to their payers (withdrawRefund).
    mapping(address => uint256) public refunds;
    uint256 public lastTaskId;

    event ClassificationRequested(uint256 indexed taskId, address indexed by);
    event Classified(uint256 indexed taskId, uint8 label, uint32 logitBits);
    event Refunded(uint256 indexed taskId, address indexed payer, uint256 amount);

    error OnlyCoordinator();
    error UnknownRequest();
    error AlreadyAnswered();
    error AlreadyRefunded();
    error NotReclaimable();
    error NothingToWithdraw();
    error BadWindow(uint64 got, uint64 min);
    error BadImage();
    error BadLogits();
    error UnknownLabel();
    error TransferFailed();

    /// `challengeWindow_` must be at least the coordinator's minimum (a public chain's: days).
    constructor(TaskCoordinator coordinator_, bytes32 modelId_, uint64 challengeWindow_) {
        uint64 min = coordinator_.minChallengeWindow();
        if (challengeWindow_ < min) revert BadWindow(challengeWindow_, min);
        coordinator = coordinator_;
        modelId = modelId_;
        challengeWindow = challengeWindow_;
    }

    /**
     * Request a classification; msg.value is the reward. `s0Path` proves the (zero) input slot under the
     * model's constant state (the slot tree's sibling path, bottom first).
     */
    function classify(bytes calldata image, bytes32[] calldata s0Path, uint64 deadline, uint8 dissection)
        external
        payable
        returns (uint256 taskId)
    {
        if (image.length != IMAGE_BYTES) revert BadImage();
        TaskCoordinator.InputData[] memory inputs = new TaskCoordinator.InputData[](1);
        inputs[0] = TaskCoordinator.InputData({data: image, dataRoot: bytes32(0), uri: ""});
        bytes32[][] memory paths = new bytes32[][](1);
        paths[0] = s0Path;
        taskId = coordinator.requestInference{value: msg.value}(modelId, inputs, paths, challengeWindow, deadline, dissection, true);
        Classification storage c = classifications[taskId];
        c.requested = true;
        c.payer = msg.sender;
        lastTaskId = taskId;
        emit ClassificationRequested(taskId, msg.sender);
    }

    /// The coordinator's callback: record the arg-max class of output 0's logits.
    function onInferenceResult(uint256 taskId, bytes[] calldata outputs) external {
        if (msg.sender != address(coordinator)) revert OnlyCoordinator();
        Classification storage c = classifications[taskId];
        if (!c.requested) revert UnknownRequest();
        if (c.answered) revert AlreadyAnswered();
        if (outputs.length == 0) revert BadLogits();
        (uint8 label, uint32 bits) = argmax(outputs[0]);
        c.answered = true;
        c.label = label;
        c.logitBits = bits;
        emit Classified(taskId, label, bits);
    }

    /// Arg-max of 10 little-endian float32 logits (NaNs skipped; ties to the lowest index).
    function argmax(bytes calldata logits) public pure returns (uint8 label, uint32 bits) {
        if (logits.length != 4 * CLASSES) revert BadLogits();
        uint256 bestKey = 0;
        bool found = false;
        for (uint256 i = 0; i < CLASSES; i++) {
            uint32 b = uint32(uint8(logits[4 * i])) | (uint32(uint8(logits[4 * i + 1])) << 8)
                | (uint32(uint8(logits[4 * i + 2])) << 16) | (uint32(uint8(logits[4 * i + 3])) << 24);
            if (b & 0x7fffffff > 0x7f800000) continue; // NaN
            uint256 key = sortKey(b);
            if (!found || key > bestKey) {
                found = true;
                bestKey = key;
                label = uint8(i);
                bits = b;
            }
        }
        if (!found) revert BadLogits();
    }

    /// An unsigned key whose order is the order of the binary32 values (−0 < +0).
    function sortKey(uint32 b) public pure returns (uint256) {
        return b & 0x80000000 != 0 ? uint256(~b) : uint256(b ^ 0x80000000);
    }

    /// The Fashion-MNIST class names.
    function labelName(uint8 label) external pure returns (string memory) {
        if (label >= CLASSES) revert UnknownLabel();
        string[10] memory names =
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
        return names[label];
    }

    /**
     * After the deadline of a task that got no final result, anyone may send its reward back to the one who
     * paid it: it is reclaimed from the coordinator (unless someone already did) and owed to the payer, who
     * takes it with withdrawRefund.
     */
    function reclaim(uint256 taskId) external {
        Classification storage c = classifications[taskId];
        if (!c.requested) revert UnknownRequest();
        if (c.refunded) revert AlreadyRefunded();
        TaskCoordinator.Task memory t = coordinator.getTask(taskId);
        bool open = t.status == TaskCoordinator.TaskStatus.Open;
        if (!open && t.status != TaskCoordinator.TaskStatus.Reclaimed) revert NotReclaimable();
        c.refunded = true;
        refunds[c.payer] += t.reward;
        emit Refunded(taskId, c.payer, t.reward);
        if (open) coordinator.reclaim(taskId); // reverts unless the deadline passed with no live result
        if (coordinator.balanceOf(address(this)) != 0) coordinator.withdraw();
    }

    /// Pay out the caller's refunds.
    function withdrawRefund() external {
        uint256 amount = refunds[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        refunds[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    receive() external payable {
        if (msg.sender != address(coordinator)) revert OnlyCoordinator();
    }
}
