"""The tenant MX endpoint and smtp.office365.com in the running default lab (articles 001, 002).

- MX endpoint, raw session from outside the lab: 220 banner, EHLO lists STARTTLS, anonymous
  MAIL FROM -> ``250 2.1.0 Sender OK`` (opportunistic TLS).
- smtp.office365.com: anonymous MAIL FROM -> ``530 5.7.57 ...``; STARTTLS + AUTH LOGIN of user02
  -> accepted, and an external recipient is delivered into fabrikam's mailbox.
- a banned sending IP (``world.banned_ips``) -> ``550 5.7.606`` at RCPT TO.
"""
from __future__ import annotations

import asyncio
import shutil
import subprocess

import aiosmtplib
import pytest

from hybrid_support import (FE_INTERNAL, MX_IP, SUBMISSION_IP, SharedLab, any_server, fresh_lab, mailbox, message,
                            rcpt, received, settle, smtp)

pytestmark = pytest.mark.live

NOT_AUTHENTICATED = "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM " \
                    "[AM6PR02CA0041.eurprd02.prod.outlook.com]"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    lab = SharedLab(tmp_path_factory.mktemp("eop-endpoints") / "state")
    yield lab
    lab.close()


async def raw_session(lab, virtual_ip: str, port: int, lines: list[str]) -> list[str]:
    """telnet from outside the lab (127.0.0.1 = internet-client): the banner, then each command's reply."""
    reader, writer = await asyncio.open_connection(lab.addressing.loopback[("eop", virtual_ip)], lab.port(port),
                                                   local_addr=("127.0.0.1", 0))
    try:
        replies = [await _reply(reader)]
        for line in lines:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()
            replies.append(await _reply(reader))
        return replies
    finally:
        writer.close()


async def _reply(reader: asyncio.StreamReader) -> str:
    lines = []
    while True:
        line = (await asyncio.wait_for(reader.readline(), 10)).decode().rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return "\n".join(lines)


def test_mx_endpoint_raw_session(shared):
    lab = shared.lab
    banner, ehlo, mail, rcpt_reply = shared.run(raw_session(lab, MX_IP, 25, [
        "EHLO printer.ixmsoft.com", "MAIL FROM:<scanner@ixmsoft.com>", "RCPT TO:<user02@ixmsoft.com>"]))
    assert banner.startswith("220 AM5EUR02FT025.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready at "
                             "Mon, 23 Nov 2026 09:00:")
    assert ehlo.splitlines() == [
        "250-AM5EUR02FT025.mail.protection.outlook.com Hello [203.0.113.50]", "250-SIZE 157286400",
        "250-PIPELINING", "250-DSN", "250-ENHANCEDSTATUSCODES", "250-STARTTLS", "250-8BITMIME",
        "250-BINARYMIME", "250-CHUNKING", "250 SMTPUTF8"]
    assert mail == "250 2.1.0 Sender OK"
    assert rcpt_reply == "250 2.1.5 Recipient OK"


def test_submission_endpoint_refuses_anonymous_mail(shared):
    lab = shared.lab
    banner, ehlo, mail = shared.run(raw_session(lab, SUBMISSION_IP, 25, ["EHLO printer", "MAIL FROM:<x@ixmsoft.com>"]))
    assert banner.startswith("220 AM6PR02CA0041.outlook.office365.com Microsoft ESMTP MAIL Service ready at ")
    assert "250-STARTTLS" in ehlo.splitlines() and "AUTH" not in ehlo
    assert mail == NOT_AUTHENTICATED


