"""lab.core.network: the article 003 world (contoso direct, xutonglin behind TMG)."""
from __future__ import annotations

import copy

import pytest

from lab.core.errors import ConfigError, ConfigErrors
from lab.core.network import (
    DEFAULT_LIVE_PORTS, FirewallRule, Interface, NatRule, Network, NetworkModel, Node, assign_loopback, live_port,
)
from lab.core.network_parse import parse_endpoint

WORLD = {
    "networks": {
        "internet": {"kind": "public", "cidrs": ["100.100.100.0/24", "40.92.0.0/15", "203.0.113.0/24"]},
        "xutonglin-lan": {"kind": "private", "cidrs": ["192.168.8.0/24"]},
        "office26-lan": {"kind": "private", "cidrs": ["192.168.0.0/24"]},
    },
    "nodes": {
        "public-dns": {"kind": "dns", "interfaces": {"internet": "100.100.100.2"}},
        "mail-contoso": {"kind": "exchange", "interfaces": {"internet": "100.100.100.10"}},
        "mail-xutonglin": {"kind": "exchange", "interfaces": {"xutonglin-lan": "192.168.8.10"}},
        "dc-xutonglin": {"kind": "dns", "interfaces": {"xutonglin-lan": ["192.168.8.20", "192.168.8.21"]}},
        "tmg": {
            "kind": "firewall",
            "interfaces": {"internet": "100.100.100.254", "xutonglin-lan": "192.168.8.1"},
            "nat": [
                {"type": "publish", "name": "SMTP server publishing",
                 "external": "100.100.100.254:25", "internal": "192.168.8.10:25"},
                {"type": "masquerade", "from": "xutonglin-lan", "external": "100.100.100.254"},
            ],
            "firewall": [{"action": "deny", "from": "203.0.113.66/32", "to": "any", "ports": [25],
                          "name": "block spammer"}],
        },
        "client": {"kind": "client", "interfaces": {"internet": "203.0.113.50"}},
        "spammer": {"kind": "client", "interfaces": {"internet": "203.0.113.66"}},
        "office26-fw": {"kind": "firewall",
                        "interfaces": {"internet": "100.100.100.26", "office26-lan": "192.168.0.1"},
                        "nat": [{"type": "masquerade", "from": "office26-lan", "external": "100.100.100.26"}]},
        "erp": {"kind": "device", "interfaces": {"office26-lan": "192.168.0.3"}, "gateway": "office26-fw"},
        "printer": {"kind": "device", "interfaces": {"office26-lan": "192.168.0.4"}},
    },
}
SERVES = {("mail-xutonglin", 25), ("mail-contoso", 25), ("public-dns", 53), ("dc-xutonglin", 53)}


def world(**changes: object) -> dict:
    data = copy.deepcopy(WORLD)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = data
        for key in parents:
            target = target[key]
        target[last] = value
    return data


@pytest.fixture()
def model() -> NetworkModel:
    return NetworkModel.from_dict(world())


def error_paths(exc: ConfigError) -> list[str]:
    errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    return [e.place.path for e in errors if e.place]


# -- seen source addresses -------------------------------------------------------------------
def test_internet_client_through_publishing_is_seen_with_its_own_ip(model: NetworkModel) -> None:
    route = model.connect("client", "100.100.100.254", 25, SERVES)
    assert route.ok and route.failure is None
    assert (route.dest_node, route.dest_ip, route.dest_port) == ("mail-xutonglin", "192.168.8.10", 25)
    assert route.seen_source_ip == "203.0.113.50"
    assert route.hops == ("client", "tmg", "mail-xutonglin")
    assert "tmg: publish 100.100.100.254:25 -> 192.168.8.10:25 (SMTP server publishing)" in route.steps


