// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The forge cheatcodes the game tests use beyond test/utils/Test.sol's Vm (same cheatcode address).
interface VmExt {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address who, uint256 newBalance) external;
    function expectEmit() external;
    function expectEmit(address emitter) external;
    function expectRevert() external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function label(address account, string calldata newLabel) external;
    function pauseGasMetering() external;
    function resumeGasMetering() external;
    /// Marks an account and its storage cold (as at the start of a transaction).
    function cool(address target) external;
}
