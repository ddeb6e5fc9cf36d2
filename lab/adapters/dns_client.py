"""The resolver the lab's MTAs use: dnspython, asking the lab's own DNS server and nothing else.

It never reads /etc/resolv.conf: every query goes to the (ip, port) it was given, from a
127.x source address, by ``dns_asyncquery.udp_with_fallback`` (UDP, then TCP when the reply
has TC=1). We send single queries rather than use ``dns.asyncresolver.Resolver`` because the
RFC 5321 rules (CNAME, implicit MX, null MX, ordering) live in the pure
:class:`lab.core.dns.MxResolution`; this module only carries its questions and answers:
NXDOMAIN/NOERROR/... as the server said, ``TIMEOUT`` when no reply comes, ``INVALID`` when a
reply cannot be used.
"""
from __future__ import annotations

from typing import Iterable

from functools import cache

from lab.adapters._lazy import lazy

dns_asyncquery = lazy("dns.asyncquery")
dns_exception = lazy("dns.exception")
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

    async def query(self, name: str, rtype: str) -> tuple[str, tuple[core.Record, ...]]:
        """One question. Returns the rcode (``NOERROR``, ``NXDOMAIN``, ..., ``TIMEOUT``, ``INVALID``)
        and the ANSWER section as core records."""
        message = dns_message.make_query(name + ".", rtype, use_edns=0, payload=1232)
        try:
            response, _used_tcp = await dns_asyncquery.udp_with_fallback(
                message, self.server, timeout=self.timeout, port=self.port, source=self.source)
        except (dns_exception.Timeout, OSError):
            return "TIMEOUT", ()
        except dns_exception.DNSException:
            return "INVALID", ()
        try:
            records = to_records(response)
        except ConfigError:
            return "INVALID", ()
        return dns_rcode.to_text(response.rcode()), records

    async def run(self, resolution: core.MxResolution | core.HostResolution) -> core.MxResult:
        """Drive a sans-I/O resolution with real queries until it has a result."""
        while (question := resolution.next_query()) is not None:
            rcode, records = await self.query(*question)
            resolution.feed(*question, rcode, records)
        assert resolution.result is not None
        return resolution.result

    async def resolve_mx(self, domain: str, local_hosts: Iterable[str] = ()) -> core.MxResult:
        """Where mail for ``domain`` goes (RFC 5321 §5.1), see :class:`lab.core.dns.MxResolution`."""
        return await self.run(core.MxResolution(domain, local_hosts))

    async def resolve_a(self, name: str) -> core.MxResult:
        """The addresses of a host (smart host), see :class:`lab.core.dns.HostResolution`."""
        return await self.run(core.HostResolution(name))
