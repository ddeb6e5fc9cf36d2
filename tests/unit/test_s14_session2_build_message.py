"""ExchangePolicy.build_message builds the AcceptedMessage through its positional __init__: every field
the dataclass constructor given every field by keyword gives."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.model import Organization
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.session import AcceptedMessage, SessionContext

ORG = Organization.from_mapping({
    "Name": "office26", "AcceptedDomains": ["office26.com"],
    "Mailboxes": [{"Name": "Administrator", "PrimarySmtpAddress": "administrator@office26.com", "Password": "pw"}],
    "Servers": [{"Name": "MAIL1", "Fqdn": "mail1.office26.com", "Version": 2016}]}, "org")


def test_every_field_as_the_keyword_constructor_gives_it():
    connector = default_receive_connectors(ORG.servers[0])[0]
    policy = ExchangePolicy(connector, ORG.servers[0], ORG)
    tls = TlsFacts(version="TLSv1.2", cipher="ECDHE-RSA-AES256-GCM-SHA384")
    ctx = SessionContext("192.0.2.1", "192.0.2.2", 2525, datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                         helo="client.example", tls=tls, mail_from="a@example.com",
                         recipients=("x@office26.com", "y@office26.com"), mail_options=("BODY=8BITMIME",))
    decisions = (rv.Decision(True, None, "r", ("why",)),)
    got = policy.build_message(ctx, b"Subject: s\r\n\r\nbody\r\n", "guid", decisions)
    assert type(got) is AcceptedMessage
    want = AcceptedMessage(**{f.name: getattr(got, f.name) for f in dataclasses.fields(AcceptedMessage)})
    assert got == want and got.__dict__ == want.__dict__
    assert (got.mail_from, got.rcpt_tos, got.client_ip, got.client_helo, got.local_ip, got.local_port) == (
        "a@example.com", ("x@office26.com", "y@office26.com"), "192.0.2.1", "client.example", "192.0.2.2", 2525)
    assert (got.receiver, got.connector, got.principal, got.tls, got.received_at) == (
        "MAIL1", connector.name, rv.ANONYMOUS, tls, ctx.now)
    assert (got.mail_options, got.decisions) == (("BODY=8BITMIME",), decisions)
    assert got.message_id == "<guid@" + policy.fqdn + ">" and got.content.endswith(b"\r\n\r\nbody\r\n")
    assert list(got.__dict__) == [f.name for f in dataclasses.fields(AcceptedMessage)]
