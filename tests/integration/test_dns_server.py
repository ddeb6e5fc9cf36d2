"""The lab DNS server on real loopback sockets, queried with dnspython, raw sockets and dig."""
from __future__ import annotations

import asyncio
import shutil
import socket
import struct
from contextlib import asynccontextmanager

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.adapters.dns_client import LabResolver
from lab.adapters.dns_server import DnsServer, start_dns_server
from lab.core.dns import Record, Zone, ZoneSet, resolve_mx
from lab.core.errors import LabRuntimeError

pytestmark = pytest.mark.live

BIG_TXT = "v=DKIM1; k=rsa; p=" + "A" * 1500   # beyond 512 and beyond dig's EDNS 1232
MID_TXT = "v=DKIM1; k=rsa; p=" + "B" * 700    # beyond 512, within 1232


def zones() -> ZoneSet:
    return ZoneSet((
        Zone("xutonglin.com", (
            Record("xutonglin.com", "MX", (10, "mail.xutonglin.com")),
            Record("mail.xutonglin.com", "A", "127.0.10.1"),
            Record("www.xutonglin.com", "CNAME", "mail.xutonglin.com"),
            Record("big.xutonglin.com", "TXT", BIG_TXT),
            Record("mid.xutonglin.com", "TXT", MID_TXT),
        )),
        Zone("implicit.test", (Record("implicit.test", "A", "127.0.30.1"),)),
        Zone("nullmx.test", (Record("nullmx.test", "MX", (0, ".")),)),
    ))


@asynccontextmanager
async def serving(zs: ZoneSet | None = None):
    server = await start_dns_server(zs or zones(), "127.0.0.1", 0)
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def ask(port: int, name: str, rtype: str, tcp: bool = False, **make) -> dns.message.Message:
    query = dns.message.make_query(name, rtype, **make)
    how = dns.query.tcp if tcp else dns.query.udp
    return await asyncio.to_thread(how, query, "127.0.0.1", timeout=5, port=port)


# ---- dnspython ---------------------------------------------------------------------------------

def test_flags_answers_and_negative_answers():
    async def go():
        async with serving() as server:
            mx = await ask(server.port, "xutonglin.com", "MX", flags=dns.flags.RD | dns.flags.AD)
            assert mx.flags & dns.flags.QR and mx.flags & dns.flags.AA and mx.flags & dns.flags.RD
            assert not mx.flags & dns.flags.AD and not mx.flags & dns.flags.RA
            assert mx.answer[0].to_text() == "xutonglin.com. 3600 IN MX 10 mail.xutonglin.com."
            norecurse = await ask(server.port, "xutonglin.com", "MX", flags=0)
            assert not norecurse.flags & dns.flags.RD
            nx = await ask(server.port, "nope.xutonglin.com", "A")
            assert nx.rcode() == dns.rcode.NXDOMAIN and nx.answer == []
            assert nx.authority[0].to_text().startswith("xutonglin.com. 300 IN SOA ns1.xutonglin.com. "
                                                         "hostmaster.xutonglin.com. 1 3600 600 86400 300")
            nodata = await ask(server.port, "mail.xutonglin.com", "MX")
            assert nodata.rcode() == dns.rcode.NOERROR and nodata.answer == [] and len(nodata.authority) == 1
            cname = await ask(server.port, "www.xutonglin.com", "A")
            assert [r.to_text() for r in cname.answer] == ["www.xutonglin.com. 3600 IN CNAME mail.xutonglin.com.",
                                                           "mail.xutonglin.com. 3600 IN A 127.0.10.1"]
            refused = await ask(server.port, "example.org", "A")
            assert refused.rcode() == dns.rcode.REFUSED and not refused.flags & dns.flags.AA
            stats = server.statistics()
            assert stats["udp"] == 6 and stats["rcode.NXDOMAIN"] == 1 and stats["rcode.REFUSED"] == 1
    run(go())


def test_udp_truncation_keeps_the_question_and_tcp_gives_everything():
    async def go():
        async with serving() as server:
            plain = await ask(server.port, "mid.xutonglin.com", "TXT")              # no EDNS: 512
            assert plain.flags & dns.flags.TC and plain.answer == []
            assert plain.question[0].to_text() == "mid.xutonglin.com. IN TXT"
            edns = await ask(server.port, "mid.xutonglin.com", "TXT", use_edns=0, payload=1232)
            assert not edns.flags & dns.flags.TC and edns.answer and edns.payload == 4096
            big = await ask(server.port, "big.xutonglin.com", "TXT", use_edns=0, payload=1232)
            assert big.flags & dns.flags.TC and big.answer == []
            full = await ask(server.port, "big.xutonglin.com", "TXT", tcp=True)
            assert b"".join(full.answer[0][0].strings).decode() == BIG_TXT
            assert server.statistics()["truncated"] == 2
    run(go())


