"""The in-memory switchboard's shared answers are the ones worked out afresh: routes through the
network model's memo (who listens given as pairs) and receive policies shared by every lab of a world."""
from __future__ import annotations

import itertools

from lab.core.exchange.policy import ExchangePolicy
from lab.core.world import World
from lab.memory import MemoryLab


def _lab(built) -> MemoryLab:
    topology, trust = built
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def test_routes_are_the_walks_with_the_listening_callback(built):
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


def test_labs_of_one_world_share_policies_and_a_new_world_gets_new_ones(built):
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


def _topology_and_certs(built):
    topology, trust = built
    return topology, trust.certificates


def test_a_held_dial_follows_world_changes_and_lab_time(built):
    import dataclasses

    lab = _lab(built)
    node = next(n for n in lab.transports if lab.world.server(n).receive_connectors)
    ip = lab.world.network.node(node).addresses[0]
    source = next(n.name for n in lab.world.network.nodes if n.name != node and lab.switchboard.route(n.name, ip, 25).ok)
    dial = lab.switchboard.dial(source, ip, 25)
    first, cert = dial.open_session()
    again, _ = dial.open_session()
    assert again.policy is first.policy and again is not first
    banner = first.connect().lines
    assert banner[0].startswith("220 ")
    state = lab.world.server(node)
    chosen = first.policy.connector
    renamed = dataclasses.replace(chosen, banner="220 held dial sees the new world")
    conns = tuple(renamed if c is chosen else c for c in state.receive_connectors)
    lab.world = lab.world.with_server(dataclasses.replace(state, receive_connectors=conns))
    changed, _ = dial.open_session()  # the dial was made before the change
    assert changed.policy.connector is renamed and changed.connect().lines == ("220 held dial sees the new world",)
    lab.advance(3600)
    later, _ = dial.open_session()
    assert later.ctx.now == lab.now_datetime() and later.ctx.now != first.ctx.now


def test_the_server_view_of_a_handshake_is_shared_per_client_certificate(built):
    from lab.memory import network as N
    topology, trust = built
    cert = next(iter(trust.certificates.values()))
    assert N._server_tls(cert) is N._server_tls(cert)
    assert N._server_tls(cert) == N._new_server_tls(cert) and N._server_tls(None) == N._new_server_tls(None)
    assert N._server_tls(None).peer_names == () and N._server_tls(cert).peer_cert is cert


def _eager_ports(lab: MemoryLab) -> dict:
    """Who listens, worked out afresh from the lab's world (what the switchboard answers from)."""
    from lab.core.world_views import virtual_ports
    ports = {n: virtual_ports(lab.world, n) for n in lab.world.servers}
    ports.update({node: frozenset((25, 587)) for node in lab.eop})
    return ports


def test_who_listens_follows_every_world_change_dialled_or_not(built):
    """The listeners are worked out when first needed after a change: a world changed twice
    before anyone dials, and one changed after a dial, both answer as the world in force."""
    import dataclasses

    from lab.core.exchange.model import Binding

    lab = _lab(built)
    board = lab.switchboard
    node = next(n for n in lab.transports if lab.world.server(n).receive_connectors)
    nodes = [*lab.world.servers, *lab.eop, "nowhere"]

    def answers():
        return {(n, p): board.listening(n, p) for n in nodes for p in (25, 587, 2525, 2626, 2727, 443)}

    def expected():
        ports = _eager_ports(lab)
        return {(n, p): p in ports.get(n, ()) for n in nodes for p in (25, 587, 2525, 2626, 2727, 443)}

    def bind(port):
        state = lab.world.server(node)
        first = state.receive_connectors[0]
        moved = dataclasses.replace(first, bindings=(*first.bindings, Binding("0.0.0.0", port)))
        lab.world = lab.world.with_server(dataclasses.replace(state, receive_connectors=(moved, *state.receive_connectors[1:])))

    assert answers() == expected()
    ip = lab.world.network.node(node).addresses[0]
    assert not board.route(node, ip, 2626).ok or (node, 2626) in board._listening  # nothing binds 2626 yet
    bind(2626)
    bind(2727)  # two changes, no dial between them
    assert board.route(node, ip, 2727) == lab.world.network._walk(node, ip, 2727, board.listening)
    assert (node, 2626) in board._listening and (node, 2727) in board._listening
    assert answers() == expected() and board.listening(node, 2626) and board.listening(node, 2727)
    lab.world = lab.world.with_server(_restored(built, lab, node))
    assert answers() == expected() and not board.listening(node, 2626)
    assert board.route(node, ip, 2626) == lab.world.network._walk(node, ip, 2626, board.listening)


def _restored(built, lab, node):
    return World.from_topology(*_topology_and_certs(built)).server(node)


def test_labs_of_one_world_share_who_listens_and_a_changed_server_gets_its_own(built):
    import dataclasses

    from lab.core.exchange.model import Binding

    first = _lab(built)
    second = MemoryLab(first.world, first.trust, first.start)
    assert first.switchboard._listeners() is second.switchboard._listeners() == _eager_ports(first)
    node = next(n for n in first.transports if first.world.server(n).receive_connectors)
    state = first.world.server(node)
    conn = state.receive_connectors[0]
    moved = dataclasses.replace(conn, bindings=(*conn.bindings, Binding("0.0.0.0", 2828)))
    second.world = second.world.with_server(dataclasses.replace(state, receive_connectors=(moved, *state.receive_connectors[1:])))
    assert second.switchboard.listening(node, 2828) and not first.switchboard.listening(node, 2828)
    assert second.switchboard._listeners() == _eager_ports(second) != _eager_ports(first)
    third = MemoryLab(first.world.evolve(), first.trust, first.start)  # a change that leaves the servers alone
    assert third.switchboard._listeners() is first.switchboard._listeners()
