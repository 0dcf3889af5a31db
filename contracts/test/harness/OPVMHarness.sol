// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OPVM} from "../../src/OPVM.sol";

/**
 * Batch entry points for the differential tests against the TypeScript verifier (contracts/test/
 * opvm-anvil.test.ts): many steps, or many ALU operations, in one eth_call. Not deployed in production.
 */
contract OPVMHarness is OPVM {
    /// step(pres[i], proofs[i]) for every i (a revert in any step reverts the batch).
    function stepMany(bytes32[] calldata pres, bytes[] calldata proofs) external pure returns (bytes32[] memory posts) {
        posts = new bytes32[](pres.length);
        for (uint256 i = 0; i < pres.length; i++) posts[i] = _step(pres[i], proofs[i]);
    }

    /// cases[i] = op << 128 | a << 64 | b (a, b u64); result (st << 64) | v, v the rd value, st a trap status.
    function aluMany(uint256[] calldata cases) external pure returns (uint256[] memory out) {
        out = new uint256[](cases.length);
        for (uint256 i = 0; i < cases.length; i++) {
            uint256 c = cases[i];
            (uint256 v, uint256 st) = _alu((c >> 128) & 0xff, (c >> 64) & M64, c & M64);
            out[i] = (st << 64) | v;
        }
    }
}
