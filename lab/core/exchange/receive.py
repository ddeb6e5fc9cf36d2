"""Pure decisions of the Exchange receive side (fidelity §1.1, §1.2, §1.4, §3.4, §3.5, §3.6).

Each function takes frozen facts and returns a :class:`Decision` (or plain lines for EHLO);
the rule id names the fidelity section that justifies it.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Sequence

from lab.core.catalogue import WIRE_LINES, Reply, reply_line
from lab.core.catalogue import exchange as cat
from lab.core.exchange import connectors as rc
from lab.core.exchange.connectors import ReceiveConnector
from lab.core.exchange.headers import TlsFacts, exchange_date
from lab.core.exchange.model import ExchangeServer, Mailbox, Organization
from lab.core.tls import CertFacts, host_matches
from lab.core.fastpath import frozen_init
from lab.core.memo import Memo, Remembered

ACCEPT_CLOUD_SERVICES_MAIL = "AcceptCloudServicesMail"


@frozen_init
@dataclass(frozen=True)
class Decision:
    """The answer to one question, with its reasons.

    Attributes:
        accepted: True for a positive outcome.
        reply: the wire reply to send (None when the decision has no reply, e.g. no connector).
        rule: the rule id (``fidelity §x.y: ...``).
        reasons: human-readable steps that led here.
        disconnect: True when the server closes the connection after the reply.
        value: a payload (the selected connector, ...).
    """

    accepted: bool
    reply: Reply | None
    rule: str
    reasons: tuple[str, ...] = ()
    disconnect: bool = False
    value: Any = field(default=None, compare=False)


@frozen_init
@dataclass(frozen=True)
class Principal:
    """Who the session is, for permission checks.

    ``kind`` is ``anonymous``, ``user`` (AUTH with a mailbox's credentials), ``server`` (an
    organisation Exchange server: in the lab, TLS with a client certificate naming a server
    FQDN on a connector with ExchangeServer auth) or ``externally_secured``.
    """

    kind: str = "anonymous"
    mailbox: Mailbox | None = None
    server_fqdn: str | None = None

    @property
    def authenticated(self) -> bool:
        """True for anything but an anonymous session."""
        return self.kind != "anonymous"


ANONYMOUS = Principal()


def select_receive_connector(connectors: Iterable[ReceiveConnector], local_ip: str, local_port: int,
                             remote_ip: str) -> Decision:
    """The connector that takes a connection (fidelity §3.4, M-RCV); see :func:`_select`.

    Pure over frozen connectors, so the answer is remembered per (connectors, addresses): a
    server's connectors change only through a new World, and parsing the addresses of every
    binding and range on every connection was the receive side's hottest path.
    """
    conns = tuple(connectors)
    return _SELECTED.get(conns, (local_ip, local_port, remote_ip), _select, conns, local_ip, local_port, remote_ip)


_SELECTED_MAX = 4096  # one per (connectors, client and server address): a large world has thousands
_SELECTED = Memo(_SELECTED_MAX)


def _select(connectors: tuple[ReceiveConnector, ...], local_ip: str, local_port: int, remote_ip: str) -> Decision:
    """The connector that takes a connection (fidelity §3.4, M-RCV).

    Enabled connectors whose Bindings match ``local_ip:local_port`` (``0.0.0.0``/``::`` match any
    address of the family) and whose RemoteIPRanges contain ``remote_ip`` compete; the smallest
    matching range wins ("most specific match"), then a specific binding IP over an
    unspecified one, then the name. No candidate: ``accepted=False`` and the connection is
    closed without a banner.

    ``Binding.matches`` and ``IPRange.contains``, with every address text parsed once
    (:data:`_ADDRESSES`) instead of once per binding and range (held to the model's methods by
    tests/unit/test_receive_select.py).
    """
    # (smallest range, 0 for a specific binding, lower-case name, position, connector): sorted as they are,
    # the position keeps the connectors' order among equal first three (a stable sort on them)
    candidates: list[tuple[int, int, str, int, ReceiveConnector]] = []
    theirs = remote = None  # the addresses read, each once, when first needed (an invalid one raises there)
    for conn in connectors:
        if not conn.enabled:
            continue
        specific = False
        matched = False
        for b in conn.bindings:
            if b.port != local_port:
                continue
            version, value, scope, unspecified = _ADDRESSES[b.ip]
            if theirs is None:
                theirs = _ADDRESSES[local_ip]
            if (unspecified and version == theirs[0]) or (value == theirs[1] and version == theirs[0]
                                                          and scope == theirs[2]):
                matched = True
                specific = specific or not unspecified
        smallest = None
        ranges = conn.remote_ip_ranges
        if ranges:
            if remote is None:
                remote = _ADDRESSES[remote_ip]
            version, value = remote[0], remote[1]
            for r in ranges:
                if r.version == version and r.first <= value <= r.last:
                    size = r.last - r.first + 1
                    if smallest is None or size < smallest:
                        smallest = size
        if matched and smallest is not None:
            candidates.append((smallest, 0 if specific else 1, conn.name.lower(), len(candidates), conn))
    rule = "fidelity §3.4: most specific RemoteIPRanges match"
    if not candidates:
        return Decision(False, None, rule, (f"no enabled connector binds {local_ip}:{local_port} for {remote_ip}",),
                        disconnect=True)
    candidates.sort()
    chosen = candidates[0][4]
    reasons = tuple(f"{c[4].name}: {c[0]} address(es) match {remote_ip}" for c in candidates)
    return Decision(True, None, rule, reasons + (f"selected {chosen.name}",), value=chosen)


def _address(text: str) -> tuple[int, int, object, bool]:
    """(version, integer, IPv6 scope id or None, unspecified) of an address text, as
    ``ipaddress.ip_address`` reads it (an invalid text raises its ValueError)."""
    addr = ipaddress.ip_address(text)
    return addr.version, int(addr), getattr(addr, "scope_id", None), addr.is_unspecified


#: address text -> :func:`_address` of it (a pure function of the text; an invalid text raises its
#: ValueError, remembered never)
_ADDRESSES = Remembered(_address)


def session_rights(connector: ReceiveConnector, authenticated_user: Mailbox | None, tls: bool, *,
                   exchange_server: bool = False) -> frozenset[str]:
    """The extended rights a session holds on ``connector`` (fidelity §3.5).

    Args:
        connector: the selected connector.
        authenticated_user: the mailbox that authenticated with AUTH, or None.
        tls: whether TLS is active (Exchange-server authentication needs it in the lab).
        exchange_server: the peer proved to be an organisation Exchange server.

    Returns:
        The union of the permission-group rights of the session's principal and the
        ExtendedRights granted on the connector to that principal (or to the user by name).
    """
    return rights_for(connector, principal_for(connector, authenticated_user, tls, exchange_server))


def principal_for(connector: ReceiveConnector, authenticated_user: Mailbox | None, tls: bool,
                  exchange_server: bool = False) -> Principal:
    """The session principal: server > user > externally secured > anonymous."""
    mechs = connector.auth_mechanism
    if exchange_server and tls and "ExchangeServer" in mechs:
        return Principal("server")
    if authenticated_user is not None:
        return Principal("user", authenticated_user)
    if "ExternalAuthoritative" in mechs and "ExchangeServers" in connector.permission_groups:
        return Principal("externally_secured")
    return ANONYMOUS


# Answers per frozen connector, principal, server, organization and reply objects (lab.core.memo).
_RIGHTS, _ACCEPTED, _BANNERS, _NO_CLOUD, _EHLO_TAILS = (Memo() for _ in range(5))


def rights_for(connector: ReceiveConnector, principal: Principal) -> frozenset[str]:
    """Rights of ``principal`` on ``connector``: permission groups plus ExtendedRights."""
    return _RIGHTS.get2(connector, principal, None, _rights_for, connector, principal)


def _rights_for(connector: ReceiveConnector, principal: Principal) -> frozenset[str]:
    if principal.kind == "server":
        names = {rc.EXCHANGE_SERVERS, rc.LEGACY_INTEROP}
    elif principal.kind == "externally_secured":
        names = {rc.EXTERNALLY_SECURED_SERVERS}
    elif principal.kind == "user":
        mbx = principal.mailbox
        names = {rc.AUTHENTICATED_USERS, *(n for n in (mbx.logon_names() if mbx else ()))}
    else:
        names = {rc.ANONYMOUS_LOGON}
    lowered = {n.lower() for n in names}
    rights: set[str] = set()
    for group in connector.permission_groups:
        holder, granted = rc.PERMISSION_GROUP_RIGHTS.get(group, ("", frozenset()))
        if holder.lower() in lowered:
            rights |= granted
    if principal.kind == "externally_secured":
        rights |= rc.EXTERNALLY_SECURED_RIGHTS[1]
    for grant in connector.extended_rights:
        user = grant.user.lower()
        if user in lowered or (principal.kind == "user" and user.split("\\")[-1] in lowered):
            rights |= set(grant.rights)
    return frozenset(rights)


def mail_from_verdict(connector: ReceiveConnector, rights: frozenset[str], *, tls_active: bool,
                      principal: Principal, sender: str, size: int | None, org: Organization) -> Decision:
    """MAIL FROM in Exchange's order (fidelity §1.4, D MailSmtpCommand).

    secure state (RequireTLS -> 451 5.7.3 + disconnect) -> submit permission (anonymous ->
    530 5.7.1, authenticated -> 550 5.7.1) -> anonymous sender in an authoritative domain
    without Accept-Authoritative-Domain-Sender (550 5.7.1 send-as; UNCONFIRMED at MAIL) ->
    SIZE parameter over MaxMessageSize (552 5.3.4) -> 250 2.1.0 Sender OK.
    """
    if connector.require_tls and not tls_active:
        return Decision(False, cat.S451_5_7_3_STARTTLS_REQUIRED, "fidelity §1.4: MAIL secure-state check",
                        (f"{connector.name} has RequireTLS $true and the session is not encrypted",), disconnect=True)
    anonymous = principal.kind == "anonymous"  # not principal.authenticated, inline
    if rc.R_SUBMIT not in rights:
        if anonymous:
            return Decision(False, cat.S530_5_7_1_CLIENT_NOT_AUTHENTICATED, "fidelity §1.4: MAIL submit permission",
                            (f"anonymous sessions on {connector.name} lack {rc.R_SUBMIT}",))
        return Decision(False, cat.S550_5_7_1_SUBMIT_DENIED, "fidelity §1.4: MAIL submit permission",
                        (f"{principal.kind} session on {connector.name} lacks {rc.R_SUBMIT}",))
    domain = None
    if sender:  # the sender's accepted domain (see rcpt_verdict)
        name = sender.rpartition("@")[2].lower()
        domain = _ACCEPTED.get1(org, name, org.accepted_domain_for, name)
    if (anonymous and domain is not None and domain.domain_type == "Authoritative"
            and rc.R_ACCEPT_AUTHORITATIVE_DOMAIN_SENDER not in rights):
        return Decision(False, cat.S550_5_7_1_SEND_AS_DENIED, "fidelity §3.5: Accept-Authoritative-Domain-Sender",
                        (f"anonymous sender in authoritative domain {domain.domain_name} without "
                         f"{rc.R_ACCEPT_AUTHORITATIVE_DOMAIN_SENDER} (reply at MAIL is UNCONFIRMED)",))
    if size is not None and size > connector.max_message_size and rc.R_BYPASS_MESSAGE_SIZE_LIMIT not in rights:
        return Decision(False, cat.S552_5_3_4_MESSAGE_TOO_BIG, "fidelity §1.1: message size",
                        (f"SIZE={size} exceeds MaxMessageSize {connector.max_message_size}",))
    return _SENDER_OK[sender]


def _sender_ok(sender: str) -> Decision:
    """MAIL FROM's positive decision."""
    return Decision(True, cat.S250_2_1_0_SENDER_OK, "fidelity §1.4: MAIL accepted", (f"sender <{sender}> accepted",))


