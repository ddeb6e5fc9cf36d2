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

Every queue item is in ``state_dir/queue/<node>/`` (:class:`lab.adapters.spool.Spool`,
:class:`lab.core.eop.service.SpooledItem`) before :meth:`EopService.submit` returns (so before
the 250), rewritten after each attempt, removed once delivered or bounced, and taken back by
:func:`start_eop`. An attempt that raises is a transient failure of that item (logged), never
the end of the queue; :meth:`EopService.wait_for_work` sleeps until the next item is due or
new mail arrives.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import math
import ssl
from asyncio import sslproto
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Sequence

from lab.adapters._lazy import lazy

aiosmtplib = lazy("aiosmtplib")

from lab.adapters.maildir import Maildirs
from lab.adapters.pki import IssuedCertificate
from lab.adapters.pki_world import Pki
from lab.adapters.smtp_server import LabSMTP, Listener, serve
from lab.adapters.spool import Spool
from lab.adapters.tls import client_context, failure_reason, peer_facts, server_context
from lab.core.eop import outbound as OB
from lab.core.eop import policy as P
from lab.core.eop import routing as R
from lab.core.eop.front_door import EopPolicy
from lab.core.eop.model import OutboundConnector
from lab.core.eop.service import EopState, EopStateHolder, MailboxDelivery, Pending, SpooledItem
from lab.core.eop.validation import Probe, ValidationReport
from lab.core.errors import LabRuntimeError
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.session import AcceptedMessage, ReceiveSession, SubmitResult

#: host name -> its virtual IPv4 addresses ((), when it does not resolve).
ResolveHost = Callable[[str], Awaitable[Sequence[str]]]
#: domain -> MX host names in preference order (implicit MX included; () when none).
ResolveMx = Callable[[str], Awaitable[Sequence[str]]]
#: (virtual ip, virtual port) -> (loopback ip, live port), or the network model's failure name
#: (``Refused``, ``Timeout``, ``NoRoute``); None: nothing answers there (a timeout).
Locate = Callable[[str, int], "tuple[str, int] | str | None"]
Outcome = OB.Outcome
INTERNET_STORE = "internet"
log = logging.getLogger(__name__)


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


