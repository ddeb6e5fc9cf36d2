"""Stop 14 (session): EHLO resets the transaction only when there is one, and says what a reset
at every EHLO says (a session that always resets, run beside it on random command scripts)."""
from __future__ import annotations

import random

from lab.core.exchange import session as sn
from lab.core.exchange.headers import TlsFacts
from tests.unit.test_exchange_session import GUID, NOW, MemorySink, session


class AlwaysResets(sn.ReceiveSession):
    """The plain rule: every valid EHLO/HELO resets the transaction first."""

    def _cmd_EHLO(self, arg: str, extended: bool = True) -> sn.Output:
        if arg and " " not in arg and sn._valid_domain(arg):
            self._reset_transaction()
        return super()._cmd_EHLO(arg, extended)


def _twin(s: sn.ReceiveSession) -> AlwaysResets:
    twin = AlwaysResets(s.policy, MemorySink(), client_ip=s.ctx.client_ip, local_ip=s.ctx.local_ip,
                        local_port=s.ctx.local_port, now=NOW, new_guid=lambda: GUID, selection=s._selection[0])
    twin.connect()
    return twin


def _state(s: sn.ReceiveSession) -> tuple:
    c = s.ctx
    return (s.state, s.errors, c.helo, c.tls, c.principal, c.mail_from, c.recipients, c.mail_options,
            list(s._chunks), list(s._decisions), s._bdat_last, s._bdat_error, s.transcript)


LINES = ["EHLO client.example.com", "HELO client.example.com", "EHLO", "EHLO bad name", "MAIL FROM:<a@office26.com>",
         "MAIL FROM:<x@fabrikam.com> SIZE=10 BODY=8BITMIME", "RCPT TO:<administrator@office26.com>",
         "MAIL FROM:<x@fabrikam.com> SIZE=999999999999", "RCPT TO:<b@fabrikam.com>", "RSET", "NOOP", "DATA", "BDAT 5",
         "BDAT 3 LAST", "STARTTLS"]


def _run(one: sn.ReceiveSession, two: sn.ReceiveSession, name: str, *args: object) -> None:
    out_one, out_two = getattr(one, name)(*args), getattr(two, name)(*args)
    assert out_one.lines == out_two.lines and out_one.close == out_two.close
    assert _state(one) == _state(two)


def test_ehlo_after_a_refused_mail_and_after_starttls_resets_as_always():
    for script in (["EHLO a.example", "MAIL FROM:<x@fabrikam.com> SIZE=999999999999", "EHLO a.example"],
                   ["EHLO a.example", "MAIL FROM:<x@fabrikam.com> SIZE=10 BODY=8BITMIME", "STARTTLS", None,
                    "EHLO a.example"],
                   ["EHLO a.example", "BDAT 5", b"12345", "EHLO a.example"]):
        one = session(sink=MemorySink())
        two = _twin(one)
        for step in script:
            if step is None:
                _run(one, two, "tls_established", TlsFacts())
            elif isinstance(step, bytes):
                _run(one, two, "chunk_received", step)
            else:
                _run(one, two, "receive_line", step)
        assert len(one._decisions) == 1 and one.ctx.mail_options == ()


def test_ehlo_without_a_transaction_leaves_what_a_reset_would_leave():
    rng = random.Random(1414)
    for _ in range(1000):
        one = session(sink=MemorySink())
        two = _twin(one)
        for _ in range(rng.randrange(1, 20)):
            if one.state == "closed":
                break
            if one.state == "tls":
                events = [("tls_established", (TlsFacts(),))]
            elif one.state == "data":
                events = [("data_received", (b"Subject: x\r\n\r\nbody\r\n",))]
            elif one.state == "chunk":
                events = [("chunk_received", (b"12345",))]
            else:
                events = [("receive_line", (rng.choice(LINES),))]
            name, args = events[0]
            out_one, out_two = getattr(one, name)(*args), getattr(two, name)(*args)
            assert out_one.lines == out_two.lines and out_one.close == out_two.close
            assert _state(one) == _state(two)
