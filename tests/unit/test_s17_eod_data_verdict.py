"""receive.data_verdict's acceptance is one frozen Decision for every message; its refusals still name the size
and the sender."""
from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import ReceiveConnector
from lab.core.exchange.model import Mailbox


def _connector(**kw) -> ReceiveConnector:
    return ReceiveConnector(name="Default", server="EX1", **kw)


def test_every_accepted_message_gets_the_same_decision_object():
    conn = _connector()
    got = [rv.data_verdict(conn, frozenset(), principal=rv.ANONYMOUS, sender=f"a{n}@x.example", octets=n)
           for n in range(1, 50)]  # (kept alive: ids of freed objects may be reused)
    one = rv.data_verdict(conn, frozenset(), principal=rv.ANONYMOUS, sender="a@x.example", octets=7)
    assert all(d is one for d in got)
    assert (one.accepted, one.reply, one.rule, one.disconnect) == (True, None, "fidelity §1.1: message accepted", False)


def test_refusals_still_name_the_size_and_the_sender():
    conn = _connector()
    big = rv.data_verdict(conn, frozenset(), principal=rv.ANONYMOUS, sender="a@x.example",
                          octets=conn.max_message_size + 1)
    assert not big.accepted and big.reasons == (
        f"{conn.max_message_size + 1} octets exceed MaxMessageSize {conn.max_message_size}",)
    user = rv.Principal("user", Mailbox("kim", "kim@x.example", ("kim@x.example",)))
    denied = rv.data_verdict(conn, frozenset(), principal=user, sender="boss@x.example", octets=10)
    assert not denied.accepted and "boss@x.example" in denied.reasons[0]
