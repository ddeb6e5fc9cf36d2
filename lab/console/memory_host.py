"""MemoryHost: the :class:`~lab.console.host.ConsoleHost` of an in-memory lab (:class:`~lab.memory.MemoryLab`).

Every console line works here as on :class:`~lab.console.live_host.LiveHost`, with function
calls instead of sockets and no thread hop: assigning ``world`` applies it to the lab at once;
``Set-LabClock`` moves the virtual clock (firing due retries, DSNs, expiries and EOP's queue);
Get-Queue / Retry-Queue / tracking read the lab's transports; Send-MailMessage, ``telnet`` and
``nslookup`` act from :func:`~lab.console.host.source_node` through the network model and the
lab DNS zones; Validate-OutboundConnector runs EOP's probe in memory. The CA desk signs with
the real PKI adapter (:class:`lab.adapters.pki_world.Pki`): issuing is not on the send path,
and a certificate imported at run time joins the lab's trust table, judged against every store.
"""
from __future__ import annotations

import operator
from functools import cached_property
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping, Sequence

from lab.console import live_net
from lab.console.cert_requests import PendingRequests
from lab.console.host import (FAILURE_CONNECT, FAILURE_NO_STARTTLS, FAILURE_RESOLVE, FAILURE_TLS, DnsReply,
                              PendingRequest, SendRequest, SendResult, Session, SmtpConversation,
                              ValidationResult, WorldHost, source_node)
from lab.console.live_host import _STATUS, default_server, trace_rows
from lab.core.errors import LabRuntimeError
from lab.core.exchange.queue_records import MessageView, QueueView, TrackingEvent, TransportSettings
from lab.core.tls import CertFacts, tls_verdict
from lab.core.world import World
from lab.memory import MemoryLab
from lab.memory import probe as mprobe
from lab.memory.raw import RawConversation
from lab.memory.results import SendResult as MemorySend
from lab.memory.trust import INTERNET_STORE, org_store


def trust_store(world: World, host: str) -> str:
    """The trust store a lab host judges servers with: its organization's, else the Internet's."""
    org = world.topology.hosts[host].org
    return org_store(org) if org and org in world.topology.organizations else INTERNET_STORE


def judge_server_certificate(lab: MemoryLab, source: str, server: str, facts: CertFacts | None) -> str:
    """A Windows client at ``source`` judges the certificate ``server`` presented: trusted by its
    store, current at lab time, the name dialled ("" when it passes, else why not). It reads the lab
    as it is when asked (:meth:`MemoryHost.judge_server_certificate`, with no console to build)."""
    if facts is None:
        return "the server presented no certificate"
    expected = None if live_net._is_address(server) else server
    trusted = lab.trust.is_trusted(facts, trust_store(lab._world, source))
    verdict = tls_verdict(facts, trusted, lab._now_dt,
                          "DomainValidation" if expected else "CertificateValidation", expected)
    return "" if verdict.ok else f"{verdict.failure}: {verdict.detail}"


def console_result(sent: MemorySend) -> SendResult:
    """The in-memory client's result as System.Net.Mail reports it (the live host's mapping)."""
    if sent.accepted:
        return SendResult(True, "250", refused=sent.refused)
    if sent.failure == mprobe.NO_SUCH_HOST:
        return SendResult(False, failure=FAILURE_RESOLVE, detail=sent.failure)
    if sent.failure == mprobe.NOT_OFFERED:
        return SendResult(False, failure=FAILURE_NO_STARTTLS, detail="the server does not offer STARTTLS")
    if sent.failure == mprobe.TLS_FAILED:
        return SendResult(False, failure=FAILURE_TLS, detail=sent.detail)
    if sent.failure:
        return SendResult(False, failure=FAILURE_CONNECT, detail=sent.failure)
    if sent.refused and sent.reply == sent.refused[0][1]:  # every recipient refused
        return SendResult(False, sent.reply, sent.refused[0][0], refused=sent.refused)
    return SendResult(False, sent.reply)


