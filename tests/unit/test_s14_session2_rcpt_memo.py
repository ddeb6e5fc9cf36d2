"""ExchangePolicy.rcpt_to (remembered per connector, organization and the values it reads) against
receive.rcpt_verdict computed afresh."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.model import ExchangeServer, Organization
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.session import SessionContext

ORG = Organization.from_mapping({
    "Name": "office26", "AcceptedDomains": ["office26.com", {"DomainName": "relay.example", "DomainType":
                                                             "ExternalRelay"}],
    "Mailboxes": [{"Name": "Administrator", "PrimarySmtpAddress": "administrator@office26.com", "Password": "pw"}],
    "Servers": [{"Name": "MAIL1", "Fqdn": "mail1.fabrikam.com", "Version": 2016}]}, "org")
STRICT = dataclasses.replace(ORG, recipient_validation_enabled=True)
MAIL1 = ORG.servers[0]
EX2010 = ExchangeServer("EX2010", "mail.xutonglin.com", 2010, "14.3.123.4")
CONNECTORS = default_receive_connectors(MAIL1)
SMALL = dataclasses.replace(CONNECTORS[0], max_recipients_per_message=2)
USER = rv.Principal("user", ORG.mailboxes[0])
RECIPIENTS = ["administrator@office26.com", "nobody@office26.com", "x@relay.example", "xxxx@test.com",
              "ADMINISTRATOR@OFFICE26.COM", "odd"]


@pytest.mark.parametrize("org", [ORG, STRICT])
@pytest.mark.parametrize("server", [MAIL1, EX2010])
@pytest.mark.parametrize("connector", [*CONNECTORS, SMALL], ids=lambda c: c.name + str(c.max_recipients_per_message))
def test_rcpt_to_is_rcpt_verdict(org, server, connector):
    policy = ExchangePolicy(connector, server, org)
    for principal in (rv.ANONYMOUS, USER, rv.Principal("server", server_fqdn="mail1.fabrikam.com")):
        for so_far in range(4):
            ctx = SessionContext("192.168.0.3", "192.168.0.10", 25, datetime(2024, 1, 1, tzinfo=timezone.utc),
                                 principal=principal, recipients=tuple(f"r{i}@office26.com" for i in range(so_far)))
            rights = policy.rights(ctx)
            for recipient in RECIPIENTS:
                want = rv.rcpt_verdict(connector, rights, org=org, version=server.version, recipient=recipient,
                                       accepted_so_far=so_far)
                for _ in range(2):  # computed, then remembered
                    got = policy.rcpt_to(ctx, recipient, {})
                    assert got == want
                    assert (got.reasons, got.disconnect, got.value) == (want.reasons, want.disconnect, want.value)
