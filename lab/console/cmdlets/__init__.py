"""The lab's cmdlets: Exchange on-premises, Exchange Online, DnsServer, console programs and lab tools.

:func:`build_registry` returns a :class:`~lab.console.registry.Registry` whose cmdlets act on one
:class:`~lab.console.host.ConsoleHost`. A cmdlet reads its host from the invocation
(``inv.console_host``, the registry's ``host``), so every console shares the same commands: each
module declares them once, and a console's registry starts as a copy of the table of them all.
"""
from __future__ import annotations

import functools
from types import ModuleType

from lab.console.host import ConsoleHost
from lab.console.registry import Registry


@functools.lru_cache(maxsize=1)
def _modules() -> tuple[ModuleType, ...]:
    """The cmdlet modules, in registration order (imported once: a module object never changes)."""
    from lab.console.cmdlets import exchange_certificates, exchange_connectors, exchange_misc, exchange_queues, online
    from lab.console.cmdlets import dns, lab_network, lab_tools, nslookup, send_mail, telnet
    return (exchange_connectors, exchange_misc, exchange_certificates, exchange_queues, online, dns,
            send_mail, lab_tools, lab_network, nslookup, telnet)


@functools.lru_cache(maxsize=1)
def _everything() -> Registry:
    """Every module's commands, registered in order (a later registration of a name wins, as in any
    registry). The commands and the modules never change: built once, copied by every console."""
    registry = Registry()
    for module in _modules():
        module.register(registry, None)
    return registry


def build_registry(host: ConsoleHost) -> Registry:
    """Every lab cmdlet, acting on ``host`` (a registry of its own: a command registered later in one
    console is that console's alone)."""
    return _everything().copy(host)
