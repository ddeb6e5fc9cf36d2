"""The transport on real loopback sockets: aiosmtpd sinks, STARTTLS, retries on the lab clock, NDRs, restart."""
from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import uuid
from datetime import timedelta
from types import SimpleNamespace as NS

import pytest
from aiosmtpd.smtp import SMTP
from cryptography import x509

from lab.adapters.clock import DEFAULT_EPOCH, LabClock
from lab.adapters.maildir import Maildirs
from lab.adapters.pki import CertificateAuthority, TrustStore, verify_chain
from lab.adapters.smtp_client import Located, SmtpClient, require_loopback
from lab.adapters.spool import Spool, TrackingLog
from lab.adapters.tls import server_context
from lab.adapters.transport_driver import TransportDriver
from lab.core.dns_resolution import MxResult, Target
from lab.core.errors import LabRuntimeError
from lab.core.exchange.queue import Transport
from lab.core.exchange.send_connector import SendConnector

pytestmark = pytest.mark.live

ORG = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": True}],
         mailboxes=[{"PrimarySmtpAddress": "alice@contoso.com"}])
SERVER = NS(name="ex01", fqdn="ex01.contoso.com")
MX_IP = "203.0.113.25"  # the fabrikam MX's virtual address; locate() maps it to the sink


class Sink:
    """An aiosmtpd handler that records messages and can refuse RCPT with scripted replies."""

    def __init__(self, rcpt_replies=()):
        self.rcpt_replies = list(rcpt_replies)
        self.messages, self.tls, self.peers, self.ehlo = [], [], [], []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.ehlo.append(hostname)
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content))
        self.tls.append(session.ssl is not None)
        self.peers.append(session.peer[0])
        return "250 2.6.0 <x@mx.fabrikam.com> Queued mail for delivery"


async def start_sink(handler, tls_cert=None):
    loop = asyncio.get_running_loop()
    ctx = server_context(tls_cert) if tls_cert else None
    server = await loop.create_server(lambda: SMTP(handler, hostname="mx.fabrikam.com", tls_context=ctx,
                                                   require_starttls=False), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def make_driver(tmp_path, port, connectors, clock=None, certificate=None, trusted=None, refuse=False):
    clock = clock or LabClock()
    transport = Transport(SERVER, ORG, connectors, boot=uuid.uuid4().hex)

    def locate(server, endpoint):
        assert server == "EX01" and endpoint.ip == MX_IP
        return "Refused" if refuse else Located("127.0.0.1", port, "127.0.0.7")

    async def resolve_mx(domain):
        if domain == "nowhere.example":
            return MxResult(domain, error="NonExistentDomain")
        return MxResult(domain, (Target("mx." + domain, 10, (MX_IP,)),))

    client = SmtpClient(locate, clock.now_datetime, certificate or (lambda name: None),
                        trusted or (lambda facts, der: False), timeout=5)
    driver = TransportDriver(transport, clock, Spool(tmp_path), Maildirs(tmp_path), TrackingLog(tmp_path), client,
                             resolve_mx, resolve_mx)
    return driver, clock


def message(rcpts, subject="hello", sender="alice@contoso.com"):
    return NS(mail_from=sender, rcpt_tos=list(rcpts), data=f"Subject: {subject}\r\n\r\nbody\r\n".encode())


INTERNET = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*", "Fqdn": "mail.contoso.com"})


def test_plain_delivery_reuses_session_and_clears_spool(tmp_path):
    async def main():
        sink = Sink()
        server, port = await start_sink(sink)
        driver, clock = make_driver(tmp_path, port, [INTERNET])
        driver.submit(message(["a@fabrikam.com", "b@fabrikam.com"]))
        assert len(driver.spool.ids()) == 1  # on disk before the 250 would be sent
        await driver.drain()
        server.close()
        return sink, driver

    sink, driver = asyncio.run(main())
    assert [m[1] for m in sink.messages] == [("a@fabrikam.com", "b@fabrikam.com")]
    assert sink.ehlo == ["mail.contoso.com"] and sink.peers == ["127.0.0.7"] and sink.tls == [False]
    assert driver.spool.ids() == []
    events = [e["EventId"] for e in driver.tracking.read()]
    assert events == ["RECEIVE", "SEND"]


def test_opportunistic_starttls_and_forced_tls_with_validation(tmp_path):
    ca = CertificateAuthority.create_root("Lab Root")
    cert = ca.issue("mx.fabrikam.com", ["mx.fabrikam.com"], not_before=DEFAULT_EPOCH - timedelta(days=1),
                    not_after=DEFAULT_EPOCH + timedelta(days=365))
    store = TrustStore("internet", (ca.cert,))
    forced = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*", "RequireTLS": True,
                                         "TlsAuthLevel": "DomainValidation", "TlsDomain": "mx.fabrikam.com"})

    async def main(connector, trusted, name):
        sink = Sink()
        server, port = await start_sink(sink, tls_cert=cert)
        driver, clock = make_driver(tmp_path / name, port, [connector], trusted=trusted)
        driver.submit(message(["a@fabrikam.com"]))
        await driver.drain()
        server.close()
        return sink, driver

    sink, _ = asyncio.run(main(INTERNET, None, "opportunistic"))
    assert sink.tls == [True]
    sink, _ = asyncio.run(main(forced, lambda facts, der: verify_chain(x509.load_der_x509_certificate(der), (), store),
                               "trusted"))
    assert sink.tls == [True]
    sink, driver = asyncio.run(main(forced, lambda facts, der: False, "untrusted"))
    assert sink.messages == []
    queue = next(q for q in driver.transport.queues() if q.identity == "EX01\\1")
    assert queue.status == "Retry" and queue.last_error.startswith(
        '451 4.4.0 Primary target IP address responded with: "451 5.7.3 STARTTLS is required to send mail."')


