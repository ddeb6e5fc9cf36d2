"""The Exchange on-premises receive policy: what the session machine asks, answered from one
receive connector, its server and the organisation (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange as cat
from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import R_ACCEPT_HEADERS_ORGANIZATION, ReceiveConnector
from lab.core.exchange.headers import (
    AUTH_AS, AUTH_SOURCE, TlsFacts, add_headers, header_value, organization_headers, promote_cross_premises,
    received_header, strip_headers, strip_organization_headers,
)
from lab.core.exchange.model import ExchangeServer, Mailbox, Organization
from lab.core.exchange.receive import Decision, Principal
from lab.core.exchange.session import AcceptedMessage, SessionContext, SubmitResult
from lab.core.memo import Memo
from lab.core.fastpath import frozen_init


# AUTH logon lookups through an index per organization object (Organization.mailbox_by_logon
# walks every mailbox): lower-cased logon name -> the first mailbox that has it, as the walk
# finds it. An Organization is a frozen record of immutable fields (an edit makes a new one);
# the entry holds it so its id is never reused.
# Each entry also holds one Principal per mailbox (equal to any other Principal("user", mailbox)),
# so that the rights remembered per (connector, principal) object serve every session of a user.
_LOGONS = Memo(256)


def _user_by_logon(org: Organization, logon: str) -> tuple[Mailbox, Principal] | None:
    return _LOGONS.get1(org, None, _logon_index, org).get(logon.split("\\")[-1].lower())


def _logon_index(org: Organization) -> dict[str, tuple[Mailbox, Principal]]:
    index: dict[str, tuple[Mailbox, Principal]] = {}
    for mailbox in org.mailboxes:
        user = (mailbox, Principal("user", mailbox))
        for name in mailbox.logon_names():
            index.setdefault(name.lower(), user)
    return index


# An organization's server FQDNs (lower-case) per organization object, and the Principal of a
# server that proved one of them (frozen records: shared objects equal fresh ones).
_SERVER_FQDNS = Memo(256)


def _server_fqdns(org: Organization) -> frozenset[str]:
    return _SERVER_FQDNS.get1(org, None, lambda: frozenset(s.fqdn.lower() for s in org.servers))


@lru_cache(maxsize=4096)
def _server_principal(fqdn: str) -> Principal:
    return Principal("server", server_fqdn=fqdn)


# RCPT verdicts (receive.rcpt_verdict: a pure function of frozen records and values; a Decision is
# frozen, so one object serves every session that gets the same answer: a client sends to the same
# recipients again and again)
_RCPT_VERDICTS = Memo()


def _rcpt_verdict(connector: ReceiveConnector, rights: frozenset[str], org: Organization, version: int,
                  recipient: str, accepted_so_far: int) -> Decision:
    return rv.rcpt_verdict(connector, rights, org=org, version=version, recipient=recipient,
                           accepted_so_far=accepted_so_far)


_LAST_BANNER = "_last_banner"  # where ExchangePolicy.banner keeps its last (instant, line)


@frozen_init
@dataclass(frozen=True)
class ExchangePolicy:
    """Answers for one connection accepted by ``connector`` on ``server``.

    Attributes:
        connector: the connector selected at accept time.
        server: the Exchange server.
        org: the organisation (accepted domains, mailboxes, servers).
        cert_available: a certificate for the connector could be loaded (else no STARTTLS).
    """

    connector: ReceiveConnector
    server: ExchangeServer
    org: Organization
    cert_available: bool = False

    @property
    def max_protocol_errors(self) -> int:
        """MaxProtocolErrors of the connector."""
        return self.connector.max_protocol_errors

    # Facts of the frozen connector and server, worked out once per policy object and kept beside its
    # fields (cached_property: not fields, so equality, hashing and repr ignore them), as a Reply
    # keeps its line: the in-memory lab keeps one policy per (node, connector, certificate).
    @cached_property
    def fqdn(self) -> str:
        """The connector FQDN (banner, EHLO, Received, 250 2.6.0 Hostname)."""
        return self.connector.effective_fqdn(self.server)

    @cached_property
    def _ehlo_tails(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The EHLO lines after the hello line: before TLS, after TLS (receive.ehlo_tail)."""
        return (rv.ehlo_tail(self.connector, self.server, False, self.cert_available),
                rv.ehlo_tail(self.connector, self.server, True, self.cert_available))

    @cached_property
    def _server_fqdns(self) -> frozenset[str]:
        return _server_fqdns(self.org)

    @cached_property
    def _anonymous_rights(self) -> frozenset[str]:
        return rv.rights_for(self.connector, rv.ANONYMOUS)

    @cached_property
    def _server_rights(self) -> frozenset[str]:
        # a principal's rights follow from its kind and mailbox alone (receive._rights_for): every
        # organisation server holds the same ones
        return rv.rights_for(self.connector, _server_principal(""))

    def rights(self, ctx: SessionContext) -> frozenset[str]:
        """The session's extended rights now."""
        principal = ctx.principal
        if principal is rv.ANONYMOUS:  # most sessions, asked at every MAIL, RCPT and DATA
            return self._anonymous_rights
        if principal.kind == "server" and principal.mailbox is None:  # server to server (after STARTTLS)
            return self._server_rights
        return rv.rights_for(self.connector, principal)

    def banner(self, ctx: SessionContext) -> str:
        """The 220 greeting (receive.banner_line), the last one kept beside the policy's fields with the
        instant it was written for: the lab hands out one datetime per instant, and every connection
        accepted at that instant is greeted with the same line (identity, as banner_line's memo keys it)."""
        now = ctx.now
        last = self.__dict__.get(_LAST_BANNER)
        if last is not None and last[0] is now:
            return last[1]
        line = rv.banner_line(self.connector, self.server, now)
        self.__dict__[_LAST_BANNER] = (now, line)  # (holds the instant: its id stays its own)
        return line

    def hello(self, ctx: SessionContext, extended: bool) -> tuple[str, ...]:
        """EHLO lines, or the one HELO line."""
        if extended:  # receive.ehlo_lines
            return rv.ehlo_reply(self.fqdn, ctx.client_ip, self._ehlo_tails[ctx.tls is not None])
        return (cat.S250_HELLO.format(fqdn=self.fqdn, ip=ctx.client_ip).line(),)

    def starttls_offered(self, ctx: SessionContext) -> bool:
        """STARTTLS is advertised now."""
        return rv.starttls_offered(self.connector, ctx.tls is not None, self.cert_available)

    def basic_auth_offered(self, ctx: SessionContext) -> bool:
        """LOGIN is advertised now (the lab also takes PLAIN where LOGIN is)."""
        return rv.basic_auth_offered(self.connector, ctx.tls is not None)

    def authenticate(self, ctx: SessionContext, username: str, password: str) -> Principal | None:
        """A mailbox whose logon name and password match."""
        user = _user_by_logon(self.org, username)
        if user is None or not user[0].password or user[0].password != password:
            return None
        return user[1]

    def principal_from_tls(self, ctx: SessionContext, tls: TlsFacts) -> Principal:
        """An organisation server when its certificate names a server FQDN (ExchangeServer auth)."""
        fqdns = self._server_fqdns
        for named in tls.peer_names:  # the first name that is a server FQDN
            if named.lower() in fqdns:
                if "ExchangeServer" in self.connector.auth_mechanism:
                    return _server_principal(named)
                break
        return ctx.principal

    def mail_from(self, ctx: SessionContext, sender: str, params: dict[str, str]) -> Decision:
        """MAIL FROM (receive.mail_from_verdict)."""
        size = int(params["SIZE"]) if params.get("SIZE", "").isdigit() else None
        rights = self._anonymous_rights if ctx.principal is rv.ANONYMOUS else self.rights(ctx)  # = self.rights(ctx)
        return rv.mail_from_verdict(self.connector, rights, tls_active=ctx.tls is not None,
                                    principal=ctx.principal, sender=sender, size=size, org=self.org)

    def rcpt_to(self, ctx: SessionContext, recipient: str, params: dict[str, str]) -> Decision:
        """RCPT TO (receive.rcpt_verdict)."""
        rights = self._anonymous_rights if ctx.principal is rv.ANONYMOUS else self.rights(ctx)  # = self.rights(ctx)
        # remembered per (connector, organization) object and the values it reads
        version, so_far = self.server.version, len(ctx.recipients)
        return _RCPT_VERDICTS.get2(self.connector, self.org, (rights, version, recipient, so_far),
                                   _rcpt_verdict, self.connector, rights, self.org, version, recipient, so_far)

    def end_of_data(self, ctx: SessionContext, content: bytes, octets: int) -> Decision:
        """Size and send-as (receive.data_verdict)."""
        rights = self._anonymous_rights if ctx.principal is rv.ANONYMOUS else self.rights(ctx)  # = self.rights(ctx)
        return rv.data_verdict(self.connector, rights, principal=ctx.principal,
                               sender=ctx.mail_from or "", octets=octets)

    def build_message(self, ctx: SessionContext, content: bytes, guid: str,
                      decisions: tuple[Decision, ...]) -> AcceptedMessage:
        """Header firewall, cross-premises promotion, Received, AuthAs/AuthSource, Message-ID when missing.

        A session with the AcceptCloudServicesMail capability (EOP's certificate on a connector with
        TlsDomainCapabilities, :func:`receive.cloud_services_mail`) promotes the
        ``X-MS-Exchange-CrossPremises-*`` headers: mail the tenant sent is ``AuthAs: Internal``,
        external mail relayed through the tenant stays ``Anonymous`` (B-ADVROUTE).
        """
        rights = self._anonymous_rights if ctx.principal is rv.ANONYMOUS else self.rights(ctx)  # = self.rights(ctx)
        if R_ACCEPT_HEADERS_ORGANIZATION not in rights:
            content = strip_organization_headers(content)
        internal = ctx.principal.kind != "anonymous"  # ctx.principal.authenticated, inline
        cloud = rv.cloud_services_mail(self.connector, ctx.tls, ctx.now)
        if cloud.accepted:
            content = promote_cross_premises(content)
            internal = internal or header_value(content, AUTH_AS) == cat.HDR_AUTH_AS_INTERNAL.text
            content = strip_headers(strip_headers(content, AUTH_AS), AUTH_SOURCE)
            decisions = (*decisions, cloud)
        message_id = header_value(content, "Message-ID")
        bottom = organization_headers(authenticated=internal, auth_source=self.fqdn)
        if not message_id:
            message_id = f"<{guid}@{self.fqdn}>"
            bottom += f"Message-ID: {message_id}\r\n"
        top = received_header(helo=ctx.helo or ctx.client_ip, client_ip=ctx.client_ip, fqdn=self.fqdn,
                              server_ip=ctx.local_ip, build=self.server.build, version=self.server.version,
                              tls=ctx.tls, frontend=self.connector.transport_role == "FrontendTransport",
                              now=ctx.now)
        # every field, in order, through the class's own (frozen_init) __init__: cheaper in instructions
        # than fastpath.make's keyword dict, which costs fewer opcodes but builds and checks the dict
        return AcceptedMessage(
            ctx.mail_from or "", ctx.recipients, add_headers(content, top, bottom), message_id, ctx.client_ip,
            ctx.helo or "", ctx.local_ip, ctx.local_port, self.server.name, self.connector.name, ctx.principal,
            ctx.tls, ctx.now, ctx.mail_options, decisions)

    def queued_reply(self, result: SubmitResult) -> Reply:
        """``250 2.6.0 <id> [InternalId=n, Hostname=fqdn] Queued mail for delivery``."""
        return cat.S250_2_6_0_QUEUED.format(message_id=result.message_id, internal_id=result.internal_id,
                                            hostname=self.fqdn)

    def queued_lines(self, result: SubmitResult) -> tuple[str, ...]:
        """:meth:`queued_reply` as wire lines (``receive.once_reply_lines`` of it)."""
        return rv.formatted_reply_lines(cat.S250_2_6_0_QUEUED, {"message_id": result.message_id,
                                                                "internal_id": result.internal_id,
                                                                "hostname": self.fqdn})
