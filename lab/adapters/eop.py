"""EOP live: the MX endpoint and smtp.office365.com on loopback, and EOP's outbound delivery.

:func:`start_eop` puts one listener per ``(virtual_ip, loopback_ip, port)`` on the running
loop; each connection runs the receive-side session machine
(:class:`lab.core.exchange.session.ReceiveSession`) with EOP's policy
(:class:`lab.core.eop.front_door.EopPolicy`). STARTTLS presents the endpoint's public
certificate and asks for a client certificate (``CERT_OPTIONAL``); the certificate is judged
against the INTERNET trust store here (:class:`~lab.core.tls.ChainFacts`), at lab time in the core.

Accepted mail goes to :class:`EopService`: tenant mailboxes get a Maildir under
``state_dir/mailboxes``; everything else waits in EOP's queue (:mod:`lab.core.eop.queue`) and
is sent with aiosmtplib from EOP's loopback address, presenting the ``eop-mx`` certificate as
client certificate, under the outbound connector's TlsSettings
(:func:`lab.core.eop.routing.outbound_tls`). :func:`validate_outbound_connector` drives
Validate-OutboundConnector with the same probe.
"""
from __future__ import annotations

import asyncio
import itertools
import ssl
from asyncio import sslproto
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Sequence

from lab.adapters._lazy import lazy

aiosmtplib = lazy("aiosmtplib")

from lab.adapters.maildir import Maildirs
from lab.adapters.pki import IssuedCertificate
from lab.adapters.pki_world import Pki
from lab.adapters.smtp_server import LabSMTP, Listener, serve
from lab.adapters.tls import client_context, failure_reason, peer_facts, server_context
from lab.core.catalogue import Reply
from lab.core.eop import policy as P
from lab.core.catalogue import eop as cat
from lab.core.eop import headers as H
from lab.core.eop import queue as Q
from lab.core.eop import routing as R
from lab.core.eop import views as V
from lab.core.eop.front_door import EopPolicy
from lab.core.eop.model import OutboundConnector
from lab.core.eop.validation import Probe, ValidationReport, judge
from lab.core.errors import LabRuntimeError
from lab.core.exchange.dsn import FAILED, DsnRecipient, build_dsn
from lab.core.exchange.headers import TlsFacts, header_value
from lab.core.exchange.outcomes import Delivered, Permanent, Transient
from lab.core.exchange.session import AcceptedMessage, ReceiveSession, SubmitResult

#: host name -> its virtual IPv4 addresses ((), when it does not resolve).
ResolveHost = Callable[[str], Awaitable[Sequence[str]]]
#: domain -> MX host names in preference order (implicit MX included; () when none).
ResolveMx = Callable[[str], Awaitable[Sequence[str]]]
#: (virtual ip, virtual port) -> (loopback ip, live port), or None when nothing answers there.
Locate = Callable[[str, int], "tuple[str, int] | None"]
INTERNET_STORE = "internet"


@dataclass(frozen=True)
class Outbound:
    """How EOP reaches the rest of the lab.

    Attributes:
        resolve_host: A lookups through the lab DNS.
        resolve_mx: MX lookups through the lab DNS.
        locate: virtual endpoint -> loopback endpoint.
        source_ip: EOP's loopback address for outgoing connections.
        ehlo_name: the name EOP sends in EHLO.
        timeout: seconds per SMTP step.
    """

    resolve_host: ResolveHost
    resolve_mx: ResolveMx
    locate: Locate
    source_ip: str
    ehlo_name: str
    timeout: float = 10.0


