"""LabClock: advancing while wall-time following runs (live mode, run_scaled) is safe.

Only lab time and event counts are asserted.
"""
from __future__ import annotations

import asyncio

from lab.adapters.clock import LabClock

HUGE = 99_999_999 * 86400.0  # Set-LabClock -Advance 99999999.00:00:00


def test_run_scaled_survives_an_advance_past_its_end_during_its_last_wait():
    async def main() -> None:
        clock = LabClock()
        follower = asyncio.ensure_future(clock.run_scaled(2.0, factor=0.05))  # about 0.1 s of wall time
        await asyncio.sleep(0.01)
        await clock.advance(10.0)
        await follower  # before the fix: ValueError: until (2.0) must be greater than the current time
        assert clock.now == 10.0

    asyncio.run(asyncio.wait_for(main(), 30))


def test_run_scaled_steps_nothing_beyond_an_advance_and_fires_each_timer_once():
    async def main() -> None:
        clock = LabClock()
        fired: list[float] = []

        async def sleeper(delay: float) -> None:
            await clock.sleep(delay)
            fired.append(clock.now)

        for delay in (0.5, 1.5, 50.0):
            clock.spawn(sleeper(delay))
        await clock.settle()
        follower = asyncio.ensure_future(clock.run_scaled(3.0, factor=0.05))
        await asyncio.sleep(0.01)
        await clock.advance(20.0)
        await follower
        assert fired == [0.5, 1.5] and clock.now == 20.0
        await clock.advance(40.0)
        assert fired == [0.5, 1.5, 50.0]

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_huge_advance_while_live_ends_and_live_mode_goes_on():
    async def main() -> None:
        clock = LabClock()
        steps = {"n": 0}
        step = clock.env.step

        def counting() -> None:
            steps["n"] += 1
            step()

        clock.env.step = counting

        async def retrier() -> None:  # a queue retrying every 15 lab minutes for a day, as EOP does
            for _ in range(97):
                await clock.sleep(900)

        task = clock.spawn(retrier())
        clock.start_live(factor=0.01, tick=1.0)
        await asyncio.sleep(0.05)
        await clock.advance(HUGE)
        assert task.done() and clock.now >= HUGE
        assert steps["n"] <= 97 + 10, steps
        after = clock.now
        for _ in range(100):  # live mode follows wall time again, from where the advance left it
            await asyncio.sleep(0.01)
            if clock.now > after:
                break
        assert clock.now > after
        await clock.stop_live()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_sleep_ends_on_wake_and_counts_blocked_once():
    async def main() -> None:
        clock = LabClock()
        wake = asyncio.get_running_loop().create_future()
        task = clock.spawn(clock.sleep(3600, wake=wake))
        await clock.settle()
        assert clock.blocked == 1
        wake.set_result(None)
        await task
        assert clock.blocked == 0 and clock.now == 0.0
        await clock.advance(7200)  # the timer of the woken sleep fires without counting again
        assert clock.blocked == 0

    asyncio.run(asyncio.wait_for(main(), 30))
