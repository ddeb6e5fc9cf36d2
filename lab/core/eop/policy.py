"""EOP's front door as a sans-I/O session: the reply to every command (fidelity §1.3, §4.4, §5).

Two endpoints share the code:

- ``mx`` (``<tenant>.mail.protection.outlook.com``, port 25): opportunistic STARTTLS, anonymous
  ``MAIL FROM`` -> ``250 2.1.0 Sender OK``; at RCPT: banned source (5.7.606), restricted
  Partner connector (5.7.51), tenant recipient (250 2.1.5), unknown recipient of an
  Authoritative domain (DBEB 5.4.1), external recipient (relay rules, 5.7.64).
- ``submission`` (smtp.office365.com, 587/25): AUTH LOGIN only after STARTTLS; anonymous
  MAIL FROM, with or without TLS -> ``530 5.7.57`` (the older text of article 001,
  see :data:`lab.core.catalogue.eop.S530_5_7_57_NOT_AUTHENTICATED_LEGACY`); any recipient once
  authenticated; a MAIL FROM that is not the user's -> ``550 5.7.60`` at the end of DATA.

Each call returns a :class:`Turn`: the reply, the new session and the reasons.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

from lab.core.catalogue import Reply
from lab.core.catalogue import eop as cat
from lab.core.catalogue import exchange as excat
from lab.core.eop.attribution import (Attribution, ConnectionFacts, attribute, partner_restriction, rejection,
                                      relay_decision, tls_requirement)
from lab.core.eop.model import EopNode, Tenant, ip_in
from lab.core.exchange.headers import exchange_date
from lab.core.fastpath import evolve, frozen_init
from lab.core.memo import Memo
from lab.core.tls import CertFacts

MX = "mx"
SUBMISSION = "submission"
ENDPOINTS = (MX, SUBMISSION)
_REGION = re.compile(r"^[A-Z]+\d*([A-Z]{3}\d{2})FT\d+$")
_TICKS_AT_EPOCH = 621355968000000000  # .NET ticks of 1970-01-01T00:00:00Z
SUBMISSION_INTERNAL_SUFFIX = "eurprd02.prod.outlook.com"  # lab choice: captures show <label>.<region>prd<nn>...


@dataclass(frozen=True)
class EopWorld:
    """What the front door knows: the EOP node and the tenants behind it."""

    node: EopNode
    tenants: tuple[Tenant, ...] = ()

    def tenant_for(self, domain: str) -> Tenant | None:
        """The tenant that accepts ``domain``.

        Remembered per (world object, domain): a frozen record of frozen tenants and a string in,
        asked at every RCPT and queue step for the same few domains."""
        return _TENANT_FOR.get1(self, domain, _tenant_for, self.tenants, domain)


_TENANT_FOR = Memo()


def _tenant_for(tenants: tuple[Tenant, ...], domain: str) -> Tenant | None:
    return next((t for t in tenants if t.is_accepted(domain)), None)


def internal_host(node: EopNode, endpoint: str) -> str:
    """The server name EOP writes inside ``[...]`` of its replies.

    ``AM5EUR02FT025.mail.protection.outlook.com`` -> ``AM5EUR02FT025.eop-EUR02.prod.protection.outlook.com``;
    smtp.office365.com's ``AM6PR02CA0041.outlook.office365.com`` -> ``AM6PR02CA0041.eurprd02.prod.outlook.com``.
    """
    return _internal_host(node.submission_host, SUBMISSION) if endpoint == SUBMISSION else \
        _internal_host(node.frontend_host, MX)


@lru_cache(maxsize=256)
def _internal_host(host: str, endpoint: str) -> str:
    """:func:`internal_host` of the endpoint's host name (remembered per name: a pure function of the
    text, asked at every MAIL, RCPT and end of DATA)."""
    if endpoint == SUBMISSION:
        return f"{host.split('.')[0]}.{SUBMISSION_INTERNAL_SUFFIX}"
    label = host.split(".")[0]
    match = _REGION.match(label)
    return cat.HDR_EOP_INTERNAL_HOST.format(label=label, region=match.group(1)) if match else host


def banner_host(node: EopNode, endpoint: str) -> str:
    """The name in the 220 banner and the EHLO reply."""
    return node.submission_host if endpoint == SUBMISSION else node.frontend_host


def iso_ms(now: datetime) -> str:
    """``2023-06-22T08:26:31.592Z``."""
    now = now.astimezone(timezone.utc)
    if now.year < 1000:  # (strftime's %Y of such a year is the platform's choice)
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    # the strftime text written from the fields: the same digits at half the cost
    return f"{now.year}-{now.month:02d}-{now.day:02d}T{now.hour:02d}:{now.minute:02d}:{now.second:02d}." \
           f"{now.microsecond // 1000:03d}Z"


def ticks_id(now: datetime, seq: int = 0) -> str:
    """A 16-hex-digit id from .NET ticks (``08DB72B25E50380B`` in 2023), ``seq`` added for uniqueness."""
    ticks = _TICKS_AT_EPOCH + int(now.astimezone(timezone.utc).timestamp() * 10_000_000) + seq
    return f"{ticks:016X}"


@frozen_init
@dataclass(frozen=True)
class FrontDoorSession:
    """One SMTP session at an EOP endpoint (frozen; every command returns a new one)."""

    endpoint: str
    conn: ConnectionFacts
    connected_at: datetime
    seq: int = 0
    helo: str | None = None
    user: str | None = None  # the authenticated mailbox's primary address
    mail_from: str | None = None
    recipients: tuple[str, ...] = ()
    attribution: Attribution | None = None
    attribution_reasons: tuple[str, ...] = field(default=(), compare=False)

    @property
    def authenticated(self) -> bool:
        """AUTH succeeded."""
        return self.user is not None


@frozen_init
@dataclass(frozen=True)
class Turn:
    """The answer to one command: the reply, the new session and why."""

    reply: Reply
    session: FrontDoorSession
    reasons: tuple[str, ...] = ()
    rule: str = "eop.front_door (fidelity §1.3)"


def _attribute(world: EopWorld, conn: ConnectionFacts, now: datetime) -> tuple[Attribution | None, tuple[str, ...]]:
    """The connection's attribution (or None) and the reasons, tenant by tenant.

    Remembered per (world, client certificate, instant) object and the connection's address and
    TLS flags: every input is a frozen record or a value (the lab hands out one datetime per
    instant), and every connection from one host at one instant asks again (at EHLO, after STARTTLS).
    """
    return _ATTRIBUTED.get((world, conn.client_cert, now), (conn.source_ip, conn.tls, conn.client_cert_trusted),
                           _attribute_tenants, world, conn, now)


_ATTRIBUTED = Memo()


def _attribute_tenants(world: EopWorld, conn: ConnectionFacts,
                       now: datetime) -> tuple[Attribution | None, tuple[str, ...]]:
    reasons: list[str] = []
    for tenant in world.tenants:
        decision = attribute(tenant, conn, now)
        reasons.extend(decision.reasons)
        if decision.result is not None:
            return decision.result, tuple(reasons)
    return None, tuple(reasons)


def open_session(world: EopWorld, endpoint: str, conn: ConnectionFacts, now: datetime, seq: int = 0) -> Turn:
    """A new connection: the 220 banner (``<fe host> Microsoft ESMTP MAIL Service ready at <date>``)."""
    session = opened_session(world, endpoint, conn, now, seq)
    return Turn(banner(world, endpoint, now), session, session.attribution_reasons)


def opened_session(world: EopWorld, endpoint: str, conn: ConnectionFacts, now: datetime,
                   seq: int = 0) -> FrontDoorSession:
    """:func:`open_session`'s session alone (the connection attributed at ``now``)."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown EOP endpoint {endpoint!r}")
    attribution, reasons = _attribute(world, conn, now)
    return FrontDoorSession(endpoint, conn, now, seq, attribution=attribution, attribution_reasons=reasons)


