"""What each service of the in-memory lab reads from the World (the live services compute the same).

``send_connectors_for`` / ``directory_for`` / ``virtual_ports`` mirror :mod:`lab.services` and
``eop_world`` mirrors :mod:`lab.services_eop`; those modules import I/O libraries, so the pure
pieces are here (they belong in :mod:`lab.core.world`, where both drivers could import them).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from lab.core.eop.model import EopNode
from lab.core.eop.policy import EopWorld
from lab.core.exchange.routing import Directory
from lab.core.world import World


def send_connectors_for(world: World, node: str) -> tuple[Any, ...]:
    """The organization's send connectors this server is a source server of (all, when none is named)."""
    state = world.server(node)
    return tuple(c for c in world.orgs[state.org].send_connectors
                 if not c.source_transport_servers or node in c.source_transport_servers
                 or state.server.name in c.source_transport_servers)


def directory_for(world: World, node: str) -> Directory:
    """The recipient directory of the server's organization."""
    org = world.org_of(node)
    return Directory.build(org.organization.accepted_domains, org.organization.mailboxes, org.remote_mailboxes)


def virtual_ports(world: World, node: str) -> frozenset[int]:
    """The ports a server's receive connectors bind."""
    return frozenset(b.port for c in world.server(node).receive_connectors for b in c.bindings)


def eop_world(world: World, node: str) -> EopWorld:
    """The EOP node (banned addresses included) and the tenants behind it."""
    eop = EopNode.from_host(world.topology.hosts[node])
    eop = replace(eop, banned_ips=tuple(sorted(world.banned_ips.get(node, frozenset()))))
    return EopWorld(eop, tuple(t for t in world.tenants.values() if t.eop == node))
