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
    uint64 internal constant MIN_WINDOW = 1 hours;

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
        coord = new TaskCoordinator(SUB_BOND, CHAL_BOND, CLOCK, MIN_WINDOW, opvm);
        game = coord.game();
        modelId = coord.registerModel(modelSpec(), MODEL_URI);
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

    bytes32 internal constant SALT = keccak256("salt");

    /// Commit to the trace's result as `who` (commit-reveal, first half).
    function commitAs(uint256 taskId, address who, Trace memory tr) internal returns (bytes32 c) {
        (bytes[] memory o,) = outputsOf(tr);
        c = coord.resultCommitment(taskId, who, tr.states[NODES], keccak256(abi.encode(o)), SALT);
        hevm.prank(who);
        coord.commitResult(c);
    }

    /// Reveal the trace's result as `who` (submitResult), with its bond.
    function reveal(uint256 taskId, address who, Trace memory tr) internal returns (uint256) {
        (bytes[] memory o, bytes32[][] memory paths) = outputsOf(tr);
        hevm.prank(who);
        coord.submitResult{value: SUB_BOND}(taskId, tr.states[NODES], o, paths, SALT);
        return coord.submissionCount();
    }

    /// Commit, let a block pass, reveal.
    function submit(uint256 taskId, address who, Trace memory tr) internal returns (uint256) {
        commitAs(taskId, who, tr);
        hevm.roll(block.number + 1);
        return reveal(taskId, who, tr);
    }

    /// Challenge the task's live result (named by id and final state).
    function challengeBy(uint256 taskId, address who) internal returns (uint256) {
        uint256 live = coord.getTask(taskId).liveSubmission;
        bytes32 sn = coord.getSubmission(live).finalState;
        hevm.prank(who);
        return coord.challenge{value: CHAL_BOND}(taskId, live, sn);
    }

    /// Each rewarded challenger's share of a rejected submitter's bond when `n` games were open.
    function shareOf(uint256 n) internal pure returns (uint256) {
        return (SUB_BOND - SUB_BOND * 5_000 / 10_000) / n;
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
