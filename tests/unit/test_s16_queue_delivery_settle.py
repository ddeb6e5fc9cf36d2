"""delivery_result leaves out the settle whose outcome is known (the transport settled at this
instant, and the event only took items of the queue): driven side by side with the transport that
always settles (its delivery_result below, as it was), every command, the wakeups asked for included,
must be the same at every step, and so must the queues, messages and next deadlines."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS
from typing import Iterable

import pytest

from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings

from test_transport_indexes import INTERNET, ORG, PARTNER, Twins


class Settling(Transport):
    """delivery_result as it was: a settle after every delivery result."""

    settles = 0

    def delivery_result(self, queue: str, outcome: O.Outcome, now: float, items: Iterable[int] | None = None) -> None:
        q = self._index.get(queue)
        if q is None:
            q = self._queue(queue)
        if q is None:
            return
        ids = [i for i in (q.busy if items is None else items) if i in q.busy]
        if ids:
            self._apply(q, outcome, ids, now)
        self._settle(now)


class Counting(Transport):
    settles = 0

    def _settle(self, now: float) -> None:
        Counting.settles += 1
        super()._settle(now)


class SettleTwins(Twins):
    def __init__(self, rng: random.Random, settings: TransportSettings):
        super().__init__(rng, settings)
        self.pair = [cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], settings, boot="b")
                     for cls in (Counting, Settling)]

    def drain(self) -> None:
        # every command the same, RequestWakeup included (both ask through the same _request)
        while True:
            new, old = (t.pop_commands() for t in self.pair)
            assert repr(new) == repr(old)
            for held in self.wakeups:
                held.update(c.at for c in new if isinstance(c, O.RequestWakeup))
            new, old = ([c for c in commands if not isinstance(c, O.RequestWakeup)] for commands in (new, old))
            if not new:
                break
            for a, b in zip(new, old):
                self.answer(a, b)
        self.check()

    def check(self) -> None:
        super().check()
        new, old = self.pair
        assert new._requested == old._requested and new._settled_at == old._settled_at
        assert new._standing == old._standing


@pytest.mark.parametrize("seed", range(40))
def test_a_delivery_without_its_settle_emits_what_the_settle_emitted(seed):
    settings = TransportSettings(queue_max_idle_time=[180, 0, 3600, 60][seed % 4], delay_dsn_enabled=seed % 5 != 0)
    twins = SettleTwins(random.Random(seed), settings)
    for _ in range(60):
        twins.step()


def test_the_settle_is_left_out():
    Counting.settles = 0
    t = Counting(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET])
    t.submit(NS(mail_from="a@contoso.com", rcpt_tos=("bob@contoso.com",), data=b"Subject: s\r\n\r\nb\r\n",
                message_id="", source_ip=""), 0.0)
    local = [c for c in t.pop_commands() if isinstance(c, O.DeliverLocal)]
    assert len(local) == 1 and Counting.settles == 1
    t.delivery_result(local[0].queue, O.Delivered(), 0.0, items=(local[0].item,))
    out = t.pop_commands()
    assert Counting.settles == 1  # (no settle: the queue went idle, its idle time asked for)
    assert [c.at for c in out if isinstance(c, O.RequestWakeup)] == [180.0]
    assert any(isinstance(c, O.Release) for c in out)
