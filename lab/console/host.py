"""The console host contract: what the lab's cmdlets need from the running lab.

Pure configuration lives in :class:`~lab.core.world.World` and the cmdlets compute new worlds
themselves. Everything that needs a running service goes through :class:`ConsoleHost`: the
clock, the transport queues, message tracking, sending mail, the certificate store's keys,
the public CA's issuing desk, EXO connector validation, the lab DNS as a client host sees it,
raw SMTP conversations (``telnet``), the lines a user types to such a program, and the files an
administrator names.

Where commands run from: ``session.source_host`` (a topology node name, set by ``Set-LabHost``)
is the lab host whose address is the source of Send-MailMessage, ``telnet`` and ``nslookup``;
None means the Exchange server of the session (``session.server``). :func:`source_node` says
which one it is.

A cmdlet never keeps the world it read: it reads ``host.world``, validates everything, and
assigns ``host.world = new_world`` once, at the end. The shell snapshots ``host.world`` before
a line and puts it back when the line fails, so a failed line changes nothing.

:class:`WorldHost` is the in-memory implementation for tests and rehearsals. It fakes
nothing: queue views come from the :class:`~lab.core.exchange.queue.Transport` objects it is
given, keys and certificates from the real PKI adapter, mail and validation from the
callables it is given (without them those cmdlets report that the service is not running).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from lab.core.dns import Answer
from lab.core.errors import LabRuntimeError
from lab.core.exchange.queue_records import MessageView, QueueView, TrackingEvent, TransportSettings
from lab.core.tls import CertFacts
from lab.core.world import World


@dataclass
class Session:
    """Where the console is connected: an on-prem server's shell, or Exchange Online.

    Attributes:
        server: the node name of the Exchange server the shell runs on (``mail1``).
        tenant: the tenant name after ``Connect-ExchangeOnline``, else None.
        source_host: the lab host commands such as Send-MailMessage run from.
    """

    server: str
    tenant: str | None = None
    source_host: str | None = None


@dataclass(frozen=True)
class SendRequest:
    """Send-MailMessage's parameters, as the SMTP client needs them.

    ``source_host`` is the lab node the client connects from (None: the session's server);
    ``client_certificate`` names a PKI certificate the client presents during TLS;
    ``delivery_notification`` holds DeliveryNotificationOptions names (``OnFailure``, ``Delay``...)
    that become ``NOTIFY=`` on RCPT TO. Bcc recipients get RCPT TO and no header.
    """

    smtp_server: str
    port: int
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    delivery_notification: tuple[str, ...] = ()
    client_certificate: str | None = None
    source_host: str | None = None


def source_node(session: Session) -> str:
    """The lab host the console acts as: ``session.source_host``, else the session's server."""
    return session.source_host or session.server


#: SendResult.failure values besides "" (an SMTP reply, in ``reply``, failed the send).
FAILURE_CONNECT = "connect"      # nothing answered on smtp_server:port (refused, filtered, no route)
FAILURE_NO_STARTTLS = "starttls"  # -UseSsl but the server does not offer STARTTLS
FAILURE_TLS = "tls"              # the TLS handshake or the server certificate's validation failed
FAILURE_RESOLVE = "resolve"      # smtp_server is a name the source host's DNS cannot resolve


@dataclass(frozen=True)
class SendResult:
    """What the SMTP client saw: success, or what failed the send.

    Attributes:
        ok: the server accepted the message (250 after the data).
        reply: the server's complete reply that failed the send (``550 5.7.54 SMTP; Unable to
            relay recipient in non-accepted domain``); multi-line replies joined with ``\n``.
        failed_recipient: the RCPT TO address the reply refused, when it was a recipient.
        failure: "" when ``reply`` tells the failure, else one of the ``FAILURE_*`` constants.
        detail: free text for the non-reply failures (``untrusted root``, ``name mismatch``...).
        refused: every recipient RCPT TO refused, with the full reply, in envelope order. As
            System.Net.Mail does, the client still sends the message when at least one recipient
            was accepted (``ok`` is then True and ``refused`` says who did not get it); when
            every recipient was refused it sends nothing (``ok`` False).
    """

    ok: bool
    reply: str = ""
    failed_recipient: str | None = None
    failure: str = ""
    detail: str = ""
    refused: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DnsReply:
    """One answer of a DNS server to the console's host (nslookup).

    Attributes:
        server_address: the address of the server that answered (``100.100.100.2``).
        answer: the server's answer: rcode, records, authority, and whether it was authoritative
            (nslookup prints ``Non-authoritative answer:`` only when it was not).
    """

    server_address: str
    answer: Answer


class SmtpConversation(Protocol):
    """A raw TCP conversation with an SMTP server, as ``telnet host 25`` has it.

    Lines are text without CRLF. The host performs no SMTP logic: the server's replies are
    exactly what the lab's server process sent, and a server that closes the connection
    (after ``221``, or a ``421``/banned-IP refusal) makes :meth:`read_reply` return ``()``.
    """

    def read_reply(self) -> tuple[str, ...]:
        """The next complete reply (every line up to the one with a space after the code);
        ``()`` when the server closed the connection."""

    def send_line(self, line: str) -> None:
        """Send one line as the client typed it (CRLF appended). No reply is read."""

    def close(self) -> None:
        """Close the connection from the client side (idempotent)."""


@dataclass(frozen=True)
class PendingRequest:
    """A certificate request whose private key the host keeps (New-ExchangeCertificate -GenerateRequest)."""

    key_ref: str
    csr_pem: str
    thumbprint: str


@dataclass(frozen=True)
class ValidationResult:
    """Validate-OutboundConnector: one row per task (``Resolve``, ``Connect``, ``SMTP EHLO``, ``Send``)."""

    tasks: tuple[tuple[str, str, str], ...]  # (task, status, detail)

    @property
    def succeeded(self) -> bool:
        return all(status == "Succeeded" for _, status, _ in self.tasks)


class ConsoleHost(Protocol):
    """What the lab's cmdlets ask of the running lab (implemented by the runtime and :class:`WorldHost`)."""

    world: World
    session: Session
    typed: list[str]  # lines a script feeds as typed input; read_client_line takes from here first

    def clock_now(self) -> datetime:
        """Lab time now."""

    def advance_clock(self, seconds: float) -> datetime:
        """Move lab time forward, firing due retries, DSNs and expiries; returns the new time."""

    def transport_settings(self, server: str) -> TransportSettings:
        """The transport settings of a server (its epoch turns lab seconds into datetimes)."""

    def queues(self, server: str) -> Sequence[QueueView]:
        """Get-Queue of one server (node name)."""

    def messages(self, server: str) -> Sequence[MessageView]:
        """Get-Message of one server."""

    def retry_queue(self, server: str, identity: str, resubmit: bool = False) -> None:
        """Retry-Queue; raises KeyError for an unknown queue."""

    def tracking_events(self, server: str) -> Sequence[TrackingEvent]:
        """Message tracking events of one server, oldest first."""

    def message_trace(self, tenant: str) -> Sequence[Mapping[str, Any]]:
        """EXO message trace rows (Received, SenderAddress, RecipientAddress, Subject, Status, ...)."""

    def send_message(self, request: SendRequest) -> SendResult:
        """Send a message as an SMTP client would (Send-MailMessage)."""

    def generate_request(self, server: str, subject: Sequence[tuple[str, str]], domains: Sequence[str]
                         ) -> PendingRequest:
        """Create a key pair and a CSR for ``server``; the key stays with the host."""

    def complete_request(self, server: str, pem: bytes) -> tuple[str, CertFacts]:
        """Join a CA's answer to a pending key; returns (the pending entry's key name, facts).

        ValueError when no pending key of ``server`` matches.
        """

    def request_names(self, csr_pem: str) -> tuple[str, ...]:
        """The DNS names a CSR asks for (subject CN and SANs)."""

    def issue_certificate(self, authority: str, csr_pem: str) -> bytes:
        """The CA ``authority`` signs the request: leaf + chain PEM. KeyError for an unknown CA."""

    def validate_outbound_connector(self, tenant: str, connector: str, recipients: Sequence[str]
                                    ) -> ValidationResult:
        """EXO's connector validation, run against the live world."""

    def resolve(self, name: str, rtype: str, server: str | None = None) -> DnsReply:
        """Ask a DNS server one question from the console's lab host (:func:`source_node`).

        Args:
            name: the query name as typed (``xutonglin.com``; a PTR name ``4.3.2.1.in-addr.arpa``).
            rtype: ``A``, ``MX``, ``TXT``, ``PTR``, ``CNAME``, ``SOA``, ``NS`` or ``ANY``.
            server: an address or host name of the server to ask; None asks the resolver the
                source host is configured with (the lab's public DNS).

        Raises:
            TimeoutError: no DNS server answers at that address from the source host.
        """

    def open_smtp_session(self, address: str, port: int) -> SmtpConversation:
        """Open a TCP connection from the console's lab host to ``address:port`` (an IPv4 address;
        the caller resolved any name). Nothing is read yet: the greeting is the first
        :meth:`SmtpConversation.read_reply`.

        Raises:
            ConnectionError: nothing accepts the connection (refused, firewalled, no route).
        """

    def read_client_line(self) -> str | None:
        """The next line the user types to an interactive console program (telnet's client side).

        Takes the first line of ``typed`` (a script runner puts the script's following lines
        there, see :func:`lab.console.cmdlets.telnet.run_script`); when ``typed`` is empty an
        interactive console prompts, a non-interactive one returns None (end of input).
        """

    def read_file(self, path: str) -> bytes:
        """A file the administrator names (FileNotFoundError when absent)."""

    def write_file(self, path: str, data: bytes) -> None:
        """Write a file the administrator names."""


Sender = Callable[[SendRequest], SendResult]
Validator = Callable[[World, str, str, Sequence[str]], ValidationResult]
SmtpOpener = Callable[[World, str, str, int], SmtpConversation]  # (world, source node, address, port)


@dataclass
class WorldHost:
    """An in-memory :class:`ConsoleHost` over a World, transports and the real PKI adapter.

    Args:
        world: the starting world.
        session: where the shell is connected.
        start: lab time zero.
        transports: node name -> :class:`lab.core.exchange.queue.Transport`.
        pki: a :class:`lab.adapters.pki_world.Pki` (CAs that sign requests), or None.
        sender: performs Send-MailMessage, or None (then sending reports no mail service).
        validator: performs Validate-OutboundConnector, or None.
        tracking: node name -> tracking events (a list the driver appends to).
        traces: tenant name -> EXO message trace rows.
        files_dir: where named files live; None keeps them in memory.
        smtp_opener: opens raw SMTP conversations (telnet), or None (then telnet needs a running lab).
        typed: the lines a user will type to interactive programs (consumed from the front).

    DNS questions are answered from ``world.zones`` as the lab's public DNS server (the
    topology's ``dns.server`` node) answers them, when the network lets the source host reach
    it on port 53; no other server answers.
    """

    world: World
    session: Session
    start: datetime
    transports: dict[str, Any] = field(default_factory=dict)
    pki: Any = None
    sender: Sender | None = None
    validator: Validator | None = None
    tracking: dict[str, list[TrackingEvent]] = field(default_factory=dict)
    traces: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    files_dir: Path | None = None
    smtp_opener: SmtpOpener | None = None
    typed: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    _requests: Any = field(default_factory=lambda: _pending_requests())
    _files: dict[str, bytes] = field(default_factory=dict)

    # -- clock -----------------------------------------------------------------------------
    def clock_now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def advance_clock(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("lab time only moves forward")
        self.elapsed += seconds
        for transport in self.transports.values():
            transport.wakeup(self.elapsed)
        return self.clock_now()

    # -- transport ---------------------------------------------------------------------------
    def _transport(self, server: str) -> Any:
        if server not in self.transports:
            raise LabRuntimeError(f"the transport service of {server} is not running in this host")
        return self.transports[server]

    def transport_settings(self, server: str) -> TransportSettings:
        return self._transport(server).settings

    def queues(self, server: str) -> Sequence[QueueView]:
        return self._transport(server).queues()

    def messages(self, server: str) -> Sequence[MessageView]:
        return self._transport(server).messages()

    def retry_queue(self, server: str, identity: str, resubmit: bool = False) -> None:
        self._transport(server).retry_queue(identity, self.elapsed, resubmit)

    def tracking_events(self, server: str) -> Sequence[TrackingEvent]:
        return tuple(self.tracking.get(server, ()))

    def message_trace(self, tenant: str) -> Sequence[Mapping[str, Any]]:
        return tuple(self.traces.get(tenant, ()))

    def send_message(self, request: SendRequest) -> SendResult:
        if self.sender is None:
            raise LabRuntimeError("no mail service is running in this host (start the lab with `lab up`)")
        return self.sender(request)

    def validate_outbound_connector(self, tenant: str, connector: str, recipients: Sequence[str]
                                    ) -> ValidationResult:
        if self.validator is None:
            raise LabRuntimeError("connector validation needs a running lab (start it with `lab up`)")
        return self.validator(self.world, tenant, connector, recipients)

    # -- certificates -----------------------------------------------------------------------
    def generate_request(self, server: str, subject: Sequence[tuple[str, str]], domains: Sequence[str]
                         ) -> PendingRequest:
        return self._requests.generate(server, subject, domains)

    def complete_request(self, server: str, pem: bytes) -> tuple[str, CertFacts]:
        ref, issued = self._requests.complete(server, pem)
        return ref, issued.facts

    def request_names(self, csr_pem: str) -> tuple[str, ...]:
        from cryptography import x509
        from cryptography.x509.oid import NameOID
        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
        names = [str(a.value).lower() for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        try:
            sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names += [n.lower() for n in sans.get_values_for_type(x509.DNSName)]
        except x509.ExtensionNotFound:
            pass
        return tuple(dict.fromkeys(names))

    def issue_certificate(self, authority: str, csr_pem: str) -> bytes:
        if self.pki is None:
            raise KeyError(authority)
        ca = self.pki.authority(authority)
        return ca.sign_csr(csr_pem.encode("ascii"), not_before=self.clock_now() - timedelta(minutes=5),
                           not_after=self.clock_now() + timedelta(days=365))

    # -- DNS, raw SMTP, typed input --------------------------------------------------------------
    def _dns_address(self) -> str | None:
        spec = self.world.topology.dns
        if spec is None:
            return None
        addresses = self.world.network.addresses_of(spec.server)
        return addresses[0] if addresses else None

    def resolve(self, name: str, rtype: str, server: str | None = None) -> DnsReply:
        spec, own = self.world.topology.dns, self._dns_address()
        wanted = own if server is None else server.lower().rstrip(".")
        if spec is None or own is None or wanted not in (own, spec.server):
            raise TimeoutError(server or "no DNS server")
        route = self.world.network.connect(source_node(self.session), own, 53,
                                           listening=lambda node, port: node == spec.server and port == 53)
        if not route.ok:
            raise TimeoutError(own)
        return DnsReply(own, self.world.zones.answer(name, rtype))

    def open_smtp_session(self, address: str, port: int) -> SmtpConversation:
        if self.smtp_opener is None:
            raise LabRuntimeError("raw SMTP connections need a running lab (start it with `lab up`)")
        return self.smtp_opener(self.world, source_node(self.session), address, port)

    def read_client_line(self) -> str | None:
        return self.typed.pop(0) if self.typed else None

    # -- files --------------------------------------------------------------------------------
    def _path(self, path: str) -> Path:
        name = path.replace("\\", "/").split("/")[-1]
        assert self.files_dir is not None
        return self.files_dir / name

    def read_file(self, path: str) -> bytes:
        if self.files_dir is None:
            if path not in self._files:
                raise FileNotFoundError(path)
            return self._files[path]
        return self._path(path).read_bytes()

    def write_file(self, path: str, data: bytes) -> None:
        if self.files_dir is None:
            self._files[path] = data
            return
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self._path(path).write_bytes(data)


def _pending_requests():
    from lab.console.cert_requests import PendingRequests  # noqa: PLC0415 (it imports this module)

    return PendingRequests()