def test_require_tls_without_starttls_and_stale_certificate_name(tmp_path):
    forced = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*", "RequireTLS": True})
    stale = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*",
                                        "TlsCertificateName": "<I>CN=Old CA<S>CN=mail.contoso.com"})

    async def main(connector, path):
        sink = Sink()
        server, port = await start_sink(sink)
        driver, _ = make_driver(path, port, [connector])
        driver.submit(message(["a@fabrikam.com"]))
        await driver.drain()
        server.close()
        return driver.transport.queues()[1].last_error

    assert asyncio.run(main(forced, tmp_path / "a")).startswith(
        '451 4.4.0 Primary target IP address responded with: "451 5.7.3 STARTTLS is required to send mail."')
    assert asyncio.run(main(stale, tmp_path / "b")) == (
        "454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found.")


def test_4xx_then_250_after_retry_interval(tmp_path):
    async def main():
        sink = Sink(rcpt_replies=["451 4.3.0 Try again later"])
        server, port = await start_sink(sink)
        driver, clock = make_driver(tmp_path, port, [INTERNET])
        driver.submit(message(["a@fabrikam.com"]))
        await driver.drain()
        queue = driver.transport.queues()[1]
        await clock.advance(5 * 60)
        await driver.drain()
        server.close()
        return sink, driver, queue

    sink, driver, queue = asyncio.run(main())
    assert queue.status == "Retry" and queue.next_retry_time == 300
    assert queue.last_error == ('451 4.4.0 Primary target IP address responded with: "451 4.3.0 Try again later." '
                                "Attempted failover to alternate host, but that did not succeed. Either there are "
                                "no alternate hosts, or delivery failed to all alternate hosts.")
    assert len(sink.messages) == 1 and driver.spool.ids() == []
    assert [e["EventId"] for e in driver.tracking.read()] == ["RECEIVE", "DEFER", "SEND"]


