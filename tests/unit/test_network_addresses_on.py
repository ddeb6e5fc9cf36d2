"""The addresses on a network, remembered per (model object, network), are the walk over every node."""
from __future__ import annotations

from pathlib import Path

from lab.core import network_route as R
from lab.topology.load import load_topology


def test_addresses_on_a_network_are_every_nodes_addresses_there():
    topology = load_topology(Path(__file__).resolve().parents[2] / "topology.yaml")
    model = topology.network
    for net in model.networks:
        want = {a for n in model.nodes for i in n.interfaces if i.network == net.name for a in i.addresses}
        assert R._addresses_on(model, net.name) == want
        assert R._addresses_on(model, net.name) is R._addresses_on(model, net.name)
    assert R._addresses_on(model, "no-such-network") == frozenset()
