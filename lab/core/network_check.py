"""Validation of a :class:`~lab.core.network.NetworkModel` (pure; used by its constructor).

Every problem becomes a ConfigError whose ``Place.path`` is the YAML path of the bad value,
e.g. ``topology.nodes.tmg.nat[0].internal``; all problems are reported in one pass.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lab.core.errors import ConfigError, Place
from lab.core.memo import Memo
from lab.core.network import (
    FIREWALL_ACTIONS, GATEWAY_KINDS, NAT_TYPES, NETWORK_KINDS, PRIVATE_RANGES, _ip, _net, _port_ok,
)

if TYPE_CHECKING:
    from lab.core.network import NetworkModel, Node


class _Report:
    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def __call__(self, path: str, message: str, allowed: list[str] | tuple[str, ...] | None = None) -> None:
        self.errors.append(ConfigError(message, Place(path=path), allowed=allowed))


def problems(model: NetworkModel) -> tuple[list[ConfigError], dict[str, str]]:
    """Checks the whole model.

    Returns:
        ``(errors, gateways)``: every problem found, and each private-only node's gateway
        (given or inferred).
    """
    err = _Report()
    _check_networks(model, err)
    owners = _check_nodes(model, err)
    by_name = {n.name: n for n in model.nodes}
    for node in model.nodes:
        if node.nat:  # (a node without NAT rules has nothing to check)
            _check_nat(model, node, owners, err, by_name)
    gateways = _gateways(model, err)
    return err.errors, gateways


def _check_networks(model: NetworkModel, err: _Report) -> None:
    # A model's networks are frozen records in a tuple that an edit of the nodes (NAT, firewall)
    # passes on as it is: whether they are clean is remembered per tuple, and only a tuple with a
    # problem is checked again to report it.
    if not _CLEAN_NETWORKS.get1(model.networks, None, _networks_clean, model):
        _check_network_list(model, err)


def _networks_clean(model: NetworkModel) -> bool:
    probe = _Report()
    _check_network_list(model, probe)
    return not probe.errors


_CLEAN_NETWORKS = Memo(256)


def _check_network_list(model: NetworkModel, err: _Report) -> None:
    seen: set[str] = set()
    public: list[tuple[str, object]] = []
    for net in model.networks:
        p = f"{model.root}.networks.{net.name}"
        if not net.name or net.name in seen:
            err(p, f"network name {net.name!r} is empty or used twice")
        seen.add(net.name)
        if net.kind not in NETWORK_KINDS:
            err(f"{p}.kind", f"unknown network kind {net.kind!r}", NETWORK_KINDS)
        if not net.cidrs:
            err(f"{p}.cidrs", f"network {net.name} needs at least one CIDR")
        for i, cidr in enumerate(net.cidrs):
            cp = f"{p}.cidrs[{i}]"
            parsed = _net(cidr)
            if parsed is None:
                err(cp, f"{cidr!r} is not a valid CIDR (host bits must be zero, e.g. 192.168.8.0/24)")
                continue
            if net.kind != "public":
                continue
            for rng in PRIVATE_RANGES:
                if parsed.version == rng.version and parsed.overlaps(rng):  # type: ignore[arg-type]
                    err(cp, f"public network {net.name} ({cidr}) overlaps the private range {rng}")
            for other, onet in public:
                if parsed.version == onet.version and parsed.overlaps(onet):  # type: ignore[attr-defined]
                    err(cp, f"{cidr} overlaps {onet} of public network {other}")
            public.append((net.name, parsed))


def _check_nodes(model: NetworkModel, err: _Report) -> dict[str, tuple[str, str]]:
    nets = {n.name: n for n in model.networks}
    # whether each network's CIDRs all parse, once per network rather than once per address on it
    parsed = {name: all(_net(c) for c in net.cidrs) for name, net in nets.items()}
    owners: dict[str, tuple[str, str]] = {}
    names: set[str] = set()
    for node in model.nodes:
        p = f"{model.root}.nodes.{node.name}"
        if not node.name or node.name in names:
            err(p, f"node name {node.name!r} is empty or used twice")
        names.add(node.name)
        if not node.interfaces:
            err(f"{p}.interfaces", f"node {node.name} has no interfaces")
        attached: set[str] = set()
        for iface in node.interfaces:
            ip_path = f"{p}.interfaces.{iface.network}"
            net = nets.get(iface.network)
            if net is None:
                err(ip_path, f"unknown network {iface.network!r}", sorted(nets))
            if iface.network in attached:
                err(ip_path, f"node {node.name} is attached to {iface.network} twice")
            attached.add(iface.network)
            if not iface.addresses:
                err(ip_path, f"interface on {iface.network} has no address")
            for j, addr in enumerate(iface.addresses):
                ap = ip_path if len(iface.addresses) == 1 else f"{ip_path}[{j}]"
                if _ip(addr) is None:
                    err(ap, f"{addr!r} is not a valid IP address")
                    continue
                if net is not None and parsed[iface.network] and not net.contains(addr):
                    err(ap, f"{addr} is outside network {net.name} ({', '.join(net.cidrs)})")
                if addr in owners:
                    other, opath = owners[addr]
                    err(ap, f"duplicate address {addr}: already used by {other} ({opath})")
                else:
                    owners[addr] = (node.name, ap)
        if node.firewall_default not in FIREWALL_ACTIONS:
            err(f"{p}.firewall_default", f"unknown firewall default {node.firewall_default!r}", FIREWALL_ACTIONS)
        fw_names: set[str] = set()
        for k, rule in enumerate(node.firewall):
            rp = f"{p}.firewall[{k}]"
            if rule.action not in FIREWALL_ACTIONS:
                err(f"{rp}.action", f"unknown firewall action {rule.action!r}", FIREWALL_ACTIONS)
            for key, value in (("from", rule.source), ("to", rule.destination)):
                if value != "any" and _net(value) is None:
                    err(f"{rp}.{key}", f"{value!r} is not 'any' or a valid CIDR (e.g. 203.0.113.66/32)")
            for q, port in enumerate(rule.ports):
                if not _port_ok(port):
                    err(f"{rp}.ports[{q}]", f"port {port!r} must be an integer in 1..65535")
            if rule.name and rule.name in fw_names:
                err(f"{rp}.name", f"firewall rule name {rule.name!r} is used twice on {node.name}")
            fw_names.add(rule.name)
    return owners


def nat_problems(model: NetworkModel, nodes: tuple[Node, ...], node: Node) -> list[ConfigError]:
    """The problems :func:`problems` would find in ``node``'s NAT rules in a model of ``nodes``
    whose addresses are ``model``'s (a valid model: each address has one owner)."""
    err = _Report()
    if node.nat:
        owners = {addr: (name, "") for addr, name in model._owner.items()}
        _check_nat(model, node, owners, err, {n.name: n for n in nodes})
    return err.errors


