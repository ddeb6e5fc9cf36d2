"""How the runtime connects the lab's services to each other on loopback.

The network model (:mod:`lab.core.network`) decides who reaches what and which address a
receiver sees; this module turns those answers into loopback addresses and ports:

- ``locate``: a virtual endpoint a sender dials -> the loopback address and port to connect to,
  after NAT/publishing (or the failure the sender would see: Timeout, Refused, NoRoute);
- ``seen``: the loopback address a connection came from -> the node it stands for and the
  virtual address the receiver sees (a connection from outside the lab — 127.0.0.1, telnet,
  swaks — stands for ``settings.outside_host``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from lab.adapters.smtp_client import require_loopback
from lab.core.network import NetworkModel, live_port


@dataclass
class Addressing:
    """Virtual <-> loopback addresses of a running lab."""

    network: Callable[[], NetworkModel]
    loopback: dict[tuple[str, str], str]  # (node, virtual ip) -> loopback ip
    ports: dict[int, int]
    outside_host: str | None
    listening: set[tuple[str, int]]  # (node, virtual port) served by the lab

    def __post_init__(self) -> None:
        self.by_loopback = {loop: node for (node, _), loop in self.loopback.items()}

    def primary(self, node: str) -> str:
        """The node's first loopback address (its source address for outgoing connections)."""
        model = self.network()
        first = model.node(node).addresses[0]
        return self.loopback[(node, first)]

    def node_of(self, loopback_ip: str) -> str | None:
        """The node a connection from ``loopback_ip`` stands for."""
        return self.by_loopback.get(loopback_ip, self.outside_host)

    def seen(self, peer_loopback: str, dst_node: str, port: int) -> tuple[str | None, str | None]:
        """(source node, the virtual address ``dst_node`` sees) for a connection from ``peer_loopback``."""
        src = self.node_of(peer_loopback)
        if src is None:
            return None, None
        return src, self.network().seen_source(src, dst_node, port)

    def locate(self, src_node: str, ip: str, port: int) -> tuple[str, int, str] | str:
        """Where a connection from ``src_node`` to virtual ``ip:port`` lands on loopback.

        Returns:
            ``(loopback ip, loopback port, source loopback ip)``, or the failure name
            (``NoRoute``, ``Timeout``, ``Refused``).
        """
        route = self.network().connect(src_node, ip, port, listening=self.listening)
        if not route.ok:
            return route.failure or "NoRoute"
        target, source = self.loopback[(route.dest_node, route.dest_ip)], self.primary(src_node)
        require_loopback(target, "target")  # every client of the lab connects through here: never leave 127/8
        require_loopback(source, "source address")
        return target, live_port(route.dest_port, self.ports), source
