"""Loops written out on the send path answer as the comprehensions they replace: multi-line replies,
the principal a handshake proves, a delivery's outcome with and without refused recipients."""
from __future__ import annotations

import dataclasses

import pytest

from lab.core.exchange import client_rules as rules
from lab.core.exchange import outcomes as O
from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.receive import ANONYMOUS, Principal
from lab.core.exchange.session import SessionContext
from tests.unit.test_exchange_session import NOW, ORG, SERVER

TARGET = O.Endpoint("mx.fabrikam.com", "203.0.113.25", 25)


@pytest.mark.parametrize("texts", [[], ["one"], ["one", "two"], ("a", "b", "c", "d"), ["", " ", "x y"]])
def test_multiline_marks_every_line_but_the_last_as_continued(texts):
    assert rv.multiline(250, texts) == tuple(
        f"250{'-' if i < len(texts) - 1 else ' '}{t}" for i, t in enumerate(texts))


def test_multiline_reads_as_exchange_writes_it():
    assert rv.multiline(250, ["mail1 Hello [1.2.3.4]", "SIZE", "8BITMIME"]) == (
        "250-mail1 Hello [1.2.3.4]", "250-SIZE", "250 8BITMIME")
    assert rv.multiline(451, ["only"]) == ("451 only",)


def _first_server_name(policy: ExchangePolicy, names) -> str | None:
    return next((n for n in names if n.lower() in {s.fqdn.lower() for s in policy.org.servers}), None)


@pytest.mark.parametrize("names", [(), ("x.example.com",), ("MAIL1.office26.com",), ("x.example.com", "mail1.office26.com"),
                                   ("mail1.office26.com", "x.example.com"), ("mail1.office26.com", "MAIL1.OFFICE26.COM")])
def test_a_handshake_proves_the_first_server_name_on_exchange_server_connectors(names):
    for connector in default_receive_connectors(SERVER):
        for mechanisms in (connector.auth_mechanism, ("Tls",), ("Tls", "ExchangeServer")):
            policy = ExchangePolicy(dataclasses.replace(connector, auth_mechanism=mechanisms), SERVER, ORG, True)
            for before in (ANONYMOUS, Principal("externally_secured")):
                ctx = SessionContext("192.168.0.3", "192.168.0.10", 25, NOW, principal=before)
                got = policy.principal_from_tls(ctx, TlsFacts(peer_names=names))
                named = _first_server_name(policy, names)
                if named is not None and "ExchangeServer" in mechanisms:
                    assert got == Principal("server", server_fqdn=named)
                else:
                    assert got is before


@pytest.mark.parametrize("refused", [[], (), [("a@x", 550, "5.1.1 unknown")], [("b@x", 452, "4.3.1 full")],
                                     [("a@x", 550, "5.1.1 unknown"), ("b@x", 452, "4.3.1 full")]])
def test_a_delivery_outcome_with_and_without_refusals(refused):
    outcome = rules.sent_outcome(TARGET, "250 2.6.0 queued ", refused)
    assert isinstance(outcome, O.Delivered) and outcome.endpoint == str(TARGET)
    assert outcome == O.Delivered("250 2.6.0 queued", str(TARGET),
                                  tuple((r, rules.refused_outcome(TARGET, c, t, "rcpt").reply)
                                        for r, c, t in refused if c >= 500),
                                  tuple((r, rules.refused_outcome(TARGET, c, t, "rcpt").last_error)
                                        for r, c, t in refused if c < 500))


def test_a_tenants_domains_hold_its_initial_domain_once():
    from lab.core.eop.model import AcceptedDomain
    from tests.unit.test_eop_core import tenant
    t = tenant()  # ixmsoft.com and ixmsoft.mail.onmicrosoft.com; initial: ixmsoft.onmicrosoft.com
    assert t.domains == (*t.accepted_domains, AcceptedDomain("ixmsoft.onmicrosoft.com", "Authoritative",
                                                             "ixmsoft.onmicrosoft.com"))
    listed = dataclasses.replace(t, accepted_domains=(*t.accepted_domains, AcceptedDomain(
        "ixmsoft.onmicrosoft.com", "Authoritative", "ixmsoft.onmicrosoft.com")))
    assert listed.domains is listed.accepted_domains
    first = dataclasses.replace(t, accepted_domains=(listed.accepted_domains[-1], *t.accepted_domains))
    assert first.domains is first.accepted_domains
