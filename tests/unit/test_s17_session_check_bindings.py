"""connectors._check_bindings keys a binding on its address and port and the ranges on their numbers, not
on their texts: it refuses the same lists with the same error as the reference below (the text keys of
stop 16), over random lists of connectors that share servers, bindings and ranges."""
from __future__ import annotations

import random
from typing import Sequence

from lab.core.catalogue import cmdlets as M
from lab.core.errors import ConfigError, Place
from lab.core.exchange.connectors import RULE_NOT_UNIQUE, ReceiveConnector, _check_bindings
from lab.core.exchange.model import Binding, IPRange


def reference_check(connectors: Sequence[ReceiveConnector], path: str) -> None:
    seen: dict[tuple[str, str, frozenset[str]], str] = {}
    for conn in connectors:
        if not conn.enabled:
            continue
        ranges = frozenset([f"{r.version}:{r.first}-{r.last}" for r in conn.remote_ip_ranges])
        for binding in conn.bindings:
            key = (conn.server.lower(), str(binding), ranges)
            if key in seen:
                raise ConfigError(M.RECEIVE_CONNECTOR_SAME_BINDING.format(
                    first=seen[key], second=conn.name, binding=binding), Place(path=path),
                    code=RULE_NOT_UNIQUE)
            seen[key] = conn.name


_BINDINGS = [Binding("0.0.0.0", 25), Binding("0.0.0.0", 587), Binding("192.168.0.10", 25), Binding("::", 25),
             Binding("2001:db8::10", 25), Binding("192.168.0.1", 2525), Binding("192.168.0.12", 525)]
_RANGES = [IPRange("0.0.0.0-255.255.255.255", 4, 0, 2 ** 32 - 1), IPRange("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
           6, 0, 2 ** 128 - 1), IPRange("10.0.0.1", 4, 167772161, 167772161),
           IPRange("10.0.0.0/24", 4, 167772160, 167772415), IPRange("10.0.0.0-10.0.0.255", 4, 167772160, 167772415)]


def _outcome(check, conns: list[ReceiveConnector]) -> tuple:
    try:
        check(conns, "ReceiveConnector")
        return ("ok",)
    except ConfigError as e:
        return ("refused", e.message, e.place, e.code, str(e))


def test_check_bindings_matches_the_reference() -> None:
    rnd = random.Random(17)
    refused = 0
    for _ in range(2000):
        conns = [ReceiveConnector(name=f"C{i}", server=rnd.choice(["EX01", "ex01", "EX02"]),
                                  bindings=tuple(rnd.sample(_BINDINGS, rnd.randint(1, 2))),
                                  remote_ip_ranges=tuple(rnd.sample(_RANGES, rnd.randint(1, 2))),
                                  enabled=rnd.random() > 0.2)
                 for i in range(rnd.randint(1, 5))]
        want = _outcome(reference_check, conns)
        assert _outcome(_check_bindings, conns) == want
        refused += want[0] == "refused"
    assert 100 < refused < 1900  # both answers are tried
