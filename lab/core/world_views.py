"""What each running service reads from the :class:`~lab.core.world.World` (both drivers).

The live services (:mod:`lab.services`, :mod:`lab.services_eop`) and the in-memory lab
(:mod:`lab.memory`) build their transports, listeners and EOP from these views, so a cmdlet's
change reaches both the same way.
"""
from __future__ import annotations

from lab.core.eop.model import EopNode
from lab.core.eop.policy import EopWorld
from lab.core.exchange.routing import Directory
from lab.core.exchange.send_connector import SendConnector
from lab.core.fastpath import evolve
from lab.core.memo import Memo
from lab.core.world import World


def send_connectors_for(world: World, node: str) -> tuple[SendConnector, ...]:
    """The organization's send connectors this server is a source server of (all, when none is named)."""
    state = world.servers.get(node)  # (world.server(node), its lookup inline)
    if state is None:
        state = world.server(node)
    return tuple([c for c in world.orgs[state.org].send_connectors
                  if not c.source_transport_servers or node in c.source_transport_servers
                  or state.server.name in c.source_transport_servers])


# Views per their immutable inputs (lab.core.memo); a few worlds' worth.
_DIRECTORIES, _PORTS, _EOP_WORLDS = Memo(64), Memo(64), Memo(64)


def directory_for(world: World, node: str) -> Directory:
    """The recipient directory of the server's organization.

    It is read from the organization object and its remote mailboxes only, both immutable: a
    world change that leaves them alone (most cmdlets) gets the same Directory back, built once
    per pair (by identity).
    """
    org = world.org_of(node)
    organization, remote = org.organization, org.remote_mailboxes
    return _DIRECTORIES.get2(organization, remote, None,
                             Directory.build, organization.accepted_domains, organization.mailboxes, remote)


def virtual_ports(world: World, node: str) -> tuple[int, ...]:
    """The ports a server's receive connectors bind (25, 587, 717, 2525, 465 by default), ascending.

    Read from the server's receive connectors tuple alone (immutable): remembered per tuple.
    """
    state = world.servers.get(node)  # (world.server(node), its lookup inline)
    connectors = (state if state is not None else world.server(node)).receive_connectors
    return _PORTS.get1(connectors, None, _ports_of, connectors)


def _ports_of(connectors: tuple) -> tuple[int, ...]:
    return tuple(sorted({b.port for c in connectors for b in c.bindings}))


def eop_world(world: World, node: str) -> EopWorld:
    """The EOP node (its banned addresses included) and the tenants behind it.

    Read from the node's host, its banned addresses and its tenants, all immutable: the same
    inputs (most world changes leave EOP alone) give the same EopWorld back.
    """
    host = world.topology.hosts[node]
    banned = world.banned_ips.get(node, frozenset())
    tenants = tuple([t for t in world.tenants.values() if t.eop == node])
    return _EOP_WORLDS.get((host, *tenants), banned, _eop_world, host, banned, tenants)


def _eop_world(host: object, banned: frozenset[str], tenants: tuple) -> EopWorld:
    return EopWorld(evolve(EopNode.from_host(host), banned_ips=tuple(sorted(banned))), tenants)