#: sender -> :func:`_sender_ok` of it (a frozen record of the sender alone: one object serves every
#: message from the sender)
_SENDER_OK = Remembered(_sender_ok)


def relay_denied_reply(version: int) -> Reply:
    """``550 5.7.54 ...`` on 2016/2019, ``550 5.7.1 Unable to relay`` on 2010/2013 (fidelity §1.1)."""
    return cat.S550_5_7_54_UNABLE_TO_RELAY_NON_ACCEPTED if version >= 2016 else cat.S550_5_7_1_UNABLE_TO_RELAY


def rcpt_verdict(connector: ReceiveConnector, rights: frozenset[str], *, org: Organization, version: int,
                 recipient: str, accepted_so_far: int) -> Decision:
    """RCPT TO (fidelity §1.4, §3.5, §3.6).

    Too many recipients (452 4.5.3) -> relay check: a recipient outside the accepted domains
    needs ms-Exch-SMTP-Accept-Any-Recipient -> recipient validation (550 5.1.1, only with
    ``org.recipient_validation_enabled``, Authoritative domains only) -> 250 2.1.5.
    """
    if accepted_so_far >= connector.max_recipients_per_message:
        return Decision(False, cat.S452_4_5_3_TOO_MANY_RECIPIENTS, "fidelity §1.1: MaxRecipientsPerMessage",
                        (f"{accepted_so_far} recipients already (limit {connector.max_recipients_per_message})",))
    name = recipient.rpartition("@")[2].lower()
    # org.accepted_domain_for(name), remembered per (organization object, domain): an Organization
    # is a frozen record of immutable fields (an edit makes a new one)
    domain = _ACCEPTED.get1(org, name, org.accepted_domain_for, name)
    if domain is None:
        if rc.R_ACCEPT_ANY_RECIPIENT not in rights:
            return Decision(False, relay_denied_reply(version), "fidelity §3.5: relay needs Accept-Any-Recipient",
                            (f"{name} is not an accepted domain",
                             f"the session lacks {rc.R_ACCEPT_ANY_RECIPIENT} on {connector.name}"))
        return Decision(True, cat.S250_2_1_5_RECIPIENT_OK, "fidelity §3.5: relay permitted",
                        (f"{name} is not accepted; {rc.R_ACCEPT_ANY_RECIPIENT} allows relay",))
    if (org.recipient_validation_enabled and domain.domain_type == "Authoritative"
            and org.mailbox_by_address(recipient) is None):
        return Decision(False, cat.S550_5_1_1_USER_UNKNOWN, "fidelity §1.4: recipient validation",
                        (f"no recipient {recipient} in authoritative domain {domain.domain_name}",))
    return Decision(True, cat.S250_2_1_5_RECIPIENT_OK, "fidelity §3.6: accepted domain",
                    (f"{domain.domain_name} is an accepted domain ({domain.domain_type})",))


