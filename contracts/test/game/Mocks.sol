// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOPVM} from "../../src/IOPVM.sol";
import {IOPMLConsumer} from "../../src/IOPMLConsumer.sol";
import {TaskCoordinator} from "../../src/TaskCoordinator.sol";
import {FashionMnistConsumer} from "../../src/examples/FashionMnistConsumer.sol";

/// A verifier that returns a configured post-state (or reverts): for game-logic unit tests only.
contract MockVerifier is IOPVM {
    bytes32 public post;
    bool public fail;
    bytes32 public lastPre;

    function set(bytes32 post_, bool fail_) external {
        post = post_;
        fail = fail_;
    }

    function step(bytes32 pre, bytes calldata) external view returns (bytes32) {
        pre;
        if (fail) revert BadPreState();
        return post;
    }
}

/// Receives its payout and tries to withdraw again from inside receive().
contract ReentrantReceiver {
    TaskCoordinator public immutable coordinator;
    uint256 public attempts;
    bool public reentryReverted;
    bytes public reentryError;

    constructor(TaskCoordinator c) {
        coordinator = c;
    }

    function pull() external {
        coordinator.withdraw();
    }

    function challenge(uint256 taskId, uint256 submissionId, bytes32 finalState) external payable returns (uint256) {
        return coordinator.challenge{value: msg.value}(taskId, submissionId, finalState);
    }

    receive() external payable {
        attempts++;
        if (attempts == 1) {
            try coordinator.withdraw() {
                reentryReverted = false;
            } catch (bytes memory err) {
                reentryReverted = true;
                reentryError = err;
            }
        }
    }
}

/// A receiver that refuses ether.
contract RejectingReceiver {
    TaskCoordinator public immutable coordinator;

    constructor(TaskCoordinator c) {
        coordinator = c;
    }

    function challenge(uint256 taskId, uint256 submissionId, bytes32 finalState) external payable returns (uint256) {
        return coordinator.challenge{value: msg.value}(taskId, submissionId, finalState);
    }

    function pull() external {
        coordinator.withdraw();
    }

    receive() external payable {
        revert("no thanks");
    }
}

/// Consumers that misbehave in their callback.
contract MisbehavingConsumer is IOPMLConsumer {
    enum Mode {
        Revert,
        BurnGas,
        ReturnBomb,
        Record
    }

    TaskCoordinator public immutable coordinator;
    Mode public mode;
    uint256 public calls;
    uint256 public lastTaskId;
    bytes public lastOutput0;

    constructor(TaskCoordinator c, Mode m) {
        coordinator = c;
        mode = m;
    }

    function request(
        bytes32 modelId,
        TaskCoordinator.InputData[] calldata inputs,
        bytes32[][] calldata paths,
        uint64 window,
        uint64 deadline
    ) external payable returns (uint256) {
        return coordinator.requestInference{value: msg.value}(modelId, inputs, paths, window, deadline, 2, true);
    }

    function onInferenceResult(uint256 taskId, bytes[] calldata outputs) external {
        if (mode == Mode.Revert) revert("consumer says no");
        if (mode == Mode.BurnGas) {
            uint256 x;
            while (true) x = uint256(keccak256(abi.encode(x)));
        }
        if (mode == Mode.ReturnBomb) {
            assembly {
                return(0, 1000000)
            }
        }
        calls++;
        lastTaskId = taskId;
        lastOutput0 = outputs[0];
    }
}

/// Pays for a FashionMnistConsumer request and refuses ether: its refund transfer fails.
contract RejectingPayer {
    FashionMnistConsumer public immutable consumer;

    constructor(FashionMnistConsumer c) {
        consumer = c;
    }

    function classify(bytes calldata image, bytes32[] calldata s0Path, uint64 deadline) external payable returns (uint256) {
        return consumer.classify{value: msg.value}(image, s0Path, deadline, 2);
    }

    function withdrawRefund() external {
        consumer.withdrawRefund();
    }

    receive() external payable {
        revert("no thanks");
    }
}
