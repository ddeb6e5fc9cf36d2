"""Exchange Online: Connect-ExchangeOnline, inbound/outbound connectors, validation, message trace.

After ``Connect-ExchangeOnline`` the shell's context is the tenant linked to the shell's
organisation (``hybrid_organization``); Get-AcceptedDomain and Get-Mailbox then answer for the
tenant.
"""
from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from lab.console import records as R
from lab.console.cmdlets._common import Errors, add, changed, identity_text, matching
from lab.console.host import ConsoleHost
from lab.console.registry import ANY, CmdletError, Invocation, Param, Registry
from lab.core.catalogue import cmdlets as M
from lab.core.eop.model import InboundConnector, OutboundConnector, Tenant
from lab.core.errors import ConfigError
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
    props = [(k, v) for k, v in conn.to_mapping().items()] + [("Identity", conn.name)]
    return R.generic(props, ["Identity", "Enabled"], f"Microsoft.Exchange.Data.Directory.SystemConfiguration.{kind}",
                     conn)


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the Exchange Online cmdlets."""
    errors = Errors(host)

    def tenant() -> Tenant:
        if not host.session.tenant:
            raise CmdletError(M.NOT_CONNECTED_ONLINE.format(name="Get-InboundConnector"), "ObjectNotFound",
                              "", "CommandNotFoundException", "CommandNotFoundException")
        return tenant_of(host.world, host.session.tenant)

    def with_tenant(t: Tenant) -> World:
        return host.world.evolve(tenants={**host.world.tenants, t.name: t})

    def connect(inv: Invocation) -> None:
        org = host.world.server(host.session.server).org
        name = next((n for n, t in host.world.tenants.items()
                     if getattr(t, "hybrid_organization", None) == org), None)
        if name is None:
            raise CmdletError(M.NO_TENANT.format(org=org), "ObjectNotFound", org, "NoTenant")
        host.session.tenant = name

    def disconnect(inv: Invocation) -> None:
        host.session.tenant = None

    def make(kind: str, cls: type, attr: str):
        task_get, task_set = f"Get{kind}", f"Set{kind}"

        def find(text: str | None) -> list[Any]:
            items = list(getattr(tenant(), attr))
            return items if text is None else matching(items, text, lambda c: c.name)

        def get(inv: Invocation) -> list[R.ExRecord]:
            ident = inv.params.get("Identity")
            text = identity_text(ident) if ident is not None else None
            found = find(text)
            if text is not None and not found:
                raise errors.not_found(text, task_get)
            return [_record(c, kind) for c in found]

        def store(items: list[Any]) -> World:
            return with_tenant(replace(tenant(), **{attr: tuple(items)}))

        def set_(inv: Invocation) -> None:
            text = identity_text(inv.params["Identity"])
            conn = errors.one(find(text), text, task_set)
            changes = {k: v for k, v in inv.params.items() if k != "Identity"}
            try:
                new = cls.from_mapping({**conn.to_mapping(), **changes}, conn.name)
            except ConfigError as e:
                raise errors.invalid(e, task_set) from None
            items = [new if c is conn else c for c in getattr(tenant(), attr)]
            if inv.should_process(M.WHATIF_SET_OBJECT.format(kind=kind, name=conn.name)):
                changed(inv, host, store(items))

        def new(inv: Invocation) -> R.ExRecord:
            name = inv.params["Name"]
            if find(name):
                raise errors.make(M.CONNECTOR_EXISTS.format(name=name), M.ALREADY_EXISTS_REASON, f"New{kind}",
                                  "WriteError")
            try:
                conn = cls.from_mapping(dict(inv.params), name)
            except ConfigError as e:
                raise errors.invalid(e, f"New{kind}") from None
            if inv.should_process(M.WHATIF_NEW_OBJECT.format(kind=kind, name=name)):
                changed(inv, host, store(list(getattr(tenant(), attr)) + [conn]))
            return _record(conn, kind)

        def remove(inv: Invocation) -> None:
            text = identity_text(inv.params["Identity"])
            conn = errors.one(find(text), text, f"Remove{kind}")
            if inv.should_process(M.WHATIF_REMOVE_OBJECT.format(kind=kind, name=conn.name)):
                changed(inv, host, store([c for c in getattr(tenant(), attr) if c is not conn]))

        add(registry, f"Get-{kind}", get, _IDENTITY_ONLY)
        add(registry, f"Set-{kind}", set_, _set_params(cls))
        add(registry, f"New-{kind}", new, _new_params(cls))
        add(registry, f"Remove-{kind}", remove, _MUST_ONLY)
        return find

    make("InboundConnector", InboundConnector, "inbound_connectors")
    find_out = make("OutboundConnector", OutboundConnector, "outbound_connectors")

    def validate(inv: Invocation) -> R.ExRecord:
        text = identity_text(inv.params["Identity"])
        conn = errors.one(find_out(text), text, "ValidateOutboundConnector")
        recipients = [str(r) for r in inv.params.get("Recipients") or []]
        if not conn.enabled or not all(conn.covers_recipient(r.rpartition("@")[2]) for r in recipients):
            raise errors.make(M.VALIDATE_DISABLED_CONNECTOR.text, M.TASK_REASON, "ValidateOutboundConnector",
                              "InvalidOperation")
        result = host.validate_outbound_connector(tenant().name, conn.name, recipients)
        props = [("Identity", conn.name), ("IsValidated", result.succeeded),
                 ("Tasks", [f"{task}: {status}" for task, status, _ in result.tasks]),
                 ("Details", [detail for _, _, detail in result.tasks if detail])]
        return R.generic(props, ["Identity", "IsValidated"], "Microsoft.Exchange.Data.ConnectorValidationResult",
                         result)

    def message_trace(inv: Invocation) -> list[R.ExRecord]:
        rows = host.message_trace(tenant().name)
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

    add(registry, "Connect-ExchangeOnline", connect, _CONNECT, remote=False)
    add(registry, "Disconnect-ExchangeOnline", disconnect, _DISCONNECT, remote=False,
        should_process=False)
    add(registry, "Validate-OutboundConnector", validate, _VALIDATE)
    add(registry, "Get-MessageTrace", message_trace, _MESSAGE_TRACE)
