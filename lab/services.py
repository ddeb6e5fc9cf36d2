"""The live on-prem Exchange servers of the lab, wired to the lab's adapters (EOP: services_eop.py).

Each service reads the lab's *current* :class:`~lab.core.world.World` when a connection
arrives or a message is routed, so a cmdlet's change takes effect at once.
"""
from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING

from lab.adapters.dns_client import LabResolver
from lab.adapters.maildir import Maildirs
from lab.adapters.pki import IssuedCertificate
from lab.adapters.smtp_client import Located, SmtpClient
from lab.adapters.smtp_server import Listener, start_smtp_listener
from lab.adapters.spool import Spool
from lab.adapters.tls import server_context
from lab.adapters.transport_driver import TransportDriver
from lab.core.exchange import outcomes as O
from lab.core.exchange.connectors import ReceiveConnector
from lab.core.exchange.queue import Transport
from lab.core.tls import CertFacts
from lab.core.world import World
from lab.core.world_views import directory_for, send_connectors_for, virtual_ports

if TYPE_CHECKING:
    from lab.runtime import Lab


class ExchangeService:
    """One on-prem Exchange server: its listeners and its transport."""

    def __init__(self, lab: "Lab", node: str):
        self.lab, self.node = lab, node
        world = lab.world
        state = world.server(node)
        source = lab.addressing.primary(node)
        dns = lab.dns_address
        self.resolver = LabResolver(dns[0], dns[1], source=source) if dns else None
        self.transport = Transport(state.server, directory_for(world, node),
                                   send_connectors_for(world, node), lab.transport_settings)
        client = SmtpClient(self._locate, lab.clock.now_datetime, self.client_certificate, self._trusted)
        self.driver = TransportDriver(self.transport, lab.clock, Spool(lab.state_dir, node), Maildirs(lab.state_dir),
                                      lab.tracking, client, self._resolve_mx, self._resolve_host)
        self.listeners: dict[tuple[str, int], Listener] = {}
        # id(certificate) -> (certificate, client anchors, context): the context of the certificate
        # presented last, without re-serialising its PEM for server_context's cache key per connection
        self._contexts: dict[int, tuple[IssuedCertificate, bytes, ssl.SSLContext]] = {}

    # -- the world as it is now -------------------------------------------------------------
    def current(self):
        world = self.lab.world
        state = world.server(self.node)
        return state.server, world.org_of(self.node).organization, state.receive_connectors

    def reconfigure(self, world: World) -> None:
        """Apply a changed world to the transport (send connectors, accepted domains, mailboxes)."""
        self.transport.directory = directory_for(world, self.node)
        self.transport.set_connectors(send_connectors_for(world, self.node), self.lab.clock.now)
        self.driver.kick()

    # -- certificates --------------------------------------------------------------------------
    def server_certificate(self, connector: ReceiveConnector) -> IssuedCertificate | None:
        """The certificate (with its key) STARTTLS presents on ``connector``, or None (no STARTTLS)."""
        installed = self.lab.world.server(self.node).starttls_certificate(connector, self.lab.clock.now_datetime())
        return self.lab.keys.get(installed.name) if installed else None

    def tls_context_for(self, connector: ReceiveConnector) -> ssl.SSLContext | None:
        issued = self.server_certificate(connector)
        if not issued:
            return None
        anchors = self.lab.client_anchors
        hit = self._contexts.get(id(issued))
        if hit is not None and hit[0] is issued and (hit[1] is anchors or hit[1] == anchors):
            return hit[2]
        # Exchange Server 2010-2019 negotiate TLS 1.2 at most (their Received headers say version=TLS1_2)
        context = server_context(issued, anchors, ssl.TLSVersion.TLSv1_2)
        if len(self._contexts) >= 64:
            self._contexts.clear()
        self._contexts[id(issued)] = (issued, anchors, context)
        return context

    def client_certificate(self, tls_certificate_name: str) -> IssuedCertificate | None:
        installed = self.lab.world.server(self.node).client_certificate(tls_certificate_name,
                                                                        self.lab.clock.now_datetime())
        return self.lab.keys.get(installed.name) if installed else None

    def _trusted(self, facts: CertFacts, der: bytes) -> bool:
        return self.lab.pki.verify(der, f"org-{self.lab.world.server(self.node).org}")

    # -- network --------------------------------------------------------------------------------
    def _locate(self, source_server: str, endpoint: O.Endpoint) -> Located | str:
        where = self.lab.addressing.locate(self.node, endpoint.ip, endpoint.port)
        return where if isinstance(where, str) else Located(*where)

    async def _resolve_mx(self, domain: str):
        return await self.resolver.resolve_mx(domain)

    async def _resolve_host(self, name: str):
        return await self.resolver.resolve_a(name)

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        self.driver.start()
        await self.ensure_listeners()

    def wanted_listeners(self, world: World) -> list[tuple[str, int]]:
        """Every (virtual address, port) the server's receive connectors bind."""
        return [(ip, port) for ip in world.network.node(self.node).addresses for port in virtual_ports(world, self.node)]

    async def ensure_listeners(self) -> None:
        """Listen on every (virtual address, port) the server's connectors bind and not yet served.

        The missing listeners are opened together (one pass of the loop, not one per listener)
        and recorded in binding order. When one cannot open, the outcome is the one-by-one
        opening's: those before it are kept (closed with the service), those after it are closed
        again, and its failure is raised.
        """
        world = self.lab.world
        missing = [(ip, port) for ip, port in self.wanted_listeners(world) if (ip, port) not in self.listeners]
        loop_ips = [self.lab.addressing.loopback[(self.node, ip)] for ip, _ in missing]
        started = await asyncio.gather(*(start_smtp_listener(
            loop_ip, self.lab.port(port), host=world.server(self.node).server,
            org=world.org_of(self.node).organization, connectors=(), virtual_ip=ip, virtual_port=port,
            resolve_peer=lambda peer, p=port: self.lab.addressing.seen(peer, self.node, p),
            clock_now=self.lab.clock.now_datetime, sink=self.driver, tls_context_for=self.tls_context_for,
            current=self.current) for (ip, port), loop_ip in zip(missing, loop_ips)), return_exceptions=True)
        failure: BaseException | None = None
        for (ip, port), loop_ip, listener in zip(missing, loop_ips, started):
            if isinstance(listener, BaseException) or failure is not None:
                if isinstance(listener, BaseException):
                    failure = failure or listener
                else:
                    await listener.close()
                continue
            self.listeners[(ip, port)] = listener
            self.lab.addressing.listening.add((self.node, port))
            self.lab.add_endpoint(self.node, "smtp", ip, port, loop_ip, self.lab.port(port))
        if failure is not None:
            raise failure

    async def close(self) -> None:
        for listener in self.listeners.values():
            await listener.close()
        await self.driver.close()
