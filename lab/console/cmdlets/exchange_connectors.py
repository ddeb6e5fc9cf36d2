"""Get/Set/New/Remove-ReceiveConnector, Get/Set/New/Remove-SendConnector, Add/Get-ADPermission.

Everything here is configuration: each cmdlet reads ``host.world``, validates every value with
the Exchange model (:mod:`lab.core.exchange.connectors`, :mod:`lab.core.exchange.send_connector`)
and only then assigns the new world.
"""
from __future__ import annotations

import functools
from dataclasses import fields
from typing import Any

from lab.console import records as R
from lab.console.cmdlets._common import (Errors, changed, domain_controller, exchange, get_by_identity, identity_text,
                                         matching, register_all)
from lab.console.host import ConsoleHost
from lab.console.registry import ANY, SWITCH, CmdletError, Invocation, Param, Registry
from lab.core.catalogue import cmdlets as M
from lab.core.errors import ConfigError
from lab.core.exchange.connectors import (
    EXTENDED_RIGHTS, PERMISSION_GROUP_RIGHTS, RULE_CUSTOM_NEEDS_BINDINGS, RULE_NOT_UNIQUE, USAGES, ExtendedRight,
    ReceiveConnector, apply_receive_connector_overrides, current_fields)
from lab.core.exchange.model import build, parse_bool
from lab.core.exchange.send_connector import PROPERTIES as SEND_PROPERTIES
from lab.core.exchange.send_connector import SendConnector
from lab.core.fastpath import evolve
from lab.core.world import ServerState, World

_RC_FIELDS = {f.metadata["ps"]: f for f in fields(ReceiveConnector) if "ps" in f.metadata}
_RC_SETTABLE = [n for n in _RC_FIELDS if n not in ("Server", "ExtendedRights", "Usage")]
_SC_SETTABLE = [n for n in SEND_PROPERTIES if n != "Name"]
_BOOL_SEND = {"DNSRoutingEnabled", "RequireTLS", "IgnoreSTARTTLS", "CloudServicesMailEnabled", "Enabled"}


def _rc_params(names: list[str]) -> list[Param]:
    return list(_rc_param_tuple(tuple(names)))


def _sc_params(names: list[str]) -> list[Param]:
    return list(_sc_param_tuple(tuple(names)))


@functools.lru_cache(maxsize=16)
def _rc_param_tuple(names: tuple[str, ...]) -> tuple[Param, ...]:
    """The parameters of receive connector properties (frozen Params: every console's registry shares them)."""
    return tuple(Param(n, bool if _RC_FIELDS[n].metadata["parse"] is parse_bool else ANY) for n in names)


@functools.lru_cache(maxsize=16)
def _sc_param_tuple(names: tuple[str, ...]) -> tuple[Param, ...]:
    return tuple(Param(n, bool if n in _BOOL_SEND else ANY) for n in names)


# --- receive connectors --------------------------------------------------------------------
def _org_servers(host: ConsoleHost) -> list[ServerState]:
    world = host.world
    org = world.server(host.session.server).org
    return [s for s in world.servers.values() if s.org == org]


def find_receive_connectors(host: ConsoleHost, identity: str | None, server: str | None = None
                            ) -> list[tuple[ServerState, ReceiveConnector]]:
    """Receive connectors an identity names: ``Name`` or ``SERVER\\Name`` (wildcards allowed).

    Without an identity: the connectors of ``server`` (default: the shell's own server).
    """
    servers = _org_servers(host)
    if identity is None:
        wanted = (server or host.world.server(host.session.server).server.name).lower()
        return [(s, c) for s in servers if s.server.name.lower() == wanted for c in s.receive_connectors]
    if "\\" in identity:
        srv_pat, _, name_pat = identity.partition("\\")
        servers = matching(servers, srv_pat, lambda s: s.server.name, lambda s: s.node)
    else:
        name_pat = identity
        if server:
            servers = [s for s in servers if s.server.name.lower() == server.lower()]
    return [(s, c) for s in servers for c in matching(s.receive_connectors, name_pat, lambda c: c.name)]


def _rc_record(s: ServerState, c: ReceiveConnector) -> R.ExRecord:
    return R.receive_connector(c, s.server, s.node)


def _replace_rc(world: World, state: ServerState, old: ReceiveConnector | None, new: ReceiveConnector | None,
                errors: Errors, task: str) -> World:
    conns = [c for c in state.receive_connectors if c is not old]
    if new is not None:
        index = _index(state.receive_connectors, old) if old is not None else len(conns)
        conns.insert(index, new)
    try:
        apply_receive_connector_overrides(conns, [], "ReceiveConnector")
    except ConfigError as e:
        raise _connector_error(e, errors, task) from None
    return world.with_server(evolve(state, receive_connectors=tuple(conns)))


