"""current_fields is the field-by-field comprehension, and Set-/Remove-ReceiveConnector's _index is
tuple.index (equal connectors before the one asked for included)."""
from __future__ import annotations

import random
from dataclasses import fields
from functools import cached_property

import pytest

from lab.console.cmdlets.exchange_connectors import _index
from lab.core.exchange.connectors import ReceiveConnector, current_fields, default_receive_connectors, with_changes
from lab.core.exchange.model import ExchangeServer
from lab.core.fastpath import evolve


def _connectors():
    out = []
    for version in (2010, 2016):
        server = ExchangeServer("EX01", "ex01.contoso.com", version, "15.1.2507.37")
        for conn in default_receive_connectors(server):
            out += [conn, evolve(conn, max_message_size=1234), with_changes(conn, enabled=False),
                    ReceiveConnector(name=conn.name, server="EX02")]
    return out


class _Cached(ReceiveConnector):
    @cached_property
    def extra(self) -> int:
        return 1


def test_current_fields_is_the_comprehension() -> None:
    conns = _connectors()
    odd = _Cached(name="Odd", server="EX01")
    _ = odd.extra  # (its __dict__ now holds more than the fields)
    for conn in conns + [odd]:
        want = {f.name: getattr(conn, f.name) for f in fields(conn)}
        got = current_fields(conn)
        assert got == want and list(got) == list(want)
        assert all(got[k] is want[k] for k in want)


@pytest.mark.parametrize("seed", range(5))
def test_index_is_tuple_index(seed: int) -> None:
    rng = random.Random(seed)
    pool = _connectors()
    for _ in range(200):
        conns = tuple(rng.choice(pool) for _ in range(rng.randrange(1, 8)))
        old = rng.choice(conns)
        twin = evolve(old)  # equal, not the same object
        conns = tuple(twin if rng.random() < 0.3 and c is old and i < len(conns) - 1 else c
                      for i, c in enumerate(conns)) + (old,)
        assert _index(conns, old) == conns.index(old)
        assert _index(conns, twin) == conns.index(twin)