class _EopSMTP(LabSMTP):
    """LabSMTP whose TLS facts carry the client certificate judged against the Internet store."""

    def __init__(self, *args: object, pki: Pki, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pki = pki

    async def _start_tls(self) -> None:
        assert self.core is not None and self.tls_context is not None
        waiter = self.loop.create_future()
        self._tls_protocol = sslproto.SSLProtocol(self.loop, self, self.tls_context, waiter, server_side=True)
        self._original_transport = self.transport
        self._original_transport.set_protocol(self._tls_protocol)
        self.transport = self._tls_protocol._app_transport
        self._tls_protocol.connection_made(self._original_transport)
        try:
            await waiter
        except (ssl.SSLError, ConnectionError, OSError):
            await self._act(self.core.tls_failed())
            return
        ssl_object = self.transport.get_extra_info("ssl_object")
        facts, der = peer_facts(ssl_object)
        peer = self._pki.chain_facts(der, INTERNET_STORE) if der else None
        names = tuple(n for n in (*facts.san_dns, facts.subject_cn) if n) if facts else ()
        cipher = ssl_object.cipher()[0] if ssl_object is not None and ssl_object.cipher() else ""
        version = ssl_object.version() if ssl_object is not None else ""
        await self._act(self.core.tls_established(TlsFacts(version or "", cipher, names, peer), now=self._clock_now()))


@dataclass
class _Pending:
    item: Q.QueuedItem
    hop: R.NextHop
    data: bytes
    message_id: str = ""
    subject: str = ""
    rows: list[int] = field(default_factory=list)  # indexes into EopService.trace

    def entry(self) -> V.QueuedEntry:
        return V.QueuedEntry(self.item, self.hop, self.subject, self.message_id, len(self.data))


@dataclass
class EopService:
    """The running EOP: listeners, mailboxes and the outbound queue.

    Attributes:
        world: the EOP node and tenants.
        listeners: the running listeners.
        maildirs: tenant mailboxes.
        outbound: how to reach next hops.
        clock_now: the lab clock.
        pki: the lab PKI (server certificates are judged against its Internet store).
        client_cert: the certificate EOP presents outbound.
        accepted: every message accepted, in order (for observers and tests).
        events: ``(item id, status, reasons)`` of every delivery attempt.
        pending: the queue (see :meth:`queues`, :meth:`messages`).
        trace: one :class:`~lab.core.eop.views.TraceRow` per recipient accepted (see :meth:`message_trace`).
        spawn: runs a delivery coroutine as a lab task (``LabClock.spawn``); None: a plain asyncio task.
    """

    world: P.EopWorld
    maildirs: Maildirs
    outbound: Outbound
    clock_now: Callable[[], datetime]
    pki: Pki
    client_cert: IssuedCertificate | None = None
    listeners: list[Listener] = field(default_factory=list)
    accepted: list[AcceptedMessage] = field(default_factory=list)
    events: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    trace: list[V.TraceRow] = field(default_factory=list)
    spawn: Callable[[Coroutine[Any, Any, Any]], Any] | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _tasks: set[asyncio.Task] = field(default_factory=set)
    _busy: set[int] = field(default_factory=set)

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
        """Get-MessageTrace: a row per recipient of every message whose sender or recipient is in
        ``tenant``'s domains (every row when ``tenant`` is None)."""
        if tenant is None:
            return tuple(self.trace)
        t = next((x for x in self.world.tenants if x.name == tenant), None)
        if t is None:
            return ()
        return tuple(r for r in self.trace if any(a and t.is_accepted(a.rpartition("@")[2])
                                                 for a in (r.sender_address, r.recipient_address)))

    # --- the sink -------------------------------------------------------------------------
    def submit(self, message: AcceptedMessage) -> SubmitResult:
        """Takes an accepted message: mailboxes at once, other hops into the queue."""
        internal_id = next(self._ids)
        self.accepted.append(message)
        self._route(message.mail_from, message.rcpt_tos, message.content, message.client_ip)
        self._kick()
        return SubmitResult(message.message_id, internal_id)

    def _kick(self) -> None:
        """Attempt due items now, as a lab task when the lab gave a ``spawn`` (its clock then waits for it)."""
        task = self.spawn(self.run_due()) if self.spawn else asyncio.get_running_loop().create_task(self.run_due())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _tenant_for(self, address: str):
        return self.world.tenant_for(address.rpartition("@")[2]) or (self.world.tenants[0] if self.world.tenants
                                                                     else None)

    def _row(self, mail_from: str, rcpt: str, data: bytes, from_ip: str, status: str, detail: str | None = None,
             to_ip: str | None = None) -> int:
        now = self.clock_now()
        self.trace.append(V.TraceRow(P.ticks_id(now, len(self.trace)).lower(), now, mail_from, rcpt,
                                     header_value(data, "Subject") or "", status, from_ip,
                                     header_value(data, "Message-ID") or "", len(data), to_ip, detail))
        return len(self.trace) - 1

    def _route(self, mail_from: str, recipients: Sequence[str], data: bytes, from_ip: str = "") -> None:
        now = self.clock_now()
        groups: dict[str, tuple[R.NextHop, list[str], list[int]]] = {}
        for rcpt in recipients:
            tenant = self._tenant_for(rcpt)
            if tenant is None:
                continue
            hop: R.NextHop = R.route_recipient(tenant, rcpt).result
            if hop.kind == R.TO_MAILBOX:
                self.maildirs.deliver(hop.mailbox or rcpt, H.mailbox_hop(
                    data, eop_host=self.host, exo_host=self.world.node.submission_host, now=now))
                self._row(mail_from, rcpt, data, from_ip, cat.TRACE_DELIVERED.text)
                continue
            if hop.kind == R.NOT_FOUND:
                self._row(mail_from, rcpt, data, from_ip, cat.TRACE_FAILED.text,
                          cat.S550_5_1_10_RECIPIENT_NOT_FOUND.line())
                continue
            group = groups.setdefault(hop.queue_key + "|" + hop.domain, (hop, [], []))
            group[1].append(hop.address)
            group[2].append(self._row(mail_from, rcpt, data, from_ip, cat.TRACE_PENDING.text))
        for hop, rcpts, rows in groups.values():
            cloud = bool(hop.connector and hop.connector.cloud_services_mail_enabled)
            item = Q.enqueue(next(self._ids), mail_from, tuple(rcpts), hop.queue_key, now.timestamp())
            self.pending.append(_Pending(item, hop, H.for_next_hop(data, cloud_services_mail=cloud),
                                         header_value(data, "Message-ID") or "", header_value(data, "Subject") or "",
                                         rows))

    # --- the queue --------------------------------------------------------------------------
    async def run_due(self) -> None:
        """Attempt every due item once (call again when lab time moves)."""
        now = self.clock_now()
        due_ids = {i.id for i in Q.due(tuple(p.item for p in self.pending), now.timestamp())} - self._busy
        self._busy |= due_ids
        try:
            for entry in [p for p in self.pending if p.item.id in due_ids]:
                await self._attempt(entry)
        finally:
            self._busy -= due_ids

    async def _attempt(self, entry: _Pending) -> None:
        tenant = self._tenant_for(entry.item.recipients[0])
        if tenant is not None:
            entry.hop = R.refresh(tenant, entry.hop)
        outcome = await self.deliver(entry.hop, entry.item.mail_from, entry.item.recipients, entry.data)
        result = Q.after_attempt(entry.item, outcome, self.clock_now().timestamp())
        self.events.append((entry.item.id, result.status, result.reasons))
        to_ip = outcome.endpoint.rpartition(":")[0] if isinstance(outcome, Delivered) else None
        for n in entry.rows:
            self.trace[n] = V.after_attempt(self.trace[n], result, to_ip)
        if result.status == Q.RETRY:
            entry.item = result.item
            return
        self.pending.remove(entry)
        if result.status == Q.FAILED and result.ndr is not None and entry.item.mail_from:
            self._bounce(entry, result.ndr)

    def _bounce(self, entry: _Pending, reply: Reply) -> None:
        host = self.host
        now = self.clock_now()
        ndr = build_dsn(FAILED, entry.data, entry.item.mail_from,
                        [DsnRecipient(r, reply) for r in entry.item.recipients], host,
                        f"postmaster@{self.world.tenants[0].initial_domain}" if self.world.tenants else "postmaster",
                        now, f"<{P.ticks_id(now, entry.item.id)}@{host}>")
        self._route("", (entry.item.mail_from,), ndr)

    # --- one delivery attempt ----------------------------------------------------------------
    async def _targets(self, hop: R.NextHop) -> list[tuple[str, str]]:
        names = list(hop.hosts) or list(await self.outbound.resolve_mx(hop.domain))
        out: list[tuple[str, str]] = []
        for name in names:
            for ip in await self.outbound.resolve_host(name):
                out.append((name, ip))
        return out

    async def deliver(self, hop: R.NextHop, mail_from: str, recipients: Sequence[str], data: bytes) \
            -> Delivered | Transient | Permanent:
        """One attempt: resolve, connect, EHLO, TLS under the hop's TlsSettings, send."""
        targets = await self._targets(hop)
        if not targets:
            return R.connection_failure(R.DNS_FAILED)
        outcome: Delivered | Transient | Permanent = R.connection_failure(R.REFUSED)
        for name, ip in targets:
            probe, outcome = await self.session(hop, name, ip, mail_from, tuple(recipients), data)
            if not isinstance(outcome, Transient) or probe.connect_failure is None:
                return outcome
        return outcome

    async def session(self, hop: R.NextHop, name: str, ip: str, mail_from: str, recipients: tuple[str, ...],
                      data: bytes) -> tuple[Probe, Delivered | Transient | Permanent]:
        """One SMTP session to ``name`` at ``ip``:25; returns what was observed and the outcome."""
        located = self.outbound.locate(ip, 25)
        if located is None:
            return Probe(name, (ip,), ip, 25, connect_failure=R.TIMEOUT), R.connection_failure(R.TIMEOUT)
        loop_ip, loop_port = located
        if not loop_ip.startswith("127."):
            raise LabRuntimeError(f"refusing to connect to {loop_ip}: the lab connects only inside 127.0.0.0/8")
        smtp = aiosmtplib.SMTP(hostname=loop_ip, port=loop_port, source_address=(self.outbound.source_ip, 0),
                               local_hostname=self.outbound.ehlo_name, start_tls=False,
                               timeout=self.outbound.timeout)
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError, OSError):
            return Probe(name, (ip,), ip, 25, connect_failure=R.REFUSED), R.connection_failure(R.REFUSED)
        now = self.clock_now()
        suffix = R.attempt_suffix(name, ip, 25, P.internal_host(self.world.node, P.MX), P.iso_ms(now),
                                  P.ticks_id(now))
        try:
            return await self._converse(smtp, hop, name, ip, mail_from, recipients, data, suffix)
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError, asyncio.TimeoutError):
            return Probe(name, (ip,), ip, 25, connect_failure=R.CLOSED), R.connection_failure(R.CLOSED)
        finally:
            smtp.close()

    async def _converse(self, smtp: aiosmtplib.SMTP, hop: R.NextHop, name: str, ip: str, mail_from: str,
                        recipients: tuple[str, ...], data: bytes, suffix: str) \
            -> tuple[Probe, Delivered | Transient | Permanent]:
        ehlo = await smtp.ehlo()
        first = f"{ehlo.code} {ehlo.message.splitlines()[0] if ehlo.message else ''}"
        probe = Probe(name, (ip,), ip, 25, ehlo_reply=first, ehlo_ok=ehlo.code == 250,
                      starttls_offered=smtp.supports_extension("starttls"))
        if not probe.ehlo_ok:
            return probe, Transient(Reply(ehlo.code, None, ehlo.message), first)
        if probe.starttls_offered:
            try:
                await smtp.starttls(tls_context=client_context(self.client_cert), server_hostname=name)
                facts, der = peer_facts(smtp.get_transport_info("ssl_object"))
                chain = self.pki.chain_facts(der, INTERNET_STORE) if der else None
                probe = _with(probe, cert=facts, trusted=bool(chain and chain.trusted))
            except (aiosmtplib.SMTPException, ssl.SSLError, ConnectionError) as exc:
                probe = _with(probe, tls_error=failure_reason(exc))
        verdict = R.outbound_tls(hop, name, probe.starttls_offered, probe.cert, probe.trusted, self.clock_now(),
                                 suffix, probe.tls_error)
        if verdict.result is not None:
            return probe, verdict.result
        if probe.tls_error:
            return probe, Transient(R.connection_failure(R.CLOSED).last_error, probe.tls_error)
        replies: list[tuple[str, str]] = []
        code, text = await smtp.mail(mail_from)
        if code != 250:
            return probe, _remote(code, text)
        accepted = []
        for rcpt in recipients:
            response = await smtp.execute_command(b"RCPT", f"TO:<{rcpt}>".encode())
            replies.append((rcpt, f"{response.code} {response.message}"))
            if response.code in (250, 251):
                accepted.append(rcpt)
        probe = _with(probe, send_replies=tuple(replies))
        if not accepted:
            code, text = replies[0][1].split(" ", 1)[0], replies[0][1].split(" ", 1)[-1]
            return probe, _remote(int(code), text)
        response = await smtp.data(data)
        if response.code != 250:
            return probe, _remote(response.code, response.message)
        await smtp.quit()
        return probe, Delivered(f"{response.code} {response.message}", f"{ip}:25")

    async def close(self) -> None:
        """Stop listening and cancel running deliveries."""
        for task in list(self._tasks):
            task.cancel()
        for listener in self.listeners:
            await listener.close()
        self.listeners.clear()