def banner(world: EopWorld, endpoint: str, now: datetime) -> Reply:
    """:func:`open_session`'s 220 banner alone."""
    return cat.S220_BANNER.format(fqdn=banner_host(world.node, endpoint), date=exchange_date(now.astimezone(timezone.utc)))


def ehlo_lines(world: EopWorld, session: FrontDoorSession) -> tuple[str, ...]:
    """The EHLO keywords after the hello line: STARTTLS before TLS; after TLS nothing (MX) or
    ``AUTH LOGIN XOAUTH2`` in its place (smtp.office365.com)."""
    return _ehlo_keywords(session.endpoint, session.conn.tls)


def _ehlo_keywords(endpoint: str, tls: bool) -> tuple[str, ...]:
    tls_line = (cat.EHLO_AUTH_LOGIN_XOAUTH2.text if endpoint == SUBMISSION else None) \
        if tls else cat.EHLO_STARTTLS.text
    keys = [cat.EHLO_SIZE.text, cat.EHLO_PIPELINING.text, cat.EHLO_DSN.text, cat.EHLO_ENHANCEDSTATUSCODES.text,
            tls_line, cat.EHLO_8BITMIME.text, cat.EHLO_BINARYMIME.text, cat.EHLO_CHUNKING.text, cat.EHLO_SMTPUTF8.text]
    return tuple([k for k in keys if k])


