// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Synth} from "./Synth.sol";
import {TaskCoordinator} from "../../src/TaskCoordinator.sol";
import {DisputeGame} from "../../src/DisputeGame.sol";
import {OPVM} from "../../src/OPVM.sol";

/// A coordinator with its game and the real OPVM, the synthetic model registered, funded parties, helpers.
abstract contract CoordinatorBase is Synth {
    uint256 internal constant SUB_BOND = 1 ether;
    uint256 internal constant CHAL_BOND = 0.4 ether;
    uint256 internal constant REWARD = 0.25 ether;
    uint64 internal constant CLOCK = 1 hours;
    uint64 internal constant WINDOW = 1 days;

    address internal constant REQ = address(0x1e9);
    address internal constant SUB = address(0x5b);
    address internal constant SUB2 = address(0x5b2);
    address internal constant CHAL = address(0xc4);
    address internal constant CHAL2 = address(0xc42);

    OPVM internal opvm;
    TaskCoordinator internal coord;
    DisputeGame internal game;
    bytes32 internal modelId;
    uint64 internal deadline;

    function setUp() public virtual {
        hevm.warp(1_700_000_000);
        opvm = new OPVM();
        coord = new TaskCoordinator(SUB_BOND, CHAL_BOND, CLOCK, opvm);
        game = coord.game();
        modelId = coord.registerModel(modelSpec(), "ipfs://synth");
        deadline = uint64(block.timestamp + 7 days);
        hevm.deal(REQ, 100 ether);
        hevm.deal(SUB, 100 ether);
        hevm.deal(SUB2, 100 ether);
        hevm.deal(CHAL, 100 ether);
        hevm.deal(CHAL2, 100 ether);
        hevm.deal(address(this), 100 ether);
    }

    // ---------------------------------------------------------------------------------------------------
    // Helpers

    function request() internal returns (uint256) {
        return requestK(2);
    }

    function requestK(uint8 k) internal returns (uint256) {
        hevm.prank(REQ);
        return coord.requestInference{value: REWARD}(modelId, inputs(), s0Paths(), WINDOW, deadline, k, false);
    }

    function submit(uint256 taskId, address who, Trace memory tr) internal returns (uint256) {
        (bytes[] memory o, bytes32[][] memory paths) = outputsOf(tr);
        hevm.prank(who);
        coord.submitResult{value: SUB_BOND}(taskId, tr.states[NODES], o, paths);
        return coord.submissionCount();
    }

    function challengeBy(uint256 taskId, address who) internal returns (uint256) {
        hevm.prank(who);
        return coord.challenge{value: CHAL_BOND}(taskId);
    }

    function outs(Trace memory tr) internal pure returns (bytes[] memory o) {
        (o,) = outputsOf(tr);
    }

    function sub_(uint256 id) internal view returns (TaskCoordinator.Submission memory) {
        return coord.getSubmission(id);
    }

    function task_(uint256 id) internal view returns (TaskCoordinator.Task memory) {
        return coord.getTask(id);
    }

}
