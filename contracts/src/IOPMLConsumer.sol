// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IOPMLConsumer — what a requester that asked with `callback = true` receives (docs/game.md §6)
 * @notice Called by the task coordinator when the task's result is final, after every state change, with
 * a gas cap (TaskCoordinator.CALLBACK_GAS); a reverting callback does not undo finality. `outputs` are the
 * graph outputs' little-endian bytes in model order, bound to the final state the game defended.
 */
interface IOPMLConsumer {
    function onInferenceResult(uint256 taskId, bytes[] calldata outputs) external;
}
