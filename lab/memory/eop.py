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

import itertools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

from lab.core.catalogue import Reply
from lab.core.dns_resolution import resolve_host, resolve_mx
from lab.core.eop import policy as P
from lab.core.eop import queue as Q
from lab.core.eop import routing as R
from lab.core.eop.validation import Probe
from lab.core.exchange.dsn import FAILED, DsnRecipient, build_dsn
from lab.core.exchange.outcomes import Delivered, Permanent, Transient
from lab.core.exchange.session import AcceptedMessage, SubmitResult
from lab.core.tls import SOCKET_ERROR, CertFacts
from lab.memory import rules
from lab.memory.trust import INTERNET_STORE
from lab.memory.wire import Disconnected, Wire, ehlo_keywords

if TYPE_CHECKING:
    from lab.memory.lab import MemoryLab

Outcome = Delivered | Transient | Permanent


@dataclass
class Pending:
    """One item of EOP's queue with its next hop and message."""

    item: Q.QueuedItem
    hop: R.NextHop
    data: bytes


class MemoryEop:
    """The EOP node ``node`` of a :class:`MemoryLab`.

    Attributes:
        world: the EOP node and tenants (the lab assigns it when the world changes).
        pending: EOP's queue.
        accepted: every message accepted, in order.
        events: ``(item id, status, reasons)`` of every delivery attempt.
    """

    def __init__(self, lab: "MemoryLab", node: str, world: P.EopWorld):
        self.lab, self.node, self.world = lab, node, world
        self.pending: list[Pending] = []
        self.accepted: list[AcceptedMessage] = []
        self.events: list[tuple[int, str, tuple[str, ...]]] = []
        self._ids = itertools.count(1)

    # --- certificates ------------------------------------------------------------------------
    def certificate(self, endpoint: str) -> CertFacts | None:
        """The certificate an endpoint presents (``eop-mx`` / ``eop-submission``, else the node's first)."""
        known = self.lab.trust.certificates
        names = [c for c in self.world.node.certificates if c in known]
        preferred = {P.MX: "eop-mx", P.SUBMISSION: "eop-submission"}[endpoint]
        name = preferred if preferred in names else (names[0] if names else None)
        return known[name] if name else None

    # --- the sink ---------------------------------------------------------------------------
    def submit(self, message: AcceptedMessage) -> SubmitResult:
        """Take an accepted message: mailboxes at once, other hops into the queue, then run what is due."""
        internal_id = next(self._ids)
        self.accepted.append(message)
        self._route(message.mail_from, message.rcpt_tos, message.content)
        self.lab.defer(self.run_due)
        return SubmitResult(message.message_id, internal_id)

    def _tenant_for(self, address: str):
        return self.world.tenant_for(address.rpartition("@")[2]) or (self.world.tenants[0] if self.world.tenants
                                                                     else None)

    def _route(self, mail_from: str, recipients: Sequence[str], data: bytes) -> None:
        now = self.lab.now_datetime().timestamp()
        groups: dict[str, tuple[R.NextHop, list[str]]] = {}
        for rcpt in recipients:
            tenant = self._tenant_for(rcpt)
            if tenant is None:
                continue
            hop: R.NextHop = R.route_recipient(tenant, rcpt).result
            if hop.kind == R.TO_MAILBOX:
                self.lab.mailboxes.deliver(hop.mailbox or rcpt, data)
                continue
            if hop.kind == R.NOT_FOUND:
                continue
            groups.setdefault(hop.queue_key + "|" + hop.domain, (hop, []))[1].append(hop.address)
        for hop, rcpts in groups.values():
            item = Q.enqueue(next(self._ids), mail_from, tuple(rcpts), hop.queue_key, now)
            self.pending.append(Pending(item, hop, data))

    # --- the queue --------------------------------------------------------------------------------
    def run_due(self) -> None:
        """Attempt every due item once; ask the lab to come back at the next attempt."""
        now = self.lab.now_datetime().timestamp()
        due_ids = {i.id for i in Q.due(tuple(p.item for p in self.pending), now)}
        for entry in [p for p in self.pending if p.item.id in due_ids]:
            outcome = self.deliver(entry.hop, entry.item.mail_from, entry.item.recipients, entry.data)
            result = Q.after_attempt(entry.item, outcome, self.lab.now_datetime().timestamp())
            self.events.append((entry.item.id, result.status, result.reasons))
            if result.status == Q.RETRY:
                entry.item = result.item
                continue
            self.pending.remove(entry)
            if result.status == Q.FAILED and result.ndr is not None and entry.item.mail_from:
                self._bounce(entry, result.ndr)
        if self.pending:
            self.lab.eop_wakeup(self.node, min(p.item.next_attempt for p in self.pending))

    def _bounce(self, entry: Pending, reply: Reply) -> None:
        host = P.internal_host(self.world.node, P.MX)
        now = self.lab.now_datetime()
        ndr = build_dsn(FAILED, entry.data, entry.item.mail_from,
                        [DsnRecipient(r, reply) for r in entry.item.recipients], host,
                        f"postmaster@{self.world.tenants[0].initial_domain}" if self.world.tenants else "postmaster",
                        now, f"<{P.ticks_id(now, entry.item.id)}@{host}>")
        self._route("", (entry.item.mail_from,), ndr)

    # --- one delivery attempt ------------------------------------------------------------------------
    def _targets(self, hop: R.NextHop) -> list[tuple[str, str]]:
        zones = self.lab.world.zones
        names = list(hop.hosts) or [t.host for t in resolve_mx(zones, hop.domain).targets]
        return [(name, ip) for name in names for ip in resolve_host(zones, name).addresses]

    def deliver(self, hop: R.NextHop, mail_from: str, recipients: Sequence[str], data: bytes) -> Outcome:
        """One attempt: resolve, connect, EHLO, TLS under the hop's TlsSettings, send."""
        targets = self._targets(hop)
        if not targets:
            return R.connection_failure(R.DNS_FAILED)
        outcome: Outcome = R.connection_failure(R.REFUSED)
        for name, ip in targets:
            probe, outcome = self.session(hop, name, ip, mail_from, tuple(recipients), data)
            if not isinstance(outcome, Transient) or probe.connect_failure is None:
                return outcome
        return outcome

    def session(self, hop: R.NextHop, name: str, ip: str, mail_from: str, recipients: tuple[str, ...],
                data: bytes) -> tuple[Probe, Outcome]:
        """One SMTP session to ``name`` at ``ip``:25; what was observed and the outcome."""
        dial = self.lab.switchboard.dial(self.node, ip, 25)
        if isinstance(dial, str):
            failure = R.TIMEOUT if dial != "Refused" else R.REFUSED
            return Probe(name, (ip,), ip, 25, connect_failure=failure), R.connection_failure(failure)
        opened = dial.open(self.lab)
        if opened is None:
            return Probe(name, (ip,), ip, 25, connect_failure=R.REFUSED), R.connection_failure(R.REFUSED)
        wire, server_cert = opened
        try:
            banner = wire.open()
            if banner.code != 220:
                return Probe(name, (ip,), ip, 25, connect_failure=R.REFUSED), R.connection_failure(R.REFUSED)
            now = self.lab.now_datetime()
            suffix = R.attempt_suffix(name, ip, 25, P.internal_host(self.world.node, P.MX), P.iso_ms(now),
                                      P.ticks_id(now))
            return self._converse(wire, dial, server_cert, hop, name, ip, mail_from, recipients, data, suffix)
        except Disconnected:
            return Probe(name, (ip,), ip, 25, connect_failure=R.CLOSED), R.connection_failure(R.CLOSED)

    def _converse(self, wire: Wire, dial, server_cert: CertFacts | None, hop: R.NextHop, name: str, ip: str,
                  mail_from: str, recipients: tuple[str, ...], data: bytes, suffix: str) -> tuple[Probe, Outcome]:
        ehlo = wire.command(f"EHLO {self.world.node.frontend_host}")
        first = f"{ehlo.code} {ehlo.message.splitlines()[0] if ehlo.message else ''}"
        probe = Probe(name, (ip,), ip, 25, ehlo_reply=first, ehlo_ok=ehlo.code == 250,
                      starttls_offered="starttls" in ehlo_keywords(ehlo))
        if not probe.ehlo_ok:
            return probe, Transient(Reply(ehlo.code, None, ehlo.message), first)
        cert, trusted, tls_error = None, False, None
        if probe.starttls_offered:
            reply = wire.command("STARTTLS")
            if reply.code == 220:
                wire.start_tls(dial.server_tls(self.certificate(P.MX)))
                cert = server_cert
                trusted = server_cert is not None and self.lab.trust.is_trusted(server_cert, INTERNET_STORE)
                wire.command(f"EHLO {self.world.node.frontend_host}")
            else:
                tls_error = SOCKET_ERROR
        probe = replace(probe, cert=cert, trusted=trusted, tls_error=tls_error)
        verdict = R.outbound_tls(hop, name, probe.starttls_offered, cert, trusted, self.lab.now_datetime(), suffix,
                                 tls_error)
        if verdict.result is not None:
            return probe, verdict.result
        if tls_error:
            return probe, Transient(R.connection_failure(R.CLOSED).last_error, tls_error)
        return self._transaction(wire, probe, ip, mail_from, recipients, data)

    @staticmethod
    def _transaction(wire: Wire, probe: Probe, ip: str, mail_from: str, recipients: tuple[str, ...],
                     data: bytes) -> tuple[Probe, Outcome]:
        reply = wire.command(f"MAIL FROM:<{mail_from}>")
        if reply.code != 250:
            return probe, rules.eop_remote(reply.code, reply.message)
        replies: list[tuple[str, str]] = []
        accepted = []
        for rcpt in recipients:
            response = wire.command(f"RCPT TO:<{rcpt}>")
            replies.append((rcpt, f"{response.code} {response.message}"))
            if response.code in (250, 251):
                accepted.append(rcpt)
        probe = replace(probe, send_replies=tuple(replies))
        if not accepted:
            code, _, text = replies[0][1].partition(" ")
            return probe, rules.eop_remote(int(code), text)
        reply = wire.command("DATA")
        if reply.code != 354:
            return probe, rules.eop_remote(reply.code, reply.message)
        reply = wire.body(data)
        if reply.code != 250:
            return probe, rules.eop_remote(reply.code, reply.message)
        wire.quit()
        return probe, Delivered(f"{reply.code} {reply.message}", f"{ip}:25")
