"""Exchange's outbound SMTP in memory: executes a transport's ``Connect`` as the live ``SmtpClient`` does.

For one ``Connect``: the TlsCertificateName must name an installed certificate (else 454 4.7.5,
no connection); targets are tried in order through the :class:`~lab.memory.network.Switchboard`;
ONE session per target carries every envelope: EHLO with the connector FQDN, STARTTLS unless
IgnoreSTARTTLS (the connector's certificate presented), the peer judged with
:func:`lab.core.tls.tls_verdict` at lab time against the organization's trust store, a failed
opportunistic TLS retried on the same target without STARTTLS, then MAIL (``size=`` when the
server lists SIZE) / RCPT / DATA / QUIT. What aiosmtplib raises in the live client is, here, a
reply code checked in one place; the rules are :mod:`lab.memory.rules`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.core.catalogue import exchange_queue as QC
from lab.core.exchange import outcomes as O
from lab.core.tls import CONNECTION_ABORTED, CertFacts
from lab.core.exchange import client_rules as rules
from lab.memory.network import Dial
from lab.memory.trust import org_store
from lab.memory.wire import Disconnected, ServerReply, Wire, normalise_body

if TYPE_CHECKING:
    from lab.memory.lab import MemoryLab

ItemOutcome = tuple[tuple[int, ...] | None, O.Outcome]


@dataclass(frozen=True)
class _Failed:
    """A session that never carried mail: the transient outcome and whether TLS was the cause."""

    outcome: O.Transient
    tls: bool = False


class _Refused(Exception):
    """A reply that ends the session's current step (aiosmtplib raises for these)."""

    def __init__(self, reply: ServerReply):
        super().__init__(str(reply))
        self.reply = reply