def test_lan_host_going_out_through_tmg_is_seen_as_the_tmg(model: NetworkModel) -> None:
    route = model.connect("mail-xutonglin", "100.100.100.10", 25, SERVES)
    assert route.ok and route.dest_node == "mail-contoso"
    assert route.source_ip == "192.168.8.10"
    assert route.seen_source_ip == "100.100.100.254"
    assert route.hops == ("mail-xutonglin", "tmg", "mail-contoso")
    assert any("masquerade 192.168.8.10 -> 100.100.100.254" in s for s in route.steps)


def test_hosts_on_the_same_lan_see_lan_addresses(model: NetworkModel) -> None:
    route = model.connect("mail-xutonglin", "192.168.8.21", 53, SERVES)
    assert route.ok and route.dest_node == "dc-xutonglin"
    assert route.seen_source_ip == "192.168.8.10"
    assert route.hops == ("mail-xutonglin", "dc-xutonglin")
    assert model.seen_source("dc-xutonglin", "mail-xutonglin") == "192.168.8.20"


def test_device_behind_masquerading_firewall(model: NetworkModel) -> None:
    route = model.connect("erp", "100.100.100.254", 25, SERVES)
    assert route.ok and route.dest_node == "mail-xutonglin"
    assert route.seen_source_ip == "100.100.100.26"
    assert route.hops == ("erp", "office26-fw", "tmg", "mail-xutonglin")


def test_gateway_is_inferred_for_a_host_without_one(model: NetworkModel) -> None:
    assert model.gateway_of("printer") == "office26-fw"
    assert model.gateway_of("mail-xutonglin") == "tmg"
    assert model.gateway_of("mail-contoso") is None
    assert model.seen_source("printer", "mail-contoso") == "100.100.100.26"


def test_seen_source_between_nodes(model: NetworkModel) -> None:
    assert model.seen_source("mail-contoso", "mail-xutonglin") == "100.100.100.10"
    assert model.seen_source("mail-xutonglin", "mail-contoso") == "100.100.100.254"
    assert model.seen_source("client", "mail-xutonglin") == "203.0.113.50"
    assert model.seen_source("spammer", "mail-xutonglin") is None  # denied by the TMG
    assert model.seen_source("client", "mail-xutonglin", port=587) is None  # 587 is not published


def test_untranslated_private_source_times_out_on_the_internet() -> None:
    data = world(nodes__tmg__nat=[WORLD["nodes"]["tmg"]["nat"][0]])  # no masquerade
    route = NetworkModel.from_dict(data).connect("mail-xutonglin", "100.100.100.10", 25)
    assert route.failure == "Timeout" and route.seen_source_ip is None
    assert "not a public address" in route.steps[-1]


# -- failures --------------------------------------------------------------------------------
def test_unpublished_port_times_out(model: NetworkModel) -> None:
    route = model.connect("client", "100.100.100.254", 587, SERVES)
    assert not route.ok and route.failure == "Timeout"
    assert route.failed_at == "tmg" and route.dest_node is None


def test_firewall_deny_times_out(model: NetworkModel) -> None:
    route = model.connect("spammer", "100.100.100.254", 25, SERVES)
    assert route.failure == "Timeout" and route.failed_at == "tmg"
    assert route.seen_source_ip is None
    assert any("'block spammer' denies 203.0.113.66" in s for s in route.steps)


def test_firewall_deny_only_matching_ports(model: NetworkModel) -> None:
    model = model.with_nat_rule("tmg", NatRule("publish", "web", "100.100.100.254", 443, "192.168.8.10", 443))
    route = model.connect("spammer", "100.100.100.254", 443, lambda node, port: True)
    assert route.ok and route.seen_source_ip == "203.0.113.66"


def test_refused_when_not_listening(model: NetworkModel) -> None:
    route = model.connect("client", "100.100.100.10", 587, SERVES)
    assert route.failure == "Refused" and route.dest_node == "mail-contoso"
    route = model.connect("client", "100.100.100.10", 587, lambda node, port: port == 587)
    assert route.ok


def test_no_route_to_a_private_address_from_the_internet(model: NetworkModel) -> None:
    route = model.connect("mail-contoso", "192.168.8.10", 25)
    assert route.failure == "NoRoute" and route.hops == ("mail-contoso",)


