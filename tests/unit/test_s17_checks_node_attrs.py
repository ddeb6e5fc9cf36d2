"""A network Node works out its addresses and networks while it is built: the same values as reading
its interfaces, not fields (equality, hashing, repr, replace ignore them), and kept in the
instance's inline values (no instance dict made afterwards, which CPython 3.11 reads more slowly)."""
from __future__ import annotations

import gc
from dataclasses import fields, replace

from lab.core.network import Interface, NatRule, Node


def _dict_materialised(obj: object) -> bool:
    # a materialised instance dict is one of the object's referents (inline values are visited one by one)
    return any(type(r) is dict and "interfaces" in r for r in gc.get_referents(obj))


def _node() -> Node:
    return Node("tmg", "firewall", [Interface("internet", ["100.100.100.254", "100.100.100.253"]),
                                    Interface("lan", ("192.168.8.1",)), Interface("dmz")])


def test_a_node_reads_its_addresses_and_networks_from_its_interfaces() -> None:
    node = _node()
    assert node.addresses == ("100.100.100.254", "100.100.100.253", "192.168.8.1")
    assert node.networks == ("internet", "lan", "dmz")
    assert Node("x", "host").addresses == () and Node("x", "host").networks == ()
    other = replace(node, interfaces=(Interface("lan", ("192.168.8.2",)),))
    assert other.addresses == ("192.168.8.2",) and other.networks == ("lan",)
    assert node.addresses == ("100.100.100.254", "100.100.100.253", "192.168.8.1")  # (its own, unchanged)


def test_they_are_no_fields_of_the_node() -> None:
    node = _node()
    assert "addresses" not in {f.name for f in fields(Node)} and "networks" not in {f.name for f in fields(Node)}
    assert repr(node).endswith("firewall_default='allow')")  # (the last field: nothing after it)
    same = replace(node, nat=(NatRule("publish", external_ip="100.100.100.254", external_port=25, internal_ip="192.168.8.10"),))
    assert replace(same, nat=()) == node and hash(replace(same, nat=())) == hash(node)


def test_a_node_keeps_its_attributes_inline() -> None:
    node = _node()
    node.addresses, node.networks, node.interfaces  # (read: nothing is made on a read)
    assert not _dict_materialised(node)
    vars(node)  # (the check sees a materialised dict)
    assert _dict_materialised(node)
