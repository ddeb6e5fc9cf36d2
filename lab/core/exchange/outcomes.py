"""The transport's vocabulary with its drivers: commands out, outcomes in, and LastError mapping.

Commands (imperative, frozen) are what :class:`lab.core.exchange.queue.Transport` asks of
the outer world; a driver executes them and feeds the results back as events
(``resolution_result``, ``delivery_result``, ``wakeup``). Outcomes are what a delivery
attempt came to: :class:`Delivered`, :class:`Transient` (stays queued, with the queue's
LastError) or :class:`Permanent` (NDR).

The mapping functions turn the facts an adapter observed (a refused connection, a remote
reply, a DNS status, a TLS failure) into Exchange's exact LastError (fidelity §2.1, §6), so
an adapter never spells a product string: it maps its exception to a call here, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange_queue as C
from lab.core.dns_resolution import (INVALID_DATA, MX_LOOPBACK, NO_RECORDS, NON_EXISTENT_DOMAIN, NULL_MX,
                                     SERVER_FAILURE, TIMEOUT)
from lab.core.fastpath import frozen_init

# --- outcomes ------------------------------------------------------------------------------------------


@frozen_init
@dataclass(frozen=True)
class Delivered:
    """The next hop took the message (``250``), or the mailbox stored it.

    Attributes:
        reply: the remote's final reply line (``250 2.6.0 ...``), or ``""`` for a mailbox.
        endpoint: ``ip:port`` it went to (``""`` for a mailbox).
        refused: recipients the remote refused for good (5xx at RCPT) while others were accepted.
        deferred: recipients refused for now (4xx at RCPT): they stay queued with the reply as LastError.
    """

    reply: str = ""
    endpoint: str = ""
    refused: tuple[tuple[str, Reply], ...] = ()
    deferred: tuple[tuple[str, Reply], ...] = ()


@frozen_init
@dataclass(frozen=True)
class Transient:
    """The attempt failed for now: the message stays queued and the queue shows ``last_error``."""

    last_error: Reply
    detail: str = ""


@frozen_init
@dataclass(frozen=True)
class Permanent:
    """The message cannot be delivered: NDR to the sender with ``reply``.

    Attributes:
        reply: the reply the NDR quotes (the remote's own reply, or Exchange's).
        detail: a one-line explanation for the trace.
        remote: ``host (ip)`` of the server that gave the reply, or None when Exchange decided.
    """

    reply: Reply
    detail: str = ""
    remote: str | None = None


Outcome = Delivered | Transient | Permanent

# --- commands ------------------------------------------------------------------------------------------


@frozen_init
@dataclass(frozen=True)
class Endpoint:
    """One address to try: the host name it came from, its (virtual) IP and port."""

    host: str
    ip: str
    port: int

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


@frozen_init
@dataclass(frozen=True)
class TlsPolicy:
    """How the outbound session uses TLS (the send connector's settings).

    Attributes:
        require_tls: RequireTLS: no STARTTLS, or a failed one, fails the session.
        ignore_starttls: IgnoreSTARTTLS: never use TLS.
        auth_level: TlsAuthLevel (None with opportunistic TLS: nothing is checked).
        expected_domain: the name DomainValidation compares with (TlsDomain, else the recipient domain).
        certificate_name: TlsCertificateName: the client certificate to present, or None.
    """

    require_tls: bool = False
    ignore_starttls: bool = False
    auth_level: str | None = None
    expected_domain: str | None = None
    certificate_name: str | None = None


@frozen_init
@dataclass(frozen=True)
class Envelope:
    """One message to send in a session: its queue item id, the SMTP envelope and the bytes."""

    item: int
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes


@frozen_init
@dataclass(frozen=True)
class ResolveMx:
    """Resolve where mail for ``domain`` goes (MX, implicit MX); answer with ``resolution_result``."""

    queue: str
    domain: str


@frozen_init
@dataclass(frozen=True)
class ResolveHosts:
    """Resolve smart host names (IP literals ``[x.x.x.x]`` need no DNS); answer with ``resolution_result``."""

    queue: str
    hosts: tuple[str, ...]


@frozen_init
@dataclass(frozen=True)
class Connect:
    """Open ONE session to the first reachable target and send every envelope through it.

    Answer each envelope with ``delivery_result(queue, outcome, now, items=(envelope.item,))``,
    or the whole attempt with one ``delivery_result(queue, outcome, now)``.
    """

    queue: str
    source_server: str
    ehlo_name: str
    targets: tuple[Endpoint, ...]
    tls: TlsPolicy
    envelopes: tuple[Envelope, ...]


@frozen_init
@dataclass(frozen=True)
class DeliverLocal:
    """Store ``data`` in each recipient's mailbox; answer with ``delivery_result(queue, ..., items=(item,))``."""

    queue: str
    item: int
    recipients: tuple[str, ...]
    data: bytes


@frozen_init
@dataclass(frozen=True)
class RequestWakeup:
    """Call ``wakeup(now)`` when lab time reaches ``at`` (lab seconds)."""

    at: float


@frozen_init
@dataclass(frozen=True)
class Persist:
    """Write this accepted message to the durable spool (before its 250 is sent)."""

    record: Any  # lab.core.exchange.queue.QueuedMessage


@frozen_init
@dataclass(frozen=True)
class Checkpoint:
    """Record progress of a spooled message: recipients finished, delay DSN already sent."""

    internal_id: int
    done: tuple[str, ...]
    delay_dsn_sent: bool


@frozen_init
@dataclass(frozen=True)
class Release:
    """Every recipient of the message is delivered or bounced: remove it from the spool."""

    internal_id: int


@frozen_init
@dataclass(frozen=True)
class EmitDsn:
    """A DSN/NDR was generated (it is already queued and persisted; this is for observers)."""

    kind: str  # "failed" | "delayed"
    original: int
    dsn: int
    recipients: tuple[str, ...]


class Track:
    """Append a message tracking event (``tracking.jsonl``).

    ``Track(event)`` carries a built event. The transport hands a recipe instead
    (:meth:`later`): the event is built from it the first time :attr:`event` is read, from the
    same immutable inputs it would have been built from at once (the message record, the trace
    object of that moment, the recipients and statuses as tuples), so it is the same event; a
    driver that never reads it (the in-memory lab keeps the command until someone asks for the
    message's tracking) never pays for it. :attr:`message_id` is known without building.
    Equality, hash and repr are those of the event (as the frozen record ``Track(event)`` had).
    """

    __slots__ = ("_event", "_recipe", "message_id")

    def __init__(self, event: Any):  # lab.core.exchange.queue_records.TrackingEvent
        self._event, self._recipe, self.message_id = event, None, event.message_id

    @classmethod
    def later(cls, message_id: str, build: Any, *args: Any) -> "Track":
        """A command whose event is ``build(*args)``, built when first read (``args`` immutable)."""
        track = object.__new__(cls)
        track._event, track._recipe, track.message_id = None, (build, args), message_id
        return track

    @classmethod
    def later_each(cls, message_id: str, build: Any, arguments: Any) -> "list[Track]":
        """``[Track.later(message_id, build, *args) for args in arguments]`` (each ``args`` a tuple),
        without a call per command."""
        new, tracks = object.__new__, []
        append = tracks.append
        for args in arguments:
            track = new(cls)
            track._event, track._recipe, track.message_id = None, (build, args), message_id
            append(track)
        return tracks

    @property
    def built(self) -> bool:
        """Whether the event exists yet (tests; never needed to read it)."""
        return self._recipe is None

    @property
    def event(self) -> Any:
        """The tracking event (built now if it was handed as a recipe)."""
        recipe = self._recipe
        if recipe is not None:
            self._event, self._recipe = recipe[0](*recipe[1]), None
        return self._event

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Track and self.event == other.event  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.event,))

    def __repr__(self) -> str:
        return f"Track(event={self.event!r})"