def test_unowned_address_times_out(model: NetworkModel) -> None:
    assert model.connect("client", "100.100.100.99", 25).failure == "Timeout"


def test_lookups(model: NetworkModel) -> None:
    assert model.owner_of("192.168.8.1").name == "tmg"
    assert model.owner_of("100.100.100.99") is None
    assert model.addresses_of("dc-xutonglin") == ("192.168.8.20", "192.168.8.21")
    with pytest.raises(ConfigError) as info:
        model.connect("nobody", "100.100.100.10", 25)
    assert "tmg" in info.value.allowed
    with pytest.raises(ConfigError):
        model.connect("client", "not-an-ip", 25)
    with pytest.raises(ConfigError):
        model.connect("client", "100.100.100.10", 70000)


# -- mutations -------------------------------------------------------------------------------
def test_mutations_return_new_models(model: NetworkModel) -> None:
    fixed = model.without_firewall_rule("tmg", "block spammer")
    assert fixed.connect("spammer", "100.100.100.254", 25, SERVES).ok
    assert not model.connect("spammer", "100.100.100.254", 25, SERVES).ok
    closed = model.without_nat_rule("tmg", "SMTP server publishing")
    assert closed.connect("client", "100.100.100.254", 25, SERVES).failure == "Timeout"
    allow_first = model.with_firewall_rule("tmg", FirewallRule("allow", "203.0.113.66", "any", (25,), "ok"), 0)
    assert allow_first.connect("spammer", "100.100.100.254", 25, SERVES).ok
    with pytest.raises(ConfigError):
        model.without_nat_rule("tmg", "no such rule")
    with pytest.raises(ConfigError) as info:
        model.with_nat_rule("tmg", NatRule("publish", "bad", "100.100.100.254", 465, "192.168.8.99", 465))
    assert info.value.place.path == "topology.nodes.tmg.nat[2].internal"


def test_default_deny_firewall(model: NetworkModel) -> None:
    node = model.node("tmg")
    locked = NetworkModel(model.networks, tuple(
        Node(n.name, n.kind, n.interfaces, n.gateway, n.nat, (), "deny") if n is node else n
        for n in model.nodes))
    assert locked.connect("client", "100.100.100.254", 25, SERVES).failure == "Timeout"
    opened = locked.with_firewall_rule("tmg", FirewallRule("allow", "any", "192.168.8.10/32", (25,), "smtp in"))
    assert opened.connect("client", "100.100.100.254", 25, SERVES).ok  # matches after publishing


# -- validation ------------------------------------------------------------------------------
def test_duplicate_ip_reports_the_yaml_path() -> None:
    data = world(nodes__client__interfaces={"internet": "100.100.100.10"})
    with pytest.raises(ConfigError) as info:
        NetworkModel.from_dict(data)
    assert info.value.place.path == "topology.nodes.client.interfaces.internet"
    assert "duplicate address 100.100.100.10" in str(info.value)
    assert "mail-contoso" in str(info.value)


