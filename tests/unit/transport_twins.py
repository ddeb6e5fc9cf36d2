"""What the differential transport tests share: two transports fed the same events side by side."""
from __future__ import annotations

import random

from lab.core.exchange import outcomes as O


class TwinDrive:
    """Two transports (``pair``: the one under test, then its reference) driven together.

    A subclass makes ``rng``, ``now``, ``held`` (commands answered later), ``wakeups`` (the times
    each driver holds a timer for: one per time, as MemoryTransport keeps them), ``pair`` and
    ``steps``, and gives ``answer(a, b)`` and ``check()``."""

    rng: random.Random
    now: float
    wakeups: list[set[float]]
    pair: list

    def drain(self) -> None:
        """Answer both transports' commands until neither has any; the wakeups asked for may differ
        only by times the driver already holds, every other command must be the same."""
        while True:
            new, old = (t.pop_commands() for t in self.pair)
            for commands, held in zip((new, old), self.wakeups):
                held.update(c.at for c in commands if isinstance(c, O.RequestWakeup))
            assert self.wakeups[0] == self.wakeups[1]
            new, old = ([c for c in commands if not isinstance(c, O.RequestWakeup)] for commands in (new, old))
            assert repr(new) == repr(old)
            if not new:
                break
            for a, b in zip(new, old):
                self.answer(a, b)
        self.check()

    def answer(self, a: O.Command, b: O.Command) -> None:
        raise NotImplementedError

    def check(self) -> None:
        raise NotImplementedError
