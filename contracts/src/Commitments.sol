// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Commitments — tensor data roots, IO hashes, node records and the model commitment
 * (docs/commitments.md), as the task coordinator and the dispute game compute them on chain.
 * @notice Mirrors compiler/commit/tensor.ts (dataRoot, tensor commitment) and compiler/commit/model.ts
 * (ioHash, nodeRecord, modelCommitment). Merkle trees are those of MerkleLib: 32-byte leaves, not hashed,
 * inner node keccak256(left ‖ right), zero subtrees Z_h.
 */
library Commitments {
    /// The version word that leads the model commitment.
    uint256 internal constant MODEL_COMMITMENT_VERSION = 2;

    /// Smallest d with 2^d ≥ n (n ≥ 1; 0 for n ≤ 1): the depth of a tree over n leaves.
    function ceilLog2(uint256 n) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < n) d++;
    }

    /**
     * Data root of a tensor's bytes: 32-byte leaves, the last zero-padded, at least one leaf, padded with
     * zero leaves to a power-of-two count (an empty tensor: one zero leaf, root 0). The leaves are copied
     * to memory once and each level is hashed in place; a level with an odd count pairs its last node
     * with Z_h.
     */
    function dataRoot(bytes calldata data) internal pure returns (bytes32 root) {
        uint256 len = data.length;
        uint256 leaves = len == 0 ? 1 : (len + 31) >> 5;
        bytes32[] memory buf = new bytes32[](leaves); // zero-filled: the last leaf's padding stays zero
        assembly ("memory-safe") {
            calldatacopy(add(buf, 0x20), data.offset, len)
        }
        return _reduce(buf, leaves);
    }

    /// dataRoot for bytes in memory.
    function dataRootMem(bytes memory data) internal pure returns (bytes32 root) {
        uint256 len = data.length;
        uint256 leaves = len == 0 ? 1 : (len + 31) >> 5;
        bytes32[] memory buf = new bytes32[](leaves);
        assembly ("memory-safe") {
            mcopy(add(buf, 0x20), add(data, 0x20), len)
        }
        return _reduce(buf, leaves);
    }

    /// Hash the `n` leaves of `buf` (n ≥ 1) level by level, in place, to the root.
    function _reduce(bytes32[] memory buf, uint256 n) private pure returns (bytes32 root) {
        assembly ("memory-safe") {
            let p := add(buf, 0x20)
            let z := 0 // Z_h of the current level
            for {} gt(n, 1) {} {
                let half := shr(1, add(n, 1))
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    let l := add(p, shl(6, i))
                    mstore(0x00, mload(l))
                    switch lt(add(shl(1, i), 1), n)
                    case 1 { mstore(0x20, mload(add(l, 0x20))) }
                    default { mstore(0x20, z) }
                    mstore(add(p, shl(5, i)), keccak256(0x00, 0x40))
                }
                mstore(0x00, z)
                mstore(0x20, z)
                z := keccak256(0x00, 0x40)
                n := half
            }
            root := mload(p)
        }
    }

    /// T = keccak256(dataRoot ‖ typeHash).
    function tensorCommitment(bytes32 root, bytes32 typeHash) internal pure returns (bytes32 t) {
        assembly ("memory-safe") {
            mstore(0x00, root)
            mstore(0x20, typeHash)
            t := keccak256(0x00, 0x40)
        }
    }

    /**
     * keccak256(u256(nIn) ‖ (u256(slot) ‖ typeHash)… ‖ u256(nOut) ‖ (u256(slot) ‖ typeHash)…). The caller
     * checks that each slot list and its type list have the same length.
     */
    function ioHash(uint32[] calldata inSlots, bytes32[] calldata inTypes, uint32[] calldata outSlots, bytes32[] calldata outTypes)
        internal
        pure
        returns (bytes32 h)
    {
        uint256 nIn = inSlots.length;
        uint256 nOut = outSlots.length;
        bytes memory b = new bytes(32 * (2 + 2 * nIn + 2 * nOut));
        uint256 p;
        assembly ("memory-safe") {
            p := add(b, 0x20)
            mstore(p, nIn)
        }
        p += 32;
        for (uint256 i = 0; i < nIn; i++) {
            uint256 s = inSlots[i];
            bytes32 t = inTypes[i];
            assembly ("memory-safe") {
                mstore(p, s)
                mstore(add(p, 0x20), t)
            }
            p += 64;
        }
        assembly ("memory-safe") {
            mstore(p, nOut)
        }
        p += 32;
        for (uint256 j = 0; j < nOut; j++) {
            uint256 s = outSlots[j];
            bytes32 t = outTypes[j];
            assembly ("memory-safe") {
                mstore(p, s)
                mstore(add(p, 0x20), t)
            }
            p += 64;
        }
        h = keccak256(b);
    }

    /// R = keccak256(opHash ‖ codeRoot ‖ layoutHash ‖ ioHash ‖ u256(stepBound)).
    function nodeRecord(bytes32 opHash, bytes32 codeRoot, bytes32 layoutHash, bytes32 io, uint64 stepBound)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(opHash, codeRoot, layoutHash, io, uint256(stepBound)));
    }

    /// Bytes per element of a dtype code (docs/ir.md §5), 0 for an unknown code.
    function elementBytes(uint256 dtype) internal pure returns (uint256) {
        // float32 1, int8 2, uint8 3, int16 4, int32 5, int64 6, bool 7
        if (dtype == 0 || dtype > 7) return 0;
        return uint8(bytes8(0x0004010102040801)[dtype]);
    }

    /// typeHash = keccak256(u256(dtype) ‖ u256(rank) ‖ u256(d_0) ‖ … ‖ u256(d_{rank−1})) (docs/commitments.md).
    function tensorTypeHash(uint256 dtype, uint64[] calldata dims) internal pure returns (bytes32) {
        // abi.encodePacked pads every array element to a 32-byte word: u256(d_i).
        return keccak256(abi.encodePacked(dtype, dims.length, dims));
    }

    /// M = keccak256(u256(2) ‖ recordsRoot ‖ u256(nodes) ‖ constantState ‖ u256(slots) ‖ ioHash).
    function modelCommitment(bytes32 recordsRoot, uint256 nodes, bytes32 constantState, uint256 slots, bytes32 io)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(MODEL_COMMITMENT_VERSION, recordsRoot, nodes, constantState, slots, io));
    }
}
