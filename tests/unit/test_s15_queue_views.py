"""Get-Queue views (queue_views) without a sort key per queue, and ``queues(nonempty=True)``: at
every step of a random drive, the views must be those the code before made (kept below,
verbatim), and the non-empty ones exactly the views of the full list that hold a message
(what the scenario checks keep), in the same order."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS
from typing import Any

import pytest

from lab.core.catalogue import exchange_queue as C
from lab.core.exchange import routing as R
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import QueueView, TransportSettings
from lab.core.exchange.queue_views import READY

from test_transport_indexes import ORG, PARTNER, Twins


def reference_queue_views(t: Any) -> tuple[QueueView, ...]:
    submission = QueueView(f"{t.name}\\Submission", "Undefined", "Submission",
                           str(C.NULL_GUID), READY, 0, next_hop_category="Internal")
    views = [submission]
    unreachable = t._unreachable
    for q in sorted(t._queues.values(), key=lambda x: (x is unreachable, x.number)):
        if q is unreachable and not q.items:
            continue
        conn = t.connectors.get(q.hop.connector or "")
        internal = q.hop.delivery_type in (R.TO_MAILBOX, R.UNREACHABLE)
        last_error = str(C.NO_MATCHING_CONNECTOR) if q is unreachable else q.last_error
        views.append(QueueView(q.identity, q.hop.delivery_type, q.hop.next_hop_domain,
                               conn.guid if conn else str(C.NULL_GUID), q.status, len(q.items), last_error,
                               q.failures, q.last_retry, q.next_retry, q.first_retry,
                               conn.tls_domain if conn else None, "Internal" if internal else "External"))
    return tuple(views)


class ViewTwins(Twins):
    seen = 0

    def check(self) -> None:
        super().check()
        for t in self.pair:
            views = t.queues()
            assert views == reference_queue_views(t)
            assert repr(views) == repr(reference_queue_views(t))
            kept = tuple(v for v in views if v.next_hop_domain != "Submission" and v.message_count > 0)
            assert t.queues(nonempty=True) == kept
            ViewTwins.seen += len(kept) + (1 if any(v.identity.endswith("Unreachable") for v in kept) else 0)


@pytest.mark.parametrize("seed", range(20))
def test_views_are_the_sorted_views_and_nonempty_keeps_those_with_mail(seed):
    settings = TransportSettings(queue_max_idle_time=[180, 0, 3600][seed % 3])
    twins = ViewTwins(random.Random(seed), settings)
    for _ in range(50):
        twins.step()
    assert ViewTwins.seen  # (queues with mail were compared)


def test_unreachable_comes_last_and_only_with_mail():
    t = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), ORG, [PARTNER])
    assert [v.identity for v in t.queues()] == ["EX01\\Submission"]
    assert t.queues(nonempty=True) == ()
    t.submit(NS(mail_from="a@contoso.com", rcpt_tos=("x@nowhere.example", "bob@contoso.com", "y@fabrikam.com"),
                data=b"Subject: s\r\n\r\nb\r\n", message_id="", source_ip=""), 0.0)
    views = t.queues()
    assert views == reference_queue_views(t)
    assert views[-1].identity == "EX01\\Unreachable" and views[-1].last_error == str(C.NO_MATCHING_CONNECTOR)
    assert t.queues(nonempty=True) == views[1:]