def test_tcp_serves_several_queries_per_connection():
    async def go():
        async with serving() as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            for qid, name in ((1, "xutonglin.com"), (2, "implicit.test")):
                wire = dns.message.make_query(name, "MX", id=qid).to_wire()
                writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            replies = []
            for _ in range(2):
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                replies.append(dns.message.from_wire(await reader.readexactly(size)))
            writer.close()
            assert [r.id for r in replies] == [1, 2]
            assert replies[0].answer[0][0].preference == 10 and replies[1].answer == []
    run(go())


def test_malformed_packets_get_formerr_or_are_dropped():
    async def go():
        async with serving() as server:
            loop = asyncio.get_running_loop()
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.bind(("127.0.0.1", 0))
            await loop.sock_sendto(sock, b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xff", ("127.0.0.1", server.port))
            reply = await asyncio.wait_for(loop.sock_recv(sock, 512), 5)
            assert reply[:2] == b"\xab\xcd" and reply[3] & 0x0F == dns.rcode.FORMERR and reply[2] & 0x80
            await loop.sock_sendto(sock, b"\x01\x02\x03", ("127.0.0.1", server.port))   # no header: dropped
            await asyncio.sleep(0.05)
            good = dns.message.make_query("xutonglin.com", "MX", id=77).to_wire()
            await loop.sock_sendto(sock, good, ("127.0.0.1", server.port))
            after = dns.message.from_wire(await asyncio.wait_for(loop.sock_recv(sock, 512), 5))
            sock.close()
            assert after.id == 77 and after.answer
            assert server.statistics()["dropped"] == 1
    run(go())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80) | st.builds(lambda q, tail: q[:12 + tail] if tail >= 0 else q,
                                          st.just(dns.message.make_query("xutonglin.com", "MX", id=9).to_wire()),
                                          st.integers(-1, 20)))
def test_any_bytes_get_a_reply_or_are_dropped_never_a_crash(data):
    out = DnsServer(zones(), "127.0.0.1").answer_wire(data, "udp")
    if out is not None:
        assert out[:2] == data[:2] and out[2] & 0x80  # same id, QR set


def test_zones_can_be_replaced_while_running():
    async def go():
        async with serving() as server:
            assert (await ask(server.port, "new.xutonglin.com", "A")).rcode() == dns.rcode.NXDOMAIN
            server.zones = server.zones.with_record(Record("new.xutonglin.com", "A", "127.0.10.7"))
            answer = await ask(server.port, "new.xutonglin.com", "A")
            assert answer.answer[0][0].address == "127.0.10.7"
    run(go())


def test_binding_rules():
    async def go():
        with pytest.raises(LabRuntimeError, match="192.0.2.1 is outside 127.0.0.0/8"):
            await start_dns_server(zones(), "192.0.2.1", 0)
        with pytest.raises(LabRuntimeError, match="'localhost' is not an IP address"):
            await start_dns_server(zones(), "localhost", 0)
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            taken = socket.socket(socket.AF_INET, kind)
            taken.bind(("127.0.0.1", 0))
            if kind == socket.SOCK_STREAM:
                taken.listen()
            port = taken.getsockname()[1]
            try:
                with pytest.raises(LabRuntimeError, match=f"127.0.0.1:{port}: the port is already in use"):
                    await start_dns_server(zones(), "127.0.0.1", port)
            finally:
                taken.close()
    run(go())


# ---- the lab resolver (dns_client) -----------------------------------------------------------

def test_lab_resolver_gives_the_same_results_as_the_in_memory_driver():
    async def go():
        async with serving() as server:
            resolver = LabResolver("127.0.0.1", server.port, source="127.0.0.2")
            for domain in ("xutonglin.com", "implicit.test", "nullmx.test", "nope.xutonglin.com", "www.xutonglin.com"):
                assert await resolver.resolve_mx(domain) == resolve_mx(server.zones, domain)
            host = await resolver.resolve_a("www.xutonglin.com")
            assert host.addresses == ("127.0.10.1",)
            rcode, records = await resolver.query("big.xutonglin.com", "TXT")   # TC, then TCP
            assert rcode == "NOERROR" and records[0].value == BIG_TXT
            assert server.statistics()["tcp"] == 1
    run(go())


