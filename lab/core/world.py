"""The live world: the configuration every service reads and every cmdlet changes.

A :class:`World` is an immutable snapshot built from a :class:`~lab.core.model.Topology`
(plus the facts of the certificates the PKI built). A change is a new World
(:meth:`World.evolve`), so a cmdlet that fails half-way changes nothing, a rehearsal works
on a copy, and the runtime swaps its reference in one step. Queues, mailboxes and the clock
are runtime state, not configuration, and are not here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Mapping

from lab.core.dns import ZoneSet
from lab.core.eop.model import Tenant
from lab.core.errors import ConfigError, Place
from lab.core.exchange.connectors import (
    ReceiveConnector, apply_receive_connector_overrides, default_receive_connectors)
from lab.core.exchange.model import ExchangeServer, Organization
from lab.core.exchange.send_connector import SendConnector
from lab.core.model import Host, Topology
from lab.core.network import NetworkModel
from lab.core.tls import CertFacts, select_certificate
from lab.core.fastpath import frozen_init


@dataclass(frozen=True)
class InstalledCertificate:
    """A certificate in a server's store (Get-ExchangeCertificate).

    ``name`` keys the key material the runtime holds; ``services`` are the Exchange services it
    is enabled for (Enable-ExchangeCertificate); ``status`` is ``Valid`` or ``PendingRequest``.
    """

    name: str
    facts: CertFacts | None
    services: tuple[str, ...] = ("SMTP",)
    status: str = "Valid"
    friendly_name: str = ""
    request: str | None = None  # the CSR (PEM) of a pending request

    @property
    def thumbprint(self) -> str:
        return self.facts.thumbprint if self.facts else ""


@frozen_init
@dataclass(frozen=True)
class ServerState:
    """An on-premises Exchange server: its identity, receive connectors and certificates."""

    node: str
    org: str
    server: ExchangeServer
    receive_connectors: tuple[ReceiveConnector, ...]
    certificates: tuple[InstalledCertificate, ...] = ()

    def certificate_facts(self) -> tuple[CertFacts, ...]:
        return tuple([c.facts for c in self.certificates if c.facts is not None and c.status == "Valid"])

    def installed(self, facts: CertFacts | None) -> InstalledCertificate | None:
        """The installed certificate with these facts (by thumbprint)."""
        if facts is None:
            return None
        return next((c for c in self.certificates if c.facts is not None and c.facts.thumbprint == facts.thumbprint),
                    None)

    def starttls_certificate(self, connector: ReceiveConnector, now: datetime) -> InstalledCertificate | None:
        """The certificate STARTTLS presents on ``connector`` (fidelity §3.4), or None: no STARTTLS.

        With a TlsCertificateName: issuer and subject must match (latest NotAfter wins; services and
        validity are not checked). Without one: a certificate enabled for SMTP whose name matches the
        connector's FQDN.
        """
        if connector.tls_certificate_name:
            return self.installed(select_certificate(self.certificate_facts(), connector.tls_certificate_name, now))
        smtp = [c.facts for c in self.certificates if c.facts and c.status == "Valid" and "SMTP" in c.services]
        return self.installed(select_certificate(smtp, None, now, fqdn=connector.effective_fqdn(self.server)))

    def client_certificate(self, tls_certificate_name: str, now: datetime) -> InstalledCertificate | None:
        """The certificate a send connector's TlsCertificateName names (None: 454 4.7.5)."""
        return self.installed(select_certificate(self.certificate_facts(), tls_certificate_name, now))


@frozen_init
@dataclass(frozen=True)
class OrgState:
    """An on-premises organization: accepted domains, mailboxes, servers, send connectors."""

    organization: Organization
    send_connectors: tuple[SendConnector, ...] = ()
    remote_mailboxes: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        return self.organization.name


