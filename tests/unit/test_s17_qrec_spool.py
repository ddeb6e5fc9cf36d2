"""A transport made with ``spool=False`` (the in-memory lab's: nothing of it outlives the lab) emits
no ``Persist`` / ``Checkpoint`` / ``Release``, and nothing else changes: driven side by side with
one that keeps a spool, the same events give the same other commands in the same order (wakeups
included), the same tracking events, traces, queues and messages at every step."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS

import pytest

from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings
from lab.core.world import World
from lab.memory import MemoryLab

from test_transport_indexes import INTERNET, ORG, PARTNER, Twins

SPOOL = (O.Persist, O.Checkpoint, O.Release)


class SpoolTwins(Twins):
    """``pair``: a transport without a spool, then one with a spool (its spool commands counted and
    left out of the comparison)."""

    def __init__(self, rng: random.Random, settings: TransportSettings):
        super().__init__(rng, settings)
        self.pair = [Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], settings,
                               boot="b", spool=spool) for spool in (False, True)]
        self.spooled = 0

    def drain(self) -> None:
        while True:
            new, old = (t.pop_commands() for t in self.pair)
            assert not [c for c in new if isinstance(c, SPOOL)]
            kept = [c for c in old if not isinstance(c, SPOOL)]
            self.spooled += len(old) - len(kept)
            assert repr(new) == repr(kept)  # (every Track's event built and compared, RequestWakeup too)
            if not new:
                break
            for commands, held in zip((new, kept), self.wakeups):
                held.update(c.at for c in commands if isinstance(c, O.RequestWakeup))
            for a, b in zip(new, kept):
                self.answer(a, b)
        self.check()

    def check(self) -> None:
        super().check()
        new, old = self.pair
        assert new._messages == old._messages
        for internal_id in old._traces:
            assert new.trace(internal_id) == old.trace(internal_id)


@pytest.mark.parametrize("seed", range(20))
def test_no_spool_commands_and_nothing_else_changes(seed):
    settings = TransportSettings(queue_max_idle_time=[180, 0, 3600][seed % 3], delay_dsn_enabled=seed % 4 != 0)
    twins = SpoolTwins(random.Random(seed), settings)
    for _ in range(60):
        twins.step()
    assert twins.spooled  # (the spool commands were there to leave out)


def test_a_transport_keeps_a_spool_unless_told_not_to():
    t = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET])
    t.submit(NS(mail_from="a@contoso.com", rcpt_tos=("bob@contoso.com",), data=b"Subject: s\r\n\r\nb\r\n"), 0.0)
    assert type(t.pop_commands()[0]) is O.Persist


def test_the_memory_lab_transport_keeps_no_spool(built):
    topology, trust = built
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
    node, service = next(iter(lab.transports.items()))
    transport = service.transport
    transport.submit(NS(mail_from="a@contoso.com", rcpt_tos=("nobody@fabrikam.example",),
                        data=b"Subject: s\r\n\r\nb\r\n"), lab._now)
    commands = transport.pop_commands()
    assert commands and not [c for c in commands if isinstance(c, SPOOL)]