def data_verdict(connector: ReceiveConnector, rights: frozenset[str], *, principal: Principal, sender: str,
                 octets: int) -> Decision:
    """End of DATA: size (552 5.3.4) then send-as for users (550 5.7.1, after DATA as captured)."""
    if octets > connector.max_message_size and rc.R_BYPASS_MESSAGE_SIZE_LIMIT not in rights:
        return Decision(False, cat.S552_5_3_4_MESSAGE_TOO_BIG, "fidelity §1.1: message size",
                        (f"{octets} octets exceed MaxMessageSize {connector.max_message_size}",))
    mbx = principal.mailbox
    if principal.kind == "user" and mbx is not None and rc.R_ACCEPT_ANY_SENDER not in rights \
            and not mbx.has_address(sender):
        return Decision(False, cat.S550_5_7_1_SEND_AS_DENIED, "fidelity §1.1: send-as",
                        (f"{mbx.name} authenticated but the sender <{sender}> is not one of its addresses",))
    return _DATA_ACCEPTED


#: data_verdict's acceptance: one frozen Decision for every message (its reason names no size, as EOP's
#: "message accepted" does not; a message's octets are its content's)
_DATA_ACCEPTED = Decision(True, None, "fidelity §1.1: message accepted", ("size and sender allowed",))


