"""LabClock: lab time over a simpy Environment, awaitable from asyncio (libs.md §5). The only simpy importer.

simpy holds lab time (seconds since the lab epoch) and the timer heap; asyncio does the real
I/O. A *lab task* (:meth:`LabClock.spawn`) is either busy (doing real work, e.g. an SMTP
session on loopback) or blocked (parked in :meth:`LabClock.sleep` or :meth:`LabClock.idle`).
Lab time only moves when every lab task is blocked, so real I/O takes no lab time.

- ``await clock.advance(dt)`` fast-forwards, event by event, letting woken tasks run (and
  schedule new timers) in between: 2 lab days of 15-minute retries take well under a second.
- ``await clock.run_scaled(until, factor)`` follows wall time (1 lab second = ``factor``
  real seconds) without blocking the loop (``simpy.rt`` would call ``time.sleep``).
- :meth:`LabClock.start_live` keeps lab time in step with wall time until :meth:`stop_live`.

simpy gotchas handled here: ``run(until=t)`` does not fire events scheduled exactly at ``t``,
and ``run(until=now)`` raises; :meth:`advance` steps while ``peek() <= target`` instead.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Coroutine

import simpy

DEFAULT_EPOCH = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


class LabClock:
    """The lab clock.

    Args:
        start: lab seconds at creation.
        epoch: the datetime of lab second 0 (``settings.clock.start`` of the topology).
    """

    def __init__(self, start: float = 0.0, epoch: datetime = DEFAULT_EPOCH):
        self.env = simpy.Environment(initial_time=start)
        self.epoch = epoch
        self.live = 0
        self.blocked = 0
        self._quiet: asyncio.Event | None = None
        self._advancing = 0
        self._no_advance: asyncio.Event | None = None
        self._live_task: asyncio.Task | None = None

    @property
    def now(self) -> float:
        """Lab seconds."""
        return float(self.env.now)

    def now_datetime(self) -> datetime:
        """Lab time as an aware datetime (epoch + now)."""
        return self.epoch + timedelta(seconds=self.now)

    def _event(self) -> asyncio.Event:
        if self._quiet is None:
            self._quiet = asyncio.Event()
            if self.blocked >= self.live:
                self._quiet.set()
        return self._quiet

    def _check(self) -> None:
        (self._event().set if self.blocked >= self.live else self._event().clear)()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Run ``coro`` as a lab task (counted for quiescence until it ends)."""
        self.live += 1
        self._check()
        task = asyncio.ensure_future(coro)

        def _done(_: asyncio.Task) -> None:
            self.live -= 1
            self._check()

        task.add_done_callback(_done)
        return task

    async def sleep(self, delay: float | None, wake: asyncio.Future | None = None) -> None:
        """Sleep ``delay`` lab seconds (0 or less: until the current instant's other events ran;
        None: no timer), or until ``wake`` is done, whichever comes first; blocked meanwhile."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        state = {"waiting": True}

        def _release(_: Any = None) -> None:
            # counted busy again at once, before the task resumes, so that settle() waits for it
            if state["waiting"]:
                state["waiting"] = False
                self.blocked -= 1
                self._check()
                if not fut.done():
                    fut.set_result(None)

        if delay is not None:
            self.env.timeout(max(0.0, delay)).callbacks.append(_release)
        self.blocked += 1
        self._check()
        if wake is not None:
            if wake.done():
                _release()
            else:
                wake.add_done_callback(_release)
        try:
            await fut
        finally:
            if wake is not None:
                wake.remove_done_callback(_release)
            if state["waiting"]:
                state["waiting"] = False
                self.blocked -= 1
                self._check()

    async def sleep_until(self, at: float) -> None:
        """Sleep until lab time ``at`` (the answer to a ``RequestWakeup(at)``)."""
        await self.sleep(at - self.now)

    async def idle(self, awaitable: Awaitable[Any]) -> Any:
        """Await something that is not a lab timer (new work) while counting as blocked."""
        self.blocked += 1
        self._check()
        try:
            return await awaitable
        finally:
            self.blocked -= 1
            self._check()

    async def settle(self) -> None:
        """Wait until every lab task is blocked (or finished)."""
        await asyncio.sleep(0)
        await self._event().wait()
        await asyncio.sleep(0)
        await self._event().wait()

    async def advance(self, dt: float) -> None:
        """Fast-forward ``dt`` lab seconds, firing every timer due on the way, in order."""
        await self.advance_to(self.now + dt)

    async def advance_to(self, target: float) -> None:
        """Fast-forward to lab time ``target`` (no-op when it is in the past). Safe while live mode
        runs: the live follower steps nothing until the advance is over, then follows wall time
        from where the advance left the clock."""
        self._advancing += 1
        self._steady().clear()
        try:
            await self.settle()
            while self.env.peek() <= target:
                self.env.step()
                await self.settle()
            if target > self.env.now:
                self.env.run(until=target)
        finally:
            self._advancing -= 1
            if not self._advancing:
                self._steady().set()

    def _steady(self) -> asyncio.Event:
        """Set while no :meth:`advance_to` runs."""
        if self._no_advance is None:
            self._no_advance = asyncio.Event()
            if not self._advancing:
                self._no_advance.set()
        return self._no_advance

    async def run_scaled(self, until: float, factor: float = 1.0) -> None:
        """Follow wall time up to lab time ``until``: 1 lab second = ``factor`` real seconds.

        Any await may let an advance move the clock, so after each one the next event and
        ``until`` are looked at again: nothing is stepped while an advance runs, a clock moved
        meanwhile restarts the wall-time reckoning from the new lab time, and a clock already at
        or past ``until`` ends the run.
        """
        loop = asyncio.get_running_loop()
        t0, s0 = loop.time(), self.now
        await self.settle()
        while True:
            if self._advancing:
                await self._steady().wait()
                t0, s0 = loop.time(), self.now
            if self.env.peek() > until and self.now >= until:
                return
            stop = min(self.env.peek(), until)
            before = self.now
            await asyncio.sleep(max(0.0, t0 + (stop - s0) * factor - loop.time()))
            if self._advancing or self.now != before:
                t0, s0 = loop.time(), self.now
                continue
            if self.env.peek() <= until:
                self.env.step()
                await self.settle()
                continue
            if until > self.env.now:  # checked after the await, with nothing awaited before run()
                self.env.run(until=until)
            return

    def start_live(self, factor: float = 1.0, tick: float = 1.0) -> asyncio.Task:
        """Live mode: lab time follows wall time (``factor`` real seconds per lab second) until stopped."""
        async def _follow() -> None:
            while True:
                await self.run_scaled(self.now + tick, factor)

        if self._live_task is None or self._live_task.done():
            self._live_task = asyncio.ensure_future(_follow())
        return self._live_task

    async def stop_live(self) -> None:
        """Stop live mode (lab time stays where it is)."""
        task, self._live_task = self._live_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
