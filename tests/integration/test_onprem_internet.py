"""Article 003 in the running default lab: contoso.com -> xutonglin.com over the public Internet.

Each test breaks the healthy default world the way the article's steps describe, with the
administrator's own lines, and reads contoso's queue and mailbox: the receive connector without
AnonymousUsers (remote 530 5.7.1 -> NDR), no send connector (Unreachable), no MX and no A (DNS
InfoNoRecords, delay DSN after 4 hours, NDR after 2 days), then the fix and a delivered message.
"""
from __future__ import annotations

from onprem_support import any_server_context, client, console, in_default_lab, message, run, settle, with_subject

CONTOSO = "100.100.100.10"
SENDER, RCPT = "contoso@contoso.com", "allen@xutonglin.com"
HOUR = 3600.0


async def _submit(lab, subject: str) -> None:
    """contoso's user sends to allen from the Internet: 587, STARTTLS, AUTH LOGIN."""
    smtp = client(lab, "internet-client", "contoso-ex", CONTOSO, 587)
    await smtp.connect()
    await smtp.ehlo()
    await smtp.starttls(tls_context=any_server_context())
    await smtp.ehlo()
    await smtp.login(SENDER, "P@ssw0rd")
    errors, text = await smtp.sendmail(SENDER, [RCPT], message(SENDER, RCPT, subject))
    await smtp.quit()
    assert errors == {} and "Queued mail for delivery" in text
    await settle(lab)


def _queues(lab, delivery_type: str | None = None):
    return [q for q in lab.exchange["contoso-ex"].transport.queues()
            if q.next_hop_domain != "Submission" and (delivery_type is None or q.delivery_type == delivery_type)]


def _body(msg) -> str:
    return "\n".join(part.get_payload(decode=True).decode("utf-8", "replace")
                     for part in msg.walk() if part.get_content_type() == "text/plain")


@in_default_lab
async def test_healthy_world_delivers_to_allen(lab):
    await _submit(lab, "healthy")
    [msg] = with_subject(lab, RCPT, "healthy")
    hop = " ".join(msg.get_all("Received")[0].split())
    assert hop.startswith("from mail.contoso.com (100.100.100.10) by mail.xutonglin.com (192.168.8.10) with "
                          "Microsoft SMTP Server (TLS) id 14.3.123.4;"), hop


@in_default_lab
async def test_receive_connector_without_anonymous_users_bounces_with_530(lab):
    shell = console(lab, "xutonglin-ex")
    run(lab, shell, 'Set-ReceiveConnector "Default XUTONGLIN-EX" '
                    "-PermissionGroups ExchangeUsers,ExchangeServers,ExchangeLegacyServers")
    await _submit(lab, "no anonymous")
    [queue] = _queues(lab, "DnsConnectorDelivery")
    assert queue.next_hop_domain == "xutonglin.com"
    assert queue.last_error == ('451 4.4.0 Primary target IP address responded with: "530 5.7.1 Client was not '
                                'authenticated." Attempted failover to alternate host, but that did not succeed. '
                                'Either there are no alternate hosts, or delivery failed to all alternate hosts.')
    assert not with_subject(lab, RCPT, "no anonymous")
    [ndr] = with_subject(lab, SENDER, "Undeliverable: no anonymous")
    assert ("Remote Server at mail.xutonglin.com (100.100.100.254) returned '530 5.7.1 Client was not "
            "authenticated'") in _body(ndr)
    # The article's fix: permit anonymous users again; the next message arrives.
    run(lab, shell, 'Set-ReceiveConnector "Default XUTONGLIN-EX" '
                    "-PermissionGroups AnonymousUsers,ExchangeUsers,ExchangeServers,ExchangeLegacyServers")
    await _submit(lab, "anonymous again")
    assert with_subject(lab, RCPT, "anonymous again")
    assert _queues(lab, "DnsConnectorDelivery")[0].last_error is None


@in_default_lab
async def test_no_send_connector_is_the_unreachable_queue(lab):
    shell = console(lab, "contoso-ex")
    run(lab, shell, "Remove-SendConnector Internet -Confirm:$false")
    await _submit(lab, "no connector")
    [queue] = _queues(lab, "Unreachable")
    assert (queue.identity, queue.next_hop_domain, queue.message_count) == ("CONTOSO-EX\\Unreachable",
                                                                            "Unreachable Domain", 1)
    assert queue.last_error == "A matching connector cannot be found to route the external recipient"
    assert not with_subject(lab, RCPT, "no connector")
    run(lab, shell, 'New-SendConnector -Name "Internet" -Internet -AddressSpaces *')
    await settle(lab)
    assert with_subject(lab, RCPT, "no connector")
    assert all(q.message_count == 0 for q in _queues(lab))


@in_default_lab
async def test_no_mx_no_a_retries_delays_expires_then_the_fix_delivers(lab):
    dns = console(lab, "contoso-ex")
    run(lab, dns, 'Remove-DnsServerResourceRecord -ZoneName xutonglin.com -Name "@" -RRType MX -Force')
    await _submit(lab, "no mx")
    [queue] = _queues(lab, "DnsConnectorDelivery")
    assert queue.status == "Retry" and queue.message_count == 1
    assert queue.last_error == "451 4.4.0 DNS query failed. The error was: DNS query failed with error InfoNoRecords"
    await lab.clock.advance(3 * HOUR)
    await settle(lab)
    assert not with_subject(lab, SENDER, "Delivery delayed:no mx")
    await lab.clock.advance(1 * HOUR + 60)
    await settle(lab)
    [delay] = with_subject(lab, SENDER, "Delivery delayed:no mx")
    assert "Remote Server returned '400 4.4.7 Message delayed'" in _body(delay)
    assert _queues(lab, "DnsConnectorDelivery")[0].message_count == 1
    await lab.clock.advance(2 * 24 * HOUR - 4 * HOUR)
    await settle(lab)
    [ndr] = with_subject(lab, SENDER, "Undeliverable: no mx")
    assert "Remote Server returned '550 4.4.7 QUEUE.Expired; message expired'" in _body(ndr)
    assert sum(q.message_count for q in _queues(lab)) == 0
    assert not with_subject(lab, RCPT, "no mx")
    # The fix: the MX record back, Retry-Queue, and a new message arrives at once.
    run(lab, dns, 'Add-DnsServerResourceRecordMX -ZoneName xutonglin.com -Name "@" '
                  "-MailExchange mail.xutonglin.com -Preference 10")
    await _submit(lab, "mx back")
    service = lab.exchange["contoso-ex"]
    for q in _queues(lab, "DnsConnectorDelivery"):
        service.transport.retry_queue(q.identity, lab.clock.now)
    service.driver.kick()
    await settle(lab)
    assert with_subject(lab, RCPT, "mx back")
    assert sum(q.message_count for q in _queues(lab)) == 0
