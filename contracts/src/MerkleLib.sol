// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title MerkleLib — binary keccak256 Merkle trees (docs/commitments.md) and a node's memory layout
 * (docs/opvm.md §7)
 * @notice 32-byte leaves, not hashed; inner node keccak256(left ‖ right); zero subtrees Z_h with
 * Z_0 = 0 and Z_{h+1} = keccak256(Z_h ‖ Z_h). A path is the list of sibling hashes from the leaf up
 * (bottom first); bit k of the leaf index set means the node at height k is a right child.
 * `composeMemoryRoot` and `layoutHash` mirror compiler/opvm/layout.ts line for line.
 */
library MerkleLib {
    /// Depth of the OPVM memory tree (2^26 leaves of 32 bytes).
    uint256 internal constant MEM_DEPTH = 26;

    /// Z_1 and Z_26 (docs/commitments.md; tests check the whole table against the recurrence).
    bytes32 internal constant Z1 = 0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5;
    bytes32 internal constant Z26 = 0xb8cd74046ff337f0a7bf2c8e03e10f642c1886798d71806ab1e888d9e5ee87d0;

    error LengthMismatch(uint256 a, uint256 b);
    /// Region `i` is higher than the subtree before it ends: it would not be aligned to its own size.
    error BadRegionOrder(uint256 i);
    /// Region `i` (or the subtree it completes) is higher than the whole memory.
    error RegionTooHigh(uint256 i, uint256 height);
    error RegionsExceedMemory();

    // -----------------------------------------------------------------------------------------------
    // Zero hashes

    /// Z_0 … Z_26, computed (26 keccak calls).
    function zeroHashes() internal pure returns (bytes32[27] memory z) {
        for (uint256 h = 1; h <= MEM_DEPTH; h++) z[h] = hashPair(z[h - 1], z[h - 1]);
    }

    /// Z_h for any h (h keccak calls).
    function zeroHash(uint256 h) internal pure returns (bytes32 z) {
        for (uint256 k = 0; k < h; k++) z = hashPair(z, z);
    }

    function hashPair(bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            h := keccak256(0x00, 0x40)
        }
    }

    // -----------------------------------------------------------------------------------------------
    // Paths

    /// The root implied by `leaf` at `index` and its bottom-first sibling path (depth = path.length).
    function rootFromPath(bytes32 leaf, uint256 index, bytes32[] memory path) internal pure returns (bytes32 h) {
        h = leaf;
        for (uint256 k = 0; k < path.length; k++) {
            h = (index >> k) & 1 == 1 ? hashPair(path[k], h) : hashPair(h, path[k]);
        }
    }

    /// rootFromPath for a calldata path.
    function rootFromCalldataPath(bytes32 leaf, uint256 index, bytes32[] calldata path) internal pure returns (bytes32 h) {
        uint256 depth = path.length;
        uint256 pathAt;
        assembly ("memory-safe") {
            pathAt := path.offset
        }
        return rootFromPacked(leaf, index, pathAt, depth);
    }

    /// True when `leaf` is leaf `index` of the depth-`path.length` tree with root `root`. An index with
    /// bits at or above the depth is rejected (it would alias a leaf of the tree).
    function verify(bytes32 root, bytes32 leaf, uint256 index, bytes32[] calldata path) internal pure returns (bool) {
        if (path.length < 256 && index >> path.length != 0) return false;
        return rootFromCalldataPath(leaf, index, path) == root;
    }

    /**
     * The root from `leaf` at `index` and `depth` sibling hashes packed at calldata offset `pathAt`
     * (32 bytes each, bottom first). The child hash goes to scratch slot 32·b and the sibling to the
     * other, b being the index bit of the level.
     */
    function rootFromPacked(bytes32 leaf, uint256 index, uint256 pathAt, uint256 depth) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := leaf
            for { let k := 0 } lt(k, depth) { k := add(k, 1) } {
                let b := shl(5, and(shr(k, index), 1))
                mstore(b, h)
                mstore(xor(b, 0x20), calldataload(add(pathAt, shl(5, k))))
                h := keccak256(0x00, 0x40)
            }
        }
    }

    /// Two roots along the same packed path: of `leaf` (to check) and of `newLeaf` (after a write).
    function rootsFromPacked(bytes32 leaf, bytes32 newLeaf, uint256 index, uint256 pathAt, uint256 depth)
        internal
        pure
        returns (bytes32 h, bytes32 n)
    {
        assembly ("memory-safe") {
            h := leaf
            n := newLeaf
            for { let k := 0 } lt(k, depth) { k := add(k, 1) } {
                let b := shl(5, and(shr(k, index), 1))
                let s := calldataload(add(pathAt, shl(5, k)))
                mstore(xor(b, 0x20), s)
                mstore(b, h)
                h := keccak256(0x00, 0x40)
                mstore(b, n)
                n := keccak256(0x00, 0x40)
            }
        }
    }

    // -----------------------------------------------------------------------------------------------
    // Memory layout (docs/opvm.md §7; compiler/opvm/layout.ts)

    /**
     * Root of the whole depth-MEM_DEPTH memory from its regions' roots in address order (contiguous from
     * address 0, each region aligned to its own size, i.e. heights non-increasing): the stack algorithm
     * of docs/opvm.md §7. No regions: the all-zero memory Z_26.
     */
    function composeMemoryRoot(uint256[] memory heights, bytes32[] memory roots) internal pure returns (bytes32) {
        uint256 n = heights.length;
        if (roots.length != n) revert LengthMismatch(n, roots.length);
        bytes32[27] memory z = zeroHashes();
        if (n == 0) return z[MEM_DEPTH];
        // The stack: pairs (height, hash), heights strictly decreasing; sp = its length.
        uint256[] memory sh = new uint256[](n);
        bytes32[] memory sr = new bytes32[](n);
        uint256 sp = 0;
        for (uint256 i = 0; i < n; i++) {
            uint256 h = heights[i];
            if (h > MEM_DEPTH) revert RegionTooHigh(i, h);
            if (sp != 0 && h > sh[sp - 1]) revert BadRegionOrder(i);
            sh[sp] = h;
            sr[sp] = roots[i];
            sp++;
            while (sp >= 2 && sh[sp - 1] == sh[sp - 2]) {
                bytes32 right = sr[sp - 1];
                bytes32 left = sr[sp - 2];
                sp -= 2;
                if (h + 1 > MEM_DEPTH) revert RegionTooHigh(i, h + 1);
                sh[sp] = h + 1;
                sr[sp] = hashPair(left, right);
                sp++;
                h = h + 1;
            }
        }
        sp--;
        uint256 hh = sh[sp];
        bytes32 acc = sr[sp];
        while (hh < MEM_DEPTH) {
            if (sp != 0 && sh[sp - 1] == hh) {
                sp--;
                acc = hashPair(sr[sp], acc);
            } else {
                acc = hashPair(acc, z[hh]);
            }
            hh++;
        }
        if (sp != 0) revert RegionsExceedMemory();
        return acc;
    }

    /// keccak256(u256(count) ‖ for each region in address order: u256(kind) ‖ u256(index) ‖ u256(height)).
    function layoutHash(uint256[] memory kinds, uint256[] memory indexes, uint256[] memory heights)
        internal
        pure
        returns (bytes32 h)
    {
        uint256 n = kinds.length;
        if (indexes.length != n) revert LengthMismatch(n, indexes.length);
        if (heights.length != n) revert LengthMismatch(n, heights.length);
        bytes memory b = new bytes(32 * (1 + 3 * n));
        assembly ("memory-safe") {
            let p := add(b, 0x20)
            mstore(p, n)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let q := add(p, add(0x20, mul(0x60, i)))
                let o := shl(5, add(i, 1))
                mstore(q, mload(add(kinds, o)))
                mstore(add(q, 0x20), mload(add(indexes, o)))
                mstore(add(q, 0x40), mload(add(heights, o)))
            }
            h := keccak256(p, mload(b))
        }
    }
}