def ehlo(world: EopWorld, session: FrontDoorSession, helo: str) -> tuple[tuple[str, ...], FrontDoorSession]:
    """EHLO: the multi-line reply as wire lines (``250-...`` / ``250 ...``) and the new session."""
    return ehlo_reply(world, session), evolve(session, helo=helo, mail_from=None, recipients=())


def ehlo_reply(world: EopWorld, session: FrontDoorSession) -> tuple[str, ...]:
    """:func:`ehlo`'s reply alone (it depends on the endpoint and the connection, not on the session's state):
    :func:`connection_ehlo_reply` of the session's endpoint, client address and TLS."""
    conn = session.conn
    return connection_ehlo_reply(world, session.endpoint, conn.source_ip, conn.tls)


def connection_ehlo_reply(world: EopWorld, endpoint: str, source_ip: str, tls: bool) -> tuple[str, ...]:
    """The EHLO reply at ``endpoint`` to a client at ``source_ip`` (``tls``: after STARTTLS): what
    :func:`ehlo_reply` answers for any session of such a connection, without opening one (a front
    door asks before it needs the connection attributed).

    Remembered per EOP node object and (endpoint, client address, TLS): what the reply is written
    from (the node is a frozen record), the same for every connection from one host."""
    return _EHLO_REPLIES.get1(world.node, (endpoint, source_ip, tls), _ehlo_reply, world.node, endpoint,
                              source_ip, tls)


_EHLO_REPLIES = Memo()


def _ehlo_reply(node: EopNode, endpoint: str, source_ip: str, tls: bool) -> tuple[str, ...]:
    hello = cat.S250_HELLO.format(fqdn=banner_host(node, endpoint), ip=source_ip)
    texts = (hello.text, *_ehlo_keywords(endpoint, tls))
    return (*[f"250-{t}" for t in texts[:-1]], f"250 {texts[-1]}")


def starttls_done(world: EopWorld, session: FrontDoorSession, client_cert: CertFacts | None, trusted: bool,
                  now: datetime) -> FrontDoorSession:
    """The TLS layer is up: RFC 3207 resets the session; the connection is attributed again."""
    conn = evolve(session.conn, tls=True, client_cert=client_cert, client_cert_trusted=trusted)
    attribution, reasons = _attribute(world, conn, now)
    return evolve(session, conn=conn, helo=None, user=None, mail_from=None, recipients=(),
                   attribution=attribution, attribution_reasons=reasons)


