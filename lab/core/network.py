"""The lab network: hosts, networks, NAT/publishing and firewalls (pure).

Answers, without any I/O: who owns an address, whether a connection gets through, which
virtual address the receiver sees after NAT/publishing (a LAN host leaving through the TMG
appears as 100.100.100.254), and how hosts map onto loopback addresses and unprivileged
ports for the live driver. Every model is validated when it is built; bad input raises
:class:`~lab.core.errors.ConfigError` whose ``Place.path`` is the YAML path
(``topology.nodes.tmg.nat[0].internal``). Mutations return new models.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Callable, Collection, Mapping, Union

from lab.core.errors import ConfigError, ConfigErrors, Place

NETWORK_KINDS = ("public", "private")
NAT_TYPES = ("publish", "masquerade")
FIREWALL_ACTIONS = ("allow", "deny")
GATEWAY_KINDS = ("firewall", "router")
FAILURES = ("NoRoute", "Timeout", "Refused")
PRIVATE_RANGES = tuple(ipaddress.ip_network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
LOOPBACK_RANGE = ipaddress.ip_network("127.0.0.0/8")
DEFAULT_LOOPBACK_BASE = "127.42.0.0/16"
DEFAULT_LIVE_PORTS: Mapping[int, int] = MappingProxyType(
    {25: 2525, 53: 5353, 465: 2465, 587: 2587, 717: 2717, 475: 2475, 2525: 12525})

Listening = Union[Callable[[str, int], bool], Collection[tuple[str, int]], None]


def _tuple(value: object) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


# Parsing is pure and the results are immutable: each text is parsed once per process
# (routing asks about the same few addresses and CIDRs on every connection).
_PARSE_CACHE = 8192


@lru_cache(maxsize=_PARSE_CACHE)
def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@lru_cache(maxsize=_PARSE_CACHE)
def _parse_net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        return None


@lru_cache(maxsize=_PARSE_CACHE)
def _norm_text(text: str) -> str:
    addr = _parse_ip(text)
    return str(addr) if addr is not None else text


def _ip(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    return _parse_ip(value if type(value) is str else str(value))


def _net(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    return _parse_net(value if type(value) is str else str(value))


def _norm(value: object) -> str:
    return _norm_text(value if type(value) is str else str(value))


def _port_ok(port: object) -> bool:
    return isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535


def _in_any(ip: str, cidrs: tuple[str, ...]) -> bool:
    if type(ip) is str and type(cidrs) is tuple:  # the usual texts: remembered (a pure function of them)
        try:
            return _in_any_text(ip, cidrs)
        except TypeError:  # an unhashable item among the CIDRs: parsed as it is below
            pass
    return _in_any_parsed(ip, cidrs)


@lru_cache(maxsize=_PARSE_CACHE)
def _in_any_text(ip: str, cidrs: tuple[str, ...]) -> bool:
    return _in_any_parsed(ip, cidrs)


def _in_any_parsed(ip: object, cidrs: tuple[str, ...]) -> bool:
    addr = _ip(ip)
    if addr is None:
        return False
    for c in cidrs:
        n = _net(c)
        if n is not None and addr.version == n.version and addr in n:
            return True
    return False


@dataclass(frozen=True)
class Network:
    """A network segment: ``public`` (the lab Internet) or ``private`` (a LAN behind a gateway)."""

    name: str
    kind: str
    cidrs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "cidrs", _tuple(self.cidrs))

    def contains(self, ip: str) -> bool:
        """Returns True if ``ip`` lies inside one of this network's CIDRs."""
        return _in_any(ip, self.cidrs)


@dataclass(frozen=True)
class Interface:
    """A node's attachment to one network, with one or more addresses."""

    network: str
    addresses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "addresses", tuple(_norm(a) for a in _tuple(self.addresses)))