class EopService(EopStateHolder):
    """The running EOP: listeners, mailboxes and the outbound queue around the core's :class:`EopState`.

    Attributes:
        state: accepted mail, the queue, attempts and the trace (every decision is the core's).
        maildirs: tenant mailboxes.
        outbound: how to reach next hops.
        clock_now: the lab clock.
        pki: the lab PKI (server certificates are judged against its Internet store).
        client_cert: the certificate EOP presents outbound.
        listeners: the running listeners.
        spawn: runs a delivery coroutine as a lab task (``LabClock.spawn``); None: a plain asyncio task.
        spool: the queue's durable copy (``state_dir/queue/<node>/``); None: memory only.
    """

    def __init__(self, world: P.EopWorld, maildirs: Maildirs, outbound: Outbound, clock_now: Callable[[], datetime],
                 pki: Pki, client_cert: IssuedCertificate | None = None,
                 spawn: Callable[[Coroutine[Any, Any, Any]], Any] | None = None, spool: Spool | None = None):
        self.state = EopState(world)
        self.maildirs, self.outbound, self.clock_now, self.pki = maildirs, outbound, clock_now, pki
        self.client_cert, self.spawn, self.spool = client_cert, spawn, spool
        self.listeners: list[Listener] = []
        self._tasks: set[asyncio.Task] = set()
        self._busy: set[int] = set()
        self._signal: asyncio.Future | None = None

    # --- the state dir ------------------------------------------------------------------------
    def restore(self) -> int:
        """Take back the queue items of the state dir (after a restart); returns how many."""
        if self.spool is None:
            return 0
        return len(self.state.restore(self.spool.load(SpooledItem)))

    def _persist(self, before: set[int], changed: Pending | None = None) -> None:
        """Bring the spool in line with the queue: new items written (before the 250 of their
        message), ``changed`` rewritten, finished ones removed (after their replacements, e.g. an
        NDR, are on disk)."""
        if self.spool is None:
            return
        now = {p.item.id: p for p in self.state.pending}
        for item_id, entry in now.items():
            if item_id not in before:
                self.spool.write(self.state.record(entry))
        if changed is not None and changed.item.id in now and changed.item.id in before:
            self.spool.rewrite(self.state.record(changed))
        for item_id in before - now.keys():
            self.spool.remove(item_id)

    def _ids(self) -> set[int]:
        return {p.item.id for p in self.state.pending}

    # --- the sink -------------------------------------------------------------------------
    def submit(self, message: AcceptedMessage) -> SubmitResult:
        """Takes an accepted message: mailboxes at once, other hops into the queue (on disk when
        this returns)."""
        before = self._ids()
        result, deliveries = self.state.accept(message, self.clock_now())
        self._persist(before)
        self._deliver_local(deliveries)
        self._kick()
        self._wake()
        return result

    def _deliver_local(self, deliveries: Sequence[MailboxDelivery]) -> None:
        for d in deliveries:
            self.maildirs.deliver(d.address, d.data)

    def _kick(self) -> None:
        """Attempt due items now, as a lab task when the lab gave a ``spawn`` (its clock then waits for it)."""
        task = self.spawn(self.run_due()) if self.spawn else asyncio.get_running_loop().create_task(self.run_due())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the queue --------------------------------------------------------------------------
    async def run_due(self) -> None:
        """Attempt every due item once (call again when lab time moves). An attempt that raises
        is a transient failure of its item (``450 4.4.318``, logged): the item is retried."""
        entries = self.state.due(self.clock_now(), self._busy)
        ids = {e.item.id for e in entries}
        self._busy |= ids
        try:
            for entry in entries:
                try:
                    outcome = await self.deliver(entry.hop, entry.item.mail_from, entry.item.recipients, entry.data)
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - any failure of one attempt is that item's transient error
                    log.exception("EOP delivery attempt of queue item %s to %s failed", entry.item.id,
                                  entry.hop.queue_key)
                    outcome = R.connection_failure(R.CLOSED)
                before = self._ids()
                deliveries = self.state.attempted(entry, outcome, self.clock_now())
                self._persist(before, entry)
                self._deliver_local(deliveries)
        finally:
            self._busy -= ids
            self._wake()

    def _wake(self) -> None:
        """Tell :meth:`wait_for_work` the queue changed (new mail, an attempt ended)."""
        if self._signal is not None and not self._signal.done():
            self._signal.set_result(None)

    def next_due_in(self) -> float | None:
        """Lab seconds until the next attempt of an item not being attempted now (rounded up to a
        millisecond, so that waking then finds it due), or None when there is none."""
        at = self.state.next_attempt(self._busy)
        if at is None:
            return None
        return max(0.0, math.ceil((at - self.clock_now().timestamp()) * 1000.0) / 1000.0)

    async def wait_for_work(self, sleep: Callable[..., Awaitable[None]]) -> None:
        """Sleep (``LabClock.sleep(delay, wake=...)``) until the next item is due or the queue changes."""
        self._signal = asyncio.get_running_loop().create_future()
        try:
            await sleep(self.next_due_in(), wake=self._signal)
        finally:
            self._signal = None

    # --- one delivery attempt ----------------------------------------------------------------
    async def _targets(self, hop: R.NextHop) -> list[tuple[str, str]]:
        names = list(hop.hosts) or list(await self.outbound.resolve_mx(hop.domain))
        out: list[tuple[str, str]] = []
        for name in names:
            for ip in await self.outbound.resolve_host(name):
                out.append((name, ip))
        return out

    async def deliver(self, hop: R.NextHop, mail_from: str, recipients: Sequence[str], data: bytes) -> Outcome:
        """One attempt: resolve, connect, EHLO, TLS under the hop's TlsSettings, send."""
        targets = await self._targets(hop)
        if not targets:
            return R.connection_failure(R.DNS_FAILED)
        outcome: Outcome = R.connection_failure(R.REFUSED)
        for name, ip in targets:
            probe, outcome = await self.session(hop, name, ip, mail_from, tuple(recipients), data)
            if not OB.keep_trying(probe, outcome):
                return outcome
        return outcome

    async def session(self, hop: R.NextHop, name: str, ip: str, mail_from: str, recipients: tuple[str, ...],
                      data: bytes) -> tuple[Probe, Outcome]:
        """One SMTP session to ``name`` at ``ip``:25; returns what was observed and the outcome."""
        located = self.outbound.locate(ip, OB.PORT)
        if located is None or isinstance(located, str):
            return OB.connect_failed(name, ip, OB.unreachable(located or "Timeout"))
        loop_ip, loop_port = located
        if not loop_ip.startswith("127."):
            raise LabRuntimeError(f"refusing to connect to {loop_ip}: the lab connects only inside 127.0.0.0/8")
        smtp = aiosmtplib.SMTP(hostname=loop_ip, port=loop_port, source_address=(self.outbound.source_ip, 0),
                               local_hostname=self.outbound.ehlo_name, start_tls=False,
                               timeout=self.outbound.timeout)
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError, OSError):
            return OB.connect_failed(name, ip, R.REFUSED)
        suffix = OB.attempt_suffix(self.world, name, ip, self.clock_now())
        try:
            return await self._converse(smtp, hop, name, ip, mail_from, recipients, data, suffix)
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError, asyncio.TimeoutError):
            return OB.connect_failed(name, ip, R.CLOSED)
        finally:
            smtp.close()

    async def _converse(self, smtp: aiosmtplib.SMTP, hop: R.NextHop, name: str, ip: str, mail_from: str,
                        recipients: tuple[str, ...], data: bytes, suffix: str) -> tuple[Probe, Outcome]:
        """EHLO, TLS, MAIL / RCPT / DATA. aiosmtplib raises for a refused EHLO, MAIL or DATA; each
        refusal is the next hop's reply, read by the core like any other (4xx retries, 5xx bounces)."""
        try:
            ehlo = await smtp.ehlo()
        except aiosmtplib.SMTPHeloError as exc:
            ehlo = exc
        probe, outcome = OB.after_ehlo(name, ip, ehlo.code, ehlo.message, smtp.supports_extension("starttls"))
        if outcome is not None:
            return probe, outcome
        cert, trusted, tls_error = None, False, None
        if probe.starttls_offered:
            try:
                await smtp.starttls(tls_context=client_context(self.client_cert), server_hostname=name)
                cert, der = peer_facts(smtp.get_transport_info("ssl_object"))
                chain = self.pki.chain_facts(der, INTERNET_STORE) if der else None
                trusted = bool(chain and chain.trusted)
            except (aiosmtplib.SMTPException, ssl.SSLError, ConnectionError) as exc:
                tls_error = failure_reason(exc)
        probe, outcome = OB.after_tls(probe, hop, cert, trusted, tls_error, self.clock_now(), suffix)
        if outcome is not None:
            return probe, outcome
        try:
            await smtp.mail(mail_from)
        except aiosmtplib.SMTPSenderRefused as exc:
            return probe, OB.remote(exc.code, exc.message)
        replies = []
        for rcpt in recipients:
            response = await smtp.execute_command(b"RCPT", f"TO:<{rcpt}>".encode())
            replies.append((rcpt, response.code, response.message))
        probe, outcome = OB.after_rcpts(probe, replies)
        if outcome is not None:
            return probe, outcome
        try:
            response = await smtp.data(data)
        except aiosmtplib.SMTPDataError as exc:
            return probe, OB.remote(exc.code, exc.message)
        try:  # the message is delivered: a failing QUIT must not send it again
            await smtp.quit()
        except (aiosmtplib.SMTPException, ConnectionError, OSError, asyncio.TimeoutError):
            log.debug("QUIT to %s (%s) failed after delivery", name, ip, exc_info=True)
        return probe, OB.delivered(response.code, response.message, ip)

    async def close(self) -> None:
        """Stop listening and cancel running deliveries."""
        for task in list(self._tasks):
            task.cancel()
        for listener in self.listeners:
            await listener.close()
        self.listeners.clear()


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
        state_dir: the lab state dir (Maildirs under ``mailboxes/``, the queue under ``queue/<node>/``,
            taken back here: mail accepted before a stop is delivered after the start).
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
    service = EopService(world, Maildirs(state_dir), outbound, clock_now, pki, certificates.get(P.MX), spawn=spawn,
                         spool=Spool(state_dir, world.node.name))
    service.restore()
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
    hop = OB.validation_hop(connector, rcpts)
    now = service.clock_now()
    name, resolvable = OB.validation_target(hop, () if hop.hosts else await service.outbound.resolve_mx(hop.domain))
    addresses = tuple(await service.outbound.resolve_host(name)) if resolvable else ()
    probe = Probe(name, addresses)
    if addresses and connector.enabled:
        sender, body = OB.validation_message(service.world, rcpts)
        probe, _ = await service.session(hop, name, addresses[0], sender, rcpts, body)
        probe = replace(probe, addresses=addresses)
    return OB.validation_report(service.world, connector, rcpts, probe, now)