def auth(world: EopWorld, session: FrontDoorSession, logon: str, password: str) -> Turn:
    """AUTH LOGIN on smtp.office365.com: ``235 2.7.0`` or ``535 5.7.3``; before TLS ``504 5.7.4``."""
    if session.endpoint != SUBMISSION or not session.conn.tls:
        return Turn(cat.S504_5_7_4_UNRECOGNIZED_AUTH_TYPE, session, ("AUTH is offered only after STARTTLS",))
    for tenant in world.tenants:
        mailbox = tenant.mailbox_by_logon(logon)
        if mailbox is not None and mailbox.password and mailbox.password == password:
            return Turn(cat.S235_2_7_0_AUTH_OK, evolve(session, user=mailbox.primary_smtp_address),
                        (f"{logon} authenticated as mailbox {mailbox.name} of tenant {tenant.name}",))
    return Turn(cat.S535_5_7_3_AUTH_UNSUCCESSFUL, session, (f"no mailbox {logon!r} with that password",))


def mail_from(world: EopWorld, session: FrontDoorSession, address: str) -> Turn:
    """MAIL FROM (sequence, TLS requirement, authentication)."""
    if session.helo is None:
        return Turn(excat.S503_5_5_2_SEND_HELLO_FIRST, session, ("MAIL before EHLO/HELO",))
    if session.endpoint == SUBMISSION:
        if not session.authenticated:
            # Article 001: telnet smtp.office365.com 25, EHLO, MAIL FROM (no TLS) -> 530 5.7.57.
            # AUTH is offered only after STARTTLS, so an unauthenticated session is refused here
            # with or without TLS.
            why = "anonymous MAIL FROM on the client submission endpoint (M-MFD-FIX; seed 001)"
            if not session.conn.tls:
                why += "; AUTH is offered only after STARTTLS"
            host = internal_host(world.node, SUBMISSION)  # (the only reply of MAIL that names the host)
            return Turn(cat.S530_5_7_57_NOT_AUTHENTICATED_LEGACY.format(host=host), session, (why,),
                        "eop.submission (fidelity §5)")
        return Turn(cat.S250_2_1_0_SENDER_OK, _transaction(session, address, ()),
                    (f"authenticated as {session.user}",))
    required = tls_requirement(session.attribution, session.conn)
    if rejection(required):
        return Turn(required.result, session, required.reasons, required.rule)
    return Turn(cat.S250_2_1_0_SENDER_OK, _transaction(session, address, ()),
                ("anonymous MAIL FROM accepted on the MX endpoint (opportunistic TLS)",))


def _transaction(session: FrontDoorSession, mail_from: str | None, recipients: tuple[str, ...]) -> FrontDoorSession:
    """``evolve(session, mail_from=mail_from, recipients=recipients)``, every field given in order to
    the class's own (frozen_init) __init__: fewer instructions than copying the instance's dict
    (tests/unit/test_s14_session2_transaction.py holds the two to the same sessions)."""
    if type(session) is not FrontDoorSession:
        return evolve(session, mail_from=mail_from, recipients=recipients)
    return FrontDoorSession(session.endpoint, session.conn, session.connected_at, session.seq, session.helo,
                            session.user, mail_from, recipients, session.attribution, session.attribution_reasons)


def _recipient_added(session: FrontDoorSession, address: str) -> FrontDoorSession:
    """The session after RCPT TO ``address`` was accepted (written only when it is: a refused
    recipient leaves the session as it was)."""
    return _transaction(session, session.mail_from, (*session.recipients, address))


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _ident(host: str, now: datetime, session: FrontDoorSession) -> dict[str, str]:
    """The ``[Hostname=... Time=... Id=...]`` values of a rejection's text."""
    return dict(host=host, time=iso_ms(now), id=ticks_id(now, session.seq))