class ExchangeClient:
    """The outbound client of one Exchange server (``node``) of a :class:`MemoryLab`."""

    def __init__(self, lab: "MemoryLab", node: str):
        self.lab, self.node = lab, node

    def deliver(self, cmd: O.Connect) -> list[ItemOutcome]:
        """Run one ``Connect``: outcomes per envelope, or ``(None, outcome)`` for all."""
        lab = self.lab
        state = lab._world.server(self.node)
        cert: CertFacts | None = None
        if cmd.tls.certificate_name and not cmd.tls.ignore_starttls:
            installed = state.client_certificate(cmd.tls.certificate_name, lab._now_dt)
            cert = installed.facts if installed is not None else None
        failure = rules.client_certificate_failure(cmd.tls, cert is not None)
        if failure is not None:
            return [(None, failure)]
        last: O.Transient | None = None  # the last target's failure
        for target in cmd.targets:
            dial = lab.switchboard.dial(self.node, target.ip, target.port)
            if isinstance(dial, str):
                last = O.connect_failure(dial, target)
                continue
            result = self._session(cmd, target, dial, cert, use_tls=not cmd.tls.ignore_starttls)
            if isinstance(result, _Failed) and result.tls and not cmd.tls.require_tls:
                result = self._session(cmd, target, dial, cert, use_tls=False)
            if isinstance(result, _Failed):
                last = result.outcome
                continue
            return result
        return [(None, last if last is not None else O.connect_failure("NoRoute", ""))]

    def _session(self, cmd: O.Connect, target: O.Endpoint, dial: Dial, cert: CertFacts | None,
                 use_tls: bool) -> list[ItemOutcome] | _Failed:
        opened = dial.open(self.lab)
        if opened is None:  # accepted and closed at once: no banner
            return _Failed(O.connection_dropped("SocketError"))
        wire, server_cert = opened
        stage = "connect"
        try:
            banner = wire.open()
            if banner.code != 220:
                return _Failed(O.remote_reply(banner.code, banner.message, "connect"))
            stage = "ehlo"
            self._ehlo(wire, cmd)  # its keywords are the wire's now
            stage = "starttls"
            failed = self._starttls(wire, cmd, target, dial, server_cert, cert, use_tls)
            if failed is not None:
                return failed
            return self._send_all(wire, cmd, target)
        except _Refused as exc:
            return _Failed(O.remote_reply(exc.reply.code, exc.reply.message, stage), tls=stage == "starttls")
        except Disconnected:
            if stage == "starttls":
                return _Failed(O.starttls_required(QC.TLS_NEGOTIATION_FAILED.format(error=CONNECTION_ABORTED)), tls=True)
            return _Failed(O.connection_dropped("SocketError"))
        finally:
            wire.quit()

    @staticmethod
    def _ehlo(wire: Wire, cmd: O.Connect) -> ServerReply:
        reply = wire.command(f"EHLO {cmd.ehlo_name}")
        if reply.code != 250:
            raise _Refused(reply)
        return reply

    def _starttls(self, wire: Wire, cmd: O.Connect, target: O.Endpoint, dial: Dial,
                  server_cert: CertFacts | None, cert: CertFacts | None, use_tls: bool) -> _Failed | None:
        plan = rules.starttls_plan(cmd.tls, use_tls, "starttls" in wire.keywords, target)  # the EHLO's keywords
        if isinstance(plan, O.Transient):
            return _Failed(plan)
        if plan == rules.PLAIN:
            return None
        reply = wire.command("STARTTLS")
        if reply.code != 220:
            raise _Refused(reply)
        wire.start_tls(dial.server_tls(cert))
        lab = self.lab
        trusted = server_cert is not None and lab.trust.is_trusted(server_cert, org_store(lab._world.server(self.node).org))
        failure = rules.peer_failure(cmd.tls, server_cert, trusted, lab._now_dt, target)
        return _Failed(failure, tls=True) if failure is not None else None

    def _send_all(self, wire: Wire, cmd: O.Connect, target: O.Endpoint) -> list[ItemOutcome]:
        if wire.tls is not None:  # the server forgot EHLO with the handshake: say it again
            self._ehlo(wire, cmd)
        out: list[ItemOutcome] = []
        for i, env in enumerate(cmd.envelopes):
            try:
                out.append(((env.item,), self._send_one(wire, env, target)))
            except Disconnected:
                rest = tuple(e.item for e in cmd.envelopes[i:])
                out.append((rest, O.connection_dropped("SocketError")))
                break
        return out

    def _send_one(self, wire: Wire, env: O.Envelope, target: O.Endpoint) -> O.Outcome:
        body = normalise_body(env.data)
        size = f" size={len(body)}" if "size" in wire.keywords else ""
        reply = wire.command(f"MAIL FROM:<{env.mail_from}>{size}")
        if reply.code != 250:
            return self._abort(wire, rules.refused_outcome(target, reply.code, reply.message, "mail"))
        refused: list[tuple[str, int, str]] = []
        for rcpt in env.recipients:
            reply = wire.command(f"RCPT TO:<{rcpt}>")
            if reply.code not in (250, 251):
                refused.append((rcpt, reply.code, reply.message))
        if len(refused) == len(env.recipients):
            _, code, text = refused[0]
            return self._abort(wire, rules.refused_outcome(target, code, text, "rcpt"))
        reply = wire.command("DATA")
        if reply.code != 354:
            return self._abort(wire, rules.refused_outcome(target, reply.code, reply.message, "data"))
        reply = wire.body(body, normalised=True)
        if reply.code != 250:
            return self._abort(wire, rules.refused_outcome(target, reply.code, reply.message, "data"))
        return rules.sent_outcome(target, f"250 {reply.message}", refused)

    @staticmethod
    def _abort(wire: Wire, outcome: O.Outcome) -> O.Outcome:
        """aiosmtplib resets the envelope after a refusal (RSET; a failed RSET is ignored)."""
        try:
            wire.command("RSET")
        except Disconnected:
            pass
        return outcome
