"""EOP's front door as a :class:`lab.core.exchange.session.Policy`: the receive-side session
machine (SMTP grammar, STARTTLS, AUTH, DATA) asks, :mod:`lab.core.eop.policy` answers.

The TLS facts the session holds carry the client certificate as
:class:`lab.core.tls.ChainFacts` (the adapter judged its chain against the INTERNET trust
store) or as plain :class:`~lab.core.tls.CertFacts` (then it is taken as untrusted).
"""
from __future__ import annotations

from lab.core.catalogue import Reply
from lab.core.catalogue import eop as cat
from lab.core.eop import policy as P
from lab.core.eop.attribution import AUTH_AS_INTERNAL, Attribution, ConnectionFacts, auth_as
from lab.core.eop.headers import stamp
from lab.core.exchange.headers import TlsFacts, add_headers, header_value
from lab.core.exchange.receive import ANONYMOUS, Decision, Principal, formatted_reply_lines
from lab.core.exchange.session import AcceptedMessage, SessionContext, SubmitResult
from lab.core.tls import CertFacts, ChainFacts


def connection_facts(ctx: SessionContext) -> ConnectionFacts:
    """The attribution inputs of a session context."""
    if ctx.tls is None:
        return ConnectionFacts(ctx.client_ip)
    peer = ctx.tls.peer_cert
    if isinstance(peer, ChainFacts):
        return ConnectionFacts(ctx.client_ip, True, peer.leaf, peer.trusted)
    return ConnectionFacts(ctx.client_ip, True, peer if isinstance(peer, CertFacts) else None, False)


def _decision(turn: P.Turn) -> Decision:
    return Decision(turn.reply.is_positive, turn.reply, turn.rule, turn.reasons, False, turn.session.attribution)


# P.end_of_data's positive Turn as a Decision (a frozen record: one object serves every message)
_ACCEPTED_AT_END_OF_DATA = Decision(True, None, P.Turn.__dataclass_fields__["rule"].default, P.END_OF_DATA_ACCEPTED)


