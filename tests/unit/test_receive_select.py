"""Connector selection with each address parsed once is the selection over the model's own
``Binding.matches`` / ``IPRange.contains`` (the straightforward code, kept here as the reference)."""
from __future__ import annotations

import random

from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import ReceiveConnector


def _reference(connectors, local_ip: str, local_port: int, remote_ip: str) -> rv.Decision:
    candidates = []
    for conn in connectors:
        if not conn.enabled:
            continue
        bindings = [b for b in conn.bindings if b.matches(local_ip, local_port)]
        ranges = [r for r in conn.remote_ip_ranges if r.contains(remote_ip)]
        if bindings and ranges:
            specific_binding = 0 if any(not b.is_any for b in bindings) else 1
            candidates.append((min(r.size for r in ranges), specific_binding, conn.name.lower(), conn))
    rule = "fidelity §3.4: most specific RemoteIPRanges match"
    if not candidates:
        return rv.Decision(False, None, rule, (f"no enabled connector binds {local_ip}:{local_port} for {remote_ip}",),
                           disconnect=True)
    candidates.sort(key=lambda c: c[:3])
    chosen = candidates[0][3]
    reasons = tuple(f"{c[3].name}: {c[0]} address(es) match {remote_ip}" for c in candidates)
    return rv.Decision(True, None, rule, reasons + (f"selected {chosen.name}",), value=chosen)


_BINDINGS = ["0.0.0.0:25", "0.0.0.0:587", "10.0.0.1:25", "10.0.0.2:25", "[::]:25", "[fe80::1]:25",
             "[::1]:587", "10.0.0.1:2525", "[fe80::1%eth0]:25"]
_RANGES = ["0.0.0.0-255.255.255.255", "10.0.0.0/8", "10.0.0.0/24", "192.168.1.75", "192.168.1.0-192.168.1.255",
           "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/64", "::1", "192.168.0.0/16"]
_ADDRESSES = ["10.0.0.1", "10.0.0.2", "10.0.0.9", "192.168.1.75", "192.168.1.76", "8.8.8.8", "::1", "fe80::1",
              "fe80::1%eth0", "fe80::2", "0.0.0.0", "::"]


def _world(rng: random.Random) -> list[ReceiveConnector]:
    out = []
    for i in range(rng.randint(1, 6)):
        mapping = {"Name": f"C{rng.randint(0, 3)}x{i}", "Server": "S",
                   "Bindings": rng.sample(_BINDINGS, rng.randint(1, 3)),
                   "RemoteIPRanges": rng.sample(_RANGES, rng.randint(1, 3))}
        if rng.random() < 0.2:
            mapping["Enabled"] = "$false"
        out.append(ReceiveConnector.from_mapping(mapping, f"c{i}"))
    return out


def test_selection_is_the_reference_selection_on_random_connectors():
    rng = random.Random(7)
    for _ in range(400):
        conns = tuple(_world(rng))
        for _ in range(6):
            local, remote = rng.choice(_ADDRESSES), rng.choice(_ADDRESSES)
            port = rng.choice((25, 587, 2525))
            got = rv._select(conns, local, port, remote)
            want = _reference(conns, local, port, remote)
            assert (got, got.value, got.disconnect) == (want, want.value, want.disconnect)
            assert select_again(conns, local, port, remote) == want


def select_again(conns, local, port, remote):
    return rv.select_receive_connector(list(conns), local, port, remote)


def _outcome(select, *args):
    try:
        return select(*args)
    except ValueError as exc:
        return ("raised", str(exc))


def test_an_invalid_address_raises_where_the_reference_raises():
    rng = random.Random(3)
    raised = 0
    for _ in range(200):
        conns = tuple(_world(rng))
        port = rng.choice((25, 587))
        for local, remote in (("not-an-ip", "10.0.0.1"), ("10.0.0.1", "not-an-ip"), ("10.0.0.1", "10.0.0.2")):
            want = _outcome(_reference, conns, local, port, remote)
            for _ in range(2):  # each time (a failed parse is not remembered)
                assert _outcome(rv._select, conns, local, port, remote) == want
            raised += isinstance(want, tuple)
    assert raised > 50