def rcpt_to(world: EopWorld, session: FrontDoorSession, address: str, now: datetime) -> Turn:
    """RCPT TO: the checks of the module docstring, in order."""
    if session.mail_from is None:
        return Turn(excat.S503_5_5_2_NEED_MAIL_COMMAND, session, ("RCPT before MAIL",))
    if session.endpoint == SUBMISSION:
        return Turn(cat.S250_2_1_5_RECIPIENT_OK, _recipient_added(session, address), ("authenticated submission may send to any recipient",))
    host = internal_host(world.node, MX)
    if world.node.banned_ips and ip_in(session.conn.source_ip, world.node.banned_ips):  # none: nothing to parse
        return Turn(cat.S550_5_7_606_BANNED_SENDING_IP.format(ip=session.conn.source_ip, host=host), session,
                    (f"{session.conn.source_ip} is a banned sending IP",), "eop.banned_ip (M-NDR-EXO)")
    tenant = world.tenant_for(_domain(address))
    if tenant is None:
        relay_tenant = next((t for t in world.tenants if session.attribution and t.name == session.attribution.tenant),
                            world.tenants[0] if world.tenants else None)
        if relay_tenant is None:
            return Turn(cat.S550_5_7_64_TENANT_ATTRIBUTION.format(host=host), session, ("no tenant behind EOP",))
        decision = relay_decision(relay_tenant, session.attribution, session.conn, session.mail_from, address, host)
        if decision.result is not None:
            return Turn(decision.result, session, session.attribution_reasons + decision.reasons, decision.rule)
        return Turn(cat.S250_2_1_5_RECIPIENT_OK, _recipient_added(session, address), decision.reasons, decision.rule)
    own = session.attribution if session.attribution and session.attribution.tenant == tenant.name else None
    restricted = partner_restriction(tenant, own, session.conn, session.mail_from)
    if restricted.result:
        return Turn(cat.S550_5_7_51_TENANT_INBOUND_ATTRIBUTION.format(**_ident(host, now, session)), session,
                    restricted.reasons, restricted.rule)
    if tenant.mailbox_for(address) or tenant.mail_user_for(address):
        return Turn(cat.S250_2_1_5_RECIPIENT_OK, _recipient_added(session, address), (f"{address} is a recipient of tenant {tenant.name}",))
    domain = tenant.accepted_domain_for(_domain(address))
    if domain is not None and domain.domain_type == "Authoritative":
        return Turn(cat.S550_5_4_1_DBEB_ACCESS_DENIED.format(**_ident(host, now, session)), session,
                    (f"{address} is not a recipient of tenant {tenant.name} and {domain.domain_name} is "
                     "Authoritative: Directory-Based Edge Blocking",), "eop.dbeb (M-541)")
    return Turn(cat.S250_2_1_5_RECIPIENT_OK, _recipient_added(session, address),
                (f"{domain.domain_name if domain else address} is {domain.domain_type if domain else 'accepted'}: "
                 "recipients are not checked",))


def end_of_data(world: EopWorld, session: FrontDoorSession, message_id: str, internal_id: int) -> Turn:
    """The end of DATA: send-as check on smtp.office365.com, then ``250 2.6.0 ... Queued mail for delivery``."""
    refused = end_of_data_refusal(world, session)
    if refused is not None:
        return refused
    reply = cat.S250_2_6_0_QUEUED.format(message_id=message_id, internal_id=internal_id,
                                         hostname=internal_host(world.node, session.endpoint))
    return Turn(reply, _transaction(session, None, ()), END_OF_DATA_ACCEPTED)


END_OF_DATA_ACCEPTED = ("message accepted",)  # the reasons of end_of_data's 250 Turn (rule: Turn's default)


def end_of_data_refusal(world: EopWorld, session: FrontDoorSession) -> Turn | None:
    """:func:`end_of_data`'s Turn when it refuses (no recipient, send-as), else None (it queues the mail)."""
    if not session.recipients:
        return Turn(excat.S503_5_5_2_NEED_RCPT_COMMAND, session, ("DATA before RCPT",))
    if session.endpoint == SUBMISSION and session.user and session.mail_from is not None:
        allowed = {a.lower() for t in world.tenants for m in t.mailboxes
                   if m.primary_smtp_address == session.user for a in m.email_addresses}
        if session.mail_from.lower() not in allowed:
            host = internal_host(world.node, session.endpoint)
            return Turn(cat.S550_5_7_60_SEND_AS_DENIED.format(host=host), evolve(session, mail_from=None, recipients=()),
                        (f"{session.user} may not send as {session.mail_from}",), "eop.send_as (M-MFD-FIX)")
    return None
