"""The switchboard takes up the routes of an earlier world only when they are still the network
model's answers: the same network object and the same listening pairs; otherwise it works them out
again. Every answer is held to a fresh walk of the world in force."""
from __future__ import annotations

import dataclasses
import itertools

from lab.core.exchange.model import Binding
from lab.core.world import World
from lab.memory import MemoryLab


def _lab(built) -> MemoryLab:
    topology, trust = built
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def _keys(lab: MemoryLab) -> list[tuple[str, str, int]]:
    network = lab.world.network
    addresses = sorted({a for node in network.nodes for a in node.addresses})
    return list(itertools.product([n.name for n in network.nodes], addresses, (25, 587, 2525, 2929)))


def _all_fresh(lab: MemoryLab, keys) -> None:
    board = lab.switchboard
    for src, ip, port in keys:
        assert board.route(src, ip, port) == lab.world.network._walk(src, ip, port, board.listening), (src, ip, port)


def _bind(lab: MemoryLab, node: str, port: int) -> None:
    state = lab.world.server(node)
    first = state.receive_connectors[0]
    moved = dataclasses.replace(first, bindings=(*first.bindings, Binding("0.0.0.0", port)))
    lab.world = lab.world.with_server(dataclasses.replace(state, receive_connectors=(moved, *state.receive_connectors[1:])))


def test_routes_survive_a_change_that_leaves_network_and_listeners_alone(built):
    lab = _lab(built)
    keys = _keys(lab)
    _all_fresh(lab, keys)
    board = lab.switchboard
    before = {k: board.route(*k) for k in keys}
    lab.world = lab.world.evolve()  # same network, same servers
    assert board._ports is None  # worked out again when asked
    _all_fresh(lab, keys)
    assert all(board.route(*k) is before[k] for k in keys)  # the kept routes, taken up


def test_a_change_of_who_listens_drops_the_kept_routes(built):
    lab = _lab(built)
    keys = _keys(lab)
    board = lab.switchboard
    node = next(n for n in lab.transports if lab.world.server(n).receive_connectors)
    ip = lab.world.network.node(node).addresses[0]
    closed = board.route(node, ip, 2929)
    assert (node, 2929) not in board._listening
    _bind(lab, node, 2929)
    opened = board.route(node, ip, 2929)
    assert (node, 2929) in board._listening and opened == lab.world.network._walk(node, ip, 2929, board.listening)
    assert closed.ok is False or opened != closed
    _all_fresh(lab, keys)
    lab.world = lab.world.evolve()  # kept again, with the new listener
    assert board.route(node, ip, 2929) is opened
    _all_fresh(lab, keys)


def test_routes_kept_twice_over_and_after_a_world_changed_without_a_dial(built):
    lab = _lab(built)
    keys = _keys(lab)
    node = next(n for n in lab.transports if lab.world.server(n).receive_connectors)
    _all_fresh(lab, keys)
    lab.world = lab.world.evolve()
    lab.world = lab.world.evolve()  # no dial between the two changes
    _all_fresh(lab, keys)
    _bind(lab, node, 2525)
    lab.world = lab.world.evolve()  # the change of listeners, then one that keeps them
    _all_fresh(lab, keys)


def _exchange_dial(lab: MemoryLab):
    node = next(n for n in lab.transports if lab.world.server(n).receive_connectors)
    ip = lab.world.network.node(node).addresses[0]
    source = next(n.name for n in lab.world.network.nodes if n.name != node and lab.switchboard.route(n.name, ip, 25).ok)
    return node, ip, source


def test_a_dial_is_taken_up_and_opens_what_the_world_in_force_says(built):
    lab = _lab(built)
    node, ip, source = _exchange_dial(lab)
    dial = lab.switchboard.dial(source, ip, 25)
    first, _ = dial.open_session()
    lab.world = lab.world.evolve()  # nothing the dial depends on changed
    assert lab.switchboard.dial(source, ip, 25) is dial
    same, _ = dial.open_session()
    assert same.policy is first.policy and same is not first
    state = lab.world.server(node)
    chosen = first.policy.connector
    renamed = dataclasses.replace(chosen, banner="220 a kept dial sees the new world")
    lab.world = lab.world.with_server(dataclasses.replace(state, receive_connectors=tuple(
        renamed if c is chosen else c for c in state.receive_connectors)))
    again = lab.switchboard.dial(source, ip, 25)
    changed, _ = again.open_session()
    assert changed.policy.connector is renamed and changed.connect().lines == ("220 a kept dial sees the new world",)
    org = lab.world.org_of(node)
    lab.world = lab.world.with_org(dataclasses.replace(org, organization=dataclasses.replace(org.organization)))
    moved, _ = lab.switchboard.dial(source, ip, 25).open_session()
    assert moved.policy.org is lab.world.org_of(node).organization and moved.policy is not changed.policy
    lab.advance(60)
    later, _ = lab.switchboard.dial(source, ip, 25).open_session()
    assert later.ctx.now == lab.now_datetime() != first.ctx.now


def test_a_closed_lab_with_kept_dials_is_freed_without_the_cycle_collector(built):
    import gc
    import weakref

    lab = _lab(built)
    node, ip, source = _exchange_dial(lab)
    lab.switchboard.dial(source, ip, 25).open_session()
    lab.world = lab.world.evolve()
    lab.switchboard.dial(source, ip, 25).open_session()
    lab.close()
    gone = weakref.ref(lab)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del lab
        assert gone() is None
    finally:
        if enabled:
            gc.enable()
