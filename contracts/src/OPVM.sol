// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {F32} from "./F32.sol";
import {MerkleLib} from "./MerkleLib.sol";
import {IOPVM} from "./IOPVM.sol";

/**
 * @title OPVM — the one-step verifier of the OPML machine (docs/opvm.md)
 * @notice step(preStateHash, proof) re-executes one instruction from the packed step proof of
 * docs/opvm.md §5 and returns the post-state hash, or reverts with a named error when the proof is
 * invalid. It mirrors runtime/opvm/verify.ts check for check:
 *
 *   1. keccak256(header) must equal the pre-state hash; the header's padding bytes must be zero;
 *   2. a halted or trapped state is a fixed point (the proof is the header alone);
 *   3. pc ≥ 2^26 traps 6 (out-of-bounds) without an instruction leaf;
 *   4. otherwise the instruction leaf must be leaf pc under memRoot (26 siblings, bottom first);
 *   5. a load or store computes ea = low32(A) + off (no wrap), traps 6 when ea + size > 2^31, else traps 7
 *      when ea is not a multiple of size, else needs the data leaf ⌊ea/32⌋ under memRoot; a store writes
 *      its bytes little-endian into that leaf and recomputes memRoot with the same path;
 *   6. the proof length is exactly what the header and the instruction call for (296, 1160 or 2024
 *      bytes): a missing or superfluous part is a wrong length.
 *
 * The pre-state header is copied to memory once; the post-state header is that copy with pc, status,
 * one register or memRoot overwritten in place, and the post-state hash is its keccak256.
 *
 * Header layout (big-endian): memRoot [0,32) ‖ pc [32,36) ‖ status [36] ‖ 0x000000 [37,40) ‖
 * r_i [40+8i, 48+8i). The word loaded at byte offset x holds bytes [x, x+32), so the field that ends at
 * byte e is in the low bits of the word at e − 32: pc at 4, status at 5, padding at 8, r_i at 16 + 8i.
 */
