"""The lab's public DNS server: UDP and TCP on one loopback (ip, port), on the running asyncio loop.

dnslib only parses and packs the wire format; every answer comes from
:meth:`lab.core.dns.ZoneSet.answer`. ``server.zones`` may be replaced at any time (the console
adds and removes records); the next query sees the new zones, with no locks since everything
runs on one loop.

Header flags: QR=1, AA for in-zone answers, RA=0, AD=0 always, RD echoed, the query's id and
opcode kept. A UDP reply larger than 512 bytes (or the EDNS0 size the client advertised, at
most 4096) goes out with TC=1, the question kept and no records, so the client retries over
TCP. TCP serves several queries per connection. A query dnslib cannot parse gets FORMERR
when its header can be read, and is dropped otherwise.

Replies are remembered per query: the same bytes after the id (flags, question, EDNS0 option)
against the same ``zones`` object get the same reply bytes after the id, so a repeated question
skips dnslib's parse and pack. ``ZoneSet`` is immutable and replaced on every change, and the
memory is dropped when ``server.zones`` is another object; every query still reaches the
server and is counted.
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import struct
from collections import Counter

from dnslib import CNAME, MX, NS, PTR, QTYPE, RCODE, RR, SOA, TXT, A, DNSHeader, DNSRecord, EDNS0

from lab.core import dns
from lab.core.errors import LabRuntimeError

_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
_OPT = 41
_CLASS_IN = 1
_OPCODE_QUERY = 0
_REMEMBERED = 4096  # replies kept per zone set (the lab's names are few; a bound all the same)


def check_loopback(host: str) -> str:
    """Return ``host`` if it is an IPv4 address inside 127.0.0.0/8.

    Raises:
        LabRuntimeError: Anything else (a name, IPv6, a non-loopback address).
    """
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise LabRuntimeError(f"{host!r} is not an IP address; the lab only uses 127.x.y.z addresses") from None
    if ip.version != 4 or ip not in _LOOPBACK:
        raise LabRuntimeError(f"{host} is outside 127.0.0.0/8; the lab never uses other addresses")
    return str(ip)


def _label(name: str) -> str:
    return name + "." if name else "."


def to_rr(rec: dns.Record) -> RR:
    """A core record as a dnslib resource record."""
    v = rec.value
    if rec.rtype == "A":
        rdata = A(v)
    elif rec.rtype == "MX":
        rdata = MX(_label(v[1]), v[0])
    elif rec.rtype == "TXT":
        raw = v.encode("utf-8")
        rdata = TXT([raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""])
    elif rec.rtype == "SOA":
        rdata = SOA(_label(v.mname), _label(v.rname), (v.serial, v.refresh, v.retry, v.expire, v.minimum))
    else:
        rdata = {"CNAME": CNAME, "PTR": PTR, "NS": NS}[rec.rtype](_label(v))
    return RR(_label(rec.name), getattr(QTYPE, rec.rtype), ttl=rec.ttl, rdata=rdata)


def _header_only(data: bytes, rcode: int) -> bytes | None:
    """A bare reply (no sections) to a query whose header is readable, else None."""
    if len(data) < 12:
        return None
    ident, flags = struct.unpack("!HH", data[:4])
    if flags & 0x8000:  # a response, not a query: never answer it
        return None
    flags = 0x8000 | (flags & 0x7800) | (flags & 0x0100) | rcode  # QR, opcode, RD, rcode
    return struct.pack("!HHHHHH", ident, flags, 0, 0, 0, 0)


class DnsServer:
    """A running lab DNS server. Create it with :func:`start_dns_server`."""

    def __init__(self, zones: dns.ZoneSet, host: str) -> None:
        self.zones = zones
        self.host = host
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.base_events.Server | None = None
        self._clients: set[asyncio.Task] = set()
        self._stats: Counter[str] = Counter()
        # (transport, query bytes after the id) -> (reply bytes after the id, counters it added),
        # valid for the zone set in _remembered_for only (see the module docstring).
        self._remembered: dict[tuple[str, bytes], tuple[bytes, tuple[str, ...]]] = {}
        self._remembered_for: dns.ZoneSet | None = None

    def statistics(self) -> dict[str, int]:
        """Query counters: ``udp``, ``tcp``, ``truncated``, ``dropped`` and one ``rcode.<NAME>`` per rcode."""
        return dict(self._stats)

    def answer_wire(self, data: bytes, transport: str) -> bytes | None:
        """The wire reply to one wire query (``transport`` is ``"udp"`` or ``"tcp"``); None = drop."""
        self._stats[transport] += 1
        if self._remembered_for is not self.zones:
            self._remembered, self._remembered_for = {}, self.zones
        key = (transport, data[2:])
        known = self._remembered.get(key)
        if known is not None and len(data) >= 12:
            tail, counted = known
            for name in counted:
                self._stats[name] += 1
            return data[:2] + tail
        before = self._stats.copy()
        out = self._answer_wire(data, transport)
        if out is not None and len(data) >= 12 and len(self._remembered) < _REMEMBERED:
            counted = tuple(name for name, n in (self._stats - before).items() for _ in range(n))
            self._remembered[key] = (bytes(out[2:]), counted)
        return out

    def _answer_wire(self, data: bytes, transport: str) -> bytes | None:
        try:
            request = DNSRecord.parse(data)
        except Exception:  # dnslib raises several error types for bad packets
            return self._bare(data, RCODE.FORMERR)
        if request.header.qr:
            self._stats["dropped"] += 1
            return None
        if request.header.opcode != _OPCODE_QUERY:
            return self._bare(data, RCODE.NOTIMP)
        if len(request.questions) != 1:
            return self._bare(data, RCODE.FORMERR)
        options = [rr for rr in request.ar if rr.rtype == _OPT]
        advertised = options[0].rclass if options else None
        reply = self._reply(request, options)
        out = reply.pack()
        if transport == "udp" and dns.must_truncate(len(out), advertised):
            # Not reply.truncate(): it drops the question, and dnspython then ignores the reply.
            short = DNSRecord(reply.header, q=request.q)
            short.header.tc = 1
            if options:
                short.add_ar(EDNS0(udp_len=dns.DNS_UDP_MAX))
            out = short.pack()
            self._stats["truncated"] += 1
        return out

    def _bare(self, data: bytes, rcode: int) -> bytes | None:
        out = _header_only(data, rcode)
        self._stats[f"rcode.{RCODE.get(rcode)}" if out else "dropped"] += 1
        return out

    def _reply(self, request: DNSRecord, options: list[RR]) -> DNSRecord:
        q = request.q
        header = DNSHeader(id=request.header.id, qr=1, rd=request.header.rd, ra=0, ad=0, aa=0)
        reply = DNSRecord(header, q=q)
        if q.qclass != _CLASS_IN:
            header.rcode = RCODE.REFUSED
        else:
            result = self.zones.answer(str(q.qname), QTYPE.get(q.qtype, f"TYPE{q.qtype}"))
            header.rcode = getattr(RCODE, result.rcode)
            header.aa = int(result.authoritative)
            for rec in result.answer:
                reply.add_answer(to_rr(rec))
            for rec in result.authority:
                reply.add_auth(to_rr(rec))
        if options:
            reply.add_ar(EDNS0(udp_len=dns.DNS_UDP_MAX))
        self._stats[f"rcode.{RCODE.get(header.rcode)}"] += 1
        return reply

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        try:
            while True:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                out = self.answer_wire(await reader.readexactly(size), "tcp")
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            if task is not None:
                self._clients.discard(task)

    def close(self) -> None:
        """Stop listening on UDP and TCP and end open TCP connections."""
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for task in list(self._clients):
            task.cancel()

    async def wait_closed(self) -> None:
        """Wait until both listeners and every TCP connection are closed."""
        if self._udp is not None:
            protocol = self._udp.get_protocol()
            if isinstance(protocol, _Udp):
                await protocol.closed
        if self._tcp is not None:
            await self._tcp.wait_closed()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)

    async def __aenter__(self) -> "DnsServer":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:  # the socket is closed now
        if not self.closed.done():
            self.closed.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        out = self.server.answer_wire(data, "udp")
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable for a past reply
        self.server._stats["udp_errors"] += 1


async def start_dns_server(zones: dns.ZoneSet, host: str = "127.0.0.1", port: int = 0) -> DnsServer:
    """Start serving ``zones`` over UDP and TCP on ``host:port`` (port 0: a free port for both).

    Raises:
        LabRuntimeError: ``host`` is not in 127.0.0.0/8, or the port is in use (named as ip:port).
    """
    server = DnsServer(zones, check_loopback(host))
    loop = asyncio.get_running_loop()
    for _attempt in range(10 if port == 0 else 1):
        try:
            udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(server), local_addr=(server.host, port))
        except OSError as exc:
            raise _bind_error(server.host, port, exc) from None
        chosen = udp.get_extra_info("sockname")[1]
        try:
            server._tcp = await asyncio.start_server(server._serve_tcp, server.host, chosen, reuse_address=True)
        except OSError as exc:
            udp.close()
            if port == 0 and exc.errno == errno.EADDRINUSE:
                continue  # the free UDP port is taken for TCP: try another
            raise _bind_error(server.host, chosen, exc) from None
        server._udp, server.port = udp, chosen
        return server
    raise LabRuntimeError(f"no port on {server.host} is free for both UDP and TCP")


def _bind_error(host: str, port: int, exc: OSError) -> LabRuntimeError:
    if exc.errno == errno.EADDRINUSE:
        return LabRuntimeError(f"DNS cannot listen on {host}:{port}: the port is already in use")
    return LabRuntimeError(f"DNS cannot listen on {host}:{port}: {exc.strerror or exc}")
