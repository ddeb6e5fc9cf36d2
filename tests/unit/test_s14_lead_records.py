"""The transport builds its tracking events and queued messages with their constructors' positions:
each field gets the value named for it (a position out of order would swap two fields)."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace as NS

from lab.core.exchange import queue as Q
from lab.core.exchange.queue_records import QueuedMessage, TrackingEvent
from lab.core.trace import Trace


def test_tracking_event_fields_by_name():
    record = QueuedMessage(7, "<m@x>", "a@x", ("b@y",), b"Subject: hello\r\n\r\nbody\r\n", 1.0)
    got = Q._tracking_event(5.0, "DEFER", "SMTP", "EX01", record, ("b@y",), ("451 4.4.0 x",), "Internet", "ref",
                            None, 0)
    want = TrackingEvent(timestamp=5.0, event_id="DEFER", source="SMTP", server="EX01", internal_id=7,
                         message_id="<m@x>", sender="a@x", recipients=("b@y",), recipient_status=("451 4.4.0 x",),
                         connector_id="Internet", subject="hello", total_bytes=len(record.data), reference="ref",
                         trace=Trace("<m@x>"))
    assert got == want
    assert list(got.__dict__) == [f.name for f in dataclasses.fields(TrackingEvent)]


class _Msg:
    mail_from, rcpt_tos, data = "a@x", ["b@y"], b"Message-ID: <m@x>\r\nSubject: s\r\n\r\nbody\r\n"
    source, source_ip, connector = "SMTP", "192.0.2.1", "Default Frontend EX01"


def test_submitted_record_fields_by_name():
    org = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative"}], mailboxes=[])
    transport = Q.Transport(NS(name="ex01", fqdn="ex01.contoso.com"), org, [])
    transport.submit(_Msg(), 3.0)
    (record,) = transport._messages.values()
    assert record == QueuedMessage(internal_id=record.internal_id, message_id="<m@x>", mail_from="a@x",
                                   recipients=("b@y",), data=_Msg.data, received_at=3.0, source="SMTP",
                                   source_ip="192.0.2.1", connector="Default Frontend EX01")
    assert list(record.__dict__) == [f.name for f in dataclasses.fields(QueuedMessage)]