contract OPVM is IOPVM {
    uint256 internal constant MEM_DEPTH = 26;
    uint256 internal constant MEM_LEAVES = 1 << 26;
    uint256 internal constant MEM_BYTES = 1 << 31;

    uint256 internal constant HEADER_BYTES = 296;
    /// header ‖ insnLeaf ‖ insnPath
    uint256 internal constant INSN_PROOF_BYTES = 296 + 32 + 32 * 26;
    /// header ‖ insnLeaf ‖ insnPath ‖ dataLeaf ‖ dataPath
    uint256 internal constant DATA_PROOF_BYTES = INSN_PROOF_BYTES + 32 + 32 * 26;
    /// Offsets of the instruction path and the data path in the proof.
    uint256 internal constant INSN_PATH_AT = HEADER_BYTES + 32;
    uint256 internal constant DATA_PATH_AT = INSN_PROOF_BYTES + 32;

    uint256 internal constant M32 = 0xffffffff;
    uint256 internal constant M64 = 0xffffffffffffffff;

    uint256 internal constant HALTED = 1;
    uint256 internal constant UNREACHABLE = 2;
    uint256 internal constant ILLEGAL = 3;
    uint256 internal constant DIV_BY_ZERO = 4;
    uint256 internal constant OVERFLOW = 5;
    uint256 internal constant OUT_OF_BOUNDS = 6;
    uint256 internal constant UNALIGNED = 7;

    /// @inheritdoc IOPVM
    function step(bytes32 preStateHash, bytes calldata proof) external pure returns (bytes32) {
        return _step(preStateHash, proof);
    }

    function _step(bytes32 preStateHash, bytes calldata proof) internal pure returns (bytes32) {
        uint256 len = proof.length;
        if (len < HEADER_BYTES) revert BadProofLength(len, HEADER_BYTES);
        uint256 base;
        uint256 hdr;
        bytes32 h;
        assembly ("memory-safe") {
            base := proof.offset
            hdr := mload(0x40)
            mstore(0x40, add(hdr, 0x140))
            calldatacopy(hdr, base, HEADER_BYTES)
            h := keccak256(hdr, HEADER_BYTES)
        }
        if (h != preStateHash) revert BadPreState();
        if (_mload(hdr + 8) & 0xffffff != 0) revert BadHeaderPadding();

        // Halted or trapped: a fixed point, proved by the header alone.
        if (_mload(hdr + 5) & 0xff != 0) {
            if (len != HEADER_BYTES) revert BadProofLength(len, HEADER_BYTES);
            return preStateHash;
        }

        // A fetch outside memory traps without an instruction leaf.
        uint256 pc = _mload(hdr + 4) & M32;
        if (pc >= MEM_LEAVES) {
            if (len != HEADER_BYTES) revert BadProofLength(len, HEADER_BYTES);
            _setStatus(hdr, OUT_OF_BOUNDS);
            return _hash(hdr);
        }

        if (len < INSN_PROOF_BYTES) revert BadProofLength(len, INSN_PROOF_BYTES);
        uint256 w = _cload(base + HEADER_BYTES);
        if (MerkleLib.rootFromPacked(bytes32(w), pc, base + INSN_PATH_AT, MEM_DEPTH) != bytes32(_mload(hdr))) {
            revert BadInsnProof();
        }
        uint256 op = w >> 248;
        if (op >= 0xa0 && op <= 0xb3) {
            _memoryAccess(hdr, w, op, pc, base, len);
        } else {
            if (len != INSN_PROOF_BYTES) revert BadProofLength(len, INSN_PROOF_BYTES);
            _execute(hdr, w, op, pc);
        }
        return _hash(hdr);
    }

    // -----------------------------------------------------------------------------------------------
    // Header access (hdr: memory pointer to the 296-byte header copy)

    function _mload(uint256 p) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(p)
        }
    }

    function _cload(uint256 p) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := calldataload(p)
        }
    }

    function _hash(uint256 hdr) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(hdr, 296)
        }
    }

    function _reg(uint256 hdr, uint256 i) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := and(mload(add(hdr, add(16, shl(3, i)))), 0xffffffffffffffff)
        }
    }

    function _setReg(uint256 hdr, uint256 i, uint256 v) internal pure {
        assembly ("memory-safe") {
            let p := add(hdr, add(16, shl(3, i)))
            mstore(p, or(and(mload(p), not(0xffffffffffffffff)), and(v, 0xffffffffffffffff)))
        }
    }

    function _setPc(uint256 hdr, uint256 newPc) internal pure {
        assembly ("memory-safe") {
            let p := add(hdr, 4)
            mstore(p, or(and(mload(p), not(0xffffffff)), and(newPc, 0xffffffff)))
        }
    }

    function _setStatus(uint256 hdr, uint256 status) internal pure {
        assembly ("memory-safe") {
            mstore8(add(hdr, 36), status)
        }
    }

    function _setMemRoot(uint256 hdr, bytes32 root) internal pure {
        assembly ("memory-safe") {
            mstore(hdr, root)
        }
    }

    /// rd ← v (u64), pc ← pc + 1.
    function _writeRd(uint256 hdr, uint256 w, uint256 v, uint256 pc) internal pure {
        _setReg(hdr, (w >> 240) & 31, v);
        _setPc(hdr, pc + 1);
    }

    // -----------------------------------------------------------------------------------------------
    // Instruction fields (docs/opvm.md §3; w = the 32-byte leaf as a big-endian word)

    function _bswap64(uint256 x) internal pure returns (uint256) {
        x = ((x & 0x00ff00ff00ff00ff) << 8) | ((x >> 8) & 0x00ff00ff00ff00ff);
        x = ((x & 0x0000ffff0000ffff) << 16) | ((x >> 16) & 0x0000ffff0000ffff);
        return ((x << 32) | (x >> 32)) & M64;
    }

    function _bswap32(uint256 x) internal pure returns (uint256) {
        x = ((x & 0x00ff00ff) << 8) | ((x >> 8) & 0x00ff00ff);
        return ((x << 16) | (x >> 16)) & M32;
    }

    /// Operand A = r[ra] (all 64 bits).
    function _opA(uint256 hdr, uint256 w) internal pure returns (uint256) {
        return _reg(hdr, (w >> 232) & 31);
    }

    /// Operand B = flags & 1 ? imm (u64 LE at bytes 8 … 15) : r[rb].
    function _opB(uint256 hdr, uint256 w) internal pure returns (uint256) {
        if ((w >> 208) & 1 != 0) return _bswap64((w >> 128) & M64);
        return _reg(hdr, (w >> 224) & 31);
    }

    /// Operand C = r[rc].
    function _opC(uint256 hdr, uint256 w) internal pure returns (uint256) {
        return _reg(hdr, (w >> 216) & 31);
    }

    /// off: u32 LE at bytes 16 … 19.
    function _off(uint256 w) internal pure returns (uint256) {
        return _bswap32((w >> 96) & M32);
    }

    /// target: u32 LE at bytes 20 … 23.
    function _target(uint256 w) internal pure returns (uint256) {
        return _bswap32((w >> 64) & M32);
    }

    // -----------------------------------------------------------------------------------------------
    // Execution of instructions without a data access

    function _execute(uint256 hdr, uint256 w, uint256 op, uint256 pc) internal pure {
        if (op <= 0x06) return _control(hdr, w, op, pc);
        (uint256 v, uint256 st) = _alu(op, _opA(hdr, w), _opB(hdr, w));
        if (st != 0) _setStatus(hdr, st);
        else _writeRd(hdr, w, v, pc);
    }

    /// Every instruction that computes rd from A and B (0x10 – 0x9A): the value, or a trap status ≠ 0.
    function _alu(uint256 op, uint256 a, uint256 b) internal pure returns (uint256 v, uint256 st) {
        if (op >= 0x10 && op <= 0x28) return _i32Binary(op, a & M32, b & M32);
        if (op >= 0x30 && op <= 0x35) return _i32Unary(op, a & M32);
        if (op >= 0x40 && op <= 0x58) return _i64Binary(op, a, b);
        if (op >= 0x60 && op <= 0x66) return _i64Unary(op, a);
        if (op >= 0x70 && op <= 0x7c) return _f32Binary(op, a & M32, b & M32);
        if (op >= 0x80 && op <= 0x86) return _f32Unary(op, a & M32);
        if (op >= 0x90 && op <= 0x9a) return (_convert(op, a), 0);
        return (0, ILLEGAL);
    }

    /// 0x00 – 0x06: UNREACHABLE, HALT, JMP, BRZ, BRNZ, MOV, SELECT.
    function _control(uint256 hdr, uint256 w, uint256 op, uint256 pc) internal pure {
        if (op == 0x00) return _setStatus(hdr, UNREACHABLE);
        if (op == 0x01) return _setStatus(hdr, HALTED);
        if (op == 0x02) return _setPc(hdr, _target(w));
        if (op == 0x03) return _setPc(hdr, _opA(hdr, w) & M32 == 0 ? _target(w) : pc + 1);
        if (op == 0x04) return _setPc(hdr, _opA(hdr, w) & M32 != 0 ? _target(w) : pc + 1);
        if (op == 0x05) return _writeRd(hdr, w, _opB(hdr, w), pc);
        // 0x06 SELECT: rd ← low32(C) ≠ 0 ? A : B (all 64 bits)
        return _writeRd(hdr, w, _opC(hdr, w) & M32 != 0 ? _opA(hdr, w) : _opB(hdr, w), pc);
    }

    // -----------------------------------------------------------------------------------------------
    // Integers

    function _s32(uint256 x) internal pure returns (int256 r) {
        assembly ("memory-safe") {
            r := signextend(3, x)
        }
    }

    function _s64(uint256 x) internal pure returns (int256 r) {
        assembly ("memory-safe") {
            r := signextend(7, x)
        }
    }

    /// Sign-extend the low (byte + 1) bytes of x to 256 bits (then masked by the caller).
    function _sext(uint256 byteIndex, uint256 x) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := signextend(byteIndex, x)
        }
    }

    function _b(bool c) internal pure returns (uint256) {
        return c ? 1 : 0;
    }

    function _popcnt64(uint256 x) internal pure returns (uint256) {
        unchecked {
            x = x - ((x >> 1) & 0x5555555555555555);
            x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f;
            return ((x * 0x0101010101010101) & M64) >> 56;
        }
    }

    /// Trailing zeros of x within `bits` bits (bits for 0).
    function _ctz(uint256 x, uint256 bits) internal pure returns (uint256) {
        unchecked {
            if (x == 0) return bits;
            return F32.bitLength(x & (0 - x)) - 1;
        }
    }

    /// i32 binary operations on low32 operands; results zero-extended.
    function _i32Binary(uint256 op, uint256 a, uint256 b) internal pure returns (uint256, uint256) {
        unchecked {
            uint256 k = b & 31;
            if (op < 0x17) {
                if (op == 0x10) return ((a + b) & M32, 0);
                if (op == 0x11) return ((a - b) & M32, 0);
                if (op == 0x12) return ((a * b) & M32, 0);
                if (b == 0) return (0, DIV_BY_ZERO);
                if (op == 0x13) {
                    if (a == 0x80000000 && b == M32) return (0, OVERFLOW);
                    return (uint256(_s32(a) / _s32(b)) & M32, 0); // truncates toward zero
                }
                if (op == 0x14) return (a / b, 0);
                if (op == 0x15) return (uint256(_s32(a) % _s32(b)) & M32, 0); // dividend's sign
                return (a % b, 0); // 0x16
            }
            if (op < 0x1f) {
                if (op == 0x17) return (a & b, 0);
                if (op == 0x18) return (a | b, 0);
                if (op == 0x19) return (a ^ b, 0);
                if (op == 0x1a) return ((a << k) & M32, 0);
                if (op == 0x1b) return (uint256(_s32(a) >> k) & M32, 0);
                if (op == 0x1c) return (a >> k, 0);
                if (op == 0x1d) return (((a << k) | (a >> (32 - k))) & M32, 0);
                return (((a >> k) | (a << (32 - k))) & M32, 0); // 0x1e
            }
            if (op == 0x1f) return (_b(a == b), 0);
            if (op == 0x20) return (_b(a != b), 0);
            if (op == 0x21) return (_b(_s32(a) < _s32(b)), 0);
            if (op == 0x22) return (_b(a < b), 0);
            if (op == 0x23) return (_b(_s32(a) > _s32(b)), 0);
            if (op == 0x24) return (_b(a > b), 0);
            if (op == 0x25) return (_b(_s32(a) <= _s32(b)), 0);
            if (op == 0x26) return (_b(a <= b), 0);
            if (op == 0x27) return (_b(_s32(a) >= _s32(b)), 0);
            return (_b(a >= b), 0); // 0x28
        }
    }

    /// i32 unary operations on a low32 operand.
    function _i32Unary(uint256 op, uint256 a) internal pure returns (uint256, uint256) {
        unchecked {
            if (op == 0x30) return (32 - F32.bitLength(a), 0);
            if (op == 0x31) return (_ctz(a, 32), 0);
            if (op == 0x32) return (_popcnt64(a), 0);
            if (op == 0x33) return (_b(a == 0), 0);
            if (op == 0x34) return (_sext(0, a) & M32, 0);
            return (_sext(1, a) & M32, 0); // 0x35
        }
    }

    /// i64 binary operations on u64 operands.
    function _i64Binary(uint256 op, uint256 a, uint256 b) internal pure returns (uint256, uint256) {
        unchecked {
            uint256 k = b & 63;
            if (op < 0x47) {
                if (op == 0x40) return ((a + b) & M64, 0);
                if (op == 0x41) return ((a - b) & M64, 0);
                if (op == 0x42) return ((a * b) & M64, 0);
                if (b == 0) return (0, DIV_BY_ZERO);
                if (op == 0x43) {
                    if (a == 1 << 63 && b == M64) return (0, OVERFLOW);
                    return (uint256(_s64(a) / _s64(b)) & M64, 0);
                }
                if (op == 0x44) return (a / b, 0);
                if (op == 0x45) return (uint256(_s64(a) % _s64(b)) & M64, 0);
                return (a % b, 0); // 0x46
            }
            if (op < 0x4f) {
                if (op == 0x47) return (a & b, 0);
                if (op == 0x48) return (a | b, 0);
                if (op == 0x49) return (a ^ b, 0);
                if (op == 0x4a) return ((a << k) & M64, 0);
                if (op == 0x4b) return (uint256(_s64(a) >> k) & M64, 0);
                if (op == 0x4c) return (a >> k, 0);
                if (op == 0x4d) return (((a << k) | (a >> (64 - k))) & M64, 0);
                return (((a >> k) | (a << (64 - k))) & M64, 0); // 0x4e
            }
            if (op == 0x4f) return (_b(a == b), 0);
            if (op == 0x50) return (_b(a != b), 0);
            if (op == 0x51) return (_b(_s64(a) < _s64(b)), 0);
            if (op == 0x52) return (_b(a < b), 0);
            if (op == 0x53) return (_b(_s64(a) > _s64(b)), 0);
            if (op == 0x54) return (_b(a > b), 0);
            if (op == 0x55) return (_b(_s64(a) <= _s64(b)), 0);
            if (op == 0x56) return (_b(a <= b), 0);
            if (op == 0x57) return (_b(_s64(a) >= _s64(b)), 0);
            return (_b(a >= b), 0); // 0x58
        }
    }

    /// i64 unary operations.
    function _i64Unary(uint256 op, uint256 a) internal pure returns (uint256, uint256) {
        unchecked {
            if (op == 0x60) return (64 - F32.bitLength(a), 0);
            if (op == 0x61) return (_ctz(a, 64), 0);
            if (op == 0x62) return (_popcnt64(a), 0);
            if (op == 0x63) return (_b(a == 0), 0);
            if (op == 0x64) return (_sext(0, a) & M64, 0);
            if (op == 0x65) return (_sext(1, a) & M64, 0);
            return (_sext(3, a) & M64, 0); // 0x66
        }
    }

    // -----------------------------------------------------------------------------------------------
    // f32 (F32.sol on u32 bit patterns) and conversions

    function _f32Binary(uint256 op, uint256 a, uint256 b) internal pure returns (uint256, uint256) {
        if (op == 0x70) return (F32.add(a, b), 0);
        if (op == 0x71) return (F32.sub(a, b), 0);
        if (op == 0x72) return (F32.mul(a, b), 0);
        if (op == 0x73) return (F32.div(a, b), 0);
        if (op == 0x74) return (F32.min(a, b), 0);
        if (op == 0x75) return (F32.max(a, b), 0);
        if (op == 0x76) return (F32.copysign(a, b), 0);
        if (op == 0x77) return (_b(F32.eq(a, b)), 0);
        if (op == 0x78) return (_b(F32.ne(a, b)), 0);
        if (op == 0x79) return (_b(F32.lt(a, b)), 0);
        if (op == 0x7a) return (_b(F32.gt(a, b)), 0);
        if (op == 0x7b) return (_b(F32.le(a, b)), 0);
        return (_b(F32.ge(a, b)), 0); // 0x7c
    }

    function _f32Unary(uint256 op, uint256 a) internal pure returns (uint256, uint256) {
        if (op == 0x80) return (F32.abs(a), 0);
        if (op == 0x81) return (F32.neg(a), 0);
        if (op == 0x82) return (F32.sqrt(a), 0);
        if (op == 0x83) return (F32.roundToInt(a, F32.CEIL), 0);
        if (op == 0x84) return (F32.roundToInt(a, F32.FLOOR), 0);
        if (op == 0x85) return (F32.roundToInt(a, F32.TRUNC), 0);
        return (F32.roundToInt(a, F32.NEAREST), 0); // 0x86
    }

    /// 0x90 – 0x9A; `a` is the full 64-bit operand A.
    function _convert(uint256 op, uint256 a) internal pure returns (uint256) {
        if (op == 0x90) return a & M32; // I32_WRAP_I64
        if (op == 0x91) return uint256(_s32(a)) & M64; // I64_EXTEND_I32_S
        if (op == 0x92) return a & M32; // I64_EXTEND_I32_U
        if (op == 0x93) return F32.toI32Sat(a & M32);
        if (op == 0x94) return F32.toU32Sat(a & M32);
        if (op == 0x95) return F32.toI64Sat(a & M32);
        if (op == 0x96) return F32.toU64Sat(a & M32);
        if (op == 0x97) return F32.fromI32(a & M32);
        if (op == 0x98) return F32.fromU32(a & M32);
        if (op == 0x99) return F32.fromI64(a);
        return F32.fromU64(a); // 0x9A
    }

    // -----------------------------------------------------------------------------------------------
    // Memory (0xA0 – 0xB3)

    /// Access width of a load or store opcode (0xA0 … 0xB3), 0 for an undefined one (illegal).
    function _accessSize(uint256 op) internal pure returns (uint256) {
        if (op == 0xa0 || op == 0xaa || op == 0xab || op == 0xb2) return 4;
        if (op == 0xa5 || op == 0xb3) return 8;
        if (op == 0xa1 || op == 0xa2 || op == 0xa6 || op == 0xa7 || op == 0xb0) return 1;
        if (op == 0xa3 || op == 0xa4 || op == 0xa8 || op == 0xa9 || op == 0xb1) return 2;
        return 0;
    }

    function _memoryAccess(uint256 hdr, uint256 w, uint256 op, uint256 pc, uint256 base, uint256 len) internal pure {
        uint256 size = _accessSize(op);
        if (size == 0) {
            // 0xAC – 0xAF: not defined, no data access.
            if (len != INSN_PROOF_BYTES) revert BadProofLength(len, INSN_PROOF_BYTES);
            return _setStatus(hdr, ILLEGAL);
        }
        uint256 ea = (_opA(hdr, w) & M32) + _off(w); // no wrap: up to 2^33 − 2
        if (ea + size > MEM_BYTES) {
            if (len != INSN_PROOF_BYTES) revert BadProofLength(len, INSN_PROOF_BYTES);
            return _setStatus(hdr, OUT_OF_BOUNDS);
        }
        if (ea & (size - 1) != 0) {
            if (len != INSN_PROOF_BYTES) revert BadProofLength(len, INSN_PROOF_BYTES);
            return _setStatus(hdr, UNALIGNED);
        }
        if (len != DATA_PROOF_BYTES) revert BadProofLength(len, DATA_PROOF_BYTES);
        if (op >= 0xb0) _store(hdr, w, pc, base, ea, size);
        else _load(hdr, w, op, pc, base, ea, size);
    }

    /// The accessed bytes [ea mod 32, + size) of a leaf as a big-endian integer are (leaf & mask) >> shift.
    function _window(uint256 ea, uint256 size) internal pure returns (uint256 shift, uint256 mask) {
        shift = (32 - (ea & 31) - size) << 3;
        mask = ((1 << (size << 3)) - 1) << shift;
    }

    /// Store: the low `size` bytes of B, little-endian, into the leaf; memRoot along the same path.
    function _store(uint256 hdr, uint256 w, uint256 pc, uint256 base, uint256 ea, uint256 size) internal pure {
        uint256 leaf = _cload(base + INSN_PROOF_BYTES);
        (uint256 shift, uint256 mask) = _window(ea, size);
        uint256 bytesBE = _bswap64(_opB(hdr, w)) >> ((8 - size) << 3);
        uint256 newLeaf = (leaf & ~mask) | (bytesBE << shift);
        (bytes32 oldRoot, bytes32 newRoot) =
            MerkleLib.rootsFromPacked(bytes32(leaf), bytes32(newLeaf), ea >> 5, base + DATA_PATH_AT, MEM_DEPTH);
        if (oldRoot != bytes32(_mload(hdr))) revert BadDataProof();
        _setMemRoot(hdr, newRoot);
        _setPc(hdr, pc + 1);
    }

    /// Load: the little-endian value, zero- or sign-extended as the opcode says, into rd.
    function _load(uint256 hdr, uint256 w, uint256 op, uint256 pc, uint256 base, uint256 ea, uint256 size) internal pure {
        uint256 leaf = _cload(base + INSN_PROOF_BYTES);
        if (MerkleLib.rootFromPacked(bytes32(leaf), ea >> 5, base + DATA_PATH_AT, MEM_DEPTH) != bytes32(_mload(hdr))) {
            revert BadDataProof();
        }
        (uint256 shift, uint256 mask) = _window(ea, size);
        // The bytes moved to the top of a u64 and byte-reversed.
        uint256 v = _bswap64(((leaf & mask) >> shift) << ((8 - size) << 3));
        if (op == 0xa1) v = _sext(0, v) & M32; // I32_LOAD8_S
        else if (op == 0xa3) v = _sext(1, v) & M32; // I32_LOAD16_S
        else if (op == 0xa6) v = _sext(0, v) & M64; // I64_LOAD8_S
        else if (op == 0xa8) v = _sext(1, v) & M64; // I64_LOAD16_S
        else if (op == 0xaa) v = _sext(3, v) & M64; // I64_LOAD32_S
        // LOAD32, LOAD64 and the _U loads: the zero-extended value as read.
        _writeRd(hdr, w, v, pc);
    }
}