def _check_nat(model: NetworkModel, node: Node, owners: dict[str, tuple[str, str]], err: _Report,
               by_name: dict[str, Node]) -> None:
    p = f"{model.root}.nodes.{node.name}"
    names: set[str] = set()
    published: set[tuple[str | None, int | None]] = set()
    for k, rule in enumerate(node.nat):
        rp = f"{p}.nat[{k}]"
        if rule.name and rule.name in names:
            err(f"{rp}.name", f"NAT rule name {rule.name!r} is used twice on {node.name}")
        names.add(rule.name)
        if rule.type not in NAT_TYPES:
            err(f"{rp}.type", f"unknown NAT rule type {rule.type!r}", NAT_TYPES)
            continue
        if _ip(rule.external_ip) is None:
            err(f"{rp}.external", f"external address {rule.external_ip!r} is not a valid IP address")
        elif rule.external_ip not in node.addresses:
            err(f"{rp}.external", f"{rule.external_ip} is not an address of {node.name}", node.addresses)
        if rule.type == "masquerade":
            if rule.from_network not in node.networks:
                err(f"{rp}.from", f"{node.name} has no interface on network {rule.from_network!r}",
                    node.networks)
            elif rule.external_ip == node.address_on(str(rule.from_network)):
                err(f"{rp}.external", f"masquerade address {rule.external_ip} is on {rule.from_network} itself")
            continue
        for key, port in (("external", rule.external_port), ("internal", rule.internal_port)):
            if port is not None and not _port_ok(port):
                err(f"{rp}.{key}", f"port {port!r} must be an integer in 1..65535")
        key = (rule.external_ip, rule.external_port)
        if key in published:
            err(f"{rp}.external", f"{rule.external_ip}:{rule.external_port or '*'} is published twice")
        published.add(key)
        if _ip(rule.internal_ip) is None:
            err(f"{rp}.internal", f"internal address {rule.internal_ip!r} is not a valid IP address")
            continue
        owner = owners.get(str(rule.internal_ip))
        if owner is None:
            err(f"{rp}.internal", f"no host has the address {rule.internal_ip}")
        elif owner[0] == node.name:
            err(f"{rp}.internal", f"{rule.internal_ip} is {node.name} itself")
        elif not set(by_name[owner[0]].networks) & set(node.networks):
            err(f"{rp}.internal", f"{rule.internal_ip} ({owner[0]}) is not on a network {node.name} is attached to")


def _gateways(model: NetworkModel, err: _Report) -> dict[str, str]:
    nets = {n.name: n for n in model.networks}
    by_name = {n.name: n for n in model.nodes}
    result: dict[str, str] = {}
    for node in model.nodes:
        gp = f"{model.root}.nodes.{node.name}.gateway"
        mine = set(node.networks)
        if node.gateway is not None:
            gw = by_name.get(node.gateway)
            if gw is None:
                err(gp, f"unknown gateway node {node.gateway!r}", sorted(by_name))
            elif gw.name == node.name:
                err(gp, f"{node.name} cannot be its own gateway")
            elif not mine & set(gw.networks):
                err(gp, f"gateway {gw.name} shares no network with {node.name}")
            else:
                result[node.name] = gw.name
            continue
        if not node.interfaces or any(n not in nets for n in mine):
            continue
        if any(nets[n].kind == "public" for n in mine):
            continue
        candidates = sorted(n.name for n in model.nodes if n.name != node.name
                            and n.kind in GATEWAY_KINDS and mine & set(n.networks))
        if len(candidates) == 1:
            result[node.name] = candidates[0]
        elif not candidates:
            err(gp, f"{node.name} is only on private networks ({', '.join(sorted(mine))}) and has no "
                    "gateway: set gateway: or add a firewall/router node to the network")
        else:
            err(gp, f"{node.name} has several possible gateways; set gateway:", candidates)
    return result
