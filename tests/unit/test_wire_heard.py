"""A reply heard on an in-memory wire: its parse and its transcript lines, remembered together, are
what reading and recording it afresh give."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab.memory import wire
from lab.core.exchange.session import Output
from tests.unit.wire_support import ScriptedSession as _Session

_CLOCK = SimpleNamespace(_now_dt=None)  # (what a wire reads of its lab: the lab time)


LINES = [("250 2.0.0 OK",), ("250",), ("354 ",), ("xyz hello",), (), ("250-a", "250 b"),
         ("220-x", "220-", "220 y z"), ("2",), ("250-AUTH LOGIN",), ("421 4.7.0 bye",)]


@pytest.mark.parametrize("lines", LINES)
def test_heard_is_the_parse_and_the_s_lines(lines):
    reply, shown = wire._HEARD[lines]
    assert reply == wire.parse_reply.__wrapped__(lines)
    assert shown == tuple(f"S: {line}" for line in lines) and isinstance(shown, tuple)
    assert wire._HEARD[tuple(lines)] == (reply, shown)


def test_a_wire_records_every_reply_line_in_order_and_closes_on_a_close():
    transcript: list[str] = []
    w = wire.Wire(_Session(Output(("220 hi",)), Output(("250-x", "250 SIZE 5")), Output(("250 ok",)),
                           Output(("221 bye",), close=True)), _CLOCK, transcript)
    assert w.open().code == 220
    assert w.command("EHLO me").message == "x\nSIZE 5" and w.keywords == {"size"}
    assert w.command("AUTH PLAIN secret", shown="AUTH PLAIN <credentials>").text == "250 ok"
    w.quit()
    assert transcript == ["S: 220 hi", "C: EHLO me", "S: 250-x", "S: 250 SIZE 5", "C: AUTH PLAIN <credentials>",
                          "S: 250 ok", "C: QUIT", "S: 221 bye"]
    assert w.closed


def test_a_silent_close_is_a_disconnection_recorded_as_nothing():
    transcript: list[str] = []
    w = wire.Wire(_Session(Output(("220 hi",)), Output((), close=True)), _CLOCK, transcript)
    w.open()
    with pytest.raises(wire.Disconnected):
        w.command("NOOP")
    assert transcript == ["S: 220 hi", "C: NOOP"] and w.closed


def test_body_and_start_tls_only_after_the_server_asks_for_them():
    # the wire keeps the server's last output: a body goes only after one that reads data, a
    # handshake only after one that starts TLS (an ordinary reply in between asks for neither)
    class _Tls(_Session):
        def tls_established(self, tls, now):
            return Output()

        def data_received(self, body, size, now):
            return self.outputs.pop(0)

    w = wire.Wire(_Tls(Output(("220 hi",)), Output(("250 ok",)), Output(("220 go",), start_tls=True),
                       Output(("250 ok",)), Output(("354 go",), read_data=True), Output(("250 queued",))),
                  _CLOCK, [])
    w.open()
    w.command("NOOP")
    with pytest.raises(wire.Disconnected, match="not reading"):
        w.body(b"x")
    with pytest.raises(wire.Disconnected, match="not negotiating"):
        w.start_tls(wire.TlsFacts(wire.TLS_VERSION, wire.TLS_CIPHER, (), None))
    w.command("STARTTLS")
    with pytest.raises(wire.Disconnected, match="not reading"):
        w.body(b"x")
    w.start_tls(wire.TlsFacts(wire.TLS_VERSION, wire.TLS_CIPHER, (), None))
    with pytest.raises(wire.Disconnected, match="not negotiating"):
        w.start_tls(wire.TlsFacts(wire.TLS_VERSION, wire.TLS_CIPHER, (), None))
    w.command("EHLO me")
    with pytest.raises(wire.Disconnected, match="not reading"):
        w.body(b"x")
    w.command("DATA")
    with pytest.raises(wire.Disconnected, match="not negotiating"):
        w.start_tls(wire.TlsFacts(wire.TLS_VERSION, wire.TLS_CIPHER, (), None))
    assert w.body(b"x").text == "250 queued"
