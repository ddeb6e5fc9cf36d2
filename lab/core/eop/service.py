"""EOP's service state, sans-I/O: what EOP does with the mail it accepted (both drivers).

The live :class:`lab.adapters.eop.EopService` and the in-memory :class:`lab.memory.eop.MemoryEop`
hold one :class:`EopState` and only do the I/O around it: deliver to a tenant mailbox, run one
SMTP attempt to a next hop. Every decision is here:

- :meth:`EopState.accept` / :meth:`EopState.route`: each recipient routed
  (:func:`lab.core.eop.routing.route_recipient`): a tenant mailbox gets the message at once
  (:class:`MailboxDelivery`, with EXO's mailbox-hop headers); an unknown recipient of an
  accepted domain is a failed trace row; other hops are grouped by queue key into EOP's queue
  (:mod:`lab.core.eop.queue`) with the next hop's headers; one trace row per recipient;
- :meth:`EopState.due`: the items an attempt is due for (the hop refreshed under the tenant's
  connectors as they are now);
- :meth:`EopState.attempted`: an attempt's outcome applied: delivered, retried, or failed, and a
  failed item with a sender bounces (an NDR routed like any message);
- :meth:`EopState.record` / :meth:`EopState.restore`: a queue item as the state dir keeps it
  (:class:`SpooledItem`; the live driver writes it before the 250) and taken back after a restart.
"""
from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from lab.core.catalogue import Reply
from lab.core.catalogue import eop as cat
from lab.core.eop import headers as H
from lab.core.eop import policy as P
from lab.core.eop import queue as Q
from lab.core.eop import routing as R
from lab.core.eop import views as V
from lab.core.eop.model import Tenant
from lab.core.exchange.dsn import FAILED, DsnRecipient, build_dsn
from lab.core.exchange.headers import header_value
from lab.core.exchange.outcomes import Delivered, Permanent, Transient
from lab.core.exchange.session import AcceptedMessage, SubmitResult

Outcome = Delivered | Transient | Permanent


@dataclass(frozen=True)
class MailboxDelivery:
    """Put ``data`` in the tenant mailbox ``address`` (the driver's Maildir or memory store)."""

    address: str
    data: bytes


@dataclass
class Pending:
    """One item of EOP's queue: its next hop, the message as sent to it, and its trace rows."""

    item: Q.QueuedItem
    hop: R.NextHop
    data: bytes
    message_id: str = ""
    subject: str = ""
    rows: list[int] = field(default_factory=list)  # indexes into EopState.trace

    def entry(self) -> V.QueuedEntry:
        return V.QueuedEntry(self.item, self.hop, self.subject, self.message_id, len(self.data))


@dataclass(frozen=True)
class SpooledItem:
    """One item of EOP's queue as the state dir keeps it: the bytes as sent to the next hop, and
    JSON-able fields (the item, its hop, the trace rows to show again after a restart).

    The spool's record shape (``internal_id``, ``data``, :meth:`meta`, :meth:`from_meta`), like
    :class:`lab.core.exchange.queue_records.QueuedMessage`.
    """

    internal_id: int
    data: bytes
    fields: Mapping[str, Any]

    def meta(self) -> dict[str, Any]:
        """Everything but the bytes, as JSON data."""
        return dict(self.fields)

    @staticmethod
    def from_meta(meta: Mapping[str, Any], data: bytes) -> "SpooledItem":
        return SpooledItem(int(meta["internal_id"]), data, dict(meta))


