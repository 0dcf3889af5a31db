// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoordinatorBase} from "./game/CoordinatorBase.sol";
import {Sparse} from "./game/Sparse.sol";
import {ReentrantReceiver, RejectingReceiver} from "./game/Mocks.sol";
import {TaskCoordinator} from "../src/TaskCoordinator.sol";
import {DisputeGame} from "../src/DisputeGame.sol";
import {OPVM} from "../src/OPVM.sol";

/**
 * The task coordinator (docs/game.md §1–3) with its DisputeGame and the real OPVM verifier: models, tasks,
 * results, challenges, settlement, reopening, void challenges, refunds and withdrawals, against the
 * synthetic model of test/game/Synth.sol.
 */
contract TaskCoordinatorTest is CoordinatorBase {
    // ---------------------------------------------------------------------------------------------------
    // registerModel

    function test_registerModel() public {
        TaskCoordinator.ModelSpec memory s = modelSpec();
        assertEq(modelId, modelIdOf(s, MODEL_URI), "model commitment and uri, computed on chain");
        assertTrue(coord.isRegistered(modelId), "registered");
        assertEq(coord.slotDepth(modelId), SLOT_DEPTH, "slot depth");
        TaskCoordinator.Model memory got = coord.getModel(modelId);
        assertEq(got.commitment, commitmentOf(s), "commitment");
        assertEq(got.recordsRoot, s.recordsRoot, "records root");
        assertEq(got.nodes, NODES, "nodes");
        assertEq(got.constantState, s.constantState, "constant state");
        assertEq(got.slots, SLOTS, "slots");
        assertEq(got.outputs.length, 2, "outputs");
        assertEq(got.outputs[0].slot, 4, "output 0");
        assertEq(got.outputs[1].typeHash, slotType(2), "output 1 type hash, computed on chain from dtype and shape");
        assertEq(got.outputs[1].byteLength, 8, "output 1 byte length");
        assertEq(got.outputs[1].dtype, INT64, "output 1 dtype");
        assertEq(got.inputs[0].byteLength, 8 * X_LEN, "input byte length");
        // the same model at another URI is another registration; events carry the fields
        bytes32 id = modelIdOf(s, "uri");
        assertTrue(id != modelId, "the URI is bound to the id");
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.ModelRegistered(id, commitmentOf(s), s.recordsRoot, s.nodes, s.constantState, s.slots, "uri");
        assertEq(coord.registerModel(s, "uri"), id, "returned id");
        assertEq(coord.modelIdOf(commitmentOf(s), "uri"), id, "modelIdOf");
    }

    function test_registerModel_exists() public {
        TaskCoordinator.ModelSpec memory s = modelSpec();
        vm.expectRevert(TaskCoordinator.ModelExists.selector);
        coord.registerModel(s, MODEL_URI);
    }

    function test_registerModel_bad() public {
        TaskCoordinator.ModelSpec memory s = modelSpec();
        s.nodes = 0;
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        s = modelSpec();
        s.slots = 0;
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        s = modelSpec();
        s.inTypes = new TaskCoordinator.TensorType[](2);
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        s = modelSpec();
        s.outTypes = new TaskCoordinator.TensorType[](1);
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        // an unknown dtype code; a rank above MAX_RANK; a byte length above 2^64 − 1
        s = modelSpec();
        s.inTypes[0].dtype = 8;
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        s = modelSpec();
        s.outTypes[0].dims = new uint64[](17);
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        s = modelSpec();
        s.inTypes[0].dims[0] = type(uint64).max / 4;
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        s = modelSpec();
        s.inSlots = new uint32[](17);
        s.inTypes = new TaskCoordinator.TensorType[](17);
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        s = modelSpec();
        s.inSlots[0] = uint32(SLOTS);
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
        s = modelSpec();
        s.outSlots[1] = uint32(SLOTS + 100);
        vm.expectRevert(TaskCoordinator.BadModel.selector);
        coord.registerModel(s, "");
    }

    // ---------------------------------------------------------------------------------------------------
    // requestInference

    function test_requestInference() public {
        Trace memory h = honest();
        TaskCoordinator.InputData[] memory ins = inputs();
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.InferenceRequested(1, modelId, REQ, REWARD, h.states[0], ins, WINDOW, deadline, 3);
        hevm.prank(REQ);
        uint256 taskId = coord.requestInference{value: REWARD}(modelId, ins, s0Paths(), WINDOW, deadline, 3, true);
        assertEq(taskId, 1, "first task");
        TaskCoordinator.Task memory t = task_(taskId);
        assertEq(t.s0, h.states[0], "S_0 computed on chain");
        assertEq(t.modelId, modelId, "model");
        assertEq(t.requester, REQ, "requester");
        assertEq(t.reward, REWARD, "reward");
        assertEq(t.dissection, 3, "k");
        assertEq(t.callback, true, "callback");
        assertEq(t.deadline, deadline, "deadline");
        assertEq(t.challengeWindow, WINDOW, "window");
        assertEq(uint256(t.status), uint256(TaskCoordinator.TaskStatus.Open), "open");
        assertEq(address(coord).balance, REWARD, "reward held");
    }

    /// A large input given by its data root (and a uri) instead of its bytes: the same S_0.
    function test_requestInference_byDataRoot() public {
        TaskCoordinator.InputData[] memory ins = new TaskCoordinator.InputData[](1);
        ins[0] = TaskCoordinator.InputData({data: "", dataRoot: Sparse.dataRoot(inputX()), uri: "ipfs://x"});
        hevm.prank(REQ);
        uint256 taskId = coord.requestInference(modelId, ins, s0Paths(), WINDOW, deadline, 2, false);
        assertEq(task_(taskId).s0, honest().states[0], "S_0");
        assertEq(task_(taskId).reward, 0, "no reward is fine");
    }

    function test_requestInference_errors() public {
        TaskCoordinator.InputData[] memory ins = inputs();
        bytes32[][] memory p = s0Paths();
        vm.expectRevert(TaskCoordinator.UnknownModel.selector);
        coord.requestInference(keccak256("nope"), ins, p, WINDOW, deadline, 2, false);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadWindow.selector, 0, MIN_WINDOW));
        coord.requestInference(modelId, ins, p, 0, deadline, 2, false);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadWindow.selector, MIN_WINDOW - 1, MIN_WINDOW));
        coord.requestInference(modelId, ins, p, MIN_WINDOW - 1, deadline, 2, false);
        vm.expectRevert(TaskCoordinator.BadDeadline.selector);
        coord.requestInference(modelId, ins, p, WINDOW, uint64(block.timestamp), 2, false);
        vm.expectRevert(TaskCoordinator.BadDissection.selector);
        coord.requestInference(modelId, ins, p, WINDOW, deadline, 1, false);
        vm.expectRevert(TaskCoordinator.BadDissection.selector);
        coord.requestInference(modelId, ins, p, WINDOW, deadline, 17, false);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadInputCount.selector, 0, 1));
        coord.requestInference(modelId, new TaskCoordinator.InputData[](0), p, WINDOW, deadline, 2, false);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadInputCount.selector, 2, 1));
        coord.requestInference(modelId, ins, new bytes32[][](2), WINDOW, deadline, 2, false);
        // bytes and a data root at once
        ins[0].dataRoot = bytes32(uint256(1));
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadInputData.selector, 0));
        coord.requestInference(modelId, ins, p, WINDOW, deadline, 2, false);
        ins = inputs();
        // input bytes of another length than the model's input type (zero padding is not the same tensor)
        ins[0].data = bytes.concat(inputX(), new bytes(8));
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadInputLength.selector, 0, 8 * X_LEN + 8, 8 * X_LEN));
        coord.requestInference(modelId, ins, p, WINDOW, deadline, 2, false);
        ins[0].data = new bytes(7);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadInputLength.selector, 0, 7, 8 * X_LEN));
        coord.requestInference(modelId, ins, p, WINDOW, deadline, 2, false);
        ins = inputs();
        // a path of the wrong length, a forged path
        bytes32[][] memory short = new bytes32[][](1);
        short[0] = new bytes32[](2);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadS0Proof.selector, 0));
        coord.requestInference(modelId, ins, short, WINDOW, deadline, 2, false);
        p[0][1] = bytes32(uint256(p[0][1]) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadS0Proof.selector, 0));
        coord.requestInference(modelId, ins, p, WINDOW, deadline, 2, false);
    }

    /// The input slot must be zero in the constant state: a model whose constant state fills slot 0 fails.
    function test_requestInference_inputSlotNotEmpty() public {
        TaskCoordinator.ModelSpec memory s = modelSpec();
        Sparse.Tree memory t = constantTree();
        Sparse.set(t, 0, keccak256("something"));
        s.constantState = Sparse.root(t);
        bytes32 id = coord.registerModel(s, "");
        bytes32[][] memory p = new bytes32[][](1);
        p[0] = Sparse.path(t, 0);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadS0Proof.selector, 0));
        coord.requestInference(id, inputs(), p, WINDOW, deadline, 2, false);
    }

    // ---------------------------------------------------------------------------------------------------
    // submitResult

    function test_submitResult() public {
        uint256 taskId = request();
        Trace memory h = honest();
        (bytes[] memory o, bytes32[][] memory paths) = outputsOf(h);
        bytes32 c = coord.resultCommitment(taskId, SUB, h.states[NODES], keccak256(abi.encode(o)), SALT);
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.ResultCommitted(c, SUB);
        assertEq(commitAs(taskId, SUB, h), c, "commitment");
        assertEq(coord.commitBlock(c), block.number, "committed now");
        hevm.roll(block.number + 1);
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.ResultSubmitted(taskId, 1, SUB, h.states[NODES], o);
        hevm.prank(SUB);
        coord.submitResult{value: SUB_BOND}(taskId, h.states[NODES], o, paths, SALT);
        TaskCoordinator.Submission memory s = sub_(1);
        assertEq(s.taskId, taskId, "task");
        assertEq(s.submitter, SUB, "submitter");
        assertEq(s.finalState, h.states[NODES], "S_n");
        assertEq(s.outputsHash, keccak256(abi.encode(o)), "outputs hash");
        assertEq(s.windowEnd, block.timestamp + WINDOW, "window");
        assertEq(uint256(s.status), uint256(TaskCoordinator.SubmissionStatus.Live), "live");
        assertEq(task_(taskId).liveSubmission, 1, "live result");
        assertEq(leU64(bytes32(o[0]), 0), 16, "y3");
        assertEq(coord.commitBlock(c), 0, "commitment used up");
    }

    function test_submitResult_errors() public {
        uint256 taskId = request();
        Trace memory h = honest();
        (bytes[] memory o, bytes32[][] memory paths) = outputsOf(h);
        bytes32 sn = h.states[NODES];
        commitAs(taskId, SUB, h);
        hevm.roll(block.number + 1);
        hevm.startPrank(SUB);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.WrongBond.selector, 1, SUB_BOND));
        coord.submitResult{value: 1}(taskId, sn, o, paths, SALT);
        vm.expectRevert(TaskCoordinator.UnknownTask.selector);
        coord.submitResult{value: SUB_BOND}(99, sn, o, paths, SALT);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadOutputCount.selector, 1, 2));
        coord.submitResult{value: SUB_BOND}(taskId, sn, new bytes[](1), paths, SALT);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadOutputCount.selector, 3, 2));
        coord.submitResult{value: SUB_BOND}(taskId, sn, o, new bytes32[][](3), SALT);
        // output bytes of another length than the model's output type, e.g. zero padded
        bytes[] memory padded = outs(h);
        padded[1] = bytes.concat(padded[1], new bytes(24));
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadOutputLength.selector, 1, 32, 8));
        coord.submitResult{value: SUB_BOND}(taskId, sn, padded, paths, SALT);
        // output bytes that are not the committed ones
        bytes[] memory wrong = outs(h);
        wrong[1] = le64(9);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadOutputProof.selector, 1));
        coord.submitResult{value: SUB_BOND}(taskId, sn, wrong, paths, SALT);
        // a forged path; a path of another length; another final state
        bytes32 saved = paths[0][0];
        paths[0][0] = bytes32(uint256(saved) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadOutputProof.selector, 0));
        coord.submitResult{value: SUB_BOND}(taskId, sn, o, paths, SALT);
        paths[0][0] = saved;
        bytes32[][] memory p2 = new bytes32[][](2);
        p2[0] = paths[0];
        p2[1] = new bytes32[](4);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadOutputProof.selector, 1));
        coord.submitResult{value: SUB_BOND}(taskId, sn, o, p2, SALT);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.BadOutputProof.selector, 0));
        coord.submitResult{value: SUB_BOND}(taskId, h.states[2], o, paths, SALT);
        // a reveal with another salt has no commitment
        vm.expectRevert(TaskCoordinator.NoCommitment.selector);
        coord.submitResult{value: SUB_BOND}(taskId, sn, o, paths, bytes32(0));
        // live result: not open
        coord.submitResult{value: SUB_BOND}(taskId, sn, o, paths, SALT);
        vm.expectRevert(TaskCoordinator.TaskNotOpen.selector);
        coord.submitResult{value: SUB_BOND}(taskId, sn, o, paths, SALT);
        hevm.stopPrank();
        // past the deadline
        uint256 t2 = request();
        hevm.warp(deadline + 1);
        hevm.prank(SUB);
        vm.expectRevert(TaskCoordinator.PastDeadline.selector);
        coord.submitResult{value: SUB_BOND}(t2, sn, o, paths, SALT);
    }

    function test_commitResult_errors() public {
        vm.expectRevert(TaskCoordinator.BadCommitment.selector);
        coord.commitResult(bytes32(0));
        coord.commitResult(keccak256("c"));
        hevm.prank(SUB);
        vm.expectRevert(TaskCoordinator.AlreadyCommitted.selector);
        coord.commitResult(keccak256("c"));
    }

    /// A reveal in the commitment's own block is refused: a copier cannot commit and reveal at once.
    function test_submitResult_revealTooEarly() public {
        uint256 taskId = request();
        Trace memory h = honest();
        commitAs(taskId, SUB, h);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.RevealTooEarly.selector, block.number, block.number + 1));
        reveal(taskId, SUB, h);
        hevm.roll(block.number + 1);
        reveal(taskId, SUB, h);
    }

    /**
     * Front-running (issue: a watcher copies a submission it never computed). The copier sees the honest
     * reveal's calldata only once it is sent: the honest commitment binds the honest submitter's address, so
     * the copier cannot reveal it; a copy of the result has no commitment of the copier's from an earlier
     * block, and committing it now is too late, since the honest reveal lands first and closes the task.
     */
    function test_submitResult_copierCannotFrontRun() public {
        uint256 taskId = request();
        Trace memory h = honest();
        commitAs(taskId, SUB, h);
        hevm.roll(block.number + 1);
        // the copier replays the honest reveal as its own: no commitment binds the copier's address
        vm.expectRevert(TaskCoordinator.NoCommitment.selector);
        reveal(taskId, SUB2, h);
        // it commits the copy in the block of the honest reveal, which lands first
        commitAs(taskId, SUB2, h);
        uint256 sid = reveal(taskId, SUB, h);
        hevm.roll(block.number + 1);
        vm.expectRevert(TaskCoordinator.TaskNotOpen.selector);
        reveal(taskId, SUB2, h);
        assertEq(sub_(sid).submitter, SUB, "the result is the one who computed it");
    }

    // ---------------------------------------------------------------------------------------------------
    // challenge

    function test_challenge() public {
        uint256 taskId = request();
        Trace memory h = honest();
        uint256 sid = submit(taskId, SUB, h);
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.Challenged(taskId, sid, 1, CHAL);
        uint256 gid = challengeBy(taskId, CHAL);
        assertEq(gid, 1, "game id");
        DisputeGame.GameView memory v = game.getGame(gid);
        assertEq(v.taskId, taskId, "task");
        assertEq(v.submitter, SUB, "submitter");
        assertEq(v.challenger, CHAL, "challenger");
        assertEq(v.loHash, h.states[0], "S_0");
        assertEq(v.hiHash, h.states[NODES], "S_n");
        assertEq(v.nodes, NODES, "nodes");
        assertEq(v.slotDepth, SLOT_DEPTH, "slot depth");
        assertEq(v.dissection, 2, "k");
        assertEq(v.recordsRoot, modelSpec().recordsRoot, "records root");
        assertEq(coord.gameCountOf(sid), 1, "one game");
        assertEq(coord.gamesOf(sid)[0], gid, "game ids");
        assertEq(sub_(sid).openGames, 1, "open games");
        TaskCoordinator.GameRecord memory r = coord.getGameRecord(gid);
        assertEq(r.submissionId, sid, "record");
        assertEq(r.challenger, CHAL, "record challenger");
        // more challengers, each its own game
        assertEq(challengeBy(taskId, CHAL2), 2, "second game");
        assertEq(coord.gameCountOf(sid), 2, "two games");
    }

    function test_challenge_errors() public {
        uint256 taskId = request();
        bytes32 sn = honest().states[NODES];
        hevm.prank(CHAL);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.WrongBond.selector, 0, CHAL_BOND));
        coord.challenge(taskId, 1, sn);
        hevm.prank(CHAL);
        vm.expectRevert(TaskCoordinator.UnknownTask.selector);
        coord.challenge{value: CHAL_BOND}(77, 1, sn);
        hevm.prank(CHAL);
        vm.expectRevert(TaskCoordinator.NoLiveResult.selector);
        coord.challenge{value: CHAL_BOND}(taskId, 1, sn);
        uint256 sid = submit(taskId, SUB, honest());
        hevm.prank(CHAL);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.NotLiveSubmission.selector, sid + 1, sid));
        coord.challenge{value: CHAL_BOND}(taskId, sid + 1, sn);
        hevm.prank(CHAL);
        vm.expectRevert(TaskCoordinator.FinalStateMismatch.selector);
        coord.challenge{value: CHAL_BOND}(taskId, sid, keccak256("another S_n"));
        hevm.prank(SUB);
        vm.expectRevert(TaskCoordinator.SelfChallenge.selector);
        coord.challenge{value: CHAL_BOND}(taskId, sid, sn);
        hevm.warp(sub_(sid).windowEnd - 1);
        challengeBy(taskId, CHAL); // the last second of the window
        hevm.warp(sub_(sid).windowEnd);
        hevm.prank(CHAL);
        vm.expectRevert(TaskCoordinator.WindowClosed.selector);
        coord.challenge{value: CHAL_BOND}(taskId, sid, sn);
    }

    // ---------------------------------------------------------------------------------------------------
    // finalize

    function test_finalize_unchallenged() public {
        uint256 taskId = request();
        Trace memory h = honest();
        uint256 sid = submit(taskId, SUB, h);
        bytes[] memory o = outs(h);
        vm.expectRevert(TaskCoordinator.WindowOpen.selector);
        coord.finalize(taskId, o);
        hevm.warp(sub_(sid).windowEnd);
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.ResultFinalized(taskId, sid);
        coord.finalize(taskId, o);
        assertEq(coord.balanceOf(SUB), REWARD + SUB_BOND, "reward and bond");
        TaskCoordinator.Task memory t = task_(taskId);
        assertEq(uint256(t.status), uint256(TaskCoordinator.TaskStatus.Final), "final");
        assertEq(t.finalSubmission, sid, "final submission");
        assertEq(t.liveSubmission, 0, "no live result");
        assertEq(uint256(sub_(sid).status), uint256(TaskCoordinator.SubmissionStatus.Final), "submission final");
        // a second settlement
        vm.expectRevert(TaskCoordinator.NoLiveResult.selector);
        coord.finalize(taskId, o);
        (bytes[] memory o2, bytes32[][] memory paths) = outputsOf(h);
        hevm.prank(SUB2);
        vm.expectRevert(TaskCoordinator.TaskNotOpen.selector);
        coord.submitResult{value: SUB_BOND}(taskId, h.states[NODES], o2, paths, SALT);
        vm.expectRevert(TaskCoordinator.TaskNotOpen.selector);
        coord.reclaim(taskId);
        uint256 before = SUB.balance;
        hevm.prank(SUB);
        coord.withdraw();
        assertEq(SUB.balance, before + REWARD + SUB_BOND, "paid out");
    }

    function test_finalize_errors() public {
        uint256 taskId = request();
        Trace memory h = honest();
        bytes[] memory o = outs(h);
        vm.expectRevert(TaskCoordinator.UnknownTask.selector);
        coord.finalize(5, o);
        vm.expectRevert(TaskCoordinator.NoLiveResult.selector);
        coord.finalize(taskId, o);
        uint256 sid = submit(taskId, SUB, h);
        uint256 gid = challengeBy(taskId, CHAL);
        // the submitter bisects; the challenger never chooses: the submitter wins on time
        playUntil(game, gid, h, traceOf(1, 1), DisputeGame.Move.Choose);
        hevm.warp(sub_(sid).windowEnd);
        vm.expectRevert(TaskCoordinator.OpenGames.selector);
        coord.finalize(taskId, o);
        game.timeout(gid);
        bytes[] memory wrong = outs(h);
        wrong[0] = le64(17);
        vm.expectRevert(TaskCoordinator.OutputsMismatch.selector);
        coord.finalize(taskId, wrong);
        vm.expectRevert(TaskCoordinator.OutputsMismatch.selector);
        coord.finalize(taskId, new bytes[](2));
        coord.finalize(taskId, o);
        assertEq(coord.balanceOf(SUB), REWARD + SUB_BOND + CHAL_BOND, "reward, bond and the challenger's bond");
    }

    // ---------------------------------------------------------------------------------------------------
    // Full flows with the real OPVM

    /// Honest submitter, a wrong challenger: the game goes to a step proof, the submitter wins and finalizes.
    function test_flow_honestSubmitterWins() public {
        uint256 taskId = request();
        Trace memory h = honest();
        uint256 sid = submit(taskId, SUB, h);
        uint256 gid = challengeBy(taskId, CHAL);
        Trace memory wrong = traceOf(2, 7);
        DisputeGame.GameView memory v = playUntil(game, gid, h, wrong, DisputeGame.Move.Prove);
        bytes memory proof = wrong.runs[v.node - 1].proofs[v.lo];
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.GameSettled(gid, sid, true, false);
        hevm.prank(CHAL);
        game.proveStep(gid, proof);
        assertEq(uint256(game.getGame(gid).status), uint256(DisputeGame.Status.SubmitterWon), "won");
        assertEq(coord.balanceOf(SUB), CHAL_BOND, "the challenger's bond");
        assertEq(sub_(sid).openGames, 0, "no open game");
        TaskCoordinator.GameRecord memory r = coord.getGameRecord(gid);
        assertTrue(r.resolved && r.submitterWon && r.settledLive, "settled");
        hevm.warp(sub_(sid).windowEnd);
        coord.finalize(taskId, outs(h));
        assertEq(coord.balanceOf(SUB), REWARD + SUB_BOND + CHAL_BOND, "total");
        vm.expectRevert(TaskCoordinator.NotRewardable.selector);
        coord.claimChallengeReward(gid);
    }

    /**
     * A cheating submitter (wrong y2) against two challengers: the first game goes to the step proof of
     * node 2's last I64_ADD and the cheater loses; the result is rejected and the task reopens; half the
     * cheater's bond is burnt and the other half shared by both challengers, who also get their bonds back
     * (the second one by claimChallengeReward); an honest submitter then finalizes.
     */
    function test_flow_cheaterLosesAndTaskReopens() public {
        uint256 taskId = request();
        Trace memory h = honest();
        Trace memory c = traceOf(2, 1);
        uint256 sid = submit(taskId, SUB, c);
        uint256 g1 = challengeBy(taskId, CHAL);
        uint256 g2 = challengeBy(taskId, CHAL2);
        DisputeGame.GameView memory v = playUntil(game, g1, c, h, DisputeGame.Move.Prove);
        assertEq(v.node, 2, "node 2");
        assertEq(v.lo, 4, "the last I64_ADD of node 2");
        bytes memory proof = h.runs[1].proofs[v.lo];
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.ResultRejected(taskId, sid, g1, 2, shareOf(2), SUB_BOND - 2 * shareOf(2));
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.ChallengeRewarded(g1, CHAL, CHAL_BOND + shareOf(2));
        hevm.prank(CHAL);
        game.proveStep(g1, proof);
        assertEq(coord.balanceOf(CHAL), CHAL_BOND + shareOf(2), "its bond and half of the unburnt bond");
        assertEq(SUB_BOND - 2 * shareOf(2), SUB_BOND / 2, "half the cheater's bond burnt");
        TaskCoordinator.Submission memory s = sub_(sid);
        assertEq(uint256(s.status), uint256(TaskCoordinator.SubmissionStatus.Rejected), "rejected");
        assertEq(s.rejectedBy, g1, "by game 1");
        assertEq(task_(taskId).liveSubmission, 0, "reopened");
        // finalize is impossible now
        hevm.warp(s.windowEnd);
        vm.expectRevert(TaskCoordinator.NoLiveResult.selector);
        coord.finalize(taskId, outs(c));
        // game 2's challenger is paid too: its bond and its share, once (anyone may trigger it)
        vm.expectRevert(TaskCoordinator.NotRewardable.selector);
        coord.claimChallengeReward(g1);
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.ChallengeRewarded(g2, CHAL2, CHAL_BOND + shareOf(2));
        coord.claimChallengeReward(g2);
        assertEq(coord.balanceOf(CHAL2), CHAL_BOND + shareOf(2), "bond and share");
        vm.expectRevert(TaskCoordinator.AlreadyClaimed.selector);
        coord.claimChallengeReward(g2);
        // the game may still end (here on time); it pays nothing more
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.GameSettled(g2, sid, false, true);
        game.timeout(g2);
        assertEq(coord.balanceOf(CHAL2), CHAL_BOND + shareOf(2), "nothing more");
        assertEq(coord.balanceOf(SUB), 0, "the cheater gets nothing");
        // the task is open again: an honest result finalizes
        uint256 sid2 = submit(taskId, SUB2, h);
        hevm.warp(sub_(sid2).windowEnd);
        coord.finalize(taskId, outs(h));
        assertEq(coord.balanceOf(SUB2), REWARD + SUB_BOND, "honest submitter paid");
        assertEq(address(coord).balance, 2 * SUB_BOND + 2 * CHAL_BOND + REWARD, "all money accounted for");
        _withdrawAll();
        assertEq(address(coord).balance, SUB_BOND - 2 * shareOf(2), "everything withdrawn but the burnt part");
    }

    function _withdrawAll() internal {
        address[4] memory who = [SUB2, CHAL, CHAL2, REQ];
        for (uint256 i = 0; i < who.length; i++) {
            if (coord.balanceOf(who[i]) == 0) continue;
            hevm.prank(who[i]);
            coord.withdraw();
        }
    }

    /// The task's dissection degree reaches the game: a 4-ary game, the cheater at node 3 loses.
    function test_flow_karyCheaterLoses() public {
        uint256 taskId = requestK(4);
        Trace memory h = honest();
        Trace memory c = traceOf(3, 9);
        uint256 sid = submit(taskId, SUB, c);
        uint256 gid = challengeBy(taskId, CHAL);
        assertEq(game.getGame(gid).dissection, 4, "k = 4");
        DisputeGame.GameView memory v = playAll(game, gid, c, h);
        assertEq(uint256(v.status), uint256(DisputeGame.Status.ChallengerWon), "challenger won");
        assertEq(v.node, 3, "node 3");
        assertEq(uint256(sub_(sid).status), uint256(TaskCoordinator.SubmissionStatus.Rejected), "rejected");
    }

    /// A challenge window that would overflow the timestamp saturates: challengeable, never final.
    function test_submitResult_hugeWindow() public {
        hevm.prank(REQ);
        uint256 taskId = coord.requestInference(modelId, inputs(), s0Paths(), type(uint64).max, deadline, 2, false);
        uint256 sid = submit(taskId, SUB, honest());
        assertEq(sub_(sid).windowEnd, type(uint64).max, "saturated");
        challengeBy(taskId, CHAL);
    }

    function test_views() public {
        vm.expectRevert(TaskCoordinator.UnknownModel.selector);
        coord.slotDepth(keccak256("unknown"));
        assertTrue(!coord.isRegistered(keccak256("unknown")), "not registered");
        assertEq(coord.submitterBond(), SUB_BOND, "bond");
        assertEq(coord.challengerBond(), CHAL_BOND, "bond");
        assertEq(coord.clockSeconds(), CLOCK, "clock");
        assertEq(address(coord.verifier()), address(opvm), "verifier");
        assertEq(game.coordinator(), address(coord), "the game's coordinator");
        assertEq(address(game.verifier()), address(opvm), "the game's verifier");
        assertEq(game.clockSeconds(), CLOCK, "the game's clock");
        assertEq(coord.taskCount(), 0, "no task");
        assertEq(coord.gameCountOf(1), 0, "no game");
        assertEq(coord.gamesOf(1).length, 0, "no game");
        assertEq(coord.getGameRecord(1).submissionId, 0, "no record");
        assertEq(uint256(coord.getTask(1).status), 0, "no task");
        assertEq(uint256(coord.getSubmission(1).status), 0, "no submission");
    }

    /// A game the submitter won before another game rejected the result stays settled (no reward).
    function test_flow_gameWonBeforeRejectionIsNotRewarded() public {
        uint256 taskId = request();
        Trace memory h = honest();
        Trace memory c = traceOf(3, 2);
        submit(taskId, SUB, c);
        uint256 g1 = challengeBy(taskId, CHAL); // disputes nothing the cheater claims: loses at the step proof
        uint256 g2 = challengeBy(taskId, CHAL2); // honest
        playAll(game, g1, c, c);
        assertEq(coord.balanceOf(SUB), CHAL_BOND, "won game 1");
        playAll(game, g2, c, h);
        assertEq(coord.balanceOf(CHAL2), CHAL_BOND + shareOf(1), "won game 2, the only open game");
        vm.expectRevert(TaskCoordinator.NotRewardable.selector);
        coord.claimChallengeReward(g1);
        assertEq(coord.balanceOf(CHAL), 0, "game 1's challenger lost its bond");
    }

    /// Several challengers that all lose: the submitter takes every challenger's bond.
    function test_flow_allChallengersLose() public {
        uint256 taskId = request();
        Trace memory h = honest();
        uint256 sid = submit(taskId, SUB, h);
        uint256 g1 = challengeBy(taskId, CHAL);
        uint256 g2 = challengeBy(taskId, CHAL2);
        playAll(game, g1, h, traceOf(1, 3));
        playUntil(game, g2, h, h, DisputeGame.Move.Choose);
        hevm.warp(sub_(sid).windowEnd);
        vm.expectRevert(TaskCoordinator.OpenGames.selector);
        coord.finalize(taskId, outs(h));
        game.timeout(g2); // the second challenger gave up
        coord.finalize(taskId, outs(h));
        assertEq(coord.balanceOf(SUB), REWARD + SUB_BOND + 2 * CHAL_BOND, "all bonds");
    }

    // ---------------------------------------------------------------------------------------------------
    // onGameResolved, claimChallengeReward, reclaim

    function test_onGameResolved_errors() public {
        vm.expectRevert(TaskCoordinator.OnlyGame.selector);
        coord.onGameResolved(1, true);
        hevm.prank(address(game));
        vm.expectRevert(TaskCoordinator.UnknownGame.selector);
        coord.onGameResolved(1, true);
        uint256 taskId = request();
        submit(taskId, SUB, honest());
        uint256 gid = challengeBy(taskId, CHAL);
        hevm.warp(block.timestamp + CLOCK + 1);
        game.timeout(gid);
        // a second settlement of the same game
        hevm.prank(address(game));
        vm.expectRevert(TaskCoordinator.AlreadySettled.selector);
        coord.onGameResolved(gid, true);
    }

    function test_claimChallengeReward_errors() public {
        vm.expectRevert(TaskCoordinator.UnknownGame.selector);
        coord.claimChallengeReward(3);
        uint256 taskId = request();
        submit(taskId, SUB, honest());
        uint256 gid = challengeBy(taskId, CHAL);
        vm.expectRevert(TaskCoordinator.NotRewardable.selector);
        coord.claimChallengeReward(gid);
    }

    function test_reclaim() public {
        uint256 taskId = request();
        vm.expectRevert(TaskCoordinator.UnknownTask.selector);
        coord.reclaim(42);
        vm.expectRevert(TaskCoordinator.DeadlineNotPassed.selector);
        coord.reclaim(taskId);
        Trace memory h = honest();
        submit(taskId, SUB, h);
        hevm.warp(deadline + 1);
        vm.expectRevert(TaskCoordinator.ResultPending.selector);
        coord.reclaim(taskId);
        // a task with no result at all
        hevm.warp(block.timestamp - 2 days);
        uint256 t2 = request();
        hevm.warp(task_(t2).deadline + 1);
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.TaskReclaimed(t2, REQ, REWARD);
        coord.reclaim(t2);
        assertEq(coord.balanceOf(REQ), REWARD, "refund");
        assertEq(uint256(task_(t2).status), uint256(TaskCoordinator.TaskStatus.Reclaimed), "reclaimed");
        vm.expectRevert(TaskCoordinator.TaskNotOpen.selector);
        coord.reclaim(t2);
        hevm.prank(SUB);
        vm.expectRevert(TaskCoordinator.TaskNotOpen.selector);
        coord.submitResult{value: SUB_BOND}(t2, h.states[NODES], outs(h), new bytes32[][](2), SALT);
    }

    /// A result rejected after the deadline leaves the task to the requester's refund.
    function test_reclaim_afterRejectionPastDeadline() public {
        uint256 taskId = request();
        Trace memory c = traceOf(1, 1);
        submit(taskId, SUB, c);
        uint256 gid = challengeBy(taskId, CHAL);
        hevm.warp(deadline + 1);
        game.timeout(gid); // the cheater never moved
        assertEq(task_(taskId).liveSubmission, 0, "rejected");
        coord.reclaim(taskId);
        assertEq(coord.balanceOf(REQ), REWARD, "refund");
    }

    // ---------------------------------------------------------------------------------------------------
    // withdraw

    function test_withdraw_nothing() public {
        hevm.prank(CHAL);
        vm.expectRevert(TaskCoordinator.NothingToWithdraw.selector);
        coord.withdraw();
    }

    /// A challenger contract that re-enters withdraw from its receive(): the guard stops it; paid once.
    function test_withdraw_reentrancy() public {
        ReentrantReceiver r = new ReentrantReceiver(coord);
        hevm.deal(address(r), 0);
        uint256 taskId = request();
        submit(taskId, SUB, traceOf(1, 1));
        uint256 gid = r.challenge{value: CHAL_BOND}(taskId, 1, traceOf(1, 1).states[NODES]);
        hevm.warp(block.timestamp + CLOCK + 1);
        game.timeout(gid);
        uint256 due = CHAL_BOND + shareOf(1);
        assertEq(coord.balanceOf(address(r)), due, "credited");
        uint256 held = address(coord).balance;
        r.pull();
        assertEq(address(r).balance, due, "paid exactly once");
        assertEq(address(coord).balance, held - due, "coordinator paid once");
        assertEq(r.attempts(), 1, "one payment");
        assertTrue(r.reentryReverted(), "re-entry reverted");
        assertEq(bytes32(r.reentryError()), bytes32(TaskCoordinator.Reentrancy.selector), "with Reentrancy()");
        assertEq(coord.balanceOf(address(r)), 0, "balance cleared");
        vm.expectRevert(TaskCoordinator.NothingToWithdraw.selector);
        r.pull();
    }

    function test_withdraw_transferFailed() public {
        RejectingReceiver r = new RejectingReceiver(coord);
        uint256 taskId = request();
        submit(taskId, SUB, traceOf(1, 1));
        uint256 gid = r.challenge{value: CHAL_BOND}(taskId, 1, traceOf(1, 1).states[NODES]);
        hevm.warp(block.timestamp + CLOCK + 1);
        game.timeout(gid);
        vm.expectRevert(TaskCoordinator.TransferFailed.selector);
        r.pull();
        assertEq(coord.balanceOf(address(r)), CHAL_BOND + shareOf(1), "balance kept");
    }

    // ---------------------------------------------------------------------------------------------------
    // Data roots

    /// Reference: leaves padded with zero leaves to a power of two, hashed level by level.
    function refRoot(bytes memory data) internal pure returns (bytes32) {
        bytes32[] memory leaves = Sparse.leavesOf(data);
        uint256 n = 1;
        while (n < leaves.length) n *= 2;
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i = 0; i < leaves.length; i++) level[i] = leaves[i];
        while (n > 1) {
            for (uint256 i = 0; i < n / 2; i++) level[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            n /= 2;
        }
        return level[0];
    }

    function bytesOf(uint256 len, uint256 seed) internal pure returns (bytes memory b) {
        b = new bytes(len);
        for (uint256 i = 0; i < len; i++) b[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i / 32))) >> (8 * (i % 32))));
    }

    function test_dataRoot_lengths() public view {
        uint256[10] memory lens = [uint256(0), 1, 31, 32, 33, 64, 65, 96, 3136, 5000];
        for (uint256 i = 0; i < lens.length; i++) {
            bytes memory b = bytesOf(lens[i], i);
            assertEq(coord.dataRootOf(b), refRoot(b), string.concat("length ", vm.toString(lens[i])));
        }
        assertEq(coord.dataRootOf(""), bytes32(0), "empty: one zero leaf");
        assertEq(coord.dataRootOf(new bytes(64)), keccak256(abi.encode(bytes32(0), bytes32(0))), "two zero leaves");
    }

    function testFuzz_dataRoot(bytes memory data) public view {
        assertEq(coord.dataRootOf(data), refRoot(data), "data root");
    }

    function testFuzz_dataRoot_lengths(uint16 len, uint256 seed) public view {
        bytes memory b = bytesOf(bound(len, 0, 4096), seed);
        assertEq(coord.dataRootOf(b), refRoot(b), "data root");
    }
}

