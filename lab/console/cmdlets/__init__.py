"""The lab's cmdlets: Exchange on-premises, Exchange Online, DnsServer, console programs and lab tools.

:func:`build_registry` returns a :class:`~lab.console.registry.Registry` whose cmdlets are
bound to one :class:`~lab.console.host.ConsoleHost`.
"""
from __future__ import annotations

import functools
import threading
from types import ModuleType
from typing import Sequence

from lab.console.host import ConsoleHost
from lab.console.registry import Cmdlet, Registry


@functools.lru_cache(maxsize=1)
def _modules() -> tuple[ModuleType, ...]:
    """The cmdlet modules, in registration order (imported once: a module object never changes)."""
    from lab.console.cmdlets import exchange_certificates, exchange_connectors, exchange_misc, exchange_queues, online
    from lab.console.cmdlets import dns, lab_network, lab_tools, nslookup, send_mail, telnet
    return (exchange_connectors, exchange_misc, exchange_certificates, exchange_queues, online, dns,
            send_mail, lab_tools, lab_network, nslookup, telnet)


#: command name or alias (lower case) -> the index of the module that registers it, learnt from
#: the first registry built in full; None until then, or when two modules register one name
#: (the later would win: only a build in order keeps that, so every registry is built in full).
_INDEX: dict[str, int] | None = None
_INDEX_KNOWN = False
_INDEX_LOCK = threading.Lock()


class _ModuleRegistry(Registry):
    """A registry that runs a cmdlet module's ``register`` only when one of its commands is looked up.

    Each module registers its commands for this registry's host exactly once (its closures, and any
    state they share, are this console's); the command a name resolves to is the one a registry
    built in full holds. :meth:`commands` registers every module still waiting.
    """

    def __init__(self, host: ConsoleHost, modules: Sequence[ModuleType], index: dict[str, int]):
        super().__init__()
        self._host = host
        self._waiting: dict[int, ModuleType] = dict(enumerate(modules))
        self._index = index

    def _load(self, position: int) -> None:
        module = self._waiting.pop(position, None)
        if module is not None:
            module.register(self, self._host)

    def resolve(self, name: str) -> Cmdlet | None:
        key = name.lower()
        position = self._index.get(key)
        if position is not None and position in self._waiting:
            self._load(position)
        return self._commands.get(key) or self._commands.get(self._aliases.get(key, ""))  # (Registry.resolve)

    def commands(self) -> list[Cmdlet]:
        for position in sorted(self._waiting):
            self._load(position)
        return super().commands()

    def aliases(self) -> dict[str, str]:
        for position in sorted(self._waiting):
            self._load(position)
        return super().aliases()


class _Recording(Registry):
    """A registry built in full that notes which module registers which name (and any name registered twice)."""

    def __init__(self) -> None:
        super().__init__()
        self.position = 0
        self.index: dict[str, int] | None = {}

    def _note(self, key: str) -> None:
        if self.index is not None:
            if key in self.index:
                self.index = None  # a name two registrations claim: only a build in order resolves it as before
            else:
                self.index[key] = self.position

    def register(self, command: Cmdlet) -> Cmdlet:
        for key in (command.name, *command.aliases):
            self._note(key.lower())
        return super().register(command)

    def alias(self, alias: str, target: str) -> None:
        self._note(alias.lower())
        super().alias(alias, target)


def _learn_index(host: ConsoleHost, modules: Sequence[ModuleType]) -> Registry:
    """Build a registry in full, in order, and remember which module registers which name."""
    global _INDEX, _INDEX_KNOWN
    registry = _Recording()
    for position, module in enumerate(modules):
        registry.position = position
        module.register(registry, host)
    index, registry.index = registry.index, None  # noted once: later registrations are this console's own
    with _INDEX_LOCK:
        _INDEX, _INDEX_KNOWN = index, True
    return registry


def build_registry(host: ConsoleHost) -> Registry:
    """Every lab cmdlet, bound to ``host`` (each module's registered when first needed)."""
    modules = _modules()
    with _INDEX_LOCK:
        known, index = _INDEX_KNOWN, _INDEX
    if not known:
        return _learn_index(host, modules)
    if index is None:
        registry = Registry()
        for module in modules:
            module.register(registry, host)
        return registry
    return _ModuleRegistry(host, modules, index)
