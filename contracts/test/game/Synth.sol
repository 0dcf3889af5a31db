// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {ProofBuilder} from "../utils/ProofBuilder.sol";
import {Sparse} from "./Sparse.sol";
import {VmExt} from "./VmExt.sol";
import {DisputeGame} from "../../src/DisputeGame.sol";
import {TaskCoordinator} from "../../src/TaskCoordinator.sol";

/**
 * A tiny synthetic model, built here from the specs (docs/commitments.md, docs/opvm.md) with real Merkle
 * trees, real OPVM programs and real step proofs, and a player that drives a DisputeGame from two parties'
 * traces.
 *
 * Graph (5 slots, slot tree depth 3; every tensor int64, dtype code 6):
 *   slot 0  x   int64[40]  graph input
 *   slot 1  c   int64[1]   constant 5
 *   slot 2  y1  int64[1]   node 1 "AddImm":  y1 = x[0] + 1
 *   slot 3  y2  int64[1]   node 2 "Add":     y2 = y1 + c        (with a 64-byte scratch region)
 *   slot 4  y3  int64[1]   node 3 "AddImm":  y3 = y2 + 3
 *   graph outputs: slots 4 and 2.
 * Each node's OPVM program: LOAD64 r(i+1) ← input i (each i); MOV r20 ← imm; I64_ADD r20 += r(i+1) (each
 * i); STORE64 output 0 ← r20; HALT — 2·nIn + 3 steps. A cheating party adds `delta` to the last I64_ADD
 * of one node (and carries the wrong value on).
 */
