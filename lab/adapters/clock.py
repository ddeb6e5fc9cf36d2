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

    async def sleep(self, delay: float) -> None:
        """Sleep ``delay`` lab seconds (0 or less: until the current instant's other events ran)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        state = {"fired": False}

        def _fire(_ev: Any) -> None:
            state["fired"] = True
            self.blocked -= 1
            self._check()
            if not fut.done():
                fut.set_result(None)

        self.env.timeout(max(0.0, delay)).callbacks.append(_fire)
        self.blocked += 1
        self._check()
        try:
            await fut
        finally:
            if not state["fired"]:
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
        """Fast-forward to lab time ``target`` (no-op when it is in the past)."""
        await self.settle()
        while self.env.peek() <= target:
            self.env.step()
            await self.settle()
        if target > self.env.now:
            self.env.run(until=target)

    async def run_scaled(self, until: float, factor: float = 1.0) -> None:
        """Follow wall time up to lab time ``until``: 1 lab second = ``factor`` real seconds."""
        loop = asyncio.get_running_loop()
        t0, s0 = loop.time(), self.now
        await self.settle()
        while self.env.peek() <= until:
            due = t0 + (self.env.peek() - s0) * factor
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.env.step()
            await self.settle()
        if until > self.env.now:
            await asyncio.sleep(max(0.0, t0 + (until - s0) * factor - loop.time()))
            self.env.run(until=until)

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
