"""routing.next_hop writes its reasons when they are first read (Decision.later, from the notes its
walk took): the same decision (result, reasons, rule) as the eager reference below (the code before,
kept here as the reference); select_send_connector the same decision as before, for every order."""
from __future__ import annotations

import copy
import dataclasses
import itertools

import pytest

from lab.core.catalogue import exchange_queue as C
from lab.core.exchange import routing as R
from lab.core.exchange.routing import Decision, Directory, NextHop
from lab.core.exchange.send_connector import SendConnector
from lab.core.fastpath import evolve


def _reference_select(connectors, recipient_domain, source_server, message_size=0):
    domain = recipient_domain.lower().rstrip(".")
    reasons, candidates = [], []
    for conn in connectors:
        if not conn.enabled:
            reasons.append(f"{conn.name}: disabled")
        elif not conn.serves(source_server):
            reasons.append(f"{conn.name}: {source_server} is not a source transport server")
        elif message_size > conn.max_message_size:
            reasons.append(f"{conn.name}: message of {message_size} bytes exceeds MaxMessageSize {conn.max_message_size}")
        else:
            spaces = [s for s in conn.address_spaces if s.matches(domain)]
            if not spaces:
                reasons.append(f"{conn.name}: no address space covers {domain}")
                continue
            best = max(spaces, key=lambda s: (s.specificity, -s.cost))
            candidates.append((-best.specificity, best.cost, conn.name.lower(), conn, best))
    if not candidates:
        reasons.append(f"no send connector matches {domain}: recipient is unreachable")
        return Decision(None, tuple(reasons), "fidelity §3.4")
    candidates.sort(key=lambda c: c[:3])
    _, _, _, chosen, space = candidates[0]
    others = ", ".join(f"{c[3].name} ({c[4]})" for c in candidates[1:])
    reasons.append(f"{chosen.name} selected for {domain}: address space {space}"
                   + (f" beats {others} (specificity, cost, name)" if others else ""))
    return Decision(chosen, tuple(reasons), "fidelity §3.4")


def _reference_next_hop(directory, connectors, recipient, source_server, message_size=0):
    address = recipient.lower()
    domain = address.rpartition("@")[2]
    if address in directory.mailboxes:
        database = directory.mailboxes[address]
        return Decision(NextHop(R.TO_MAILBOX, database, None, recipient),
                        (f"{address} is a mailbox in {database}: deliver to the mailbox",), "fidelity §2.2")
    reasons = []
    if address in directory.remote_mailboxes:
        target = directory.remote_mailboxes[address]
        reasons.append(f"{address} is a remote mailbox: route to its RemoteRoutingAddress {target}")
        address, domain = target, target.rpartition("@")[2]
    else:
        kind = directory.domain_type(domain)
        if kind == "Authoritative":
            reply = C.S550_5_1_1_RECIPIENT_NOT_FOUND
            return Decision(NextHop(R.UNREACHABLE, domain, None, recipient, failure=reply),
                            (f"{domain} is Authoritative and has no recipient {address}",), "fidelity §3.6")
        if kind:
            reasons.append(f"{domain} is an accepted {kind} domain: route through a send connector")
    chosen = _reference_select(connectors, domain, source_server, message_size)
    reasons.extend(chosen.reasons)
    conn = chosen.result
    if conn is None:
        return Decision(NextHop(R.UNREACHABLE, str(C.UNREACHABLE_DOMAIN), None, address), tuple(reasons), "fidelity §3.4")
    hop_domain = domain if conn.dns_routing_enabled else ",".join(conn.smart_hosts)
    return Decision(NextHop(conn.delivery_type, hop_domain, conn.name, address), tuple(reasons), "fidelity §3.4")


def conn(name, spaces, **kw):
    return SendConnector.from_mapping({"Name": name, "AddressSpaces": spaces, **kw})


