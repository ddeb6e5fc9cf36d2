"""Following one connection through the lab network (pure; used by ``NetworkModel.connect``).

The walk moves the flow hop by hop: delivered directly on a network both ends share, else
handed to the node's gateway (where masquerade rewrites the source), else across the public
Internet. Arriving at a node applies its firewall (first match wins, then its default) and its
publishing rules (DNAT), which send the flow on to the internal host.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from lab.core.errors import ConfigError, Place
from lab.core.memo import Memo
from lab.core.network import GATEWAY_KINDS, PRIVATE_RANGES, Route, _in_any, _ip, _norm, _port_ok

if TYPE_CHECKING:
    from lab.core.network import Network, NetworkModel, Node

MAX_HOPS = 32


class _Walk:
    def __init__(self, model: NetworkModel, src: Node, dst_ip: str, dst_port: int) -> None:
        self.model, self.src = model, src
        self.ip, self.port = dst_ip, dst_port
        self.src_ip: str | None = None
        self.origin: str | None = None  # the source address as the connecting node sent it
        self.hops: list[str] = [src.name]
        self.steps: list[str] = []

    def start(self, ip: str | None) -> None:
        """Sets the source address once, where the flow leaves the connecting node."""
        if self.src_ip is None:
            self.src_ip = self.origin = ip

    def route(self, failure: str | None, dest: Node | None, where: str | None, step: str = "") -> Route:
        if step:
            self.steps.append(step)
        reached = failure in (None, "Refused")
        return Route(failure is None, failure, self.src.name, self.origin, dest.name if dest else None,
                     self.ip, self.port, self.src_ip if reached else None, tuple(self.hops),
                     tuple(self.steps), where)

    def firewall(self, node: Node, dsts: tuple[str, ...], ports: tuple[int, ...]) -> bool:
        """Applies ``node``'s firewall; returns True if the flow may pass."""
        if not node.firewall and node.firewall_default == "allow":
            return True
        flow = f"{self.src_ip} -> {self.ip}:{self.port}"
        for k, rule in enumerate(node.firewall):
            if rule.matches(str(self.src_ip), dsts, ports):
                verb = "allows" if rule.action == "allow" else "denies"
                self.steps.append(f"{node.name}: firewall rule {rule.label(k)} {verb} {flow}")
                return rule.action == "allow"
        if node.firewall_default == "allow":
            return True
        self.steps.append(f"{node.name}: no firewall rule allows {flow}; default deny")
        return False


def _network_for(model: NetworkModel, node: Node, ip: str) -> Network | None:
    """The network ``node`` would use to reach ``ip`` directly, or None."""
    nets = [model.network(n) for n in node.networks]
    for net in nets:  # the network on which the address actually lives
        if net.contains(ip) and ip in _addresses_on(model, net.name):
            return net
    direct = next((n for n in nets if n.contains(ip)), None)
    if direct is not None:
        return direct
    if any(n.kind == "public" for n in nets):  # public networks are joined by the Internet
        return next((n for n in model.networks if n.kind == "public" and n.contains(ip)), None)
    return None


def _addresses_on(model: NetworkModel, network: str) -> frozenset[str]:
    # per (model object, network name): a model is frozen (a change makes a new one)
    return _ADDRESSES_ON.get((model,), network, _all_addresses_on, model, network)


def _all_addresses_on(model: NetworkModel, network: str) -> frozenset[str]:
    return frozenset([a for n in model.nodes for i in n.interfaces if i.network == network for a in i.addresses])


_ADDRESSES_ON = Memo(256)


def _public_address(model: NetworkModel, node: Node) -> str | None:
    return next((i.addresses[0] for i in node.interfaces
                 if model.network(i.network).kind == "public" and i.addresses), None)


