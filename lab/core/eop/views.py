"""What an observer sees of EOP's outbound queue and of the tenant's mail (pure).

EOP's queue (:mod:`lab.core.eop.queue`) holds one item per (message, next hop). These views
are the frozen records a console or a scenario reads: one :class:`EopQueueView` per next hop
holding mail (its status, LastError and retry times, like an on-prem ``Get-Queue`` row) and one
:class:`EopMessageView` per item (``Get-Message``-like), and :class:`TraceRow`, the per-recipient
status Get-MessageTrace reports (``Delivered`` / ``Pending`` / ``Failed``, fidelity §4.5: the
LastError is the trace detail).

Times are aware datetimes (EOP's queue keeps UTC epoch seconds).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from lab.core.catalogue import eop as cat
from lab.core.eop import queue as Q
from lab.core.eop import routing as R
from lab.core.fastpath import evolve, frozen_init

READY = "Ready"
RETRY = "Retry"


def _at(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


@dataclass(frozen=True)
class QueuedEntry:
    """One item of EOP's queue with what an observer needs besides the item itself."""

    item: Q.QueuedItem
    hop: R.NextHop
    subject: str = ""
    message_id: str = ""
    size: int = 0


@dataclass(frozen=True)
class EopQueueView:
    """One next hop holding mail."""

    identity: str
    delivery_type: str  # OutboundConnector / Internet
    next_hop: str  # the connector's name, or the recipient domain
    next_hop_domain: str
    status: str  # Ready / Retry
    message_count: int
    last_error: str | None = None
    retry_count: int = 0
    next_retry_time: datetime | None = None
    tls_settings: str | None = None
    tls_domain: str | None = None

    def to_mapping(self) -> dict[str, Any]:
        """Exchange-style property names."""
        return {"Identity": self.identity, "DeliveryType": self.delivery_type, "NextHop": self.next_hop,
                "NextHopDomain": self.next_hop_domain, "Status": self.status, "MessageCount": self.message_count,
                "LastError": self.last_error, "RetryCount": self.retry_count, "NextRetryTime": self.next_retry_time,
                "TlsSettings": self.tls_settings, "TlsDomain": self.tls_domain}


@dataclass(frozen=True)
class EopMessageView:
    """One queued item."""

    identity: str
    queue: str
    from_address: str
    recipients: tuple[str, ...]
    status: str
    subject: str
    internet_message_id: str
    size: int
    date_received: datetime
    expiration_time: datetime
    last_error: str | None
    retry_count: int
    next_retry_time: datetime | None

    def to_mapping(self) -> dict[str, Any]:
        """Exchange-style property names."""
        return {"Identity": self.identity, "Queue": self.queue, "FromAddress": self.from_address,
                "Recipients": list(self.recipients), "Status": self.status, "Subject": self.subject,
                "InternetMessageId": self.internet_message_id, "Size": self.size,
                "DateReceived": self.date_received, "ExpirationTime": self.expiration_time,
                "LastError": self.last_error, "RetryCount": self.retry_count, "NextRetryTime": self.next_retry_time}


def _status(item: Q.QueuedItem) -> str:
    return RETRY if item.last_error is not None else READY


def queue_views(host: str, entries: Iterable[QueuedEntry]) -> tuple[EopQueueView, ...]:
    """One view per next hop (first-queued first); identity ``<host>\\<n>``."""
    groups: dict[str, list[QueuedEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.item.id):
        groups.setdefault(entry.item.hop_key, []).append(entry)
    views = []
    for n, (key, members) in enumerate(groups.items(), start=1):
        hop = members[0].hop
        tried = [e.item for e in members if e.item.last_error is not None]
        last = max(tried, key=lambda i: (i.attempts, i.id)) if tried else None
        views.append(EopQueueView(
            f"{host}\\{n}", hop.kind, hop.connector.name if hop.connector else hop.domain, hop.domain,
            RETRY if last else READY, len(members), last.last_error.line() if last and last.last_error else None,
            max((i.attempts for i in tried), default=0), _at(min(e.item.next_attempt for e in members)),
            hop.tls_mode, hop.tls_domain))
    return tuple(views)


def message_views(host: str, entries: Iterable[QueuedEntry]) -> tuple[EopMessageView, ...]:
    """Every queued item; identity ``<queue identity>\\<item id>``."""
    entries = sorted(entries, key=lambda e: e.item.id)
    queues = {v.next_hop_domain + "|" + v.next_hop: v.identity for v in queue_views(host, entries)}
    out = []
    for e in entries:
        queue = queues[e.hop.domain + "|" + (e.hop.connector.name if e.hop.connector else e.hop.domain)]
        item = e.item
        out.append(EopMessageView(
            f"{queue}\\{item.id}", queue, item.mail_from, item.recipients, _status(item), e.subject, e.message_id,
            e.size, _at(item.arrived), _at(item.arrived + Q.EXPIRATION),
            item.last_error.line() if item.last_error else None, item.attempts, _at(item.next_attempt)))
    return tuple(out)


@frozen_init
@dataclass(frozen=True)
class TraceRow:
    """One recipient of one message EOP accepted (Get-MessageTrace)."""

    message_trace_id: str
    received: datetime
    sender_address: str
    recipient_address: str
    subject: str
    status: str
    from_ip: str
    message_id: str
    size: int
    to_ip: str | None = None
    detail: str | None = None

    def to_mapping(self) -> dict[str, Any]:
        """Get-MessageTrace's property names."""
        return {"Received": self.received, "SenderAddress": self.sender_address,
                "RecipientAddress": self.recipient_address, "Subject": self.subject, "Status": self.status,
                "ToIP": self.to_ip, "FromIP": self.from_ip, "Size": self.size, "MessageId": self.message_id,
                "MessageTraceId": self.message_trace_id, "Detail": self.detail}


def after_attempt(row: TraceRow, result: Q.AttemptResult, to_ip: str | None) -> TraceRow:
    """A recipient's trace row after a delivery attempt of its queue item."""
    if result.status == Q.DELIVERED:
        return evolve(row, status=cat.TRACE_DELIVERED.text, to_ip=to_ip, detail=None)
    if result.status == Q.FAILED:
        return evolve(row, status=cat.TRACE_FAILED.text, detail=result.ndr.line() if result.ndr else row.detail)
    last = result.item.last_error
    return evolve(row, status=cat.TRACE_PENDING.text, detail=last.line() if last else row.detail)
