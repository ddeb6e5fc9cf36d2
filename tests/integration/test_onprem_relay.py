"""Article 004 in the running default lab: MAIL1 relays for the ERP application.

Anonymous SMTP from erp (192.168.0.3) reaches "Default Frontend MAIL1": internal recipients are
accepted and land in the mailbox, external ones get 5.7.54; authenticated submission on "Client
Frontend MAIL1" (587, STARTTLS + AUTH LOGIN) relays to fabrikam.com; a dedicated "ANONYMOUS
RELAY MAIL1" connector made with the article's own lines relays for erp only.
"""
from __future__ import annotations

import aiosmtplib
import pytest

from onprem_support import any_server_context, client, console, in_default_lab, message, run, settle, with_subject

MAIL1 = "192.168.0.10"
RELAY_DENIED = (550, "5.7.54 SMTP; Unable to relay recipient in non-accepted domain")
RELAY = "ANONYMOUS RELAY MAIL1"
ARTICLE_LINES = (
    f'New-ReceiveConnector -Name "{RELAY}" -TransportRole FrontendTransport -Custom '
    "-Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3",
    f'Set-ReceiveConnector "{RELAY}" -PermissionGroups AnonymousUsers',
    f"Get-ReceiveConnector \"{RELAY}\" | Add-ADPermission -User 'NT AUTHORITY\\Anonymous Logon' "
    "-ExtendedRights MS-Exch-SMTP-Accept-Any-Recipient",
)


async def _anonymous(lab, host: str, rcpt: str, subject: str) -> tuple[int, str]:
    """Anonymous MAIL/RCPT/DATA from ``host`` to MAIL1:25; the first failing reply, else DATA's."""
    smtp = client(lab, host, "mail1", MAIL1, 25)
    await smtp.connect()
    try:
        await smtp.ehlo()
        await smtp.mail("erp@office26.com")
        await smtp.rcpt(rcpt)
        data = await smtp.data(message("erp@office26.com", rcpt, subject))
        return data.code, data.message
    except aiosmtplib.SMTPResponseException as refused:
        return refused.code, refused.message
    finally:
        await smtp.quit()


def _received(msg) -> list[str]:
    return [" ".join(h.split()) for h in msg.get_all("Received", [])]


@in_default_lab
async def test_erp_anonymous_internal_is_delivered_external_is_refused(lab):
    code, text = await _anonymous(lab, "erp", "sales@office26.com", "erp internal")
    assert code == 250 and text.startswith("2.6.0 <") and "Queued mail for delivery" in text
    assert await _anonymous(lab, "erp", "someone@fabrikam.com", "erp external") == RELAY_DENIED
    await settle(lab)
    [msg] = with_subject(lab, "sales@office26.com", "erp internal")
    hop = _received(msg)[0]
    assert hop.startswith("from erp (192.168.0.3) by mail1.office26.com (192.168.0.10) with Microsoft SMTP "
                          "Server id 15.1.2507.37 via Frontend Transport; Mon, 23 Nov 2026 09:00:00 +0000"), hop
    assert msg["X-MS-Exchange-Organization-AuthAs"] == "Anonymous"
    assert not with_subject(lab, "someone@fabrikam.com", "erp external")


@in_default_lab
async def test_client_frontend_587_auth_login_relays_to_fabrikam(lab):
    smtp = client(lab, "erp", "mail1", MAIL1, 587)
    await smtp.connect()
    await smtp.ehlo()
    assert "login" not in smtp.server_auth_methods, "BasicAuthRequireTLS: no LOGIN before STARTTLS"
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as anonymous:
        await smtp.mail("erp@office26.com")
    assert (anonymous.value.code, anonymous.value.message) == (530, "5.7.1 Client was not authenticated")
    await smtp.rset()
    await smtp.starttls(tls_context=any_server_context())
    await smtp.ehlo()
    assert "login" in smtp.server_auth_methods
    reply = await smtp.login("erp@office26.com", "Erp-Passw0rd")
    assert (reply.code, reply.message) == (235, "2.7.0 Authentication successful")
    errors, text = await smtp.sendmail("erp@office26.com", ["someone@fabrikam.com"],
                                       message("erp@office26.com", "someone@fabrikam.com", "erp via 587"))
    await smtp.quit()
    assert errors == {} and "Queued mail for delivery" in text
    await settle(lab)
    [msg] = with_subject(lab, "someone@fabrikam.com", "erp via 587")
    first, second = _received(msg)[:2]
    assert first.startswith("from mail1.office26.com (198.51.100.20) by mx.fabrikam.com (203.0.113.25) with "
                            "Microsoft SMTP Server (version=TLS1_"), first
    assert second.startswith("from erp (192.168.0.3) by mail1.office26.com (192.168.0.10) with Microsoft SMTP "
                             "Server (version=TLS1_"), second
    assert [q.message_count for q in lab.exchange["mail1"].transport.queues()
            if q.next_hop_domain == "fabrikam.com"] in ([], [0])


@in_default_lab
async def test_wrong_password_is_refused(lab):
    smtp = client(lab, "erp", "mail1", MAIL1, 587)
    await smtp.connect()
    await smtp.ehlo()
    await smtp.starttls(tls_context=any_server_context())
    await smtp.ehlo()
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as failed:
        await smtp.login("erp@office26.com", "wrong")
    assert (failed.value.code, failed.value.message) == (535, "5.7.3 Authentication unsuccessful")
    await smtp.quit()


@in_default_lab
async def test_dedicated_relay_connector_relays_for_erp_only(lab):
    shell = console(lab, "mail1")
    run(lab, shell, ARTICLE_LINES[0])
    # The new connector alone grants nothing: erp still may not relay.
    assert (await _anonymous(lab, "erp", "someone@fabrikam.com", "too early"))[0] in (530, 550)
    for line in ARTICLE_LINES[1:]:
        run(lab, shell, line)
    code, text = await _anonymous(lab, "erp", "someone@fabrikam.com", "relayed")
    assert code == 250, text
    assert await _anonymous(lab, "office26-pc", "someone@fabrikam.com", "pc relay") == RELAY_DENIED
    code, _ = await _anonymous(lab, "office26-pc", "sales@office26.com", "pc internal")
    assert code == 250
    await settle(lab)
    [msg] = with_subject(lab, "someone@fabrikam.com", "relayed")
    assert _received(msg)[1].startswith("from erp (192.168.0.3) by mail1.office26.com (192.168.0.10)")
    assert not with_subject(lab, "someone@fabrikam.com", "pc relay")
    assert with_subject(lab, "sales@office26.com", "pc internal")