class MemoryHost:
    """The console's view of a :class:`MemoryLab`.

    Args:
        lab: the in-memory lab.
        pki: the PKI whose CAs sign requests (``Submit-LabCertificateRequest``) and whose stores
            judge imported certificates; None: no CA desk.
        session: where the console starts (default: the hybrid organization's first server).
        files_dir: where named files live; None keeps them in memory.
    """

    def __init__(self, lab: MemoryLab, pki: Any = None, session: Session | None = None,
                 files_dir: Path | None = None):
        self.lab = lab
        self.pki = pki
        self.session = session or Session(server=default_server(lab._world))
        self.typed: list[str] = []
        self._files_dir = files_dir

    # -- the world and the clock ----------------------------------------------------------------------
    def _set_world(self, new: World) -> None:
        if new is not self.lab._world:
            self.lab.world = new

    # (read by most console commands: the getter is a C attrgetter of the lab's _world, what the
    # lab's own ``world`` property reads, without going through that property too)
    world = property(operator.attrgetter("lab._world"), _set_world,
                     doc="The lab's world; assigning a new World applies it to the lab at once.")

    def clock_now(self) -> datetime:
        return self.lab._now_dt

    def advance_clock(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("lab time only moves forward")
        self.lab.advance(seconds)
        return self.clock_now()

    # -- transport ------------------------------------------------------------------------------------
    def _transport(self, server: str) -> Any:
        service = self.lab.transports.get(server)
        if service is None:
            raise LabRuntimeError(f"the transport service of {server} is not running in this lab")
        return service.transport

    def transport_settings(self, server: str) -> TransportSettings:
        return self._transport(server).settings

    def queues(self, server: str) -> Sequence[QueueView]:
        return self._transport(server).queues()

    def messages(self, server: str) -> Sequence[MessageView]:
        return self._transport(server).messages()

    def retry_queue(self, server: str, identity: str, resubmit: bool = False) -> None:
        self._transport(server)
        self.lab.retry_queue(server, identity, resubmit)

    def tracking_events(self, server: str) -> Sequence[TrackingEvent]:
        state = self.lab._world.servers.get(server)
        names = {server.upper(), *((state.server.name.upper(), state.server.fqdn.upper()) if state else ())}
        return tuple(e for e in self.lab.events if e.server.upper() in names)

    def message_trace(self, tenant: str) -> Sequence[Mapping[str, Any]]:
        spec = self.lab._world.tenants.get(tenant)
        service = self.lab.eop.get(spec.eop) if spec else None
        return trace_rows(service, spec) if service is not None else ()

    # -- mail -----------------------------------------------------------------------------------------
    def send_message(self, request: SendRequest) -> SendResult:
        source = request.source_host or source_node(self.session)
        cert = None
        if request.use_ssl and request.client_certificate:
            cert = self.lab.trust.by_name_or_thumbprint(request.client_certificate)
            if cert is None:
                raise LabRuntimeError(f"no certificate {request.client_certificate!r} in the lab")
        view = SimpleNamespace(clock=SimpleNamespace(now_datetime=self.clock_now))  # what build_message reads
        data = live_net.build_message(view, request).as_bytes()  # type: ignore[arg-type]
        options = live_net.notify_options(request.delivery_notification)
        sent = self.lab.send(source, request.smtp_server, request.port, request.from_address,
                             [*request.to, *request.cc, *request.bcc], data, tls=request.use_ssl,
                             auth=(request.username, request.password or "") if request.username else None,
                             client_certificate=cert, helo=self.lab._world.topology.hosts[source].fqdn or source,
                             record=False, rcpt_params="".join(f" {o}" for o in options),
                             judge_server=lambda facts: self.judge_server_certificate(source, request.smtp_server, facts))
        return console_result(sent)

    def judge_server_certificate(self, source: str, server: str, facts: CertFacts | None) -> str:
        """A Windows client's judgement of the server certificate: trusted, current, the name dialled."""
        return judge_server_certificate(self.lab, source, server, facts)

    def validate_outbound_connector(self, tenant: str, connector: str, recipients: Sequence[str]
                                    ) -> ValidationResult:
        spec = self.lab._world.tenants[tenant]
        service = self.lab.eop.get(spec.eop)
        if service is None:
            raise LabRuntimeError(f"EOP ({spec.eop}) is not running in this lab")
        conn = next(c for c in spec.outbound_connectors if c.name.lower() == connector.lower())
        report = service.validate(conn, tuple(recipients))
        self.lab.run()
        return ValidationResult(tuple((s.step, _STATUS.get(s.status, s.status), s.text) for s in report.steps))

    # -- DNS and raw SMTP -----------------------------------------------------------------------------
    def resolve(self, name: str, rtype: str, server: str | None = None) -> DnsReply:
        world = self.lab._world
        spec = world.topology.dns
        if spec is None or not world.network.addresses_of(spec.server):
            raise TimeoutError("this lab has no DNS server")
        if server is None:
            address = world.network.addresses_of(spec.server)[0]
        else:
            found = mprobe.addresses_of(self.lab, server)
            if not found:
                raise TimeoutError(server)
            address = found[0]
        # (only the DNS server listens, on 53: given as its one (node, port) pair, the network model
        # remembers the route, as it does the switchboard's, instead of walking it for every query)
        route = world.network.connect(source_node(self.session), address, 53,
                                      listening=frozenset(((spec.server, 53),)))
        if not route.ok:
            raise TimeoutError(address)
        return DnsReply(address, world.zones.answer(name, rtype))

    def open_smtp_session(self, address: str, port: int) -> SmtpConversation:
        opened = mprobe.open_raw(self.lab, source_node(self.session), address, port)
        if isinstance(opened, str):
            raise ConnectionError(f"cannot connect to {address}:{port}: {opened}")
        return _Conversation(self.lab, opened[0])

    def read_client_line(self) -> str | None:
        return self.typed.pop(0) if self.typed else None

    # -- certificates ---------------------------------------------------------------------------------
    @cached_property
    def _requests(self) -> PendingRequests:
        """The keys of pending certificate requests (made when a console first generates or completes
        one: most consoles never do)."""
        return PendingRequests()

    def generate_request(self, server: str, subject: Sequence[tuple[str, str]], domains: Sequence[str]
                         ) -> PendingRequest:
        return self._requests.generate(server, subject, domains)

    def complete_request(self, server: str, pem: bytes) -> tuple[str, CertFacts]:
        """Join the CA's answer to the pending key; the certificate joins the lab's trust table."""
        ref, issued = self._requests.complete(server, pem)
        stores = [s for s in (self.pki.stores if self.pki is not None else ()) if self.pki.verify(issued.cert, s)]
        self.lab.trust = self.lab.trust.learn(ref, issued.facts, stores)
        return ref, issued.facts

    def request_names(self, csr_pem: str) -> tuple[str, ...]:
        return WorldHost.request_names(self, csr_pem)  # type: ignore[arg-type]  # pure CSR parsing

    def issue_certificate(self, authority: str, csr_pem: str) -> bytes:
        if self.pki is None:
            raise KeyError(authority)
        now = self.clock_now()
        return self.pki.authority(authority).sign_csr(csr_pem.encode("ascii"), not_before=now - timedelta(minutes=5),
                                                      not_after=now + timedelta(days=365))

    # -- files ----------------------------------------------------------------------------------------
    @cached_property
    def _files(self) -> WorldHost:
        """The file store (a WorldHost used for its files alone, made when a console first reads or
        writes a file: most consoles never do)."""
        return WorldHost(self.lab._world, self.session, self.lab.start, files_dir=self._files_dir)

    def read_file(self, path: str) -> bytes:
        return self._files.read_file(path)

    def write_file(self, path: str, data: bytes) -> None:
        self._files.write_file(path, data)


class _Conversation:
    """A raw conversation whose every line settles the lab (deliveries a DATA caused run at once)."""

    def __init__(self, lab: MemoryLab, raw: RawConversation):
        self.lab, self.raw = lab, raw

    def read_reply(self) -> tuple[str, ...]:
        return self.raw.read_reply()

    def send_line(self, line: str) -> None:
        self.raw.send_line(line)
        self.lab.run()

    def close(self) -> None:
        self.raw.close()
