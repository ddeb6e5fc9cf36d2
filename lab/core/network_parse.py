"""Building a :class:`~lab.core.network.NetworkModel` from the ``topology:`` mapping (pure).

Accepts the YAML shape (already parsed to dicts/lists)::

    networks: {internet: {kind: public, cidrs: [100.100.100.0/24]}, ...}
    nodes:
      tmg:
        kind: firewall
        interfaces: {internet: 100.100.100.254, xutonglin-lan: 192.168.8.1}
        nat:
          - {type: publish, name: "SMTP server publishing", external: "100.100.100.254:25", internal: "192.168.8.10:25"}
          - {type: masquerade, from: xutonglin-lan, external: 100.100.100.254}
        firewall:            # a list of rules, or {default: deny, rules: [...]}
          - {action: deny, from: 203.0.113.66/32, to: any, ports: [25], name: "block spammer"}
        firewall_default: allow

Other node keys (Exchange settings, ...) are ignored here. Errors carry YAML paths.
"""
from __future__ import annotations

from typing import Any, Mapping

from lab.core.errors import ConfigError, ConfigErrors, Place
from lab.core.network import FirewallRule, Interface, NatRule, Network, NetworkModel, Node, _ip

NAT_KEYS = ("type", "name", "external", "internal", "from")
FIREWALL_KEYS = ("action", "from", "to", "ports", "name")


def parse_endpoint(text: object, path: str) -> tuple[str, int | None]:
    """Splits ``"100.100.100.254:25"`` (or ``"[2001:db8::1]:25"``, or a bare address) into ip and port.

    Raises:
        ConfigError: the address or port is malformed (the place is ``path``).
    """
    value = str(text).strip()
    ip, port_text = value, None
    if value.startswith("["):
        ip, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else (rest or None)
    elif value.count(":") == 1:
        ip, port_text = value.split(":")
    if _ip(ip) is None:
        raise ConfigError(f"{value!r} is not an address or address:port", Place(path=path))
    if port_text is None:
        return ip, None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(f"port {port_text!r} in {value!r} must be an integer in 1..65535", Place(path=path))
    return ip, int(port_text)


def _mapping(value: Any, path: str, errors: list[ConfigError]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(ConfigError(f"expected a mapping, got {type(value).__name__}", Place(path=path)))
        return {}
    return value


def _list(value: Any, path: str, errors: list[ConfigError]) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(ConfigError(f"expected a list, got {type(value).__name__}", Place(path=path)))
        return []
    return value


def _unknown_keys(entry: Mapping[str, Any], allowed: tuple[str, ...], path: str, errors: list[ConfigError]) -> None:
    for key in entry:
        if key not in allowed:
            errors.append(ConfigError(f"unknown key {key!r}", Place(path=f"{path}.{key}"), allowed=allowed))


def _nat(entry: Any, path: str, errors: list[ConfigError]) -> NatRule | None:
    entry = _mapping(entry, path, errors)
    _unknown_keys(entry, NAT_KEYS, path, errors)
    try:
        ext_ip, ext_port = parse_endpoint(entry.get("external"), f"{path}.external")
        int_ip, int_port = (parse_endpoint(entry["internal"], f"{path}.internal")
                            if entry.get("internal") is not None else (None, None))
    except ConfigError as exc:
        errors.append(exc)
        return None
    return NatRule(type=str(entry.get("type")), name=str(entry.get("name") or ""), external_ip=ext_ip,
                   external_port=ext_port, internal_ip=int_ip, internal_port=int_port,
                   from_network=entry.get("from"))


def _firewall(entry: Any, path: str, errors: list[ConfigError]) -> FirewallRule:
    entry = _mapping(entry, path, errors)
    _unknown_keys(entry, FIREWALL_KEYS, path, errors)
    ports = entry.get("ports")
    return FirewallRule(action=str(entry.get("action")), source=str(entry.get("from", "any")),
                        destination=str(entry.get("to", "any")),
                        ports=tuple(ports) if isinstance(ports, list) else (() if ports is None else (ports,)),
                        name=str(entry.get("name") or ""))


def _node(name: str, spec: Any, path: str, errors: list[ConfigError]) -> Node:
    spec = _mapping(spec, path, errors)
    interfaces = tuple(Interface(str(net), tuple(str(a) for a in (addr if isinstance(addr, list) else [addr])))
                       for net, addr in _mapping(spec.get("interfaces"), f"{path}.interfaces", errors).items())
    nat = [_nat(e, f"{path}.nat[{i}]", errors) for i, e in enumerate(_list(spec.get("nat"), f"{path}.nat", errors))]
    fw_spec, default = spec.get("firewall"), spec.get("firewall_default", "allow")
    if isinstance(fw_spec, Mapping):
        _unknown_keys(fw_spec, ("default", "rules"), f"{path}.firewall", errors)
        default, fw_spec = fw_spec.get("default", default), fw_spec.get("rules")
    rules_path = f"{path}.firewall" if not isinstance(spec.get("firewall"), Mapping) else f"{path}.firewall.rules"
    rules = tuple(_firewall(e, f"{rules_path}[{i}]", errors)
                  for i, e in enumerate(_list(fw_spec, rules_path, errors)))
    gateway = spec.get("gateway")
    return Node(name=str(name), kind=str(spec.get("kind", "")), interfaces=interfaces,
                gateway=str(gateway) if gateway is not None else None,
                nat=tuple(r for r in nat if r is not None), firewall=rules, firewall_default=str(default))


def model_from_dict(data: Any, root: str = "topology") -> NetworkModel:
    """Builds and validates a NetworkModel from the parsed ``topology:`` mapping.

    Raises:
        ConfigError: (or ConfigErrors for several) with the YAML path of every bad value.
    """
    errors: list[ConfigError] = []
    data = _mapping(data, root, errors)
    networks = []
    for name, spec in _mapping(data.get("networks"), f"{root}.networks", errors).items():
        spec = _mapping(spec, f"{root}.networks.{name}", errors)
        cidrs = spec.get("cidrs", [])
        networks.append(Network(str(name), str(spec.get("kind", "")),
                                tuple(str(c) for c in (cidrs if isinstance(cidrs, list) else [cidrs]))))
    nodes = [_node(str(name), spec, f"{root}.nodes.{name}", errors)
             for name, spec in _mapping(data.get("nodes"), f"{root}.nodes", errors).items()]
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return NetworkModel(tuple(networks), tuple(nodes), root)
