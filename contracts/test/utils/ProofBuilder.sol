// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * Test helper: OPVM states whose memory holds at most two non-zero leaves (an instruction and a data
 * leaf), their headers and hashes, and honest packed step proofs (docs/opvm.md §2, §5). Written from the
 * spec, independently of src/OPVM.sol.
 */
library ProofBuilder {
    uint256 internal constant DEPTH = 26;

    struct State {
        bytes32 memRoot;
        uint256 pc;
        uint256 status;
        uint256[32] regs;
    }

    /// A memory of up to two non-zero leaves: leaf ia = la, leaf ib = lb (ib ignored when ia == ib).
    struct Mem {
        uint256 ia;
        bytes32 la;
        uint256 ib;
        bytes32 lb;
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(a, b));
    }

    function zeros() internal pure returns (bytes32[27] memory z) {
        for (uint256 h = 1; h <= DEPTH; h++) z[h] = hashPair(z[h - 1], z[h - 1]);
    }

    /// Subtree hashes h[k] (height k) containing leaf i when it is the only non-zero leaf.
    function climb(uint256 i, bytes32 leaf, bytes32[27] memory z) internal pure returns (bytes32[27] memory h) {
        h[0] = leaf;
        for (uint256 k = 0; k < DEPTH; k++) h[k + 1] = (i >> k) & 1 == 1 ? hashPair(z[k], h[k]) : hashPair(h[k], z[k]);
    }

    /// Root and the two leaves' paths.
    function tree(Mem memory m) internal pure returns (bytes32 r, bytes32[26] memory pa, bytes32[26] memory pb) {
        bytes32[27] memory z = zeros();
        bytes32[27] memory ha = climb(m.ia, m.la, z);
        if (m.ia == m.ib) {
            for (uint256 k = 0; k < DEPTH; k++) pa[k] = z[k];
            return (ha[DEPTH], pa, pa);
        }
        bytes32[27] memory hb = climb(m.ib, m.lb, z);
        // The leaves are in sibling subtrees at height s (their indices first differ in bit s).
        uint256 s = 0;
        for (uint256 x = m.ia ^ m.ib; x > 1; x >>= 1) s++;
        for (uint256 k = 0; k < DEPTH; k++) {
            pa[k] = k == s ? hb[s] : z[k];
            pb[k] = k == s ? ha[s] : z[k];
        }
        bytes32 h = (m.ia >> s) & 1 == 1 ? hashPair(hb[s], ha[s]) : hashPair(ha[s], hb[s]);
        for (uint256 k = s + 1; k < DEPTH; k++) h = (m.ia >> k) & 1 == 1 ? hashPair(z[k], h) : hashPair(h, z[k]);
        r = h;
    }

    function root(Mem memory m) internal pure returns (bytes32 r) {
        (r,,) = tree(m);
    }

    function header(State memory s) internal pure returns (bytes memory out) {
        out = new bytes(296);
        uint256[32] memory regs = s.regs;
        bytes32 memRoot = s.memRoot;
        uint256 word = ((s.pc & 0xffffffff) << 224) | ((s.status & 0xff) << 216);
        assembly ("memory-safe") {
            let p := add(out, 32)
            mstore(p, memRoot)
            mstore(add(p, 32), word)
            for { let i := 0 } lt(i, 32) { i := add(i, 1) } {
                mstore(add(p, add(40, shl(3, i))), shl(192, mload(add(regs, shl(5, i)))))
            }
        }
    }

    function stateHash(State memory s) internal pure returns (bytes32) {
        return keccak256(header(s));
    }

    function pathBytes(bytes32[26] memory p) internal pure returns (bytes memory out) {
        for (uint256 k = 0; k < DEPTH; k++) out = bytes.concat(out, p[k]);
    }

    /// Instruction word: op ‖ rd ‖ ra ‖ rb ‖ rc ‖ flags ‖ 00 00 ‖ imm (u64 LE) ‖ off (u32 LE) ‖ target (u32 LE) ‖ 0…
    function insn(uint256 op, uint256 rd, uint256 ra, uint256 rb, uint256 rc, bool immB, uint64 imm, uint32 off, uint32 target)
        internal
        pure
        returns (bytes32)
    {
        bytes memory b = abi.encodePacked(
            uint8(op), uint8(rd), uint8(ra), uint8(rb), uint8(rc), uint8(immB ? 1 : 0), uint16(0), le64(imm), le32(off), le32(target), uint64(0)
        );
        return bytes32(b);
    }

    /// Shorthand: rd ← op(ra, rb).
    function rrr(uint256 op, uint256 rd, uint256 ra, uint256 rb) internal pure returns (bytes32) {
        return insn(op, rd, ra, rb, 0, false, 0, 0, 0);
    }

    function le64(uint64 x) internal pure returns (bytes8) {
        bytes8 r;
        for (uint256 k = 0; k < 8; k++) r |= bytes8(bytes1(uint8(x >> (8 * k)))) >> (8 * k);
        return r;
    }

    function le32(uint32 x) internal pure returns (bytes4) {
        bytes4 r;
        for (uint256 k = 0; k < 4; k++) r |= bytes4(bytes1(uint8(x >> (8 * k)))) >> (8 * k);
        return r;
    }

    /// A running state with instruction `ins` at leaf pc and (when dataIndex != pc) `dataLeaf` at dataIndex.
    function state(uint256[32] memory regs, uint256 pc, bytes32 ins, uint256 dataIndex, bytes32 dataLeaf)
        internal
        pure
        returns (State memory s, Mem memory m)
    {
        m = Mem(pc, ins, dataIndex, dataLeaf);
        s = State(root(m), pc, 0, regs);
    }

    /// header ‖ insnLeaf ‖ insnPath (‖ dataLeaf ‖ dataPath when withData) for state s over memory m.
    function proof(State memory s, Mem memory m, bool withData) internal pure returns (bytes memory) {
        (, bytes32[26] memory pa, bytes32[26] memory pb) = tree(m);
        bytes memory p = bytes.concat(header(s), m.la, pathBytes(pa));
        if (withData) p = bytes.concat(p, m.ia == m.ib ? m.la : m.lb, pathBytes(pb));
        return p;
    }
}
