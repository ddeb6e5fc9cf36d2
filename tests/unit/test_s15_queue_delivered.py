"""The inline path of a delivery that took every recipient (Transport._apply, ``Delivered`` with
nothing refused or deferred) must emit what the general path (_delivered, then _drop_item) emits:
a transport driven side by side with one whose outcomes are a ``Delivered`` subclass (so that
they take the general path) must give the same commands, tracking events, traces, queues and
message records at every step."""
from __future__ import annotations

import dataclasses
import random
from types import SimpleNamespace as NS

import pytest

from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings

from test_transport_indexes import INTERNET, ORG, PARTNER, Twins


@dataclasses.dataclass(frozen=True)
class _General(O.Delivered):
    """A Delivered the inline path does not take (its class is not Delivered itself)."""


class General(Transport):
    """Every full delivery through the general path."""

    def _apply(self, q, outcome, ids, now):
        if outcome.__class__ is O.Delivered:
            outcome = _General(outcome.reply, outcome.endpoint, outcome.refused, outcome.deferred)
        super()._apply(q, outcome, ids, now)


class DeliveredTwins(Twins):
    def __init__(self, rng: random.Random, settings: TransportSettings):
        super().__init__(rng, settings)
        self.pair = [cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], settings, boot="b")
                     for cls in (Transport, General)]

    def check(self) -> None:
        super().check()
        new, old = self.pair
        assert new._messages == old._messages
        assert new._held == old._held
        for internal_id in new._messages:
            assert new.trace(internal_id) == old.trace(internal_id)


@pytest.mark.parametrize("seed", range(30))
def test_inline_full_delivery_emits_what_the_general_path_emits(seed):
    settings = TransportSettings(queue_max_idle_time=[180, 0, 3600][seed % 3], delay_dsn_enabled=seed % 4 != 0)
    twins = DeliveredTwins(random.Random(seed), settings)
    for _ in range(60):
        twins.step()


def test_the_general_twin_takes_the_general_path():
    # (else the test above compares the inline path with itself)
    calls = []

    class Spy(General):
        def _delivered(self, *args):
            calls.append(args)
            super()._delivered(*args)

    t = Spy(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET])
    t.submit(NS(mail_from="a@contoso.com", rcpt_tos=("bob@contoso.com",), data=b"Subject: s\r\n\r\nb\r\n",
                message_id="", source_ip=""), 0.0)
    local = [c for c in t.pop_commands() if isinstance(c, O.DeliverLocal)]
    assert local
    t.delivery_result(local[0].queue, O.Delivered(), 0.0, items=(local[0].item,))
    assert len(calls) == 1
    assert any(isinstance(c, O.Release) for c in t.pop_commands())