def _index(conns: tuple[ReceiveConnector, ...], old: ReceiveConnector) -> int:
    """``conns.index(old)`` without comparing every field of the connectors before it: one equal to
    ``old`` has its name (a connector of another name is not equal), so only those are compared."""
    name = old.name
    for i, c in enumerate(conns):
        if c is old or (c.name == name and c == old):
            return i
    return conns.index(old)  # (raises what it raises)


# ConfigError.code of a receive-connector rule -> (the cmdlet's error text, exception type, category)
_RC_RULE_ERRORS = {
    RULE_NOT_UNIQUE: (M.RECEIVE_CONNECTOR_NOT_UNIQUE, M.DATA_VALIDATION_REASON, "InvalidOperation"),
    RULE_CUSTOM_NEEDS_BINDINGS: (M.CUSTOM_NEEDS_BINDINGS, M.ARGUMENT_REASON, "InvalidArgument"),
}


def _connector_error(error: ConfigError, errors: Errors, task: str) -> CmdletError:
    """The cmdlet's error for a refused receive connector (mapped on the rule's code, else DataValidation)."""
    if error.code in _RC_RULE_ERRORS:
        message, reason, category = _RC_RULE_ERRORS[error.code]
        return errors.make(message.text, reason, task, category)
    return errors.invalid(error, task)


def _changes(inv: Invocation, names: list[str]) -> dict[str, Any]:
    params = inv.params
    return {n: params[n] for n in filter(params.__contains__, names)}  # (names given, in their order)


def get_rc(inv: Invocation) -> list[R.ExRecord]:
    found = get_by_identity(inv, lambda host, text: find_receive_connectors(host, text, inv.params.get("Server")),
                            "GetReceiveConnector", lambda host: host.world.server(host.session.server).org)
    return [_rc_record(s, c) for s, c in found]


def one_rc(inv: Invocation, task: str) -> tuple[ServerState, ReceiveConnector]:
    host = inv.console_host
    text = identity_text(inv.params["Identity"])
    org = host.world.server(host.session.server).org
    return Errors(host).one(find_receive_connectors(host, text), text, task, org)


def set_rc(inv: Invocation) -> None:
    host = inv.console_host
    state, conn = one_rc(inv, "SetReceiveConnector")
    current = current_fields(conn)
    try:
        new = build(ReceiveConnector, _changes(inv, _RC_SETTABLE), conn.name, defaults=current).validated(conn.name)
    except ConfigError as e:
        raise Errors(host).invalid(e, "SetReceiveConnector") from None
    world = _replace_rc(host.world, state, conn, new, Errors(host), "SetReceiveConnector")
    if inv.should_process(M.WHATIF_SET_OBJECT, kind=M.KIND_RECEIVE_CONNECTOR,
                          name=f"{state.server.name}\\{conn.name}"):
        changed(inv, host, world)