@dataclass(frozen=True)
class NatRule:
    """A publishing rule (DNAT ``external -> internal``) or a masquerade rule (SNAT for ``from_network``).

    A publish rule without ``external_port`` publishes every port; without ``internal_port``
    the port is kept. Publishing keeps the client's source address (TMG's default). A
    masquerade rule rewrites the source of every flow that the node receives from
    ``from_network`` and forwards elsewhere (hosts routed in through that network included).
    """

    type: str
    name: str = ""
    external_ip: str | None = None
    external_port: int | None = None
    internal_ip: str | None = None
    internal_port: int | None = None
    from_network: str | None = None

    def __post_init__(self) -> None:
        for attr in ("external_ip", "internal_ip"):
            if getattr(self, attr) is not None:
                object.__setattr__(self, attr, _norm(getattr(self, attr)))

    def publishes(self, ip: str, port: int) -> bool:
        """Returns True if this is a publish rule for ``ip:port``."""
        return (self.type == "publish" and self.external_ip == _norm(ip)
                and self.external_port in (None, port))

    def target(self, port: int) -> tuple[str, int]:
        """The internal ``(ip, port)`` a published connection to ``port`` is forwarded to."""
        return str(self.internal_ip), self.internal_port or port

    def describe(self) -> str:
        """A one-line explanation, e.g. ``publish 100.100.100.254:25 -> 192.168.8.10:25 (SMTP)``."""
        suffix = f" ({self.name})" if self.name else ""
        if self.type == "masquerade":
            return f"masquerade {self.from_network} -> {self.external_ip}{suffix}"
        ext = f"{self.external_ip}:{self.external_port or '*'}"
        intl = f"{self.internal_ip}:{self.internal_port or self.external_port or '*'}"
        return f"publish {ext} -> {intl}{suffix}"


