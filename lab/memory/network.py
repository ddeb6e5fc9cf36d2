"""Who answers a connection in the in-memory lab, and with which session (the live listeners' logic).

:meth:`Switchboard.dial` is ``Addressing.locate`` plus the accept side of the live listeners:
the network model decides NoRoute / Timeout / Refused and where the connection lands; the
landing node's listener builds the server session as ``start_smtp_listener`` (Exchange) or
``start_eop`` (EOP) do. A connection the listener drops (no receive connector takes the
client) opens as ``None``: closed without a banner.
"""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable

from lab.core.eop import policy as P
from lab.core.eop.front_door import EopPolicy
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.receive import select_receive_connector
from lab.core.exchange.session import ReceiveSession
from lab.core.fastpath import uuid5_text
from lab.core.memo import Memo
from lab.core.network import Route
from lab.core.tls import CertFacts
from lab.memory.trust import INTERNET_STORE
from lab.memory.wire import TLS_CIPHER, TLS_VERSION, Wire
from lab.core.world_views import virtual_ports

if TYPE_CHECKING:
    from lab.memory.lab import MemoryLab

_NS = uuid.UUID("5b0c2f1e-3c55-4a53-9a0e-8f1f6f1b7a11")


# The STARTTLS certificate per (server state, connector) object at one lab instant: both are
# frozen records of immutable fields, so the choice holds while they live and time stands still.
_STARTTLS = Memo()


def _starttls_certificate(state, connector, now):
    return _STARTTLS.get2(state, connector, now, state.starttls_certificate, connector, now)


# The receive policy per (connector, server, organization) object and certificate availability: a
# frozen record of frozen records (it keeps facts of them, e.g. its EHLO lines), shared by every
# session and every lab of one world.
_POLICIES = Memo()


@dataclass
class Dial:
    """A connection the network let through to ``route.dest_node``.

    Attributes:
        route: the network model's route (after NAT/publishing).
        open: builds a new server session for one TCP connection (None: closed without a banner),
            and the certificate STARTTLS would present on it.
        server_tls: the server's view of a handshake given the client's certificate.
    """

    route: Route
    open_session: Callable[[], "tuple[ReceiveSession, CertFacts | None] | None"]
    server_tls: Callable[[CertFacts | None], TlsFacts]

    def open(self, lab: "MemoryLab", transcript: list[str] | None = None) -> "tuple[Wire, CertFacts | None] | None":
        """A new connection: the wire and the server's STARTTLS certificate, or None (dropped at accept)."""
        made = self.open_session()
        if made is None:
            return None
        session, cert = made
        return Wire(session, lab, transcript), cert


def _policy(state, connector, org, cert_available: bool) -> ExchangePolicy:
    """The receive policy of ``connector`` on the server of ``state`` in ``org`` (shared: see _POLICIES)."""
    return _POLICIES.get((connector, state.server, org), cert_available, ExchangePolicy, connector, state.server,
                         org, cert_available)


class LazyText(partial):
    """A text worked out only when it is read: ``str()`` or formatting (an f-string) calls the partial.

    The partial is a pure function of the values it holds (taken when the text was asked for), so
    every reader sees the same text, the text the call would have given then. The receive sessions
    read their GUID only to make a Message-ID for a message that has none (``build_message``): most
    messages carry one, and their GUID is never worked out.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return self()

    def __format__(self, spec: str) -> str:
        return format(self(), spec)


def _guid(guids: "itertools.count[int]") -> str:
    """The next Message-ID GUID of a switchboard's counter (``uuid5_text(_NS, str(n))``, read lazily)."""
    return LazyText(uuid5_text, _NS, str(next(guids)))  # type: ignore[return-value]


def _ticks_guid(now, seq: int) -> str:
    """EOP's Message-ID GUID: the ticks id of ``now`` and ``seq`` in lower case."""
    return P.ticks_id(now, seq).lower()


def _names(facts: CertFacts | None) -> tuple[str, ...]:
    return tuple(n for n in (*facts.san_dns, facts.subject_cn) if n) if facts else ()


# An Exchange server's view of a handshake, per client certificate object (frozen facts in, a frozen
# record out): the same for every connection that presents it.
_SERVER_TLS = Memo()