class Tracks:
    """A run of ``Track`` commands (:meth:`lab.core.exchange.queue.Transport.failing_retries`): at
    each of ``times`` in turn, for each ``(message_id, common, counts)`` of ``items`` in order, the
    command ``Track.later(message_id, build, common, time, count)`` (``count``: that item's entry of
    ``counts`` for that time); one command for the whole run, its ``Track`` commands made when
    first read (:attr:`tracks`, the same objects at every read), so a driver that never reads the
    run's events pays for none of them. :attr:`message_ids`: the messages it has events of, in order.
    """

    __slots__ = ("build", "times", "items", "message_ids", "_tracks")

    def __init__(self, build: Any, times: tuple[float, ...], items: tuple[tuple[str, Any, Any], ...]):
        self.build, self.times, self.items, self._tracks = build, times, items, None
        self.message_ids = tuple(dict.fromkeys([m for m, _, _ in items]))

    @property
    def tracks(self) -> "list[Track]":
        """The ``Track`` commands of the run, in order (made at the first read)."""
        tracks = self._tracks
        if tracks is None:
            build, times = self.build, self.times
            each = [Track.later_each(m, build, zip(repeat(common), times, counts)) for m, common, counts in self.items]
            tracks = self._tracks = each[0] if len(each) == 1 else list(chain.from_iterable(zip(*each)))
        return tracks

    def of(self, message_id: str) -> "list[Track]":
        """The ``Track`` commands of the run for ``message_id``, in order."""
        if self.message_ids == (message_id,):
            return self.tracks
        return [t for t in self.tracks if t.message_id == message_id]

    @property
    def built(self) -> bool:
        """Whether every event of the run exists yet (tests; never needed to read them)."""
        return self._tracks is not None and all(t.built for t in self._tracks)

    def __repr__(self) -> str:
        return f"Tracks({self.tracks!r})"


