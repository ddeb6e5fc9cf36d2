"""LiveHost: the :class:`~lab.console.host.ConsoleHost` of a running :class:`~lab.runtime.Lab`.

The console runs on a thread of its own and this host carries its requests onto the lab's
asyncio loop through a :class:`~lab.console.live_bridge.LoopBridge` (the threading rule is
documented there). Reads of immutable state (the World, lab time) are plain attribute reads;
anything that touches a service (assigning the world, queues, retries, sockets, the clock)
runs on the loop thread.

Where the console acts from: the session's server (``EX01``), the tenant after
``Connect-ExchangeOnline``, and ``session.source_host`` — the lab host whose loopback
address is the source of Send-MailMessage, telnet and nslookup
(:func:`~lab.console.host.source_node`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from lab.console import live_net
from lab.console.cert_requests import PendingRequests
from lab.console.host import (FAILURE_CONNECT, FAILURE_NO_STARTTLS, FAILURE_RESOLVE, FAILURE_TLS, DnsReply,
                              PendingRequest, SendRequest, SendResult, Session, SmtpConversation,
                              ValidationResult, source_node)
from lab.console.live_bridge import LoopBridge
from lab.core.errors import LabRuntimeError
from lab.core.exchange.queue_records import MessageView, QueueView, TrackingEvent, TransportSettings
from lab.core.tls import CertFacts
from lab.core.trace import Trace
from lab.core.world import World

if TYPE_CHECKING:
    from lab.runtime import Lab

#: Validate-OutboundConnector's step status -> the host contract's status words.
_STATUS = {"Success": "Succeeded"}


def default_server(world: World) -> str:
    """The Exchange server a new console session opens on: the hybrid organization's first, else the first."""
    hybrid = {t.hybrid_organization for t in world.tenants.values() if getattr(t, "hybrid_organization", None)}
    for node, state in world.servers.items():
        if state.org in hybrid:
            return node
    if not world.servers:
        raise LabRuntimeError("this lab has no Exchange server to open a shell on")
    return next(iter(world.servers))


