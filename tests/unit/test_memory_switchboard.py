"""The in-memory switchboard's shared answers are the ones worked out afresh: routes through the
network model's memo (who listens given as pairs) and receive policies shared by every lab of a world."""
from __future__ import annotations

import itertools

from lab.core.exchange.policy import ExchangePolicy
from lab.core.world import World
from lab.memory import MemoryLab
from tests.unit.test_memory_flows import built  # noqa: F401  (the module fixture)


def _lab(built) -> MemoryLab:  # noqa: F811
    topology, trust = built
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def test_routes_are_the_walks_with_the_listening_callback(built):  # noqa: F811
    lab = _lab(built)
    board, network = lab.switchboard, lab.world.network
    addresses = sorted({a for node in network.nodes for a in node.addresses})
    ports = (25, 587, 2525, 443, 717)
    nodes = [n.name for n in network.nodes]
    checked = 0
    for src, ip, port in itertools.product(nodes, addresses, ports):
        fresh = network._walk(src, ip, port, board.listening)  # the callback: never remembered
        assert board.route(src, ip, port) == fresh
        checked += fresh.ok
    assert checked > 20


def test_labs_of_one_world_share_policies_and_a_new_world_gets_new_ones(built):  # noqa: F811
    first = _lab(built)
    second = MemoryLab(first.world, first.trust, first.start)
    node = next(iter(first.transports))
    state = first.world.server(node)
    connector = state.receive_connectors[0]
    one = first.switchboard._policy(node, state, connector, first.world, True)
    assert second.switchboard._policy(node, state, connector, first.world, True) is one
    assert one == ExchangePolicy(connector, state.server, first.world.org_of(node).organization, cert_available=True)
    other = first.switchboard._policy(node, state, connector, first.world, False)
    assert other is not one and not other.cert_available
    changed = World.from_topology(*_topology_and_certs(built))
    fresh_state = changed.server(node)
    again = first.switchboard._policy(node, fresh_state, fresh_state.receive_connectors[0], changed, True)
    assert again == one and (again is not one or fresh_state.receive_connectors[0] is connector)


def _topology_and_certs(built):  # noqa: F811
    topology, trust = built
    return topology, trust.certificates
