"""Send connector TLS in the running default lab (articles 000 and 001).

- ex01's "Outbound to Office365" with a TlsCertificateName that names no installed certificate:
  the queue to EOP shows ``454 4.7.5 ...could not be found.``; the article's Set-SendConnector
  fix and Retry-Queue deliver the message to the Exchange Online mailbox.
- IgnoreSTARTTLS on office26's Internet connector: the session to fabrikam runs in plain text
  (no TLS parenthesis in the receiver's Received header); back to $false: TLS again.
"""
from __future__ import annotations

from onprem_support import any_server_context, client, console, in_default_lab, message, run, settle, with_subject

EX01_PUBLIC = "198.51.100.30"
GOOD_NAME = "<I>CN=CA 沃通免费ssl证书 G2, O=WoSign CA Limited, C=CN<S>CN=mail.ixmsoft.com"
STALE_NAME = "<I>CN=ixmsoft-DC01-CA, DC=ixmsoft, DC=com<S>CN=mail.ixmsoft.com"
NOT_FOUND = "454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found."


def _top_hop(msg) -> str:
    return " ".join(msg.get_all("Received")[0].split())


async def _to_user02(lab, subject: str) -> None:
    """Internet mail for user02@ixmsoft.com (a remote mailbox) arrives at ex01 through the firewall."""
    smtp = client(lab, "internet-client", "ex01", "10.10.0.10", 25)
    await smtp.connect()
    await smtp.ehlo()
    errors, _ = await smtp.sendmail("someone@fabrikam.com", ["user02@ixmsoft.com"],
                                    message("someone@fabrikam.com", "user02@ixmsoft.com", subject))
    await smtp.quit()
    assert errors == {}
    await settle(lab)


def _cloud_queue(lab):
    [queue] = [q for q in lab.exchange["ex01"].transport.queues()
               if q.next_hop_domain == "ixmsoft.mail.onmicrosoft.com"]
    return queue


@in_default_lab
async def test_stale_tls_certificate_name_on_send_connector(lab):
    shell = console(lab, "ex01")
    run(lab, shell, f'Set-SendConnector "Outbound to Office365" -TlsCertificateName "{STALE_NAME}"')
    await _to_user02(lab, "stale certificate name")
    queue = _cloud_queue(lab)
    assert (queue.status, queue.message_count, queue.last_error) == ("Retry", 1, NOT_FOUND)
    assert not with_subject(lab, "user02@ixmsoft.com", "stale certificate name")
    # Article 000's fix, typed as in the article, then Retry-Queue.
    run(lab, shell, f'Set-sendconnector out* -tlscertificatename "{GOOD_NAME}"')
    service = lab.exchange["ex01"]
    service.transport.retry_queue(queue.identity, lab.clock.now)
    service.driver.kick()
    await settle(lab)
    assert _cloud_queue(lab).message_count == 0 and _cloud_queue(lab).last_error is None
    await lab.clock.advance(120)  # EOP hands the message to Exchange Online on its next queue run
    await settle(lab)
    assert with_subject(lab, "user02@ixmsoft.com", "stale certificate name")


async def _relay_to_fabrikam(lab, subject: str) -> None:
    smtp = client(lab, "erp", "mail1", "192.168.0.10", 587)
    await smtp.connect()
    await smtp.ehlo()
    await smtp.starttls(tls_context=any_server_context())
    await smtp.ehlo()
    await smtp.login("erp@office26.com", "Erp-Passw0rd")
    await smtp.sendmail("erp@office26.com", ["someone@fabrikam.com"],
                        message("erp@office26.com", "someone@fabrikam.com", subject))
    await smtp.quit()
    await settle(lab)


@in_default_lab
async def test_ignore_starttls_sends_in_plain_text(lab):
    shell = console(lab, "mail1")
    run(lab, shell, "Set-SendConnector -Identity Internet -IgnoreSTARTTLS $true")
    await _relay_to_fabrikam(lab, "plain")
    [plain] = with_subject(lab, "someone@fabrikam.com", "plain")
    assert _top_hop(plain).startswith("from mail1.office26.com (198.51.100.20) by mx.fabrikam.com (203.0.113.25) "
                                      "with Microsoft SMTP Server id 15.2.1544.4 via Frontend Transport;"), \
        _top_hop(plain)
    run(lab, shell, "Set-SendConnector -Identity Internet -IgnoreSTARTTLS $false")
    await _relay_to_fabrikam(lab, "tls")
    [tls] = with_subject(lab, "someone@fabrikam.com", "tls")
    assert _top_hop(tls).startswith("from mail1.office26.com (198.51.100.20) by mx.fabrikam.com (203.0.113.25) "
                                    "with Microsoft SMTP Server (version=TLS1_"), _top_hop(tls)
