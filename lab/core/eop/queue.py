"""EOP's outbound queue, sans-I/O: retry for 24 hours, then an NDR (fidelity §2.3, §4.5).

S-MFI: "Microsoft 365 will continue to retry delivery for each message for 24 hours" (M-447's
two days is inconsistent; the lab uses 24 h). The retry interval is not documented: the lab
retries every 15 minutes (:data:`RETRY_INTERVAL`, a lab choice). The expiry NDR quotes the
last ``[Message=...]`` payload: ``550 5.4.317 Message expired, cannot connect to remote
server(451 5.7.3 STARTTLS is required to send mail)``; other last errors expire with
``550 5.4.300 Message expired``.

Times are lab seconds (floats). Every function returns new frozen values.
"""
from __future__ import annotations

from dataclasses import dataclass

from lab.core.catalogue import Reply
from lab.core.catalogue import eop as cat
from lab.core.exchange.outcomes import Delivered, Permanent, Transient
from lab.core.fastpath import evolve

RETRY_INTERVAL = 15 * 60.0
EXPIRATION = 24 * 3600.0
DELIVERED = "Delivered"
RETRY = "Retry"
FAILED = "Failed"


@dataclass(frozen=True)
class QueuedItem:
    """One message for one next hop.

    Attributes:
        id: the queue's id of the item.
        mail_from: the envelope sender.
        recipients: the recipients of this hop.
        hop_key: the next hop's queue key (connector or domain).
        arrived: lab seconds when EOP accepted the message.
        next_attempt: lab seconds of the next attempt.
        attempts: attempts made.
        last_error: the last transient error, or None.
        last_message: the ``[Message=...]`` payload of the last error (quoted by the NDR).
    """

    id: int
    mail_from: str
    recipients: tuple[str, ...]
    hop_key: str
    arrived: float
    next_attempt: float
    attempts: int = 0
    last_error: Reply | None = None
    last_message: str = ""


@dataclass(frozen=True)
class AttemptResult:
    """What happened to an item after an attempt (or a wakeup).

    Attributes:
        status: DELIVERED, RETRY or FAILED.
        item: the updated item (RETRY), else the final one.
        ndr: the reply to report to the sender (FAILED).
        reasons: why.
    """

    status: str
    item: QueuedItem
    ndr: Reply | None = None
    reasons: tuple[str, ...] = ()


def enqueue(item_id: int, mail_from: str, recipients: tuple[str, ...], hop_key: str, now: float) -> QueuedItem:
    """A new item, due at once."""
    return QueuedItem(item_id, mail_from, recipients, hop_key, now, now)


def expiry_reply(item: QueuedItem) -> Reply:
    """The NDR reply of an expired item (5.4.317 after a connection-class error, else 5.4.300)."""
    if item.last_error is not None and item.last_error.enhanced and item.last_error.enhanced.startswith("4.4.31"):
        return cat.S550_5_4_317_EXPIRED_CANNOT_CONNECT.format(last=item.last_message or item.last_error.text)
    return cat.S550_5_4_300_MESSAGE_EXPIRED


def after_attempt(item: QueuedItem, outcome: Delivered | Transient | Permanent, now: float) -> AttemptResult:
    """Apply an attempt's outcome: delivered, bounced, or retried until 24 h after arrival."""
    tried = evolve(item, attempts=item.attempts + 1)
    if isinstance(outcome, Delivered):
        return AttemptResult(DELIVERED, tried, reasons=(f"delivered: {outcome.reply}",))
    if isinstance(outcome, Permanent):
        return AttemptResult(FAILED, tried, outcome.reply, (f"permanent failure: {outcome.reply}",))
    tried = evolve(tried, last_error=outcome.last_error, last_message=outcome.detail or outcome.last_error.text)
    if now - item.arrived >= EXPIRATION:
        reply = expiry_reply(tried)
        return AttemptResult(FAILED, tried, reply, (f"expired after {EXPIRATION / 3600:g} h: {reply}",))
    due = min(now + RETRY_INTERVAL, item.arrived + EXPIRATION)
    return AttemptResult(RETRY, evolve(tried, next_attempt=due),
                         reasons=(f"{outcome.last_error}; next attempt at +{due - item.arrived:g}s",))


def due(items: tuple[QueuedItem, ...], now: float) -> tuple[QueuedItem, ...]:
    """The items whose next attempt is due at ``now``, oldest first."""
    return tuple(sorted((i for i in items if i.next_attempt <= now), key=lambda i: (i.next_attempt, i.id)))