def walk(model: NetworkModel, src: Node, dst_ip: str, dst_port: int,
         serves: Callable[[str, int], bool]) -> Route:
    """Follows a connection from ``src`` to ``dst_ip:dst_port``; see ``NetworkModel.connect``.

    Raises:
        ConfigError: ``dst_ip`` is not an IP address or ``dst_port`` not in 1..65535.
    """
    if _ip(dst_ip) is None:
        raise ConfigError(f"{dst_ip!r} is not a valid IP address", Place(path="dst_ip"))
    if not _port_ok(dst_port):
        raise ConfigError(f"port {dst_port!r} must be an integer in 1..65535", Place(path="dst_port"))
    w = _Walk(model, src, _norm(dst_ip), dst_port)
    cur = src
    visited: set[tuple[str, str, int]] = set()
    while len(w.hops) <= MAX_HOPS:
        state = (cur.name, w.ip, w.port)
        if state in visited:
            return w.route("NoRoute", None, cur.name, f"{cur.name}: routing loop towards {w.ip}:{w.port}")
        visited.add(state)
        if w.ip in cur.addresses:
            target: Node | None = cur
            w.start(w.ip)
        else:
            net = _network_for(model, cur, w.ip)
            if net is None:
                gw_name = model.gateway_of(cur.name)
                if gw_name is None or model.is_public(cur.name):
                    why = "a private address, not routed on the Internet" if any(
                        _in_any(w.ip, (str(r),)) for r in PRIVATE_RANGES) else "not on any network"
                    return w.route("NoRoute", None, cur.name, f"{cur.name}: no route to {w.ip} ({why})")
                gw = model.node(gw_name)
                shared = next(n for n in cur.networks if n in gw.networks)
                w.start(cur.address_on(shared))
                w.steps.append(f"{cur.name}: {w.ip} is not on {', '.join(cur.networks)}; via gateway {gw.name}")
                w.hops.append(gw.name)
                if not w.firewall(gw, (w.ip,), (w.port,)):
                    return w.route("Timeout", None, gw.name)
                masq = next((r for r in gw.nat if r.type == "masquerade" and r.from_network == shared), None)
                if masq is not None:
                    w.steps.append(f"{gw.name}: masquerade {w.src_ip} -> {masq.external_ip}"
                                   f" ({masq.name or 'from ' + shared})")
                    w.src_ip = masq.external_ip
                cur = gw
                continue
            w.start(cur.address_on(net.name) or _public_address(model, cur))
            target = model.owner_of(w.ip)
            if target is None or net.name not in target.networks and net.kind != "public":
                return w.route("Timeout", None, cur.name, f"{cur.name}: no host has {w.ip} on {net.name}")
            if net.kind == "public" and not any(n.kind == "public" and n.contains(str(w.src_ip))
                                                for n in model.networks):
                return w.route("Timeout", None, cur.name,
                               f"{cur.name}: source {w.src_ip} is not a public address (no masquerade); "
                               "replies cannot come back")
            w.steps.append(f"{cur.name} -> {target.name}: {w.src_ip} -> {w.ip}:{w.port} on {net.name}")
            w.hops.append(target.name)
        assert target is not None
        pub = next((r for r in target.nat if r.publishes(w.ip, w.port)), None)
        dsts = (w.ip,) + ((str(pub.internal_ip),) if pub else ())
        ports = (w.port,) + ((pub.target(w.port)[1],) if pub else ())
        if target is not src and not w.firewall(target, dsts, ports):
            return w.route("Timeout", None, target.name)
        if pub is not None:
            new_ip, new_port = pub.target(w.port)
            label = f" ({pub.name})" if pub.name else ""
            w.steps.append(f"{target.name}: publish {w.ip}:{w.port} -> {new_ip}:{new_port}{label}")
            w.ip, w.port, cur = new_ip, new_port, target
            continue
        if serves(target.name, w.port):
            return w.route(None, target, None, f"{target.name}: accepts {w.ip}:{w.port} from {w.src_ip}")
        if target.kind in GATEWAY_KINDS or target.nat:
            return w.route("Timeout", None, target.name,
                           f"{target.name}: nothing is published on {w.ip}:{w.port}; the connection is dropped")
        return w.route("Refused", target, target.name, f"{target.name}: nothing listens on port {w.port}; refused")
    return w.route("NoRoute", None, cur.name, f"{cur.name}: too many hops towards {w.ip}")

