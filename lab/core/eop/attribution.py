"""Which inbound connector a connection to EOP belongs to, and what that allows (fidelity §4.4).

- :func:`attribute`: a connection is attributed to an enabled inbound connector by its client
  certificate (TLS, subject/SAN matching ``TlsSenderCertificateName`` with wildcards, chained
  to the roots the INTERNET trusts and valid at lab time: self-signed and internal-CA
  certificates never attribute) or, failing that, by its source address (``SenderIPAddresses``
  of an OnPremises connector).
- :func:`relay_decision`: B-RELAY23. Relay to a recipient outside the tenant needs BOTH an
  OnPremises connector attribution AND an accepted domain as the certificate's domain or the
  MAIL FROM domain; otherwise ``550 5.7.64 TenantAttribution; Relay Access Denied``.
- :func:`partner_restriction`: Partner connectors with RestrictDomainsTo* reject with 5.7.51;
  so does a certificate attribution whose non-wildcard TlsSenderCertificateName is outside the
  tenant's domains (B-HYBCERT).
- :func:`tls_requirement`: ``RequireTls`` on the attributed connector without TLS.
- :func:`auth_as`: ``Internal`` for mail attributed to an OnPremises connector, else ``Anonymous``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lab.core.catalogue import Reply
from lab.core.catalogue import eop as cat
from lab.core.eop.model import InboundConnector, Tenant, ip_in
from lab.core.exchange.routing import Decision
from lab.core.fastpath import frozen_init
from lab.core.tls import DOMAIN_VALIDATION, CertFacts, tls_verdict

BY_CERTIFICATE = "certificate"
BY_IP = "ip"
RULE = "eop.attribution (fidelity §4.4)"
AUTH_AS_INTERNAL = "Internal"
AUTH_AS_ANONYMOUS = "Anonymous"


@frozen_init
@dataclass(frozen=True)
class ConnectionFacts:
    """What EOP knows about a connection.

    Attributes:
        source_ip: the (virtual) address EOP sees, after NAT.
        tls: STARTTLS completed.
        client_cert: the client certificate presented during STARTTLS, or None.
        client_cert_trusted: the certificate chains to a root of the INTERNET trust store.
    """

    source_ip: str
    tls: bool = False
    client_cert: CertFacts | None = None
    client_cert_trusted: bool = False


@frozen_init
@dataclass(frozen=True)
class Attribution:
    """A connection attributed to one inbound connector of one tenant."""

    tenant: str
    connector: InboundConnector
    by: str  # BY_CERTIFICATE | BY_IP

    @property
    def on_premises(self) -> bool:
        """The connector is of type OnPremises."""
        return self.connector.is_on_premises


def attribute(tenant: Tenant, conn: ConnectionFacts, now: datetime) -> Decision:
    """Attribute a connection to one of ``tenant``'s inbound connectors.

    Certificate connectors are tried first (every enabled connector with a
    ``TlsSenderCertificateName``), then OnPremises connectors by ``SenderIPAddresses``.

    Args:
        tenant: the tenant.
        conn: the connection.
        now: lab time (certificate validity).

    Returns:
        A Decision whose result is an :class:`Attribution` or None.
    """
    reasons: list[str] = []
    enabled = [c for c in tenant.inbound_connectors if c.enabled]
    for connector in (c for c in enabled if c.tls_sender_certificate_name):
        wanted = connector.tls_sender_certificate_name or ""
        if not conn.tls or conn.client_cert is None:
            reasons.append(f"{connector.name!r}: no client certificate on the connection "
                           f"(TlsSenderCertificateName {wanted})")
            continue
        verdict = tls_verdict(conn.client_cert, conn.client_cert_trusted, now, DOMAIN_VALIDATION, wanted)
        if verdict.ok:
            reasons.append(f"{connector.name!r}: client certificate {conn.client_cert.subject} matches "
                           f"TlsSenderCertificateName {wanted} and chains to an Internet root")
            return Decision(Attribution(tenant.name, connector, BY_CERTIFICATE), tuple(reasons), RULE)
        reasons.append(f"{connector.name!r}: client certificate not accepted ({verdict.failure}: {verdict.detail})")
    for connector in (c for c in enabled if c.is_on_premises and c.sender_ip_addresses):
        if ip_in(conn.source_ip, connector.sender_ip_addresses):
            reasons.append(f"{connector.name!r}: source {conn.source_ip} is in SenderIPAddresses "
                           f"{', '.join(connector.sender_ip_addresses)}")
            return Decision(Attribution(tenant.name, connector, BY_IP), tuple(reasons), RULE)
        reasons.append(f"{connector.name!r}: source {conn.source_ip} is not in SenderIPAddresses")
    reasons.append(f"no inbound connector of tenant {tenant.name} matches the connection from {conn.source_ip}")
    return Decision(None, tuple(reasons), RULE)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def certificate_domain_accepted(tenant: Tenant, conn: ConnectionFacts) -> bool:
    """A name on the client certificate is in (or under) an accepted domain of the tenant."""
    if conn.client_cert is None:
        return False
    return any(tenant.covers_domain_or_parent(n) for n in conn.client_cert.names)


def relay_decision(tenant: Tenant, attribution: Attribution | None, conn: ConnectionFacts, mail_from: str,
                   recipient: str, host: str) -> Decision:
    """May this connection relay to ``recipient`` (outside the tenant) through EOP? (B-RELAY23)

    Args:
        tenant: the tenant whose connector attributed the connection (or the first tenant).
        attribution: the connection's attribution, or None.
        conn: the connection.
        mail_from: the MAIL FROM address (``""`` for the null sender).
        recipient: the external recipient.
        host: the front end's internal name for the reply.

    Returns:
        A Decision whose result is None (relay allowed) or the rejection :class:`Reply`.
    """
    rule = "eop.relay (B-RELAY23)"
    if attribution is None or not attribution.on_premises:
        why = "no OnPremises inbound connector attributes the connection" if attribution is None else \
            f"connector {attribution.connector.name!r} is of type {attribution.connector.connector_type}"
        return Decision(_relay_denied(host), (f"relay to {recipient} refused: {why}",), rule)
    cert_ok = attribution.by == BY_CERTIFICATE and certificate_domain_accepted(tenant, conn)
    sender_ok = bool(mail_from) and tenant.is_accepted(_domain(mail_from))
    if cert_ok or sender_ok:
        why = "the certificate's domain" if cert_ok else f"the MAIL FROM domain {_domain(mail_from)}"
        return Decision(None, (f"relay to {recipient} allowed: connector {attribution.connector.name!r} "
                               f"(by {attribution.by}) and {why} is an accepted domain",), rule)
    return Decision(_relay_denied(host), (f"relay to {recipient} refused: neither the certificate domain nor the "
                                          f"MAIL FROM domain {_domain(mail_from) or '<>'} is an accepted domain of "
                                          f"{tenant.name}",), rule)


def _relay_denied(host: str) -> Reply:
    """relay_decision's refusal (written only when it refuses)."""
    return cat.S550_5_7_64_TENANT_ATTRIBUTION.format(host=host)


