"""The lab's cmdlets: Exchange on-premises, Exchange Online, DnsServer, console programs and lab tools.

:func:`build_registry` returns a :class:`~lab.console.registry.Registry` whose cmdlets are
bound to one :class:`~lab.console.host.ConsoleHost`.
"""
from __future__ import annotations

from lab.console.host import ConsoleHost
from lab.console.registry import Registry


def build_registry(host: ConsoleHost) -> Registry:
    """Every lab cmdlet, bound to ``host``."""
    from lab.console.cmdlets import exchange_certificates, exchange_connectors, exchange_misc, exchange_queues, online
    from lab.console.cmdlets import dns, lab_network, lab_tools, nslookup, send_mail, telnet
    registry = Registry()
    for module in (exchange_connectors, exchange_misc, exchange_certificates, exchange_queues, online, dns,
                   send_mail, lab_tools, lab_network, nslookup, telnet):
        module.register(registry, host)
    return registry
