"""Exchange Online objects as frozen data: connectors, mail users, the tenant, the EOP node.

Property names are Exchange Online's (``New-InboundConnector``, ``New-OutboundConnector``,
``New-MailUser``); ``from_mapping(mapping, path)`` validates them the way the cmdlets do:
an unknown property raises :class:`~lab.core.errors.ConfigError` listing the allowed names, a
bad enum value lists the allowed values, and cross-parameter rules of P-NIC / P-NOC are
checked. The generic machinery (case-insensitive names, ``$true``/``$null``) is
:func:`lab.core.exchange.model.build`.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Mapping

from lab.core.catalogue import eop as cat
from lab.core.errors import ConfigError, Place
from lab.core.exchange.model import (AcceptedDomain, Mailbox, _unique, build, enum, parse_address, parse_addresses,
                                     parse_bool, parse_domain, parse_optional_text, parse_text, ps, split_list,
                                     to_mapping)
from lab.core.tls import TLS_MODES

CONNECTOR_TYPES = ("OnPremises", "Partner")
CONNECTOR_SOURCES = ("Default", "HybridWizard", "Migrated")
ON_PREMISES = "OnPremises"
PARTNER = "Partner"


# --- value parsers ---------------------------------------------------------------------------------

def parse_sender_domain(value: Any, place: Place) -> str:
    """``smtp:*;1`` / ``*`` / ``*.contoso.com`` / ``contoso.com`` -> ``*``, ``*.contoso.com``, ``contoso.com``."""
    text = parse_text(value, place)
    if text.lower().startswith("smtp:"):
        text = text[5:]
    text = text.split(";", 1)[0].strip()
    if text == "*":
        return "*"
    if "*" in text[2:] or ("*" in text and not text.startswith("*.")):
        raise ConfigError(cat.CMD_WILDCARD_DOMAIN.format(value=value), place)
    return parse_domain(text, place)


def _sender_domains(value: Any, place: Place) -> tuple[str, ...]:
    return tuple(dict.fromkeys(parse_sender_domain(v, place) for v in split_list(value)))


def _recipient_domains(value: Any, place: Place) -> tuple[str, ...]:
    out = []
    for v in split_list(value):
        text = parse_text(v, place)
        if "*" in text[2:] or ("*" in text and not text.startswith("*.") and text != "*"):
            raise ConfigError(cat.CMD_WILDCARD_DOMAIN.format(value=v), place)
        out.append("*" if text == "*" else parse_domain(text, place))
    return tuple(dict.fromkeys(out))


def parse_sender_ip(value: Any, place: Place) -> str:
    """An IPv4 address or CIDR /24../32 (P-NIC); IPv6 is refused with the doc's text."""
    text = str(value).strip()
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ConfigError(cat.CMD_CIDR_RANGE.format(value=text), place) from None
    if net.version == 6:
        raise ConfigError(cat.CMD_IPV6_NOT_SUPPORTED.text, place)
    if "/" in text and not 24 <= net.prefixlen <= 32:
        raise ConfigError(cat.CMD_CIDR_RANGE.format(value=text), place)
    return text if "/" in text else str(net.network_address)


def _sender_ips(value: Any, place: Place) -> tuple[str, ...]:
    return tuple(dict.fromkeys(parse_sender_ip(v, place) for v in split_list(value)))


def parse_smart_host(value: Any, place: Place) -> str:
    """A smart host: FQDN, IP address or CIDR (P-NOC)."""
    text = parse_text(value, place).strip("[]")
    try:
        return str(ipaddress.ip_network(text, strict=False)) if "/" in text else str(ipaddress.ip_address(text))
    except ValueError:
        return parse_domain(text, place)


def _smart_hosts(value: Any, place: Place) -> tuple[str, ...]:
    return tuple(dict.fromkeys(parse_smart_host(v, place) for v in split_list(value)))


def _tls_settings(value: Any, place: Place) -> str | None:
    text = parse_optional_text(value, place)
    return None if text is None else enum(TLS_MODES)(text, place)


def _optional_domain(value: Any, place: Place) -> str | None:
    text = parse_optional_text(value, place)
    return None if text is None else parse_domain(text, place)


def domain_matches(pattern: str, domain: str) -> bool:
    """``*`` matches everything; ``*.x`` matches x and its subdomains; else equality."""
    domain = domain.lower().rstrip(".")
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return domain == pattern[2:] or domain.endswith(pattern[1:])
    return domain == pattern


