// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleLib} from "../../src/MerkleLib.sol";

/// External entry points to the internal MerkleLib functions (calldata paths), for tests.
contract MerkleHarness {
    function verify(bytes32 root, bytes32 leaf, uint256 index, bytes32[] calldata path) external pure returns (bool) {
        return MerkleLib.verify(root, leaf, index, path);
    }

    function rootFromCalldataPath(bytes32 leaf, uint256 index, bytes32[] calldata path) external pure returns (bytes32) {
        return MerkleLib.rootFromCalldataPath(leaf, index, path);
    }

    function rootFromPath(bytes32 leaf, uint256 index, bytes32[] memory path) external pure returns (bytes32) {
        return MerkleLib.rootFromPath(leaf, index, path);
    }

    function composeMemoryRoot(uint256[] memory heights, bytes32[] memory roots) external pure returns (bytes32) {
        return MerkleLib.composeMemoryRoot(heights, roots);
    }

    function layoutHash(uint256[] memory kinds, uint256[] memory indexes, uint256[] memory heights) external pure returns (bytes32) {
        return MerkleLib.layoutHash(kinds, indexes, heights);
    }

    function zeroHashes() external pure returns (bytes32[27] memory) {
        return MerkleLib.zeroHashes();
    }

    function zeroHash(uint256 h) external pure returns (bytes32) {
        return MerkleLib.zeroHash(h);
    }
}
