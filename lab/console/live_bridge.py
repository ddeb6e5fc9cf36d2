"""How the synchronous console calls into the lab's asyncio loop without deadlocking.

The rule: **the console never runs on the lab's loop thread.** The control channel hands each
line to one console worker thread (``loop.run_in_executor`` with a single-thread executor, so
lines of every client run one at a time and each line's snapshot/rollback is atomic); the
in-process ``lab shell`` runs the lab's loop on a background thread and the console on the
main thread. From there a cmdlet that needs the lab submits a coroutine with
:func:`asyncio.run_coroutine_threadsafe` and blocks on its result. The loop is never waiting
for the console thread while the console waits for the loop (the control channel *awaits*
the executor future, it does not block), so there is no cycle. :meth:`LoopBridge.call`
refuses to run on the loop thread instead of hanging.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Callable, TypeVar

from lab.core.errors import LabRuntimeError

T = TypeVar("T")

DEFAULT_TIMEOUT = 120.0


class LoopBridge:
    """Runs coroutines and functions on ``loop`` from another thread and waits for the result."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float = DEFAULT_TIMEOUT):
        self.loop = loop
        self.timeout = timeout

    def _check_thread(self) -> None:
        if self.loop.is_running() and _running_loop() is self.loop:
            raise LabRuntimeError("the console must not run on the lab's event loop thread (it would deadlock)")

    def call(self, make: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run the coroutine ``make()`` on the lab loop; return its result (its exception is raised here)."""
        self._check_thread()

        async def run() -> T:
            return await make()

        future = asyncio.run_coroutine_threadsafe(run(), self.loop)
        try:
            return future.result(self.timeout if timeout is None else timeout)
        except TimeoutError:
            if future.done():
                raise  # the coroutine's own TimeoutError
            future.cancel()
            raise LabRuntimeError("the lab did not answer in time") from None

    def run_sync(self, fn: Callable[[], T]) -> T:
        """Run the plain function ``fn`` on the lab loop's thread (for state only that thread may touch)."""
        async def run() -> T:
            return fn()
        return self.call(run)


def _running_loop() -> Any:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LabThread:
    """A lab running on its own event loop in a background thread (the in-process ``lab shell``).

    Args:
        start: a coroutine function that starts the lab (and returns it) on the new loop.
        stop: a coroutine function ``stop(lab)`` that stops it.
    """

    def __init__(self, start: Callable[[], Awaitable[Any]], stop: Callable[[Any], Awaitable[None]]):
        self._start, self._stop = start, stop
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="lab-loop", daemon=True)
        self.lab: Any = None

    def __enter__(self) -> "LabThread":
        self.thread.start()
        try:
            self.lab = LoopBridge(self.loop, timeout=300).call(self._start)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.lab is not None:
                LoopBridge(self.loop, timeout=60).call(lambda: self._stop(self.lab))
        finally:
            try:
                LoopBridge(self.loop, timeout=10).call(_cancel_rest)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


async def _cancel_rest() -> None:
    """Cancel the tasks the lab left behind (as ``asyncio.run`` does before closing its loop)."""
    rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)
