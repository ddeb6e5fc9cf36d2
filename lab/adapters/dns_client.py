"""The resolver the lab's MTAs use: dnspython, asking the lab's own DNS server and nothing else.

It never reads /etc/resolv.conf: every query goes to the (ip, port) it was given, from a
127.x source address, over UDP, then over TCP (``dns.asyncquery.tcp``) when the reply has TC=1.
We send single queries rather than use ``dns.asyncresolver.Resolver`` because the RFC 5321
rules (CNAME, implicit MX, null MX, ordering) live in the pure
:class:`lab.core.dns.MxResolution`; this module only carries its questions and answers:
NXDOMAIN/NOERROR/... as the server said, ``TIMEOUT`` when no reply comes, ``INVALID`` when a
reply cannot be used.

The UDP exchange is :class:`_UdpExchange` rather than ``dns.asyncquery.udp``: that function opens
a socket per query and rebuilds and re-parses every message, which cost a sixth of a relayed
message's time in bench/throughput. Here one resolution (an MX and its hosts' A queries) uses one
socket; a question's wire form is built by dnspython once and sent with a fresh id; a reply is
matched to its query by id and server address, and parsed by dnspython unless the same reply
bytes (after the id) to the same question were parsed before. Nothing is cached between
queries but that parse: every question still goes to the server and its answer is the one used.
"""
from __future__ import annotations

import asyncio
import secrets
from functools import cache
from typing import Iterable

from lab.adapters._lazy import lazy

dns_asyncquery = lazy("dns.asyncquery")
dns_exception = lazy("dns.exception")
dns_flags = lazy("dns.flags")
dns_message = lazy("dns.message")
dns_rcode = lazy("dns.rcode")
dns_rdatatype = lazy("dns.rdatatype")

from lab.adapters.dns_server import check_loopback
from lab.core import dns as core
from lab.core.errors import ConfigError

@cache
def _types() -> dict:
    return {getattr(dns_rdatatype, t): t for t in core.RTYPES}


def _name(name) -> str:
    text = name.to_text()
    return "." if text == "." else text.rstrip(".")


def to_records(response) -> tuple[core.Record, ...]:
    """The ANSWER section of a dnspython response as core records (unknown types are left out).

    Raises:
        ConfigError: A record the lab's model cannot hold (a bad name or value).
    """
    out: list[core.Record] = []
    for rrset in response.answer:
        rtype = _types().get(rrset.rdtype)
        if rtype is None:
            continue
        for rd in rrset:
            if rtype == "A":
                value: object = rd.address
            elif rtype == "MX":
                value = (rd.preference, _name(rd.exchange))
            elif rtype == "TXT":
                value = b"".join(rd.strings).decode("utf-8", "replace")
            elif rtype == "SOA":
                value = (_name(rd.mname), _name(rd.rname), rd.serial, rd.refresh, rd.retry, rd.expire, rd.minimum)
            else:
                value = _name(rd.target)
            out.append(core.Record(_name(rrset.name), rtype, value, rrset.ttl))
    return tuple(out)


_PARSED_MAX = 2048  # parsed replies remembered (distinct question/reply pairs; a bound, rarely reached)


