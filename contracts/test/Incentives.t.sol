// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoordinatorBase} from "./game/CoordinatorBase.sol";
import {TaskCoordinator} from "../src/TaskCoordinator.sol";
import {DisputeGame} from "../src/DisputeGame.sol";
import {OPVM} from "../src/OPVM.sol";

/**
 * The game's incentives (docs/game.md §3.4, issue 11), each attack played against the real coordinator,
 * game and OPVM: an honest challenger is always paid, no challenge lands on a result it did not name, no
 * party profits from losing, and no one can copy a result it did not compute (see TaskCoordinator.t.sol
 * for commit-reveal, byte lengths and the URI, DisputeGame.t.sol for the step bound).
 */
contract IncentivesTest is CoordinatorBase {
    address internal constant SYBIL = address(0x5b1);

    function setUp() public override {
        super.setUp();
        hevm.deal(SYBIL, 100 ether);
    }

    /// The cheater loses its own game on purpose: it never moves, and the sybil claims the timeout.
    function loseOnPurpose(uint256 gid) internal {
        hevm.warp(block.timestamp + CLOCK + 1);
        game.timeout(gid);
    }

    /**
     * Attack 1: self-challenge, lose, resubmit, so that an honest challenge in flight lands on the new result
     * and loses its bond. The honest challenge names the result it disputes, so it reverts and costs nothing.
     */
    function test_attack_resubmissionCannotCatchAChallengeInFlight() public {
        uint256 taskId = request();
        Trace memory c = traceOf(2, 1);
        uint256 sid1 = submit(taskId, SUB, c);
        bytes32 sn1 = c.states[NODES];
        // the cheater's sybil challenges and wins at once; the cheater resubmits the honest result
        loseOnPurpose(challengeBy(taskId, SYBIL));
        uint256 sid2 = submit(taskId, SUB, honest());
        // the honest challenger's transaction, signed against the first result, lands now
        uint256 before = CHAL.balance;
        hevm.prank(CHAL);
        vm.expectRevert(abi.encodeWithSelector(TaskCoordinator.NotLiveSubmission.selector, sid1, sid2));
        coord.challenge{value: CHAL_BOND}(taskId, sid1, sn1);
        assertEq(CHAL.balance, before, "the bond never left");
        assertEq(coord.gameCountOf(sid2), 0, "no game on the new result");
        // a challenge naming the new id with the old final state is refused as well
        hevm.prank(CHAL);
        vm.expectRevert(TaskCoordinator.FinalStateMismatch.selector);
        coord.challenge{value: CHAL_BOND}(taskId, sid2, sn1);
    }

    /**
     * Attack 2: the cheater rejects its own result through a sybil's game so that the honest challenger's
     * game is voided unpaid. The honest challenger is paid its bond and a share of the cheater's bond, and
     * the cheater with its sybil ends at least BURN_BPS of its bond poorer.
     */
    function test_attack_selfRejectionStillPaysTheHonestChallenger() public {
        uint256 taskId = request();
        Trace memory c = traceOf(2, 1);
        uint256 sid = submit(taskId, SUB, c);
        uint256 gHonest = challengeBy(taskId, CHAL);
        uint256 gSybil = challengeBy(taskId, SYBIL);
        loseOnPurpose(gSybil);
        assertEq(sub_(sid).rejectedBy, gSybil, "rejected through the sybil's game");
        assertEq(sub_(sid).share, shareOf(2), "two games share");
        coord.claimChallengeReward(gHonest);
        assertEq(coord.balanceOf(CHAL), CHAL_BOND + shareOf(2), "the honest challenger is paid");
        int256 cheaterNet = int256(coord.balanceOf(SUB) + coord.balanceOf(SYBIL)) - int256(SUB_BOND + CHAL_BOND);
        assertTrue(cheaterNet <= -int256(SUB_BOND * coord.BURN_BPS() / 10_000), "the cheater loses at least the burnt part");
        // the honest game may still end (the cheater's clock ran out there too): it changes nothing
        game.timeout(gHonest);
        assertEq(coord.balanceOf(CHAL), CHAL_BOND + shareOf(2), "paid once");
        vm.expectRevert(TaskCoordinator.AlreadyClaimed.selector);
        coord.claimChallengeReward(gHonest);
    }

    /// A direct self-challenge is refused by name.
    function test_attack_directSelfChallenge() public {
        uint256 taskId = request();
        uint256 sid = submit(taskId, SUB, traceOf(1, 1));
        hevm.prank(SUB);
        vm.expectRevert(TaskCoordinator.SelfChallenge.selector);
        coord.challenge{value: CHAL_BOND}(taskId, sid, traceOf(1, 1).states[NODES]);
    }

    /**
     * No party profits from losing, whatever the number of sybil and honest challengers: with s sybil games
     * and h honest ones open when a sybil game rejects the result, the cheater's side ends exactly
     * s·share − SUB_BOND ≤ −BURN_BPS·SUB_BOND poorer, every honest challenger exactly `share` richer, and all
     * money is accounted for.
     */
    function testFuzz_noProfitFromLosing(uint8 sybils, uint8 honests) public {
        uint256 s = bound(sybils, 1, 6);
        uint256 h = bound(honests, 1, 6);
        uint256 taskId = request();
        uint256 sid = submit(taskId, SUB, traceOf(3, 2));
        uint256[] memory sybilGames = new uint256[](s);
        uint256[] memory honestGames = new uint256[](h);
        (uint256 ns, uint256 nh) = (0, 0);
        for (uint256 i = 0; i < s + h; i++) {
            bool isSybil = ns < s && (nh >= h || i % 2 == 0); // interleaved
            address who = address(uint160((isSybil ? 0x5000 : 0xc000) + i));
            hevm.deal(who, CHAL_BOND);
            uint256 gid = challengeBy(taskId, who);
            if (isSybil) sybilGames[ns++] = gid;
            else honestGames[nh++] = gid;
        }
        loseOnPurpose(sybilGames[s - 1]);
        uint256 share = sub_(sid).share;
        assertEq(share, shareOf(s + h), "equal shares");
        uint256 sybilSide;
        for (uint256 i = 0; i < s; i++) {
            if (i != s - 1) coord.claimChallengeReward(sybilGames[i]);
            sybilSide += coord.balanceOf(coord.getGameRecord(sybilGames[i]).challenger);
        }
        for (uint256 i = 0; i < h; i++) {
            coord.claimChallengeReward(honestGames[i]);
            assertEq(coord.balanceOf(coord.getGameRecord(honestGames[i]).challenger), CHAL_BOND + share, "honest paid");
        }
        int256 cheaterNet = int256(sybilSide + coord.balanceOf(SUB)) - int256(SUB_BOND + s * CHAL_BOND);
        assertTrue(cheaterNet == int256(s * share) - int256(SUB_BOND), "the cheater's side");
        assertTrue(cheaterNet <= -int256(SUB_BOND * coord.BURN_BPS() / 10_000), "never breaks even");
        assertTrue(share > 0, "a positive share");
        assertEq(address(coord).balance, REWARD + SUB_BOND + (s + h) * CHAL_BOND, "held");
        assertEq(
            (s + h) * (CHAL_BOND + share) + (SUB_BOND - (s + h) * share) + REWARD, address(coord).balance, "credited + burnt + reward = held"
        );
    }

    /// Public-chain parameters are enforced: zero bonds, clocks or minimum windows are refused.
    function test_constructor_badParameters() public {
        vm.expectRevert(TaskCoordinator.BadParameters.selector);
        new TaskCoordinator(0, CHAL_BOND, CLOCK, MIN_WINDOW, opvm);
        vm.expectRevert(TaskCoordinator.BadParameters.selector);
        new TaskCoordinator(SUB_BOND, 0, CLOCK, MIN_WINDOW, opvm);
        vm.expectRevert(TaskCoordinator.BadParameters.selector);
        new TaskCoordinator(SUB_BOND, CHAL_BOND, 0, MIN_WINDOW, opvm);
        vm.expectRevert(TaskCoordinator.BadParameters.selector);
        new TaskCoordinator(SUB_BOND, CHAL_BOND, CLOCK, 0, opvm);
        assertEq(coord.minChallengeWindow(), MIN_WINDOW, "minimum window");
    }
}