/**
 * Metered gas of each external move of the coordinator and the game, one call per test with everything
 * else (traces, earlier moves) outside the metering: the numbers `forge snapshot` records for them
 * (execution inside the call, without calldata and the 21 000 base). The synthetic model: 3 nodes,
 * 5 slots (depth 3), a 320-byte input; binary dissection.
 */
contract GameGasTest is CoordinatorBase {
    /// Resume metering with the contracts' accounts and storage cold, as in a transaction of its own.
    function resume() internal {
        hevm.cool(address(coord));
        hevm.cool(address(game));
        hevm.cool(address(opvm));
        hevm.resumeGasMetering();
    }

    function test_gas_registerModel() public {
        hevm.pauseGasMetering();
        TaskCoordinator.ModelSpec memory s = modelSpec();
        s.constantState = keccak256("another model");
        resume();
        coord.registerModel(s, "ipfs://synth");
    }

    function test_gas_requestInference() public {
        hevm.pauseGasMetering();
        TaskCoordinator.InputData[] memory ins = inputs();
        bytes32[][] memory p = s0Paths();
        hevm.prank(REQ);
        resume();
        coord.requestInference{value: REWARD}(modelId, ins, p, WINDOW, deadline, 2, false);
    }

    function test_gas_submitResult() public {
        hevm.pauseGasMetering();
        uint256 taskId = request();
        Trace memory h = honest();
        (bytes[] memory o, bytes32[][] memory paths) = outputsOf(h);
        commitAs(taskId, SUB, h);
        hevm.roll(block.number + 1);
        hevm.prank(SUB);
        resume();
        coord.submitResult{value: SUB_BOND}(taskId, h.states[NODES], o, paths, SALT);
    }

    function test_gas_commitResult() public {
        hevm.pauseGasMetering();
        uint256 taskId = request();
        Trace memory h = honest();
        bytes32 c = coord.resultCommitment(taskId, SUB, h.states[NODES], keccak256(abi.encode(outs(h))), SALT);
        hevm.prank(SUB);
        resume();
        coord.commitResult(c);
    }

    function test_gas_challenge() public {
        hevm.pauseGasMetering();
        uint256 taskId = request();
        uint256 sid = submit(taskId, SUB, honest());
        bytes32 sn = honest().states[NODES];
        hevm.prank(CHAL);
        resume();
        coord.challenge{value: CHAL_BOND}(taskId, sid, sn);
    }

    /// A game between an honest submitter and a challenger that believes node `node` is wrong.
    function started(uint256 node) internal returns (uint256 gid, Trace memory h, Trace memory c) {
        uint256 taskId = request();
        h = honest();
        c = traceOf(node, 1);
        submit(taskId, SUB, h);
        gid = challengeBy(taskId, CHAL);
    }

    function test_gas_bisect_graph() public {
        hevm.pauseGasMetering();
        (uint256 gid, Trace memory h,) = started(2);
        bytes32[] memory mids = midsOf(game, h, game.getGame(gid));
        hevm.prank(SUB);
        resume();
        game.bisect(gid, mids);
    }

    function test_gas_choose_graph() public {
        hevm.pauseGasMetering();
        (uint256 gid, Trace memory h,) = started(2);
        bytes32[] memory mids = midsOf(game, h, game.getGame(gid));
        hevm.prank(SUB);
        game.bisect(gid, mids);
        hevm.prank(CHAL);
        resume();
        game.choose(gid, 0, mids);
    }

    /// Node 2: two inputs, one output, a scratch region, five regions.
    function test_gas_openNode() public {
        hevm.pauseGasMetering();
        (uint256 gid, Trace memory h, Trace memory c) = started(2);
        playUntil(game, gid, h, c, DisputeGame.Move.Open);
        DisputeGame.NodeOpening memory o = h.openings[1];
        hevm.prank(SUB);
        resume();
        game.openNode(gid, o);
    }

    function test_gas_bisect_steps() public {
        hevm.pauseGasMetering();
        (uint256 gid, Trace memory h, Trace memory c) = started(2);
        DisputeGame.GameView memory v = playUntil(game, gid, h, c, DisputeGame.Move.Open);
        hevm.prank(SUB);
        game.openNode(gid, h.openings[v.hi - 1]);
        v = game.getGame(gid);
        assertEq(uint256(v.expected), uint256(DisputeGame.Move.Bisect), "phase 1 bisection");
        bytes32[] memory mids = midsOf(game, h, v);
        hevm.prank(SUB);
        resume();
        game.bisect(gid, mids);
    }

    /// The step proof of the cheater's I64_ADD: the challenger wins and the result is rejected.
    function test_gas_proveStep_rejects() public {
        hevm.pauseGasMetering();
        uint256 taskId = request();
        Trace memory h = honest();
        Trace memory c = traceOf(3, 1);
        submit(taskId, SUB, c);
        uint256 gid = challengeBy(taskId, CHAL);
        DisputeGame.GameView memory v = playUntil(game, gid, c, h, DisputeGame.Move.Prove);
        bytes memory proof = h.runs[v.node - 1].proofs[v.lo];
        hevm.prank(CHAL);
        resume();
        game.proveStep(gid, proof);
    }

    /// The step proof of an honest step: the submitter wins and is credited the challenger's bond.
    function test_gas_proveStep_upholds() public {
        hevm.pauseGasMetering();
        (uint256 gid, Trace memory h, Trace memory c) = started(1);
        DisputeGame.GameView memory v = playUntil(game, gid, h, c, DisputeGame.Move.Prove);
        bytes memory proof = c.runs[v.node - 1].proofs[v.lo];
        hevm.prank(CHAL);
        resume();
        game.proveStep(gid, proof);
    }

    function test_gas_timeout() public {
        hevm.pauseGasMetering();
        (uint256 gid,,) = started(1);
        hevm.warp(block.timestamp + CLOCK + 1);
        resume();
        game.timeout(gid);
    }

    function test_gas_finalize() public {
        hevm.pauseGasMetering();
        uint256 taskId = request();
        Trace memory h = honest();
        uint256 sid = submit(taskId, SUB, h);
        bytes[] memory o = outs(h);
        hevm.warp(sub_(sid).windowEnd);
        resume();
        coord.finalize(taskId, o);
    }

    function test_gas_claimChallengeReward() public {
        hevm.pauseGasMetering();
        uint256 taskId = request();
        submit(taskId, SUB, traceOf(1, 1));
        uint256 g1 = challengeBy(taskId, CHAL);
        uint256 g2 = challengeBy(taskId, CHAL2);
        hevm.warp(block.timestamp + CLOCK + 1);
        game.timeout(g1);
        resume();
        coord.claimChallengeReward(g2);
    }

    function test_gas_reclaim() public {
        hevm.pauseGasMetering();
        uint256 taskId = request();
        hevm.warp(deadline + 1);
        resume();
        coord.reclaim(taskId);
    }

    function test_gas_withdraw() public {
        hevm.pauseGasMetering();
        uint256 taskId = request();
        hevm.warp(deadline + 1);
        coord.reclaim(taskId);
        hevm.prank(REQ);
        resume();
        coord.withdraw();
    }
}
