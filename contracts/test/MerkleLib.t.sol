// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {ProofBuilder as PB} from "./utils/ProofBuilder.sol";
import {MerkleHarness} from "./harness/MerkleHarness.sol";
import {MerkleLib} from "../src/MerkleLib.sol";

/// MerkleLib: zero hashes, paths (fuzzed: random trees verify, any flipped bit fails), the memory-root
/// composition of docs/opvm.md §7 against an independent recursive construction, and its errors.
contract MerkleLibTest is Test {
    MerkleHarness internal m;

    function setUp() public {
        m = new MerkleHarness();
    }

    function test_zeroHashes() public view {
        bytes32[27] memory z = m.zeroHashes();
        assertEq(z[0], bytes32(0), "Z_0");
        assertEq(z[1], MerkleLib.Z1, "Z_1");
        assertEq(z[2], 0xb4c11951957c6f8f642c4af61cd6b24640fec6dc7fc607ee8206a99e92410d30, "Z_2");
        assertEq(z[26], MerkleLib.Z26, "Z_26");
        for (uint256 h = 0; h < 26; h++) assertEq(z[h + 1], keccak256(abi.encodePacked(z[h], z[h])), "recurrence");
        assertEq(m.composeMemoryRoot(new uint256[](0), new bytes32[](0)), MerkleLib.Z26, "empty memory");
    }

    function _path(uint256 seed, uint256 depth) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](depth);
        for (uint256 k = 0; k < depth; k++) p[k] = keccak256(abi.encode(seed, k));
    }

    /// Random depth, index, leaf and siblings: the computed root verifies; any change does not.
    function testFuzz_pathVerifies(bytes32 leaf, uint256 index, uint256 seed, uint256 depthSeed, uint256 flip) public view {
        uint256 depth = bound(depthSeed, 0, 40);
        index = depth == 0 ? 0 : index % (1 << depth);
        bytes32[] memory path = _path(seed, depth);
        bytes32 root = m.rootFromPath(leaf, index, path);
        assertEq(m.rootFromCalldataPath(leaf, index, path), root, "calldata and memory paths agree");
        assertTrue(m.verify(root, leaf, index, path), "verifies");
        // A flipped bit of the leaf, of a sibling, of the index (inside the depth), or of the root fails.
        uint256 bit = flip % 256;
        assertTrue(!m.verify(root, leaf ^ bytes32(1 << bit), index, path), "flipped leaf bit");
        assertTrue(!m.verify(root ^ bytes32(1 << bit), leaf, index, path), "flipped root bit");
        if (depth > 0) {
            uint256 k = (flip >> 8) % depth;
            bytes32[] memory bad = _path(seed, depth);
            bad[k] ^= bytes32(1 << bit);
            assertTrue(!m.verify(root, leaf, index, bad), "flipped sibling bit");
            assertTrue(!m.verify(root, leaf, index ^ (1 << k), path), "flipped index bit");
            // An index with a bit at or above the depth is refused (it would alias leaf `index`).
            assertTrue(!m.verify(root, leaf, index | (1 << depth), path), "index beyond the depth");
        }
    }

    /// A depth-26 memory of two non-zero leaves built independently (ProofBuilder) agrees with MerkleLib.
    function testFuzz_twoLeafMemory(uint256 i, uint256 j, bytes32 a, bytes32 b) public view {
        i %= 1 << 26;
        j %= 1 << 26;
        (bytes32 root, bytes32[26] memory pa, bytes32[26] memory pb) = PB.tree(PB.Mem(i, a, j, b));
        bytes32[] memory p = new bytes32[](26);
        for (uint256 k = 0; k < 26; k++) p[k] = pa[k];
        assertEq(m.rootFromPath(a, i, p), root, "leaf i");
        if (i != j) {
            for (uint256 k = 0; k < 26; k++) p[k] = pb[k];
            assertEq(m.rootFromPath(b, j, p), root, "leaf j");
        }
    }

    // -----------------------------------------------------------------------------------------------
    // composeMemoryRoot

    /// Independent reference: the hash of subtree (h, idx) of a memory made of the given regions.
    function _node(uint256 h, uint256 idx, uint256[] memory starts, uint256[] memory heights, bytes32[] memory roots)
        internal
        pure
        returns (bytes32)
    {
        uint256 lo = idx << h;
        uint256 hi = lo + (1 << h);
        bool any = false;
        for (uint256 r = 0; r < starts.length; r++) {
            uint256 s = starts[r];
            uint256 e = s + (1 << heights[r]);
            if (s == lo && heights[r] == h) return roots[r];
            if (s < hi && e > lo) any = true;
        }
        if (!any) return MerkleLib.zeroHash(h);
        return MerkleLib.hashPair(_node(h - 1, 2 * idx, starts, heights, roots), _node(h - 1, 2 * idx + 1, starts, heights, roots));
    }

    /// Random layouts (heights non-increasing, consecutive from 0, within 2^26 leaves) against the reference.
    function testFuzz_composeMemoryRoot(uint256 seed, uint256 nSeed) public view {
        uint256 n = bound(nSeed, 1, 8);
        uint256[] memory heights = new uint256[](n);
        uint256[] memory starts = new uint256[](n);
        bytes32[] memory roots = new bytes32[](n);
        uint256 h = bound(seed, 0, 23);
        uint256 next = 0;
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if (i > 0 && r & 1 == 1) h -= (r >> 8) % (h + 1); // non-increasing, often equal
            heights[i] = h;
            starts[i] = next;
            roots[i] = keccak256(abi.encode(r));
            next += 1 << h;
        }
        assertEq(m.composeMemoryRoot(heights, roots), _node(26, 0, starts, heights, roots), "composeMemoryRoot");
    }

    function test_composeMemoryRootByHand() public view {
        // One region filling memory; one region of height 0 at address 0; two regions of height 25.
        uint256[] memory h1 = new uint256[](1);
        bytes32[] memory r1 = new bytes32[](1);
        h1[0] = 26;
        r1[0] = keccak256("all");
        assertEq(m.composeMemoryRoot(h1, r1), r1[0], "whole memory");
        h1[0] = 0;
        bytes32 acc = r1[0];
        for (uint256 k = 0; k < 26; k++) acc = MerkleLib.hashPair(acc, MerkleLib.zeroHash(k));
        assertEq(m.composeMemoryRoot(h1, r1), acc, "one leaf");
        uint256[] memory h2 = new uint256[](2);
        bytes32[] memory r2 = new bytes32[](2);
        h2[0] = 25;
        h2[1] = 25;
        r2[0] = keccak256("left");
        r2[1] = keccak256("right");
        assertEq(m.composeMemoryRoot(h2, r2), MerkleLib.hashPair(r2[0], r2[1]), "two halves");
        // Heights 1, 1, 2 are aligned (leaves 0–1, 2–3, 4–7): accepted as layout.ts does.
        uint256[] memory h3 = new uint256[](3);
        bytes32[] memory r3 = new bytes32[](3);
        h3[0] = 1;
        h3[1] = 1;
        h3[2] = 2;
        r3[0] = keccak256("a");
        r3[1] = keccak256("b");
        r3[2] = keccak256("c");
        bytes32 x = MerkleLib.hashPair(MerkleLib.hashPair(r3[0], r3[1]), r3[2]);
        for (uint256 k = 3; k < 26; k++) x = MerkleLib.hashPair(x, MerkleLib.zeroHash(k));
        assertEq(m.composeMemoryRoot(h3, r3), x, "1, 1, 2");
    }

    function test_composeMemoryRootErrors() public {
        uint256[] memory h = new uint256[](2);
        bytes32[] memory r = new bytes32[](2);
        h[0] = 1;
        h[1] = 2; // a height-2 region at leaf 2 is not aligned
        vm.expectRevert(abi.encodeWithSelector(MerkleLib.BadRegionOrder.selector, 1));
        m.composeMemoryRoot(h, r);
        h[0] = 26;
        h[1] = 26; // two whole memories: their parent would be height 27
        vm.expectRevert(abi.encodeWithSelector(MerkleLib.RegionTooHigh.selector, 1, 27));
        m.composeMemoryRoot(h, r);
        h[0] = 26;
        h[1] = 0; // a whole memory and one more leaf
        vm.expectRevert(MerkleLib.RegionsExceedMemory.selector);
        m.composeMemoryRoot(h, r);
        h[0] = 27;
        vm.expectRevert(abi.encodeWithSelector(MerkleLib.RegionTooHigh.selector, 0, 27));
        m.composeMemoryRoot(h, r);
        vm.expectRevert(abi.encodeWithSelector(MerkleLib.LengthMismatch.selector, 2, 1));
        m.composeMemoryRoot(h, new bytes32[](1));
        vm.expectRevert(abi.encodeWithSelector(MerkleLib.LengthMismatch.selector, 2, 3));
        m.layoutHash(new uint256[](2), new uint256[](3), new uint256[](2));
    }

    function testFuzz_layoutHash(uint256[4] memory k, uint256[4] memory i, uint256[4] memory h, uint256 nSeed) public view {
        uint256 n = bound(nSeed, 0, 4);
        uint256[] memory kinds = new uint256[](n);
        uint256[] memory idx = new uint256[](n);
        uint256[] memory hs = new uint256[](n);
        bytes memory packed = abi.encodePacked(n);
        for (uint256 j = 0; j < n; j++) {
            kinds[j] = k[j];
            idx[j] = i[j];
            hs[j] = h[j];
            packed = bytes.concat(packed, abi.encodePacked(k[j], i[j], h[j]));
        }
        assertEq(m.layoutHash(kinds, idx, hs), keccak256(packed), "layoutHash");
    }
}