def new_rc(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    task = "NewReceiveConnector"
    usages = [u for u in USAGES if inv.params.get(u)]
    if "Usage" in inv.params:
        usages.append(inv.params["Usage"])
    if len(usages) > 1:
        raise CmdletError(M.USAGE_ONE_OF.text, "InvalidArgument", "", "AmbiguousParameterSet",
                          "ParameterBindingException")
    usage = usages[0] if usages else "Custom"
    server_name = inv.params.get("Server") or host.world.server(host.session.server).server.name
    state = next((s for s in _org_servers(host) if s.server.name.lower() == str(server_name).lower()
                  or s.node == str(server_name).lower()), None)
    if state is None:
        raise Errors(host).not_found(str(server_name), task, host.world.server(host.session.server).org)
    name = inv.params["Name"]
    if any(c.name.lower() == name.lower() for c in state.receive_connectors):
        dn = M.RECEIVE_CONNECTOR_DN.format(name=name, server=state.server.name, org=state.org)
        dc = domain_controller(host.world, state.org)
        raise Errors(host).make(M.ALREADY_EXISTS.format(dc=dc, dn=dn), M.ALREADY_EXISTS_REASON, task,
                                "WriteError")
    override = {"Name": name, "Usage": usage, **_changes(inv, [n for n in _RC_SETTABLE if n != "Name"])}
    try:
        conns = apply_receive_connector_overrides(state.receive_connectors, [override], task)
    except ConfigError as e:
        raise _connector_error(e, Errors(host), task) from None
    new = conns[-1]
    if inv.should_process(M.WHATIF_NEW_OBJECT, kind=M.KIND_RECEIVE_CONNECTOR,
                          name=f"{state.server.name}\\{name}"):
        changed(inv, host, host.world.with_server(evolve(state, receive_connectors=conns)))
    return _rc_record(state, new)


def remove_rc(inv: Invocation) -> None:
    host = inv.console_host
    state, conn = one_rc(inv, "RemoveReceiveConnector")
    world = _replace_rc(host.world, state, conn, None, Errors(host), "RemoveReceiveConnector")
    if inv.should_process(M.WHATIF_REMOVE_OBJECT, kind=M.KIND_RECEIVE_CONNECTOR,
                          name=f"{state.server.name}\\{conn.name}"):
        changed(inv, host, world)


# --- AD permissions on receive connectors ----------------------------------------------
def rc_for_permission(inv: Invocation, task: str) -> tuple[ServerState, ReceiveConnector]:
    host = inv.console_host
    text = identity_text(inv.params["Identity"])
    found = find_receive_connectors(host, text)
    if not found:
        raise Errors(host).make(M.COULDNT_FIND_OBJECT.format(identity=text), M.NOT_FOUND_REASON, task)
    if len(found) > 1:
        raise Errors(host).ambiguous(text, task)
    return found[0]


def add_ad_permission(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    task = "AddADPermission"
    state, conn = rc_for_permission(inv, task)
    user = str(inv.params.get("User") or "").strip()
    rights_in = inv.params.get("ExtendedRights") or []
    rights = []
    for right in rights_in:
        match = next((r for r in EXTENDED_RIGHTS if r.lower() == str(right).strip().lower()), None)
        if match is None:
            raise Errors(host).make(M.UNKNOWN_EXTENDED_RIGHT.format(right=right), M.ARGUMENT_REASON, task,
                                    "InvalidArgument")
        rights.append(match)
    if not user:
        raise Errors(host).make(M.UNKNOWN_USER.format(user=user), M.NOT_FOUND_REASON, task)
    known = {p.lower(): p for p, _ in PERMISSION_GROUP_RIGHTS.values()}
    user = known.get(user.lower(), user)
    grant = ExtendedRight(user=user, rights=tuple(rights))
    new = evolve(conn, extended_rights=conn.extended_rights + (grant,))
    world = host.world.with_server(evolve(state, receive_connectors=tuple(
        new if c is conn else c for c in state.receive_connectors)))
    identity = f"{state.server.name}\\{conn.name}"
    if inv.should_process(M.WHATIF_ADD_AD_PERMISSION, identity=identity):
        changed(inv, host, world)
    return [R.ad_permission(identity, user, [r]) for r in rights]


def get_ad_permission(inv: Invocation) -> list[R.ExRecord]:
    state, conn = rc_for_permission(inv, "GetADPermission")
    identity = f"{state.server.name}\\{conn.name}"
    out = []
    for group in conn.permission_groups:
        if group in PERMISSION_GROUP_RIGHTS:
            principal, rights = PERMISSION_GROUP_RIGHTS[group]
            out += [R.ad_permission(identity, principal, [r]) for r in sorted(rights)]
    out += [R.ad_permission(identity, g.user, [r]) for g in conn.extended_rights for r in g.rights]
    user = inv.params.get("User")
    return [r for r in out if user is None or str(r.get("User")).lower() == str(user).lower()]


# --- send connectors -----------------------------------------------------------------
def org_state(host: ConsoleHost) -> Any:
    return host.world.org_of(host.session.server)


def find_sc(host: ConsoleHost, text: str | None) -> list[SendConnector]:
    conns = list(org_state(host).send_connectors)
    return conns if text is None else matching(conns, text, lambda c: c.name)


def get_sc(inv: Invocation) -> list[R.ExRecord]:
    found = get_by_identity(inv, find_sc, "GetSendConnector", lambda host: org_state(host).name)
    return [R.send_connector(c) for c in found]


def _with_sc(host: ConsoleHost, old: SendConnector | None, new: SendConnector | None) -> World:
    state = org_state(host)
    conns = [c for c in state.send_connectors if c is not old]
    if new is not None:
        conns.insert(state.send_connectors.index(old) if old is not None else len(conns), new)
    return host.world.with_org(evolve(state, send_connectors=tuple(conns)))


def set_sc(inv: Invocation) -> None:
    host = inv.console_host
    task = "SetSendConnector"
    text = identity_text(inv.params["Identity"])
    conn = Errors(host).one(find_sc(host, text), text, task, org_state(host).name)
    try:  # (SendConnector.from_mapping({**conn.to_mapping(), **changes}, conn.name))
        new = conn.with_changes(_changes(inv, _SC_SETTABLE), conn.name)
    except ConfigError as e:
        raise Errors(host).invalid(e, task) from None
    if inv.should_process(M.WHATIF_SET_OBJECT, kind=M.KIND_SEND_CONNECTOR, name=conn.name):
        changed(inv, host, _with_sc(host, conn, new))


def new_sc(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    task = "NewSendConnector"
    name = inv.params["Name"]
    if find_sc(host, name) and not any(ch in name for ch in "*?["):
        raise Errors(host).make(M.ALREADY_EXISTS.format(dc=domain_controller(host.world, org_state(host).name),
                                                        dn=f"CN={name},CN=Connections,CN=Exchange Routing Group"
                                                           " (DWBGZMFD01QNBJR),CN=Routing Groups"),
                                M.ALREADY_EXISTS_REASON, task, "WriteError")
    mapping = {"Name": name, **_changes(inv, _SC_SETTABLE)}
    for usage in ("Custom", "Internal", "Internet", "Partner"):
        if inv.params.get(usage):
            mapping["Usage"] = usage
    mapping.setdefault("SourceTransportServers", [host.world.server(host.session.server).server.name])
    if "SmartHosts" in mapping and "DNSRoutingEnabled" not in inv.params:
        mapping["DNSRoutingEnabled"] = False
    try:
        new = SendConnector.from_mapping(mapping, name)
    except ConfigError as e:
        raise Errors(host).invalid(e, task) from None
    if inv.should_process(M.WHATIF_NEW_OBJECT, kind=M.KIND_SEND_CONNECTOR, name=name):
        changed(inv, host, _with_sc(host, None, new))
    return R.send_connector(new)


def remove_sc(inv: Invocation) -> None:
    host = inv.console_host
    task = "RemoveSendConnector"
    text = identity_text(inv.params["Identity"])
    conn = Errors(host).one(find_sc(host, text), text, task, org_state(host).name)
    if inv.should_process(M.WHATIF_REMOVE_OBJECT, kind=M.KIND_SEND_CONNECTOR, name=conn.name):
        changed(inv, host, _with_sc(host, conn, None))


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the connector and permission cmdlets (acting on ``host``)."""
    register_all(registry, host, COMMANDS)


# The cmdlets' parameters, declared once (frozen: every console's registry shares them).
_IDENTITY = Param("Identity", ANY, position=0, pipeline=True)
_MUST = Param("Identity", ANY, position=0, pipeline=True, mandatory=True)
_IDENTITY_ONLY, _MUST_ONLY = (_IDENTITY,), (_MUST,)
_GET_RC = (_IDENTITY, Param("Server"))
_SET_RC = (_MUST, *_rc_params(_RC_SETTABLE))
_NEW_RC = (Param("Name", mandatory=True, position=0), Param("Server"), Param("Usage", enum=USAGES),
           *[Param(u, SWITCH) for u in USAGES], *_rc_params([n for n in _RC_SETTABLE if n != "Name"]))
_ADD_AD_PERMISSION = (_MUST, Param("User", mandatory=True), Param("ExtendedRights", list[str]),
                      Param("AccessRights", list[str]))
_GET_AD_PERMISSION = (_MUST, Param("User"))
_SET_SC = (_MUST, *_sc_params(_SC_SETTABLE))
_NEW_SC = (Param("Name", mandatory=True, position=0), *[Param(u, SWITCH) for u in ("Custom", "Internal", "Internet",
                                                                                   "Partner")],
           *_sc_params([n for n in _SC_SETTABLE if n != "Usage"]))


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    exchange("Get-ReceiveConnector", get_rc, _GET_RC),
    exchange("Set-ReceiveConnector", set_rc, _SET_RC),
    exchange("New-ReceiveConnector", new_rc, _NEW_RC),
    exchange("Remove-ReceiveConnector", remove_rc, _MUST_ONLY),
    exchange("Add-ADPermission", add_ad_permission, _ADD_AD_PERMISSION),
    exchange("Get-ADPermission", get_ad_permission, _GET_AD_PERMISSION),
    exchange("Get-SendConnector", get_sc, _IDENTITY_ONLY),
    exchange("Set-SendConnector", set_sc, _SET_SC),
    exchange("New-SendConnector", new_sc, _NEW_SC),
    exchange("Remove-SendConnector", remove_sc, _MUST_ONLY),
)
