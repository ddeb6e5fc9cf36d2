"""LabClock: ordered timers, fast-forward, frozen time during real work, scaled wall time."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from lab.adapters.clock import DEFAULT_EPOCH, LabClock


def test_advance_fires_timers_in_order_including_the_target_instant():
    async def main():
        clock, seen = LabClock(), []

        async def task(name, delay):
            await clock.sleep(delay)
            seen.append((name, clock.now))
            if name == "a":
                await clock.sleep(100)  # scheduled during the advance: must fire within it
                seen.append(("a2", clock.now))

        for name, delay in (("b", 300), ("a", 60), ("c", 900)):
            clock.spawn(task(name, delay))
        await clock.advance(900)
        return clock, seen

    clock, seen = asyncio.run(main())
    assert seen == [("a", 60), ("a2", 160), ("b", 300), ("c", 900)]
    assert clock.now_datetime() == DEFAULT_EPOCH + timedelta(seconds=900)


def test_real_work_freezes_lab_time_and_idle_counts_as_blocked():
    async def main():
        clock, stamps = LabClock(), []
        gate = asyncio.Event()

        async def worker():
            await clock.idle(gate.wait())
            stamps.append(clock.now)
            await asyncio.sleep(0.05)  # real I/O: lab time must not move meanwhile
            stamps.append(clock.now)

        clock.spawn(worker())
        await clock.advance(10)
        gate.set()
        await clock.advance(5)
        return stamps, clock.now

    stamps, now = asyncio.run(main())
    assert stamps == [10, 10] and now == 15


def test_run_scaled_follows_wall_time():
    async def main():
        clock = LabClock()
        fired = []

        async def sleeper(delay):
            await clock.sleep(delay)
            fired.append(clock.now)

        for delay in (60, 10, 150):
            clock.spawn(sleeper(delay))
        await clock.run_scaled(until=100, factor=0.002)  # 100 lab seconds in wall-time pace
        return clock.now, fired

    now, fired = asyncio.run(main())
    assert now == 100 and fired == [10, 60]  # each timer up to `until` once, in order; none beyond