class EopPolicy:
    """The Policy of one EOP endpoint (``mx`` or ``submission``) for one connection.

    Args:
        world: the EOP node and its tenants.
        endpoint: :data:`lab.core.eop.policy.MX` or :data:`~lab.core.eop.policy.SUBMISSION`.
        seq: a per-connection number (makes the ids in replies unique).
    """

    max_protocol_errors = 10

    def __init__(self, world: P.EopWorld, endpoint: str, seq: int = 0):
        if endpoint not in P.ENDPOINTS:
            raise ValueError(f"unknown EOP endpoint {endpoint!r}")
        self.world = world
        self.endpoint = endpoint
        self.seq = seq
        # The opened front-door session's facts (its attribution) for the last (TLS facts, instant) object
        # and client address asked about: a pure function of them and of this policy's frozen world,
        # endpoint and seq, the same for every command until STARTTLS or the lab clock changes it (on one
        # connection neither goes back: the last one is the only one asked again).
        self._opened: tuple = (None, None, None, None)
        # the session of the last command, or the one its Turn moved to (see :meth:`session`)
        self._last: P.FrontDoorSession | None = None

    def _open(self, ctx: SessionContext) -> tuple[ConnectionFacts, Attribution | None, tuple[str, ...]]:
        """What P.opened_session writes into the session it opens for ``ctx``: the connection facts and
        their attribution at ``ctx.now`` with its reasons (the session itself is written by :meth:`session`)."""
        conn = connection_facts(ctx)
        return (conn, *P._attribute(self.world, conn, ctx.now))

    def session(self, ctx: SessionContext) -> P.FrontDoorSession:
        """The front-door session equivalent to ``ctx`` (attribution computed at ``ctx.now``)."""
        opened = self._opened
        if opened[0] is not ctx.tls or opened[1] is not ctx.now or opened[2] != ctx.client_ip or opened[3] is None:
            self._opened = opened = (ctx.tls, ctx.now, ctx.client_ip, self._open(ctx))
        conn, attribution, reasons = opened[3]
        user = ctx.principal.mailbox.primary_smtp_address if ctx.principal.mailbox else None
        # The connection's last session (the one the previous command was answered on, or the session its
        # Turn moved to) when every field is what would be written now: one frozen record serves the
        # commands of a transaction (MAIL's Turn -> RCPT, RCPT's -> the next RCPT or the end of DATA, the
        # end of DATA's -> build_message) instead of one rebuilt per command with the same content.
        last = self._last
        if last is not None and last.conn is conn and last.connected_at is ctx.now and last.helo == ctx.helo \
                and last.user == user and last.mail_from == ctx.mail_from and last.recipients == ctx.recipients \
                and last.attribution is attribution and last.attribution_reasons is reasons:
            return last
        # P.opened_session(...) evolved with helo=..., user=..., mail_from=..., recipients=..., every field
        # given in order to the class's own (frozen_init) __init__: fewer instructions than opening a session
        # and copying it (tests/unit/test_session_in_place.py holds the two to the same sessions)
        self._last = last = P.FrontDoorSession(self.endpoint, conn, ctx.now, self.seq, ctx.helo, user,
                                               ctx.mail_from, ctx.recipients, attribution, reasons)
        return last

    def banner(self, ctx: SessionContext) -> str:
        """``220 <fe host> Microsoft ESMTP MAIL Service ready at <date>``."""
        return P.banner(self.world, self.endpoint, ctx.now).line()

    def hello(self, ctx: SessionContext, extended: bool) -> tuple[str, ...]:
        """EHLO: fidelity §1.3's lists; HELO: the hello line alone."""
        # (written from the connection's facts alone: the session is attributed when MAIL asks, and
        # one greeted before STARTTLS never needs it)
        lines = P.connection_ehlo_reply(self.world, self.endpoint, ctx.client_ip, ctx.tls is not None)
        return lines if extended else (lines[0].replace("250-", "250 ", 1),)

    def starttls_offered(self, ctx: SessionContext) -> bool:
        """Both endpoints offer STARTTLS before TLS."""
        return ctx.tls is None

    def basic_auth_offered(self, ctx: SessionContext) -> bool:
        """AUTH LOGIN on smtp.office365.com after STARTTLS only."""
        return self.endpoint == P.SUBMISSION and ctx.tls is not None

    def authenticate(self, ctx: SessionContext, username: str, password: str) -> Principal | None:
        """A tenant mailbox's credentials (the UPN is its primary SMTP address)."""
        turn = P.auth(self.world, self.session(ctx), username, password)
        self._last = turn.session
        if turn.session.user is None:
            return None
        mailbox = next(m for t in self.world.tenants for m in t.mailboxes
                       if m.primary_smtp_address == turn.session.user)
        return Principal("user", mailbox)

    def principal_from_tls(self, ctx: SessionContext, tls: TlsFacts) -> Principal:
        """A certificate attributes a connector, not a principal: the session stays anonymous."""
        return ANONYMOUS

    def mail_from(self, ctx: SessionContext, sender: str, params: dict[str, str]) -> Decision:
        """MAIL FROM (see :func:`lab.core.eop.policy.mail_from`)."""
        turn = P.mail_from(self.world, self.session(ctx), sender)
        self._last = turn.session
        return _decision(turn)

    def rcpt_to(self, ctx: SessionContext, recipient: str, params: dict[str, str]) -> Decision:
        """RCPT TO (see :func:`lab.core.eop.policy.rcpt_to`)."""
        turn = P.rcpt_to(self.world, self.session(ctx), recipient, ctx.now)
        self._last = turn.session
        return _decision(turn)

    def end_of_data(self, ctx: SessionContext, content: bytes, octets: int) -> Decision:
        """The send-as check of smtp.office365.com; the MX endpoint accepts."""
        # (P.end_of_data without its 250 reply, which the session does not send: the sink's receipt names
        # the queued message, see queued_lines)
        refused = P.end_of_data_refusal(self.world, self.session(ctx))
        if refused is not None:
            return _decision(refused)
        return _ACCEPTED_AT_END_OF_DATA

    def build_message(self, ctx: SessionContext, content: bytes, guid: str,
                      decisions: tuple[Decision, ...]) -> AcceptedMessage:
        """The message as EOP passes it on: Received, AuthAs/AuthSource (fidelity §7)."""
        session = self.session(ctx)
        internal = session.authenticated or auth_as(session.attribution) == AUTH_AS_INTERNAL
        server_ip = self.world.node.submission_ip if self.endpoint == P.SUBMISSION else self.world.node.mx_ip
        message_id = header_value(content, "Message-ID")
        if not message_id:
            message_id = f"<{guid}@{P.internal_host(self.world.node, self.endpoint)}>"
            content = add_headers(content, "", f"Message-ID: {message_id}\r\n")
        data = stamp(content, helo=ctx.helo or ctx.client_ip, client_ip=ctx.client_ip,
                     frontend_host=P.banner_host(self.world.node, self.endpoint), server_ip=server_ip, tls=ctx.tls,
                     auth_as_internal=internal, auth_source=P.internal_host(self.world.node, self.endpoint),
                     now=ctx.now)
        connector = session.attribution.connector.name if session.attribution else ""
        return AcceptedMessage(ctx.mail_from or "", ctx.recipients, data, message_id, ctx.client_ip,
                               ctx.helo or "", ctx.local_ip, ctx.local_port, self.world.node.name, connector,
                               ctx.principal, ctx.tls, ctx.now, ctx.mail_options, decisions)

    def queued_reply(self, result: SubmitResult) -> Reply:
        """``250 2.6.0 <id> [InternalId=..., Hostname=<internal host>] Queued mail for delivery``."""
        return cat.S250_2_6_0_QUEUED.format(message_id=result.message_id, internal_id=result.internal_id,
                                            hostname=P.internal_host(self.world.node, self.endpoint))

    def queued_lines(self, result: SubmitResult) -> tuple[str, ...]:
        """:meth:`queued_reply` as wire lines (``receive.once_reply_lines`` of it)."""
        return formatted_reply_lines(cat.S250_2_6_0_QUEUED, {
            "message_id": result.message_id, "internal_id": result.internal_id,
            "hostname": P.internal_host(self.world.node, self.endpoint)})