def test_lab_resolver_timeout_and_source_address():
    async def go():
        loop = asyncio.get_running_loop()
        seen: list[tuple[str, int]] = []

        class Silent(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                seen.append(addr)

        transport, _ = await loop.create_datagram_endpoint(Silent, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        try:
            resolver = LabResolver("127.0.0.1", port, source="127.0.0.3", timeout=0.3)
            result = await resolver.resolve_mx("xutonglin.com")
        finally:
            transport.close()
        assert result.error == "Timeout" and result.steps[0] == "MX xutonglin.com -> no reply (timeout)"
        assert seen and seen[0][0] == "127.0.0.3"
    run(go())


def test_lab_resolver_sees_every_zone_change_and_the_server_counts_every_query():
    """The resolver remembers parsed replies and the server its packed replies, never answers:
    a record added or removed between two identical questions changes the next answer."""
    async def go():
        async with serving() as server:
            resolver = LabResolver("127.0.0.1", server.port, source="127.0.0.2")
            assert await resolver.query("new.xutonglin.com", "A") == ("NXDOMAIN", ())
            assert await resolver.query("new.xutonglin.com", "A") == ("NXDOMAIN", ())
            server.zones = server.zones.with_record(Record("new.xutonglin.com", "A", "127.0.10.7"))
            rcode, records = await resolver.query("new.xutonglin.com", "A")
            assert rcode == "NOERROR" and [r.value for r in records] == ["127.0.10.7"]
            server.zones = server.zones.without_record("new.xutonglin.com", "A")
            assert await resolver.query("new.xutonglin.com", "A") == ("NXDOMAIN", ())
            for _ in range(3):
                assert (await resolver.resolve_mx("xutonglin.com")).addresses == ("127.0.10.1",)
            stats = server.statistics()
            assert stats["udp"] == 4 + 3 * 2
            assert stats["rcode.NXDOMAIN"] == 3 and stats["rcode.NOERROR"] == 1 + 3 * 2
    run(go())


def test_lab_resolver_ignores_replies_from_elsewhere_or_with_another_id():
    """A reply with the wrong id, or from another address, is not taken for the answer."""
    async def go():
        loop = asyncio.get_running_loop()
        real = await start_dns_server(zones(), "127.0.0.1", 0)

        class Liar(asyncio.DatagramProtocol):
            """Answers each query twice from the wrong places first, then forwards it to the real server."""

            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                wrong_id = bytes([data[0] ^ 0xFF, data[1]]) + real.answer_wire(
                    dns.message.make_query("implicit.test.", "MX").to_wire(), "udp")[2:]
                self.transport.sendto(wrong_id, addr)
                elsewhere.sendto(data[:2] + wrong_id[2:], addr)
                self.transport.sendto(real.answer_wire(data, "udp"), addr)

        liar, _ = await loop.create_datagram_endpoint(Liar, local_addr=("127.0.0.1", 0))
        elsewhere, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.4", 0))
        try:
            resolver = LabResolver("127.0.0.1", liar.get_extra_info("sockname")[1], source="127.0.0.2")
            result = await resolver.resolve_mx("xutonglin.com")
            assert result.addresses == ("127.0.10.1",)
        finally:
            liar.close()
            elsewhere.close()
            real.close()
            await real.wait_closed()
    run(go())


def test_lab_resolver_refuses_non_loopback():
    with pytest.raises(LabRuntimeError, match="10.0.0.1 is outside 127.0.0.0/8"):
        LabResolver("10.0.0.1", 53)
    with pytest.raises(LabRuntimeError, match="192.168.1.5 is outside 127.0.0.0/8"):
        LabResolver("127.0.0.1", 53, source="192.168.1.5")


# ---- dig -----------------------------------------------------------------------------------------

async def dig(port: int, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "dig", "@127.0.0.1", "-p", str(port), "+time=3", "+tries=1", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return out.decode()


needs_dig = pytest.mark.skipif(shutil.which("dig") is None, reason="dig is not installed")


@needs_dig
def test_dig_mx_is_authoritative_without_ad():
    async def go():
        async with serving() as server:
            out = await dig(server.port, "MX", "xutonglin.com")
            assert ";; flags: qr aa rd;" in out and " ad" not in out.split(";; flags:")[1].split(";")[0]
            assert "status: NOERROR" in out
            assert "xutonglin.com.\t\t3600\tIN\tMX\t10 mail.xutonglin.com." in out
    run(go())


@needs_dig
def test_dig_missing_name_is_nxdomain_with_soa():
    async def go():
        async with serving() as server:
            out = await dig(server.port, "A", "nope.xutonglin.com")
            assert "status: NXDOMAIN" in out and ";; AUTHORITY SECTION:" in out
            authority = out.split(";; AUTHORITY SECTION:")[1]
            assert "xutonglin.com.\t\t300\tIN\tSOA\tns1.xutonglin.com. hostmaster.xutonglin.com. 1 3600 600 86400 300" \
                in authority
    run(go())


@needs_dig
def test_dig_long_txt_is_truncated_then_retried_over_tcp():
    async def go():
        async with serving() as server:
            out = await dig(server.port, "TXT", "big.xutonglin.com")
            assert ";; Truncated, retrying in TCP mode." in out
            assert "(TCP)" in out and "A" * 200 in out
            kept = await dig(server.port, "TXT", "mid.xutonglin.com", "+noedns", "+ignore")
            assert ";; flags: qr aa tc rd;" in kept and "ANSWER: 0" in kept and "QUERY: 1" in kept
            assert server.statistics()["truncated"] == 2
    run(go())