class LiveHost:
    """The console's view of a running lab.

    Args:
        lab: the started lab.
        bridge: runs coroutines on the lab's loop (the console must run on another thread).
        session: where the console starts (default: :func:`default_server`).
        read_line: returns the next line the user types to an interactive program (telnet), or
            None at the end of input; the control channel asks its client for it.
    """

    def __init__(self, lab: "Lab", bridge: LoopBridge, session: Session | None = None,
                 read_line: Callable[[], str | None] | None = None):
        self.lab = lab
        self.bridge = bridge
        self.session = session or Session(server=default_server(lab.world))
        self.read_line = read_line
        self.typed: list[str] = []
        self._requests = PendingRequests()

    # -- the world ------------------------------------------------------------------------------
    @property
    def world(self) -> World:
        return self.lab.world

    @world.setter
    def world(self, new: World) -> None:
        if new is self.lab.world:
            return

        def apply() -> None:
            self.lab.world = new
        self.bridge.run_sync(apply)

    # -- clock ------------------------------------------------------------------------------------
    def clock_now(self) -> datetime:
        return self.lab.clock.now_datetime()

    def advance_clock(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("lab time only moves forward")
        self.bridge.call(lambda: self.lab.clock.advance(seconds))
        return self.clock_now()

    # -- transport --------------------------------------------------------------------------------
    def _service(self, server: str) -> Any:
        service = self.lab.exchange.get(server)
        if service is None:
            raise LabRuntimeError(f"the transport service of {server} is not running in this lab")
        return service

    def transport_settings(self, server: str) -> TransportSettings:
        return self._service(server).transport.settings

    def queues(self, server: str) -> Sequence[QueueView]:
        transport = self._service(server).transport
        return self.bridge.run_sync(transport.queues)

    def messages(self, server: str) -> Sequence[MessageView]:
        transport = self._service(server).transport
        return self.bridge.run_sync(transport.messages)

    def retry_queue(self, server: str, identity: str, resubmit: bool = False) -> None:
        service = self._service(server)

        def retry() -> None:
            service.transport.retry_queue(identity, self.lab.clock.now, resubmit)
            service.driver.kick()
        self.bridge.run_sync(retry)

    def tracking_events(self, server: str) -> Sequence[TrackingEvent]:
        if self.lab.tracking is None:
            return ()
        state = self.world.servers.get(server)
        names = {server.upper(), *((state.server.name.upper(), state.server.fqdn.upper()) if state else ())}
        return tuple(_event(e) for e in self.lab.tracking.read() if str(e.get("ServerHostname", "")).upper() in names)

    def message_trace(self, tenant: str) -> Sequence[Mapping[str, Any]]:
        spec = self.world.tenants.get(tenant)
        service = self.lab.eop.get(spec.eop) if spec else None
        if service is None:
            return ()
        return self.bridge.run_sync(lambda: trace_rows(service, spec))

    # -- mail ---------------------------------------------------------------------------------------
    def send_message(self, request: SendRequest) -> SendResult:
        source = request.source_host or source_node(self.session)
        try:
            return self.bridge.call(lambda: live_net.send_mail(self.lab, request, source))
        except live_net.NoStartTls as exc:
            return SendResult(False, failure=FAILURE_NO_STARTTLS, detail=str(exc))
        except live_net.TlsFailed as exc:
            return SendResult(False, failure=FAILURE_TLS, detail=exc.detail)
        except live_net.ConnectFailed as exc:
            failure = FAILURE_RESOLVE if exc.reason == live_net.NO_SUCH_HOST else FAILURE_CONNECT
            return SendResult(False, failure=failure, detail=exc.reason)

    def validate_outbound_connector(self, tenant: str, connector: str, recipients: Sequence[str]
                                    ) -> ValidationResult:
        from lab.adapters.eop import validate_outbound_connector
        spec = self.world.tenants[tenant]
        service = self.lab.eop.get(spec.eop)
        if service is None:
            raise LabRuntimeError(f"EOP ({spec.eop}) is not running in this lab")
        conn = next(c for c in spec.outbound_connectors if c.name.lower() == connector.lower())
        report = self.bridge.call(lambda: validate_outbound_connector(service, conn, tuple(recipients)))
        return ValidationResult(tuple((s.step, _STATUS.get(s.status, s.status), s.text) for s in report.steps))

    # -- DNS and raw SMTP ---------------------------------------------------------------------------
    def resolve(self, name: str, rtype: str, server: str | None = None) -> DnsReply:
        source = source_node(self.session)
        address, answer = self.bridge.call(lambda: live_net.ask_dns(self.lab, source, name, rtype, server))
        return DnsReply(address, answer)

    def open_smtp_session(self, address: str, port: int) -> SmtpConversation:
        source = source_node(self.session)
        try:
            session = self.bridge.call(lambda: live_net.RawSession.open(self.lab, source, address, port))
        except live_net.ConnectFailed as exc:
            raise ConnectionError(str(exc)) from None
        return LiveConversation(self.bridge, session)

    def read_client_line(self) -> str | None:
        """A script's following line first (``typed``), else the user's (the control channel asks
        its client), else None: the end of input."""
        if self.typed:
            return self.typed.pop(0)
        return self.read_line() if self.read_line is not None else None

    # -- certificates -------------------------------------------------------------------------------
    def generate_request(self, server: str, subject: Sequence[tuple[str, str]], domains: Sequence[str]
                         ) -> PendingRequest:
        return self._requests.generate(server, subject, domains)

    def complete_request(self, server: str, pem: bytes) -> tuple[str, CertFacts]:
        """Join the CA's answer to the pending key; the lab's services can then present it."""
        ref, issued = self._requests.complete(server, pem)
        self.lab.keys[ref] = issued
        return ref, issued.facts

    def request_names(self, csr_pem: str) -> tuple[str, ...]:
        from lab.console.host import WorldHost
        return WorldHost.request_names(self, csr_pem)  # type: ignore[arg-type]  # pure CSR parsing

    def issue_certificate(self, authority: str, csr_pem: str) -> bytes:
        if self.lab.pki is None:
            raise KeyError(authority)
        ca = self.lab.pki.authority(authority)
        now = self.clock_now()
        return ca.sign_csr(csr_pem.encode("ascii"), not_before=now - timedelta(minutes=5),
                           not_after=now + timedelta(days=365))

    # -- files ----------------------------------------------------------------------------------------
    def _path(self, path: str) -> Path:
        name = path.replace("\\", "/").split("/")[-1]
        if not name or name in (".", ".."):
            raise FileNotFoundError(path)
        return self.lab.state_dir / "files" / name

    def read_file(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def write_file(self, path: str, data: bytes) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class LiveConversation:
    """:class:`~lab.console.host.SmtpConversation` over a socket owned by the lab's loop."""

    def __init__(self, bridge: LoopBridge, session: "live_net.RawSession"):
        self.bridge, self.session = bridge, session

    def read_reply(self) -> tuple[str, ...]:
        return self.bridge.call(self.session.read_reply)

    def send_line(self, line: str) -> None:
        self.bridge.call(lambda: self.session.send_line(line))

    def close(self) -> None:
        self.bridge.call(self.session.close)


def _event(data: Mapping[str, Any]) -> TrackingEvent:
    """A tracking event back from its ``tracking.jsonl`` form."""
    return TrackingEvent(
        timestamp=float(data["LabTime"]), event_id=data["EventId"], source=data["Source"],
        server=data["ServerHostname"], internal_id=int(data["InternalMessageId"]), message_id=data["MessageId"],
        sender=data["Sender"], recipients=tuple(data["Recipients"]), recipient_status=tuple(data["RecipientStatus"]),
        connector_id=data.get("ConnectorId", ""), subject=data.get("MessageSubject", ""),
        total_bytes=int(data.get("TotalBytes", 0)), reference=data.get("Reference", ""),
        trace=Trace.from_dict(data["Trace"]) if data.get("Trace") else Trace(data["MessageId"]))


def trace_rows(service: Any, tenant: Any) -> list[dict[str, Any]]:
    """EXO message trace rows from what EOP accepted for ``tenant``.

    Status: ``Pending`` while a recipient waits in EOP's queue, else ``Delivered`` (EOP's
    service object keeps no per-recipient failure record to report ``Failed`` from).
    """
    from email.parser import BytesHeaderParser
    pending = {r.lower() for p in service.pending for r in p.item.recipients}
    rows: list[dict[str, Any]] = []
    for message in service.accepted:
        ours = [a for a in (message.mail_from, *message.rcpt_tos)
                if a and tenant.accepted_domain_for(a.rpartition("@")[2]) is not None]
        if not ours:
            continue
        headers = BytesHeaderParser().parsebytes(message.content)
        for rcpt in message.rcpt_tos:
            rows.append({"Received": message.received_at, "SenderAddress": message.mail_from,
                         "RecipientAddress": rcpt, "Subject": str(headers.get("Subject", "")),
                         "Status": "Pending" if rcpt.lower() in pending else "Delivered",
                         "MessageId": message.message_id, "FromIP": message.client_ip})
    return rows
