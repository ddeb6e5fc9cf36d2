"""The send path's shortcuts answer as the plain code does: a server name is looked up in DNS
without first being tried as an IPv4 literal when it cannot be one, and a session that completes
STARTTLS asks the driver for nothing (one shared, empty Output)."""
from __future__ import annotations

import ipaddress

import pytest

from lab.core.exchange import session as sn
from lab.core.exchange.headers import TlsFacts
from lab.memory import probe


class _Zones:
    """A zone set stand-in: every host name resolves to one address made from it (and is recorded)."""

    def __init__(self):
        self.asked: list[str] = []


def _fake_resolve(zones: _Zones, name: str):
    zones.asked.append(name)

    class _Result:
        addresses = (f"192.0.2.{len(name) % 250}",)
    return _Result()


def _plain_addresses_of(zones, server: str) -> tuple[str, ...]:
    """probe._addresses_of as it was: every text tried as an IPv4 literal first."""
    text = server.strip().strip("[]")
    try:
        return (str(ipaddress.IPv4Address(text)),)
    except ValueError:
        return tuple(_fake_resolve(zones, text.rstrip(".")).addresses)


TEXTS = ["1.2.3.4", "[10.0.0.25]", " 192.168.1.10 ", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4.",
         "", ".", "...", "1..2.3", "mail.contoso.com", "mail.contoso.com.", "[mail]", "1.2.3.4/32",
         "\u0661.\u0662.\u0663.\u0664", "1.2.3.4 ", "0x1.2.3.4", "1.2.3.-4", "+1.2.3.4", "1.2.3.4\n"]


@pytest.mark.parametrize("text", TEXTS)
def test_a_server_name_reads_as_it_did(monkeypatch, text):
    monkeypatch.setattr(probe, "resolve_host", _fake_resolve)
    fast, plain = _Zones(), _Zones()
    assert probe._addresses_of(fast, text) == _plain_addresses_of(plain, text)
    assert fast.asked == plain.asked  # the same names looked up (none for a literal)


def test_literals_and_names_are_told_apart(monkeypatch):
    monkeypatch.setattr(probe, "resolve_host", _fake_resolve)
    zones = _Zones()
    assert probe._addresses_of(zones, "[198.51.100.7]") == ("198.51.100.7",) and not zones.asked
    probe._addresses_of(zones, "mx1.fabrikam.com.")
    assert zones.asked == ["mx1.fabrikam.com"]


def test_a_completed_handshake_asks_for_nothing_and_the_session_takes_its_facts():
    from tests.unit.test_exchange_session import MemorySink, session
    one, two = session(sink=MemorySink()), session(sink=MemorySink())
    for s in (one, two):
        s.receive_line("EHLO client.example")
        assert s.receive_line("STARTTLS").start_tls
    tls = TlsFacts(peer_names=("client.example",))
    out = one.tls_established(tls)
    assert out is two.tls_established(TlsFacts()) and out == sn.Output()
    assert one.ctx.tls is tls and one.ctx.helo is None and one.state == "command"
    assert one.transcript == two.transcript  # nothing said for the handshake
