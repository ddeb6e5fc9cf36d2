"""The frozen topology model: what ``topology.yaml`` says, validated once.

The pieces come from their own modules (network, DNS, Exchange objects); this module holds the
lab-level parts (settings, hosts, PKI specs, tenants) and the :class:`Topology` that composes
them. Nothing here does I/O; :mod:`lab.topology.load` builds it from YAML.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from lab.core.dns import ZoneSet
from lab.core.network import NetworkModel

DEFAULT_PORTS: Mapping[int, int] = {25: 2525, 53: 5353, 465: 2465, 587: 2587, 717: 2717, 475: 2475, 2525: 12525}
DEFAULT_CLOCK_START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Settings:
    """Lab-wide settings (``settings:``)."""

    clock_start: datetime = DEFAULT_CLOCK_START
    loopback_base: str = "127.42.0.0/16"
    ports: Mapping[int, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    outside_host: str | None = None
    key_type: str = "ec"
    recipient_validation: bool = False


@dataclass(frozen=True)
class Host:
    """A host of the lab (a ``topology.nodes`` entry) beyond its network part."""

    name: str
    kind: str  # dns | exchange | eop | client | device | firewall
    fqdn: str | None = None
    description: str = ""
    certificates: tuple[str, ...] = ()
    # exchange
    org: str | None = None
    version: int | None = None
    build: str | None = None
    receive_connector_overrides: tuple[Mapping[str, Any], ...] = ()
    # eop
    endpoints: Mapping[str, str] = field(default_factory=dict)
    frontend_host: str | None = None
    banned_ips: tuple[str, ...] = ()

    @property
    def server_name(self) -> str:
        """The Exchange server name (the node name in capitals, as connector names show it)."""
        return self.name.upper()


@dataclass(frozen=True)
class AuthoritySpec:
    """A certificate authority of the lab (``pki.authorities``)."""

    name: str
    kind: str  # root | intermediate
    common_name: str
    issuer: str | None = None
    organization: str | None = None
    country: str | None = None
    trusted_by: tuple[str, ...] = ()  # "internet" and/or organization names
    key_type: str = "ec"
    valid_from: datetime | None = None
    valid_days: int | None = None


@dataclass(frozen=True)
class CertificateSpec:
    """A certificate of the lab (``pki.certificates``); ``issuer`` is an authority or ``self``."""

    name: str
    issuer: str
    common_name: str
    sans: tuple[str, ...] = ()
    organization: str | None = None
    key_type: str = "ec"
    valid_from: datetime | None = None
    valid_days: int | None = None
    services: tuple[str, ...] = ("SMTP",)

    @property
    def self_signed(self) -> bool:
        return self.issuer == "self"


@dataclass(frozen=True)
class PkiSpec:
    authorities: tuple[AuthoritySpec, ...] = ()
    certificates: tuple[CertificateSpec, ...] = ()

    def authority(self, name: str) -> AuthoritySpec | None:
        return next((a for a in self.authorities if a.name == name), None)

    def certificate(self, name: str) -> CertificateSpec | None:
        return next((c for c in self.certificates if c.name == name), None)

    def trust_stores(self, organizations: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """Store name -> root authority names: ``internet`` and ``org-<name>`` (internet roots + its own)."""
        internet = tuple(a.name for a in self.authorities if a.kind == "root" and "internet" in a.trusted_by)
        stores = {"internet": internet}
        for org in organizations:
            own = tuple(a.name for a in self.authorities if a.kind == "root" and org in a.trusted_by)
            stores[f"org-{org}"] = internet + tuple(r for r in own if r not in internet)
        return stores


@dataclass(frozen=True)
class DnsSpec:
    server: str
    zones: ZoneSet


@dataclass(frozen=True)
class OrganizationSpec:
    """An on-premises Exchange organization as written (Exchange objects validated by their own types)."""

    name: str
    accepted_domains: tuple[Any, ...] = ()
    mailboxes: tuple[Any, ...] = ()
    remote_mailboxes: tuple[Any, ...] = ()
    send_connectors: tuple[Any, ...] = ()


@dataclass(frozen=True)
class TenantSpec:
    """An Exchange Online tenant behind an EOP node."""

    name: str
    initial_domain: str
    eop: str
    hybrid_organization: str | None = None
    accepted_domains: tuple[Mapping[str, Any], ...] = ()
    mailboxes: tuple[Mapping[str, Any], ...] = ()
    mail_users: tuple[Mapping[str, Any], ...] = ()
    inbound_connectors: tuple[Mapping[str, Any], ...] = ()
    outbound_connectors: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Topology:
    """A whole validated lab world."""

    name: str
    source: str
    settings: Settings
    network: NetworkModel
    hosts: Mapping[str, Host]
    dns: DnsSpec | None
    pki: PkiSpec
    organizations: Mapping[str, OrganizationSpec]
    tenants: Mapping[str, TenantSpec]
    description: str = ""
    probes: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def hosts_of_kind(self, kind: str) -> tuple[Host, ...]:
        return tuple([h for h in self.hosts.values() if h.kind == kind])

    def exchange_servers(self, org: str | None = None) -> tuple[Host, ...]:
        return tuple(h for h in self.hosts_of_kind("exchange") if org is None or h.org == org)
