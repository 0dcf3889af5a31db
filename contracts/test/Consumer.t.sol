// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Synth} from "./game/Synth.sol";
import {Sparse} from "./game/Sparse.sol";
import {MisbehavingConsumer, RejectingPayer} from "./game/Mocks.sol";
import {VmExt} from "./game/VmExt.sol";
import {TaskCoordinator} from "../src/TaskCoordinator.sol";
import {OPVM} from "../src/OPVM.sol";
import {FashionMnistConsumer} from "../src/examples/FashionMnistConsumer.sol";

/**
 * Consumers (docs/game.md §6): the Fashion-MNIST example end to end through the coordinator (request with
 * callback, result bound to S_n, finalize, arg-max of the float32 logits), and callbacks that revert, burn
 * gas or return a huge buffer, which must not undo finality; a caller that starves the callback is refused.
 * The model here is a stand-in with the CNN's IO (input float32[1,1,28,28] at slot 0, logits float32[1,10]
 * at slot 20 of 21); the game is not played.
 */
contract ConsumerTest is Synth {
    uint256 internal constant SUB_BOND = 1 ether;
    uint256 internal constant CHAL_BOND = 1 ether;
    uint256 internal constant REWARD = 0.1 ether;
    uint64 internal constant WINDOW = 1 hours;
    uint256 internal constant FSLOTS = 21;
    uint256 internal constant FDEPTH = 5;
    uint32 internal constant IN_SLOT = 0;
    uint32 internal constant OUT_SLOT = 20;
    address internal constant SUB = address(0x5b);

    TaskCoordinator internal coord;
    bytes32 internal fmnist;
    FashionMnistConsumer internal consumer;
    uint64 internal deadline;

    function setUp() public {
        hevm.warp(1_700_000_000);
        coord = new TaskCoordinator(SUB_BOND, CHAL_BOND, 1 hours, WINDOW, new OPVM());
        fmnist = coord.registerModel(fmnistSpec(), "models/fmnist-cnn");
        consumer = new FashionMnistConsumer(coord, fmnist, WINDOW);
        deadline = uint64(block.timestamp + 1 days);
        hevm.deal(SUB, 100 ether);
        hevm.deal(address(this), 100 ether);
    }

    receive() external payable {}

    function f32Type(uint256[] memory dims) internal pure returns (bytes32) {
        return typeHash(1, dims);
    }

    function f32TensorType(uint64[] memory dims) internal pure returns (TaskCoordinator.TensorType memory t) {
        t.dtype = 1;
        t.dims = dims;
    }

    function inType() internal pure returns (bytes32) {
        uint256[] memory d = new uint256[](4);
        (d[0], d[1], d[2], d[3]) = (1, 1, 28, 28);
        return f32Type(d);
    }

    function outType() internal pure returns (bytes32) {
        uint256[] memory d = new uint256[](2);
        (d[0], d[1]) = (1, 10);
        return f32Type(d);
    }

    function constants() internal pure returns (Sparse.Tree memory t) {
        t = Sparse.create(FDEPTH, FSLOTS);
        for (uint256 s = 1; s <= 8; s++) Sparse.set(t, s, keccak256(abi.encode("weight", s)));
    }

    function fmnistSpec() internal pure returns (TaskCoordinator.ModelSpec memory s) {
        s.recordsRoot = keccak256("records");
        s.nodes = 12;
        s.constantState = Sparse.root(constants());
        s.slots = uint32(FSLOTS);
        s.inSlots = u32s(IN_SLOT);
        s.inTypes = new TaskCoordinator.TensorType[](1);
        uint64[] memory di = new uint64[](4);
        (di[0], di[1], di[2], di[3]) = (1, 1, 28, 28);
        s.inTypes[0] = f32TensorType(di);
        s.outSlots = u32s(OUT_SLOT);
        s.outTypes = new TaskCoordinator.TensorType[](1);
        uint64[] memory d = new uint64[](2);
        (d[0], d[1]) = (1, 10);
        s.outTypes[0] = f32TensorType(d);
    }

    function image() internal pure returns (bytes memory b) {
        b = new bytes(3136);
        for (uint256 i = 0; i < 3136; i += 4) b[i + 3] = bytes1(uint8(0x3f)); // some positive floats
    }

    function f32le(uint32 bits) internal pure returns (bytes memory b) {
        b = new bytes(4);
        for (uint256 i = 0; i < 4; i++) b[i] = bytes1(uint8(bits >> (8 * i)));
    }

    function logitsOf(uint32[10] memory bits) internal pure returns (bytes memory b) {
        for (uint256 i = 0; i < 10; i++) b = bytes.concat(b, f32le(bits[i]));
    }

    /// S_n of the stand-in: constants, the image, a few intermediate slots and the logits.
    function finalTree(bytes memory img, bytes memory logits) internal pure returns (Sparse.Tree memory t) {
        t = constants();
        Sparse.set(t, IN_SLOT, keccak256(abi.encodePacked(Sparse.dataRoot(img), inType())));
        for (uint256 s = 9; s < 20; s++) Sparse.set(t, s, keccak256(abi.encode("activation", s)));
        Sparse.set(t, OUT_SLOT, keccak256(abi.encodePacked(Sparse.dataRoot(logits), outType())));
    }

    function classify() internal returns (uint256) {
        return consumer.classify{value: REWARD}(image(), Sparse.path(constants(), IN_SLOT), deadline, 2);
    }

    function submitLogits(uint256 taskId, bytes memory logits) internal returns (bytes[] memory o) {
        Sparse.Tree memory t = finalTree(image(), logits);
        o = new bytes[](1);
        o[0] = logits;
        bytes32[][] memory p = new bytes32[][](1);
        p[0] = Sparse.path(t, OUT_SLOT);
        bytes32 salt = keccak256("consumer salt");
        hevm.prank(SUB);
        coord.commitResult(coord.resultCommitment(taskId, SUB, Sparse.root(t), keccak256(abi.encode(o)), salt));
        hevm.roll(block.number + 1);
        hevm.prank(SUB);
        coord.submitResult{value: SUB_BOND}(taskId, Sparse.root(t), o, p, salt);
    }

    uint32[10] internal sample = [
        uint32(0xc0a00000), // -5
        0x3f800000, // 1
        0x80000000, // -0
        0x40400000, // 3
        0xbf800000, // -1
        0x00000001, // smallest subnormal
        0x40400001, // 3.0000002
        0x40c00000, // 6  ← arg-max
        0x40bfffff, // 5.9999995
        0x7fc00000 // NaN (skipped)
    ];

    // ---------------------------------------------------------------------------------------------------

    function test_classify_endToEnd() public {
        uint256 taskId = classify();
        assertEq(consumer.lastTaskId(), taskId, "task id");
        TaskCoordinator.Task memory t = coord.getTask(taskId);
        assertEq(t.requester, address(consumer), "the consumer requested");
        assertTrue(t.callback, "with callback");
        assertEq(t.s0, Sparse.root(finalTreeS0()), "S_0 with the image");
        bytes[] memory o = submitLogits(taskId, logitsOf(sample));
        hevm.warp(block.timestamp + WINDOW);
        hevm.expectEmit(address(consumer));
        emit FashionMnistConsumer.Classified(taskId, 7, 0x40c00000);
        coord.finalize(taskId, o);
        (bool requested, bool answered,, uint8 label, uint32 bits, address payer) = consumer.classifications(taskId);
        assertEq(payer, address(this), "payer recorded");
        assertTrue(requested && answered, "answered");
        assertEq(label, 7, "Sneaker");
        assertEq(bits, 0x40c00000, "6.0");
        assertEq(keccak256(bytes(consumer.labelName(label))), keccak256("Sneaker"), "name");
        assertEq(coord.balanceOf(SUB), REWARD + SUB_BOND, "submitter paid");
    }

    function finalTreeS0() internal pure returns (Sparse.Tree memory t) {
        t = constants();
        Sparse.set(t, IN_SLOT, keccak256(abi.encodePacked(Sparse.dataRoot(image()), inType())));
    }

    function test_classify_badImage() public {
        vm.expectRevert(FashionMnistConsumer.BadImage.selector);
        consumer.classify{value: REWARD}(new bytes(3135), Sparse.path(constants(), IN_SLOT), deadline, 2);
    }

    function test_onInferenceResult_errors() public {
        bytes[] memory o = new bytes[](1);
        o[0] = logitsOf(sample);
        vm.expectRevert(FashionMnistConsumer.OnlyCoordinator.selector);
        consumer.onInferenceResult(1, o);
        hevm.prank(address(coord));
        vm.expectRevert(FashionMnistConsumer.UnknownRequest.selector);
        consumer.onInferenceResult(1, o);
        uint256 taskId = classify();
        hevm.prank(address(coord));
        vm.expectRevert(FashionMnistConsumer.BadLogits.selector);
        consumer.onInferenceResult(taskId, new bytes[](0));
        hevm.prank(address(coord));
        vm.expectRevert(FashionMnistConsumer.BadLogits.selector);
        consumer.onInferenceResult(taskId, new bytes[](1));
        hevm.prank(address(coord));
        consumer.onInferenceResult(taskId, o);
        hevm.prank(address(coord));
        vm.expectRevert(FashionMnistConsumer.AlreadyAnswered.selector);
        consumer.onInferenceResult(taskId, o);
        // ether from anyone but the coordinator
        (bool ok,) = address(consumer).call{value: 1}("");
        assertTrue(!ok, "refused");
    }

    /// Logits that are all NaN: the callback reverts, the result is final anyway.
    function test_callback_badLogitsDoesNotUndoFinality() public {
        uint256 taskId = classify();
        uint32[10] memory nan;
        for (uint256 i = 0; i < 10; i++) nan[i] = 0x7fc00000;
        bytes[] memory o = submitLogits(taskId, logitsOf(nan));
        hevm.warp(block.timestamp + WINDOW);
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.CallbackFailed(taskId);
        coord.finalize(taskId, o);
        assertEq(uint256(coord.getTask(taskId).status), uint256(TaskCoordinator.TaskStatus.Final), "final");
        (, bool answered,,,,) = consumer.classifications(taskId);
        assertTrue(!answered, "not answered");
    }

    function test_argmax_cases() public {
        uint32[10] memory b;
        // all equal: the lowest index
        for (uint256 i = 0; i < 10; i++) b[i] = 0x3f800000;
        (uint8 l,) = consumer.argmax(logitsOf(b));
        assertEq(l, 0, "tie: lowest");
        // all negative
        for (uint256 i = 0; i < 10; i++) b[i] = uint32(0xc0000000 + (10 - i) * 0x100000);
        (l,) = consumer.argmax(logitsOf(b));
        assertEq(l, 9, "the least negative");
        // +0 above −0
        b[3] = 0x80000000;
        b[4] = 0x00000000;
        (l,) = consumer.argmax(logitsOf(b));
        assertEq(l, 4, "+0");
        // +inf wins, NaNs skipped
        b[1] = 0x7f800000;
        b[2] = 0x7fc00000;
        b[5] = 0xffc00001;
        (l,) = consumer.argmax(logitsOf(b));
        assertEq(l, 1, "+inf");
        // all NaN
        for (uint256 i = 0; i < 10; i++) b[i] = 0x7fc00000;
        vm.expectRevert(FashionMnistConsumer.BadLogits.selector);
        consumer.argmax(logitsOf(b));
        vm.expectRevert(FashionMnistConsumer.BadLogits.selector);
        consumer.argmax(new bytes(44));
    }

    function isNaN(uint32 x) internal pure returns (bool) {
        return x & 0x7fffffff > 0x7f800000;
    }

    /// Reference order on non-NaN binary32 bit patterns: a > b as floats (−0 just below +0).
    function greater(uint32 a, uint32 b) internal pure returns (bool) {
        bool na = a >> 31 == 1;
        bool nb = b >> 31 == 1;
        if (na != nb) return nb;
        return na ? (a & 0x7fffffff) < (b & 0x7fffffff) : a > b;
    }

    function testFuzz_argmax(uint32[10] memory b) public {
        uint256 best = 10;
        for (uint256 i = 0; i < 10; i++) {
            if (isNaN(b[i])) continue;
            if (best == 10 || greater(b[i], b[best])) best = i;
        }
        if (best == 10) {
            vm.expectRevert(FashionMnistConsumer.BadLogits.selector);
            consumer.argmax(logitsOf(b));
            return;
        }
        (uint8 l, uint32 bits) = consumer.argmax(logitsOf(b));
        assertEq(l, best, "arg-max");
        assertEq(bits, b[best], "bits");
    }

    function test_labelsAndKeys() public {
        assertEq(keccak256(bytes(consumer.labelName(0))), keccak256("T-shirt/top"), "class 0");
        assertEq(keccak256(bytes(consumer.labelName(9))), keccak256("Ankle boot"), "class 9");
        vm.expectRevert(FashionMnistConsumer.UnknownLabel.selector);
        consumer.labelName(10);
        // keys in float order: -inf < -1 < -0 < +0 < smallest subnormal < 1 < +inf
        uint32[7] memory order = [uint32(0xff800000), 0xbf800000, 0x80000000, 0, 1, 0x3f800000, 0x7f800000];
        for (uint256 i = 1; i < order.length; i++) {
            assertTrue(consumer.sortKey(order[i]) > consumer.sortKey(order[i - 1]), "ordered");
        }
        assertEq(consumer.modelId(), fmnist, "model");
        assertEq(address(consumer.coordinator()), address(coord), "coordinator");
        assertEq(consumer.challengeWindow(), WINDOW, "window");
    }

    /// The window is the deployer's, at least the coordinator's minimum: no caller picks a 1 s window.
    function test_window_atLeastTheCoordinatorsMinimum() public {
        vm.expectRevert(abi.encodeWithSelector(FashionMnistConsumer.BadWindow.selector, uint64(1), WINDOW));
        new FashionMnistConsumer(coord, fmnist, 1);
        uint256 taskId = classify();
        assertEq(coord.getTask(taskId).challengeWindow, WINDOW, "the consumer's window");
    }

    /// The reward of an unanswered task goes back to whoever paid it (not to the deployer), by pull.
    function test_reclaim_refundsThePayer() public {
        address payer = address(0xbea7);
        hevm.deal(payer, 1 ether);
        hevm.prank(payer);
        uint256 taskId = consumer.classify{value: REWARD}(image(), Sparse.path(constants(), IN_SLOT), deadline, 2);
        vm.expectRevert(TaskCoordinator.DeadlineNotPassed.selector);
        consumer.reclaim(taskId);
        hevm.warp(deadline + 1);
        hevm.prank(SUB); // anyone may trigger it
        consumer.reclaim(taskId);
        assertEq(consumer.refunds(payer), REWARD, "owed to the payer");
        assertEq(consumer.refunds(address(this)), 0, "nothing to the deployer");
        vm.expectRevert(FashionMnistConsumer.AlreadyRefunded.selector);
        consumer.reclaim(taskId);
        hevm.prank(payer);
        consumer.withdrawRefund();
        assertEq(payer.balance, 1 ether, "paid back");
        hevm.prank(payer);
        vm.expectRevert(FashionMnistConsumer.NothingToWithdraw.selector);
        consumer.withdrawRefund();
        vm.expectRevert(FashionMnistConsumer.UnknownRequest.selector);
        consumer.reclaim(taskId + 1);
    }

    /// Someone reclaimed the task at the coordinator directly: the consumer still refunds the payer.
    function test_reclaim_afterDirectCoordinatorReclaim() public {
        uint256 taskId = classify();
        hevm.warp(deadline + 1);
        coord.reclaim(taskId);
        consumer.reclaim(taskId);
        assertEq(consumer.refunds(address(this)), REWARD, "owed");
    }

    /// An answered task cannot be refunded.
    function test_reclaim_finalIsNotReclaimable() public {
        uint256 taskId = classify();
        bytes[] memory o = submitLogits(taskId, logitsOf(sample));
        hevm.warp(block.timestamp + WINDOW);
        coord.finalize(taskId, o);
        vm.expectRevert(FashionMnistConsumer.NotReclaimable.selector);
        consumer.reclaim(taskId);
    }

    function test_reclaim_payerRefuses() public {
        RejectingPayer o = new RejectingPayer(consumer);
        uint256 taskId = o.classify{value: REWARD}(image(), Sparse.path(constants(), IN_SLOT), deadline);
        hevm.warp(deadline + 1);
        consumer.reclaim(taskId);
        vm.expectRevert(FashionMnistConsumer.TransferFailed.selector);
        o.withdrawRefund();
    }

    // ---------------------------------------------------------------------------------------------------
    // Misbehaving consumers

    function misbehaving(MisbehavingConsumer.Mode mode) internal returns (MisbehavingConsumer c, uint256 taskId, bytes[] memory o) {
        c = new MisbehavingConsumer(coord, mode);
        TaskCoordinator.InputData[] memory ins = new TaskCoordinator.InputData[](1);
        ins[0] = TaskCoordinator.InputData({data: image(), dataRoot: bytes32(0), uri: ""});
        bytes32[][] memory p = new bytes32[][](1);
        p[0] = Sparse.path(constants(), IN_SLOT);
        taskId = c.request{value: REWARD}(fmnist, ins, p, WINDOW, deadline);
        o = submitLogits(taskId, logitsOf(sample));
        hevm.warp(block.timestamp + WINDOW);
    }

    function test_callback_reverts() public {
        (, uint256 taskId, bytes[] memory o) = misbehaving(MisbehavingConsumer.Mode.Revert);
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.CallbackFailed(taskId);
        coord.finalize(taskId, o);
        assertEq(uint256(coord.getTask(taskId).status), uint256(TaskCoordinator.TaskStatus.Final), "final");
        assertEq(coord.balanceOf(SUB), REWARD + SUB_BOND, "paid");
    }

    function test_callback_burnsGas() public {
        (, uint256 taskId, bytes[] memory o) = misbehaving(MisbehavingConsumer.Mode.BurnGas);
        uint256 g0 = gasleft();
        hevm.expectEmit(address(coord));
        emit TaskCoordinator.CallbackFailed(taskId);
        coord.finalize(taskId, o);
        uint256 used = g0 - gasleft();
        assertTrue(used < coord.CALLBACK_GAS() + 150_000, "the callback is capped");
        assertEq(uint256(coord.getTask(taskId).status), uint256(TaskCoordinator.TaskStatus.Final), "final");
    }

    function test_callback_returnBomb() public {
        (, uint256 taskId, bytes[] memory o) = misbehaving(MisbehavingConsumer.Mode.ReturnBomb);
        uint256 g0 = gasleft();
        coord.finalize(taskId, o);
        assertTrue(g0 - gasleft() < coord.CALLBACK_GAS() + 150_000, "no return data copied");
        assertEq(uint256(coord.getTask(taskId).status), uint256(TaskCoordinator.TaskStatus.Final), "final");
    }

    function test_callback_receivesOutputs() public {
        (MisbehavingConsumer c, uint256 taskId, bytes[] memory o) = misbehaving(MisbehavingConsumer.Mode.Record);
        hevm.recordLogs();
        coord.finalize(taskId, o);
        assertEq(c.calls(), 1, "called once");
        assertEq(c.lastTaskId(), taskId, "task id");
        assertEq(keccak256(c.lastOutput0()), keccak256(o[0]), "outputs");
        assertNoCallbackFailed();
    }

    function assertNoCallbackFailed() internal {
        VmExt.Log[] memory logs = hevm.getRecordedLogs();
        assertTrue(logs.length > 0, "logs recorded");
        for (uint256 i = 0; i < logs.length; i++) {
            assertTrue(logs[i].topics[0] != TaskCoordinator.CallbackFailed.selector, "no CallbackFailed");
        }
    }

    /// finalize with too little gas for the callback's full share is refused (nothing changes).
    function test_callback_starvedIsRefused() public {
        (, uint256 taskId, bytes[] memory o) = misbehaving(MisbehavingConsumer.Mode.Record);
        (bool ok, bytes memory ret) = address(coord).call{gas: 250_000}(abi.encodeCall(TaskCoordinator.finalize, (taskId, o)));
        assertTrue(!ok, "refused");
        assertEq(bytes32(ret), bytes32(TaskCoordinator.InsufficientGas.selector), "InsufficientGas");
        assertEq(coord.getTask(taskId).liveSubmission, 1, "still live");
        coord.finalize(taskId, o);
    }

    /// An EOA requester with callback = true: the call succeeds trivially.
    function test_callback_eoaRequester() public {
        address req = address(0xe0a);
        hevm.deal(req, 1 ether);
        TaskCoordinator.InputData[] memory ins = new TaskCoordinator.InputData[](1);
        ins[0] = TaskCoordinator.InputData({data: image(), dataRoot: bytes32(0), uri: ""});
        bytes32[][] memory p = new bytes32[][](1);
        p[0] = Sparse.path(constants(), IN_SLOT);
        hevm.prank(req);
        uint256 taskId = coord.requestInference{value: REWARD}(fmnist, ins, p, WINDOW, deadline, 2, true);
        bytes[] memory o = submitLogits(taskId, logitsOf(sample));
        hevm.warp(block.timestamp + WINDOW);
        hevm.recordLogs();
        coord.finalize(taskId, o);
        assertNoCallbackFailed();
    }
}