class _UdpExchange(asyncio.DatagramProtocol):
    """One UDP socket of a resolution: each reply goes to the query waiting for its id."""

    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[int, asyncio.Future[bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr[:2] != self.server or len(data) < 12:
            return  # not from the server asked, or not a DNS message: ignored, as dnspython does
        waiter = self.waiting.pop(int.from_bytes(data[:2], "big"), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(data)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable: nobody serves DNS there
        for waiter in self.waiting.values():
            if not waiter.done():
                waiter.set_exception(exc)
        self.waiting.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.error_received(exc or ConnectionError("DNS socket closed"))

    async def ask(self, question: bytes) -> tuple[int, bytes]:
        """Send ``question`` (a query's wire form after its id) with a fresh id; its id and reply
        (the caller bounds the wait)."""
        assert self.transport is not None
        ident = secrets.randbelow(65536)
        while ident in self.waiting:
            ident = secrets.randbelow(65536)
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[ident] = waiter
        self.transport.sendto(ident.to_bytes(2, "big") + question, self.server)
        try:
            return ident, await waiter
        finally:
            self.waiting.pop(ident, None)


class LabResolver:
    """Asks the lab DNS server at ``server``:``port`` from ``source`` (all in 127.0.0.0/8).

    Args:
        server: The lab DNS server's address.
        port: Its port (UDP and TCP).
        source: The asking host's own loopback address, so the server sees who asks.
        timeout: Seconds to wait for one query (UDP and its TCP retry together).

    Raises:
        LabRuntimeError: ``server`` or ``source`` is outside 127.0.0.0/8.
    """

    def __init__(self, server: str, port: int, source: str = "127.0.0.1", timeout: float = 2.0) -> None:
        self.server = check_loopback(server)
        self.port = port
        self.source = check_loopback(source)
        self.timeout = timeout
        self._questions: dict[tuple[str, str], tuple[object, bytes]] = {}
        self._parsed: dict[tuple[bytes, bytes], tuple[str, tuple[core.Record, ...]]] = {}

    async def query(self, name: str, rtype: str,
                    exchange: _UdpExchange | None = None) -> tuple[str, tuple[core.Record, ...]]:
        """One question. Returns the rcode (``NOERROR``, ``NXDOMAIN``, ..., ``TIMEOUT``, ``INVALID``)
        and the ANSWER section as core records. ``exchange``: the UDP socket to ask on (else one
        is opened for this question)."""
        if exchange is None:
            async with self._socket() as exchange:
                return await self.query(name, rtype, exchange)
        if exchange.transport is None:  # the socket could not be opened
            return "TIMEOUT", ()
        key = (name, rtype)
        if key not in self._questions:
            if len(self._questions) >= _PARSED_MAX:
                self._questions.clear()
            message = dns_message.make_query(name + ".", rtype, use_edns=0, payload=1232)
            self._questions[key] = (message, message.to_wire()[2:])
        message, question = self._questions[key]
        try:
            async with asyncio.timeout(self.timeout):
                ident, reply = await exchange.ask(question)
                known = self._parsed.get((question, reply[2:]))
                if known is not None:
                    return known
                message.id = ident  # the query as sent, to check the reply against it
                response = dns_message.from_wire(reply)
                if not message.is_response(response):
                    return "INVALID", ()
                if response.flags & dns_flags.TC:  # too big for UDP: the same question over TCP
                    again = dns_message.make_query(name + ".", rtype, use_edns=0, payload=1232)
                    response = await dns_asyncquery.tcp(again, self.server, port=self.port, source=self.source)
                    return self._read(response)
                read = self._read(response)
                if len(self._parsed) >= _PARSED_MAX:
                    self._parsed.clear()
                self._parsed[(question, reply[2:])] = read
                return read
        except (TimeoutError, dns_exception.Timeout, OSError):
            return "TIMEOUT", ()
        except dns_exception.DNSException:
            return "INVALID", ()

    @staticmethod
    def _read(response) -> tuple[str, tuple[core.Record, ...]]:
        try:
            records = to_records(response)
        except ConfigError:
            return "INVALID", ()
        return dns_rcode.to_text(response.rcode()), records

    def _socket(self) -> "_Socket":
        return _Socket(self)

    async def run(self, resolution: core.MxResolution | core.HostResolution) -> core.MxResult:
        """Drive a sans-I/O resolution with real queries (on one UDP socket) until it has a result."""
        async with self._socket() as exchange:
            while (question := resolution.next_query()) is not None:
                rcode, records = await self.query(*question, exchange=exchange)
                resolution.feed(*question, rcode, records)
        assert resolution.result is not None
        return resolution.result

    async def resolve_mx(self, domain: str, local_hosts: Iterable[str] = ()) -> core.MxResult:
        """Where mail for ``domain`` goes (RFC 5321 §5.1), see :class:`lab.core.dns.MxResolution`."""
        return await self.run(core.MxResolution(domain, local_hosts))

    async def resolve_a(self, name: str) -> core.MxResult:
        """The addresses of a host (smart host), see :class:`lab.core.dns.HostResolution`."""
        return await self.run(core.HostResolution(name))


class _Socket:
    """``async with``: a UDP socket bound to the resolver's source address, closed on exit."""

    def __init__(self, resolver: LabResolver) -> None:
        self.resolver = resolver
        self.transport: asyncio.DatagramTransport | None = None

    async def __aenter__(self) -> _UdpExchange:
        """The socket's exchange; one without a transport when the socket cannot be opened
        (every question on it is then a ``TIMEOUT``, as dnspython's OSError was)."""
        r = self.resolver
        loop = asyncio.get_running_loop()
        try:
            self.transport, protocol = await loop.create_datagram_endpoint(
                lambda: _UdpExchange((r.server, r.port)), local_addr=(r.source, 0))
        except OSError:
            return _UdpExchange((r.server, r.port))
        return protocol

    async def __aexit__(self, *exc: object) -> None:
        if self.transport is not None:
            self.transport.close()
