"""What the receive side now works out once per session or connection is what the plain code gives.

- The EOP front door opens its session once per (TLS facts, instant, client address) of a
  connection: every answer equals the one from a session opened afresh for each command (the
  code before the change, kept here as the oracle).
- ExchangePolicy keeps one rights set for organisation servers: the same as
  ``receive.rights_for`` for each server principal.
- The session context is one record changed in place: the facts a policy sees at each command
  are the ones the commands so far established.
"""
from __future__ import annotations

import dataclasses
import itertools
from datetime import timedelta

from lab.core.eop import policy as P
from lab.core.eop.front_door import EopPolicy, connection_facts
from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.model import Mailbox
from lab.core.exchange.policy import ExchangePolicy, _server_principal
from lab.core.exchange.receive import ANONYMOUS, Principal
from lab.core.exchange.session import ReceiveSession, SessionContext
from lab.core.fastpath import evolve
from lab.core.tls import ChainFacts
from tests.unit.test_eop_core import CERT_CONNECTOR, IP_CONNECTOR, NODE, NOW, cert, tenant
from tests.unit.test_exchange_session import ORG, SERVER, MemorySink


def _plain_session(policy: EopPolicy, ctx: SessionContext) -> P.FrontDoorSession:
    """EopPolicy.session as it was: the connection opened afresh for every question."""
    opened = P.open_session(policy.world, policy.endpoint, connection_facts(ctx), ctx.now, policy.seq).session
    user = ctx.principal.mailbox.primary_smtp_address if ctx.principal.mailbox else None
    return evolve(opened, helo=ctx.helo, user=user, mail_from=ctx.mail_from, recipients=ctx.recipients)


def _contexts():
    mailbox = Mailbox.from_mapping({"Name": "user02", "PrimarySmtpAddress": "user02@ixmsoft.com"}, "m")
    tlses = [None, TlsFacts(), TlsFacts(peer_names=("mail.ixmsoft.com",), peer_cert=cert("mail.ixmsoft.com")),
             TlsFacts(peer_names=("mail.ixmsoft.com",), peer_cert=ChainFacts(cert("mail.ixmsoft.com"), True)),
             TlsFacts(peer_names=("x.example.com",), peer_cert=ChainFacts(cert("x.example.com"), False))]
    instants = (NOW, NOW + timedelta(seconds=1))  # shared objects, as the lab hands them out
    for client_ip, tls, now, principal, helo, mail_from, recipients in itertools.product(
            ("198.51.100.40", "203.0.113.50", "192.0.2.66"), tlses, instants, (ANONYMOUS, Principal("user", mailbox)),
            (None, "mail.ixmsoft.com"), (None, "a@ixmsoft.com"), ((), ("user02@ixmsoft.com", "x@fabrikam.com"))):
        yield SessionContext(client_ip, NODE.mx_ip, 25, now, helo=helo, tls=tls, principal=principal,
                             mail_from=mail_from, recipients=recipients)


def test_the_front_door_answers_as_a_session_opened_afresh_for_every_command():
    world = P.EopWorld(NODE, (tenant(IP_CONNECTOR, CERT_CONNECTOR),))
    for endpoint in P.ENDPOINTS:
        policy = EopPolicy(world, endpoint, 7)  # one policy, asked about every context in turn
        for ctx in [*_contexts(), *reversed(list(_contexts()))]:  # each state asked about again, later
            plain = _plain_session(policy, ctx)
            assert policy.session(ctx) == plain
            assert policy.session(ctx).attribution_reasons == plain.attribution_reasons
            assert policy.banner(ctx) == P.open_session(world, endpoint, connection_facts(ctx), ctx.now, 7).reply.line()
            assert policy.hello(ctx, True) == P.ehlo(world, plain, ctx.helo or "")[0]
            for address in ("user02@ixmsoft.com", "nobody@ixmsoft.com", "x@fabrikam.com"):
                assert policy.rcpt_to(ctx, address, {}) == _decision(P.rcpt_to(world, plain, address, ctx.now))
            assert policy.mail_from(ctx, "a@ixmsoft.com", {}) == _decision(P.mail_from(world, plain, "a@ixmsoft.com"))


