// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * Test helper: a Merkle tree (docs/commitments.md: 32-byte leaves, keccak256(left ‖ right), zero subtrees
 * Z_h) over a few non-zero leaves, of any depth ≤ 64: roots of any subtree and sibling paths, computed by
 * recursion over the occupied subtrees only. Written from the spec, independently of src/.
 */
library Sparse {
    struct Tree {
        uint256 depth;
        uint256 n; // leaves in use
        uint256[] idx;
        bytes32[] val;
        bytes32[] z; // Z_0 … Z_depth
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(a, b));
    }

    function create(uint256 depth, uint256 capacity) internal pure returns (Tree memory t) {
        t.depth = depth;
        t.idx = new uint256[](capacity);
        t.val = new bytes32[](capacity);
        t.z = new bytes32[](depth + 1);
        for (uint256 h = 1; h <= depth; h++) t.z[h] = hashPair(t.z[h - 1], t.z[h - 1]);
    }

    function copy(Tree memory t) internal pure returns (Tree memory c) {
        c.depth = t.depth;
        c.n = t.n;
        c.idx = new uint256[](t.idx.length);
        c.val = new bytes32[](t.val.length);
        for (uint256 k = 0; k < t.n; k++) {
            c.idx[k] = t.idx[k];
            c.val[k] = t.val[k];
        }
        c.z = t.z;
    }

    function set(Tree memory t, uint256 i, bytes32 v) internal pure {
        require(t.depth >= 256 || i >> t.depth == 0, "Sparse: index outside the tree");
        for (uint256 k = 0; k < t.n; k++) {
            if (t.idx[k] == i) {
                t.val[k] = v;
                return;
            }
        }
        require(t.n < t.idx.length, "Sparse: full");
        t.idx[t.n] = i;
        t.val[t.n] = v;
        t.n++;
    }

    function get(Tree memory t, uint256 i) internal pure returns (bytes32) {
        for (uint256 k = 0; k < t.n; k++) {
            if (t.idx[k] == i) return t.val[k];
        }
        return bytes32(0);
    }

    /// Root of the subtree of height h whose leaves are base·2^h … (base+1)·2^h − 1.
    function sub(Tree memory t, uint256 h, uint256 base) internal pure returns (bytes32) {
        bool any = false;
        uint256 one = 0;
        for (uint256 k = 0; k < t.n; k++) {
            if (t.idx[k] >> h == base) {
                any = true;
                one = k;
                break;
            }
        }
        if (!any) return t.z[h];
        if (h == 0) return t.val[one];
        return hashPair(sub(t, h - 1, 2 * base), sub(t, h - 1, 2 * base + 1));
    }

    function root(Tree memory t) internal pure returns (bytes32) {
        return sub(t, t.depth, 0);
    }

    /// Sibling path (bottom first) of the node at height h with index i at that height: depth − h hashes.
    function pathAt(Tree memory t, uint256 h, uint256 i) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](t.depth - h);
        for (uint256 k = h; k < t.depth; k++) p[k - h] = sub(t, k, (i >> (k - h)) ^ 1);
    }

    function path(Tree memory t, uint256 i) internal pure returns (bytes32[] memory) {
        return pathAt(t, 0, i);
    }

    /// Root of a leaf list padded with zero leaves to 2^depth.
    function rootOf(bytes32[] memory leaves, uint256 depth) internal pure returns (bytes32) {
        Tree memory t = create(depth, leaves.length);
        for (uint256 i = 0; i < leaves.length; i++) {
            if (leaves[i] != 0) set(t, i, leaves[i]);
        }
        return root(t);
    }

    /// The leaves of `data`: 32 bytes each, the last zero-padded, at least one.
    function leavesOf(bytes memory data) internal pure returns (bytes32[] memory leaves) {
        uint256 n = data.length == 0 ? 1 : (data.length + 31) / 32;
        leaves = new bytes32[](n);
        for (uint256 i = 0; i < data.length; i++) {
            leaves[i / 32] |= bytes32(uint256(uint8(data[i])) << (8 * (31 - (i % 32))));
        }
    }

    function depthFor(uint256 n) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < n) d++;
    }

    /// Reference data root (independent of src/Commitments.sol).
    function dataRoot(bytes memory data) internal pure returns (bytes32) {
        bytes32[] memory leaves = leavesOf(data);
        return rootOf(leaves, depthFor(leaves.length));
    }
}
