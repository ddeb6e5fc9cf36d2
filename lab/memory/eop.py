"""EOP in memory: the MessageSink of the front-door sessions, tenant routing, EOP's queue and outbound.

It does what the live :class:`lab.adapters.eop.EopService` does, over the core: accepted mail is
routed per recipient (:func:`lab.core.eop.routing.route_recipient`): tenant mailboxes at once,
other hops into EOP's queue (:mod:`lab.core.eop.queue`); an attempt resolves the hop (smart
hosts or MX), dials each address on port 25, EHLOs with the front-end host name, STARTTLS when
offered (presenting the ``eop-mx`` certificate), judges the next hop with
:func:`lab.core.eop.routing.outbound_tls`, then MAIL / RCPT / DATA. Expired items bounce to the
sender. Ids are counted as the live service counts them, so the 250 replies read the same.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from lab.core.dns_resolution import resolve_host, resolve_mx
from lab.core.eop import outbound as OB
from lab.core.eop import policy as P
from lab.core.eop import routing as R
from lab.core.eop.service import EopState, EopStateHolder, MailboxDelivery
from lab.core.eop.model import OutboundConnector
from lab.core.eop.validation import Probe, ValidationReport
from lab.core.exchange.session import AcceptedMessage, SubmitResult
from lab.core.fastpath import evolve
from lab.core.tls import SOCKET_ERROR, CertFacts
from lab.memory.trust import INTERNET_STORE
from lab.memory.wire import Disconnected, Wire, ehlo_keywords

if TYPE_CHECKING:
    from lab.memory.lab import MemoryLab
    from lab.memory.network import Dial

Outcome = OB.Outcome

#: The certificate each endpoint presents when the node has it.
_PREFERRED = {P.MX: "eop-mx", P.SUBMISSION: "eop-submission"}


class MemoryEop(EopStateHolder):
    """The EOP node ``node`` of a :class:`MemoryLab`: the core's :class:`EopState` and the in-memory I/O.

    Attributes:
        state: accepted mail, the queue, attempts and the trace.
    """

    def __init__(self, lab: "MemoryLab", node: str, world: P.EopWorld):
        self.lab, self.node = lab, node
        self.state = EopState(world)

    # --- certificates ------------------------------------------------------------------------
    def certificate(self, endpoint: str) -> CertFacts | None:
        """The certificate an endpoint presents (``eop-mx`` / ``eop-submission``, else the node's first)."""
        known = self.lab.trust.certificates
        names = self.state.world.node.certificates
        preferred = _PREFERRED[endpoint]
        if preferred in known and preferred in names:
            return known[preferred]
        for name in names:  # else the first the lab knows (none when its name is empty, as ever)
            if name in known:
                return known[name] if name else None
        return None

    # --- the sink ---------------------------------------------------------------------------
    def submit(self, message: AcceptedMessage) -> SubmitResult:
        """Take an accepted message: mailboxes at once, other hops into the queue, then run what is due."""
        result, deliveries = self.state.accept(message, self.lab._now_dt)
        self._deliver_local(deliveries)
        self.lab.defer(self.run_due)
        return result

    def _deliver_local(self, deliveries: Sequence[MailboxDelivery]) -> None:
        for d in deliveries:
            self.lab.mailboxes.deliver(d.address, d.data)

    # --- the queue --------------------------------------------------------------------------------
    def run_due(self) -> None:
        """Attempt every due item once; ask the lab to come back at the next attempt."""
        for entry in self.state.due(self.lab._now_dt):
            outcome = self.deliver(entry.hop, entry.item.mail_from, entry.item.recipients, entry.data)
            self._deliver_local(self.state.attempted(entry, outcome, self.lab._now_dt))
        due = self.state.next_attempt()
        if due is not None:
            self.lab.eop_wakeup(self.node, due)

    def validate(self, connector: OutboundConnector, recipients: Sequence[str]) -> ValidationReport:
        """Validate-OutboundConnector: probe the connector's first smart host (or MX) with a test message."""
        rcpts = tuple(recipients)
        hop = OB.validation_hop(connector, rcpts)
        now = self.lab._now_dt
        zones = self.lab._world.zones
        mx = () if hop.hosts else [t.host for t in resolve_mx(zones, hop.domain).targets]
        name, resolvable = OB.validation_target(hop, mx)
        addresses = tuple(resolve_host(zones, name).addresses) if resolvable else ()
        probe = Probe(name, addresses)
        if addresses and connector.enabled:
            sender, body = OB.validation_message(self.state.world, rcpts)
            probe, _ = self.session(hop, name, addresses[0], sender, rcpts, body)
            probe = evolve(probe, addresses=addresses)
        return OB.validation_report(self.state.world, connector, rcpts, probe, now)

    # --- one delivery attempt ------------------------------------------------------------------------
    def targets(self, hop: R.NextHop) -> list[tuple[str, str]]:
        """``(name, address)`` of the hop's smart hosts, or of its domain's MX hosts."""
        zones = self.lab._world.zones
        names = list(hop.hosts) or [t.host for t in resolve_mx(zones, hop.domain).targets]
        return [(name, ip) for name in names for ip in resolve_host(zones, name).addresses]

    def deliver(self, hop: R.NextHop, mail_from: str, recipients: Sequence[str], data: bytes) -> Outcome:
        """One attempt: resolve, connect, EHLO, TLS under the hop's TlsSettings, send."""
        targets = self.targets(hop)
        if not targets:
            return R.connection_failure(R.DNS_FAILED)
        outcome: Outcome = R.connection_failure(R.REFUSED)
        for name, ip in targets:
            probe, outcome = self.session(hop, name, ip, mail_from, tuple(recipients), data)
            if not OB.keep_trying(probe, outcome):
                return outcome
        return outcome

    def session(self, hop: R.NextHop, name: str, ip: str, mail_from: str, recipients: tuple[str, ...],
                data: bytes) -> tuple[Probe, Outcome]:
        """One SMTP session to ``name`` at ``ip``:25; what was observed and the outcome."""
        dial = self.lab.switchboard.dial(self.node, ip, OB.PORT)
        if isinstance(dial, str):
            return OB.connect_failed(name, ip, OB.unreachable(dial))
        opened = dial.open(self.lab)
        if opened is None:
            return OB.connect_failed(name, ip, R.REFUSED)
        wire, server_cert = opened
        try:
            banner = wire.open()
            if banner.code != 220:
                return OB.connect_failed(name, ip, R.REFUSED)
            suffix = OB.attempt_suffix(self.state.world, name, ip, self.lab._now_dt)
            return self._converse(wire, dial, server_cert, hop, name, ip, mail_from, recipients, data, suffix)
        except Disconnected:
            return OB.connect_failed(name, ip, R.CLOSED)

    def _converse(self, wire: Wire, dial: "Dial", server_cert: CertFacts | None, hop: R.NextHop, name: str, ip: str,
                  mail_from: str, recipients: tuple[str, ...], data: bytes, suffix: str) -> tuple[Probe, Outcome]:
        ehlo = wire.command(f"EHLO {self.state.world.node.frontend_host}")
        probe, outcome = OB.after_ehlo(name, ip, ehlo.code, ehlo.message, "starttls" in ehlo_keywords(ehlo))
        if outcome is not None:
            return probe, outcome
        cert, trusted, tls_error = None, False, None
        if probe.starttls_offered:
            reply = wire.command("STARTTLS")
            if reply.code == 220:
                wire.start_tls(dial.server_tls(self.certificate(P.MX)))
                cert = server_cert
                trusted = server_cert is not None and self.lab.trust.is_trusted(server_cert, INTERNET_STORE)
                wire.command(f"EHLO {self.state.world.node.frontend_host}")
            else:
                tls_error = SOCKET_ERROR
        probe, outcome = OB.after_tls(probe, hop, cert, trusted, tls_error, self.lab._now_dt, suffix)
        if outcome is not None:
            return probe, outcome
        reply = wire.command(f"MAIL FROM:<{mail_from}>")
        if reply.code != 250:
            return probe, OB.remote(reply.code, reply.message)
        replies = [(rcpt, r.code, r.message) for rcpt in recipients for r in (wire.command(f"RCPT TO:<{rcpt}>"),)]
        probe, outcome = OB.after_rcpts(probe, replies)
        if outcome is not None:
            return probe, outcome
        reply = wire.command("DATA")
        if reply.code != 354:
            return probe, OB.remote(reply.code, reply.message)
        reply = wire.body(data)
        if reply.code != 250:
            return probe, OB.remote(reply.code, reply.message)
        wire.quit()
        return probe, OB.delivered(reply.code, reply.message, ip)