def banner_line(connector: ReceiveConnector, server: ExchangeServer, now: datetime) -> str:
    """The 220 greeting: the connector's Banner, or the default with the connector FQDN and date."""
    if connector.banner:
        return connector.banner
    # remembered per (connector, server, instant) object (the lab hands out one datetime per
    # instant; an equal instant in another zone reads differently, hence identity)
    return _BANNERS.get((connector, server, now), None, _banner_line, connector, server, now)


def _banner_line(connector: ReceiveConnector, server: ExchangeServer, now: datetime) -> str:
    return cat.S220_BANNER.format(fqdn=connector.effective_fqdn(server), date=exchange_date(now)).line()


def auth_mechanisms(connector: ReceiveConnector, tls_active: bool) -> tuple[str, ...]:
    """The mechanisms on the AUTH line: GSSAPI/NTLM for Integrated, LOGIN for BasicAuth (after
    TLS only with BasicAuthRequireTLS) (fidelity §1.2)."""
    mechs = connector.auth_mechanism
    names: list[str] = []
    if "Integrated" in mechs:
        if connector.enable_auth_gssapi:
            names.append(cat.AUTH_MECH_GSSAPI.text)
        names.append(cat.AUTH_MECH_NTLM.text)
    if "BasicAuth" in mechs and (tls_active or "BasicAuthRequireTLS" not in mechs):
        names.append(cat.AUTH_MECH_LOGIN.text)
    return tuple(names)


