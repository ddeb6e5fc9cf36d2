"""Live SMTP endpoints on loopback: aiosmtpd's transport, the core's every word.

:class:`LabSMTP` subclasses :class:`aiosmtpd.smtp.SMTP` and keeps its connection handling
(StreamReader, idle timer, the STARTTLS transport swap in ``connection_made``), but replaces the
command loop so every byte sent comes from a core :class:`~lab.core.exchange.session.ReceiveSession`:
no aiosmtpd fixed text ("503 Error: send HELO first", "500 Error: command ... not recognized",
555 for DSN parameters, ...) can reach the wire. STARTTLS gives aiosmtpd a new ``Session``;
the core session lives on the ``LabSMTP`` instance and survives it.

The adapter translates and never decides: which connector, which reply, whether to close is
the core's answer. :func:`start_smtp_listener` wires one Exchange server's listener.
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import ssl
import types
import uuid
from asyncio import sslproto
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Sequence

from aiosmtpd.smtp import SMTP

from lab.adapters.tls import peer_facts
from lab.core.errors import LabRuntimeError
from lab.core.exchange.connectors import ReceiveConnector
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.model import ExchangeServer, Organization
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.receive import select_receive_connector
from lab.core.exchange.session import MessageSink, Output, ReceiveSession

log = logging.getLogger(__name__)
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
DATA_STORE_LIMIT = 64 * 1024 * 1024

#: Builds the core session for a new connection from the peer's loopback IP, or None to drop it.
SessionFactory = Callable[[str], "tuple[ReceiveSession, ssl.SSLContext | None] | None"]


class _NoHooks:
    """aiosmtpd wants a handler object; every decision is the core's, so it has no hooks."""


#: aiosmtpd's per-instance state after ``SMTP.__init__``, per (class, hostname, idle timeout).
#: ``SMTP.__init__`` walks the instance with ``inspect.getmembers`` and ``dir`` (AUTH mechanisms,
#: hooks, ``smtp_*`` methods) on every connection; the answers depend only on the class, so it
#: runs once and each connection gets a copy, its bound methods rebound to the new instance.
_SMTP_STATE: dict[tuple, dict] = {}


def _rebound(value: object, probe: object, target: object) -> object:
    """``value`` of the probe's state for ``target``: its bound methods rebound, dicts copied."""
    if isinstance(value, types.MethodType) and value.__self__ is probe:
        return types.MethodType(value.__func__, target)
    if isinstance(value, tuple) and hasattr(value, "_replace"):  # aiosmtpd's _AuthMechAttr
        return value._replace(**{f: _rebound(getattr(value, f), probe, target) for f in value._fields})
    if isinstance(value, dict):
        return {k: _rebound(v, probe, target) for k, v in value.items()}
    return value


def _per_instance(value: object, probe: object) -> bool:
    """True if ``value`` must be rebuilt for each instance (mutable, or bound to the probe)."""
    if isinstance(value, types.MethodType):
        return value.__self__ is probe
    if isinstance(value, tuple):
        return any(_per_instance(v, probe) for v in value)
    return isinstance(value, (dict, list, set))


