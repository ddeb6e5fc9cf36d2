"""The lab's cmdlets: Exchange on-premises, Exchange Online, DnsServer and lab tools.

:func:`build_registry` returns a :class:`~lab.console.registry.Registry` whose cmdlets are
bound to one :class:`~lab.console.host.ConsoleHost`.
"""
from __future__ import annotations

from lab.console.host import ConsoleHost
from lab.console.registry import Registry


def build_registry(host: ConsoleHost) -> Registry:
    """Every lab cmdlet, bound to ``host``."""
    from lab.console.cmdlets import exchange_certificates, exchange_connectors, exchange_misc, online
    from lab.console.cmdlets import dns
    registry = Registry()
    for module in (exchange_connectors, exchange_misc, exchange_certificates, online, dns):
        module.register(registry, host)
    return registry
