"""Live Exchange receive endpoints on 127.0.0.1: raw telnet-style dialogues, STARTTLS with
openssl s_client and aiosmtplib, AUTH LOGIN on 587."""
from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from datetime import datetime, timezone

import aiosmtplib
import pytest

from lab.adapters.pki import CertificateAuthority
from lab.adapters.smtp_server import start_smtp_listener
from lab.adapters.tls import client_context, server_context
from lab.core.errors import LabRuntimeError
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.model import Organization
from lab.core.exchange.session import AcceptedMessage, SubmitResult

pytestmark = pytest.mark.live

ORG = Organization.from_mapping({
    "Name": "office26", "AcceptedDomains": ["office26.com"],
    "Mailboxes": [{"Name": "Administrator", "PrimarySmtpAddress": "administrator@office26.com",
                   "Password": "P@ssw0rd"}],
    "Servers": [{"Name": "MAIL1", "Fqdn": "mail1.office26.com", "Version": 2016}]}, "org")
SERVER = ORG.servers[0]
CONNECTORS = default_receive_connectors(SERVER)
NOW = datetime(2023, 1, 11, 9, 30, 0, tzinfo=timezone.utc)


class MemorySink:
    """Test-only sink."""

    def __init__(self) -> None:
        self.messages: list[AcceptedMessage] = []

    def submit(self, message: AcceptedMessage) -> SubmitResult:
        self.messages.append(message)
        return SubmitResult(message.message_id, 4000 + len(self.messages))


@pytest.fixture(scope="module")
def tls_ctx():
    ca = CertificateAuthority.create_root("Office26 Lab Root CA")
    return server_context(ca.issue("mail1.office26.com", ["mail1.office26.com", "mail.office26.com"]))


async def _listen(virtual_port: int, sink: MemorySink, tls_ctx=None, peer=("erp", "192.168.0.3")):
    return await start_smtp_listener(
        "127.0.0.1", 0, host=SERVER, org=ORG, connectors=CONNECTORS, virtual_ip="192.168.0.10",
        virtual_port=virtual_port, resolve_peer=lambda ip: peer, clock_now=lambda: NOW, sink=sink,
        tls_context_for=lambda conn: tls_ctx)


async def _dialogue(address, lines: list[str]) -> list[str]:
    """Sends each line after reading the server's complete reply; returns every reply line."""
    reader, writer = await asyncio.open_connection(*address)
    got: list[str] = []

    async def reply() -> None:
        while True:
            line = (await asyncio.wait_for(reader.readline(), 5)).decode().rstrip("\r\n")
            got.append(line)
            if len(line) < 4 or line[3] != "-":
                return

    await reply()
    for line in lines:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()
        if line.startswith("Subject:") or line == "hello":
            continue
        await reply()
    writer.close()
    return got


def test_anonymous_relay_denied_and_internal_accepted():
    async def run():
        sink = MemorySink()
        listener = await _listen(25, sink)
        try:
            return sink, await _dialogue(listener.address, [
                "EHLO erp.office26.com", "MAIL FROM:<erp@office26.com>", "RCPT TO:<xxxx@test.com>",
                "RCPT TO:<administrator@office26.com>", "DATA", "Subject: test", "hello", ".", "QUIT"])
        finally:
            await listener.close()

    sink, got = asyncio.run(run())
    assert got[0] == "220 mail1.office26.com Microsoft ESMTP MAIL Service ready at Wed, 11 Jan 2023 09:30:00 +0000"
    assert got[1] == "250-mail1.office26.com Hello [192.168.0.3]"
    assert "250-STARTTLS" not in got and got[12] == "250 XRDST"
    assert got[13:] == [
        "250 2.1.0 Sender OK",
        "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
        "250 2.1.5 Recipient OK",
        "354 Start mail input; end with <CRLF>.<CRLF>",
        f"250 2.6.0 {sink.messages[0].message_id} [InternalId=4001, Hostname=mail1.office26.com] Queued mail "
        "for delivery",
        "221 2.0.0 Service closing transmission channel",
    ]
    assert sink.messages[0].rcpt_tos == ("administrator@office26.com",)
    assert sink.messages[0].content.startswith(b"Received: from erp.office26.com (192.168.0.3) by")


def test_aiosmtpd_fixed_texts_never_reach_the_wire():
    async def run():
        listener = await _listen(25, MemorySink())
        try:
            return await _dialogue(listener.address, ["MAIL FROM:<a@b.com>", "FOO", "", "HELP",
                                                      "EHLO a.b", "MAIL FROM:<a@b.com> RET=FULL ENVID=1"])
        finally:
            await listener.close()

    got = asyncio.run(run())
    assert got[1:4] == ["503 5.5.2 Send hello first", "500 5.3.3 Unrecognized command",
                        "500 5.3.3 Unrecognized command"]
    assert got[-1] == "250 2.1.0 Sender OK"


