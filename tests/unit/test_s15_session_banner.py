"""ExchangePolicy.banner keeps its last line per instant object: always receive.banner_line's answer."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.session import SessionContext
from tests.unit.test_exchange_session import ORG, SERVER


def test_banner_is_banner_line_at_every_instant():
    base = datetime(2016, 8, 5, 16, 24, 41, tzinfo=timezone(timedelta(hours=-7)))
    same_utc = base.astimezone(timezone.utc)  # equal instant, another zone: another text
    later = base + timedelta(seconds=1)
    naive = datetime(2016, 8, 5, 16, 24, 41)
    instants = [base, base, same_utc, base, later, later, naive, datetime(2016, 8, 5, 16, 24, 41), base]
    connectors = list(default_receive_connectors(SERVER))
    connectors.append(dataclasses.replace(connectors[0], banner="220 custom banner"))
    texts = set()
    for connector in connectors:
        policy = ExchangePolicy(connector, SERVER, ORG)
        for now in instants:
            ctx = SessionContext("203.0.113.5", "192.168.0.10", 25, now)
            got = policy.banner(ctx)
            want = connector.banner or rv._banner_line(connector, SERVER, now)  # written afresh
            assert got == want == rv.banner_line(connector, SERVER, now)
            texts.add(got)
    assert len(texts) > 3  # the zones and instants read differently