Command = (ResolveMx | ResolveHosts | Connect | DeliverLocal | RequestWakeup | Persist | Checkpoint | Release
           | EmitDsn | Track | Tracks)

# --- facts -> Exchange's LastError (fidelity §2.1, §6) -------------------------------------------------

_DNS_HARD = {
    NON_EXISTENT_DOMAIN: (C.S554_5_4_4_DNS_NONEXISTENT_DOMAIN, C.S451_4_4_0_DNS_NONEXISTENT_DOMAIN),
    MX_LOOPBACK: (C.S554_5_4_4_DNS_MX_LOOPBACK, C.S451_4_4_0_DNS_MX_LOOPBACK),
    INVALID_DATA: (C.S554_5_4_4_DNS_INVALID_DATA, C.S451_4_4_0_DNS_INVALID_DATA),
}
_DNS_STATUS = {NO_RECORDS: C.DNS_STATUS_NO_RECORDS, SERVER_FAILURE: C.DNS_STATUS_SERVER_FAILURE,
               TIMEOUT: C.DNS_STATUS_TIMEOUT}


def dns_failure(error: str, dns_connector: bool, downgrade: bool, domain: str = "") -> Transient | Permanent:
    """Exchange's answer to a failed next-hop resolution (fidelity §6 table).

    Args:
        error: the lab DNS client's error (``NonExistentDomain``, ``NoRecords``, ``NullMX``, ...).
        dns_connector: the next hop is a DNS-routed send connector (DnsConnectorDelivery).
        downgrade: the connector has ErrorPolicies DowngradeDnsFailures.
        domain: the domain looked up, for the detail.
    """
    if error in _DNS_HARD:
        hard, soft = _DNS_HARD[error]
        if dns_connector and not downgrade:
            return Permanent(hard, f"DNS: {domain} {error} via a DNS connector: NDR now")
        return Transient(soft, f"DNS: {domain} {error} (smart host or DowngradeDnsFailures): retry")
    if error == NULL_MX:
        return Permanent(C.S556_5_1_10_NULL_MX, f"DNS: {domain} publishes a null MX")
    status = _DNS_STATUS.get(error, C.DNS_STATUS_RETRY)
    return Transient(C.S451_4_4_0_DNS_QUERY_FAILED_WITH_ERROR.format(status=status),
                     f"DNS: {domain} {error}: retry")


