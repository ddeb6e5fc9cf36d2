"""What each running service reads from the :class:`~lab.core.world.World` (both drivers).

The live services (:mod:`lab.services`, :mod:`lab.services_eop`) and the in-memory lab
(:mod:`lab.memory`) build their transports, listeners and EOP from these views, so a cmdlet's
change reaches both the same way.
"""
from __future__ import annotations

from dataclasses import replace

from lab.core.eop.model import EopNode
from lab.core.eop.policy import EopWorld
from lab.core.exchange.routing import Directory
from lab.core.exchange.send_connector import SendConnector
from lab.core.world import World


def send_connectors_for(world: World, node: str) -> tuple[SendConnector, ...]:
    """The organization's send connectors this server is a source server of (all, when none is named)."""
    state = world.server(node)
    return tuple(c for c in world.orgs[state.org].send_connectors
                 if not c.source_transport_servers or node in c.source_transport_servers
                 or state.server.name in c.source_transport_servers)


def directory_for(world: World, node: str) -> Directory:
    """The recipient directory of the server's organization.

    It is read from the organization object and its remote mailboxes only, both immutable: a
    world change that leaves them alone (most cmdlets) gets the same Directory back, built once
    per pair (by identity; the last few kept).
    """
    org = world.org_of(node)
    organization, remote = org.organization, org.remote_mailboxes
    for known_org, known_remote, directory in _DIRECTORIES:
        if known_org is organization and known_remote is remote:
            return directory
    directory = Directory.build(organization.accepted_domains, organization.mailboxes, remote)
    _DIRECTORIES.insert(0, (organization, remote, directory))
    del _DIRECTORIES[_DIRECTORIES_KEPT:]
    return directory


_DIRECTORIES: list[tuple[object, object, Directory]] = []  # (organization, remote mailboxes, directory), newest first
_DIRECTORIES_KEPT = 32


def virtual_ports(world: World, node: str) -> tuple[int, ...]:
    """The ports a server's receive connectors bind (25, 587, 717, 2525, 465 by default), ascending.

    Read from the server's receive connectors tuple alone (immutable): remembered per tuple.
    """
    connectors = world.server(node).receive_connectors
    for known, ports in _PORTS:
        if known is connectors:
            return ports
    ports = tuple(sorted({b.port for c in connectors for b in c.bindings}))
    _PORTS.insert(0, (connectors, ports))
    del _PORTS[_DIRECTORIES_KEPT:]
    return ports


_PORTS: list[tuple[object, tuple[int, ...]]] = []  # (receive connectors, their ports), newest first


def eop_world(world: World, node: str) -> EopWorld:
    """The EOP node (its banned addresses included) and the tenants behind it.

    Read from the node's host, its banned addresses and its tenants, all immutable: the same
    inputs (most world changes leave EOP alone) give the same EopWorld back (the last few kept).
    """
    host = world.topology.hosts[node]
    banned = world.banned_ips.get(node, frozenset())
    tenants = tuple(t for t in world.tenants.values() if t.eop == node)
    for known_host, known_banned, known_tenants, made in _EOP_WORLDS:
        if (known_host is host and known_banned == banned and len(known_tenants) == len(tenants)
                and all(a is b for a, b in zip(known_tenants, tenants))):
            return made
    made = EopWorld(replace(EopNode.from_host(host), banned_ips=tuple(sorted(banned))), tenants)
    _EOP_WORLDS.insert(0, (host, banned, tenants, made))
    del _EOP_WORLDS[_DIRECTORIES_KEPT:]
    return made


_EOP_WORLDS: list[tuple[object, frozenset[str], tuple[object, ...], EopWorld]] = []  # newest first