def _with(probe: Probe, **changes: object) -> Probe:
    return replace(probe, **changes)


def _remote(code: int, text: str) -> Transient | Permanent:
    enhanced, _, rest = text.partition(" ")
    reply = Reply(code, enhanced, rest) if enhanced[:1].isdigit() and "." in enhanced else Reply(code, None, text)
    return Permanent(reply, f"remote replied {reply}") if code >= 500 else Transient(reply, reply.line())


async def start_eop(world: P.EopWorld, *, listen: Sequence[tuple[str, str, int]], pki: Pki,
                    certificates: dict[str, IssuedCertificate], state_dir: str | Path, outbound: Outbound,
                    resolve_peer: Callable[[str], str | None], clock_now: Callable[[], datetime],
                    client_anchors_pem: bytes = b"", idle_timeout: float = 600.0,
                    spawn: Callable[[Coroutine[Any, Any, Any]], Any] | None = None,
                    more_client_anchors: Callable[[], bytes] | None = None) -> EopService:
    """Start EOP's endpoints on loopback.

    Args:
        world: the EOP node and its tenants.
        listen: ``(virtual_ip, loopback_ip, port)`` per listener: the node's MX address on 25,
            its submission address on 25 and 587 (live ports, e.g. 2525/2587; 0 picks a free one).
            The endpoint (``mx``/``submission``) follows from the virtual address.
        pki: the lab PKI (client and server certificates are judged against its ``internet`` store).
        certificates: ``{"mx": eop-mx certificate, "submission": eop-submission certificate}``.
        state_dir: the lab state dir (Maildirs under ``mailboxes/``).
        outbound: how EOP reaches next hops.
        resolve_peer: peer loopback IP -> the virtual source address EOP sees (after NAT).
        clock_now: the lab clock.
        client_anchors_pem: extra certificates (e.g. self-signed ones) a client may present and
            still reach the SMTP layer; every lab root is loaded already.
        idle_timeout: seconds of client silence before the session is dropped.
        spawn: runs EOP's delivery attempts as lab tasks (``LabClock.spawn``), or None.
        more_client_anchors: asked at each connection for more certificates a client may present
            (self-signed ones made while the lab runs), so that EOP, like the real one, reads any
            client certificate and judges it in the application rather than failing the handshake.

    Returns:
        The running :class:`EopService` (``await service.close()`` to stop).

    Raises:
        LabRuntimeError: a non-loopback address, a port in use, or an address that is neither
            the MX nor the submission address of the node.
    """
    service = EopService(world, Maildirs(state_dir), outbound, clock_now, pki, certificates.get(P.MX), spawn=spawn)
    anchors = pki.anchors_pem() + client_anchors_pem
    seq = itertools.count()
    try:
        for virtual_ip, loopback_ip, port in listen:
            endpoint = {world.node.mx_ip: P.MX, world.node.submission_ip: P.SUBMISSION}.get(virtual_ip)
            if endpoint is None:
                raise LabRuntimeError(f"{virtual_ip} is neither the MX nor the submission address of {world.node.name}")
            virtual_port = 587 if port in (587, 2587) else 25

            def make_session(peer: str, endpoint: str = endpoint, virtual_ip: str = virtual_ip,
                             virtual_port: int = virtual_port):
                client_ip = resolve_peer(peer)
                if client_ip is None:  # the peer cannot reach this address
                    return None
                extra = more_client_anchors() if more_client_anchors else b""
                context = server_context(certificates[endpoint], anchors + extra)
                policy = EopPolicy(service.world, endpoint, next(seq))
                session = ReceiveSession(policy, service, client_ip=client_ip, local_ip=virtual_ip,
                                         local_port=virtual_port, now=clock_now(),
                                         new_guid=lambda: P.ticks_id(clock_now(), next(seq)).lower())
                return session, context

            service.listeners.append(await serve(loopback_ip, port, lambda m=make_session: _EopSMTP(
                m, clock_now, idle_timeout=idle_timeout, hostname=P.banner_host(world.node, P.MX), pki=pki)))
    except BaseException:
        await service.close()
        raise
    return service


