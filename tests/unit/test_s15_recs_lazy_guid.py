"""The memory lab's receive-session GUIDs are worked out when read: the same text the eager call gave."""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timezone

from lab.core.eop import policy as P
from lab.memory import network as N


def test_switchboard_guid_reads_as_the_uuid5_of_its_counter():
    guids = itertools.count(1)
    got = [N._guid(guids) for _ in range(5)]
    want = [str(uuid.uuid5(N._NS, str(n))) for n in range(1, 6)]
    assert [str(g) for g in got] == want
    assert [f"{g}" for g in got] == want
    assert [f"<{g}@mail1.contoso.com>" for g in got] == [f"<{w}@mail1.contoso.com>" for w in want]
    assert [format(g, ">40") for g in got] == [format(w, ">40") for w in want]
    assert str(got[0]) == str(got[0])  # every read, the same text
    assert next(guids) == 6  # the counter is taken when the GUID is asked for, read or not


def test_eop_guid_reads_as_the_lower_case_ticks_id_taken_when_asked():
    now = datetime(2024, 3, 5, 10, 20, 30, 123456, tzinfo=timezone.utc)
    seq = itertools.count()
    got = [N.LazyText(N._ticks_guid, now, next(seq)) for _ in range(3)]
    assert [f"<{g}@x>" for g in got] == [f"<{P.ticks_id(now, n).lower()}@x>" for n in range(3)]
    assert str(got[2]) == P.ticks_id(now, 2).lower() and next(seq) == 3


def _accept(new_guid, content: bytes):
    from tests.unit.test_exchange_session import ORG, SERVER, MemorySink
    from lab.core.exchange.connectors import default_receive_connectors
    from lab.core.exchange.policy import ExchangePolicy
    from lab.core.exchange.receive import select_receive_connector
    from lab.core.exchange.session import ReceiveSession
    selection = select_receive_connector(default_receive_connectors(SERVER), "192.168.0.10", 25, "192.168.0.3")
    sink = MemorySink()
    s = ReceiveSession(ExchangePolicy(selection.value, SERVER, ORG, cert_available=True), sink,
                       client_ip="192.168.0.3", local_ip="192.168.0.10", local_port=25,
                       now=datetime(2016, 8, 5, 16, 24, 41, tzinfo=timezone.utc), new_guid=new_guid,
                       selection=selection)
    s.connect()
    for line in ("EHLO erp.office26.com", "MAIL FROM:<erp@office26.com>", "RCPT TO:<administrator@office26.com>",
                 "DATA"):
        s.receive_line(line)
    done = s.data_received(content)
    return done.lines, sink.messages[0]


def test_a_message_without_message_id_gets_the_text_the_eager_guid_gave():
    content = b"Subject: test\r\n\r\nhello\r\n"
    lazy_lines, lazy = _accept(lambda: N._guid(itertools.count(7)), content)
    eager_lines, eager = _accept(lambda: str(uuid.uuid5(N._NS, "7")), content)
    assert lazy_lines == eager_lines and lazy.message_id == eager.message_id and lazy.content == eager.content
    assert type(lazy.message_id) is str and str(uuid.uuid5(N._NS, "7")) in lazy.message_id
