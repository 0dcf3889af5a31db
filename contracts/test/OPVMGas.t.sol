// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {ProofBuilder as PB} from "./utils/ProofBuilder.sol";
import {OPVM} from "../src/OPVM.sol";

/**
 * Gas of one OPVM.step call per instruction class, for `forge snapshot` (contracts/.gas-snapshot): only
 * the call is metered, not the proof construction. These figures are the execution inside a contract
 * call; the transaction totals with calldata and the 21000 base are measured on anvil by
 * contracts/tools/gas-report.ts (contracts/README.md).
 */
contract OPVMGasTest is Test {
    OPVM internal opvm;
    uint256 internal constant PC = 1000;
    uint256 internal constant DATA = 64 * 1024;
    bytes32 internal constant LEAF = 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20;

    function setUp() public {
        opvm = new OPVM();
    }

    function _measure(bytes32 ins, uint256 r1, uint256 r2, bool withData) internal {
        vm.pauseGasMetering();
        uint256[32] memory regs;
        regs[1] = r1;
        regs[2] = r2;
        (PB.State memory s, PB.Mem memory m) = PB.state(regs, PC, ins, withData ? (r1 & 0xffffffff) >> 5 : PC, LEAF);
        bytes32 pre = PB.stateHash(s);
        bytes memory proof = PB.proof(s, m, withData);
        vm.resumeGasMetering();
        opvm.step(pre, proof);
    }

    function test_gas_I32_ADD() public {
        _measure(PB.rrr(0x10, 3, 1, 2), 5, 7, false);
    }

    function test_gas_I32_GE_U() public {
        _measure(PB.rrr(0x28, 3, 1, 2), 5, 7, false);
    }

    function test_gas_I64_MUL() public {
        _measure(PB.rrr(0x42, 3, 1, 2), 0x123456789, 0xabcdef, false);
    }

    function test_gas_I64_DIV_S() public {
        _measure(PB.rrr(0x43, 3, 1, 2), 0xfffffffffffff000, 7, false);
    }

    function test_gas_BRNZ() public {
        _measure(PB.insn(0x04, 0, 1, 0, 0, false, 0, 0, 7), 1, 0, false);
    }

    function test_gas_LOAD64() public {
        _measure(PB.insn(0xa5, 3, 1, 0, 0, false, 0, 8, 0), DATA, 0, true);
    }

    function test_gas_STORE64() public {
        _measure(PB.insn(0xb3, 0, 1, 2, 0, false, 0, 8, 0), DATA, 0x1122334455667788, true);
    }

    function test_gas_F32_ADD() public {
        _measure(PB.rrr(0x70, 3, 1, 2), 0x3fc00000, 0xc0100001, false);
    }

    function test_gas_F32_MUL() public {
        _measure(PB.rrr(0x72, 3, 1, 2), 0x3fc00001, 0x40100001, false);
    }

    function test_gas_F32_DIV() public {
        _measure(PB.rrr(0x73, 3, 1, 2), 0x3f800000, 0x40400000, false);
    }

    function test_gas_F32_SQRT() public {
        _measure(PB.rrr(0x82, 3, 1, 0), 0x40000000, 0, false);
    }

    function test_gas_F32_CONVERT_I64_U() public {
        _measure(PB.rrr(0x9a, 3, 1, 0), 0xffffff7fffffffff, 0, false);
    }

    function test_gas_fixedPoint() public {
        vm.pauseGasMetering();
        PB.State memory s;
        s.status = 1;
        bytes32 pre = PB.stateHash(s);
        bytes memory h = PB.header(s);
        vm.resumeGasMetering();
        opvm.step(pre, h);
    }
}
