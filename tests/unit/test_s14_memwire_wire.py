"""Wire.command tells what a reply does by its code: 250 to an EHLO sets the keywords (any other 250
does not), 421 closes, a reply whose lines carry no code is still a reply, and only no lines at
all is a disconnection."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab.core.exchange.session import Output
from lab.memory import wire
from tests.unit.wire_support import ScriptedSession as _Session

_CLOCK = SimpleNamespace(_now_dt=None)  # (what a wire reads of its lab: the lab time)


def _wire(*outputs, transcript=None):
    w = wire.Wire(_Session(Output(("220 hi",)), *outputs), _CLOCK, transcript)
    w.open()
    return w


@pytest.mark.parametrize("transcript", [None, []])
def test_codes(transcript):
    w = _wire(Output(("250-x", "250 STARTTLS")), Output(("250-y", "250 SIZE 1")), Output(("xyz hello",)),
              Output(("250 ok",)), Output(("421 4.7.0 bye",)), transcript=transcript)
    assert w.command("ehlo me").code == 250 and w.keywords == {"starttls"}
    assert w.command("MAIL FROM:<a@b>").code == 250 and w.keywords == {"starttls"}  # not an EHLO
    reply = w.command("NOOP")
    assert reply.code == 0 and reply.lines == ("xyz hello",) and not w.closed
    assert w.command("EHLO again").code == 250 and w.keywords == frozenset()
    assert w.command("RSET").code == 421 and w.closed
    with pytest.raises(wire.Disconnected, match="closed the connection"):
        w.command("NOOP")
    if transcript is not None:
        assert transcript == ["S: 220 hi", "C: ehlo me", "S: 250-x", "S: 250 STARTTLS", "C: MAIL FROM:<a@b>",
                              "S: 250-y", "S: 250 SIZE 1", "C: NOOP", "S: xyz hello", "C: EHLO again", "S: 250 ok",
                              "C: RSET", "S: 421 4.7.0 bye"]


@pytest.mark.parametrize("close", [False, True])
def test_no_lines_is_a_disconnection(close):
    transcript: list[str] = []
    w = _wire(Output((), close=close), transcript=transcript)
    with pytest.raises(wire.Disconnected, match="without a reply"):
        w.command("NOOP")
    assert transcript == ["S: 220 hi", "C: NOOP"] and w.closed is close
