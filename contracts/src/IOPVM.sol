// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IOPVM — the OPVM one-step verifier as the dispute game sees it (docs/opvm.md §5)
 */
interface IOPVM {
    /// The proof is not as long as the header and the instruction require: 296 bytes for a halted or
    /// trapped state or a fetch with pc ≥ 2^26, 1160 with an instruction leaf, 2024 with a data leaf too.
    error BadProofLength(uint256 got, uint256 want);
    /// keccak256 of the proof's 296-byte header is not the pre-state hash.
    error BadPreState();
    /// The header's padding bytes 37 … 39 are not zero (not the encoding of any state).
    error BadHeaderPadding();
    /// The instruction leaf and its path do not prove leaf pc under the header's memRoot.
    error BadInsnProof();
    /// The data leaf and its path do not prove leaf ⌊ea / 32⌋ under the header's memRoot.
    error BadDataProof();

    /**
     * The post-state hash of one OPVM step from the state whose hash is `preStateHash`, given the packed
     * step proof header ‖ insnLeaf ‖ insnPath ‖ dataLeaf ‖ dataPath (absent parts omitted). Reverts with
     * one of the errors above when the proof is invalid.
     */
    function step(bytes32 preStateHash, bytes calldata proof) external view returns (bytes32 postStateHash);
}
