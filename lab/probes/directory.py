"""Who is who in a world, as probes need it: mailboxes and their credentials, a node's own
address, the address a client dials for a server node, the names of EOP's endpoints.

Everything is read from the :class:`~lab.core.world.World` (its organizations, tenants, network
and DNS zones), never from product names written in code.
"""
from __future__ import annotations

from dataclasses import dataclass

from lab.core.world import World


@dataclass(frozen=True)
class MailboxInfo:
    """A mailbox: its primary address, password and where it lives.

    ``server`` is the on-prem Exchange node (None for a cloud mailbox); ``tenant`` the tenant of a
    cloud mailbox; ``org`` the on-prem organization.
    """

    primary: str
    password: str
    addresses: tuple[str, ...]
    server: str | None = None
    org: str | None = None
    tenant: str | None = None


class Directory:
    """Lookups over one world (built once per world)."""

    def __init__(self, world: World):
        self.world = world
        self.by_address: dict[str, MailboxInfo] = {}
        self.mailboxes: list[MailboxInfo] = []
        for org in world.orgs.values():
            for box in org.organization.mailboxes:
                self._add(MailboxInfo(box.primary_smtp_address.lower(), box.password,
                                      _lower(box.email_addresses or (box.primary_smtp_address,)),
                                      server=box.server, org=org.name))
        for tenant in world.tenants.values():
            for box in tenant.mailboxes:
                self._add(MailboxInfo(box.primary_smtp_address.lower(), box.password,
                                      _lower(box.email_addresses or (box.primary_smtp_address,)), tenant=tenant.name))
        self.certificates = {c.name for c in world.topology.pki.certificates}

    def _add(self, info: MailboxInfo) -> None:
        self.mailboxes.append(info)
        for address in (info.primary, *info.addresses):
            self.by_address.setdefault(address, info)

    def mailbox(self, address: str) -> MailboxInfo | None:
        """The mailbox that owns ``address`` (any of its addresses), or None."""
        return self.by_address.get(address.strip().lower())

    # -- nodes ---------------------------------------------------------------------------------------
    def lan_servers(self, node: str) -> tuple[str, ...]:
        """Exchange nodes that share a network with ``node`` (its "own" servers)."""
        network = self.world.network
        nets = set(network.node(node).networks)
        return tuple(s for s in self.world.servers if s != node and nets & set(network.node(s).networks)
                     and not network.is_public(s))

    def node_org(self, node: str) -> str | None:
        """The organization a device belongs to: the org of a server on its LAN, else of its FQDN's domain."""
        servers = self.lan_servers(node)
        if servers:
            return self.world.servers[servers[0]].org
        fqdn = (self.world.topology.hosts[node].fqdn or "").lower()
        for org in self.world.orgs.values():
            for domain in org.organization.accepted_domains:
                if fqdn.endswith("." + domain.domain_name.lower()):
                    return org.name
        return None

    def default_domain(self, org: str) -> str | None:
        domains = self.world.orgs[org].organization.accepted_domains
        chosen = next((d for d in domains if d.default), domains[0] if domains else None)
        return chosen.domain_name.lower() if chosen else None

    def node_address(self, node: str) -> str | None:
        """The address a device sends as: ``node@<its org's default domain>``, or None."""
        org = self.node_org(node)
        domain = self.default_domain(org) if org else None
        return f"{node}@{domain}" if domain else None

    def dial(self, source: str, node: str) -> str:
        """What a client on ``source`` dials to reach ``node``: its address on a shared network,
        else its FQDN (resolved by the lab's DNS at send time), else its first address."""
        network = self.world.network
        src, dst = network.node(source), network.node(node)
        for net in src.networks:
            ip = dst.address_on(net)
            if ip:
                return ip
        fqdn = self.world.topology.hosts[node].fqdn
        if fqdn:
            return fqdn
        addresses = network.addresses_of(node)
        return addresses[0] if addresses else node

    # -- EOP endpoints ---------------------------------------------------------------------------------
    def names_of(self, address: str) -> tuple[str, ...]:
        """The DNS names whose A record is ``address`` (sorted)."""
        return tuple(sorted({r.name.rstrip(".").lower() for r in self.world.zones.records(rtype="A")
                             if str(r.value) == address}))

    def tenant_mx(self, tenant: str) -> str | None:
        """The tenant's MX endpoint name: the MX host of its default domain when that host is EOP's
        MX address, else the first name of EOP's MX address."""
        spec = self.world.tenants[tenant]
        eop = self.world.topology.hosts[spec.eop]
        address = eop.endpoints.get("mx")
        names = self.names_of(address) if address else ()
        domain = next((d.domain_name for d in spec.accepted_domains if d.default), None)
        if domain:
            for rec in self.world.zones.records(domain, "MX"):
                host = str(rec.value[1]).rstrip(".").lower()
                if host in names:
                    return host
        return names[0] if names else None

    def submission(self, tenant: str) -> str | None:
        """The name of the tenant's EOP submission endpoint (smtp.office365.com), or None."""
        eop = self.world.topology.hosts[self.world.tenants[tenant].eop]
        address = eop.endpoints.get("submission")
        names = self.names_of(address) if address else ()
        return names[0] if names else None


def _lower(addresses: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(a.strip().lower() for a in addresses)