@pytest.mark.parametrize(("changes", "path"), [
    ({"nodes__tmg__nat": [{"type": "publish", "external": "100.100.100.254:25", "internal": "192.168.8.99:25"}]},
     "topology.nodes.tmg.nat[0].internal"),
    ({"nodes__tmg__nat": [{"type": "publish", "external": "100.100.100.254:99999", "internal": "192.168.8.10"}]},
     "topology.nodes.tmg.nat[0].external"),
    ({"nodes__tmg__nat": [{"type": "publish", "external": "100.100.100.9:25", "internal": "192.168.8.10"}]},
     "topology.nodes.tmg.nat[0].external"),
    ({"nodes__tmg__nat": [{"type": "masquerade", "from": "nowhere", "external": "100.100.100.254"}]},
     "topology.nodes.tmg.nat[0].from"),
    ({"nodes__tmg__nat": [{"type": "forward", "external": "100.100.100.254"}]}, "topology.nodes.tmg.nat[0].type"),
    ({"nodes__client__interfaces": {"internet": "192.168.8.50"}}, "topology.nodes.client.interfaces.internet"),
    ({"nodes__client__interfaces": {"moon": "203.0.113.50"}}, "topology.nodes.client.interfaces.moon"),
    ({"nodes__client__interfaces": {"internet": "203.0.113.500"}}, "topology.nodes.client.interfaces.internet"),
    ({"nodes__dc-xutonglin__interfaces": {"xutonglin-lan": ["192.168.8.20", "192.168.9.1"]}},
     "topology.nodes.dc-xutonglin.interfaces.xutonglin-lan[1]"),
    ({"networks__internet__cidrs": ["100.100.100.0/24", "192.168.0.0/16"]}, "topology.networks.internet.cidrs[1]"),
    ({"networks__internet__cidrs": ["100.100.100.1/24"]}, "topology.networks.internet.cidrs[0]"),
    ({"networks__internet__kind": "dmz"}, "topology.networks.internet.kind"),
    ({"nodes__erp__gateway": "nowhere"}, "topology.nodes.erp.gateway"),
    ({"nodes__erp__gateway": "tmg"}, "topology.nodes.erp.gateway"),
    ({"nodes__tmg__firewall": [{"action": "drop", "from": "any"}]}, "topology.nodes.tmg.firewall[0].action"),
    ({"nodes__tmg__firewall": [{"action": "deny", "from": "203.0.113.0/33"}]}, "topology.nodes.tmg.firewall[0].from"),
    ({"nodes__tmg__firewall": [{"action": "deny", "ports": [0]}]}, "topology.nodes.tmg.firewall[0].ports[0]"),
    ({"nodes__tmg__firewall": [{"action": "deny", "port": 25}]}, "topology.nodes.tmg.firewall[0].port"),
    ({"nodes__tmg__firewall": {"default": "maybe", "rules": []}}, "topology.nodes.tmg.firewall_default"),
])
def test_bad_input_names_the_path(changes: dict, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        NetworkModel.from_dict(world(**changes))
    assert path in error_paths(info.value)


def test_private_host_without_gateway() -> None:
    data = world()
    del data["nodes"]["office26-fw"]
    with pytest.raises(ConfigError) as info:
        NetworkModel.from_dict(data)
    paths = error_paths(info.value)
    assert "topology.nodes.erp.gateway" in paths and "topology.nodes.printer.gateway" in paths


def test_several_errors_are_reported_together() -> None:
    data = world(nodes__client__interfaces={"internet": "100.100.100.10"},
                 nodes__spammer__interfaces={"moon": "1.2.3.4"})
    with pytest.raises(ConfigErrors) as info:
        NetworkModel.from_dict(data)
    assert len(info.value.errors) == 2
    assert str(info.value).count("\n") == 1


def test_dataclasses_can_be_built_directly() -> None:
    model = NetworkModel(
        (Network("net", "public", ["100.100.100.0/24"]),),
        (Node("a", "exchange", [Interface("net", "100.100.100.1")]),
         Node("b", "exchange", [Interface("net", ["100.100.100.2"])])))
    assert model.seen_source("a", "b") == "100.100.100.1"
    assert model == NetworkModel.from_dict(
        {"networks": {"net": {"kind": "public", "cidrs": ["100.100.100.0/24"]}},
         "nodes": {"a": {"kind": "exchange", "interfaces": {"net": "100.100.100.1"}},
                   "b": {"kind": "exchange", "interfaces": {"net": "100.100.100.2"}}}})


def test_parse_endpoint() -> None:
    assert parse_endpoint("100.100.100.254:25", "p") == ("100.100.100.254", 25)
    assert parse_endpoint("100.100.100.254", "p") == ("100.100.100.254", None)
    assert parse_endpoint("[2001:db8::1]:25", "p") == ("2001:db8::1", 25)
    with pytest.raises(ConfigError):
        parse_endpoint("mail.contoso.com:25", "p")


# -- live driver helpers ---------------------------------------------------------------------
def test_assign_loopback_is_deterministic_and_skips_127_0_0_1() -> None:
    names = ["public-dns", "mail-contoso", "tmg"]
    assert assign_loopback(names) == {"public-dns": "127.42.0.1", "mail-contoso": "127.42.0.2", "tmg": "127.42.0.3"}
    assert assign_loopback(names) == assign_loopback(list(names))
    assert list(assign_loopback(["b", "a"])) == ["b", "a"]
    assert assign_loopback(["x", "y"], base="127.0.0.0/24") == {"x": "127.0.0.2", "y": "127.0.0.3"}


@pytest.mark.parametrize(("names", "base"), [
    (["a"], "10.0.0.0/16"), (["a"], "0.0.0.0/0"), (["a"], "127.42.0.0/33"), (["a", "b", "c"], "127.42.0.0/30"),
    (["a", "a"], "127.42.0.0/16"), (["a"], "127.42.0.1/16"),
])
def test_assign_loopback_errors(names: list[str], base: str) -> None:
    with pytest.raises(ConfigError):
        assign_loopback(names, base)


def test_live_port_mapping() -> None:
    assert [live_port(p) for p in (25, 53, 465, 587, 717, 475, 2525)] == [2525, 5353, 2465, 2587, 2717, 2475, 12525]
    assert live_port(443) == 10443 and live_port(8080) == 8080
    assert live_port(25, {25: 3025}) == 3025 and live_port(53, {25: 3025}) == 10053
    assert DEFAULT_LIVE_PORTS[25] == 2525
    for bad in (0, 65536, True, "25"):
        with pytest.raises(ConfigError):
            live_port(bad)  # type: ignore[arg-type]


def test_hairpin_to_the_published_address_from_inside(model: NetworkModel) -> None:
    route = model.connect("mail-xutonglin", "100.100.100.254", 25, SERVES)
    assert route.ok and route.dest_node == "mail-xutonglin"
    assert route.seen_source_ip == "100.100.100.254"


def test_chained_private_networks_go_out_through_both_gateways() -> None:
    data = world()
    data["networks"]["branch-lan"] = {"kind": "private", "cidrs": ["10.1.0.0/24"]}
    data["nodes"]["branch-router"] = {"kind": "router",
                                      "interfaces": {"branch-lan": "10.1.0.1", "office26-lan": "192.168.0.2"},
                                      "gateway": "office26-fw"}
    data["nodes"]["branch-pc"] = {"kind": "device", "interfaces": {"branch-lan": "10.1.0.5"}}
    with pytest.raises(ConfigError) as info:  # printer now has two candidate gateways
        NetworkModel.from_dict(data)
    assert info.value.place.path == "topology.nodes.printer.gateway"
    assert info.value.allowed == ("branch-router", "office26-fw")
    data["nodes"]["printer"]["gateway"] = "office26-fw"
    model = NetworkModel.from_dict(data)
    route = model.connect("branch-pc", "100.100.100.10", 25, SERVES)
    assert route.hops == ("branch-pc", "branch-router", "office26-fw", "mail-contoso")
    # office26-fw masquerades what arrives from office26-lan, routed branch traffic included
    assert route.ok and route.seen_source_ip == "100.100.100.26"
    assert model.connect("branch-pc", "192.168.0.3", 80).seen_source_ip == "10.1.0.5"  # routed, not NATed
    assert model.connect("erp", "10.1.0.5", 80).hops == ("erp", "office26-fw")  # no route back via the router
    fixed = model.with_nat_rule("branch-router", NatRule("masquerade", "hide branch", "192.168.0.2",
                                                         from_network="branch-lan"))
    assert fixed.connect("branch-pc", "192.168.0.3", 80).seen_source_ip == "192.168.0.2"
    assert fixed.connect("branch-pc", "100.100.100.10", 25, SERVES).seen_source_ip == "100.100.100.26"
