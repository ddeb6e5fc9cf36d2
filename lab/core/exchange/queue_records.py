"""The transport's records: settings, queued messages, tracking events, Get-Queue / Get-Message views.

All frozen and JSON-able. Times are lab seconds; :meth:`QueueView.to_mapping` and
:meth:`MessageView.to_mapping` give Exchange's property names with datetimes (lab epoch + seconds).

Retry schedule (fidelity §2.3, lab choice documented here): after the n-th consecutive failed
attempt of a queue, the next attempt is ``TransientFailureRetryInterval`` (5 min) later while
``n <= TransientFailureRetryCount`` (6), then every ``MessageRetryInterval`` (15 min). So a
queue failing from t=0 is tried at 0, 5, 10, 15, 20, 25, 30 min, then 45, 60, 75 ... min. The
delay DSN goes out at ``DelayNotificationTimeout`` (4 h) after arrival, once; the NDR at
``MessageExpirationTimeout`` (2 days).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Protocol, Sequence

from lab.core.trace import Trace
from lab.core.fastpath import frozen_init

DEFAULT_EPOCH = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


class AcceptedMessageLike(Protocol):
    """What the receive side hands the transport (``MessageSink.submit``): the envelope and bytes.

    Optional attributes read when present: ``source_ip``, ``connector`` (receive connector name),
    ``message_id`` (Internet Message-ID), ``directionality``.
    """

    mail_from: str
    rcpt_tos: Sequence[str]
    data: bytes


@frozen_init
@dataclass(frozen=True)
class TransportSettings:
    """Set-TransportService / Set-TransportConfig values (fidelity §2.3), in seconds."""

    transient_failure_retry_count: int = 6
    transient_failure_retry_interval: float = 5 * 60
    message_retry_interval: float = 15 * 60
    delay_notification_timeout: float = 4 * 3600
    message_expiration_timeout: float = 2 * 86400
    queue_max_idle_time: float = 3 * 60
    delay_dsn_enabled: bool = True
    expiry_with_last_error: bool = False  # the Exchange 2016 CU13+ "550 5.4.300 Message expired -> ..." form
    first_internal_id: int = 5111011082241  # order of magnitude of M-TELNET's InternalId example
    epoch: datetime = DEFAULT_EPOCH

    def retry_delay(self, failures: int) -> float:
        """Seconds until the next attempt after ``failures`` consecutive failures (see module doc)."""
        if failures <= self.transient_failure_retry_count:
            return self.transient_failure_retry_interval
        return self.message_retry_interval

    def retry_schedule(self, failures: int) -> tuple[tuple[float, ...], float]:
        """``retry_delay(failures)``, ``retry_delay(failures + 1)``, ... as the leading delays that are not
        the steady one (a tuple), then the steady one every later failure gets."""
        head = max(0, self.transient_failure_retry_count - failures + 1)
        return (self.transient_failure_retry_interval,) * head, self.message_retry_interval

    def at(self, seconds: float | None) -> datetime | None:
        """Lab seconds as a datetime (None stays None)."""
        return None if seconds is None else self.epoch + timedelta(seconds=seconds)


@frozen_init
@dataclass(frozen=True)
class SubmitResult:
    """What ``submit`` returns: the Internet message id and Exchange's InternalId (for the 250 line)."""

    message_id: str
    internal_id: int


@frozen_init
@dataclass(frozen=True)
class QueuedMessage:
    """A message the transport holds, as the spool stores it.

    Attributes:
        internal_id: Exchange's InternalId.
        message_id: the Internet Message-ID (with angle brackets).
        mail_from: the envelope sender (``""`` for a DSN).
        recipients: every envelope recipient, as accepted.
        data: the message bytes.
        received_at: lab seconds of arrival.
        source: ``SMTP`` or ``DSN`` (MessageSourceName).
        source_ip: the client IP the receive side saw.
        connector: the receive connector's name.
        done: recipients already delivered or bounced.
        delay_dsn_sent: the delay DSN went out already.
        dsn_of: for a DSN, the InternalId of the message it reports on.
    """

    internal_id: int
    message_id: str
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    received_at: float
    source: str = "SMTP"
    source_ip: str = ""
    connector: str = ""
    done: tuple[str, ...] = ()
    delay_dsn_sent: bool = False
    dsn_of: int | None = None

    @property
    def pending(self) -> tuple[str, ...]:
        """Recipients not yet finished."""
        done, recipients = self.done, self.recipients
        if not done and recipients.__class__ is tuple:  # (none finished: all of them)
            return recipients
        return tuple([r for r in recipients if r not in done])

    def meta(self) -> dict[str, Any]:
        """Everything but the bytes, as JSON data (the spool's ``.json``)."""
        out = asdict(self)
        out.pop("data")
        out["recipients"] = list(self.recipients)
        out["done"] = list(self.done)
        return out

    @staticmethod
    def from_meta(meta: Mapping[str, Any], data: bytes) -> "QueuedMessage":
        """The inverse of :meth:`meta`."""
        return QueuedMessage(int(meta["internal_id"]), str(meta["message_id"]), str(meta["mail_from"]),
                             tuple(meta["recipients"]), data, float(meta["received_at"]),
                             str(meta.get("source", "SMTP")), str(meta.get("source_ip", "")),
                             str(meta.get("connector", "")), tuple(meta.get("done", ())),
                             bool(meta.get("delay_dsn_sent", False)), meta.get("dsn_of"))


