"""The in-memory transport driver keeps one timer per (transport, lab time), and the transport does
not ask again for a wakeup the driver still holds (each retry used to re-request the message's delay
DSN / expiry time); a second wakeup at the same lab time would find it settled there. Held to a
transport that asks for every wakeup again and a driver that schedules every RequestWakeup (as both
did before): the same commands but for those requests, tracking events, mailboxes and queues, at
every step, and wakeups at the same lab times."""
from __future__ import annotations

import math

from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.world import World
from lab.memory import MemoryLab
from lab.memory import transport as memory_transport
from lab.memory.transport import MemoryTransport



class EveryWakeup(MemoryTransport):
    """The driver as it was: a timer for every RequestWakeup, duplicates included."""

    def _execute(self, cmd: O.Command) -> None:
        if type(cmd) is O.RequestWakeup:
            self.lab.wake_at(cmd.at, lambda: self._wake(cmd.at))
        else:
            super()._execute(cmd)


class AsksAgain(Transport):
    """The transport as it was: a RequestWakeup whenever its wakeup moves, held by the driver or not."""

    def _schedule(self, now: float) -> None:
        pending = self._requested if self._requested is not None and self._requested > now else math.inf
        at = self._next_deadline(now, pending)
        if at is None:
            return
        if self._requested is None or at < self._requested or self._requested <= now:
            self._requested = at
            self._out.append(O.RequestWakeup(at))


def make_lab(built, cls: type[MemoryTransport], log: list[str], wakes: list[float], asked: list[float]) -> MemoryLab:
    topology, trust = built
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
    for node, service in list(lab.transports.items()):
        transport = service.transport
        if cls is EveryWakeup:
            transport.__class__ = AsksAgain
        wakeup = transport.wakeup

        def woken(now, wakeup=wakeup):
            wakes.append(now)
            wakeup(now)

        transport.wakeup = woken
        lab.transports[node] = _logged(cls, log, asked)(lab, node, transport)
    return lab


def _logged(cls: type[MemoryTransport], log: list[str], asked: list[float]) -> type[MemoryTransport]:
    """``cls``, logging every command it executes but Track (its RequestWakeup times in ``asked``)."""
    class Logged(cls):  # type: ignore[valid-type, misc]
        def _execute(self, cmd: O.Command) -> None:
            if type(cmd) is O.RequestWakeup:
                asked.append(cmd.at)
            elif type(cmd) is not O.Track:
                log.append(f"{self.node} {cmd!r}")
            super()._execute(cmd)
    return Logged


def body(subject: str) -> bytes:
    return f"From: a@b.c\r\nSubject: {subject}\r\n\r\n{subject}\r\n".encode()


def script(lab: MemoryLab) -> list[str]:
    seen = []

    def look() -> None:
        seen.append(repr([(n, lab.queues(n), lab.messages(n)) for n in sorted(lab.transports)]))
        seen.append(repr(lab.events))
        seen.append(repr(sorted(lab.mailboxes.boxes.items())))
        seen.append(repr(lab.now))

    zones = lab.world.zones
    lab.world = lab.world.evolve(zones=zones.without_record("xutonglin.com", "MX"))
    for i, wait in enumerate([0, 7 * 60, 3600, 3 * 3600, 61 * 60, 20 * 3600, 86400, 3600]):
        lab.advance(wait)
        lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
                 body(f"m{i}"), tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
        look()
    lab.advance(4 * 3600 + 60)
    look()
    lab.world = lab.world.evolve(zones=zones)
    lab.advance(15 * 60)
    look()
    lab.world = lab.world.evolve(zones=zones.without_record("xutonglin.com", "MX"))
    lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
             body("late"), tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    lab.advance(3 * 86400)
    look()
    return seen


def test_one_timer_per_lab_time_changes_nothing(built, monkeypatch):
    # every wakeup and ResolveMx counted, event by event: the retries' fast-forward (which leaves out
    # the wakeups of a stretch of failing retries; test_memory_failing_retries holds it) is off
    monkeypatch.setattr(memory_transport, "FAST_RETRIES", False)
    logs: list[list[str]] = [[], []]
    wakes: list[list[float]] = [[], []]
    asked: list[list[float]] = [[], []]
    seen = [script(make_lab(built, cls, log, w, a))
            for cls, log, w, a in zip((MemoryTransport, EveryWakeup), logs, wakes, asked)]
    assert seen[0] == seen[1]
    assert logs[0] == logs[1]
    assert sorted(set(asked[0])) == sorted(set(asked[1]))
    assert len(asked[0]) < len(asked[1])  # (requests left out: times the driver held)
    # the duplicates were there, and only duplicates were left out
    assert len(wakes[0]) < len(wakes[1])
    assert sorted(set(wakes[0])) == sorted(set(wakes[1]))
