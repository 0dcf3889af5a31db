// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Synth} from "./game/Synth.sol";
import {Sparse} from "./game/Sparse.sol";
import {MockVerifier} from "./game/Mocks.sol";
import {ProofBuilder} from "./utils/ProofBuilder.sol";
import {DisputeGame, IGameResolver} from "../src/DisputeGame.sol";
import {OPVM} from "../src/OPVM.sol";
import {IOPVM} from "../src/IOPVM.sol";
import {MerkleLib} from "../src/MerkleLib.sol";

/**
 * The dispute game of docs/game.md §4 with this test contract as its coordinator: full games against the
 * synthetic model of test/game/Synth.sol with the real OPVM verifier (binary and k-ary dissection, honest
 * and cheating submitters, honest and wrong challengers), every move's checks and errors, clocks and
 * timeouts both ways, and the cut points (fuzzed).
 */
contract DisputeGameTest is Synth, IGameResolver {
    uint64 internal constant CLOCK = 1 hours;
    address internal constant SUB = address(0x5b);
    address internal constant CHAL = address(0xc4);
    address internal constant OTHER = address(0x07);

    OPVM internal opvm;
    DisputeGame internal game;
    MockVerifier internal mock;
    DisputeGame internal mgame;

    mapping(uint256 => uint256) internal settledCount;
    mapping(uint256 => bool) internal settledWon;
    address internal lastResolver;

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
    event Bisected(uint256 indexed gameId, uint8 phase, uint64 lo, uint64 hi, bytes32[] mids);
    event Chosen(uint256 indexed gameId, uint8 phase, uint256 segment, uint64 lo, uint64 hi);
    event NodeOpened(uint256 indexed gameId, uint32 node, bytes32 initialState, uint64 steps, bytes32 finalState);
    event GameResolved(uint256 indexed gameId, bool submitterWon, uint8 reason);

    function setUp() public {
        hevm.warp(1_700_000_000);
        opvm = new OPVM();
        game = new DisputeGame(address(this), opvm, CLOCK);
        mock = new MockVerifier();
        mgame = new DisputeGame(address(this), mock, CLOCK);
    }

    function onGameResolved(uint256 gameId, bool submitterWon) external {
        settledCount[gameId]++;
        settledWon[gameId] = submitterWon;
        lastResolver = msg.sender;
    }

    function setup(bytes32 sn, uint8 k) internal pure returns (DisputeGame.GameSetup memory s) {
        s = DisputeGame.GameSetup({
            taskId: 7,
            submitter: SUB,
            challenger: CHAL,
            s0: honestS0(),
            sn: sn,
            recordsRoot: Sparse.root(recordsTree()),
            nodes: uint32(NODES),
            slotDepth: uint8(SLOT_DEPTH),
            dissection: k
        });
    }

    function honestS0() internal pure returns (bytes32) {
        Sparse.Tree memory t = constantTree();
        Sparse.set(t, 0, commit(inputX(), 0));
        return Sparse.root(t);
    }

    function newGame(DisputeGame g, Trace memory sub, uint8 k) internal returns (uint256) {
        return g.create(setup(sub.states[NODES], k));
    }

    function st(DisputeGame g, uint256 id) internal view returns (DisputeGame.GameView memory) {
        return g.getGame(id);
    }

    // ---------------------------------------------------------------------------------------------------
    // The synthetic model itself

    /// Every step proof of every node of the honest trace verifies on the real OPVM; outputs are right.
    function test_synthModel_realProofs() public view {
        Trace memory h = honest();
        for (uint256 k = 0; k < NODES; k++) {
            Run memory r = h.runs[k];
            for (uint256 s = 0; s + 1 < r.hashes.length; s++) {
                assertEq(opvm.step(r.hashes[s], r.proofs[s]), r.hashes[s + 1], "step proof");
            }
            // the halted final state is a fixed point
            uint256 n = r.hashes.length - 1;
            assertEq(opvm.step(r.hashes[n], r.proofs[n]), r.hashes[n], "fixed point");
            assertEq(keccak256(r.finalHeader), r.hashes[n], "final header");
        }
        assertEq(leU64(bytes32(h.tensors[2]), 0), 8, "y1");
        assertEq(leU64(bytes32(h.tensors[3]), 0), 13, "y2");
        assertEq(leU64(bytes32(h.tensors[4]), 0), 16, "y3");
        assertEq(h.states[0], honestS0(), "S_0");
        // node 1's code sits after its input region: pc_0 = 16
        assertEq(layoutOf(1).codeAt, 16, "code address");
        Trace memory c = traceOf(2, 1);
        assertEq(leU64(bytes32(c.tensors[3]), 0), 14, "cheated y2");
        assertEq(leU64(bytes32(c.tensors[4]), 0), 17, "cheated y3 carries on");
        assertEq(c.states[1], h.states[1], "S_1 agreed");
        assertTrue(c.states[2] != h.states[2], "S_2 disputed");
    }

    // ---------------------------------------------------------------------------------------------------
    // create

    function test_create() public {
        Trace memory h = honest();
        hevm.expectEmit(address(game));
        emit GameCreated(1, 7, SUB, CHAL, h.states[0], h.states[NODES], uint32(NODES), 3);
        uint256 id = newGame(game, h, 3);
        assertEq(id, 1, "first id");
        assertEq(game.gameCount(), 1, "count");
        DisputeGame.GameView memory v = st(game, id);
        assertEq(uint256(v.status), uint256(DisputeGame.Status.Active), "active");
        assertEq(v.phase, 2, "phase 2");
        assertEq(v.lo, 0, "lo");
        assertEq(v.hi, NODES, "hi");
        assertEq(v.loHash, h.states[0], "agreed S_0");
        assertEq(v.hiHash, h.states[NODES], "claimed S_n");
        assertEq(uint256(v.expected), uint256(DisputeGame.Move.Bisect), "submitter bisects first");
        assertEq(v.mover, SUB, "mover");
        assertEq(v.moverDeadline, block.timestamp + CLOCK, "deadline");
        assertEq(v.submitterClock, CLOCK, "clock");
        assertEq(v.challengerClock, CLOCK, "clock");
    }

    function test_create_onlyCoordinator() public {
        DisputeGame.GameSetup memory s = setup(bytes32(uint256(1)), 2);
        hevm.prank(OTHER);
        vm.expectRevert(DisputeGame.OnlyCoordinator.selector);
        game.create(s);
    }

    function test_create_badSetup() public {
        DisputeGame.GameSetup memory s = setup(bytes32(uint256(1)), 2);
        s.nodes = 0;
        vm.expectRevert(DisputeGame.BadSetup.selector);
        game.create(s);
        s = setup(bytes32(uint256(1)), 1);
        vm.expectRevert(DisputeGame.BadSetup.selector);
        game.create(s);
        s = setup(bytes32(uint256(1)), 17);
        vm.expectRevert(DisputeGame.BadSetup.selector);
        game.create(s);
        s = setup(bytes32(uint256(1)), 2);
        s.slotDepth = 33;
        vm.expectRevert(DisputeGame.BadSetup.selector);
        game.create(s);
        s = setup(bytes32(uint256(1)), 2);
        s.challenger = address(0);
        vm.expectRevert(DisputeGame.BadSetup.selector);
        game.create(s);
        // a game against oneself
        s = setup(bytes32(uint256(1)), 2);
        s.challenger = SUB;
        vm.expectRevert(DisputeGame.BadSetup.selector);
        game.create(s);
    }

    /// A one-node model starts at [0, 1]: the submitter opens node 1 right away.
    function test_create_oneNodeOpensAtOnce() public {
        DisputeGame.GameSetup memory s = setup(bytes32(uint256(1)), 2);
        s.nodes = 1;
        uint256 id = game.create(s);
        assertEq(uint256(st(game, id).expected), uint256(DisputeGame.Move.Open), "open");
    }

    // ---------------------------------------------------------------------------------------------------
    // Full games with the real OPVM

    function checkCheaterLoses(uint8 k, uint256 cheatNode, uint64 delta) internal {
        Trace memory h = honest();
        Trace memory c = traceOf(cheatNode, delta);
        uint256 id = newGame(game, c, k);
        // play up to the step proof: the dispute must have narrowed to the cheated node's last I64_ADD
        DisputeGame.GameView memory v = playUntil(game, id, c, h, DisputeGame.Move.Prove);
        assertEq(v.phase, 1, "phase 1");
        assertEq(v.node, cheatNode, "the first disputed node");
        uint256 lastAdd = 2 * nodeDef(cheatNode).ins.length;
        assertEq(v.lo, lastAdd, "the cheated step");
        assertEq(v.hi, lastAdd + 1, "one step");
        assertEq(v.loHash, h.runs[cheatNode - 1].hashes[lastAdd], "agreed pre-state");
        assertEq(v.hiHash, c.runs[cheatNode - 1].hashes[lastAdd + 1], "cheater's post-state");
        playAll(game, id, c, h);
        assertEq(uint256(st(game, id).status), uint256(DisputeGame.Status.ChallengerWon), "challenger won");
        assertEq(settledCount[id], 1, "settled once");
        assertEq(settledWon[id], false, "submitter lost");
        assertEq(lastResolver, address(game), "resolver");
    }

    function test_cheaterLoses_binary() public {
        checkCheaterLoses(2, 3, 1);
    }

    function test_cheaterLoses_binary_firstNode() public {
        checkCheaterLoses(2, 1, 1000);
    }

    function test_cheaterLoses_ternary() public {
        checkCheaterLoses(3, 2, 1);
    }

    function test_cheaterLoses_kary16() public {
        checkCheaterLoses(16, 2, type(uint64).max);
    }

    /// forge-config: default.fuzz.runs = 24
    function testFuzz_cheaterLoses(uint8 k, uint256 node, uint64 delta) public {
        k = uint8(bound(k, 2, 16));
        node = bound(node, 1, NODES);
        vm.assume(delta != 0);
        checkCheaterLoses(k, node, delta);
    }

    function checkHonestWins(uint8 k, uint256 wrongNode) internal {
        Trace memory h = honest();
        // A challenger that believes a wrong value at `wrongNode` (or agrees with everything: 0).
        Trace memory c = wrongNode == 0 ? h : traceOf(wrongNode, 1);
        uint256 id = newGame(game, h, k);
        playAll(game, id, h, c);
        DisputeGame.GameView memory v = st(game, id);
        assertEq(uint256(v.status), uint256(DisputeGame.Status.SubmitterWon), "submitter won");
        assertEq(v.phase, 1, "decided by a step proof");
        assertEq(settledCount[id], 1, "settled once");
        assertEq(settledWon[id], true, "submitter won");
    }

    function test_honestWins_binary() public {
        checkHonestWins(2, 2);
    }

    function test_honestWins_kary() public {
        checkHonestWins(4, 3);
        checkHonestWins(16, 1);
    }

    function test_honestWins_challengerAgreesWithAll() public {
        checkHonestWins(2, 0);
    }

    /// The events carry what a client needs: Bisected's mids, Chosen's new interval, NodeOpened's states.
    function test_events() public {
        Trace memory h = honest();
        Trace memory c = traceOf(3, 1);
        uint256 id = newGame(game, c, 4);
        bytes32[] memory mids = new bytes32[](2);
        mids[0] = c.states[1];
        mids[1] = c.states[2];
        hevm.expectEmit(address(game));
        emit Bisected(id, 2, 0, 3, mids);
        hevm.prank(SUB);
        game.bisect(id, mids);
        hevm.expectEmit(address(game));
        emit Chosen(id, 2, 2, 2, 3);
        hevm.prank(CHAL);
        game.choose(id, 2, mids);
        Run memory r = c.runs[2];
        hevm.expectEmit(address(game));
        emit NodeOpened(id, 3, h.runs[2].hashes[0], uint64(r.hashes.length - 1), r.hashes[r.hashes.length - 1]);
        hevm.prank(SUB);
        game.openNode(id, c.openings[2]);
        DisputeGame.GameView memory v = st(game, id);
        assertEq(v.phase, 1, "phase 1");
        assertEq(v.lo, 0, "lo");
        assertEq(v.hi, r.hashes.length - 1, "hi = steps");
        assertEq(v.loHash, h.runs[2].hashes[0], "H_0 computed on chain equals the honest initial state");
    }

    // ---------------------------------------------------------------------------------------------------
    // bisect / choose

    function test_bisect_errors() public {
        Trace memory h = honest();
        uint256 id = newGame(game, h, 2);
        bytes32[] memory mids = new bytes32[](1);
        mids[0] = h.states[1];
        // out of turn: the challenger, a third party
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.bisect(id, mids);
        hevm.prank(OTHER);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.bisect(id, mids);
        // wrong count: m − 1 = 1
        bytes32[] memory two = new bytes32[](2);
        hevm.prank(SUB);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.BadMids.selector, 2, 1));
        game.bisect(id, two);
        // an unknown game
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.UnknownGame.selector);
        game.bisect(99, mids);
        // the submitter's next move is choose's turn: bisecting again is out of turn
        hevm.prank(SUB);
        game.bisect(id, mids);
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.bisect(id, mids);
    }

    function test_choose_errors() public {
        Trace memory h = honest();
        uint256 id = newGame(game, h, 4);
        bytes32[] memory mids = new bytes32[](2);
        mids[0] = h.states[1];
        mids[1] = h.states[2];
        // before a bisection it is the submitter's turn
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.choose(id, 0, mids);
        hevm.prank(SUB);
        game.bisect(id, mids);
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.choose(id, 0, mids);
        // other mids than bisected
        bytes32[] memory other = new bytes32[](2);
        other[0] = mids[0];
        other[1] = bytes32(uint256(1));
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.MidsMismatch.selector);
        game.choose(id, 0, other);
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.MidsMismatch.selector);
        game.choose(id, 0, new bytes32[](0));
        // m = 3 segments
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.BadSegment.selector);
        game.choose(id, 3, mids);
        hevm.prank(CHAL);
        game.choose(id, 1, mids);
        DisputeGame.GameView memory v = st(game, id);
        assertEq(v.lo, 1, "lo");
        assertEq(v.hi, 2, "hi");
        assertEq(v.loHash, h.states[1], "agreed");
        assertEq(v.hiHash, h.states[2], "claimed");
        assertEq(uint256(v.expected), uint256(DisputeGame.Move.Open), "open node 2");
        // choose at the open: out of turn (the submitter moves)
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.choose(id, 0, mids);
    }

    /// Choosing the first segment keeps the agreed S_0 and takes the first mid as the claim.
    function test_choose_firstAndLastSegments() public {
        Trace memory h = honest();
        uint256 id = newGame(game, h, 2);
        bytes32[] memory mids = new bytes32[](1);
        mids[0] = h.states[1];
        hevm.prank(SUB);
        game.bisect(id, mids);
        hevm.prank(CHAL);
        game.choose(id, 0, mids);
        DisputeGame.GameView memory v = st(game, id);
        assertEq(v.lo, 0, "lo");
        assertEq(v.hi, 1, "hi");
        assertEq(v.loHash, h.states[0], "S_0");
        assertEq(v.hiHash, h.states[1], "S_1");
        uint256 id2 = newGame(game, h, 2);
        hevm.prank(SUB);
        game.bisect(id2, mids);
        hevm.prank(CHAL);
        game.choose(id2, 1, mids);
        v = st(game, id2);
        assertEq(v.lo, 1, "lo");
        assertEq(v.hi, 3, "hi");
        assertEq(v.loHash, h.states[1], "S_1");
        assertEq(v.hiHash, h.states[3], "S_n");
    }

    // ---------------------------------------------------------------------------------------------------
    // openNode

    /// A game at the opening of node `node` (the challenger disputes it) with the honest submitter.
    function atOpen(uint256 node) internal returns (uint256 id, Trace memory h) {
        h = honest();
        id = newGame(game, h, 2);
        DisputeGame.GameView memory v = playUntil(game, id, h, traceOf(node, 1), DisputeGame.Move.Open);
        assertEq(v.hi, node, "opening the node");
    }

    function open(uint256 id, DisputeGame.NodeOpening memory o, bytes memory err) internal {
        hevm.prank(SUB);
        vm.expectRevert(err);
        game.openNode(id, o);
    }

    function test_openNode_turnAndPhase() public {
        Trace memory h = honest();
        uint256 id = newGame(game, h, 2);
        // at a bisection
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.WrongPhase.selector);
        game.openNode(id, h.openings[0]);
        (uint256 id2,) = atOpen(2);
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.openNode(id2, h.openings[1]);
        // the submitter's turn, but the opening is due, not a bisection
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.WrongPhase.selector);
        game.bisect(id2, new bytes32[](1));
    }

    /// At the step proof: the challenger's turn, but choose is not due; the submitter may not choose.
    function test_choose_wrongPhaseAtProve() public {
        (uint256 id,,) = atProve(game, 2);
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.WrongPhase.selector);
        game.choose(id, 0, new bytes32[](1));
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.choose(id, 0, new bytes32[](1));
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.NotYourTurn.selector);
        game.bisect(id, new bytes32[](1));
    }

    function test_openNode_badLengths() public {
        (uint256 id, Trace memory h) = atOpen(2);
        DisputeGame.NodeOpening memory o = h.openings[1];
        o.inTypes = new bytes32[](0);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadOpening.selector));
        o = honest().openings[1];
        o.outRegionPaths = new bytes32[][](2);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadOpening.selector));
        o = honest().openings[1];
        o.heights = new uint8[](1);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadOpening.selector));
    }

    /// 1. the record: a forged path, another op, another node's record, IO that is not the record's.
    function test_openNode_badRecord() public {
        (uint256 id, Trace memory h) = atOpen(2);
        DisputeGame.NodeOpening memory o = h.openings[1];
        o.recordPath[0] = bytes32(uint256(o.recordPath[0]) ^ 1);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadRecordProof.selector));
        o = honest().openings[1];
        o.opHash = keccak256("Mul");
        open(id, o, abi.encodeWithSelector(DisputeGame.BadRecordProof.selector));
        o = honest().openings[1];
        o.recordPath = new bytes32[](1);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadRecordProof.selector));
        // node 1's (valid) opening at node 2: its record is leaf 0, not leaf 1
        open(id, honest().openings[0], abi.encodeWithSelector(DisputeGame.BadRecordProof.selector));
        // claim the node writes slot 4 instead of 3
        o = honest().openings[1];
        o.outSlots[0] = 4;
        open(id, o, abi.encodeWithSelector(DisputeGame.BadRecordProof.selector));
        // another layout
        o = honest().openings[1];
        o.heights[1] = 2;
        open(id, o, abi.encodeWithSelector(DisputeGame.BadRecordProof.selector));
    }

    /// 2. the inputs: a forged slot path, a data root that is not the slot's.
    function test_openNode_badInputs() public {
        (uint256 id, Trace memory h) = atOpen(2);
        DisputeGame.NodeOpening memory o = h.openings[1];
        o.inPaths[1][2] = bytes32(uint256(7));
        open(id, o, abi.encodeWithSelector(DisputeGame.BadInputProof.selector, 1));
        o = honest().openings[1];
        o.inRoots[0] = bytes32(uint256(o.inRoots[0]) + 1);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadInputProof.selector, 0));
        o = honest().openings[1];
        o.inPaths[0] = new bytes32[](2);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadInputProof.selector, 0));
    }

    /// 3. the transition: another output root than S_k holds, a forged path.
    function test_openNode_badTransition() public {
        (uint256 id, Trace memory h) = atOpen(2);
        DisputeGame.NodeOpening memory o = h.openings[1];
        o.outRoots[0] = bytes32(uint256(1));
        open(id, o, abi.encodeWithSelector(DisputeGame.BadTransition.selector));
        o = honest().openings[1];
        o.outPaths[0][0] = bytes32(uint256(9));
        open(id, o, abi.encodeWithSelector(DisputeGame.BadTransition.selector));
        o = honest().openings[1];
        o.outPaths[0] = new bytes32[](4);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadTransition.selector));
    }

    /// The slot tree of S_k of a trace.
    function slotTreeAt(Trace memory tr, uint256 k) internal pure returns (Sparse.Tree memory t) {
        t = constantTree();
        Sparse.set(t, 0, commit(tr.tensors[0], 0));
        for (uint256 j = 1; j <= k; j++) {
            uint32 o = nodeDef(j).outs[0];
            Sparse.set(t, o, commit(tr.tensors[o], o));
        }
    }

    /**
     * A claimed S_k that also writes another slot than node k's outputs: no opening passes (the honest one
     * reaches the true S_k; a record with that slot is not the model's), so the submitter times out.
     */
    function test_openNode_transitionWritesAnotherSlot() public {
        Trace memory h = honest();
        Sparse.Tree memory t = slotTreeAt(h, 2);
        Sparse.set(t, 4, commit(h.tensors[4], 4)); // S_2 with y3 written early
        bytes32 forged = Sparse.root(t);
        uint256 id = game.create(setup(h.states[3], 4));
        bytes32[] memory mids = new bytes32[](2);
        mids[0] = h.states[1];
        mids[1] = forged;
        hevm.prank(SUB);
        game.bisect(id, mids);
        hevm.prank(CHAL);
        game.choose(id, 1, mids); // [1, 2]: S_1 agreed, the forged S_2 claimed
        open(id, h.openings[1], abi.encodeWithSelector(DisputeGame.BadTransition.selector));
        DisputeGame.NodeOpening memory o = h.openings[1];
        o.outSlots = u32s(3, 4);
        o.outTypes = typesOf(o.outSlots);
        o.outRoots = new bytes32[](2);
        o.outRoots[0] = h.openings[1].outRoots[0];
        o.outRoots[1] = Sparse.dataRoot(h.tensors[4]);
        o.outPaths = new bytes32[][](2);
        o.outPaths[0] = h.openings[1].outPaths[0];
        Sparse.Tree memory t1 = slotTreeAt(h, 2);
        o.outPaths[1] = Sparse.path(t1, 4);
        o.outRegionPaths = new bytes32[][](2);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadRecordProof.selector));
        hevm.warp(block.timestamp + CLOCK + 1);
        game.timeout(id);
        assertEq(settledWon[id], false, "the submitter could not open and lost");
    }

    /// The record of an opening (independent of src/): keccak256(opHash ‖ codeRoot ‖ layoutHash ‖ ioHash).
    function recordOfOpening(DisputeGame.NodeOpening memory o) internal pure returns (bytes32) {
        bytes memory lay = abi.encodePacked(o.kinds.length);
        for (uint256 r = 0; r < o.kinds.length; r++) {
            lay = bytes.concat(lay, abi.encodePacked(uint256(o.kinds[r]), uint256(o.indexes[r]), uint256(o.heights[r])));
        }
        bytes memory io = abi.encodePacked(o.inSlots.length);
        for (uint256 i = 0; i < o.inSlots.length; i++) io = bytes.concat(io, abi.encodePacked(uint256(o.inSlots[i]), o.inTypes[i]));
        io = bytes.concat(io, abi.encodePacked(o.outSlots.length));
        for (uint256 j = 0; j < o.outSlots.length; j++) io = bytes.concat(io, abi.encodePacked(uint256(o.outSlots[j]), o.outTypes[j]));
        return keccak256(abi.encodePacked(o.opHash, o.codeRoot, keccak256(lay), keccak256(io), uint256(o.stepBound)));
    }

    /**
     * A one-node game whose record is the (possibly malformed) opening's own: the layout checks of step 4
     * and the output-region lookup of step 5 are reached with a record that passes step 1. The node is
     * the synthetic model's node 2 (S_1 → S_2).
     */
    function customGame(DisputeGame.NodeOpening memory o) internal returns (uint256 id) {
        Trace memory h = honest();
        DisputeGame.GameSetup memory s = setup(h.states[2], 2);
        s.nodes = 1;
        s.s0 = h.states[1];
        s.recordsRoot = recordOfOpening(o);
        o.recordPath = new bytes32[](0);
        id = game.create(s);
    }

    function test_openNode_customRecordControl() public {
        DisputeGame.NodeOpening memory o = honest().openings[1];
        uint256 id = customGame(o);
        hevm.prank(SUB);
        game.openNode(id, o);
        assertEq(st(game, id).phase, 1, "opened");
    }

    /// 4. layouts a record may carry but no memory has.
    function test_openNode_badLayout() public {
        // node 2's regions: code h3, scratch h1, input 0 h0, input 1 h0, output 0 h0
        DisputeGame.NodeOpening memory o = honest().openings[1];
        assertEq(o.kinds[1], 3, "scratch second");
        o.kinds[1] = 5; // no such kind
        open(customGame(o), o, abi.encodeWithSelector(DisputeGame.BadLayout.selector));
        o = honest().openings[1];
        o.indexes[3] = 2; // input 2 of a two-input node
        open(customGame(o), o, abi.encodeWithSelector(DisputeGame.BadLayout.selector));
        o = honest().openings[1];
        o.kinds[0] = 3; // no code region
        open(customGame(o), o, abi.encodeWithSelector(DisputeGame.BadLayout.selector));
        o = honest().openings[1];
        o.heights[0] = 27; // higher than the memory
        open(customGame(o), o, abi.encodeWithSelector(DisputeGame.BadLayout.selector));
        o = honest().openings[1];
        o.heights[4] = 3; // not in address order
        open(customGame(o), o, abi.encodeWithSelector(MerkleLib.BadRegionOrder.selector, 4));
        o = honest().openings[1];
        o.heights[0] = 26; // 2^26 leaves of code, then more regions: past the memory
        open(customGame(o), o, abi.encodeWithSelector(MerkleLib.RegionsExceedMemory.selector));
        o = honest().openings[1];
        o.kinds[4] = 3; // the output has no region
        open(customGame(o), o, abi.encodeWithSelector(DisputeGame.BadOutputRegion.selector, 0));
    }

    /**
     * The step-inflation attack (issue 11.4): a cheater claims far more steps than the node can run, so that
     * the challenger pays for more phase-1 rounds. The node record commits a compile-time step bound: a claim
     * above it is refused, and a bound changed in the opening no longer matches the record. A claim at the
     * bound itself (a halted state padded to it) is fine.
     */
    function test_openNode_stepsAboveTheRecordsBound() public {
        (uint256 id, Trace memory h) = atOpen(2);
        DisputeGame.NodeOpening memory o = h.openings[1];
        uint64 bound = stepBoundOf(2);
        assertEq(o.stepBound, bound, "the opening carries the record's bound");
        o.steps = uint64(1 << 48);
        open(id, o, abi.encodeWithSelector(DisputeGame.StepsAboveBound.selector, uint64(1 << 48), bound));
        o.steps = bound + 1;
        open(id, o, abi.encodeWithSelector(DisputeGame.StepsAboveBound.selector, bound + 1, bound));
        o.stepBound = uint64(1 << 48); // a bound of the cheater's choosing is not the record's
        o.steps = uint64(1 << 48);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadRecordProof.selector));
        o = honest().openings[1];
        o.steps = bound;
        hevm.prank(SUB);
        game.openNode(id, o);
        assertEq(st(game, id).hi, bound, "phase 1 over [0, bound]");
    }

    /// 5. steps and the final state: zero or too many steps, not halted, bad padding, wrong length.
    function test_openNode_badFinalState() public {
        (uint256 id, Trace memory h) = atOpen(2);
        DisputeGame.NodeOpening memory o = h.openings[1];
        o.steps = 0;
        open(id, o, abi.encodeWithSelector(DisputeGame.BadSteps.selector));
        o.steps = uint64(1 << 48) + 1;
        open(id, o, abi.encodeWithSelector(DisputeGame.BadSteps.selector));
        o = honest().openings[1];
        o.finalHeader = h.runs[1].proofs[3]; // a running state's proof (header ‖ …): wrong length
        open(id, o, abi.encodeWithSelector(DisputeGame.BadFinalState.selector));
        o = honest().openings[1];
        o.finalHeader[36] = 0x00; // running
        open(id, o, abi.encodeWithSelector(DisputeGame.BadFinalState.selector));
        o = honest().openings[1];
        o.finalHeader[36] = 0x02; // trapped
        open(id, o, abi.encodeWithSelector(DisputeGame.BadFinalState.selector));
        o = honest().openings[1];
        o.finalHeader[38] = 0x01; // padding
        open(id, o, abi.encodeWithSelector(DisputeGame.BadFinalState.selector));
    }

    /// 5. the output region: a forged path, a final memory whose output region holds something else.
    function test_openNode_badOutputRegion() public {
        (uint256 id, Trace memory h) = atOpen(2);
        DisputeGame.NodeOpening memory o = h.openings[1];
        o.outRegionPaths[0][25] = bytes32(uint256(1));
        open(id, o, abi.encodeWithSelector(DisputeGame.BadOutputRegion.selector, 0));
        o = honest().openings[1];
        o.outRegionPaths[0] = new bytes32[](25);
        open(id, o, abi.encodeWithSelector(DisputeGame.BadOutputRegion.selector, 0));
        // the final header of the node's initial memory (output region still zero), marked halted
        o = honest().openings[1];
        bytes memory hdr = h.runs[1].proofs[0];
        bytes memory fh = new bytes(296);
        for (uint256 i = 0; i < 296; i++) fh[i] = hdr[i];
        fh[36] = 0x01;
        o.finalHeader = fh;
        open(id, o, abi.encodeWithSelector(DisputeGame.BadOutputRegion.selector, 0));
    }

    /**
     * A cheater whose S_k commits to a wrong output but whose final header is the honest run's: the output
     * region does not hold the claimed root.
     */
    function test_openNode_outputRegionDiffers() public {
        Trace memory h = honest();
        Trace memory c = traceOf(3, 5);
        uint256 id = newGame(game, c, 2);
        playUntil(game, id, c, h, DisputeGame.Move.Open);
        DisputeGame.NodeOpening memory o = c.openings[2];
        o.finalHeader = h.openings[2].finalHeader;
        o.outRegionPaths = h.openings[2].outRegionPaths;
        open(id, o, abi.encodeWithSelector(DisputeGame.BadOutputRegion.selector, 0));
        // its own (self-consistent) opening passes: the lie is caught in phase 1
        DisputeGame.NodeOpening memory own = traceOf(3, 5).openings[2];
        hevm.prank(SUB);
        game.openNode(id, own);
        assertEq(st(game, id).phase, 1, "phase 1");
    }

    function test_openNode_clockExpired() public {
        (uint256 id, Trace memory h) = atOpen(1);
        DisputeGame.GameView memory v = st(game, id);
        hevm.warp(v.moverDeadline + 1);
        open(id, h.openings[0], abi.encodeWithSelector(DisputeGame.ClockExpired.selector));
        // at the deadline itself the move is still in time
        hevm.warp(v.moverDeadline);
        hevm.prank(SUB);
        game.openNode(id, h.openings[0]);
    }

    // ---------------------------------------------------------------------------------------------------
    // proveStep

    function atProve(DisputeGame g, uint256 node) internal returns (uint256 id, Trace memory h, Trace memory c) {
        h = honest();
        c = traceOf(node, 1);
        id = g.create(setup(h.states[NODES], 2));
        playUntil(g, id, h, c, DisputeGame.Move.Prove);
    }

    function test_proveStep_badProofs() public {
        (uint256 id, Trace memory h,) = atProve(game, 2);
        DisputeGame.GameView memory v = st(game, id);
        Run memory r = h.runs[1];
        // a proof for a different pre-state
        hevm.prank(CHAL);
        vm.expectRevert(IOPVM.BadPreState.selector);
        game.proveStep(id, r.proofs[v.lo - 1]);
        // a forged instruction path
        bytes memory p = r.proofs[v.lo];
        bytes memory forged = new bytes(p.length);
        for (uint256 i = 0; i < p.length; i++) forged[i] = p[i];
        forged[296 + 32 + 5] = bytes1(uint8(forged[296 + 32 + 5]) ^ 1);
        hevm.prank(CHAL);
        vm.expectRevert(IOPVM.BadInsnProof.selector);
        game.proveStep(id, forged);
        // a truncated proof: the pre-state's header alone
        bytes memory hdr = new bytes(296);
        for (uint256 i = 0; i < 296; i++) hdr[i] = p[i];
        hevm.prank(CHAL);
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 296, 1160));
        game.proveStep(id, hdr);
        assertEq(uint256(st(game, id).status), uint256(DisputeGame.Status.Active), "still active");
    }

    function test_proveStep_wrongPhase() public {
        Trace memory h = honest();
        uint256 id = newGame(game, h, 2);
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.WrongPhase.selector);
        game.proveStep(id, h.runs[0].proofs[0]);
        vm.expectRevert(DisputeGame.UnknownGame.selector);
        game.proveStep(42, h.runs[0].proofs[0]);
    }

    /// Anyone may send the step proof; the outcome is the verifier's.
    function test_proveStep_byAnyone() public {
        (uint256 id, Trace memory h,) = atProve(game, 1);
        DisputeGame.GameView memory v = st(game, id);
        hevm.expectEmit(address(game));
        emit GameResolved(id, true, 0);
        hevm.prank(OTHER);
        game.proveStep(id, h.runs[0].proofs[v.lo]);
        assertEq(settledWon[id], true, "the honest claim stands");
        // a second settlement: the game is over
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.GameOver.selector);
        game.proveStep(id, h.runs[0].proofs[v.lo]);
        vm.expectRevert(DisputeGame.GameOver.selector);
        game.timeout(id);
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.GameOver.selector);
        game.bisect(id, new bytes32[](1));
        assertEq(settledCount[id], 1, "settled exactly once");
    }

    function test_proveStep_clockExpired() public {
        (uint256 id, Trace memory h,) = atProve(game, 3);
        DisputeGame.GameView memory v = st(game, id);
        assertEq(v.mover, CHAL, "the challenger's clock runs");
        hevm.warp(v.moverDeadline + 1);
        hevm.prank(OTHER);
        vm.expectRevert(DisputeGame.ClockExpired.selector);
        game.proveStep(id, h.runs[2].proofs[v.lo]);
        game.timeout(id);
        assertEq(settledWon[id], true, "the challenger ran out of time");
    }

    /// The outcome rule alone, with a mock verifier: post == claimed → submitter, else challenger.
    function test_proveStep_outcomeRule_mock() public {
        (uint256 id,,) = atProve(mgame, 2);
        DisputeGame.GameView memory v = st(mgame, id);
        mock.set(v.hiHash, false);
        hevm.prank(CHAL);
        mgame.proveStep(id, "");
        assertEq(settledWon[id], true, "post equals the claim");
        (uint256 id2,,) = atProve(mgame, 2);
        mock.set(bytes32(uint256(1)), false);
        hevm.prank(CHAL);
        mgame.proveStep(id2, "");
        assertEq(settledWon[id2], false, "post differs from the claim");
        (uint256 id3,,) = atProve(mgame, 2);
        mock.set(0, true);
        hevm.prank(CHAL);
        vm.expectRevert(IOPVM.BadPreState.selector);
        mgame.proveStep(id3, "");
        assertEq(settledCount[id3], 0, "an invalid proof settles nothing");
    }

    // ---------------------------------------------------------------------------------------------------
    // Clocks and timeouts

    function test_timeout_submitterSilent() public {
        Trace memory h = honest();
        uint256 id = newGame(game, h, 2);
        vm.expectRevert(DisputeGame.ClockNotExpired.selector);
        game.timeout(id);
        hevm.warp(block.timestamp + CLOCK);
        vm.expectRevert(DisputeGame.ClockNotExpired.selector);
        game.timeout(id);
        hevm.warp(block.timestamp + 1);
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.ClockExpired.selector);
        game.bisect(id, new bytes32[](1));
        hevm.expectEmit(address(game));
        emit GameResolved(id, false, 1);
        hevm.prank(OTHER);
        game.timeout(id);
        assertEq(settledWon[id], false, "challenger wins");
        vm.expectRevert(DisputeGame.GameOver.selector);
        game.timeout(id);
        vm.expectRevert(DisputeGame.UnknownGame.selector);
        game.timeout(1234);
    }

    function test_timeout_challengerSilent() public {
        Trace memory h = honest();
        uint256 id = newGame(game, h, 2);
        bytes32[] memory mids = new bytes32[](1);
        mids[0] = h.states[1];
        hevm.warp(block.timestamp + 100);
        hevm.prank(SUB);
        game.bisect(id, mids);
        DisputeGame.GameView memory v = st(game, id);
        assertEq(v.submitterClock, CLOCK - 100, "the submitter's clock was charged");
        assertEq(v.challengerClock, CLOCK, "the challenger's clock untouched");
        assertEq(v.mover, CHAL, "challenger to move");
        hevm.warp(block.timestamp + CLOCK + 1);
        hevm.prank(CHAL);
        vm.expectRevert(DisputeGame.ClockExpired.selector);
        game.choose(id, 0, mids);
        game.timeout(id);
        assertEq(settledWon[id], true, "submitter wins");
    }

    /// Clocks are cumulative: time spent in earlier moves counts against the party's total.
    function test_clock_isCumulative() public {
        Trace memory h = honest();
        uint256 id = newGame(game, h, 2);
        bytes32[] memory mids = new bytes32[](1);
        mids[0] = h.states[1];
        hevm.warp(block.timestamp + CLOCK - 10);
        hevm.prank(SUB);
        game.bisect(id, mids); // 10 s left for the submitter
        hevm.warp(block.timestamp + 500);
        hevm.prank(CHAL);
        game.choose(id, 1, mids);
        hevm.warp(block.timestamp + 11);
        bytes32[] memory next = midsOf(game, h, st(game, id));
        hevm.prank(SUB);
        vm.expectRevert(DisputeGame.ClockExpired.selector);
        game.bisect(id, next);
        game.timeout(id);
        assertEq(settledWon[id], false, "the submitter used up its hour");
    }

    function test_timeout_submitterCannotOpen() public {
        (uint256 id,) = atOpen(3);
        hevm.warp(st(game, id).moverDeadline + 1);
        game.timeout(id);
        assertEq(settledWon[id], false, "challenger wins");
    }

    // ---------------------------------------------------------------------------------------------------
    // Cut points

    function test_cutPoints() public view {
        uint64[] memory p = game.cutPoints(0, 10, 4);
        assertEq(p.length, 5, "m = 4");
        assertEq(p[0], 0, "p0");
        assertEq(p[1], 2, "p1");
        assertEq(p[2], 5, "p2");
        assertEq(p[3], 7, "p3");
        assertEq(p[4], 10, "p4");
        p = game.cutPoints(5, 8, 16);
        assertEq(p.length, 4, "m = hi - lo");
        assertEq(p[1], 6, "unit steps");
    }

    function test_cutPoints_bad() public {
        vm.expectRevert(DisputeGame.BadSegment.selector);
        game.cutPoints(3, 3, 2);
        vm.expectRevert(DisputeGame.BadSegment.selector);
        game.cutPoints(3, 9, 1);
    }

    function testFuzz_cutPoints(uint64 lo, uint64 span, uint8 k) public view {
        span = uint64(bound(span, 1, 1 << 48));
        lo = uint64(bound(lo, 0, (1 << 48) - span));
        k = uint8(bound(k, 2, 16));
        uint64 hi = lo + span;
        uint64[] memory p = game.cutPoints(lo, hi, k);
        uint256 m = span < k ? span : k;
        assertEq(p.length, m + 1, "m + 1 points");
        assertEq(p[0], lo, "p_0 = lo");
        assertEq(p[m], hi, "p_m = hi");
        for (uint256 j = 1; j <= m; j++) {
            assertTrue(p[j] > p[j - 1], "strictly increasing");
            assertEq(p[j], lo + (uint256(span) * j) / m, "formula");
        }
    }

    /**
     * Phase 2 over a long graph: random segments narrow [0, n] to one node within ⌈log_k n⌉ + 1 rounds,
     * each new interval being the chosen segment's cut points, and the game then waits for the opening.
     */
    function testFuzz_bisectionNarrows(uint32 nodes, uint8 k, uint256 seed) public {
        nodes = uint32(bound(nodes, 2, type(uint32).max));
        k = uint8(bound(k, 2, 16));
        DisputeGame.GameSetup memory s = setup(keccak256("sn"), k);
        s.nodes = nodes;
        uint256 id = mgame.create(s);
        uint256 rounds = 0;
        while (true) {
            DisputeGame.GameView memory v = st(mgame, id);
            if (v.hi - v.lo == 1) {
                assertEq(uint256(v.expected), uint256(DisputeGame.Move.Open), "open at one node");
                break;
            }
            uint64[] memory p = mgame.cutPoints(v.lo, v.hi, k);
            uint256 m = p.length - 1;
            bytes32[] memory mids = new bytes32[](m - 1);
            for (uint256 j = 0; j + 1 < m; j++) mids[j] = keccak256(abi.encode(seed, rounds, j));
            hevm.prank(SUB);
            mgame.bisect(id, mids);
            uint256 seg = uint256(keccak256(abi.encode(seed, rounds))) % m;
            hevm.prank(CHAL);
            mgame.choose(id, seg, mids);
            DisputeGame.GameView memory w = st(mgame, id);
            assertEq(w.lo, p[seg], "new lo");
            assertEq(w.hi, p[seg + 1], "new hi");
            assertEq(w.loHash, seg == 0 ? v.loHash : mids[seg - 1], "agreed hash");
            assertEq(w.hiHash, seg + 1 == m ? v.hiHash : mids[seg], "claimed hash");
            rounds++;
            assertTrue(rounds <= 33, "bounded rounds");
        }
    }
}
