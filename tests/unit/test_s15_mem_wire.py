"""The in-memory wire's shortcuts give what the general path gives: a body already in LF or CRLF
form is normalised as the three replacements would, and a reply whose lines come as a list is read
as the tuple of them."""
from __future__ import annotations

from types import SimpleNamespace

import itertools
import random

import pytest

from lab.core.exchange.session import Output
from lab.memory import wire
from tests.unit.wire_support import ScriptedSession as _Session

_CLOCK = SimpleNamespace(_now_dt=None)  # (what a wire reads of its lab: the lab time)


def _general(data: bytes) -> bytes:
    text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    return text if text.endswith(b"\r\n") else text + b"\r\n"


def _bodies():
    yield from (b"", b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n", b"a\r\nb\n", b"a\rb\r\n", b"a\nb", b"a\r\nb\r\n")
    for n in range(1, 6):  # every body of up to 5 of these characters
        for chars in itertools.product((b"a", b"\r", b"\n"), repeat=n):
            yield b"".join(chars)
    rng = random.Random(15)
    for _ in range(300):
        yield bytes(rng.choice(b"ab\r\n.") for _ in range(rng.randrange(0, 60)))


@pytest.mark.parametrize("data", list(_bodies()))
def test_normalise_body_is_the_general_path(data):
    assert wire.normalise_body(data) == _general(data)
    assert wire.normalise_body(bytearray(data)) == _general(data)


@pytest.mark.parametrize("lines", [("250-a", "250 SIZE 9"), ("421 4.7.0 bye",), ("xyz",), ()])
def test_lines_in_a_list_read_as_a_tuple(lines):
    seen = []
    for kind in (tuple, list):
        transcript: list[str] = []
        w = wire.Wire(_Session(Output(kind(("220 hi",))), Output(kind(lines))), _CLOCK, transcript)
        banner = w.open()
        try:
            reply = w.command("EHLO me")
        except wire.Disconnected as exc:
            reply = str(exc)
        seen.append((banner, reply, transcript, w.closed, w.keywords))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("lines", [("250-mx.example Hello [1.2.3.4]", "250-SIZE 36700160", "250-STARTTLS", "250 AUTH LOGIN"),
                                   ("250 only",), ("250-a", "250-", "250 X-EXPS=LOGIN"), ("250-a b", "250 8BITMIME"), ()])
def test_keywords_per_lines_are_those_of_the_reply(lines):
    assert wire._KEYWORDS[lines] == wire.ehlo_keywords(wire.parse_reply(lines))
    w = wire.Wire(_Session(Output(("220 hi",)), Output(tuple(lines) if lines else ("250 ok",))), _CLOCK)
    w.open()
    reply = w.command("EHLO me")
    assert w.keywords == wire.ehlo_keywords(reply)
