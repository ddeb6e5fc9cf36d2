"""The wires read a reply and its EHLO keywords through dict memos (:data:`lab.memory.wire._HEARD`,
:data:`~lab.memory.wire._KEYWORDS`): what they give is what parsing the lines afresh gives, the same
objects while remembered, and the memos stay bounded."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab.core.exchange.session import Output
from lab.memory import wire
from tests.unit.wire_support import ScriptedSession as _Session

_CLOCK = SimpleNamespace(_now_dt=None)  # (what a wire reads of its lab: the lab time)

LINES = [("250 2.0.0 OK",), ("250",), ("354 ",), ("xyz hello",), (), ("250-a", "250 b"),
         ("220-x", "220-", "220 y z"), ("2",), ("250-AUTH LOGIN",), ("421 4.7.0 bye",)]


def _fresh(lines):
    return wire.parse_reply.__wrapped__(lines), tuple(f"S: {line}" for line in lines)


@pytest.mark.parametrize("lines", LINES)
def test_heard_is_the_fresh_parse_and_kept(lines):
    wire._HEARD.clear()
    first = wire._HEARD[lines]
    assert first == _fresh(lines) and wire._HEARD[tuple(lines)] is first


def test_heard_stays_bounded_and_right():
    wire._HEARD.clear()
    for n in range(5000):
        lines = (f"250 2.0.0 n{n}",)
        assert wire._HEARD[lines] == _fresh(lines)
        assert len(wire._HEARD) <= 4096
    with pytest.raises(TypeError):
        wire._HEARD[["250 a list"]]  # (unhashable: the wire reads such lines as their tuple)


def test_a_wire_reads_tuple_and_list_lines_alike():
    transcript: list[str] = []
    w = wire.Wire(_Session(Output(["220 hi"]), Output(["250-x", "250 SIZE 5"]), Output(("250 ok",))),
                  _CLOCK, transcript)
    assert w.open() == _fresh(("220 hi",))[0]
    assert w.command("EHLO me") == _fresh(("250-x", "250 SIZE 5"))[0] and w.keywords == {"size"}
    assert w.command("NOOP") == _fresh(("250 ok",))[0]
    assert transcript == ["S: 220 hi", "C: EHLO me", "S: 250-x", "S: 250 SIZE 5", "C: NOOP", "S: 250 ok"]


@pytest.mark.parametrize("lines", LINES)
def test_ehlo_keywords_are_the_fresh_parse_and_kept(lines):
    wire._KEYWORDS.clear()
    first = wire._KEYWORDS[lines]
    assert first == wire.ehlo_keywords(wire.parse_reply.__wrapped__(lines)) and wire._KEYWORDS[lines] is first
    for n in range(5000):
        wire._KEYWORDS[(f"250-h{n}", f"250 X{n}")]
    assert len(wire._KEYWORDS) <= 4096 and wire._KEYWORDS[("250-h", "250 SIZE 7")] == {"size"}