@dataclass(frozen=True)
class FirewallRule:
    """One firewall rule; ``source``/``destination`` are a CIDR or ``any``; no ports means all ports."""

    action: str
    source: str = "any"
    destination: str = "any"
    ports: tuple[int, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ports", _tuple(self.ports))

    def matches(self, src: str, dsts: tuple[str, ...], ports: tuple[int, ...]) -> bool:
        """True if the flow matches; a destination/port matches before or after publishing."""
        def hit(cidr: str, ip: str) -> bool:
            return cidr == "any" or _in_any(ip, (cidr,))
        return (hit(self.source, src) and any(hit(self.destination, d) for d in dsts)
                and (not self.ports or any(p in self.ports for p in ports)))

    def label(self, index: int) -> str:
        """The rule's name, or ``#index`` when it has none."""
        return repr(self.name) if self.name else f"#{index}"


@dataclass(frozen=True)
class Node:
    """A host (Exchange server, DNS server, firewall, device, ...) and its network settings.

    ``addresses`` (every address of the node, in interface order) and ``networks`` (the names of
    the networks it is attached to) are worked out with it (see ``__post_init__``)."""

    name: str
    kind: str
    interfaces: tuple[Interface, ...] = ()
    gateway: str | None = None
    nat: tuple[NatRule, ...] = ()
    firewall: tuple[FirewallRule, ...] = ()
    firewall_default: str = "allow"

    def __post_init__(self) -> None:
        for attr in ("interfaces", "nat", "firewall"):
            object.__setattr__(self, attr, _tuple(getattr(self, attr)))
        # worked out with the node (a node and its interfaces never change; edits make new nodes), as
        # attributes beside its fields (not fields: equality, hashing and repr ignore them), set while
        # the node is built: they stay in its inline values, where a cached_property would turn them
        # into a dict made afterwards, which CPython 3.11 reads more slowly
        object.__setattr__(self, "addresses", tuple([a for i in self.interfaces for a in i.addresses]))  # in order
        object.__setattr__(self, "networks", tuple([i.network for i in self.interfaces]))  # the networks it is on

    def address_on(self, network: str) -> str | None:
        """The node's first address on ``network``, or None."""
        return next((i.addresses[0] for i in self.interfaces if i.network == network and i.addresses), None)


@dataclass(frozen=True)
class Route:
    """The outcome of one connection attempt.

    ``failure`` is None, ``NoRoute``, ``Timeout`` (dropped by a firewall, or nothing published:
    the client sees Winsock 10060) or ``Refused`` (the host is there but does not serve the
    port: 10061). ``dest_*`` are after publishing; ``seen_source_ip`` is the source address the
    receiver sees (None if nothing reached a receiver).
    """

    ok: bool
    failure: str | None
    source_node: str
    source_ip: str | None
    dest_node: str | None
    dest_ip: str
    dest_port: int
    seen_source_ip: str | None
    hops: tuple[str, ...]
    steps: tuple[str, ...]
    failed_at: str | None = None


_ROUTE_MEMO = 4096
_UNCACHED = object()


def _listening_key(listening: Listening) -> object:
    """A hashable stand-in for ``listening`` (routes depend on it), or _UNCACHED for a callback."""
    if type(listening) is frozenset:  # (frozenset(listening) is listening itself)
        return listening
    if listening is None:
        return None
    if callable(listening):
        return _UNCACHED
    try:
        return frozenset(listening)
    except TypeError:
        return _UNCACHED


def _listening_fn(listening: Listening) -> Callable[[str, int], bool]:
    if listening is None:
        return lambda node, port: True
    if callable(listening):
        return listening
    pairs = set(listening)
    return lambda node, port: (node, port) in pairs


@dataclass(frozen=True)
class NetworkModel:
    """The validated network of a topology. Construction raises ConfigError on bad input.

    ``root`` is the YAML path prefix used in error places (``topology``).
    """

    networks: tuple[Network, ...] = ()
    nodes: tuple[Node, ...] = ()
    root: str = field(default="topology", compare=False)
    _nets: Mapping[str, Network] = field(init=False, repr=False, compare=False)
    _nodes: Mapping[str, Node] = field(init=False, repr=False, compare=False)
    _owner: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _gateways: Mapping[str, str] = field(init=False, repr=False, compare=False)
    # Memoised routes: the model never changes (mutations return new models), so a route is a
    # function of (source, address, port, who listens). Routes are frozen; sharing them is safe.
    _routes: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", _tuple(self.networks))
        object.__setattr__(self, "nodes", _tuple(self.nodes))
        from lab.core.network_check import problems  # noqa: PLC0415  (keeps this module small)
        errors, gateways = problems(self)
        if errors:
            raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
        object.__setattr__(self, "_nets", MappingProxyType({n.name: n for n in self.networks}))
        object.__setattr__(self, "_nodes", MappingProxyType({n.name: n for n in self.nodes}))
        owner = {a: n.name for n in self.nodes for a in n.addresses}
        object.__setattr__(self, "_owner", MappingProxyType(owner))
        object.__setattr__(self, "_gateways", MappingProxyType(gateways))
        object.__setattr__(self, "_routes", {})

    @classmethod
    def from_dict(cls, data: Mapping[str, object], root: str = "topology") -> NetworkModel:
        """Builds a validated model from the parsed ``topology:`` mapping (``networks``, ``nodes``).

        See :mod:`lab.core.network_parse` for the accepted shape.

        Raises:
            ConfigError: with the YAML path (``topology.nodes.tmg.nat[0].internal``) of the bad value.
        """
        from lab.core.network_parse import model_from_dict  # noqa: PLC0415
        return model_from_dict(data, root)

    # -- lookups -------------------------------------------------------------------------
    def node(self, name: str) -> Node:
        """The node called ``name``; ConfigError (with the known names) if there is none."""
        if name not in self._nodes:
            raise ConfigError(f"unknown node {name!r}", Place(path=f"{self.root}.nodes"),
                              allowed=sorted(self._nodes))
        return self._nodes[name]

    def network(self, name: str) -> Network:
        """The network called ``name``; ConfigError if there is none."""
        if name not in self._nets:
            raise ConfigError(f"unknown network {name!r}", Place(path=f"{self.root}.networks"),
                              allowed=sorted(self._nets))
        return self._nets[name]

    def owner_of(self, ip: str) -> Node | None:
        """The node that has address ``ip``, or None."""
        name = self._owner.get(_norm(ip))
        return self._nodes[name] if name else None

    def addresses_of(self, node: str | Node) -> tuple[str, ...]:
        """Every virtual address of ``node``."""
        return self.node(node.name if isinstance(node, Node) else node).addresses

    def gateway_of(self, node: str) -> str | None:
        """The node's gateway (given or inferred), or None for hosts on a public network."""
        return self._gateways.get(self.node(node).name)

    def is_public(self, node: str) -> bool:
        """True if the node has an interface on a public network."""
        return any(self._nets[n].kind == "public" for n in self.node(node).networks)

    # -- routing -------------------------------------------------------------------------
    def connect(self, src_node: str, dst_ip: str, dst_port: int, listening: Listening = None) -> Route:
        """Follows a TCP connection from ``src_node`` to ``dst_ip:dst_port`` through the network.

        Args:
            src_node: the connecting node's name.
            dst_ip: the virtual address dialled (a public address, a LAN address, ...).
            dst_port: the virtual port dialled.
            listening: which ``(node, port)`` pairs serve: a callback ``f(node, port) -> bool``,
                a collection of pairs, or None (every port is served).

        Returns:
            The :class:`Route`. Firewall rules apply on every node the flow crosses or reaches
            (first match wins, then the node's default). A private source that reaches a public
            network untranslated times out (replies cannot come back).
        """
        key = _listening_key(listening)
        if key is _UNCACHED:
            return self._walk(src_node, dst_ip, dst_port, listening)
        memo_key = ("connect", src_node, dst_ip, dst_port, key)
        route = self._routes.get(memo_key)
        if route is None:
            route = self._walk(src_node, dst_ip, dst_port, listening)
            self._remember(memo_key, route)
        return route

    def _walk(self, src_node: str, dst_ip: str, dst_port: int, listening: Listening) -> Route:
        return _route.walk(self, self.node(src_node), dst_ip, dst_port, _listening_fn(listening))

    def _remember(self, key: tuple, route: Route) -> None:
        if len(self._routes) >= _ROUTE_MEMO:
            self._routes.clear()
        self._routes[key] = route

    def route_to_node(self, src_node: str, dst_node: str, port: int = 25,
                      listening: Listening = None) -> Route:
        """Connects ``src_node`` to ``dst_node`` on ``port`` by the address src would dial.

        Candidates in order: dst's address on a network both share, dst's public addresses,
        then public addresses that publish dst on ``port``. Returns the first route that gets
        through, else the first attempt (its steps explain the failure).
        """
        key = _listening_key(listening)
        if key is _UNCACHED:
            return self._route_to_node(src_node, dst_node, port, listening)
        memo_key = ("node", src_node, dst_node, port, key)
        route = self._routes.get(memo_key)
        if route is None:
            route = self._route_to_node(src_node, dst_node, port, listening)
            self._remember(memo_key, route)
        return route

    def _route_to_node(self, src_node: str, dst_node: str, port: int, listening: Listening) -> Route:
        src, dst = self.node(src_node), self.node(dst_node)
        candidates: list[tuple[str, int]] = []
        for net in src.networks:
            ip = dst.address_on(net)
            if ip:
                candidates.append((ip, port))
        candidates += [(a, port) for i in dst.interfaces if self._nets[i.network].kind == "public"
                       for a in i.addresses]
        for node in self.nodes:
            for rule in node.nat:
                if rule.type == "publish" and rule.internal_ip in dst.addresses and (
                        (rule.internal_port or rule.external_port) in (None, port)):
                    candidates.append((str(rule.external_ip), rule.external_port or port))
        routes: list[Route] = []
        for ip, p in dict.fromkeys(candidates):
            route = self.connect(src.name, ip, p, listening)
            if route.ok and route.dest_node == dst.name:
                return route
            routes.append(route)
        if routes:
            return routes[0]
        step = f"{src.name}: {dst.name} has no address reachable from {src.name}"
        return Route(False, "NoRoute", src.name, None, None, "", port, None, (src.name,), (step,), src.name)

    def seen_source(self, src_node: str, dst_node: str, port: int = 25) -> str | None:
        """The source address ``dst_node`` sees for a connection from ``src_node`` on ``port``.

        The live driver knows the sender's node from its loopback address and asks this.
        Returns None if src cannot reach dst.
        """
        route = self.route_to_node(src_node, dst_node, port)
        return route.seen_source_ip if route.ok else None

    # -- mutations (return new models) ---------------------------------------------------
    def _with_node(self, node: Node) -> NetworkModel:
        nodes = tuple([node if n.name == node.name else n for n in self.nodes])
        return NetworkModel(self.networks, nodes, self.root)

    def _with_nat(self, node: Node) -> NetworkModel:
        """:meth:`_with_node` for a node whose NAT rules alone changed.

        Validation reads a node's NAT rules only in its own NAT check, which reads the others'
        names, networks and addresses (all unchanged): every other check finds what it found when
        this model was built (nothing), so only the edited node's NAT rules are checked; with a
        problem the full build runs and reports everything as before. Addresses, networks and
        gateways stay this model's. (tests/unit/test_smtp_memos.py holds it to the full build.)
        """
        nodes = tuple([node if n.name == node.name else n for n in self.nodes])
        old = self._nodes.get(node.name)
        if (type(self) is not NetworkModel or old is None or old.interfaces != node.interfaces
                or old.firewall != node.firewall or old.gateway != node.gateway or old.kind != node.kind
                or old.firewall_default != node.firewall_default):
            return NetworkModel(self.networks, nodes, self.root)
        if _check.nat_problems(self, nodes, node):
            return NetworkModel(self.networks, nodes, self.root)  # (raises what the full check finds)
        model = object.__new__(NetworkModel)
        model.__dict__.update(networks=self.networks, nodes=nodes, root=self.root, _nets=self._nets,
                              _nodes=MappingProxyType({n.name: n for n in nodes}), _owner=self._owner,
                              _gateways=self._gateways, _routes={})
        return model

    def with_nat_rule(self, node: str, rule: NatRule) -> NetworkModel:
        """A new model with ``rule`` appended to ``node``'s NAT rules (validated)."""
        n = self.node(node)
        return self._with_nat(replace(n, nat=n.nat + (rule,)))

    def without_nat_rule(self, node: str, name: str) -> NetworkModel:
        """A new model without ``node``'s NAT rule called ``name``; ConfigError if none."""
        n = self.node(node)
        if name not in [r.name for r in n.nat]:
            raise ConfigError(f"{node} has no NAT rule named {name!r}",
                              Place(path=f"{self.root}.nodes.{node}.nat"),
                              allowed=[r.name for r in n.nat if r.name])
        return self._with_nat(replace(n, nat=tuple(r for r in n.nat if r.name != name)))

    def with_firewall_rule(self, node: str, rule: FirewallRule, position: int | None = None) -> NetworkModel:
        """A new model with ``rule`` inserted at ``position`` (default: last) in ``node``'s firewall."""
        n = self.node(node)
        rules = list(n.firewall)
        rules.insert(len(rules) if position is None else position, rule)
        return self._with_node(replace(n, firewall=tuple(rules)))

    def without_firewall_rule(self, node: str, name: str) -> NetworkModel:
        """A new model without ``node``'s firewall rule called ``name``; ConfigError if none."""
        n = self.node(node)
        if name not in [r.name for r in n.firewall]:
            raise ConfigError(f"{node} has no firewall rule named {name!r}",
                              Place(path=f"{self.root}.nodes.{node}.firewall"),
                              allowed=[r.name for r in n.firewall if r.name])
        return self._with_node(replace(n, firewall=tuple(r for r in n.firewall if r.name != name)))


def assign_loopback(node_names: list[str] | tuple[str, ...], base: str = DEFAULT_LOOPBACK_BASE) -> dict[str, str]:
    """Gives each node its own loopback address for the live driver, deterministically by order.

    The first node gets the first host address of ``base`` (127.42.0.1 for the default), the
    next the one after, and so on; 127.0.0.1 is never given out (it stands for "outside the lab").

    Raises:
        ConfigError: ``base`` is not a CIDR inside 127.0.0.0/8, is too small, or a name repeats.
    """
    place = Place(path="loopback_base")
    net = _net(base)
    if net is None or net.version != 4 or not net.subnet_of(LOOPBACK_RANGE):  # type: ignore[arg-type]
        raise ConfigError(f"loopback base {base!r} must be a CIDR inside 127.0.0.0/8", place)
    names = list(node_names)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"node {dup!r} is listed twice for loopback assignment", place)
    reserved = ipaddress.ip_address("127.0.0.1")
    hosts = (h for h in (net.hosts() if net.prefixlen < 31 else iter(net)) if h != reserved)
    result: dict[str, str] = {}
    for name in names:
        addr = next(hosts, None)
        if addr is None:
            raise ConfigError(f"loopback base {base} is too small for {len(names)} hosts", place)
        result[name] = str(addr)
    return result


def live_port(port: int, mapping: Mapping[int, int] | None = None) -> int:
    """Maps a virtual (well-known) port to the unprivileged port the live driver listens on.

    The default mapping (:data:`DEFAULT_LIVE_PORTS`) is 25→2525, 53→5353, 465→2465,
    587→2587, 717→2717, 475→2475 and 2525→12525 (so a virtual 2525 does not collide with
    SMTP). Any other port below 1024 becomes ``port + 10000`` (e.g. 443→10443); ports from 1024
    up are unchanged. Pass ``mapping`` to replace the table; the other rules still apply.

    Raises:
        ConfigError: ``port`` is not an integer in 1..65535.
    """
    if not _port_ok(port):
        raise ConfigError(f"port {port!r} must be an integer in 1..65535", Place(path="port"))
    table = DEFAULT_LIVE_PORTS if mapping is None else mapping
    if port in table:
        return table[port]
    return port + 10000 if port < 1024 else port


# The route walker and the NAT check read this module's names: imported last (as modules, read when called),
# not inside the functions that call them (a from-import there costs a lookup of the module's __path__ per call).
from lab.core import network_check as _check, network_route as _route  # noqa: E402
