"""Shared plumbing of the lab's cmdlets: identities, wildcards, Exchange-style errors.

Exchange cmdlets run in the server's remote session: their errors carry no position, end with
``+ PSComputerName`` and a FullyQualifiedErrorId of the form seen in Microsoft's KBs
(``[Server=EX01,RequestId=...,TimeStamp=...] [FailureCategory=Cmdlet-<Exception>] <hex>,<task type>``).
"""
from __future__ import annotations

import uuid
import zlib
from typing import Any, Callable, Iterable, Sequence, TypeVar

from lab.console.host import ConsoleHost
from lab.console.ps_values import like, to_string
from lab.console.records import ExRecord
from lab.console.registry import Cmdlet, CmdletError, Param, Registry, declared
from lab.core.catalogue import cmdlets as M
from lab.core.errors import ConfigError
from lab.core.world import World

T = TypeVar("T")
_NS = uuid.UUID("2f8c7d1e-5a8b-4c1e-9d62-6c6162636d64")
TASKS = "Microsoft.Exchange.Management.SystemConfigurationTasks"
_WILDCARDS = frozenset("*?[")


def wildcard(text: str) -> bool:
    """True when ``text`` holds a PowerShell wildcard character."""
    return not _WILDCARDS.isdisjoint(text)  # (a character of text, or an item of a list, among them)


def matching(items: Iterable[T], pattern: str, *keys: Callable[[T], str]) -> list[T]:
    """Items whose any key equals ``pattern`` (case-insensitive, wildcards allowed)."""
    out = []
    if wildcard(pattern):
        for item in items:
            if any(like(k(item), pattern) for k in keys):
                out.append(item)
        return out
    wanted = pattern.lower()
    if len(keys) == 1:  # (one key: the same test without a generator per item)
        key = keys[0]
        return [item for item in items if key(item).lower() == wanted]
    for item in items:
        if any(k(item).lower() == wanted for k in keys):
            out.append(item)
    return out


def identity_text(value: Any) -> str:
    """The identity a parameter value names: a record's Identity, else its string form."""
    if isinstance(value, ExRecord):
        return value.identity
    return to_string(value).strip()


def get_by_identity(inv: Any, find: Callable[[ConsoleHost, str | None], list[T]], task: str,
                    org: Callable[[ConsoleHost], str | None] = lambda host: None) -> list[T]:
    """What a ``Get-`` cmdlet lists: ``find(host, text)`` of its ``-Identity`` (None: every object);
    an identity that names nothing is Exchange's not-found error (``org``: whose domain controller)."""
    host = inv.console_host
    ident = inv.params.get("Identity")
    text = identity_text(ident) if ident is not None else None
    found = find(host, text)
    if text is not None and not found:
        raise Errors(host).not_found(text, task, org(host))
    return found


def domain_controller(world: World, org: str | None) -> str:
    """The lab's name for the organisation's domain controller (``DC01.<default domain>``)."""
    state = world.orgs.get(org or "")
    if state is None:
        return "DC01.lab.local"
    default = next((d.domain_name for d in state.organization.accepted_domains if d.default),
                   state.organization.accepted_domains[0].domain_name if state.organization.accepted_domains
                   else "lab.local")
    return f"DC01.{default}"


class Errors:
    """Builds Exchange-style error records for one host (server name and lab time in the error id)."""

    def __init__(self, host: ConsoleHost):
        self.host = host

    def make(self, message: str, reason: str, task: str, category: str = "NotSpecified", target: str = "",
             ) -> CmdletError:
        """A CmdletError with Exchange's FullyQualifiedErrorId."""
        now = self.host.clock_now()
        server = self.host.session.server.upper()
        stamp = f"{now.month}/{now.day}/{now.year} {now.hour % 12 or 12}:{now:%M:%S} {'AM' if now.hour < 12 else 'PM'}"
        request = uuid.uuid5(_NS, f"{task}|{message}|{now.isoformat()}")
        code = format(zlib.crc32(f"{task}|{reason}".encode()), "08X")
        error_id = (f"[Server={server},RequestId={request},TimeStamp={stamp}] "
                    f"[FailureCategory=Cmdlet-{reason}] {code},{TASKS}.{task}")
        return CmdletError(message, category, target, error_id, reason)

    def not_found(self, identity: str, task: str, org: str | None = None) -> CmdletError:
        """``The operation couldn't be performed because object 'x' couldn't be found on 'DC01...'.``"""
        dc = domain_controller(self.host.world, org)
        return self.make(M.OBJECT_NOT_FOUND_ON_DC.format(identity=identity, dc=dc), M.NOT_FOUND_REASON, task)

    def ambiguous(self, identity: str, task: str) -> CmdletError:
        """``... 'x' matches multiple entries.``"""
        return self.make(M.OBJECT_AMBIGUOUS.format(identity=identity), M.AMBIGUOUS_REASON, task)

    def invalid(self, error: ConfigError | str, task: str) -> CmdletError:
        """A value the Exchange object refused (DataValidationException)."""
        text = error.message if isinstance(error, ConfigError) else str(error)
        if isinstance(error, ConfigError) and error.allowed:
            text += " Valid values are: " + ", ".join(error.allowed) + "."
        return self.make(text, M.DATA_VALIDATION_REASON, task, "InvalidArgument")

    def one(self, found: Sequence[T], identity: str, task: str, org: str | None = None) -> T:
        """The single object an identity names (not found / ambiguous errors otherwise)."""
        if not found:
            raise self.not_found(identity, task, org)
        if len(found) > 1:
            raise self.ambiguous(identity, task)
        return found[0]


def task_name(cmdlet: str) -> str:
    """``Set-ReceiveConnector`` -> ``SetReceiveConnector`` (the task class name)."""
    return cmdlet.replace("-", "")


def add(registry: Registry, name: str, fn: Callable[..., Any], params: Sequence[Param], *, remote: bool = True,
        **options: Any) -> Cmdlet:
    """Register an Exchange cmdlet (remote by default, its task type as implementing type)."""
    if options or type(params) is not tuple:
        return registry.register(_exchange_cmdlet(name, fn, params, remote, **options))
    # (name, remote and the params tuple are all the declaration: declared copies its first build)
    return registry.register(declared(fn, ("add", name, remote), params, _exchange_cmdlet, name, None, params, remote))


def exchange(name: str, fn: Callable[..., Any], params: Sequence[Param], *, remote: bool = True,
             **options: Any) -> Cmdlet:
    """An Exchange cmdlet (remote by default, its task type as implementing type), as :func:`add` registers
    it: for a module's commands declared once, shared by every console (they act on
    ``inv.console_host``)."""
    return _exchange_cmdlet(name, fn, params, remote, **options)


def register_all(registry: Registry, host: ConsoleHost, commands: Iterable[Cmdlet]) -> None:
    """A cmdlet module's ``register``: its commands into ``registry``, whose cmdlets act on ``host``."""
    registry.host = host
    for command in commands:
        registry.register(command)


def _exchange_cmdlet(name: str, fn: Callable[..., Any] | None, params: Sequence[Param], remote: bool,
                     **options: Any) -> Cmdlet:
    implementing = f"{TASKS}.{task_name(name)}" if remote else ""
    return Cmdlet(name, fn, tuple(params), remote=remote, implementing_type=implementing,  # type: ignore[arg-type]
                  module="Microsoft.Exchange.Management.PowerShell" if remote else "", **options)


def changed(inv: Any, host: ConsoleHost, world: World) -> None:
    """Swap in the new world and report the change (the last step of a changing cmdlet)."""
    host.world = world
    inv.report_change()