def ip_in(ip: str | None, ranges: tuple[str, ...]) -> bool:
    """True when ``ip`` is inside one of ``ranges`` (IPv4 addresses / CIDRs).

    ``any(ip_address(ip) in ip_network(r, strict=False) for r in ranges)`` (False for an address
    that does not parse), with each text parsed once (:func:`_address_value`, :func:`_network_span`:
    the same few connector ranges and client addresses are asked about at every message; held to
    the ipaddress form by tests/unit/test_s14_session2_ip_in.py).
    """
    if not ip:
        return False
    found = _address_value(ip)
    if found is None:
        return False
    version, value = found
    for r in ranges:  # in order, stopping at the first match (a later range is never parsed)
        net_version, first, last = _network_span(r)
        if net_version == version and first <= value <= last:  # ``addr in network``
            return True
    return False


@lru_cache(maxsize=1024)
def _address_value(ip: str) -> tuple[int, int] | None:
    """(version, integer) of ``ipaddress.ip_address(ip)``, None when it does not parse (a pure
    function of the text)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return addr.version, int(addr)


@lru_cache(maxsize=1024)
def _network_span(text: str) -> tuple[int, int, int]:
    """(version, first, last address) of ``ipaddress.ip_network(text, strict=False)`` (a pure function
    of the text; a text that does not parse raises what ip_network raises, remembered never)."""
    net = ipaddress.ip_network(text, strict=False)
    return net.version, int(net.network_address), int(net.broadcast_address)


def _where(path: str, prop: str) -> Place:
    return Place(path=f"{path}.{prop}")


# --- connectors ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InboundConnector:
    """An Exchange Online inbound connector (New-InboundConnector, P-NIC).

    ``require_tls`` defaults to ``$false`` in the lab: P-NIC says ``$true`` is the default but
    that it applies to Partner connectors only, and article 002's IP connector (no TLS
    parameter) accepts a device that cannot do TLS.
    """

    name: str = ps("Name", parse_text)
    connector_type: str = ps("ConnectorType", enum(CONNECTOR_TYPES), default=PARTNER)
    connector_source: str = ps("ConnectorSource", enum(CONNECTOR_SOURCES), default="Default")
    sender_domains: tuple[str, ...] = ps("SenderDomains", _sender_domains, default=("*",))
    sender_ip_addresses: tuple[str, ...] = ps("SenderIPAddresses", _sender_ips, default=())
    restrict_domains_to_ip_addresses: bool = ps("RestrictDomainsToIPAddresses", parse_bool, default=False)
    restrict_domains_to_certificate: bool = ps("RestrictDomainsToCertificate", parse_bool, default=False)
    require_tls: bool = ps("RequireTls", parse_bool, default=False)
    tls_sender_certificate_name: str | None = ps("TlsSenderCertificateName", _optional_domain, default=None)
    cloud_services_mail_enabled: bool = ps("CloudServicesMailEnabled", parse_bool, default=False)
    treat_messages_as_internal: bool = ps("TreatMessagesAsInternal", parse_bool, default=False)
    enabled: bool = ps("Enabled", parse_bool, default=True)
    comment: str = ps("Comment", parse_optional_text, default=None)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "InboundConnector":
        """Builds and checks the P-NIC parameter rules.

        RestrictDomainsToIPAddresses / RestrictDomainsToCertificate are accepted on any type
        (article 002 sets the first on an OnPremises connector) and act on Partner ones only.

        Raises:
            ConfigError: unknown property, bad value, or a rule broken (TreatMessagesAsInternal
                on a Partner connector or with CloudServicesMailEnabled).
        """
        obj = build(cls, mapping, path)
        if obj.treat_messages_as_internal:
            if obj.connector_type != ON_PREMISES:
                raise ConfigError(cat.CMD_ONPREMISES_ONLY.format(parameter="TreatMessagesAsInternal"),
                                  _where(path, "TreatMessagesAsInternal"))
            if obj.cloud_services_mail_enabled:
                raise ConfigError(cat.CMD_INTERNAL_AND_CLOUD.text, _where(path, "TreatMessagesAsInternal"))
        return obj

    def to_mapping(self) -> dict[str, Any]:
        """Get-InboundConnector's view (SenderDomains in ``smtp:<domain>;1`` form)."""
        out = to_mapping(self)
        out["SenderDomains"] = [f"smtp:{d};1" for d in self.sender_domains]
        return out

    def covers_sender(self, domain: str) -> bool:
        """True when ``domain`` is one of SenderDomains."""
        return any(domain_matches(p, domain) for p in self.sender_domains)

    @property
    def is_on_premises(self) -> bool:
        """ConnectorType OnPremises."""
        return self.connector_type == ON_PREMISES


