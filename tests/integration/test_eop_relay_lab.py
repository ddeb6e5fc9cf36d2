"""Article 002 in the running default lab: relay01 relays through the tenant MX endpoint.

Without a connector an external recipient is refused with ``550 5.7.64 TenantAttribution;
Relay Access Denied [...]``; after the article's New-InboundConnector (by IP, or by
certificate with RequireTls and TlsSenderCertificateName ``*.ixmsoft.com``) relay01's mail is
relayed and delivered into fabrikam's mailbox, while other sources and other certificates
(none, self-signed, internal CA, wrong name) are still refused (fidelity §4.4, B-RELAY23).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hybrid_support import FE_INTERNAL, console, fresh_lab, mailbox, rcpt, received, run, send, settle

from lab.adapters.pki import self_signed

pytestmark = pytest.mark.live

DENIED = f"550 5.7.64 TenantAttribution; Relay Access Denied [{FE_INTERNAL}]"
OK = ("250 2.1.0 Sender OK", "250 2.1.5 Recipient OK")
IP_SPLAT = ("$splat = @{Name = 'Relay01 by IP'; ConnectorType = 'OnPremises'; SenderDomains = '*'; "
            "SenderIPAddresses = '198.51.100.40'; RestrictDomainsToIPAddresses = $true}")
TLS_SPLAT = ("$splat = @{Name = 'Relay01 by certificate'; ConnectorType = 'OnPremises'; SenderDomains = '*'; "
             "RequireTLS = $true; TlsSenderCertificateName = '*.ixmsoft.com'}")


def new_inbound_connector(lab, splat: str) -> None:
    shell = console(lab)
    run(lab, shell, "Connect-ExchangeOnline")
    run(lab, shell, splat)
    run(lab, shell, "New-InboundConnector @splat")


def test_ip_connector(tmp_path):
    async def scenario(lab):
        assert await rcpt(lab, "relay01", "someone@fabrikam.com") == ("250 2.1.0 Sender OK", DENIED)
        assert await rcpt(lab, "relay01", "user02@ixmsoft.com") == OK  # direct send to the tenant is fine

        new_inbound_connector(lab, IP_SPLAT)
        assert await rcpt(lab, "relay01", "someone@fabrikam.com") == OK
        assert (await rcpt(lab, "internet-client", "someone@fabrikam.com"))[1] == DENIED
        assert (await rcpt(lab, None, "someone@fabrikam.com"))[1] == DENIED  # telnet from outside the lab

        reply = await send(lab, "relay01", "someone@fabrikam.com", "relayed by IP")
        assert reply.startswith("2.6.0 ")
        await settle(lab)
        [msg] = mailbox(lab, "someone@fabrikam.com", "relayed by IP")
        fabrikam, eop = received(msg)
        assert eop.startswith("from relay.ixmsoft.com (198.51.100.40) by AM5EUR02FT025.mail.protection.outlook.com "
                              "(40.107.22.10) with Microsoft SMTP Server id 15.20.")  # the device did not use TLS
        assert fabrikam.startswith("from AM5EUR02FT025.mail.protection.outlook.com (40.107.22.10) by mx.fabrikam.com")
        assert not lab.eop["eop"].messages()
    fresh_lab(tmp_path, scenario)


def test_certificate_connector(tmp_path):
    async def scenario(lab):
        client_cert = lab.keys["relay01-client"]
        assert (await rcpt(lab, "relay01", "someone@fabrikam.com", cert=client_cert))[1] == DENIED

        new_inbound_connector(lab, TLS_SPLAT)
        assert await rcpt(lab, "relay01", "someone@fabrikam.com", cert=client_cert) == OK

        start = datetime(2026, 6, 1, tzinfo=timezone.utc)
        lab.keys["relay01-selfsigned"] = self_signed("relay.ixmsoft.com", ["relay.ixmsoft.com"], not_before=start)
        wrong = lab.pki.authority("wosign-g2").issue("app.contoso.com", ["app.contoso.com"], not_before=start)
        refused = {"no certificate": None, "self-signed": lab.keys["relay01-selfsigned"],
                   "internal CA": lab.keys["ex01-internal"], "wrong name": wrong}
        for why, cert in refused.items():
            assert await rcpt(lab, "relay01", "someone@fabrikam.com", cert=cert) == ("250 2.1.0 Sender OK", DENIED), why
        assert (await rcpt(lab, "relay01", "someone@fabrikam.com"))[1] == DENIED  # no TLS at all

        reply = await send(lab, "relay01", "someone@fabrikam.com", "relayed by certificate", cert=client_cert)
        assert reply.startswith("2.6.0 ")
        await settle(lab)
        [msg] = mailbox(lab, "someone@fabrikam.com", "relayed by certificate")
        eop = received(msg)[1]
        assert eop.startswith("from relay.ixmsoft.com (198.51.100.40) by AM5EUR02FT025.mail.protection.outlook.com "
                              "(40.107.22.10) with Microsoft SMTP Server (version=TLS1_")
    fresh_lab(tmp_path, scenario)
