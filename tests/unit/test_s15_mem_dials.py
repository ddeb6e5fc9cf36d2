"""A dial asked for again (the kept Exchange dial) is what working it out afresh gives: the same
failure name, or a dial over the same route; before and after world changes that keep or drop
what was worked out."""
from __future__ import annotations

import dataclasses
import itertools

from lab.core.exchange.model import Binding
from lab.core.world import World
from lab.memory import MemoryLab
from lab.memory.network import Switchboard


def _lab(built) -> MemoryLab:
    topology, trust = built
    return MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)


def _keys(lab: MemoryLab) -> list[tuple[str, str, int]]:
    network = lab.world.network
    addresses = sorted({a for node in network.nodes for a in node.addresses})
    return list(itertools.product([n.name for n in network.nodes], addresses, (25, 587, 2525)))


def _shape(dial):
    return dial if isinstance(dial, str) else ("dial", dial.route)


def _same_as_fresh(lab: MemoryLab, keys) -> int:
    board, fresh = lab.switchboard, Switchboard(lab)
    dials = 0
    for key in keys:
        first, again, new = board.dial(*key), board.dial(*key), fresh.dial(*key)
        assert _shape(first) == _shape(again) == _shape(new), key
        dials += not isinstance(first, str)
    return dials


def test_dials_asked_again_are_the_fresh_ones(built):
    lab = _lab(built)
    keys = _keys(lab)
    assert _same_as_fresh(lab, keys) > 0
    lab.world = lab.world.evolve()  # same network and listeners: dials kept
    _same_as_fresh(lab, keys)
    node = next(n for n in lab.transports if lab.world.server(n).receive_connectors)
    state = lab.world.server(node)
    first = state.receive_connectors[0]
    moved = dataclasses.replace(first, bindings=(*first.bindings, Binding("0.0.0.0", 2525)))
    lab.world = lab.world.with_server(dataclasses.replace(state, receive_connectors=(moved, *state.receive_connectors[1:])))
    _same_as_fresh(lab, keys)  # who listens changed: worked out again
