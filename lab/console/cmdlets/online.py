"""Exchange Online: Connect-ExchangeOnline, inbound/outbound connectors, validation, message trace.

After ``Connect-ExchangeOnline`` the shell's context is the tenant linked to the shell's
organisation (``hybrid_organization``); Get-AcceptedDomain and Get-Mailbox then answer for the
tenant.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from lab.console import records as R
from lab.console.cmdlets._common import (Errors, changed, exchange, get_by_identity, identity_text, matching,
                                         register_all)
from lab.console.host import ConsoleHost
from lab.console.registry import ANY, Cmdlet, CmdletError, Invocation, Param, Registry
from lab.core.catalogue import cmdlets as M
from lab.core.eop.model import InboundConnector, OutboundConnector, Tenant
from lab.core.errors import ConfigError
from lab.core.fastpath import evolve
from lab.core.world import World

_EXO = "Microsoft.Exchange.Management.SystemConfigurationTasks"


def tenant_of(world: World, name: str) -> Tenant:
    """The tenant called ``name`` as a :class:`Tenant` (built from its topology spec when needed)."""
    value = world.tenants[name]
    return value if isinstance(value, Tenant) else Tenant.from_spec(value)


@functools.lru_cache(maxsize=16)
def _property_params(cls: type) -> tuple[Param, ...]:
    """A connector class's settable properties as parameters (frozen Params: every console's registry shares them)."""
    return tuple(Param(n, ANY) for n in _names(cls))


# The cmdlets' parameters, declared once (frozen: every console's registry shares them).
_IDENTITY_ONLY = (Param("Identity", ANY, position=0, pipeline=True),)
_MUST_ONLY = (Param("Identity", ANY, position=0, pipeline=True, mandatory=True),)
_CONNECT = (Param("UserPrincipalName"), Param("ShowBanner", bool), Param("Organization"))
_DISCONNECT = (Param("Confirm", bool),)
_VALIDATE = (Param("Identity", ANY, position=0, mandatory=True), Param("Recipients", list[str], mandatory=True))
_MESSAGE_TRACE = (Param("SenderAddress"), Param("RecipientAddress"), Param("StartDate", ANY), Param("EndDate", ANY))


@functools.lru_cache(maxsize=16)
def _set_params(cls: type) -> tuple[Param, ...]:
    return (*_MUST_ONLY, *_property_params(cls))


@functools.lru_cache(maxsize=16)
def _new_params(cls: type) -> tuple[Param, ...]:
    return (Param("Name", mandatory=True, position=0), *_property_params(cls))


def _names(cls: type) -> list[str]:
    from dataclasses import fields
    return [f.metadata["ps"] for f in fields(cls) if "ps" in f.metadata and f.metadata["ps"] != "Name"]


def _record(conn: Any, kind: str) -> R.ExRecord:
    props = [*conn.to_mapping().items(), ("Identity", conn.name)]  # (each (name, value) pair, then Identity)
    return R.generic(props, ["Identity", "Enabled"], f"Microsoft.Exchange.Data.Directory.SystemConfiguration.{kind}",
                     conn)


def _tenant(host: ConsoleHost) -> Tenant:
    if not host.session.tenant:
        raise CmdletError(M.NOT_CONNECTED_ONLINE.format(name="Get-InboundConnector"), "ObjectNotFound",
                          "", "CommandNotFoundException", "CommandNotFoundException")
    return tenant_of(host.world, host.session.tenant)


def _with_tenant(host: ConsoleHost, t: Tenant) -> World:
    world = host.world
    return world.evolve(tenants={**world.tenants, t.name: t})


def connect(inv: Invocation) -> None:
    host = inv.console_host
    world = host.world
    org = world.server(host.session.server).org
    name = next((n for n, t in world.tenants.items()
                 if getattr(t, "hybrid_organization", None) == org), None)
    if name is None:
        raise CmdletError(M.NO_TENANT.format(org=org), "ObjectNotFound", org, "NoTenant")
    host.session.tenant = name


def disconnect(inv: Invocation) -> None:
    inv.console_host.session.tenant = None


def _make(kind: str, cls: type, attr: str) -> tuple[tuple[Cmdlet, ...], Callable[[ConsoleHost, str | None], list[Any]]]:
    """The Get/Set/New/Remove commands of one kind of tenant connector, and its finder."""
    task_get, task_set = f"Get{kind}", f"Set{kind}"

    def find(host: ConsoleHost, text: str | None) -> list[Any]:
        items = list(getattr(_tenant(host), attr))
        return items if text is None else matching(items, text, lambda c: c.name)

    def get(inv: Invocation) -> list[R.ExRecord]:
        return [_record(c, kind) for c in get_by_identity(inv, find, task_get)]

    def store(host: ConsoleHost, items: list[Any]) -> World:
        return _with_tenant(host, evolve(_tenant(host), **{attr: tuple(items)}))

    def set_(inv: Invocation) -> None:
        host = inv.console_host
        errors = Errors(host)
        text = identity_text(inv.params["Identity"])
        conn = errors.one(find(host, text), text, task_set)
        changes = {k: v for k, v in inv.params.items() if k != "Identity"}
        try:
            new = cls.from_mapping({**conn.to_mapping(), **changes}, conn.name)
        except ConfigError as e:
            raise errors.invalid(e, task_set) from None
        items = [new if c is conn else c for c in getattr(_tenant(host), attr)]
        if inv.should_process(M.WHATIF_SET_OBJECT, kind=kind, name=conn.name):
            changed(inv, host, store(host, items))

    def new(inv: Invocation) -> R.ExRecord:
        host = inv.console_host
        name = inv.params["Name"]
        if find(host, name):
            raise Errors(host).make(M.CONNECTOR_EXISTS.format(name=name), M.ALREADY_EXISTS_REASON, f"New{kind}",
                                    "WriteError")
        try:
            conn = cls.from_mapping(dict(inv.params), name)
        except ConfigError as e:
            raise Errors(host).invalid(e, f"New{kind}") from None
        if inv.should_process(M.WHATIF_NEW_OBJECT, kind=kind, name=name):
            changed(inv, host, store(host, list(getattr(_tenant(host), attr)) + [conn]))
        return _record(conn, kind)

    def remove(inv: Invocation) -> None:
        host = inv.console_host
        text = identity_text(inv.params["Identity"])
        conn = Errors(host).one(find(host, text), text, f"Remove{kind}")
        if inv.should_process(M.WHATIF_REMOVE_OBJECT, kind=kind, name=conn.name):
            changed(inv, host, store(host, [c for c in getattr(_tenant(host), attr) if c is not conn]))

    commands = (exchange(f"Get-{kind}", get, _IDENTITY_ONLY), exchange(f"Set-{kind}", set_, _set_params(cls)),
                exchange(f"New-{kind}", new, _new_params(cls)), exchange(f"Remove-{kind}", remove, _MUST_ONLY))
    return commands, find


_INBOUND, _ = _make("InboundConnector", InboundConnector, "inbound_connectors")
_OUTBOUND, _find_out = _make("OutboundConnector", OutboundConnector, "outbound_connectors")


def validate(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    errors = Errors(host)
    text = identity_text(inv.params["Identity"])
    conn = errors.one(_find_out(host, text), text, "ValidateOutboundConnector")
    recipients = [str(r) for r in inv.params.get("Recipients") or []]
    if not conn.enabled or not all(conn.covers_recipient(r.rpartition("@")[2]) for r in recipients):
        raise errors.make(M.VALIDATE_DISABLED_CONNECTOR.text, M.TASK_REASON, "ValidateOutboundConnector",
                          "InvalidOperation")
    result = host.validate_outbound_connector(_tenant(host).name, conn.name, recipients)
    props = [("Identity", conn.name), ("IsValidated", result.succeeded),
             ("Tasks", [f"{task}: {status}" for task, status, _ in result.tasks]),
             ("Details", [detail for _, _, detail in result.tasks if detail])]
    return R.generic(props, ["Identity", "IsValidated"], "Microsoft.Exchange.Data.ConnectorValidationResult",
                     result)


def message_trace(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    rows = host.message_trace(_tenant(host).name)
    sender, recipient = inv.params.get("SenderAddress"), inv.params.get("RecipientAddress")
    out = []
    for row in rows:
        if sender and str(row.get("SenderAddress", "")).lower() != str(sender).lower():
            continue
        if recipient and str(row.get("RecipientAddress", "")).lower() != str(recipient).lower():
            continue
        out.append(R.generic(list(row.items()), ["Received", "SenderAddress", "RecipientAddress", "Subject",
                                                 "Status"], "Microsoft.Exchange.Management.MessageTrace", row))
    return out


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the Exchange Online cmdlets (acting on ``host``)."""
    register_all(registry, host, COMMANDS)


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    *_INBOUND,
    *_OUTBOUND,
    exchange("Connect-ExchangeOnline", connect, _CONNECT, remote=False),
    exchange("Disconnect-ExchangeOnline", disconnect, _DISCONNECT, remote=False, should_process=False),
    exchange("Validate-OutboundConnector", validate, _VALIDATE),
    exchange("Get-MessageTrace", message_trace, _MESSAGE_TRACE),
)
