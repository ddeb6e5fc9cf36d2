"""MemoryHost.resolve routes a DNS query with the DNS server's one (node, 53) pair (remembered by
the network model) instead of a callback: the route is the callback's, from every node to every
address of the lab, DNS server or not."""
from __future__ import annotations

from pathlib import Path

from lab.console.host import Session
from lab.console.memory_host import MemoryHost
from lab.core.world import World
from lab.memory import MemoryLab, Trust
from lab.topology.load import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"


def test_the_pair_routes_as_the_callback_from_every_node_to_every_address():
    topology = load_topology(TOPOLOGY)
    world = World.from_topology(topology, {})
    network, server = world.network, topology.dns.server
    addresses = sorted({a for n in network.nodes for a in n.addresses})
    checked = failed = 0
    for node in network.nodes:
        for address in addresses:
            for port in (53, 25):
                pairs = network.connect(node.name, address, port, listening=frozenset(((server, 53),)))
                called = network.connect(node.name, address, port,
                                         listening=lambda n, p: n == server and p == 53)
                assert pairs == called, (node.name, address, port)
                checked += 1
                failed += not called.ok
    assert checked > 100 and 0 < failed < checked  # both outcomes were compared


def test_resolve_answers_from_the_dns_server_and_times_out_where_it_is_unreachable():
    topology = load_topology(TOPOLOGY)
    lab = MemoryLab(World.from_topology(topology, {}), Trust(), topology.settings.clock_start)
    reply = MemoryHost(lab, None, Session(server="ex01", source_host="internet-client")).resolve("xutonglin.com", "MX")
    assert reply.server_address == "100.100.100.2" and reply.answer.rcode == "NOERROR"
    again = MemoryHost(lab, None, Session(server="ex01", source_host="internet-client")).resolve("xutonglin.com", "MX")
    assert again == reply
