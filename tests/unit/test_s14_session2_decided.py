"""A decision's Output written once and kept beside it (ReceiveSession._decided): the same answer
as made afresh."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from lab.core.catalogue import exchange as cat
from lab.core.exchange import receive as rv
from lab.core.exchange.session import Output, ReceiveSession


class _Policy:
    max_protocol_errors = 10


def _session() -> ReceiveSession:
    return ReceiveSession(_Policy(), None, client_ip="192.0.2.1", local_ip="192.0.2.2", local_port=25,
                          now=datetime(2024, 1, 1, tzinfo=timezone.utc), new_guid=lambda: "g")


DECISIONS = [
    rv.Decision(True, cat.S250_2_1_0_SENDER_OK, "r", ("a",)),
    rv.Decision(False, cat.S451_5_7_3_STARTTLS_REQUIRED, "r", ("b",), disconnect=True),
    rv.Decision(False, cat.S550_5_7_54_UNABLE_TO_RELAY_NON_ACCEPTED, "r", ("c", "d")),
    rv.Decision(True, cat.S214_HELP, "multi-line reply", ()),
]


@pytest.mark.parametrize("decision", DECISIONS, ids=lambda d: d.reply.line()[:12])
def test_decided_output_is_the_one_made_afresh(decision):
    fresh = dataclasses.replace(decision)  # an equal decision with nothing kept beside it
    want = Output(rv.reply_lines(fresh.reply), close=bool(fresh.disconnect), decision=fresh)
    outputs = []
    for _ in range(3):  # written, then kept; each session says and does the same
        session = _session()
        session.state = "command"
        out = session._decided(decision)
        outputs.append(out)
        assert out == want and out.decision is decision
        assert session.transcript == ["S: " + line for line in want.lines]
        assert session.state == ("closed" if decision.disconnect else "command")
    assert outputs[1] is outputs[0]
    assert decision == fresh and hash(decision) == hash(fresh) and repr(decision) == repr(fresh)