@dataclass(frozen=True)
class OutboundConnector:
    """An Exchange Online outbound connector (New-OutboundConnector, P-NOC)."""

    name: str = ps("Name", parse_text)
    connector_type: str = ps("ConnectorType", enum(CONNECTOR_TYPES), default=PARTNER)
    connector_source: str = ps("ConnectorSource", enum(CONNECTOR_SOURCES), default="Default")
    recipient_domains: tuple[str, ...] = ps("RecipientDomains", _recipient_domains, default=())
    smart_hosts: tuple[str, ...] = ps("SmartHosts", _smart_hosts, default=())
    use_mx_record: bool = ps("UseMXRecord", parse_bool, default=True)
    tls_settings: str | None = ps("TlsSettings", _tls_settings, default=None)
    tls_domain: str | None = ps("TlsDomain", _optional_domain, default=None)
    is_transport_rule_scoped: bool = ps("IsTransportRuleScoped", parse_bool, default=False)
    route_all_messages_via_on_premises: bool = ps("RouteAllMessagesViaOnPremises", parse_bool, default=False)
    all_accepted_domains: bool = ps("AllAcceptedDomains", parse_bool, default=False)
    cloud_services_mail_enabled: bool = ps("CloudServicesMailEnabled", parse_bool, default=False)
    enabled: bool = ps("Enabled", parse_bool, default=True)
    comment: str | None = ps("Comment", parse_optional_text, default=None)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "OutboundConnector":
        """Builds and checks the P-NOC parameter rules.

        Raises:
            ConfigError: unknown property, bad value, UseMXRecord/SmartHosts inconsistent,
                TlsDomain without DomainValidation, OnPremises-only parameters on a Partner one.
        """
        obj = build(cls, mapping, path)
        if not obj.use_mx_record and not obj.smart_hosts:
            raise ConfigError(cat.CMD_SMART_HOSTS_REQUIRED.text, _where(path, "SmartHosts"))
        if obj.use_mx_record and obj.smart_hosts:
            raise ConfigError(cat.CMD_SMART_HOSTS_WITH_MX.text, _where(path, "SmartHosts"))
        if obj.tls_domain and obj.tls_settings != "DomainValidation":
            raise ConfigError(cat.CMD_TLS_DOMAIN_NEEDS_DOMAIN_VALIDATION.text, _where(path, "TlsDomain"))
        if obj.connector_type != ON_PREMISES:
            for prop, on in (("RouteAllMessagesViaOnPremises", obj.route_all_messages_via_on_premises),
                             ("AllAcceptedDomains", obj.all_accepted_domains)):
                if on:
                    raise ConfigError(cat.CMD_ONPREMISES_ONLY.format(parameter=prop), _where(path, prop))
        return obj

    def to_mapping(self) -> dict[str, Any]:
        """Get-OutboundConnector's view."""
        return to_mapping(self)

    def covers_recipient(self, domain: str) -> bool:
        """True when ``domain`` is one of RecipientDomains."""
        return any(domain_matches(p, domain) for p in self.recipient_domains)


@dataclass(frozen=True)
class MailUser:
    """A mail user (New-MailUser): a tenant recipient whose mailbox is elsewhere (on-prem)."""

    name: str = ps("Name", parse_text)
    primary_smtp_address: str = ps("PrimarySmtpAddress", parse_address)
    external_email_address: str = ps("ExternalEmailAddress", parse_address)
    email_addresses: tuple[str, ...] = ps("EmailAddresses", parse_addresses, default=())

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], path: str) -> "MailUser":
        """Builds; EmailAddresses always holds the primary address first."""
        obj = build(cls, mapping, path)
        return replace(obj, email_addresses=tuple(dict.fromkeys((obj.primary_smtp_address, *obj.email_addresses))))

    def to_mapping(self) -> dict[str, Any]:
        """Get-MailUser's view."""
        return to_mapping(self)

    def has_address(self, address: str) -> bool:
        """True when ``address`` is one of the mail user's addresses."""
        wanted = address.lower()  # (compared in turn: no set of the lowered addresses is built per question)
        for a in self.email_addresses:
            if a.lower() == wanted:
                return True
        return False


# --- the EOP node and the tenant --------------------------------------------------------------------

@dataclass(frozen=True)
class EopNode:
    """The EOP node of the topology (``kind: eop``).

    Attributes:
        name: node name.
        frontend_host: the MX front end's banner name (``AM5EUR02FT025.mail.protection.outlook.com``).
        submission_host: smtp.office365.com's banner name (a lab choice unless given).
        mx_ip: virtual address of the tenant MX endpoint.
        submission_ip: virtual address of smtp.office365.com.
        banned_ips: source addresses refused with 5.7.606.
        certificates: the node's certificate names (``eop-mx``, ``eop-submission``).
    """

    name: str
    frontend_host: str
    mx_ip: str
    submission_ip: str
    submission_host: str = "AM6PR02CA0041.outlook.office365.com"
    banned_ips: tuple[str, ...] = ()
    certificates: tuple[str, ...] = ()

    @classmethod
    def from_host(cls, host: Any, path: str = "topology.nodes") -> "EopNode":
        """From a :class:`lab.core.model.Host` of kind ``eop``.

        Raises:
            ConfigError: no ``frontend_host`` or no ``mx``/``submission`` endpoint.
        """
        endpoints = dict(host.endpoints or {})
        for key in ("mx", "submission"):
            if key not in endpoints:
                raise ConfigError(f"an eop node needs endpoints.{key}", Place(path=f"{path}.{host.name}"),
                                  allowed=("mx", "submission"))
        if not host.frontend_host:
            raise ConfigError("an eop node needs frontend_host", Place(path=f"{path}.{host.name}"))
        return cls(host.name, host.frontend_host, endpoints["mx"], endpoints["submission"],
                   banned_ips=tuple(host.banned_ips), certificates=tuple(host.certificates))