def test_no_connector_closes_without_banner():
    async def run():
        listener = await _listen(2587, MemorySink())
        try:
            reader, writer = await asyncio.open_connection(*listener.address)
            data = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            return data
        finally:
            await listener.close()

    assert asyncio.run(run()) == b""


def test_refuses_non_loopback_and_reports_port_in_use():
    async def run():
        with pytest.raises(LabRuntimeError, match="127.0.0.0/8"):
            await start_smtp_listener("0.0.0.0", 0, host=SERVER, org=ORG, connectors=CONNECTORS,
                                      virtual_ip="192.168.0.10", virtual_port=25, resolve_peer=lambda ip: (None, ip),
                                      clock_now=lambda: NOW, sink=MemorySink(), tls_context_for=lambda c: None)
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        try:
            with pytest.raises(LabRuntimeError, match=f"127.0.0.1:{port} is already in use"):
                await start_smtp_listener("127.0.0.1", port, host=SERVER, org=ORG, connectors=CONNECTORS,
                                          virtual_ip="192.168.0.10", virtual_port=25,
                                          resolve_peer=lambda ip: (None, ip), clock_now=lambda: NOW,
                                          sink=MemorySink(), tls_context_for=lambda c: None)
        finally:
            blocker.close()

    asyncio.run(run())


def test_aiosmtplib_starttls_and_auth_login_on_587(tls_ctx):
    async def run():
        sink = MemorySink()
        listener = await _listen(587, sink, tls_ctx)
        try:
            client = aiosmtplib.SMTP(hostname=listener.address[0], port=listener.address[1], start_tls=False,
                                     tls_context=client_context())
            await client.connect()
            await client.ehlo(hostname="app.office26.com")
            pre_tls = client.esmtp_extensions.get("auth")
            await client.starttls(tls_context=client_context())
            await client.ehlo(hostname="app.office26.com")
            post_tls = client.esmtp_extensions.get("auth")
            bad = None
            try:
                await client.login("administrator", "wrong")
            except aiosmtplib.SMTPAuthenticationError as error:
                bad = (error.code, error.message)
            response = await client.login("administrator@office26.com", "P@ssw0rd")
            errors, reply = await client.sendmail("administrator@office26.com", ["xxxx@test.com"],
                                                  b"Subject: Test email\r\n\r\nhello\r\n")
            await client.quit()
            return sink, pre_tls, post_tls, bad, response, errors, reply
        finally:
            await listener.close()

    sink, pre_tls, post_tls, bad, response, errors, reply = asyncio.run(run())
    assert pre_tls == "NTLM" and post_tls == "NTLM LOGIN"
    assert bad == (535, "5.7.3 Authentication unsuccessful")
    assert (response.code, response.message) == (235, "2.7.0 Authentication successful")
    assert errors == {} and reply.startswith("2.6.0 <")
    message = sink.messages[0]
    assert message.principal.kind == "user" and message.tls is not None
    assert b"with Microsoft SMTP Server (version=TLS1_" in message.content.replace(b"\r\n ", b" ")


def test_openssl_s_client_starttls(tls_ctx):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")

    async def run():
        listener = await _listen(25, MemorySink(), tls_ctx)
        try:
            proc = await asyncio.create_subprocess_exec(
                "openssl", "s_client", "-starttls", "smtp", "-name", "erp.office26.com", "-crlf", "-quiet",
                "-connect", f"{listener.address[0]}:{listener.address[1]}",
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(b"EHLO erp.office26.com\r\nQUIT\r\n"), 15)
            return out.decode(), err.decode()
        finally:
            await listener.close()

    out, err = asyncio.run(run())
    lines = out.splitlines()
    assert "250-mail1.office26.com Hello [192.168.0.3]" in lines
    assert "250-AUTH NTLM LOGIN" in lines and "250-STARTTLS" not in lines
    assert "221 2.0.0 Service closing transmission channel" in lines
    assert "CN=mail1.office26.com" in err.replace(" = ", "=")


def test_idle_timeout_sends_451_then_closes():
    async def run():
        listener = await start_smtp_listener(
            "127.0.0.1", 0, host=SERVER, org=ORG, connectors=CONNECTORS, virtual_ip="192.168.0.10", virtual_port=25,
            resolve_peer=lambda ip: ("erp", "192.168.0.3"), clock_now=lambda: NOW, sink=MemorySink(),
            tls_context_for=lambda conn: None, idle_timeout=0.3)
        try:
            reader, writer = await asyncio.open_connection(*listener.address)
            data = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            return data.decode().splitlines()
        finally:
            await listener.close()

    lines = asyncio.run(run())
    assert lines[0].startswith("220 mail1.office26.com Microsoft ESMTP MAIL Service ready at")
    assert lines[1:] == ["451 4.7.0 Timeout waiting for client input"]