def _decision(turn: P.Turn) -> rv.Decision:
    return rv.Decision(turn.reply.is_positive, turn.reply, turn.rule, turn.reasons, False, turn.session.attribution)


def test_rcpt_rejection_ids_are_made_from_the_same_facts():
    world = P.EopWorld(NODE, (tenant(IP_CONNECTOR),))
    session = P.FrontDoorSession(P.MX, P.ConnectionFacts("203.0.113.50"), NOW, 3, helo="x", mail_from="a@fabrikam.com")
    turn = P.rcpt_to(world, session, "nobody@ixmsoft.com", NOW)  # DBEB: 550 5.4.1 ... [host time id]
    assert turn.reply.text.endswith(f"[{P.internal_host(NODE, P.MX)} {P.iso_ms(NOW)} {P.ticks_id(NOW, 3)}]")


def test_server_rights_are_the_rights_of_each_server_principal():
    for connector in default_receive_connectors(SERVER):
        for variant in (connector, dataclasses.replace(connector, permission_groups=("ExchangeServers",)),
                        dataclasses.replace(connector, permission_groups=("AnonymousUsers",))):
            policy = ExchangePolicy(variant, SERVER, ORG)
            for fqdn in ("mail1.office26.com", "other.office26.com", ""):
                principal = _server_principal(fqdn)
                ctx = SessionContext("192.168.0.3", "192.168.0.10", 25, NOW, principal=principal)
                assert policy.rights(ctx) == rv.rights_for(variant, Principal("server", server_fqdn=fqdn))


class _Recorder:
    """An ExchangePolicy that copies the context it is shown at every question."""

    def __init__(self, policy: ExchangePolicy):
        self.policy, self.seen = policy, []

    def __getattr__(self, name):
        answer = getattr(self.policy, name)
        if not callable(answer):
            return answer

        def asked(ctx, *args):
            self.seen.append((name, dataclasses.replace(ctx)))
            return answer(ctx, *args)
        return asked


def test_a_policy_sees_the_facts_the_commands_so_far_established():
    connector = next(c for c in default_receive_connectors(SERVER) if 25 in (b.port for b in c.bindings)
                     and c.transport_role == "FrontendTransport")
    recorder = _Recorder(ExchangePolicy(connector, SERVER, ORG, cert_available=True))
    s = ReceiveSession(recorder, MemorySink(), client_ip="203.0.113.5", local_ip="192.168.0.10", local_port=25,
                       now=NOW, new_guid=lambda: "g")
    s.connect()
    for line in ("EHLO a.example.com", "MAIL FROM:<x@fabrikam.com>", "RCPT TO:<administrator@office26.com>",
                 "RCPT TO:<administrator@office26.com>", "RSET", "EHLO b.example.com", "MAIL FROM:<y@fabrikam.com>",
                 "RCPT TO:<administrator@office26.com>"):
        s.receive_line(line, NOW + timedelta(seconds=1))
    seen = [(name, ctx.helo, ctx.mail_from, ctx.recipients, ctx.now - NOW) for name, ctx in recorder.seen
            if name in ("banner", "hello", "mail_from", "rcpt_to")]
    one, rcpt = timedelta(seconds=1), "administrator@office26.com"
    assert seen == [("banner", None, None, (), timedelta(0)), ("hello", "a.example.com", None, (), one),
                    ("mail_from", "a.example.com", None, (), one),
                    ("rcpt_to", "a.example.com", "x@fabrikam.com", (), one),
                    ("rcpt_to", "a.example.com", "x@fabrikam.com", (rcpt,), one),
                    ("hello", "b.example.com", None, (), one), ("mail_from", "b.example.com", None, (), one),
                    ("rcpt_to", "b.example.com", "y@fabrikam.com", (), one)]
    assert s.ctx.recipients == (rcpt,) and s.ctx.mail_from == "y@fabrikam.com"