@dataclass(frozen=True)
class Tenant:
    """An Exchange Online tenant: its domains, recipients and connectors."""

    name: str
    initial_domain: str
    eop: str
    hybrid_organization: str | None = None
    accepted_domains: tuple[AcceptedDomain, ...] = ()
    mailboxes: tuple[Mailbox, ...] = ()
    mail_users: tuple[MailUser, ...] = ()
    inbound_connectors: tuple[InboundConnector, ...] = ()
    outbound_connectors: tuple[OutboundConnector, ...] = ()

    @classmethod
    def from_spec(cls, spec: Any, path: str | None = None) -> "Tenant":
        """From a :class:`lab.core.model.TenantSpec` (its objects as Exchange-named mappings).

        Raises:
            ConfigError: at the first bad object, or duplicate names/addresses.
        """
        path = path or f"tenants.{spec.name}"

        def each(kind: str, items: Any, builder: Any) -> tuple[Any, ...]:
            return tuple(i if not isinstance(i, Mapping) else builder(i, f"{path}.{kind}[{n}]")
                         for n, i in enumerate(items or ()))

        tenant = cls(spec.name, parse_domain(spec.initial_domain, Place(path=f"{path}.initial_domain")), spec.eop,
                     spec.hybrid_organization,
                     each("accepted_domains", spec.accepted_domains, AcceptedDomain.from_mapping),
                     each("mailboxes", spec.mailboxes, Mailbox.from_mapping),
                     each("mail_users", spec.mail_users, MailUser.from_mapping),
                     each("inbound_connectors", spec.inbound_connectors, InboundConnector.from_mapping),
                     each("outbound_connectors", spec.outbound_connectors, OutboundConnector.from_mapping))
        tenant.check(path)
        return tenant

    def check(self, path: str) -> None:
        """Names and addresses are unique.

        Raises:
            ConfigError: a duplicate.
        """
        _unique([c.name for c in self.inbound_connectors], f"{path}.inbound_connectors", "Name")
        _unique([c.name for c in self.outbound_connectors], f"{path}.outbound_connectors", "Name")
        _unique([a for r in (*self.mailboxes, *self.mail_users) for a in r.email_addresses],
                f"{path}.mailboxes", "EmailAddresses")

    @property
    def domains(self) -> tuple[AcceptedDomain, ...]:
        """Accepted domains, the initial ``.onmicrosoft.com`` domain included."""
        initial = self.initial_domain
        for d in self.accepted_domains:
            if d.domain_name == initial:
                return self.accepted_domains
        return (*self.accepted_domains, AcceptedDomain(self.initial_domain, "Authoritative", self.initial_domain))

    def accepted_domain_for(self, domain: str) -> AcceptedDomain | None:
        """The most specific accepted domain covering ``domain``."""
        found = sorted((d for d in self.domains if d.matches(domain)),
                       key=lambda d: (d.domain_name.startswith("*."), -len(d.domain_name)))
        return found[0] if found else None

    def is_accepted(self, domain: str) -> bool:
        """True when ``domain`` is an accepted domain of the tenant."""
        return self.accepted_domain_for(domain) is not None

    def covers_domain_or_parent(self, name: str) -> bool:
        """True when ``name`` or one of its parent domains is accepted (a certificate's domain)."""
        labels = name.lower().lstrip("*.").split(".")
        return any(self.is_accepted(".".join(labels[i:])) for i in range(len(labels) - 1))

    def mailbox_for(self, address: str) -> Mailbox | None:
        """The mailbox holding ``address``."""
        return next((m for m in self.mailboxes if m.has_address(address)), None)

    def mail_user_for(self, address: str) -> MailUser | None:
        """The mail user holding ``address``."""
        return next((u for u in self.mail_users if u.has_address(address)), None)

    def mailbox_by_logon(self, logon: str) -> Mailbox | None:
        """The mailbox an SMTP AUTH logon designates (UPN = an SMTP address, or the name)."""
        wanted = logon.lower()
        return next((m for m in self.mailboxes if wanted in {n.lower() for n in m.logon_names()}), None)
