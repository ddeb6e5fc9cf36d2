"""The Unreachable queue is made when first needed (an item routed to it, a cmdlet naming a queue, a
look at ``_unreachable``), first in ``_queues``: a transport that makes it lazily must emit what one
that made it at once (as the transport did before) emits, and show the same queues, at every step."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS

import pytest

from lab.core.exchange import routing as R
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings

from test_transport_indexes import INTERNET, ORG, PARTNER, Twins


class Eager(Transport):
    """The transport as it was: its Unreachable queue made with it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._unreachable_queue()


class LazyTwins(Twins):
    def __init__(self, rng: random.Random, settings: TransportSettings):
        super().__init__(rng, settings)
        self.pair = [cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET, PARTNER], settings, boot="b")
                     for cls in (Transport, Eager)]

    def check(self) -> None:
        super().check()
        new, old = self.pair
        if new._unreach is not None:  # (once made, the queues stand in the same order)
            assert list(new._queues) == list(old._queues)
            assert set(new._index) == set(old._index)
        else:  # (not made: every other queue the same, in the same order)
            assert list(new._queues) == [n for n in old._queues if n != 0]
            assert not old._unreach.items


@pytest.mark.parametrize("seed", range(30))
def test_a_lazy_unreachable_queue_emits_what_an_eager_one_emitted(seed):
    settings = TransportSettings(queue_max_idle_time=[180, 0, 3600][seed % 3], delay_dsn_enabled=seed % 4 != 0)
    twins = LazyTwins(random.Random(seed), settings)
    for _ in range(60):
        twins.step()


def _msg(rcpt: str) -> NS:
    return NS(mail_from="alice@contoso.com", rcpt_tos=(rcpt,), data=b"Subject: s\r\n\r\nb\r\n", message_id="",
              source_ip="")


def test_made_only_when_needed_and_then_first():
    t = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [PARTNER])
    t.submit(_msg("bob@contoso.com"), 0.0)
    t.submit(_msg("x@fabrikam.com"), 0.0)
    assert t._unreach is None and list(t._queues) == [1, 2]
    assert t.statistics()["unreachable"] == 0
    views = t.queues()
    assert not any(v.identity.endswith("Unreachable") for v in views) and t._unreach is None
    t.submit(_msg("x@nowhere.example"), 0.0)  # (no connector covers it: Unreachable)
    q = t._unreach
    assert q is not None and list(t._queues) == [0, 1, 2] and q.items and q.hop.delivery_type == R.UNREACHABLE
    assert q.identity == "EX01\\Unreachable" and t._index[q.identity] is q and t._index[q.hop.key] is q
    assert t.statistics()["unreachable"] == 1


@pytest.mark.parametrize("identity", ["EX01\\Unreachable", "ex01\\unreachable", "EX01\\9"])
def test_a_cmdlet_finds_the_unreachable_queue_before_any_item_went_there(identity):
    lazy, eager = (cls(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [INTERNET]) for cls in (Transport, Eager))
    out = []
    for t in (lazy, eager):
        t.submit(_msg("bob@contoso.com"), 0.0)
        try:
            t.retry_queue(identity, 5.0)
            t.suspend_queue(identity, 6.0)
            t.resume_queue(identity, 7.0)
            out.append(("ok", repr(t.pop_commands()), repr(t.queues())))
        except KeyError as exc:
            out.append(("KeyError", repr(exc)))
    assert out[0] == out[1]
    assert list(lazy._queues) == list(eager._queues)