@dataclass(frozen=True)
class World:
    """Every piece of configuration of a running (or rehearsed) lab."""

    topology: Topology
    network: NetworkModel
    zones: ZoneSet
    orgs: Mapping[str, OrgState]
    servers: Mapping[str, ServerState]
    tenants: Mapping[str, Tenant]
    banned_ips: Mapping[str, frozenset[str]] = field(default_factory=dict)
    revision: int = 0

    @classmethod
    def from_topology(cls, topology: Topology, certificates: Mapping[str, CertFacts]) -> "World":
        """Build the world a topology describes.

        Args:
            topology: the validated topology.
            certificates: facts of every certificate the PKI built, by certificate name.
        """
        servers: dict[str, ServerState] = {}
        for host in topology.exchange_servers():
            servers[host.name] = server_state(topology, host, certificates)
        orgs: dict[str, OrgState] = {}
        for name, spec in topology.organizations.items():
            members = tuple(s.server for s in servers.values() if s.org == name)
            org = Organization(name=name, accepted_domains=tuple(spec.accepted_domains),
                               mailboxes=tuple(spec.mailboxes), servers=members,
                               recipient_validation_enabled=topology.settings.recipient_validation)
            orgs[name] = OrgState(org, tuple(spec.send_connectors), tuple(spec.remote_mailboxes))
        banned = {h.name: frozenset(h.banned_ips) for h in topology.hosts_of_kind("eop")}
        zones = topology.dns.zones if topology.dns else ZoneSet(())
        tenants = {name: Tenant.from_spec(spec) for name, spec in topology.tenants.items()}
        return cls(topology=topology, network=topology.network, zones=zones, orgs=orgs, servers=servers,
                   tenants=tenants, banned_ips=banned)

    def evolve(self, **changes: Any) -> "World":
        """A new world with ``changes`` applied and the revision counted up.

        (``dataclasses.replace(self, revision=self.revision + 1, **changes)``, each field given to
        the class's own ``__init__`` at once, without ``replace``'s walk over the fields; anything but
        fields to change goes to ``replace``, which raises what it raises. The instance is built by
        ``__init__``, as ``replace`` builds it, not by copying its ``__dict__``: reading the fields of
        a World so built stays as cheap. tests/unit/test_world_evolve.py holds the two to the same worlds.)"""
        if not changes.keys() <= _WORLD_FIELDS:
            return replace(self, revision=self.revision + 1, **changes)
        get = changes.get
        return self.__class__(get("topology", self.topology), get("network", self.network), get("zones", self.zones),
                              get("orgs", self.orgs), get("servers", self.servers), get("tenants", self.tenants),
                              get("banned_ips", self.banned_ips), self.revision + 1)

    # -- lookups --------------------------------------------------------------------------------
    def host(self, name: str) -> Host:
        return self.topology.hosts[name]

    def server(self, node: str) -> ServerState:
        state = self.servers.get(node)  # (a ServerState, never None)
        if state is None:
            raise ConfigError(f"{node!r} is not an Exchange server", Place(path="topology.nodes"),
                              sorted(self.servers))
        return state

    def org_of(self, node: str) -> OrgState:
        state = self.servers.get(node)  # (self.server(node), its lookup inline)
        return self.orgs[(state if state is not None else self.server(node)).org]

    def with_server(self, state: ServerState) -> "World":
        return self.evolve(servers={**self.servers, state.node: state})

    def with_org(self, state: OrgState) -> "World":
        return self.evolve(orgs={**self.orgs, state.name: state})


#: the fields World.evolve changes itself (every field but the revision, in declaration order)
_WORLD_FIELDS = frozenset(("topology", "network", "zones", "orgs", "servers", "tenants", "banned_ips"))
assert tuple(f.name for f in fields(World)) == ("topology", "network", "zones", "orgs", "servers", "tenants",
                                               "banned_ips", "revision")


def exchange_server(host: Host) -> ExchangeServer:
    """The Exchange server a node is (name = the node name in capitals)."""
    return ExchangeServer.from_mapping(
        {"Name": host.server_name, "Fqdn": host.fqdn, "Version": host.version,
         **({"Build": host.build} if host.build else {})},
        f"topology.nodes.{host.name}")


def receive_connectors_of(host: Host) -> tuple[ReceiveConnector, ...]:
    """A server's receive connectors: its version's defaults plus the node's changes.

    Raises:
        ConfigError: a bad change (unknown property, bad value, a new connector without Bindings ...),
        with its YAML path.
    """
    return apply_receive_connector_overrides(
        default_receive_connectors(exchange_server(host)), host.receive_connector_overrides,
        f"topology.nodes.{host.name}.receive_connectors")


def server_state(topology: Topology, host: Host, certificates: Mapping[str, CertFacts]) -> ServerState:
    """A server's state from its node and the facts of the certificates the PKI built."""
    specs = {c.name: c for c in topology.pki.certificates}
    installed = tuple(
        InstalledCertificate(name=name, facts=certificates.get(name), services=tuple(specs[name].services),
                             friendly_name=specs[name].common_name)
        for name in host.certificates if name in specs)
    return ServerState(node=host.name, org=host.org or "", server=exchange_server(host),
                       receive_connectors=receive_connectors_of(host), certificates=installed)