DIRECTORY = Directory.build(
    [{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": True},
     {"DomainName": "relay.contoso.com", "DomainType": "InternalRelay"},
     {"DomainName": "*.ext.contoso.com", "DomainType": "ExternalRelay"}],
    [{"PrimarySmtpAddress": "alice@contoso.com", "Database": "DB01"}],
    [{"PrimarySmtpAddress": "user02@contoso.com", "RemoteRoutingAddress": "user02@contoso.mail.onmicrosoft.com"}])
CONNECTORS = [
    conn("Internet", "*"), conn("Cheap", "*;1"), conn("Dear", "*.com;50"), conn("Off", "*", Enabled=False),
    conn("Other", "*", SourceTransportServers="EX02"), conn("Small", "*", MaxMessageSize="1 KB"),
    conn("Fab", "fabrikam.com;5"), conn("Wild", "*.contoso.com;3"),
    conn("Smart", "*", DNSRoutingEnabled=False, SmartHosts="relay1.contoso.com,[10.0.0.5]"),
    conn("Multi", "SMTP:*.contoso.com;3, contoso.com;2, *;1, x.org;4, *.org;4"), conn("MULTI", "*.com;1, *.org;1"),
]
RECIPIENTS = ["Alice@contoso.com", "ghost@contoso.com", "x@relay.contoso.com", "user02@contoso.com",
              "b@fabrikam.com", "c@a.ext.contoso.com", "d@x.org", "E@Sub.Contoso.COM."]


@pytest.mark.parametrize("recipient", RECIPIENTS)
@pytest.mark.parametrize("size", [0, 5000])
def test_next_hop_is_the_eager_decision(recipient, size):
    for k in range(0, 4):
        for connectors in itertools.combinations(CONNECTORS, k):
            want = _reference_next_hop(DIRECTORY, list(connectors), recipient, "EX01", size)
            got = R.next_hop(DIRECTORY, list(connectors), recipient, "EX01", size)
            assert "reasons" not in got.__dict__  # (not written yet)
            assert got.result == want.result and got.rule == want.rule
            assert got.reasons == want.reasons and got.reasons
            assert got.__dict__ == {"result": want.result, "rule": want.rule, "reasons": want.reasons}
            assert got == want and hash(got) == hash(want) and repr(got) == repr(want)


@pytest.mark.parametrize("size", [0, 5000])
def test_select_send_connector_is_the_eager_decision(size):
    for k in range(0, 4):
        for connectors in itertools.permutations(CONNECTORS, k):
            for domain in ("fabrikam.com", "x.contoso.com", "x.org."):
                want = _reference_select(list(connectors), domain, "ex01", size)
                got = R.select_send_connector(list(connectors), domain, "ex01", size)
                assert got == want and got.reasons == want.reasons


def test_a_later_decision_reads_as_an_eager_one_everywhere():
    want = _reference_next_hop(DIRECTORY, CONNECTORS[:3], "d@x.org", "EX01")
    for read in (lambda d: d, repr, hash, lambda d: d.steps(5.0, "250 ok"), dataclasses.astuple,
                 lambda d: dataclasses.replace(d, rule="r"), lambda d: evolve(d, rule="r"), copy.copy, copy.deepcopy):
        got = R.next_hop(DIRECTORY, CONNECTORS[:3], "d@x.org", "EX01")
        assert read(got) == read(want)
        assert got.reasons == want.reasons
    got = R.next_hop(DIRECTORY, CONNECTORS[:3], "d@x.org", "EX01")
    assert evolve(got, result=None).reasons == want.reasons  # (copied before written: the same recipe)


def test_the_connectors_are_kept_as_they_were():
    connectors = list(CONNECTORS[:2])
    got = R.next_hop(DIRECTORY, connectors, "d@x.org", "EX01")
    connectors.reverse()  # (the caller's list changes after the decision: its reasons do not)
    assert got.reasons == _reference_next_hop(DIRECTORY, CONNECTORS[:2], "d@x.org", "EX01").reasons
    assert Decision.reasons.__get__(None, Decision) is Decision.__dict__["reasons"]


@pytest.mark.parametrize("sources", [(), ("ex01",), ("EX02", "Ex01"), ("ex02",), ("İx", "ex01"), ("straße",)])
@pytest.mark.parametrize("server", ["EX01", "ex01", "EX02", "ex03", "STRASSE", "straße", "İX"])
def test_serves_is_the_generator_walk(sources, server):
    c = SendConnector("c", CONNECTORS[0].address_spaces, source_transport_servers=sources)
    assert c.serves(server) == (not sources or server.lower() in (s.lower() for s in sources))
