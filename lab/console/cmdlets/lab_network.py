"""The lab's firewall publishing rules: a stand-in for TMG's (or any edge firewall's) management console.

- ``Get-LabPublishingRule [-Firewall tmg]``: every NAT rule of the lab's firewalls (publish and
  masquerade), with its external and internal endpoints.
- ``Remove-LabPublishingRule -Firewall tmg -Name "SMTP Server Publishing"``: the rule goes; the
  published address no longer forwards (a client sees its connection time out).
- ``Add-LabPublishingRule -Firewall tmg -Name "SMTP Server Publishing" -External 100.100.100.254:25
  -Internal 192.168.8.10:25``: publishes ``internal`` at ``external``.

The rules live in ``World.network`` (:meth:`~lab.core.network.NetworkModel.with_nat_rule` /
:meth:`~lab.core.network.NetworkModel.without_nat_rule`), so mail flow sees a change at once.
"""
from __future__ import annotations

import ipaddress

from lab.console import records as R
from lab.console.cmdlets._common import changed, register_all
from lab.console.host import ConsoleHost
from lab.console.registry import Cmdlet, CmdletError, Invocation, Param, Registry, declared
from lab.core.catalogue import lab as L
from lab.core.errors import ConfigError
from lab.core.network import NatRule, Node


def _lab_error(message: str, error_id: str, category: str = "InvalidArgument", target: str = "") -> CmdletError:
    return CmdletError(message, category, target, error_id, "LabException")


def parse_endpoint(text: str) -> tuple[str, int]:
    """``100.100.100.254:25`` -> ``("100.100.100.254", 25)``; ValueError for anything else."""
    address, sep, port = str(text).strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(text)
    return str(ipaddress.IPv4Address(address)), int(port)


def _endpoint(ip: str | None, port: int | None) -> str:
    return f"{ip or '*'}:{port or '*'}"


def _firewalls(host: ConsoleHost) -> list[Node]:
    return sorted((n for n in host.world.network.nodes if n.kind == "firewall"), key=lambda n: n.name)


def _firewall(host: ConsoleHost, inv: Invocation) -> Node:
    wanted = str(inv.params["Firewall"]).strip()
    nodes = _firewalls(host)
    match = next((n for n in nodes if n.name.lower() == wanted.lower()), None)
    if match is None:
        raise _lab_error(L.NOT_A_FIREWALL.format(name=wanted, names=", ".join(n.name for n in nodes)),
                         "NotAFirewall", "ObjectNotFound", wanted)
    return match


def _endpoint_of(inv: Invocation, key: str) -> tuple[str, int]:
    text = str(inv.params[key])
    try:
        return parse_endpoint(text)
    except ValueError:
        raise _lab_error(L.BAD_ENDPOINT.format(value=text), "BadEndpoint", target=text) from None


def _record(node: Node, rule: NatRule) -> R.ExRecord:
    if rule.type == "masquerade":
        external, internal = str(rule.external_ip), str(rule.from_network)
    else:
        external = _endpoint(rule.external_ip, rule.external_port)
        internal = _endpoint(rule.internal_ip, rule.internal_port or rule.external_port)
    props = [("Firewall", node.name), ("Name", rule.name), ("Type", rule.type), ("External", external),
             ("Internal", internal)]
    return R.generic(props, ["Firewall", "Name", "Type", "External", "Internal"], "Lab.PublishingRule", rule)


def get_rules(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    nodes = [_firewall(host, inv)] if inv.params.get("Firewall") is not None else _firewalls(host)
    return [_record(n, r) for n in nodes for r in n.nat]


def remove_rule(inv: Invocation) -> None:
    host = inv.console_host
    node, name = _firewall(host, inv), str(inv.params["Name"])
    if name not in [r.name for r in node.nat]:
        raise _lab_error(L.PUBLISHING_RULE_MISSING.format(firewall=node.name, name=name), "PublishingRule",
                         "ObjectNotFound", name)
    changed(inv, host, host.world.evolve(network=host.world.network.without_nat_rule(node.name, name)))


def add_rule(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    node, name = _firewall(host, inv), str(inv.params["Name"])
    if name in [r.name for r in node.nat]:
        raise _lab_error(L.PUBLISHING_RULE_EXISTS.format(firewall=node.name, name=name), "PublishingRule",
                         "ResourceExists", name)
    (ext_ip, ext_port), (int_ip, int_port) = _endpoint_of(inv, "External"), _endpoint_of(inv, "Internal")
    rule = NatRule(type="publish", name=name, external_ip=ext_ip, external_port=ext_port, internal_ip=int_ip,
                   internal_port=int_port)
    try:
        network = host.world.network.with_nat_rule(node.name, rule)
    except ConfigError as error:
        raise _lab_error(error.message, "PublishingRule", target=name) from None
    changed(inv, host, host.world.evolve(network=network))
    return _record(network.node(node.name), rule)


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the publishing-rule cmdlets."""
    register_all(registry, host, COMMANDS)


# The cmdlets' parameters, declared once (frozen: every console's registry shares them).
_FIREWALL, _NAME = Param("Firewall", mandatory=True), Param("Name", mandatory=True)
_GET_RULES = (Param("Firewall", position=0),)
_REMOVE_RULE = (_FIREWALL, _NAME)
_ADD_RULE = (_FIREWALL, _NAME, Param("External", mandatory=True), Param("Internal", mandatory=True))


def _lab_cmdlet(name: str, fn, params, **options) -> Cmdlet:
    # (the name, the options and the params tuple are all the declaration: declared copies its first build)
    return declared(fn, ("lab", name, *options.items()), params, _lab_declaration, name, params, options)


def _lab_declaration(name: str, params, options) -> Cmdlet:
    return Cmdlet(name, None, tuple(params), module="Lab", synopsis=f"lab: {name}", **options)  # type: ignore[arg-type]


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    _lab_cmdlet("Get-LabPublishingRule", get_rules, _GET_RULES),
    _lab_cmdlet("Remove-LabPublishingRule", remove_rule, _REMOVE_RULE),
    _lab_cmdlet("Add-LabPublishingRule", add_rule, _ADD_RULE),
)
