"""Where EOP sends a message it accepted, and how it judges the next hop's TLS (fidelity §4.2, §4.5).

- :func:`route_recipient`: a tenant mailbox is delivered (Maildir); a mail user goes to its
  ExternalEmailAddress; an address whose domain an outbound connector's RecipientDomains
  covers goes through that connector (SmartHosts, or MX with UseMXRecord); any other
  external address goes to the MX of its domain with opportunistic TLS; an unknown address
  of an accepted domain with no connector is not found (5.1.10).
- :func:`outbound_tls`: the connector's TlsSettings at lab time ->
  ``450 4.4.317 Cannot connect to remote server [Message=UntrustedRoot|SubjectMismatch ...|
  CertificateExpired ...|451 5.7.3 STARTTLS is required to send mail] ...``.
- :func:`connection_failure`: refused / timed out / DNS / closed -> the 4.4.31x family.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lab.core.catalogue import Reply
from lab.core.catalogue import eop as cat
from lab.core.eop.model import OutboundConnector, Tenant, domain_matches
from lab.core.exchange.outcomes import Transient
from lab.core.exchange.routing import Decision
from lab.core.fastpath import frozen_init
from lab.core.tls import DOMAIN_VALIDATION, ENCRYPTION_ONLY, UNTRUSTED_ROOT, CertFacts, tls_verdict

RULE = "eop.routing (fidelity §4.2)"
TO_MAILBOX = "Mailbox"
VIA_CONNECTOR = "OutboundConnector"
TO_INTERNET = "Internet"
NOT_FOUND = "NotFound"

REFUSED = "Refused"
TIMEOUT = "Timeout"
DNS_FAILED = "DnsFailed"
CLOSED = "Closed"


@frozen_init
@dataclass(frozen=True)
class NextHop:
    """Where one recipient goes.

    Attributes:
        kind: TO_MAILBOX, VIA_CONNECTOR, TO_INTERNET or NOT_FOUND.
        address: the address to deliver to (a mail user's ExternalEmailAddress, else the recipient).
        mailbox: the tenant mailbox's primary address (TO_MAILBOX).
        connector: the outbound connector (VIA_CONNECTOR).
        hosts: smart hosts to try, or () to use the MX of ``domain``.
        domain: the address's domain.
        tls_mode: the TlsSettings to apply (None: opportunistic, nothing checked).
        tls_required: TLS must be used (a connector with TlsSettings set).
        tls_domain: the name DomainValidation compares with.
    """

    kind: str
    address: str
    mailbox: str | None = None
    connector: OutboundConnector | None = None
    hosts: tuple[str, ...] = ()
    domain: str = ""
    tls_mode: str | None = None
    tls_required: bool = False
    tls_domain: str | None = None

    @property
    def queue_key(self) -> str:
        """Messages with the same key share a delivery queue (connector, or domain)."""
        return f"{self.kind}:{self.connector.name if self.connector else self.domain}"


def _specificity(pattern: str) -> int:
    return 0 if pattern == "*" else (1 if pattern.startswith("*.") else 2) * 1000 + len(pattern)


def select_outbound_connector(tenant: Tenant, domain: str) -> Decision:
    """The enabled, not rule-scoped outbound connector whose RecipientDomains covers ``domain``
    most specifically (ties: connector name)."""
    found = []
    for c in tenant.outbound_connectors:
        if not c.enabled or c.is_transport_rule_scoped:
            continue
        best = max((_specificity(p) for p in c.recipient_domains if domain_matches(p, domain)), default=None)
        if best is not None:
            found.append((-best, c.name.lower(), c))
    if not found:
        return Decision(None, (f"no outbound connector covers {domain}",), RULE)
    connector = sorted(found, key=lambda x: x[:2])[0][2]
    return Decision(connector, (f"outbound connector {connector.name!r} covers {domain}",), RULE)


def _via(connector: OutboundConnector, address: str, domain: str) -> NextHop:
    hosts = () if connector.use_mx_record else connector.smart_hosts
    return NextHop(VIA_CONNECTOR, address, connector=connector, hosts=hosts, domain=domain,
                   tls_mode=connector.tls_settings, tls_required=connector.tls_settings is not None,
                   tls_domain=connector.tls_domain)


def refresh(tenant: Tenant, hop: NextHop) -> NextHop:
    """A queued hop under the tenant's connectors as they are now (a retry uses the current
    TlsSettings / SmartHosts; a connector removed or disabled routes the address again)."""
    if hop.kind != VIA_CONNECTOR or hop.connector is None:
        return hop
    current = next((c for c in tenant.outbound_connectors if c.name == hop.connector.name), None)
    if current is not None and current.enabled and not current.is_transport_rule_scoped \
            and current.covers_recipient(hop.domain):
        return _via(current, hop.address, hop.domain)
    rerouted: NextHop = route_recipient(tenant, hop.address).result
    return rerouted if rerouted.kind in (VIA_CONNECTOR, TO_INTERNET) else hop


def restore(tenant: Tenant, kind: str, address: str, domain: str, connector: str | None) -> NextHop:
    """A queued hop taken back from the state dir after a restart, under the tenant's connectors as
    they are now (the connector by name; a connector gone routes the address again, like :func:`refresh`)."""
    if kind == VIA_CONNECTOR:
        current = next((c for c in tenant.outbound_connectors if c.name == connector), None)
        if current is not None:
            return refresh(tenant, _via(current, address, domain))
        rerouted: NextHop = route_recipient(tenant, address).result
        if rerouted.kind in (VIA_CONNECTOR, TO_INTERNET):
            return rerouted
    return NextHop(TO_INTERNET, address, domain=domain)


def route_recipient(tenant: Tenant, recipient: str) -> Decision:
    """The next hop of ``recipient`` for a message inside ``tenant``.

    Returns:
        A Decision whose result is a :class:`NextHop`.
    """
    reasons: list[str] = []
    mailbox = tenant.mailbox_for(recipient)
    if mailbox is not None:
        return Decision(NextHop(TO_MAILBOX, recipient, mailbox=mailbox.primary_smtp_address,
                                domain=recipient.rpartition("@")[2].lower()),
                        (f"{recipient} is the mailbox {mailbox.name} of tenant {tenant.name}",), RULE)
    address = recipient
    user = tenant.mail_user_for(recipient)
    if user is not None:
        address = user.external_email_address
        reasons.append(f"{recipient} is the mail user {user.name}: ExternalEmailAddress {address}")
    domain = address.rpartition("@")[2].lower()
    chosen = select_outbound_connector(tenant, domain)
    reasons.extend(chosen.reasons)
    if chosen.result is not None:
        return Decision(_via(chosen.result, address, domain), tuple(reasons), RULE)
    if tenant.is_accepted(domain) and user is None:
        reasons.append(f"{address} is in accepted domain {domain} but is no recipient of tenant {tenant.name}")
        return Decision(NextHop(NOT_FOUND, address, domain=domain), tuple(reasons), RULE)
    reasons.append(f"{domain} is outside the tenant: MX of {domain}, opportunistic TLS")
    return Decision(NextHop(TO_INTERNET, address, domain=domain), tuple(reasons), RULE)


def attempt_suffix(server: str, ip: str, port: int, host: str, time: str, ident: str, tls_failed: bool = True) -> str:
    """`` [LastAttemptedServerName=...] [LastAttemptedIP=ip:port] [SmtpSecurity=...] [host time id]``."""
    security = cat.SMTP_SECURITY_TLS_FAILED.text if tls_failed else cat.SMTP_SECURITY_NO_TLS.text
    return cat.ATTEMPT_SUFFIX.format(server=server, ip=ip, port=port, security=security, host=host, time=time,
                                     id=ident)


def _cannot_connect(message: str, suffix: str) -> Transient:
    return Transient(cat.S450_4_4_317_CANNOT_CONNECT.format(message=message, attempt=suffix), message)


def outbound_tls(hop: NextHop, server_name: str, starttls_offered: bool, cert: CertFacts | None, trusted: bool,
                 now: datetime, suffix: str = "", handshake_error: str | None = None) -> Decision:
    """Judge the next hop's TLS under the hop's TlsSettings at lab time.

    Args:
        hop: the next hop (its tls_mode / tls_required / tls_domain).
        server_name: the host name that was dialled (DomainValidation without TlsDomain uses it).
        starttls_offered: the EHLO reply listed STARTTLS.
        cert: the certificate the server presented (None when TLS was not negotiated).
        trusted: the certificate chains to a root of the INTERNET trust store.
        now: lab time.
        suffix: the :func:`attempt_suffix` to append to failures.
        handshake_error: the TLS negotiation failure reason (ConnectionAborted, ...), if any.

    Returns:
        A Decision whose result is None (go on; use TLS if offered) or a :class:`Transient` whose
        ``detail`` is the ``[Message=...]`` payload (quoted again by the expiry NDR).
    """
    rule = "eop.outbound_tls (fidelity §4.5)"
    if not starttls_offered:
        if hop.tls_required:
            return Decision(_cannot_connect(cat.TLS_STARTTLS_REQUIRED.text, suffix),
                            (f"{server_name} does not offer STARTTLS and TlsSettings is {hop.tls_mode}",), rule)
        return Decision(None, (f"{server_name} does not offer STARTTLS: sending without TLS",), rule)
    if handshake_error:
        if hop.tls_required:
            return Decision(_cannot_connect(cat.TLS_NEGOTIATION_FAILED.format(reason=handshake_error), suffix),
                            (f"TLS negotiation with {server_name} failed: {handshake_error}",), rule)
        return Decision(None, (f"TLS negotiation with {server_name} failed ({handshake_error}): retry without TLS",),
                        rule)
    if cert is None or hop.tls_mode in (None, ENCRYPTION_ONLY):
        mode = hop.tls_mode or "opportunistic"
        return Decision(None, (f"TLS with {server_name} ({mode}): certificate not checked",), rule)
    expected = hop.tls_domain or server_name
    verdict = tls_verdict(cert, trusted, now, hop.tls_mode, expected if hop.tls_mode == DOMAIN_VALIDATION else None)
    if verdict.ok:
        return Decision(None, (f"TLS with {server_name}: {verdict.detail}",), rule)
    if verdict.failure == UNTRUSTED_ROOT:
        message = cat.TLS_UNTRUSTED_ROOT.text
    else:
        message = cat.TLS_CERTIFICATE_FAILURE.format(failure=verdict.failure, expected=expected,
                                                     presented=cert.subject, thumbprint=cert.thumbprint)
    return Decision(_cannot_connect(message, suffix), (f"{hop.tls_mode}: {verdict.detail}",), rule)


_CONNECT_FAILURES: dict[str, Reply] = {
    REFUSED: cat.S450_4_4_316_CONNECTION_REFUSED,
    TIMEOUT: cat.S450_4_4_315_CONNECTION_TIMED_OUT,
    DNS_FAILED: cat.S450_4_4_312_DNS_QUERY_FAILED,
    CLOSED: cat.S450_4_4_318_CONNECTION_CLOSED,
}


def connection_failure(kind: str) -> Transient:
    """A failed connection (REFUSED, TIMEOUT, DNS_FAILED, CLOSED) as EOP's LastError (S-MFI).

    Raises:
        ValueError: an unknown kind.
    """
    if kind not in _CONNECT_FAILURES:
        raise ValueError(f"unknown connection failure {kind!r}; expected one of {tuple(_CONNECT_FAILURES)}")
    reply = _CONNECT_FAILURES[kind]
    return Transient(reply, reply.text)