@frozen_init
@dataclass(frozen=True)
class TrackingEvent:
    """One message tracking log entry (Get-MessageTrackingLog field names in :meth:`to_dict`)."""

    timestamp: float
    event_id: str  # RECEIVE | SEND | DELIVER | FAIL | DEFER | DSN
    source: str  # SMTP | STOREDRIVER | DSN | ROUTING
    server: str
    internal_id: int
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    recipient_status: tuple[str, ...] = ()
    connector_id: str = ""
    subject: str = ""
    total_bytes: int = 0
    reference: str = ""
    trace: Trace = field(default_factory=lambda: Trace(""))

    def to_dict(self, epoch: datetime | None = None) -> dict[str, Any]:
        """JSON data with Exchange's field names (``Timestamp`` as ISO 8601 when ``epoch`` is given)."""
        stamp: Any = self.timestamp if epoch is None else (epoch + timedelta(seconds=self.timestamp)).isoformat()
        return {"Timestamp": stamp, "LabTime": self.timestamp, "EventId": self.event_id, "Source": self.source,
                "ServerHostname": self.server, "InternalMessageId": self.internal_id,
                "MessageId": self.message_id, "Sender": self.sender, "Recipients": list(self.recipients),
                "RecipientStatus": list(self.recipient_status), "ConnectorId": self.connector_id,
                "MessageSubject": self.subject, "TotalBytes": self.total_bytes, "Reference": self.reference,
                "Trace": self.trace.to_dict()}


@frozen_init
@dataclass(frozen=True)
class QueueView:
    """One queue as Get-Queue shows it (fidelity §2.2)."""

    identity: str
    delivery_type: str
    next_hop_domain: str
    next_hop_connector: str
    status: str
    message_count: int
    last_error: str | None = None
    retry_count: int = 0
    last_retry_time: float | None = None
    next_retry_time: float | None = None
    first_retry_time: float | None = None
    tls_domain: str | None = None
    next_hop_category: str = "External"
    deferred_message_count: int = 0
    locked_message_count: int = 0
    risk_level: str = "Normal"
    outbound_ip_pool: int = 0
    velocity: int = 0

    def to_mapping(self, settings: TransportSettings) -> dict[str, Any]:
        """Exchange property names; times as datetimes."""
        # (settings.at(t) for each time; None stays None without the call, as at() leaves it)
        last, following, first = self.last_retry_time, self.next_retry_time, self.first_retry_time
        return {"Identity": self.identity, "DeliveryType": self.delivery_type, "NextHopDomain": self.next_hop_domain,
                "TlsDomain": self.tls_domain, "NextHopConnector": self.next_hop_connector, "Status": self.status,
                "MessageCount": self.message_count, "LastError": self.last_error, "RetryCount": self.retry_count,
                "LastRetryTime": None if last is None else settings.at(last),
                "NextRetryTime": None if following is None else settings.at(following),
                "FirstRetryTime": None if first is None else settings.at(first),
                "DeferredMessageCount": self.deferred_message_count,
                "LockedMessageCount": self.locked_message_count, "RiskLevel": self.risk_level,
                "OutboundIPPool": self.outbound_ip_pool, "NextHopCategory": self.next_hop_category,
                "Velocity": self.velocity, "QueueIdentity": self.identity}


@frozen_init
@dataclass(frozen=True)
class MessageView:
    """One message in a queue as Get-Message shows it (fidelity §2.2, M-MP)."""

    identity: str
    queue: str
    from_address: str
    status: str
    size: int
    subject: str
    internet_message_id: str
    date_received: float
    expiration_time: float
    last_error: str | None
    retry_count: int
    recipients: tuple[str, ...]
    message_source_name: str
    source_ip: str
    scl: int = -1
    directionality: str = "Originating"

    def to_mapping(self, settings: TransportSettings) -> dict[str, Any]:
        """Exchange property names; times as datetimes."""
        return {"Identity": self.identity, "Queue": self.queue, "FromAddress": self.from_address,
                "Status": self.status, "Size": self.size, "Subject": self.subject,
                "InternetMessageId": self.internet_message_id, "DateReceived": settings.at(self.date_received),
                "ExpirationTime": settings.at(self.expiration_time), "LastError": self.last_error,
                "RetryCount": self.retry_count, "Recipients": list(self.recipients),
                "MessageSourceName": self.message_source_name, "SourceIP": self.source_ip, "SCL": self.scl,
                "Directionality": self.directionality}
