"""Queue state of a :class:`lab.core.exchange.queue.Transport` and its Get-Queue / Get-Message views (fidelity §2.2).

:class:`QueueState` and :class:`ItemState` are the transport's own mutable bookkeeping; the
functions below turn them into the frozen :class:`QueueView` / :class:`MessageView` records the
console renders.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.core.catalogue import exchange_queue as C
from lab.core.exchange import dsn as D
from lab.core.exchange import routing as R
from lab.core.exchange.queue_records import MessageView, QueueView

READY, ACTIVE, RETRY, SUSPENDED = "Ready", "Active", "Retry", "Suspended"


@dataclass
class QueueState:
    """One delivery queue's mutable state inside the transport (not for callers to change)."""

    number: int
    hop: R.NextHop
    status: str = READY
    items: list[int] = field(default_factory=list)
    busy: set[int] = field(default_factory=set)
    last_error: str | None = None
    failures: int = 0
    first_retry: float | None = None
    last_retry: float | None = None
    next_retry: float | None = None
    idle_since: float | None = None
    attempt_failed: bool = False
    refused_error: str | None = None  # the remote refused mail in this attempt (5xx): kept as LastError
    # ``<Server>\\<n>`` / ``<Server>\\Unreachable`` (Transport.identity: fixed for the queue's life, written once)
    identity: str = field(default="", compare=False, repr=False)
    # its ResolveMx (a frozen record of its identity and next-hop domain, both fixed for the queue's life):
    # made at its first attempt, the same command object for every attempt
    resolve_mx: Any = field(default=None, compare=False, repr=False)


@dataclass
class ItemState:
    """One (message, next hop) entry of a queue (mutable, owned by the transport)."""

    id: int
    internal_id: int
    queue: int
    recipients: list[tuple[str, str]]  # (original recipient, envelope recipient)
    last_error: str | None = None
    retry_count: int = 0


def queue_views(t: Any, nonempty: bool = False) -> tuple[QueueView, ...]:
    """Submission (always empty: routing is immediate), each delivery queue, then Unreachable if it holds mail.

    With ``nonempty``: only the queues that hold a message (MessageCount > 0; so never Submission),
    in the same order: those views and no other are made."""
    views = []
    if not nonempty:
        submission = t._submission  # (a frozen view of the server's name only: made once per transport)
        if submission is None:
            submission = t._submission = QueueView(f"{t.name}\\Submission", "Undefined", "Submission",
                                                   str(C.NULL_GUID), READY, 0, next_hop_category="Internal")
        views.append(submission)
    unreachable = t._unreach  # (None when not made: then it holds no mail)
    queues, connectors = t._queues, t.connectors
    last = None  # (Unreachable comes last, when it holds mail)
    for number in sorted(queues):  # (the queues by number: a queue's key is its number)
        q = queues[number]
        if q is unreachable:
            if q.items:
                last = q
            continue
        if nonempty and not q.items:
            continue
        hop = q.hop
        conn = connectors.get(hop.connector or "")
        views.append(QueueView(q.identity, hop.delivery_type, hop.next_hop_domain,
                               conn.guid if conn else str(C.NULL_GUID), q.status, len(q.items), q.last_error,
                               q.failures, q.last_retry, q.next_retry, q.first_retry,
                               conn.tls_domain if conn else None,
                               "Internal" if hop.delivery_type in (R.TO_MAILBOX, R.UNREACHABLE) else "External"))
    if last is not None:
        q, hop = last, last.hop
        conn = connectors.get(hop.connector or "")
        views.append(QueueView(q.identity, hop.delivery_type, hop.next_hop_domain,
                               conn.guid if conn else str(C.NULL_GUID), q.status, len(q.items),
                               str(C.NO_MATCHING_CONNECTOR), q.failures, q.last_retry, q.next_retry, q.first_retry,
                               conn.tls_domain if conn else None,
                               "Internal" if hop.delivery_type in (R.TO_MAILBOX, R.UNREACHABLE) else "External"))
    return tuple(views)


def message_views(t: Any) -> tuple[MessageView, ...]:
    """Every queued item as Get-Message shows it; identity ``<Server>\\<Queue>\\<n>``."""
    views = []
    for item in sorted(t._items.values(), key=lambda i: i.id):
        q, rec = t._queues[item.queue], t._messages[item.internal_id]
        status = ACTIVE if item.id in q.busy else (RETRY if item.last_error else READY)
        status = SUSPENDED if q.status == SUSPENDED else status
        last_error = str(C.NO_MATCHING_CONNECTOR) if q is t._unreach else item.last_error
        views.append(MessageView(f"{q.identity}\\{item.id}", q.identity, rec.mail_from, status,
                                 len(rec.data), D.subject_of(rec.data), rec.message_id, rec.received_at,
                                 rec.received_at + t.settings.message_expiration_timeout, last_error,
                                 item.retry_count, tuple(o for o, _ in item.recipients),
                                 "DSN" if rec.source == "DSN" else f"SMTP:{rec.connector}".rstrip(":"),
                                 rec.source_ip))
    return tuple(views)


def statistics(t: Any) -> dict[str, int]:
    """Counters: messages held, queue items, non-empty queues, queues in Retry, unreachable items, in flight."""
    queues = list(t._queues.values())
    return {"messages": len(t._messages), "items": len(t._items),
            "queues": len([q for q in queues if q.items]),
            "retry_queues": len([q for q in queues if q.status == RETRY]),
            "unreachable": len(t._unreach.items) if t._unreach is not None else 0, "active": sum(len(q.busy) for q in queues)}