def basic_auth_offered(connector: ReceiveConnector, tls_active: bool) -> bool:
    """True when LOGIN (and the lab's PLAIN) may be used now."""
    return cat.AUTH_MECH_LOGIN.text in auth_mechanisms(connector, tls_active)


def starttls_offered(connector: ReceiveConnector, tls_active: bool, cert_available: bool) -> bool:
    """STARTTLS iff Tls in AuthMechanism, a usable certificate, and not yet TLS (fidelity §1.2)."""
    return "Tls" in connector.auth_mechanism and cert_available and not tls_active


def ehlo_keywords(connector: ReceiveConnector, server: ExchangeServer, tls_active: bool,
                  cert_available: bool) -> list[str]:
    """The EHLO keywords after the hello line, in Exchange's order (fidelity §1.2).

    X-ANONYMOUSTLS is offered with Tls + ExchangeServer before TLS even without a certificate
    (the B-HYBCERT broken case); X-EXPS with ExchangeServer. Tails: 2019 adds SMTPUTF8;
    hub connectors of 2013+ end XEXCH50, XRDST, XSHADOWREQUEST; 2010 ends XEXCH50, XRDST,
    XSHADOW (version tails beyond M-TELNET's 2016 list are UNCONFIRMED).
    """
    mechs = connector.auth_mechanism
    words: list[str] = []
    if connector.size_enabled == "Enabled":
        words.append(cat.EHLO_SIZE.format(size=connector.max_message_size))
    elif connector.size_enabled == "EnabledWithoutValue":
        words.append(cat.EHLO_SIZE_WITHOUT_VALUE.text)
    toggles = ((connector.pipelining_enabled, cat.EHLO_PIPELINING), (connector.dsn_enabled, cat.EHLO_DSN),
               (connector.enhanced_status_codes_enabled, cat.EHLO_ENHANCEDSTATUSCODES))
    words += [m.text for on, m in toggles if on]
    if starttls_offered(connector, tls_active, cert_available):
        words.append(cat.EHLO_STARTTLS.text)
    if ("Tls" in mechs and "ExchangeServer" in mechs and not tls_active
            and not connector.suppress_x_anonymous_tls):
        words.append(cat.EHLO_X_ANONYMOUSTLS.text)
    mech_names = auth_mechanisms(connector, tls_active)
    if mech_names:
        words.append(cat.EHLO_AUTH.format(mechanisms=" ".join(mech_names)))
    if "ExchangeServer" in mechs:
        words.append(cat.EHLO_X_EXPS.text)
    toggles = ((connector.eight_bit_mime_enabled, cat.EHLO_8BITMIME),
               (connector.binary_mime_enabled, cat.EHLO_BINARYMIME), (connector.chunking_enabled, cat.EHLO_CHUNKING),
               (server.version >= 2019, cat.EHLO_SMTPUTF8), (connector.orar_enabled, cat.EHLO_XORAR),
               (connector.long_addresses_enabled, cat.EHLO_XLONGADDR))
    words += [m.text for on, m in toggles if on]
    if server.version == 2010:
        words += [cat.EHLO_XEXCH50.text, cat.EHLO_XRDST.text, cat.EHLO_XSHADOW.text]
    elif connector.transport_role == "HubTransport":
        words += [cat.EHLO_XEXCH50.text, cat.EHLO_XRDST.text, cat.EHLO_XSHADOWREQUEST.text]
    else:
        words.append(cat.EHLO_XRDST.text)
    return words


