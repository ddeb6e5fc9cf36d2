"""receive._select reads each address once and sorts its candidates with their position instead of a key:
the same decision (chosen connector, reasons in order, errors) as stop 16's code below, on random
connectors whose names repeat in any case (so that candidates tie on range size, binding and name)."""
from __future__ import annotations

import random

import pytest

from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import ReceiveConnector
from lab.core.exchange.receive import Decision, _address


def reference_select(connectors, local_ip: str, local_port: int, remote_ip: str) -> Decision:
    candidates = []
    for conn in connectors:
        if not conn.enabled:
            continue
        specific = False
        matched = False
        for b in conn.bindings:
            if b.port != local_port:
                continue
            version, value, scope, unspecified = _address(b.ip)
            theirs = _address(local_ip)
            if (unspecified and version == theirs[0]) or (value == theirs[1] and version == theirs[0]
                                                          and scope == theirs[2]):
                matched = True
                specific = specific or not unspecified
        smallest = None
        ranges = conn.remote_ip_ranges
        if ranges:
            version, value = _address(remote_ip)[:2]
            for r in ranges:
                if r.version == version and r.first <= value <= r.last:
                    size = r.last - r.first + 1
                    if smallest is None or size < smallest:
                        smallest = size
        if matched and smallest is not None:
            candidates.append((smallest, 0 if specific else 1, conn.name.lower(), conn))
    rule = "fidelity §3.4: most specific RemoteIPRanges match"
    if not candidates:
        return Decision(False, None, rule, (f"no enabled connector binds {local_ip}:{local_port} for {remote_ip}",),
                        disconnect=True)
    candidates.sort(key=lambda c: c[:3])
    chosen = candidates[0][3]
    reasons = tuple(f"{c[3].name}: {c[0]} address(es) match {remote_ip}" for c in candidates)
    return Decision(True, None, rule, reasons + (f"selected {chosen.name}",), value=chosen)


_BINDINGS = ["0.0.0.0:25", "0.0.0.0:587", "10.0.0.1:25", "[::]:25", "[fe80::1]:25", "10.0.0.1:2525"]
_RANGES = ["0.0.0.0-255.255.255.255", "10.0.0.0/8", "10.0.0.0/24", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
           "fe80::/64"]
_ADDRESSES = ["10.0.0.1", "10.0.0.9", "8.8.8.8", "fe80::1", "::1", "not an address"]


def _outcome(select, conns, local: str, port: int, remote: str) -> tuple:
    try:
        d = select(conns, local, port, remote)
    except ValueError as e:
        return ("raised", str(e))
    return (d, d.reasons, d.value, d.disconnect)


def test_select_matches_the_reference_with_tied_candidates() -> None:
    rng = random.Random(17)
    ties = 0
    for _ in range(1200):
        conns = tuple(ReceiveConnector.from_mapping(
            {"Name": rng.choice(["Relay", "relay", "RELAY", "Other"]), "Server": "S",
             "Bindings": rng.sample(_BINDINGS, rng.randint(1, 2)),
             "RemoteIPRanges": rng.sample(_RANGES, rng.randint(1, 2))}, f"c{i}") for i in range(rng.randint(1, 6)))
        for _ in range(4):
            local, remote, port = rng.choice(_ADDRESSES), rng.choice(_ADDRESSES), rng.choice((25, 587, 2525))
            want = _outcome(reference_select, conns, local, port, remote)
            assert _outcome(rv._select, conns, local, port, remote) == want
            ties += want[0] != "raised" and len(want[1]) > 2 and len({r.split(":")[1] for r in want[1][:-1]}) == 1
    assert ties > 40  # candidates that tie on everything but their position were sorted


@pytest.mark.parametrize("local, remote", [("bad", "10.0.0.1"), ("10.0.0.1", "bad"), ("bad", "bad")])
def test_an_invalid_address_raises_as_the_reference(local: str, remote: str) -> None:
    conns = (ReceiveConnector.from_mapping({"Name": "A", "Server": "S", "Bindings": "0.0.0.0:25",
                                            "RemoteIPRanges": "10.0.0.0/8"}, "c"),)
    assert _outcome(rv._select, conns, local, 25, remote) == _outcome(reference_select, conns, local, 25, remote)
    assert _outcome(rv._select, conns, local, 587, remote) == _outcome(reference_select, conns, local, 587, remote)