async def validate_outbound_connector(service: EopService, connector: OutboundConnector,
                                      recipients: Sequence[str]) -> ValidationReport:
    """Validate-OutboundConnector -Identity <connector> -Recipients <recipients> (live).

    Resolves the first smart host (or the MX of the first recipient's domain), connects,
    EHLOs, negotiates TLS, and sends a test message; :func:`lab.core.eop.validation.judge`
    names the first failing step with EOP's text.
    """
    rcpts = tuple(recipients)
    domain = rcpts[0].rpartition("@")[2] if rcpts else ""
    hop = R.NextHop(R.VIA_CONNECTOR, rcpts[0] if rcpts else "", connector=connector,
                    hosts=() if connector.use_mx_record else connector.smart_hosts, domain=domain,
                    tls_mode=connector.tls_settings, tls_required=connector.tls_settings is not None,
                    tls_domain=connector.tls_domain)
    now = service.clock_now()
    names = list(hop.hosts) or list(await service.outbound.resolve_mx(domain))
    name = names[0] if names else domain
    addresses = tuple(await service.outbound.resolve_host(name)) if names else ()
    probe = Probe(name, addresses)
    if addresses and connector.enabled:
        sender = f"postmaster@{service.world.tenants[0].initial_domain}" if service.world.tenants else ""
        body = (f"From: {sender}\r\nTo: {', '.join(rcpts)}\r\nSubject: Connector validation test\r\n\r\n"
                "This is a test message sent by connector validation.\r\n").encode()
        probe, _ = await service.session(hop, name, addresses[0], sender, rcpts, body)
        probe = _with(probe, addresses=addresses)
    return judge(connector, rcpts, probe, now, P.internal_host(service.world.node, P.MX), P.iso_ms(now),
                 P.ticks_id(now))
