"""The EOP front door answers each command of a transaction on the session its previous command's Turn
moved to when that session is what the context now says: every session it answers on equals one opened
afresh for the command (the plain code, kept here as the oracle), and a context that moved elsewhere
(RSET, a new EHLO, STARTTLS, AUTH, another instant) gets a new session."""
from __future__ import annotations

from datetime import timedelta

from lab.core.eop import policy as P
from lab.core.eop.front_door import EopPolicy, connection_facts
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.model import Mailbox
from lab.core.exchange.receive import ANONYMOUS, Principal
from lab.core.exchange.session import SessionContext
from lab.core.fastpath import evolve
from lab.core.tls import ChainFacts
from tests.unit.test_eop_core import CERT_CONNECTOR, IP_CONNECTOR, NODE, NOW, cert, tenant

WORLD = P.EopWorld(NODE, (tenant(IP_CONNECTOR, CERT_CONNECTOR),))


def _plain_session(policy: EopPolicy, ctx: SessionContext) -> P.FrontDoorSession:
    opened = P.open_session(policy.world, policy.endpoint, connection_facts(ctx), ctx.now, policy.seq).session
    user = ctx.principal.mailbox.primary_smtp_address if ctx.principal.mailbox else None
    return evolve(opened, helo=ctx.helo, user=user, mail_from=ctx.mail_from, recipients=ctx.recipients)


def _same(policy: EopPolicy, ctx: SessionContext) -> P.FrontDoorSession:
    session, plain = policy.session(ctx), _plain_session(policy, ctx)
    assert session == plain and session.attribution_reasons == plain.attribution_reasons
    return session


def _transaction(policy: EopPolicy, ctx: SessionContext, sender: str, recipients: tuple[str, ...]) -> None:
    """MAIL, RCPT..., the end of DATA and build_message as the receive session asks them."""
    _same(policy, ctx)
    decision = policy.mail_from(ctx, sender, {})
    if decision.accepted:
        ctx.mail_from = sender
    for address in recipients:
        _same(policy, ctx)
        if policy.rcpt_to(ctx, address, {}).accepted:
            ctx.recipients = (*ctx.recipients, address)
    _same(policy, ctx)
    if ctx.recipients and policy.end_of_data(ctx, b"Subject: x\r\n\r\nx\r\n", 20).accepted:
        assert policy.session(ctx) is _same(policy, ctx)  # build_message: the end of DATA's session
        policy.build_message(ctx, b"Subject: x\r\n\r\nx\r\n", "g", ())
        _same(policy, ctx)
    ctx.mail_from, ctx.recipients = None, ()  # the receive session's reset


def test_a_transaction_is_answered_on_sessions_equal_to_fresh_ones():
    mailbox = Mailbox.from_mapping({"Name": "user02", "PrimarySmtpAddress": "user02@ixmsoft.com"}, "m")
    recipients = ("user02@ixmsoft.com", "nobody@ixmsoft.com", "x@fabrikam.com", "user02@ixmsoft.com")
    for endpoint in P.ENDPOINTS:
        for client_ip in ("198.51.100.40", "203.0.113.50", "192.0.2.66"):
            policy = EopPolicy(WORLD, endpoint, 5)
            ctx = SessionContext(client_ip, NODE.mx_ip, 25, NOW, helo="mail.ixmsoft.com")
            _transaction(policy, ctx, "a@ixmsoft.com", recipients)
            _transaction(policy, ctx, "a@ixmsoft.com", recipients[:1])  # again after the reset
            ctx.helo = "other.example.com"  # a new EHLO
            _transaction(policy, ctx, "b@fabrikam.com", recipients[1:])
            ctx.tls = TlsFacts(peer_names=("mail.ixmsoft.com",), peer_cert=cert("mail.ixmsoft.com"))  # STARTTLS
            ctx.helo = None
            _same(policy, ctx)
            ctx.helo = "mail.ixmsoft.com"
            _transaction(policy, ctx, "a@ixmsoft.com", recipients)
            ctx.principal = Principal("user", mailbox)  # AUTH
            _transaction(policy, ctx, "user02@ixmsoft.com", recipients)
            _transaction(policy, ctx, "other@ixmsoft.com", recipients[:2])  # send-as refused at the end of DATA
            ctx.now = NOW + timedelta(seconds=1)  # a later instant
            _transaction(policy, ctx, "user02@ixmsoft.com", recipients[2:])
            ctx.principal = ANONYMOUS
            _transaction(policy, ctx, "a@ixmsoft.com", recipients)


def test_the_next_command_is_answered_on_the_session_the_turn_moved_to():
    policy = EopPolicy(WORLD, P.MX, 1)
    ctx = SessionContext("203.0.113.50", NODE.mx_ip, 25, NOW, helo="mail.ixmsoft.com")
    turn = P.mail_from(WORLD, policy.session(ctx), "a@ixmsoft.com")
    assert policy.mail_from(ctx, "a@ixmsoft.com", {}).accepted
    ctx.mail_from = "a@ixmsoft.com"
    assert policy.session(ctx) == turn.session
    ctx.mail_from = "b@ixmsoft.com"  # not what the Turn moved to: a session of its own
    assert policy.session(ctx).mail_from == "b@ixmsoft.com"
    ctx.mail_from = "a@ixmsoft.com"
    assert policy.rcpt_to(ctx, "user02@ixmsoft.com", {}).accepted
    assert policy.session(ctx) == _plain_session(policy, ctx)  # the context kept its recipients: not the Turn's
    assert policy.session(ctx).recipients == ()


def test_each_question_is_attributed_from_its_own_connection_facts():
    """The facts opened last are used again only for the same TLS facts, instant and client address."""
    expiring = ChainFacts(cert("mail.ixmsoft.com", days_left=0), True)  # valid at NOW, expired a day later
    tls = TlsFacts(peer_names=("mail.ixmsoft.com",), peer_cert=expiring)
    for endpoint in P.ENDPOINTS:
        policy = EopPolicy(WORLD, endpoint, 2)
        instants = (NOW, NOW + timedelta(days=1), NOW)
        addresses = ("198.51.100.40", "203.0.113.50", "198.51.100.40", "192.0.2.66")
        asked = [(t, n, a) for t in (None, tls) for n in instants for a in addresses]  # the address changes alone
        asked += [(t, n, a) for t in (None, tls) for a in addresses for n in instants]  # the instant alone
        asked += [(t, n, a) for a in addresses for n in instants for t in (None, tls, None)]  # the TLS facts alone
        for tls_facts, now, client_ip in asked:
            ctx = SessionContext(client_ip, NODE.mx_ip, 25, now, helo="mail.ixmsoft.com", tls=tls_facts)
            session = _same(policy, ctx)
            assert (session.conn.source_ip, session.connected_at) == (client_ip, now)
