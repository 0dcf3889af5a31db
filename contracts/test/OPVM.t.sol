// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {ProofBuilder as PB} from "./utils/ProofBuilder.sol";
import {OPVM} from "../src/OPVM.sol";
import {IOPVM} from "../src/IOPVM.sol";

/// Unit tests of OPVM.step per instruction class, trap and custom error (hand-computed results, the same
/// cases as runtime/test/opvm-verify.test.ts).
contract OPVMTest is Test {
    OPVM internal opvm;
    uint256 internal constant PC = 1000;
    uint256 internal constant DATA = 64 * 1024;
    uint256 internal constant MEM_BYTES = 1 << 31;
    uint256 internal constant H32 = 0xffffffff00000000;
    bytes32 internal constant PATTERN = 0x81a6cbf0153a5f84a9cef3183d6287acd1f61b40658aafd4f91e43688db2d7fc;

    function setUp() public {
        opvm = new OPVM();
    }

    // -----------------------------------------------------------------------------------------------
    // Helpers

    function _regs(uint256 r1, uint256 r2, uint256 r3) internal pure returns (uint256[32] memory regs) {
        regs[1] = r1;
        regs[2] = r2;
        regs[3] = r3;
        regs[4] = 0xdeadbeefdeadbeef;
    }

    /// Step a running state with `ins` at PC (no data leaf unless withData) and return pre-state and post hash.
    function _step(uint256[32] memory regs, bytes32 ins, uint256 dataIndex, bytes32 dataLeaf, bool withData)
        internal
        view
        returns (PB.State memory s, PB.Mem memory m, bytes32 post)
    {
        (s, m) = PB.state(regs, PC, ins, dataIndex, dataLeaf);
        post = opvm.step(PB.stateHash(s), PB.proof(s, m, withData));
    }

    function _expectRd(bytes32 ins, uint256[32] memory regs, uint256 want, string memory what) internal view {
        (PB.State memory s,, bytes32 post) = _step(regs, ins, PC, 0, false);
        s.regs[uint8(ins[1]) & 31] = want;
        s.pc += 1;
        assertEq(post, PB.stateHash(s), what);
    }

    function _bin(uint256 op, uint256 a, uint256 b, uint256 want) internal view {
        _expectRd(PB.rrr(op, 4, 1, 2), _regs(a, b, 0), want, string.concat("op ", vm.toString(op), " a ", hex32(a), " b ", hex32(b)));
    }

    function _un(uint256 op, uint256 a, uint256 want) internal view {
        _bin(op, a, 0, want);
    }

    function _expectStatus(bytes32 ins, uint256[32] memory regs, uint256 status, string memory what) internal view {
        (PB.State memory s,, bytes32 post) = _step(regs, ins, PC, 0, false);
        s.status = status;
        assertEq(post, PB.stateHash(s), what);
    }

    function _trap(uint256 op, uint256 a, uint256 b, uint256 status) internal view {
        _expectStatus(PB.rrr(op, 4, 1, 2), _regs(a, b, 0), status, string.concat("trap op ", vm.toString(op)));
    }

    function _expectPc(bytes32 ins, uint256[32] memory regs, uint256 pc, string memory what) internal view {
        (PB.State memory s,, bytes32 post) = _step(regs, ins, PC, 0, false);
        s.pc = pc;
        assertEq(post, PB.stateHash(s), what);
    }

    // -----------------------------------------------------------------------------------------------
    // Control and moves

    function test_control() public view {
        uint256[32] memory r;
        _expectStatus(PB.insn(0x00, 0, 0, 0, 0, false, 0, 0, 0), r, 2, "UNREACHABLE");
        _expectStatus(bytes32(0), r, 2, "zero leaf is UNREACHABLE");
        _expectStatus(PB.insn(0x01, 0, 0, 0, 0, false, 0, 0, 0), r, 1, "HALT");
        _expectPc(PB.insn(0x02, 0, 0, 0, 0, false, 0, 0, 0xfffffffe), r, 0xfffffffe, "JMP");
        bytes32 brz = PB.insn(0x03, 0, 3, 0, 0, false, 0, 0, 7);
        bytes32 brnz = PB.insn(0x04, 0, 3, 0, 0, false, 0, 0, 7);
        _expectPc(brz, _regs(0, 0, H32), 7, "BRZ low 32 bits zero");
        _expectPc(brz, _regs(0, 0, 0x100000001), PC + 1, "BRZ not taken");
        _expectPc(brnz, _regs(0, 0, H32), PC + 1, "BRNZ low 32 bits zero");
        _expectPc(brnz, _regs(0, 0, 0x80000000), 7, "BRNZ taken");
        _bin(0x05, 0, 0xfedcba9876543210, 0xfedcba9876543210);
        _expectRd(PB.insn(0x05, 4, 0, 0, 0, true, 0x8000000000000001, 0, 0), _regs(0, 0, 0), 0x8000000000000001, "MOV imm");
        bytes32 sel = PB.insn(0x06, 4, 1, 2, 3, false, 0, 0, 0);
        _expectRd(sel, _regs(0xaaaaaaaabbbbbbbb, 0xccccccccdddddddd, 1), 0xaaaaaaaabbbbbbbb, "SELECT true");
        _expectRd(sel, _regs(0xaaaaaaaabbbbbbbb, 0xccccccccdddddddd, 0x100000000), 0xccccccccdddddddd, "SELECT low32(C) = 0");
        _expectRd(PB.insn(0x06, 4, 1, 0, 3, true, 9, 0, 0), _regs(1, 0, 0), 9, "SELECT imm");
    }

    // -----------------------------------------------------------------------------------------------
    // Integers

    function test_i32Binary() public view {
        _bin(0x10, H32 | 0xffffffff, 2, 1);
        _bin(0x11, 1, H32 | 2, 0xffffffff);
        _bin(0x12, 0x10000, 0x10001, 0x10000);
        _bin(0x12, 0xffffffff, 0xffffffff, 1);
        _bin(0x13, 0xfffffff9, 2, 0xfffffffd);
        _bin(0x13, 7, 0xfffffffe, 0xfffffffd);
        _bin(0x13, 0x80000000, 2, 0xc0000000);
        _bin(0x14, 0xfffffff9, 2, 0x7ffffffc);
        _bin(0x15, 0xfffffff9, 2, 0xffffffff);
        _bin(0x15, 7, 0xfffffffe, 1);
        _bin(0x15, 0x80000000, 0xffffffff, 0);
        _bin(0x16, 0xfffffff9, 2, 1);
        _bin(0x17, H32 | 0xf0f0, 0xff00, 0xf000);
        _bin(0x18, 0xf0, H32 | 0x0f, 0xff);
        _bin(0x19, 0xffffffff, 0x0f0f0f0f, 0xf0f0f0f0);
        _bin(0x1a, 1, 33, 2);
        _bin(0x1a, 0x80000001, 1, 2);
        _bin(0x1b, 0x80000000, 31, 0xffffffff);
        _bin(0x1b, 0x80000000, 32, 0x80000000);
        _bin(0x1c, 0x80000000, 63, 1);
        _bin(0x1d, 0x80000001, 1, 3);
        _bin(0x1d, 0x12345678, 32, 0x12345678);
        _bin(0x1e, 0x80000001, 1, 0xc0000000);
        _bin(0x1e, 0x12345678, 4, 0x81234567);
        _bin(0x1f, H32 | 5, 5, 1);
        _bin(0x20, H32 | 5, 5, 0);
        _bin(0x21, 0xffffffff, 0, 1);
        _bin(0x22, 0xffffffff, 0, 0);
        _bin(0x23, 0xffffffff, 0, 0);
        _bin(0x24, 0xffffffff, 0, 1);
        _bin(0x25, 0x80000000, 0x80000000, 1);
        _bin(0x26, 1, 0, 0);
        _bin(0x27, 0x7fffffff, 0x80000000, 1);
        _bin(0x28, 0x7fffffff, 0x80000000, 0);
        // IMM operand: B is the low 32 bits of imm; the result is zero-extended over r1's high bits.
        _expectRd(PB.insn(0x10, 1, 1, 0, 0, true, 0xfffffffffffffffe, 0, 0), _regs(0xffffffff00000005, 0, 0), 3, "I32_ADD imm");
    }

    function test_i32Unary() public view {
        _un(0x30, 0, 32);
        _un(0x30, 0xffffffff00000001, 31);
        _un(0x30, 0x80000000, 0);
        _un(0x31, 0, 32);
        _un(0x31, 0x100000000, 32);
        _un(0x31, 0x80000000, 31);
        _un(0x32, type(uint64).max, 32);
        _un(0x32, 0x00f00080, 5);
        _un(0x33, 0x100000000, 1);
        _un(0x33, 1, 0);
        _un(0x34, 0x80, 0xffffff80);
        _un(0x34, 0xffffff7f, 0x7f);
        _un(0x35, 0x8000, 0xffff8000);
        _un(0x35, 0x12347fff, 0x7fff);
    }

    function test_i64() public view {
        uint256 MIN = 1 << 63;
        uint256 M = type(uint64).max;
        _bin(0x40, M, 2, 1);
        _bin(0x41, 1, 2, M);
        _bin(0x42, 0x100000000, 0x100000001, 0x100000000);
        _bin(0x42, M, M, 1);
        _bin(0x43, M - 6, 2, M - 2);
        _bin(0x43, MIN, 2, 0xc000000000000000);
        _bin(0x44, M - 6, 2, 0x7ffffffffffffffc);
        _bin(0x45, M - 6, 2, M);
        _bin(0x45, MIN, M, 0);
        _bin(0x46, M - 6, 2, 1);
        _bin(0x47, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00);
        _bin(0x48, 0xf0, 0x0f, 0xff);
        _bin(0x49, M, 1, M - 1);
        _bin(0x4a, 1, 65, 2);
        _bin(0x4b, MIN, 63, M);
        _bin(0x4c, MIN, 127, 1);
        _bin(0x4d, MIN | 1, 1, 3);
        _bin(0x4e, 1, 1, MIN);
        _bin(0x4e, 0x0123456789abcdef, 64, 0x0123456789abcdef);
        _bin(0x4f, 5, 5, 1);
        _bin(0x50, 5, 0x100000005, 1);
        _bin(0x51, M, 0, 1);
        _bin(0x52, M, 0, 0);
        _bin(0x53, M, 0, 0);
        _bin(0x54, M, 0, 1);
        _bin(0x55, MIN, MIN, 1);
        _bin(0x56, 1, 0, 0);
        _bin(0x57, MIN - 1, MIN, 1);
        _bin(0x58, MIN - 1, MIN, 0);
        _un(0x60, 0, 64);
        _un(0x60, 0x100000000, 31);
        _un(0x61, 0, 64);
        _un(0x61, 0x100000000, 32);
        _un(0x62, M, 64);
        _un(0x63, 0, 1);
        _un(0x63, MIN, 0);
        _un(0x64, 0x180, M - 127);
        _un(0x65, 0x18000, M - 32767);
        _un(0x66, 0x0000000180000000, 0xffffffff80000000);
        _un(0x66, 0xffffffff7fffffff, 0x7fffffff);
    }

    function test_integerTraps() public view {
        for (uint256 op = 0x13; op <= 0x16; op++) _trap(op, 7, H32, 4);
        for (uint256 op = 0x43; op <= 0x46; op++) _trap(op, 7, 0, 4);
        _trap(0x13, 0x80000000, 0xffffffff, 5);
        _trap(0x13, 0xffffffff80000000, 0x00000000ffffffff, 5);
        _trap(0x43, 1 << 63, type(uint64).max, 5);
        _bin(0x43, 0x80000000, 0xffffffff, 0);
    }

    // -----------------------------------------------------------------------------------------------
    // f32 and conversions

    function test_f32() public view {
        _bin(0x70, 0xabcdef0100000000 | 0x3fc00000, 0x40100000, 0x40700000);
        _bin(0x70, 0x3f800000, 0x33800000, 0x3f800000);
        _bin(0x70, 0x7f7fffff, 0x7f7fffff, 0x7f800000);
        _bin(0x70, 1, 1, 2);
        _bin(0x71, 0x7f800000, 0x7f800000, 0x7fc00000);
        _bin(0x71, 0x80000000, 0x80000000, 0);
        _bin(0x72, 0x3f800000, 0xffc00123, 0x7fc00000);
        _bin(0x72, 1, 0x3f000000, 0);
        _bin(0x73, 0x3f800000, 0x40400000, 0x3eaaaaab);
        _bin(0x73, 0x3f800000, 0x80000000, 0xff800000);
        _bin(0x73, 0, 0, 0x7fc00000);
        _bin(0x74, 0x80000000, 0, 0x80000000);
        _bin(0x74, 0, 0x80000000, 0x80000000);
        _bin(0x75, 0x80000000, 0, 0);
        _bin(0x74, 0x7f800001, 0x3f800000, 0x7fc00000);
        _bin(0x76, 0x7fc00123, 0x80000000, 0xffc00123);
        _bin(0x77, 0, 0x80000000, 1);
        _bin(0x77, 0x7fc00000, 0x7fc00000, 0);
        _bin(0x78, 0x7fc00000, 0x7fc00000, 1);
        _bin(0x79, 0xbf800000, 0x3f800000, 1);
        _bin(0x7a, 0x7fc00000, 0x3f800000, 0);
        _bin(0x7b, 0x40000000, 0x40000000, 1);
        _bin(0x7c, 0x3f800000, 0x40000000, 0);
        _un(0x80, 0xffc00123, 0x7fc00123);
        _un(0x81, 0xabcdef0100000000 | 0x7fc00123, 0xffc00123);
        _un(0x82, 0x40800000, 0x40000000);
        _un(0x82, 0x40000000, 0x3fb504f3);
        _un(0x82, 0x80000000, 0x80000000);
        _un(0x82, 0xbf800000, 0x7fc00000);
        _un(0x83, 0xbf000000, 0x80000000);
        _un(0x84, 0xbf000000, 0xbf800000);
        _un(0x85, 0x40600000, 0x40400000);
        _un(0x86, 0x40200000, 0x40000000);
        _un(0x86, 0x40600000, 0x40800000);
        _un(0x83, 0x7fa00000, 0x7fc00000);
    }

    function test_conversions() public view {
        uint256 M = type(uint64).max;
        _un(0x90, 0x123456789, 0x23456789);
        _un(0x91, 0xffffffff80000000, 0xffffffff80000000);
        _un(0x91, 0x1234567800000001, 1);
        _un(0x92, 0xffffffff80000000, 0x80000000);
        _un(0x93, 0xc0600000, 0xfffffffd);
        _un(0x93, 0x7fc00000, 0);
        _un(0x93, 0xff800000, 0x80000000);
        _un(0x94, 0xc0600000, 0);
        _un(0x94, 0x7f800000, 0xffffffff);
        _un(0x95, 0xc0600000, M - 2);
        _un(0x95, 0x7f800000, 0x7fffffffffffffff);
        _un(0x96, 0x5f800000, M);
        _un(0x96, 0x4f800000, 0x100000000);
        _un(0x97, 0xffffffff, 0xbf800000);
        _un(0x97, 16777217, 0x4b800000);
        _un(0x98, 0xffffffff, 0x4f800000);
        _un(0x98, 0xffffffff00000003, 0x40400000);
        _un(0x99, M, 0xbf800000);
        _un(0x99, (1 << 60) + (1 << 36) + 1, 0x5d800001);
        _un(0x9a, M, 0x5f800000);
    }

    function test_illegalOpcodes() public view {
        bool[256] memory defined;
        uint8[6] memory lo = [0x00, 0x10, 0x30, 0x40, 0x60, 0x70];
        uint8[6] memory hi = [0x06, 0x28, 0x35, 0x58, 0x66, 0x7c];
        for (uint256 g = 0; g < 6; g++) for (uint256 op = lo[g]; op <= hi[g]; op++) defined[op] = true;
        for (uint256 op = 0x80; op <= 0x86; op++) defined[op] = true;
        for (uint256 op = 0x90; op <= 0x9a; op++) defined[op] = true;
        for (uint256 op = 0xa0; op <= 0xab; op++) defined[op] = true;
        for (uint256 op = 0xb0; op <= 0xb3; op++) defined[op] = true;
        for (uint256 op = 0; op < 256; op++) {
            if (defined[op]) continue;
            _expectStatus(PB.insn(op, 1, 1, 0, 0, false, 0, 0, 0), _regs(0x1234, 0, 0), 3, string.concat("illegal ", vm.toString(op)));
        }
    }

    function test_ignoredBytes() public view {
        // bytes 6, 7, 24 … 31, flag bits other than IMM and register bits above 4 are ignored
        bytes32 plain = PB.rrr(0x40, 4, 1, 2);
        bytes32 noisy = plain | bytes32(uint256(0x00e060a0fffe55aa000000000000000000000000000000000123456789abcdef));
        _expectRd(noisy, _regs(40, 2, 0), 42, "noisy I64_ADD");
    }

    // -----------------------------------------------------------------------------------------------
    // Memory

    /// rd after a load at `ea` (base register ea − off with high bits set) from memory holding PATTERN at DATA.
    function _expectLoad(uint256 op, uint256 ea, uint256 off, uint256 want) internal view {
        uint256[32] memory regs = _regs((ea - off) | H32, 0, 0);
        bytes32 ins = PB.insn(op, 4, 1, 0, 0, false, 0, uint32(off), 0);
        (PB.State memory s,, bytes32 post) = _step(regs, ins, ea >> 5, ea >> 5 == DATA >> 5 ? PATTERN : bytes32(0), true);
        s.regs[4] = want;
        s.pc += 1;
        assertEq(post, PB.stateHash(s), string.concat("load op ", vm.toString(op), " ea ", vm.toString(ea)));
    }

    /// PATTERN[i] = (i * 37 + 0x81) & 0xff; little-endian bytes at DATA + at.
    function _le(uint256 pos, uint256 n) internal pure returns (uint256 v) {
        for (uint256 k = n; k > 0; k--) v = (v << 8) | uint8(PATTERN[pos + k - 1]);
    }

    function _sx(uint256 v, uint256 bits, uint256 width) internal pure returns (uint256) {
        uint256 signBit = 1 << (bits - 1);
        uint256 ext = v & signBit != 0 ? v | (((1 << width) - 1) ^ ((1 << bits) - 1)) : v;
        return ext & ((1 << width) - 1);
    }

    function test_loads() public view {
        for (uint256 i = 0; i < 32; i++) assertEq(uint8(PATTERN[i]), (i * 37 + 0x81) & 0xff, "pattern");
        _expectLoad(0xa0, DATA + 8, 8, _le(8, 4));
        _expectLoad(0xa5, DATA + 8, 0, _le(8, 8));
        _expectLoad(0xa5, DATA + 24, 0, _le(24, 8));
        for (uint256 pos = 0; pos < 32; pos += 7) {
            uint256 b = _le(pos, 1);
            _expectLoad(0xa2, DATA + pos, 0, b);
            _expectLoad(0xa1, DATA + pos, 0, _sx(b, 8, 32));
            _expectLoad(0xa7, DATA + pos, 0, b);
            _expectLoad(0xa6, DATA + pos, 0, _sx(b, 8, 64));
        }
        for (uint256 pos = 0; pos < 32; pos += 6) {
            uint256 h = _le(pos, 2);
            _expectLoad(0xa4, DATA + pos, 0, h);
            _expectLoad(0xa3, DATA + pos, 0, _sx(h, 16, 32));
            _expectLoad(0xa9, DATA + pos, 0, h);
            _expectLoad(0xa8, DATA + pos, 0, _sx(h, 16, 64));
        }
        for (uint256 pos = 0; pos < 32; pos += 4) {
            uint256 w = _le(pos, 4);
            _expectLoad(0xa0, DATA + pos, 0, w);
            _expectLoad(0xab, DATA + pos, 0, w);
            _expectLoad(0xaa, DATA + pos, 0, _sx(w, 32, 64));
        }
        _expectLoad(0xa6, DATA, 0, 0xffffffffffffff81);
        _expectLoad(0xa1, DATA, 0, 0xffffff81);
        _expectLoad(0xa5, MEM_BYTES - 8, 0, 0);
        _expectLoad(0xa2, MEM_BYTES - 1, 0, 0);
    }

    function _storeBytes(bytes32 leaf, uint256 pos, uint256 size, uint256 v) internal pure returns (bytes32) {
        bytes memory b = abi.encodePacked(leaf);
        for (uint256 k = 0; k < size; k++) b[pos + k] = bytes1(uint8(v >> (8 * k)));
        return bytes32(b);
    }

    function test_stores() public view {
        uint256 v = 0x8877665544332211;
        uint8[4] memory sizes = [1, 2, 4, 8];
        for (uint256 i = 0; i < 4; i++) {
            uint256 size = sizes[i];
            uint256 op = 0xb0 + i;
            uint256[3] memory poss = [uint256(0), 32 - size, 16];
            for (uint256 j = 0; j < 3; j++) {
                uint256 pos = poss[j];
                bytes32 ins = PB.insn(op, 0, 1, 2, 0, false, 0, 4, 0);
                (PB.State memory s, PB.Mem memory m, bytes32 post) = _step(_regs(DATA + pos - 4, v, 0), ins, DATA >> 5, PATTERN, true);
                m.lb = _storeBytes(PATTERN, pos, size, v);
                s.memRoot = PB.root(m);
                s.pc += 1;
                assertEq(post, PB.stateHash(s), string.concat("store op ", vm.toString(op), " pos ", vm.toString(pos)));
            }
        }
        // IMM stores the immediate; the far end of memory.
        bytes32 far = PB.insn(0xb3, 0, 1, 0, 0, true, 0x0102030405060708, 0, 0);
        (PB.State memory s2, PB.Mem memory m2, bytes32 post2) = _step(_regs(MEM_BYTES - 8, 0, 0), far, (MEM_BYTES >> 5) - 1, 0, true);
        m2.lb = bytes32(uint256(0x0807060504030201));
        s2.memRoot = PB.root(m2);
        s2.pc += 1;
        assertEq(post2, PB.stateHash(s2), "STORE64 imm pos the end of memory");
        // A store into its own instruction leaf (data index = pc): the same leaf, one path.
        bytes32 self = PB.insn(0xb0, 0, 1, 0, 0, true, 0x42, 0, 0);
        (PB.State memory s3, PB.Mem memory m3, bytes32 post3) = _step(_regs(PC * 32 + 31, 0, 0), self, PC, self, true);
        m3.la = _storeBytes(self, 31, 1, 0x42);
        m3.lb = m3.la;
        s3.memRoot = PB.root(m3);
        s3.pc += 1;
        assertEq(post3, PB.stateHash(s3), "store over its own instruction");
    }

    function _memTrap(uint256 op, uint256 a, uint256 off, uint256 status) internal view {
        bytes32 ins = PB.insn(op, 4, 1, 2, 0, false, 0, uint32(off), 0);
        _expectStatus(ins, _regs(a, 7, 0), status, string.concat("memory trap op ", vm.toString(op), " a ", hex32(a)));
    }

    function test_memoryTraps() public view {
        uint8[6] memory ops = [0xa0, 0xa5, 0xa3, 0xb1, 0xb2, 0xb3];
        for (uint256 i = 0; i < 6; i++) {
            uint256 op = ops[i];
            _memTrap(op, DATA + 1, 0, 7);
            _memTrap(op, MEM_BYTES, 0, 6);
            _memTrap(op, 0xffffffff, 0xffffffff, 6); // ea = 2^33 − 2: no wrap
            _memTrap(op, 0, 0xffffffff, 6);
            _memTrap(op, MEM_BYTES - 1, 0, 6); // out of bounds and unaligned: bounds first
            _memTrap(op, 1, MEM_BYTES - 1, 6);
        }
        _memTrap(0xa2, MEM_BYTES, 0, 6);
        _memTrap(0xb0, MEM_BYTES, 0, 6);
        _memTrap(0xb0, 0xfffffffe, 2, 6);
        // 0xAC … 0xAF lie between the loads and stores but are not defined: illegal, no data leaf.
        for (uint256 op = 0xac; op <= 0xaf; op++) _memTrap(op, DATA, 0, 3);
    }

    // -----------------------------------------------------------------------------------------------
    // Fetch out of bounds, fixed points

    function test_fetchOutOfBounds() public view {
        uint256[3] memory pcs = [uint256(1 << 26), (1 << 26) + 1, 0xffffffff];
        for (uint256 i = 0; i < 3; i++) {
            PB.State memory s;
            s.pc = pcs[i];
            s.memRoot = keccak256("any");
            bytes32 post = opvm.step(PB.stateHash(s), PB.header(s));
            s.status = 6;
            assertEq(post, PB.stateHash(s), "fetch out of bounds");
        }
        // pc = 2^26 − 1 is fetched.
        bytes32 ins = PB.insn(0x10, 1, 1, 0, 0, true, 1, 0, 0);
        uint256[32] memory r;
        (PB.State memory s2, PB.Mem memory m2) = PB.state(r, (1 << 26) - 1, ins, (1 << 26) - 1, 0);
        bytes32 post2 = opvm.step(PB.stateHash(s2), PB.proof(s2, m2, false));
        s2.pc += 1;
        s2.regs[1] = 1;
        assertEq(post2, PB.stateHash(s2), "last leaf");
    }

    function test_fixedPoints() public view {
        uint8[6] memory st = [1, 2, 3, 6, 7, 0xff];
        for (uint256 i = 0; i < 6; i++) {
            PB.State memory s;
            s.status = st[i];
            s.regs[1] = 5;
            s.memRoot = keccak256("m");
            bytes32 pre = PB.stateHash(s);
            assertEq(opvm.step(pre, PB.header(s)), pre, "fixed point");
        }
    }

    // -----------------------------------------------------------------------------------------------
    // Custom errors

    function _addProof() internal pure returns (bytes32 pre, bytes memory proof, PB.Mem memory m, PB.State memory s) {
        uint256[32] memory r;
        (s, m) = PB.state(r, PC, PB.rrr(0x10, 1, 1, 1), PC, 0);
        pre = PB.stateHash(s);
        proof = PB.proof(s, m, false);
    }

    function _loadProof() internal pure returns (bytes32 pre, bytes memory proof) {
        uint256[32] memory r;
        r[1] = DATA;
        (PB.State memory s, PB.Mem memory m) = PB.state(r, PC, PB.insn(0xa0, 4, 1, 0, 0, false, 0, 0, 0), DATA >> 5, PATTERN);
        pre = PB.stateHash(s);
        proof = PB.proof(s, m, true);
    }

    function _slice(bytes memory b, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n);
        for (uint256 i = 0; i < n; i++) out[i] = b[i];
    }

    function _flip(bytes memory b, uint256 i, uint8 mask) internal pure returns (bytes memory out) {
        out = bytes.concat(b);
        out[i] = bytes1(uint8(out[i]) ^ mask);
    }

    function test_errorBadPreState() public {
        (bytes32 pre, bytes memory proof,,) = _addProof();
        vm.expectRevert(IOPVM.BadPreState.selector);
        opvm.step(pre ^ bytes32(uint256(1)), proof);
        // Any header byte changed.
        vm.expectRevert(IOPVM.BadPreState.selector);
        opvm.step(pre, _flip(proof, 100, 1));
    }

    function test_errorBadHeaderPadding() public {
        PB.State memory s;
        s.status = 1;
        bytes memory h = PB.header(s);
        h[38] = 0x01;
        vm.expectRevert(IOPVM.BadHeaderPadding.selector);
        opvm.step(keccak256(h), h);
    }

    function test_errorBadProofLength() public {
        (bytes32 pre, bytes memory proof,,) = _addProof();
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 295, 296));
        opvm.step(pre, _slice(proof, 295));
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 296, 1160));
        opvm.step(pre, _slice(proof, 296));
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 1159, 1160));
        opvm.step(pre, _slice(proof, 1159));
        // A data part for an instruction without a data access.
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 2024, 1160));
        opvm.step(pre, bytes.concat(proof, _slice(proof, 864)));
        // A halted state with an instruction leaf.
        PB.State memory h;
        h.status = 1;
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 1160, 296));
        opvm.step(PB.stateHash(h), bytes.concat(PB.header(h), _slice(proof, 864)));
        // A fetch out of bounds with an instruction leaf.
        PB.State memory f;
        f.pc = 1 << 26;
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 297, 296));
        opvm.step(PB.stateHash(f), bytes.concat(PB.header(f), hex"00"));
        // A load without its data part, with one byte too many.
        (bytes32 lpre, bytes memory lproof) = _loadProof();
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 1160, 2024));
        opvm.step(lpre, _slice(lproof, 1160));
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 2025, 2024));
        opvm.step(lpre, bytes.concat(lproof, hex"00"));
        // A data part for an access that traps (unaligned).
        uint256[32] memory r;
        r[1] = DATA + 2;
        (PB.State memory us, PB.Mem memory um) = PB.state(r, PC, PB.insn(0xb2, 0, 1, 0, 0, false, 0, 0, 0), DATA >> 5, PATTERN);
        vm.expectRevert(abi.encodeWithSelector(IOPVM.BadProofLength.selector, 2024, 1160));
        opvm.step(PB.stateHash(us), PB.proof(us, um, true));
    }

    function test_errorBadInsnProof() public {
        (bytes32 pre, bytes memory proof,,) = _addProof();
        uint256[4] memory pos = [uint256(296 + 31), 328, 328 + 13 * 32 + 5, 1159];
        for (uint256 i = 0; i < 4; i++) {
            vm.expectRevert(IOPVM.BadInsnProof.selector);
            opvm.step(pre, _flip(proof, pos[i], 0x80));
        }
    }

    function test_errorBadDataProof() public {
        (bytes32 pre, bytes memory proof) = _loadProof();
        uint256[4] memory pos = [uint256(1160 + 5), 1192, 1192 + 20 * 32, 2023];
        for (uint256 i = 0; i < 4; i++) {
            vm.expectRevert(IOPVM.BadDataProof.selector);
            opvm.step(pre, _flip(proof, pos[i], 1));
        }
        // A store checks the old leaf too.
        uint256[32] memory r;
        r[1] = DATA;
        (PB.State memory s, PB.Mem memory m) = PB.state(r, PC, PB.insn(0xb3, 0, 1, 0, 0, true, 7, 0, 0), DATA >> 5, PATTERN);
        bytes memory sp = PB.proof(s, m, true);
        vm.expectRevert(IOPVM.BadDataProof.selector);
        opvm.step(PB.stateHash(s), _flip(sp, 1160, 1));
        vm.expectRevert(IOPVM.BadDataProof.selector);
        opvm.step(PB.stateHash(s), _flip(sp, 1192 + 25 * 32, 1));
    }

    // -----------------------------------------------------------------------------------------------
    // Fuzz

    function testFuzz_i32AddZeroExtends(uint64 a, uint64 b, uint64 old) public view {
        uint256[32] memory r;
        r[1] = a;
        r[2] = b;
        r[4] = old;
        _expectRd(PB.rrr(0x10, 4, 1, 2), r, (uint256(a) + uint256(b)) & 0xffffffff, "I32_ADD");
        _expectRd(PB.rrr(0x40, 4, 1, 2), r, (uint256(a) + uint256(b)) & type(uint64).max, "I64_ADD");
    }

    /// A store of any width at any aligned offset of a leaf: the leaf's bytes change little-endian.
    function testFuzz_store(uint64 v, uint8 sizeSel, uint8 slot, bytes32 leaf, uint32 dataLeafIndex) public view {
        uint256 size = 1 << (sizeSel % 4);
        uint256 pos = (uint256(slot) * size) % 32;
        uint256 index = dataLeafIndex % (1 << 26);
        vm.assume(index != PC);
        bytes32 ins = PB.insn(0xb0 + (sizeSel % 4), 0, 1, 2, 0, false, 0, 0, 0);
        (PB.State memory s, PB.Mem memory m, bytes32 post) = _step(_regs(index * 32 + pos, v, 0), ins, index, leaf, true);
        m.lb = _storeBytes(leaf, pos, size, v);
        s.memRoot = PB.root(m);
        s.pc += 1;
        assertEq(post, PB.stateHash(s), "store");
    }

    /// Any flipped bit of an honest proof makes it invalid.
    function testFuzz_flippedBitRejected(uint256 where, uint8 bit) public view {
        (bytes32 pre, bytes memory proof) = _loadProof();
        uint256 i = where % proof.length;
        bytes memory bad = _flip(proof, i, uint8(1 << (bit % 8)));
        bytes4 want = i < 296 ? IOPVM.BadPreState.selector : i < 1160 ? IOPVM.BadInsnProof.selector : IOPVM.BadDataProof.selector;
        // The header is checked by its hash and the leaves by their paths before anything is decoded.
        try opvm.step(pre, bad) returns (bytes32) {
            revert("accepted a flipped bit");
        } catch (bytes memory err) {
            assertEq(err.length, 4, "custom error without arguments");
            assertEq(bytes4(err), want, "error");
        }
    }
}