def test_5xx_gives_ndr_in_senders_maildir(tmp_path):
    async def main():
        sink = Sink(rcpt_replies=["550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"])
        server, port = await start_sink(sink)
        driver, _ = make_driver(tmp_path, port, [INTERNET])
        driver.submit(message(["a@fabrikam.com"]))
        await driver.drain()
        server.close()
        return driver

    driver = asyncio.run(main())
    [ndr] = driver.mailboxes.messages("alice@contoso.com")
    report = email.message_from_bytes(ndr, policy=email.policy.default)
    assert report["Subject"] == "Undeliverable: hello" and report.get_content_type() == "multipart/report"
    assert ("returned '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain'"
            in next(report.iter_parts()).get_content())
    assert driver.spool.ids() == []


def test_two_lab_days_of_retries_each_fire_once(tmp_path):
    async def main():
        driver, clock = make_driver(tmp_path, 1, [INTERNET], refuse=True)
        driver.submit(message(["a@fabrikam.com"]))
        await clock.advance(2 * 86400)
        await driver.close()
        return driver, clock

    driver, clock = asyncio.run(main())
    assert clock.now == 2 * 86400
    events = driver.tracking.read()
    # attempts at 0, six 5-minute retries (to 30 min), then every 15 min strictly before expiry at 2 days
    assert [e["EventId"] for e in events].count("DEFER") == 1 + 6 + len(range(1800 + 900, 2 * 86400, 900))
    assert events[-1]["EventId"] in ("DELIVER", "FAIL", "DSN")
    fail = next(e for e in events if e["EventId"] == "FAIL")
    assert fail["RecipientStatus"] == ["550 4.4.7 QUEUE.Expired; message expired"] and fail["LabTime"] == 2 * 86400
    assert "10061" in next(e for e in events if e["EventId"] == "DEFER")["RecipientStatus"][0]
    assert len(driver.mailboxes.messages("alice@contoso.com")) == 2  # delay DSN at 4 h, NDR at 2 days
    assert driver.spool.ids() == []


def test_restart_reloads_the_spool(tmp_path):
    async def first():
        driver, clock = make_driver(tmp_path, 1, [INTERNET], refuse=True)
        driver.submit(message(["a@fabrikam.com"]))
        await driver.drain()
        await driver.close()
        return driver.spool.ids()

    async def second():
        sink = Sink()
        server, port = await start_sink(sink)
        driver, clock = make_driver(tmp_path, port, [INTERNET])
        assert driver.start() == 1
        await driver.drain()
        server.close()
        return sink, driver

    assert len(asyncio.run(first())) == 1
    sink, driver = asyncio.run(second())
    assert len(sink.messages) == 1 and driver.spool.ids() == []


def test_refuses_non_loopback():
    with pytest.raises(LabRuntimeError):
        require_loopback("192.0.2.1", "target")
    require_loopback("127.42.0.9", "target")


def test_failed_opportunistic_tls_retries_without_starttls(tmp_path):
    ca = CertificateAuthority.create_root("Lab Root")
    cert_path, key_path = ca.issue("mx.fabrikam.com", ["mx.fabrikam.com"]).write(tmp_path / "certs")
    broken = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    broken.load_cert_chain(cert_path, key_path)
    broken.maximum_version = ssl.TLSVersion.TLSv1_2
    broken.set_ciphers("PSK")  # no cipher in common with the lab client: the handshake fails

    async def main():
        sink, sessions = Sink(), []

        def factory():
            sessions.append(1)
            return SMTP(sink, hostname="mx.fabrikam.com", tls_context=broken, require_starttls=False)

        server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
        driver, _ = make_driver(tmp_path / "state", server.sockets[0].getsockname()[1], [INTERNET])
        driver.submit(message(["a@fabrikam.com"]))
        await driver.drain()
        server.close()
        return sink, sessions

    sink, sessions = asyncio.run(main())
    assert len(sessions) == 2  # STARTTLS failed, then the same target again without STARTTLS
    assert len(sink.messages) == 1 and sink.tls == [False]