def ehlo_lines(connector: ReceiveConnector, server: ExchangeServer, client_ip: str, tls_active: bool,
               cert_available: bool) -> tuple[str, ...]:
    """The full multi-line EHLO reply (``250-...`` lines, last ``250 ...``)."""
    return ehlo_reply(connector.effective_fqdn(server), client_ip,
                      ehlo_tail(connector, server, tls_active, cert_available))


def ehlo_tail(connector: ReceiveConnector, server: ExchangeServer, tls_active: bool,
              cert_available: bool) -> tuple[str, ...]:
    """The EHLO reply's lines after the hello line (``250-SIZE ...`` ... ``250 XRDST``): the same for
    every client, so a policy keeps them (:class:`lab.core.exchange.policy.ExchangePolicy`), and they
    are remembered per (connector, server) object."""
    return _EHLO_TAILS.get2(connector, server, (tls_active, cert_available), _ehlo_tail, connector, server,
                           tls_active, cert_available)


def _ehlo_tail(connector: ReceiveConnector, server: ExchangeServer, tls_active: bool,
               cert_available: bool) -> tuple[str, ...]:
    return multiline(250, ehlo_keywords(connector, server, tls_active, cert_available))


# Remembered per (fqdn, client address, tail): a pure function of these strings, and a client
# says EHLO to the same server again and again (twice per session with STARTTLS).
@lru_cache(maxsize=4096)
def ehlo_reply(fqdn: str, client_ip: str, tail: tuple[str, ...]) -> tuple[str, ...]:
    """The EHLO reply: the hello line for ``client_ip`` on top of :func:`ehlo_tail`'s lines."""
    hello = cat.S250_HELLO.text.format(fqdn=fqdn, ip=client_ip)
    return (f"250-{hello}", *tail) if tail else (f"250 {hello}",)


def multiline(code: int, texts: Sequence[str]) -> tuple[str, ...]:
    """``code-text`` for every line but the last, ``code text`` for the last."""
    if not texts:
        return ()
    return (*[f"{code}-{t}" for t in texts[:-1]], f"{code} {texts[-1]}")


def reply_lines(reply: Reply) -> tuple[str, ...]:
    """A catalogue reply as wire lines (multi-line texts become ``code-`` continuation lines).

    Kept beside the reply's fields once written, as :meth:`Reply.line` keeps its line (a frozen record
    of immutable fields; not a field: equality, hashing, repr and replace() ignore it, and
    :meth:`Reply.format` drops it from the copy): the session sends the catalogue's constants over
    and over."""
    lines = reply.__dict__.get(WIRE_LINES)
    if lines is None:
        lines = reply.__dict__[WIRE_LINES] = _reply_lines(reply)
    return lines