def _server_tls(client: CertFacts | None) -> TlsFacts:
    return _SERVER_TLS.get1(client, None, _new_server_tls, client)


def _new_server_tls(client: CertFacts | None) -> TlsFacts:
    return TlsFacts(TLS_VERSION, TLS_CIPHER, _names(client), client)


# Who listens, per servers mapping object (a World's, shared by the worlds a change leaves it to,
# and by every lab of one world) and the EOP nodes: the ports are read from the servers' receive
# connectors alone (virtual_ports), and the mapping and everything in it are immutable.
_LISTENERS = Memo(64)


def _listeners_of(world, eop: tuple[str, ...]) -> tuple[dict[str, tuple[int, ...] | frozenset[int]],
                                                           frozenset[tuple[str, int]]]:
    """The ports each node listens on (the table is shared: read it, never change it), and the
    (node, port) pairs: a value the network model remembers routes by (a callback it cannot), so
    every lab of one world shares the routes worked out."""
    ports: dict[str, tuple[int, ...] | frozenset[int]] = {n: virtual_ports(world, n) for n in world.servers}
    for node in eop:
        ports[node] = frozenset((25, 587))
    return ports, frozenset({(node, port) for node, node_ports in ports.items() for port in node_ports})


class Switchboard:
    """Routes and listeners of the in-memory lab (rebuilt caches on every world change)."""

    def __init__(self, lab: "MemoryLab"):
        self.lab = lab
        self._guids = itertools.count(1)
        self._new_guid = partial(_guid, self._guids)  # (holds the counter, not the switchboard)
        self._eop_seq: dict[str, itertools.count] = {}
        self._ports = None
        self._network = None  # the network model the routes and listeners were worked out from
        self._kept: tuple | None = None  # (network, listening pairs, routes, dials) of an earlier world
        self.reset()

    def reset(self) -> None:
        """The world changed: forget cached routes and listeners."""
        # The routes and Exchange dials worked out for the world that was in force are kept aside: a
        # route is the network model's answer for (network, listening pairs), and a dial is made from
        # its route and the network's addresses (what it opens follows the world in force), so when
        # the next world has the same network object and listens on the same pairs (a change
        # elsewhere: connectors' settings, DNS, organization), :meth:`_listeners` takes them up again.
        # (A dial holds the lab, not the switchboard: a closed lab's switchboard, dropped, frees them.)
        if self._ports is not None:
            self._kept = (self._network, self._listening, self._routes, self._dials)
        self._routes: dict[tuple[str, str, int], Route] = {}
        # Exchange dials per (source, address, port)
        self._dials: dict[tuple[str, str, int], Dial | str] = {}
        # the listeners, worked out from the world when a connection first needs them (a world
        # changed twice, or a lab closed, before anyone dials never works them out)
        self._ports: dict[str, tuple[int, ...] | frozenset[int]] | None = None
        self._listening: frozenset[tuple[str, int]] = frozenset()

    def _listeners(self) -> dict[str, tuple[int, ...] | frozenset[int]]:
        ports = self._ports
        if ports is None:
            world = self.lab._world
            eop = tuple(self.lab.eop)
            ports, self._listening = _LISTENERS.get((world.servers,), eop, _listeners_of, world, eop)
            self._ports, self._network = ports, world.network
            kept, self._kept = self._kept, None
            if kept is not None and kept[0] is world.network and kept[1] == self._listening and not self._routes:
                self._routes, self._dials = kept[2], kept[3]
        return ports

    def listening(self, node: str, port: int) -> bool:
        """A lab service listens on ``port`` of ``node``."""
        return port in self._listeners().get(node, ())

    def route(self, src: str, ip: str, port: int) -> Route:
        key = (src, ip, port)
        route = self._routes.get(key)
        if route is None:
            if self._ports is None:
                self._listeners()  # (it may take up the routes of an earlier world)
                route = self._routes.get(key)
                if route is not None:
                    return route
            route = self.lab._world.network.connect(src, ip, port, listening=self._listening)
            self._routes[key] = route
        return route

    def dial(self, src: str, ip: str, port: int) -> Dial | str:
        """Connect ``src`` to virtual ``ip:port``: the :class:`Dial`, or the failure name."""
        # An Exchange dial of this world is kept once made (its route got through to a transport):
        # what the steps below would give again
        dial = self._dials.get((src, ip, port))
        if dial is not None:
            return dial
        route = self.route(src, ip, port)
        if not route.ok:
            return route.failure or "NoRoute"
        node, dest_ip, dest_port = route.dest_node, route.dest_ip, route.dest_port
        if node in self.lab.eop:
            return self._eop_dial(route, src, node, dest_ip, dest_port)
        if node in self.lab.transports:
            key = (src, ip, port)
            dial = self._dials.get(key)
            if dial is None:  # (the route asked for first took up the dials of an earlier world, if any)
                dial = self._dials[key] = self._exchange_dial(route, src, node, dest_ip, dest_port)
            return dial
        return "Refused"

    # -- Exchange: start_smtp_listener's make_session -----------------------------------------
    def _exchange_dial(self, route: Route, src: str, node: str, ip: str, port: int) -> Dial | str:
        lab = self.lab
        if ip not in lab._world.network.node(node).addresses:
            return "Refused"
        peer_ip = route.seen_source_ip
        new_guid = self._new_guid
        # What a connection gets (connector selection, STARTTLS certificate, policy) is worked out
        # from the server's state and its organization (frozen records) at one lab instant: fixed
        # while these objects are, whatever else a new world changed.
        # world, instant, (selection, certificate, policy), server state, organization
        chosen: list = [None, None, None, None, None]

        def open_session():
            if peer_ip is None:
                return None
            world, now = lab._world, lab._now_dt
            if chosen[0] is not world or chosen[1] is not now:
                state = world.server(node)
                org = world.org_of(node).organization
                if chosen[3] is not state or chosen[4] is not org or chosen[1] is not now:
                    # (the selection reads the server's receive connectors alone: the same state, the same one)
                    selection = chosen[2][0] if chosen[3] is state else select_receive_connector(
                        state.receive_connectors, ip, port, peer_ip)
                    cert = policy = None
                    if selection.accepted:
                        installed = _starttls_certificate(state, selection.value, now)
                        cert = installed.facts if installed is not None else None
                        policy = _policy(state, selection.value, org, cert is not None)
                    chosen[2:] = [(selection, cert, policy), state, org]
                chosen[0], chosen[1] = world, now
            selection, cert, policy = chosen[2]
            if not selection.accepted:
                return None
            session = ReceiveSession(policy, lab.transports[node], client_ip=peer_ip, local_ip=ip, local_port=port,
                                     now=now, new_guid=new_guid, peer_name=src, selection=selection)
            return session, cert

        return Dial(route, open_session, _server_tls)

    def _policy(self, node: str, state, connector, world, cert_available: bool) -> ExchangePolicy:
        return _policy(state, connector, world.org_of(node).organization, cert_available)

    def _guid(self) -> str:
        return self._new_guid()

    # -- EOP: start_eop's make_session -------------------------------------------------------------
    def _eop_dial(self, route: Route, src: str, node: str, ip: str, port: int) -> Dial | str:
        lab = self.lab
        service = lab.eop[node]
        world = service.state.world
        endpoint = {world.node.mx_ip: P.MX, world.node.submission_ip: P.SUBMISSION}.get(ip)
        if endpoint is None or (endpoint == P.MX and port != 25):
            return "Refused"
        seq = self._eop_seq.setdefault(node, itertools.count())
        peer_ip = route.seen_source_ip

        def open_session():
            if peer_ip is None:
                return None
            policy = EopPolicy(service.state.world, endpoint, next(seq))
            session = ReceiveSession(policy, service, client_ip=peer_ip, local_ip=ip, local_port=port,
                                     now=lab._now_dt,
                                     new_guid=lambda: LazyText(_ticks_guid, lab._now_dt, next(seq)))
            return session, service.certificate(endpoint)

        def server_tls(client: CertFacts | None) -> TlsFacts:
            peer = lab.trust.chain(client, INTERNET_STORE) if client is not None else None
            return TlsFacts(TLS_VERSION, TLS_CIPHER, _names(client), peer)

        return Dial(route, open_session, server_tls)