class EopState:
    """EOP's mail: accepted messages, the queue, attempts and the message trace.

    Attributes:
        world: the EOP node and tenants (the driver assigns it when the world changes).
        accepted: every message accepted, in order.
        events: ``(item id, status, reasons)`` of every delivery attempt.
        pending: the queue.
        trace: one :class:`~lab.core.eop.views.TraceRow` per recipient accepted.
    """

    def __init__(self, world: P.EopWorld):
        self.world = world
        self.accepted: list[AcceptedMessage] = []
        self.events: list[tuple[int, str, tuple[str, ...]]] = []
        self.pending: list[Pending] = []
        self.trace: list[V.TraceRow] = []
        self._ids = itertools.count(1)

    # --- what an observer sees --------------------------------------------------------------
    @property
    def host(self) -> str:
        """The front end's internal name (queue identities, NDR host)."""
        return P.internal_host(self.world.node, P.MX)

    def queues(self) -> tuple[V.EopQueueView, ...]:
        """One row per next hop holding mail, with its status and LastError."""
        return V.queue_views(self.host, [p.entry() for p in self.pending])

    def messages(self) -> tuple[V.EopMessageView, ...]:
        """Every queued item, with its LastError."""
        return V.message_views(self.host, [p.entry() for p in self.pending])

    def message_trace(self, tenant: str | None = None) -> tuple[V.TraceRow, ...]:
        """Get-MessageTrace: the rows whose sender or recipient is in ``tenant``'s domains (all when None)."""
        if tenant is None:
            return tuple(self.trace)
        t = next((x for x in self.world.tenants if x.name == tenant), None)
        if t is None:
            return ()
        return tuple(r for r in self.trace if any(a and t.is_accepted(a.rpartition("@")[2])
                                                 for a in (r.sender_address, r.recipient_address)))

    def next_attempt(self, busy: Iterable[int] = ()) -> float | None:
        """Lab seconds (epoch-based) of the earliest queued attempt (of items not ``busy``), None when
        there is none."""
        skip = set(busy)
        return min((p.item.next_attempt for p in self.pending if p.item.id not in skip), default=None)

    # --- the state dir ------------------------------------------------------------------------
    def record(self, entry: Pending) -> SpooledItem:
        """``entry`` as the state dir keeps it (written when it is queued and after each attempt)."""
        item, hop = entry.item, entry.hop
        rows = [{"recipient": self.trace[n].recipient_address, "from_ip": self.trace[n].from_ip,
                 "received": self.trace[n].received.timestamp()} for n in entry.rows if n < len(self.trace)]
        fields = {"internal_id": item.id, "mail_from": item.mail_from, "recipients": list(item.recipients),
                  "hop_key": item.hop_key, "arrived": item.arrived, "next_attempt": item.next_attempt,
                  "attempts": item.attempts, "last_error": asdict(item.last_error) if item.last_error else None,
                  "last_message": item.last_message, "message_id": entry.message_id, "subject": entry.subject,
                  "hop": {"kind": hop.kind, "address": hop.address, "domain": hop.domain,
                          "connector": hop.connector.name if hop.connector else None},
                  "rows": rows}
        return SpooledItem(item.id, entry.data, fields)

    def restore(self, records: Iterable[SpooledItem]) -> list[Pending]:
        """Take back the items the state dir kept (after a restart): queued again with their
        schedule and LastError, their hop under the tenant's connectors as they are now, and a
        Pending trace row per recipient. Items of no tenant any more stay in the queue as Internet
        hops (never dropped). Returns the items restored."""
        restored: list[Pending] = []
        for rec in sorted(records, key=lambda r: r.internal_id):
            f = rec.fields
            last = f.get("last_error")
            item = Q.QueuedItem(rec.internal_id, str(f["mail_from"]), tuple(f["recipients"]), str(f["hop_key"]),
                                float(f["arrived"]), float(f["next_attempt"]), int(f.get("attempts", 0)),
                                Reply(**last) if last else None, str(f.get("last_message", "")))
            h = f["hop"]
            tenant = self.tenant_for(item.recipients[0]) if item.recipients else None
            hop = (R.restore(tenant, h["kind"], h["address"], h["domain"], h.get("connector")) if tenant is not None
                   else R.NextHop(R.TO_INTERNET, h["address"], domain=h["domain"]))
            rows = [self._row(datetime.fromtimestamp(float(r["received"]), timezone.utc), item.mail_from,
                              r["recipient"], rec.data, r.get("from_ip", ""), cat.TRACE_PENDING.text)
                    for r in f.get("rows", ())]
            entry = Pending(item, hop, rec.data, str(f.get("message_id", "")), str(f.get("subject", "")), rows)
            self.pending.append(entry)
            restored.append(entry)
        top = max((p.item.id for p in self.pending), default=0)
        self._ids = itertools.count(top + 1)
        return restored

    # --- accepting and routing ----------------------------------------------------------------
    def tenant_for(self, address: str) -> Tenant | None:
        """The tenant an address belongs to (the node's first tenant for any other address)."""
        return self.world.tenant_for(address.rpartition("@")[2]) or (self.world.tenants[0] if self.world.tenants
                                                                     else None)

    def accept(self, message: AcceptedMessage, now: datetime) -> tuple[SubmitResult, list[MailboxDelivery]]:
        """Take an accepted message: the receipt, and the mailbox deliveries to make now."""
        internal_id = next(self._ids)
        self.accepted.append(message)
        deliveries = self.route(message.mail_from, message.rcpt_tos, message.content, now, message.client_ip)
        return SubmitResult(message.message_id, internal_id), deliveries

    def _row(self, now: datetime, mail_from: str, rcpt: str, data: bytes, from_ip: str, status: str,
             detail: str | None = None, read: tuple[str, str] | None = None) -> int:
        """A trace row; ``read`` is ``_subject_and_id(data)`` when the caller has it."""
        subject, message_id = read if read is not None else _subject_and_id(data)
        self.trace.append(V.TraceRow(P.ticks_id(now, len(self.trace)).lower(), now, mail_from, rcpt,
                                     subject, status, from_ip, message_id, len(data), None, detail))
        return len(self.trace) - 1

    def route(self, mail_from: str, recipients: Sequence[str], data: bytes, now: datetime,
              from_ip: str = "") -> list[MailboxDelivery]:
        """Route one message's recipients; queued hops join :attr:`pending`; returns the mailbox deliveries."""
        deliveries: list[MailboxDelivery] = []
        groups: dict[str, tuple[R.NextHop, list[str], list[int]]] = {}
        read = _subject_and_id(data) if recipients else ("", "")  # read once for every row and queued hop
        for rcpt in recipients:
            tenant = self.tenant_for(rcpt)
            if tenant is None:
                continue
            hop: R.NextHop = R.route_recipient(tenant, rcpt).result
            if hop.kind == R.TO_MAILBOX:
                deliveries.append(MailboxDelivery(hop.mailbox or rcpt, H.mailbox_hop(
                    data, eop_host=self.host, exo_host=self.world.node.submission_host, now=now)))
                self._row(now, mail_from, rcpt, data, from_ip, cat.TRACE_DELIVERED.text, read=read)
                continue
            if hop.kind == R.NOT_FOUND:
                self._row(now, mail_from, rcpt, data, from_ip, cat.TRACE_FAILED.text,
                          cat.S550_5_1_10_RECIPIENT_NOT_FOUND.line(), read)
                continue
            group = groups.setdefault(hop.queue_key + "|" + hop.domain, (hop, [], []))
            group[1].append(hop.address)
            group[2].append(self._row(now, mail_from, rcpt, data, from_ip, cat.TRACE_PENDING.text, read=read))
        for hop, rcpts, rows in groups.values():
            cloud = bool(hop.connector and hop.connector.cloud_services_mail_enabled)
            item = Q.enqueue(next(self._ids), mail_from, tuple(rcpts), hop.queue_key, now.timestamp())
            self.pending.append(Pending(item, hop, H.for_next_hop(data, cloud_services_mail=cloud), read[1], read[0],
                                        rows))
        return deliveries

    # --- the queue --------------------------------------------------------------------------------
    def due(self, now: datetime, busy: Iterable[int] = ()) -> list[Pending]:
        """The items due at ``now`` (not ``busy``), in queue order, each hop refreshed under the
        tenant's connectors as they are now (a retry uses the current TlsSettings / SmartHosts)."""
        skip = set(busy)
        ids = {i.id for i in Q.due(tuple(p.item for p in self.pending), now.timestamp())} - skip
        entries = [p for p in self.pending if p.item.id in ids]
        for entry in entries:
            tenant = self.tenant_for(entry.item.recipients[0])
            if tenant is not None:
                entry.hop = R.refresh(tenant, entry.hop)
        return entries

    def attempted(self, entry: Pending, outcome: Outcome, now: datetime) -> list[MailboxDelivery]:
        """Apply one attempt's outcome; returns the mailbox deliveries an NDR causes."""
        result = Q.after_attempt(entry.item, outcome, now.timestamp())
        self.events.append((entry.item.id, result.status, result.reasons))
        to_ip = outcome.endpoint.rpartition(":")[0] if isinstance(outcome, Delivered) else None
        for n in entry.rows:
            self.trace[n] = V.after_attempt(self.trace[n], result, to_ip)
        if result.status == Q.RETRY:
            entry.item = result.item
            return []
        if entry in self.pending:
            self.pending.remove(entry)
        if result.status == Q.FAILED and result.ndr is not None and entry.item.mail_from:
            return self.bounce(entry, result.ndr, now)
        return []

    def bounce(self, entry: Pending, reply: Reply, now: datetime) -> list[MailboxDelivery]:
        """The NDR of a failed item, routed to its sender."""
        host = self.host
        postmaster = f"postmaster@{self.world.tenants[0].initial_domain}" if self.world.tenants else "postmaster"
        ndr = build_dsn(FAILED, entry.data, entry.item.mail_from,
                        [DsnRecipient(r, reply) for r in entry.item.recipients], host, postmaster,
                        now, f"<{P.ticks_id(now, entry.item.id)}@{host}>")
        return self.route("", (entry.item.mail_from,), ndr, now)


def _subject_and_id(data: bytes) -> tuple[str, str]:
    """The Subject and Message-ID a trace row and a queued item show ("" for none)."""
    return header_value(data, "Subject") or "", header_value(data, "Message-ID") or ""


class EopStateHolder:
    """What a driver's EOP service shows of its :class:`EopState` (``self.state``), for observers."""

    state: EopState

    @property
    def world(self) -> P.EopWorld:
        return self.state.world

    @world.setter
    def world(self, world: P.EopWorld) -> None:
        self.state.world = world

    @property
    def host(self) -> str:
        return self.state.host

    @property
    def accepted(self) -> list[AcceptedMessage]:
        return self.state.accepted

    @property
    def events(self) -> list[tuple[int, str, tuple[str, ...]]]:
        return self.state.events

    @property
    def pending(self) -> list[Pending]:
        return self.state.pending

    @property
    def trace(self) -> list[V.TraceRow]:
        return self.state.trace

    def queues(self) -> tuple[V.EopQueueView, ...]:
        return self.state.queues()

    def messages(self) -> tuple[V.EopMessageView, ...]:
        return self.state.messages()

    def message_trace(self, tenant: str | None = None) -> tuple[V.TraceRow, ...]:
        return self.state.message_trace(tenant)