class LabSMTP(SMTP):
    """One connection: aiosmtpd transport + TLS upgrade, the core session's replies.

    Args:
        make_session: builds the core session (and the connector's SSL context) at accept time.
        clock_now: the lab clock.
        idle_timeout: seconds of client silence before ``451 4.7.0 Timeout waiting for client input``.
    """

    line_length_limit = 65536

    def __init__(self, make_session: SessionFactory, clock_now: Callable[[], datetime], *,
                 idle_timeout: float = 600.0, hostname: str = "localhost"):
        loop = asyncio.get_running_loop()
        key = (type(self), hostname, idle_timeout)
        state = _SMTP_STATE.get(key)
        if state is None:
            state = _SMTP_STATE[key] = self._smtp_state(hostname, idle_timeout, loop)
        asyncio.StreamReaderProtocol.__init__(
            self, asyncio.StreamReader(loop=loop, limit=self.line_length_limit),
            client_connected_cb=self._cb_client_connected, loop=loop)
        vars(self).update(state["shared"])
        probe = state["probe"]
        for name, value in state["rebuilt"]:
            setattr(self, name, _rebound(value, probe, self))
        self.loop = loop
        self.command_size_limits.clear()  # as SMTP.__init__ does
        self._make_session = make_session
        self._clock_now = clock_now
        self.core: ReceiveSession | None = None
        self._closing = False

    @classmethod
    def _smtp_state(cls, hostname: str, idle_timeout: float, loop: asyncio.AbstractEventLoop) -> dict:
        """Runs ``SMTP.__init__`` once on a probe: the attributes it sets beyond StreamReaderProtocol's."""
        probe = cls.__new__(cls)
        SMTP.__init__(probe, _NoHooks(), hostname=hostname, data_size_limit=None, enable_SMTPUTF8=True,
                      timeout=idle_timeout, auth_require_tls=False, loop=loop)
        base = asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), client_connected_cb=print, loop=loop)
        attrs = {k: v for k, v in vars(probe).items() if k not in vars(base) and k != "loop"
                 and not isinstance(v, (asyncio.StreamReader, asyncio.Future))}  # per connection, never shared
        vars(probe).clear()  # only its identity is kept (to rebind methods); not its loop or reader
        return {"probe": probe, "shared": {k: v for k, v in attrs.items() if not _per_instance(v, probe)},
                "rebuilt": [(k, v) for k, v in attrs.items() if _per_instance(v, probe)]}

    # --- the command loop -------------------------------------------------------------------
    async def _handle_client(self) -> None:
        assert self.session is not None and self.transport is not None
        made = self._make_session(self.session.peer[0])
        if made is None:
            self.transport.close()
            return
        self.core, self.tls_context = made
        try:
            await self._act(self.core.connect(self._clock_now()))
            while not self._closing and self.transport is not None:
                line, too_long = await self._readline()
                if too_long:
                    output = self.core.line_too_long()
                else:
                    text = line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
                    output = self.core.receive_line(text, now=self._clock_now())
                self._reset_timeout()
                await self._act(output)
        except (asyncio.IncompleteReadError, ConnectionError):
            self._close()
        except Exception:  # noqa: BLE001 - an adapter bug must not kill the loop; log it and drop the client
            log.exception("SMTP session with %r failed", self.session.peer if self.session else None)
            self._close()

    async def _readline(self) -> tuple[bytes, bool]:
        """One line; ``(b"", True)`` after draining a line longer than the reader's limit."""
        try:
            return await self._reader.readuntil(b"\n"), False
        except asyncio.LimitOverrunError as error:
            await self._reader.readexactly(error.consumed)
            while True:
                try:
                    await self._reader.readuntil(b"\n")
                    return b"", True
                except asyncio.LimitOverrunError as more:
                    await self._reader.readexactly(more.consumed)

    async def _act(self, output: Output) -> None:
        """Executes one core output: send, then close / TLS / read the body."""
        assert self.core is not None
        if output.lines:
            self._writer.write(b"".join(line.encode("utf-8", "surrogateescape") + b"\r\n" for line in output.lines))
            await self._writer.drain()
        if output.close:
            self._close()
        elif output.start_tls:
            await self._start_tls()
        elif output.read_data:
            body, octets = await self._read_data()
            await self._act(self.core.data_received(body, octets, now=self._clock_now()))
        elif output.read_octets is not None:
            chunk = await self._reader.readexactly(output.read_octets)
            await self._act(self.core.chunk_received(chunk, now=self._clock_now()))

    async def _read_data(self) -> tuple[bytes, int]:
        """The DATA body up to ``.<CRLF>``, dot-unstuffed; stops storing past DATA_STORE_LIMIT."""
        parts: list[bytes] = []
        octets = 0
        while True:
            line, too_long = await self._readline()
            if too_long:
                continue
            if line in (b".\r\n", b".\n"):
                return b"".join(parts), octets
            if line.startswith(b"."):
                line = line[1:]
            octets += len(line)
            if octets <= DATA_STORE_LIMIT:
                parts.append(line)

    async def _start_tls(self) -> None:
        """aiosmtpd's STARTTLS transport swap, without its reply text (the core sent 220 2.0.0)."""
        assert self.core is not None and self.tls_context is not None
        waiter = self.loop.create_future()
        self._tls_protocol = sslproto.SSLProtocol(self.loop, self, self.tls_context, waiter, server_side=True)
        self._original_transport = self.transport
        assert self._original_transport is not None
        self._original_transport.set_protocol(self._tls_protocol)
        self.transport = self._tls_protocol._app_transport
        self._tls_protocol.connection_made(self._original_transport)
        try:
            await waiter
        except (ssl.SSLError, ConnectionError, OSError) as error:
            log.info("TLS handshake with %r failed: %s", self.session.peer if self.session else None, error)
            await self._act(self.core.tls_failed())
            return
        ssl_object = self.transport.get_extra_info("ssl_object")
        facts, _ = peer_facts(ssl_object)
        names: tuple[str, ...] = ()
        if facts is not None:
            names = tuple(n for n in (*facts.san_dns, facts.subject_cn) if n)
        cipher = ssl_object.cipher()[0] if ssl_object is not None and ssl_object.cipher() else ""
        version = ssl_object.version() if ssl_object is not None else ""
        await self._act(self.core.tls_established(TlsFacts(version or "", cipher, names, facts), now=self._clock_now()))

    def _timeout_cb(self) -> None:
        """Idle timeout: the core's 451 4.7.0, then close."""
        if self.core is not None and self.transport is not None and not self._closing:
            output = self.core.timed_out()
            self._writer.write(b"".join(line.encode() + b"\r\n" for line in output.lines))
        self._close()

    def _close(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.close()


@dataclass
class Listener:
    """A running SMTP listener."""

    address: tuple[str, int]
    server: asyncio.base_events.Server

    async def close(self) -> None:
        """Stops listening (open connections are closed too)."""
        self.server.close()
        await self.server.wait_closed()


async def serve(loop_ip: str, loop_port: int, protocol_factory: Callable[[], LabSMTP]) -> Listener:
    """Listens on a loopback address with ``loop.create_server`` on the running loop.

    Raises:
        LabRuntimeError: ``loop_ip`` is not in 127.0.0.0/8, or ``ip:port`` is in use.
    """
    try:
        ip = ipaddress.ip_address(loop_ip)
    except ValueError:
        raise LabRuntimeError(f"{loop_ip!r} is not an IP address") from None
    if ip not in LOOPBACK:
        raise LabRuntimeError(f"refusing to listen on {loop_ip}:{loop_port}: the lab listens only on 127.0.0.0/8")
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(protocol_factory, loop_ip, loop_port, reuse_address=True)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise LabRuntimeError(f"{loop_ip}:{loop_port} is already in use") from error
        raise LabRuntimeError(f"cannot listen on {loop_ip}:{loop_port}: {error.strerror}") from error
    address = server.sockets[0].getsockname()[:2]
    return Listener((address[0], address[1]), server)


async def start_smtp_listener(loop_ip: str, loop_port: int, *, host: ExchangeServer, org: Organization,
                              connectors: Sequence[ReceiveConnector], virtual_ip: str, virtual_port: int,
                              resolve_peer: Callable[[str], tuple[str | None, str]],
                              clock_now: Callable[[], datetime], sink: MessageSink,
                              tls_context_for: Callable[[ReceiveConnector], ssl.SSLContext | None],
                              idle_timeout: float = 600.0,
                              new_guid: Callable[[], str] | None = None,
                              current: Callable[[], tuple[ExchangeServer, Organization, Sequence[ReceiveConnector]]]
                              | None = None) -> Listener:
    """Starts an Exchange receive endpoint on ``loop_ip:loop_port``.

    Args:
        loop_ip: the host's loopback address (127.x.y.z).
        loop_port: the mapped port (0 picks a free one).
        host: the Exchange server.
        org: its organisation.
        connectors: the server's receive connectors.
        virtual_ip: the virtual address this listener stands for (connector Bindings match it).
        virtual_port: the virtual port (e.g. 25 for loop port 2525).
        resolve_peer: peer loopback IP -> (lab node name or None, virtual IP the server sees, or None
            when the peer cannot reach this address: the connection is closed without a banner).
        clock_now: the lab clock.
        sink: where accepted mail goes.
        tls_context_for: the SSL context for a connector's certificate, or None (no STARTTLS).
        idle_timeout: seconds before ``451 4.7.0 Timeout waiting for client input``.
        new_guid: Message-ID GUIDs for messages without one (default uuid4).
        current: when given, called at every connection for the server, organisation and connectors
            in force now (a running lab whose configuration changes); it supersedes the three values.

    Returns:
        The running :class:`Listener`.

    Raises:
        LabRuntimeError: not a loopback address, or the port is in use.
    """
    guid = new_guid or (lambda: str(uuid.uuid4()))
    conns = tuple(connectors)

    def make_session(peer_loop_ip: str) -> tuple[ReceiveSession, ssl.SSLContext | None] | None:
        node, peer_ip = resolve_peer(peer_loop_ip)
        if peer_ip is None:
            log.info("%s cannot reach %s:%s: closing", node, virtual_ip, virtual_port)
            return None
        server, organisation, connectors = current() if current else (host, org, conns)
        selection = select_receive_connector(connectors, virtual_ip, virtual_port, peer_ip)
        if not selection.accepted:
            log.info("no receive connector on %s:%s for %s: closing", virtual_ip, virtual_port, peer_ip)
            return None
        connector: ReceiveConnector = selection.value
        context = tls_context_for(connector)
        policy = ExchangePolicy(connector, server, organisation, cert_available=context is not None)
        session = ReceiveSession(policy, sink, client_ip=peer_ip, local_ip=virtual_ip, local_port=virtual_port,
                                 now=clock_now(), new_guid=guid, peer_name=node, selection=selection)
        return session, context

    return await serve(loop_ip, loop_port,
                       lambda: LabSMTP(make_session, clock_now, idle_timeout=idle_timeout, hostname=host.fqdn))
