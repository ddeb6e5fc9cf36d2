"""The in-memory wire and raw conversation read the lab time from their lab (``_now_dt``) at each
event, with no clock call per line: every event reaches the session stamped with the lab time in
force when it happens, and a real lab's connections see its clock move."""
from __future__ import annotations

from types import SimpleNamespace

from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.session import Output
from lab.core.world import World
from lab.memory import MemoryLab
from lab.memory import probe as mprobe
from lab.memory.raw import RawConversation
from lab.memory.wire import TLS_CIPHER, TLS_VERSION, Wire

_TLS = TlsFacts(TLS_VERSION, TLS_CIPHER, (), None)


class _Session:
    """Records the time of each event; answers as a server reading STARTTLS, then a body."""

    def __init__(self):
        self.seen: list[tuple[str, object]] = []

    def connect(self, now):
        self.seen.append(("connect", now))
        return Output(("220 hi",))

    def receive_line(self, line, now=None):
        self.seen.append((line, now))
        if line == "STARTTLS":
            return Output(("220 go",), start_tls=True)
        if line == "DATA":
            return Output(("354 go",), read_data=True)
        return Output(("250 ok",))

    def tls_established(self, tls, now=None):
        self.seen.append(("tls", now))
        return Output()

    def data_received(self, body, octets=None, now=None):
        self.seen.append(("body", now))
        return Output(("250 queued",))


def _steps(talk, clock):
    expected = []
    for n, step in enumerate(["connect", "EHLO a", "STARTTLS", "tls", "DATA", "body"]):
        clock._now_dt = f"t{n}"
        talk(step)
        expected.append((step, f"t{n}"))
    return expected


def test_a_wire_stamps_each_event_with_the_lab_time_then():
    clock, session = SimpleNamespace(_now_dt=None), _Session()
    wire = Wire(session, clock, [])
    acts = {"connect": lambda: wire.open(), "tls": lambda: wire.start_tls(_TLS), "body": lambda: wire.body(b"x\n")}
    expected = _steps(lambda step: acts.get(step, lambda: wire.command(step))(), clock)
    assert session.seen == expected


def test_a_raw_conversation_stamps_each_event_with_the_lab_time_then():
    clock, session = SimpleNamespace(_now_dt="t0"), _Session()
    raw = RawConversation(session, clock, [])
    for n, line in enumerate(["EHLO a", "STARTTLS"], 1):
        clock._now_dt = f"t{n}"
        raw.send_line(line)
    clock._now_dt = "t3"
    raw.start_tls(_TLS)
    for n, line in enumerate(["DATA", "x", "."], 4):
        clock._now_dt = f"t{n}"
        raw.send_line(line)
    assert session.seen == [("connect", "t0"), ("EHLO a", "t1"), ("STARTTLS", "t2"), ("tls", "t3"), ("DATA", "t4"),
                            ("body", "t6")]


def test_a_labs_connections_see_its_clock_move(built):
    topology, trust = built
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
    ip = mprobe.addresses_of(lab, "mail.contoso.com")[0]
    conversation, _ = mprobe.open_raw(lab, "internet-client", ip, 25)
    session = conversation.session
    assert session.ctx.now == lab.now_datetime()
    lab.advance(3600)
    conversation.send_line("EHLO client.example")
    assert session.ctx.now == lab.now_datetime() != topology.settings.clock_start