def once_reply_lines(reply: Reply) -> tuple[str, ...]:
    """:func:`reply_lines` of a reply made for one use (formatted with a message's id or a chunk's
    size: no other object will ask again, so it is not remembered)."""
    return _reply_lines(reply)


def formatted_reply_lines(reply: Reply, values: dict[str, object]) -> tuple[str, ...]:
    """``once_reply_lines(reply.format(**values))`` without making the formatted Reply: the one wire line
    of a reply with an enhanced code whose filled text holds no line end (as :meth:`Reply.line` writes
    it); any other reply goes through :meth:`Reply.format` (tests/unit/test_s15_session_queued.py)."""
    if reply.enhanced:
        try:
            text = reply.text.format_map(values)
        except ValueError:  # (a positional field: Reply.format raises what format(**values) raises)
            return once_reply_lines(reply.format(**values))
        if "\n" not in text:
            return (reply_line(reply.code, reply.enhanced, text),)
    return once_reply_lines(reply.format(**values))


def _reply_lines(reply: Reply) -> tuple[str, ...]:
    if not reply.text and not reply.enhanced:
        return (f"{reply.code} ",)
    texts = reply.line()[4:].split("\n") if "\n" in reply.text else None
    if texts is None:
        return (reply.line(),)
    return multiline(reply.code, texts)


_CLOUD_RULE = "receive.tls_domain_capabilities (fidelity §4.3, B-ADVROUTE)"


def _no_cloud(connector: ReceiveConnector) -> Decision:
    return Decision(False, None, _CLOUD_RULE, (f"{connector.name}: no {ACCEPT_CLOUD_SERVICES_MAIL} capability",))


def cloud_services_mail(connector: ReceiveConnector, tls: TlsFacts | None, now: datetime) -> Decision:
    """Does this session carry mail from the Microsoft 365 cloud (hybrid, fidelity §4.3, §4.4)?

    True when the connector's TlsDomainCapabilities holds ``<domain>:AcceptCloudServicesMail``
    and the certificate the client presented during STARTTLS names ``<domain>`` and is valid at
    ``now`` (EOP presents its certificate, B-ADVROUTE). Such a session's cross-premises headers
    are promoted: mail from the tenant arrives as ``AuthAs: Internal``.
    """
    rule = _CLOUD_RULE
    if not connector.tls_domain_capabilities:  # most connectors: one decision per connector object
        return _NO_CLOUD.get1(connector, None, _no_cloud, connector)
    domains = [c.rpartition(":")[0] for c in connector.tls_domain_capabilities
               if c.rpartition(":")[2].lower() == ACCEPT_CLOUD_SERVICES_MAIL.lower()]
    if not domains:
        return Decision(False, None, rule, (f"{connector.name}: no {ACCEPT_CLOUD_SERVICES_MAIL} capability",))
    if tls is None or not tls.peer_names:
        return Decision(False, None, rule, ("the client presented no certificate during STARTTLS",))
    cert = getattr(tls.peer_cert, "leaf", tls.peer_cert)
    if getattr(tls.peer_cert, "trusted", True) is False:
        return Decision(False, None, rule, ("the client certificate does not chain to a trusted root",))
    if isinstance(cert, CertFacts) and not cert.valid_at(now):
        return Decision(False, None, rule, (f"the client certificate {cert.subject} is not valid now",))
    for domain in domains:
        named = next((n for n in tls.peer_names if host_matches(n, domain)), None)
        if named is not None:
            return Decision(True, None, rule, (f"client certificate name {named} matches TlsDomainCapabilities "
                                               f"{domain}:{ACCEPT_CLOUD_SERVICES_MAIL}",))
    return Decision(False, None, rule, (f"client certificate names {', '.join(tls.peer_names)} do not match "
                                        f"{', '.join(domains)}",))
