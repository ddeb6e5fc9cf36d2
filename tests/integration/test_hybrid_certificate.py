"""Article 000 in the running default lab: on-prem presents only its internal-CA certificate.

EX01's Default Frontend names the ex01-internal certificate (issuer CN=ixmsoft-DC01-CA): mail
from Exchange Online to on-prem waits in EOP's queue with ``450 4.4.317 Cannot connect to
remote server [Message=UntrustedRoot] ...`` and Validate-OutboundConnector fails the TLS step.
The article's workaround (the outbound connector's TlsSettings relaxed) makes validation pass
and the queued mail goes out at the next retry; with the public certificate back on the
connector, validation passes under DomainValidation again (fidelity §4.5, §8).
"""
from __future__ import annotations

import re

import pytest

from hybrid_support import FE_INTERNAL, advance, any_server, console, fresh_lab, mailbox, message, run, settle, smtp
from hybrid_support import SUBMISSION_IP

from lab.adapters.eop import validate_outbound_connector

pytestmark = pytest.mark.live

CONNECTOR = "Outbound to 6f2c4a91-hybrid"
INTERNAL = "<I>CN=ixmsoft-DC01-CA<S>CN=mail.ixmsoft.com"
PUBLIC = "<I>CN=CA 沃通免费ssl证书 G2, O=WoSign CA Limited, C=CN<S>CN=mail.ixmsoft.com"
UNTRUSTED = re.compile(
    r"^450 4\.4\.317 Cannot connect to remote server \[Message=UntrustedRoot\] "
    r"\[LastAttemptedServerName=mail\.ixmsoft\.com\] \[LastAttemptedIP=198\.51\.100\.30:25\] "
    r"\[SmtpSecurity=-1;-1\] \[" + re.escape(FE_INTERNAL) + r" 2026-11-23T\d\d:\d\d:\d\d\.\d{3}Z [0-9A-F]{16}\]$")


async def user02_sends(lab, subject: str) -> None:
    client = smtp(lab, "internet-client", "eop", SUBMISSION_IP, 587, helo="LAPTOP-02")
    await client.connect()
    try:
        await client.ehlo()
        await client.starttls(tls_context=any_server())
        await client.ehlo()
        await client.login("user02@ixmsoft.com", "P@ssw0rd")
        await client.sendmail("user02@ixmsoft.com", ["user01@ixmsoft.com"],
                              message("user02@ixmsoft.com", "user01@ixmsoft.com", subject))
    finally:
        client.close()
    await settle(lab)


async def validate(lab):
    eop = lab.eop["eop"]
    connector = next(c for c in lab.world.tenants["ixmsoft"].outbound_connectors if c.name == CONNECTOR)
    return await validate_outbound_connector(eop, connector, ("user01@ixmsoft.com",))


def test_internal_ca_certificate_then_workaround_then_public_certificate(tmp_path):
    async def scenario(lab):
        onprem, online = console(lab, "ex01"), console(lab, "ex01")
        run(lab, online, "Connect-ExchangeOnline")
        run(lab, onprem, f'Set-ReceiveConnector "Default Frontend EX01" -TlsCertificateName "{INTERNAL}"')

        await user02_sends(lab, "stuck at EOP")
        eop = lab.eop["eop"]
        assert mailbox(lab, "user01@ixmsoft.com", "stuck at EOP") == []
        [queue] = eop.queues()
        assert (queue.next_hop, queue.status, queue.message_count) == (CONNECTOR, "Retry", 1)
        assert UNTRUSTED.match(queue.last_error), queue.last_error
        [held] = eop.messages()
        assert held.recipients == ("user01@ixmsoft.com",) and held.subject == "stuck at EOP"
        assert UNTRUSTED.match(held.last_error) and held.retry_count == 1
        [row] = [r for r in eop.message_trace("ixmsoft") if r.subject == "stuck at EOP"]
        assert row.status == "Pending" and UNTRUSTED.match(row.detail)

        report = await validate(lab)
        assert [(s.step, s.status) for s in report.steps] == [
            ("Resolve", "Success"), ("Connect", "Success"), ("EHLO", "Success"), ("TLS", "Failed"),
            ("Send test email", "Skipped")]
        assert UNTRUSTED.match(report.failure.text), report.failure.text

        # a retry without a change fails the same way
        await advance(lab, 15 * 60)
        assert UNTRUSTED.match(eop.messages()[0].last_error) and eop.messages()[0].retry_count == 2

        # article 000's workaround: do not validate the on-prem certificate
        run(lab, online, f'Set-OutboundConnector "{CONNECTOR}" -TlsSettings EncryptionOnly -TlsDomain $null')
        report = await validate(lab)
        assert report.ok, report.steps
        await advance(lab, 15 * 60)
        assert not eop.messages() and not eop.queues()
        [msg] = mailbox(lab, "user01@ixmsoft.com", "stuck at EOP")
        assert "(version=TLS1_" in msg["Received"]  # EncryptionOnly still encrypts
        assert [r.status for r in eop.message_trace("ixmsoft") if r.subject == "stuck at EOP"] == ["Delivered"]

        # the proper fix: the public certificate, and the connector as the wizard left it
        run(lab, onprem, f'Set-ReceiveConnector "Default Frontend EX01" -TlsCertificateName "{PUBLIC}"')
        run(lab, online, f'Set-OutboundConnector "{CONNECTOR}" -TlsSettings DomainValidation '
                         '-TlsDomain mail.ixmsoft.com')
        report = await validate(lab)
        assert report.ok, report.steps
        assert "DomainValidation" in next(s.text for s in report.steps if s.step == "TLS")
        await user02_sends(lab, "straight through")
        assert len(mailbox(lab, "user01@ixmsoft.com", "straight through")) == 1 and not eop.queues()
    fresh_lab(tmp_path, scenario)