def _inner(reply: Reply | str) -> str:
    return str(reply).rstrip().rstrip(".")


def failover(response: Reply | str, detail: str = "") -> Transient:
    """``451 4.4.0 Primary target IP address responded with: "<response>." ...`` (protocol errors)."""
    return Transient(C.S451_4_4_0_FAILOVER.format(response=_inner(response)), detail)


def connect_failure(failure: str, endpoint: Endpoint | str) -> Transient:
    """Every target failed at TCP connect.

    ``Refused`` and ``Timeout`` give the 2013+ socket-error form with Winsock 10061 / 10060 and
    the last endpoint; ``NoRoute`` gives the ``421 4.2.1 Unable to connect`` failover form.
    """
    if failure in ("Refused", "Timeout"):
        code = C.WINSOCK_REFUSED if failure == "Refused" else C.WINSOCK_TIMED_OUT
        inner = C.WINSOCK_FAILED_TO_CONNECT.format(code=code)
        return Transient(C.S441_4_4_1_FAILOVER_SOCKET.format(response=_inner(inner), endpoint=str(endpoint)),
                         f"connect to {endpoint}: {failure} (Winsock {code})")
    return failover(C.S421_4_2_1_UNABLE_TO_CONNECT, f"connect to {endpoint}: {failure}")


def remote_reply(code: int, text: str, during: str, remote: str = "") -> Transient | Permanent:
    """A reply the remote server gave in the session.

    A 5xx to MAIL, RCPT or DATA bounces the message with the remote's reply; a 4xx anywhere, or a
    5xx to the greeting/EHLO/STARTTLS, fails over (``451 4.4.0 ... responded with: "<reply>."``).

    Args:
        code: the reply code.
        text: the reply text, with the enhanced code if any (``5.7.54 SMTP; Unable to relay ...``).
        during: the command it answered: ``connect``, ``ehlo``, ``starttls``, ``mail``, ``rcpt``, ``data``.
        remote: ``host (ip)`` of the remote server.
    """
    enhanced, _, rest = text.partition(" ")
    if not (enhanced.count(".") == 2 and enhanced.replace(".", "").isdigit()):
        enhanced, rest = None, text
    reply = Reply(code, enhanced, " ".join(rest.split("\n")).strip(), source=f"remote {remote}".strip())
    if code >= 500 and during in ("mail", "rcpt", "data"):
        return Permanent(reply, f"remote refused at {during.upper()}: {reply}", remote or None)
    return failover(reply, f"remote replied at {during}: {reply}")


def starttls_required(detail: str) -> Transient:
    """RequireTLS and the remote offers no STARTTLS, or TLS failed: the synthesised 451 5.7.3 failover."""
    return failover(C.S451_5_7_3_STARTTLS_REQUIRED, detail)


def certificate_not_found(name: str) -> Transient:
    """The connector's TlsCertificateName names no installed certificate (stale after renewal)."""
    return Transient(C.S454_4_7_5_TLS_CERTIFICATE_NAME_NOT_FOUND, f"no certificate matches TlsCertificateName {name}")


def connection_dropped(reason: str) -> Transient:
    """The session broke after it was established (``421 4.4.2 Connection dropped due to <reason>``)."""
    return Transient(C.S421_4_4_2_CONNECTION_DROPPED.format(reason=reason), f"connection dropped: {reason}")


def expiry_reply(unreachable: bool, last_error: str | None, with_last_error: bool = False) -> Reply:
    """The NDR reply of a message that reached MessageExpirationTimeout (fidelity §2.1).

    Args:
        unreachable: it expired in the Unreachable queue.
        last_error: its last error, if any.
        with_last_error: use the Exchange 2016 CU13+ form ``550 5.4.300 Message expired -> <last error>``.
    """
    if unreachable:
        return C.S550_4_4_7_QUEUE_EXPIRED_UNREACHABLE.format(reason=str(C.NO_MATCHING_CONNECTOR))
    if with_last_error and last_error:
        return C.S550_5_4_300_MESSAGE_EXPIRED.format(last_error=last_error)
    return C.S550_4_4_7_QUEUE_EXPIRED