abstract contract Synth is Test {
    VmExt internal constant hevm = VmExt(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant SLOTS = 5;
    uint256 internal constant SLOT_DEPTH = 3;
    uint256 internal constant NODES = 3;
    uint256 internal constant RECORD_DEPTH = 2;
    uint256 internal constant INT64 = 6;
    uint256 internal constant X_LEN = 40;
    uint64 internal constant C_VALUE = 5;
    uint256 internal constant STEP_MARGIN = 8;
    string internal constant MODEL_URI = "ipfs://synth";

    uint256 internal constant OP_HALT = 0x01;
    uint256 internal constant OP_MOV = 0x05;
    uint256 internal constant OP_I64_ADD = 0x40;
    uint256 internal constant OP_LOAD64 = 0xa5;
    uint256 internal constant OP_STORE64 = 0xb3;

    struct NodeDef {
        bytes32 opHash;
        uint32[] ins;
        uint32[] outs;
        uint64 imm;
        uint256 scratchBytes;
    }

    struct Layout {
        uint8[] kinds;
        uint16[] indexes;
        uint8[] heights;
        uint256[] leafAt;
        uint256 codeAt;
    }

    struct Run {
        bytes32[] hashes; // state hash after s steps, s = 0 … steps
        bytes[] proofs; // packed step proof of step s → s + 1
        bytes finalHeader;
        bytes outBytes;
        bytes32 outRoot;
        bytes32[] outRegionPath;
    }

    struct Trace {
        bytes32[] states; // S_0 … S_n
        bytes[] tensors; // every slot's bytes after the run
        Run[] runs; // node k at k − 1
        DisputeGame.NodeOpening[] openings; // node k at k − 1
    }

    function assertEq(address a, address b, string memory what) internal pure {
        vm.assertEq(uint256(uint160(a)), uint256(uint160(b)), what);
    }

    // ---------------------------------------------------------------------------------------------------
    // The model

    function typeHash(uint256 dtype, uint256[] memory dims) internal pure returns (bytes32) {
        bytes memory b = abi.encodePacked(dtype, dims.length);
        for (uint256 i = 0; i < dims.length; i++) b = bytes.concat(b, bytes32(dims[i]));
        return keccak256(b);
    }

    function slotType(uint256 slot) internal pure returns (bytes32) {
        uint256[] memory dims = new uint256[](1);
        dims[0] = slot == 0 ? X_LEN : 1;
        return typeHash(INT64, dims);
    }

    /// The tensor type registerModel takes for a slot: int64 of X_LEN elements (slot 0) or one element.
    function slotTensorType(uint256 slot) internal pure returns (TaskCoordinator.TensorType memory t) {
        t.dtype = uint8(INT64);
        t.dims = new uint64[](1);
        t.dims[0] = uint64(slot == 0 ? X_LEN : 1);
    }

    function tensorTypesOf(uint32[] memory slots) internal pure returns (TaskCoordinator.TensorType[] memory t) {
        t = new TaskCoordinator.TensorType[](slots.length);
        for (uint256 i = 0; i < slots.length; i++) t[i] = slotTensorType(slots[i]);
    }

    /// Node k's step bound in its record: its true step count and a margin (halted states pad freely).
    function stepBoundOf(uint256 k) internal pure returns (uint64) {
        return uint64(insnCount(nodeDef(k)) + STEP_MARGIN);
    }

    function slotBytes(uint256 slot) internal pure returns (uint256) {
        return slot == 0 ? 8 * X_LEN : 8;
    }

    function u32s(uint256 a) internal pure returns (uint32[] memory r) {
        r = new uint32[](1);
        r[0] = uint32(a);
    }

    function u32s(uint256 a, uint256 b) internal pure returns (uint32[] memory r) {
        r = new uint32[](2);
        r[0] = uint32(a);
        r[1] = uint32(b);
    }

    function typesOf(uint32[] memory slots) internal pure returns (bytes32[] memory t) {
        t = new bytes32[](slots.length);
        for (uint256 i = 0; i < slots.length; i++) t[i] = slotType(slots[i]);
    }

    function nodeDef(uint256 k) internal pure returns (NodeDef memory d) {
        if (k == 1) return NodeDef(keccak256("AddImm"), u32s(0), u32s(2), 1, 0);
        if (k == 2) return NodeDef(keccak256("Add"), u32s(2, 1), u32s(3), 0, 64);
        if (k == 3) return NodeDef(keccak256("AddImm"), u32s(3), u32s(4), 3, 0);
        revert("no such node");
    }

    function le64(uint64 v) internal pure returns (bytes memory b) {
        b = new bytes(8);
        for (uint256 i = 0; i < 8; i++) b[i] = bytes1(uint8(v >> (8 * i)));
    }

    function inputX() internal pure returns (bytes memory b) {
        for (uint256 i = 0; i < X_LEN; i++) b = bytes.concat(b, le64(uint64(7 + 3 * i)));
    }

    function heightFor(uint256 bytes_) internal pure returns (uint256) {
        uint256 leaves = (bytes_ + 31) / 32;
        return Sparse.depthFor(leaves == 0 ? 1 : leaves);
    }

    function insnCount(NodeDef memory d) internal pure returns (uint256) {
        return 2 * d.ins.length + 3;
    }

    /// Regions by height (descending), ties code, inputs, outputs, scratch (docs/opvm.md §7).
    function layoutOf(uint256 k) internal pure returns (Layout memory L) {
        NodeDef memory d = nodeDef(k);
        uint256 n = 1 + d.ins.length + d.outs.length + (d.scratchBytes > 0 ? 1 : 0);
        uint256[] memory kind = new uint256[](n);
        uint256[] memory index = new uint256[](n);
        uint256[] memory h = new uint256[](n);
        uint256 r = 0;
        (kind[r], index[r], h[r]) = (0, 0, heightFor(32 * insnCount(d)));
        r++;
        for (uint256 i = 0; i < d.ins.length; i++) {
            (kind[r], index[r], h[r]) = (1, i, heightFor(slotBytes(d.ins[i])));
            r++;
        }
        for (uint256 j = 0; j < d.outs.length; j++) {
            (kind[r], index[r], h[r]) = (2, j, heightFor(slotBytes(d.outs[j])));
            r++;
        }
        if (d.scratchBytes > 0) (kind[r], index[r], h[r]) = (3, 0, heightFor(d.scratchBytes));
        // insertion sort: height descending, then kind, then index (stable)
        for (uint256 a = 1; a < n; a++) {
            for (uint256 b = a; b > 0; b--) {
                bool swap = h[b] > h[b - 1] || (h[b] == h[b - 1] && kind[b] < kind[b - 1]);
                if (!swap) break;
                (kind[b], kind[b - 1]) = (kind[b - 1], kind[b]);
                (index[b], index[b - 1]) = (index[b - 1], index[b]);
                (h[b], h[b - 1]) = (h[b - 1], h[b]);
            }
        }
        L.kinds = new uint8[](n);
        L.indexes = new uint16[](n);
        L.heights = new uint8[](n);
        L.leafAt = new uint256[](n);
        uint256 addr = 0;
        for (uint256 q = 0; q < n; q++) {
            L.kinds[q] = uint8(kind[q]);
            L.indexes[q] = uint16(index[q]);
            L.heights[q] = uint8(h[q]);
            L.leafAt[q] = addr;
            if (kind[q] == 0) L.codeAt = addr;
            addr += uint256(1) << h[q];
        }
    }

    function regionOf(Layout memory L, uint256 kind, uint256 index) internal pure returns (uint256) {
        for (uint256 r = 0; r < L.kinds.length; r++) {
            if (L.kinds[r] == kind && L.indexes[r] == index) return r;
        }
        revert("no region");
    }

    function layoutHashOf(Layout memory L) internal pure returns (bytes32) {
        bytes memory b = abi.encodePacked(L.kinds.length);
        for (uint256 r = 0; r < L.kinds.length; r++) {
            b = bytes.concat(b, abi.encodePacked(uint256(L.kinds[r]), uint256(L.indexes[r]), uint256(L.heights[r])));
        }
        return keccak256(b);
    }

    function codeOf(uint256 k) internal pure returns (bytes32[] memory code) {
        NodeDef memory d = nodeDef(k);
        Layout memory L = layoutOf(k);
        uint256 nIn = d.ins.length;
        code = new bytes32[](insnCount(d));
        uint256 q = 0;
        for (uint256 i = 0; i < nIn; i++) {
            uint32 off = uint32(32 * L.leafAt[regionOf(L, 1, i)]);
            code[q++] = ProofBuilder.insn(OP_LOAD64, i + 1, 0, 0, 0, false, 0, off, 0);
        }
        code[q++] = ProofBuilder.insn(OP_MOV, 20, 0, 0, 0, true, d.imm, 0, 0);
        for (uint256 i = 0; i < nIn; i++) code[q++] = ProofBuilder.rrr(OP_I64_ADD, 20, 20, i + 1);
        code[q++] = ProofBuilder.insn(OP_STORE64, 0, 0, 20, 0, false, 0, uint32(32 * L.leafAt[regionOf(L, 2, 0)]), 0);
        code[q++] = ProofBuilder.insn(OP_HALT, 0, 0, 0, 0, false, 0, 0, 0);
    }

    function codeRootOf(uint256 k) internal pure returns (bytes32) {
        bytes32[] memory code = codeOf(k);
        return Sparse.rootOf(code, Sparse.depthFor(code.length));
    }

    function ioHashOf(uint32[] memory ins, uint32[] memory outs) internal pure returns (bytes32) {
        bytes memory b = abi.encodePacked(ins.length);
        for (uint256 i = 0; i < ins.length; i++) b = bytes.concat(b, abi.encodePacked(uint256(ins[i]), slotType(ins[i])));
        b = bytes.concat(b, abi.encodePacked(outs.length));
        for (uint256 j = 0; j < outs.length; j++) b = bytes.concat(b, abi.encodePacked(uint256(outs[j]), slotType(outs[j])));
        return keccak256(b);
    }

    function recordOf(uint256 k) internal pure returns (bytes32) {
        NodeDef memory d = nodeDef(k);
        return keccak256(
            abi.encodePacked(d.opHash, codeRootOf(k), layoutHashOf(layoutOf(k)), ioHashOf(d.ins, d.outs), uint256(stepBoundOf(k)))
        );
    }

    function recordsTree() internal pure returns (Sparse.Tree memory t) {
        t = Sparse.create(RECORD_DEPTH, NODES);
        for (uint256 k = 1; k <= NODES; k++) Sparse.set(t, k - 1, recordOf(k));
    }

    function commit(bytes memory data, uint256 slot) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(Sparse.dataRoot(data), slotType(slot)));
    }

    function constantTree() internal pure returns (Sparse.Tree memory t) {
        t = Sparse.create(SLOT_DEPTH, SLOTS);
        Sparse.set(t, 1, commit(le64(C_VALUE), 1));
    }

    function graphOutputs() internal pure returns (uint32[] memory) {
        return u32s(4, 2);
    }

    function modelSpec() internal pure returns (TaskCoordinator.ModelSpec memory s) {
        s.recordsRoot = Sparse.root(recordsTree());
        s.nodes = uint32(NODES);
        s.constantState = Sparse.root(constantTree());
        s.slots = uint32(SLOTS);
        s.inSlots = u32s(0);
        s.inTypes = tensorTypesOf(s.inSlots);
        s.outSlots = graphOutputs();
        s.outTypes = tensorTypesOf(s.outSlots);
    }

    /// The reference model commitment M (docs/commitments.md), independent of src/Commitments.sol.
    function commitmentOf(TaskCoordinator.ModelSpec memory s) internal pure returns (bytes32) {
        bytes memory io = abi.encodePacked(s.inSlots.length);
        for (uint256 i = 0; i < s.inSlots.length; i++) io = bytes.concat(io, abi.encodePacked(uint256(s.inSlots[i]), slotType(s.inSlots[i])));
        io = bytes.concat(io, abi.encodePacked(s.outSlots.length));
        for (uint256 j = 0; j < s.outSlots.length; j++) io = bytes.concat(io, abi.encodePacked(uint256(s.outSlots[j]), slotType(s.outSlots[j])));
        return keccak256(
            abi.encodePacked(uint256(2), s.recordsRoot, uint256(s.nodes), s.constantState, uint256(s.slots), keccak256(io))
        );
    }

    /// The registry id of the model at `uri`: keccak256(M ‖ keccak256(uri)) (docs/game.md §2).
    function modelIdOf(TaskCoordinator.ModelSpec memory s, string memory uri) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(commitmentOf(s), keccak256(bytes(uri))));
    }

    function s0Paths() internal pure returns (bytes32[][] memory p) {
        p = new bytes32[][](1);
        p[0] = Sparse.path(constantTree(), 0);
    }

    function inputs() internal pure returns (TaskCoordinator.InputData[] memory d) {
        d = new TaskCoordinator.InputData[](1);
        d[0] = TaskCoordinator.InputData({data: inputX(), dataRoot: bytes32(0), uri: ""});
    }

    // ---------------------------------------------------------------------------------------------------
    // A mini OPVM for the five instructions the programs use (docs/opvm.md §3–5)

    function leU64(bytes32 leaf, uint256 o) internal pure returns (uint64 v) {
        for (uint256 k = 0; k < 8; k++) v |= uint64(uint8(leaf[o + k])) << uint64(8 * k);
    }

    function withU64(bytes32 leaf, uint256 o, uint64 v) internal pure returns (bytes32) {
        uint256 w = uint256(leaf);
        for (uint256 k = 0; k < 8; k++) {
            uint256 sh = 8 * (31 - (o + k));
            w = (w & ~(uint256(0xff) << sh)) | (uint256(uint8(v >> (8 * k))) << sh);
        }
        return bytes32(w);
    }

    function leN(bytes32 w, uint256 from, uint256 n) internal pure returns (uint256 v) {
        for (uint256 k = 0; k < n; k++) v |= uint256(uint8(w[from + k])) << (8 * k);
    }

    function packPath(bytes32[] memory p) internal pure returns (bytes memory b) {
        for (uint256 k = 0; k < p.length; k++) b = bytes.concat(b, p[k]);
    }

    /// One step of state `st` over memory `mem` (both updated in place); returns the packed step proof.
    function vmStep(ProofBuilder.State memory st, Sparse.Tree memory mem, uint64 delta) internal pure returns (bytes memory proof) {
        proof = ProofBuilder.header(st);
        if (st.status != 0) return proof;
        bytes32 w = Sparse.get(mem, st.pc);
        proof = bytes.concat(proof, w, packPath(Sparse.path(mem, st.pc)));
        uint256 op = uint8(w[0]);
        uint256 rd = uint8(w[1]) & 31;
        uint256 ra = uint8(w[2]) & 31;
        uint256 rb = uint8(w[3]) & 31;
        uint256 b = uint8(w[5]) & 1 == 1 ? leN(w, 8, 8) : st.regs[rb];
        if (op == OP_HALT) {
            st.status = 1;
            return proof;
        }
        if (op == OP_MOV) {
            st.regs[rd] = b;
        } else if (op == OP_I64_ADD) {
            st.regs[rd] = (st.regs[ra] + b + delta) & type(uint64).max;
        } else if (op == OP_LOAD64 || op == OP_STORE64) {
            uint256 ea = (st.regs[ra] & 0xffffffff) + leN(w, 16, 4);
            require(ea % 8 == 0 && ea + 8 <= 1 << 31, "mini VM: address");
            bytes32 leaf = Sparse.get(mem, ea / 32);
            proof = bytes.concat(proof, leaf, packPath(Sparse.path(mem, ea / 32)));
            if (op == OP_LOAD64) {
                st.regs[rd] = leU64(leaf, ea % 32);
            } else {
                Sparse.set(mem, ea / 32, withU64(leaf, ea % 32, uint64(b)));
                st.memRoot = Sparse.root(mem);
            }
        } else {
            revert("mini VM: opcode");
        }
        st.pc += 1;
    }

    /// Run node k on its inputs' bytes; `delta` is added to the last I64_ADD's result.
    function runNode(uint256 k, bytes[] memory ins, uint64 delta) internal pure returns (Run memory run, Sparse.Tree memory mem) {
        NodeDef memory d = nodeDef(k);
        Layout memory L = layoutOf(k);
        mem = Sparse.create(26, 64);
        bytes32[] memory code = codeOf(k);
        for (uint256 i = 0; i < code.length; i++) Sparse.set(mem, L.codeAt + i, code[i]);
        for (uint256 i = 0; i < ins.length; i++) {
            bytes32[] memory leaves = Sparse.leavesOf(ins[i]);
            uint256 base = L.leafAt[regionOf(L, 1, i)];
            for (uint256 q = 0; q < leaves.length; q++) {
                if (leaves[q] != 0) Sparse.set(mem, base + q, leaves[q]);
            }
        }
        ProofBuilder.State memory st;
        st.memRoot = Sparse.root(mem);
        st.pc = L.codeAt;
        uint256 steps = insnCount(d);
        uint256 lastAdd = 2 * d.ins.length;
        run.hashes = new bytes32[](steps + 1);
        run.proofs = new bytes[](steps + 1);
        for (uint256 s = 0; s <= steps; s++) {
            run.hashes[s] = ProofBuilder.stateHash(st);
            run.proofs[s] = vmStep(st, mem, s == lastAdd ? delta : 0);
        }
        require(st.status == 1, "mini VM: not halted");
        run.finalHeader = ProofBuilder.header(st);
        uint256 r = regionOf(L, 2, 0);
        uint256 h = L.heights[r];
        run.outRoot = Sparse.sub(mem, h, L.leafAt[r] >> h);
        run.outRegionPath = Sparse.pathAt(mem, h, L.leafAt[r] >> h);
        bytes32 outLeaf = Sparse.get(mem, L.leafAt[r]);
        run.outBytes = abi.encodePacked(bytes8(outLeaf));
    }

    // ---------------------------------------------------------------------------------------------------
    // A party's trace: S_0 … S_n, every node's OPVM run and opening

    function honest() internal pure returns (Trace memory) {
        return traceOf(0, 0);
    }

    /// The trace of a party that adds `delta` at node `cheatNode` (0: honest).
    function traceOf(uint256 cheatNode, uint64 delta) internal pure returns (Trace memory tr) {
        tr.tensors = new bytes[](SLOTS);
        tr.tensors[0] = inputX();
        tr.tensors[1] = le64(C_VALUE);
        tr.states = new bytes32[](NODES + 1);
        tr.runs = new Run[](NODES);
        tr.openings = new DisputeGame.NodeOpening[](NODES);
        Sparse.Tree memory tree = constantTree();
        Sparse.set(tree, 0, commit(tr.tensors[0], 0));
        tr.states[0] = Sparse.root(tree);
        Sparse.Tree memory records = recordsTree();
        for (uint256 k = 1; k <= NODES; k++) {
            NodeDef memory d = nodeDef(k);
            Layout memory L = layoutOf(k);
            DisputeGame.NodeOpening memory o = tr.openings[k - 1];
            o.opHash = d.opHash;
            o.codeRoot = codeRootOf(k);
            o.kinds = L.kinds;
            o.indexes = L.indexes;
            o.heights = L.heights;
            o.inSlots = d.ins;
            o.inTypes = typesOf(d.ins);
            o.outSlots = d.outs;
            o.outTypes = typesOf(d.outs);
            o.recordPath = Sparse.path(records, k - 1);
            o.stepBound = stepBoundOf(k);
            bytes[] memory ins = new bytes[](d.ins.length);
            o.inRoots = new bytes32[](d.ins.length);
            o.inPaths = new bytes32[][](d.ins.length);
            for (uint256 i = 0; i < d.ins.length; i++) {
                ins[i] = tr.tensors[d.ins[i]];
                o.inRoots[i] = Sparse.dataRoot(ins[i]);
                o.inPaths[i] = Sparse.path(tree, d.ins[i]);
            }
            (Run memory run,) = runNode(k, ins, k == cheatNode ? delta : 0);
            tr.runs[k - 1] = run;
            tr.tensors[d.outs[0]] = run.outBytes;
            o.outRoots = new bytes32[](1);
            o.outPaths = new bytes32[][](1);
            o.outRegionPaths = new bytes32[][](1);
            o.outRoots[0] = run.outRoot;
            o.outPaths[0] = Sparse.path(tree, d.outs[0]);
            o.outRegionPaths[0] = run.outRegionPath;
            o.steps = uint64(run.hashes.length - 1);
            o.finalHeader = run.finalHeader;
            Sparse.set(tree, d.outs[0], commit(run.outBytes, d.outs[0]));
            tr.states[k] = Sparse.root(tree);
        }
    }

    /// The graph outputs' bytes and their paths under S_n.
    function outputsOf(Trace memory tr) internal pure returns (bytes[] memory outs, bytes32[][] memory paths) {
        uint32[] memory slots = graphOutputs();
        Sparse.Tree memory tree = Sparse.create(SLOT_DEPTH, SLOTS);
        for (uint256 s = 0; s < SLOTS; s++) Sparse.set(tree, s, commit(tr.tensors[s], s));
        outs = new bytes[](slots.length);
        paths = new bytes32[][](slots.length);
        for (uint256 j = 0; j < slots.length; j++) {
            outs[j] = tr.tensors[slots[j]];
            paths[j] = Sparse.path(tree, slots[j]);
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Playing a game

    /// The hash a party claims at `pos` in the game's current phase.
    function claimAt(Trace memory tr, DisputeGame.GameView memory v, uint256 pos) internal pure returns (bytes32) {
        if (v.phase == 2) return tr.states[pos];
        bytes32[] memory hs = tr.runs[v.node - 1].hashes;
        return pos < hs.length ? hs[pos] : hs[hs.length - 1]; // halted states are fixed points
    }

    /// A party's claims at the cut points p_1 … p_{m−1} of the current interval.
    function midsOf(DisputeGame g, Trace memory tr, DisputeGame.GameView memory v) internal pure returns (bytes32[] memory mids) {
        uint64[] memory p = g.cutPoints(v.lo, v.hi, v.dissection);
        mids = new bytes32[](p.length - 2);
        for (uint256 j = 1; j + 1 < p.length; j++) mids[j - 1] = claimAt(tr, v, p[j]);
    }

    /// Play to the end: the submitter bisects with its trace's hashes and opens with its openings; the
    /// challenger chooses the first segment whose end it disagrees with (the last when it agrees with all)
    /// and proves the step from its own trace.
    function playAll(DisputeGame g, uint256 id, Trace memory sub, Trace memory chal) internal returns (DisputeGame.GameView memory) {
        return playUntil(g, id, sub, chal, DisputeGame.Move.None);
    }

    /// Play up to (not including) the move `stopAt`; returns the game's view there.
    function playUntil(DisputeGame g, uint256 id, Trace memory sub, Trace memory chal, DisputeGame.Move stopAt)
        internal
        returns (DisputeGame.GameView memory v)
    {
        for (uint256 moves = 0; moves < 200; moves++) {
            v = g.getGame(id);
            if (v.status != DisputeGame.Status.Active || v.expected == stopAt) return v;
            if (v.expected == DisputeGame.Move.Bisect) {
                bytes32[] memory mids = midsOf(g, sub, v);
                hevm.prank(v.submitter);
                g.bisect(id, mids);
            } else if (v.expected == DisputeGame.Move.Choose) {
                // the submitter's mids (it bisected with its trace)
                bytes32[] memory mids = midsOf(g, sub, v);
                uint64[] memory p = g.cutPoints(v.lo, v.hi, v.dissection);
                uint256 m = p.length - 1;
                uint256 seg = m - 1;
                for (uint256 s = 0; s < m; s++) {
                    if (claimAt(chal, v, p[s + 1]) != (s + 1 == m ? v.hiHash : mids[s])) {
                        seg = s;
                        break;
                    }
                }
                hevm.prank(v.challenger);
                g.choose(id, seg, mids);
            } else if (v.expected == DisputeGame.Move.Open) {
                hevm.prank(v.submitter);
                g.openNode(id, sub.openings[v.hi - 1]);
            } else {
                hevm.prank(v.challenger);
                g.proveStep(id, chal.runs[v.node - 1].proofs[v.lo]);
            }
        }
        revert("playUntil: too many moves");
    }
}