def test_submission_with_starttls_and_auth_login_delivers_to_fabrikam(shared):
    lab = shared.lab

    async def scenario():
        client = smtp(lab, "internet-client", "eop", SUBMISSION_IP, 587, helo="printer")
        await client.connect()
        try:
            await client.ehlo()
            await client.starttls(tls_context=any_server())
            ehlo = await client.ehlo()
            assert "AUTH LOGIN XOAUTH2" in ehlo.message and "STARTTLS" not in ehlo.message
            anonymous = await client.execute_command(b"MAIL FROM:<user02@ixmsoft.com>")
            assert f"{anonymous.code} {anonymous.message}" == NOT_AUTHENTICATED
            with pytest.raises(aiosmtplib.SMTPAuthenticationError) as bad:
                await client.auth_login("user02@ixmsoft.com", "wrong")
            assert (bad.value.code, bad.value.message) == (535, "5.7.3 Authentication unsuccessful")
            ok = await client.auth_login("user02@ixmsoft.com", "P@ssw0rd")
            assert (ok.code, ok.message) == (235, "2.7.0 Authentication successful")
            _, reply = await client.sendmail("user02@ixmsoft.com", ["someone@fabrikam.com"],
                                             message("user02@ixmsoft.com", "someone@fabrikam.com", "via 587"))
            assert reply.startswith("2.6.0 ") and "Queued mail for delivery" in reply
        finally:
            client.close()
        await settle(lab)

    shared.run(scenario())
    [msg] = mailbox(lab, "someone@fabrikam.com", "via 587")
    fabrikam, exo = received(msg)
    assert fabrikam.startswith("from AM5EUR02FT025.mail.protection.outlook.com (40.107.22.10) by mx.fabrikam.com "
                               "(203.0.113.25) with Microsoft SMTP Server (version=TLS1_")
    assert exo.startswith("from printer (203.0.113.50) by AM6PR02CA0041.outlook.office365.com (52.97.10.10)")
    # the tenant's organization headers do not leave it
    assert msg.get_all("X-MS-Exchange-Organization-AuthAs") == ["Anonymous"]
    assert not any(k.lower().startswith("x-ms-exchange-crosspremises-") for k in msg.keys())
    [row] = [r for r in lab.eop["eop"].message_trace("ixmsoft") if r.subject == "via 587"]
    assert (row.status, row.recipient_address, row.to_ip) == ("Delivered", "someone@fabrikam.com", "203.0.113.25")


def test_banned_ip_is_refused_at_rcpt(tmp_path):
    async def scenario(lab):
        assert await rcpt(lab, "relay01", "user02@ixmsoft.com") == ("250 2.1.0 Sender OK", "250 2.1.5 Recipient OK")
        lab.world = lab.world.evolve(banned_ips={**lab.world.banned_ips, "eop": frozenset({"198.51.100.40"})})
        mail, refused = await rcpt(lab, "relay01", "user02@ixmsoft.com")
        assert mail == "250 2.1.0 Sender OK"
        assert refused == (
            "550 5.7.606 Access denied, banned sending IP [198.51.100.40]. To request removal from this list please "
            "visit https://sender.office.com/ and follow the directions. For more information please go to  "
            f"http://go.microsoft.com/fwlink/?LinkID=526655 (AS16012609) [{FE_INTERNAL}]")
        # another sender is not affected
        assert (await rcpt(lab, "internet-client", "user02@ixmsoft.com"))[1] == "250 2.1.5 Recipient OK"
    fresh_lab(tmp_path, scenario)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_starttls_to_the_mx_endpoint_verifies_against_the_internet_roots(shared):
    """``openssl s_client -starttls smtp`` from outside the lab: EOP's certificate chains to a root
    the Internet trusts and carries the tenant MX host name."""
    lab = shared.lab
    address = f"{lab.addressing.loopback[('eop', MX_IP)]}:{lab.port(25)}"
    done = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect", address, "-CAfile",
         str(lab.state_dir / "trust" / "internet.pem"), "-verify_hostname", "ixmsoft-com.mail.protection.outlook.com",
         "-verify_return_error", "-attime", str(int(lab.clock.now_datetime().timestamp()))],
        input="QUIT\n", capture_output=True, text=True, timeout=30)
    assert "Verify return code: 0 (ok)" in done.stdout, done.stdout + done.stderr
    assert "DigiCert Cloud Services CA-1" in done.stdout