def partner_restriction(tenant: Tenant, attribution: Attribution | None, conn: ConnectionFacts,
                        mail_from: str) -> Decision:
    """The 5.7.51 family (B-HYBCERT): a restricted Partner connector, or a stale certificate name.

    Args:
        tenant: the tenant receiving the message.
        attribution: the connection's attribution, or None.
        conn: the connection.
        mail_from: the MAIL FROM address.

    Returns:
        A Decision whose result is True when 5.7.51 applies (the caller formats the reply).
    """
    rule = _PARTNER_RULE
    if attribution is not None and attribution.by == BY_CERTIFICATE:
        name = attribution.connector.tls_sender_certificate_name or ""
        if not name.startswith("*.") and not tenant.covers_domain_or_parent(name):
            return Decision(True, (f"TlsSenderCertificateName {name} of {attribution.connector.name!r} is not "
                                   f"a wildcard and not an accepted domain of {tenant.name}",), rule)
    domain = _domain(mail_from)
    for connector in tenant.inbound_connectors:
        if not connector.enabled or connector.is_on_premises or not domain or not connector.covers_sender(domain):
            continue
        if connector.restrict_domains_to_ip_addresses and not ip_in(conn.source_ip, connector.sender_ip_addresses):
            return Decision(True, (f"Partner connector {connector.name!r} covers {domain} and restricts it to "
                                   f"SenderIPAddresses; {conn.source_ip} is not one of them",), rule)
        if connector.restrict_domains_to_certificate:
            attributed = attribution is not None and attribution.connector == connector
            if not attributed:
                return Decision(True, (f"Partner connector {connector.name!r} covers {domain} and restricts it to "
                                       f"certificate {connector.tls_sender_certificate_name}; "
                                       "the connection did not present it",), rule)
    return _NO_PARTNER_RESTRICTION


# partner_restriction's and tls_requirement's answers when nothing applies: frozen records of constants
# (one object serves every question)
_PARTNER_RULE = "eop.partner_restriction (B-HYBCERT)"
_NO_PARTNER_RESTRICTION = Decision(False, ("no restricted Partner connector applies",), _PARTNER_RULE)


def tls_requirement(attribution: Attribution | None, conn: ConnectionFacts) -> Decision:
    """``RequireTls`` on the attributed connector, connection without TLS -> 451 5.7.3.

    Returns:
        A Decision whose result is the rejection :class:`Reply` or None.
    """
    if attribution is not None and attribution.connector.require_tls and not conn.tls:
        return Decision(cat.S451_5_7_3_STARTTLS_REQUIRED,
                        (f"connector {attribution.connector.name!r} requires TLS; the client did not STARTTLS",),
                        _TLS_RULE)
    return _TLS_REQUIREMENT_MET


_TLS_RULE = "eop.require_tls (P-NIC RequireTls)"
_TLS_REQUIREMENT_MET = Decision(None, ("TLS requirement met",), _TLS_RULE)


def auth_as(attribution: Attribution | None) -> str:
    """``X-MS-Exchange-Organization-AuthAs``: Internal for an OnPremises attribution (B-ADVROUTE)."""
    return AUTH_AS_INTERNAL if attribution is not None and attribution.on_premises else AUTH_AS_ANONYMOUS


def rejection(decision: Decision) -> Reply | None:
    """The reply a decision carries, if any."""
    return decision.result if isinstance(decision.result, Reply) else None
