"""The sans-I/O receive session: telnet-style transcripts with exact Exchange replies."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

from lab.core.catalogue import Reply
from lab.core.exchange.connectors import apply_receive_connector_overrides, default_receive_connectors
from lab.core.exchange.headers import TlsFacts
from lab.core.exchange.model import Organization
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.receive import select_receive_connector
from lab.core.exchange.session import AcceptedMessage, ReceiveSession, SubmitResult

NOW = datetime(2016, 8, 5, 16, 24, 41, tzinfo=timezone(timedelta(hours=-7)))
GUID = "c89b4fcc-3ad1-4758-a1ab-1e820065d622"
ORG = Organization.from_mapping({
    "Name": "office26", "AcceptedDomains": ["office26.com"],
    "Mailboxes": [{"Name": "Administrator", "PrimarySmtpAddress": "administrator@office26.com",
                   "Password": "P@ssw0rd"}],
    "Servers": [{"Name": "MAIL1", "Fqdn": "mail1.office26.com", "Version": 2016}]}, "org")
SERVER = ORG.servers[0]


class MemorySink:
    """Test-only sink: keeps messages, numbers them like Exchange's InternalId."""

    def __init__(self, refuse: Reply | None = None):
        self.messages: list[AcceptedMessage] = []
        self.refuse = refuse

    def submit(self, message: AcceptedMessage) -> SubmitResult | Reply:
        if self.refuse is not None:
            return self.refuse
        self.messages.append(message)
        return SubmitResult(message.message_id, 5111011082268 + len(self.messages) - 1)


def session(port: int = 25, client_ip: str = "192.168.0.3", overrides=(), cert: bool = True,
            sink: MemorySink | None = None):
    conns = apply_receive_connector_overrides(default_receive_connectors(SERVER), list(overrides), "rc")
    selection = select_receive_connector(conns, "192.168.0.10", port, client_ip)
    policy = ExchangePolicy(selection.value, SERVER, ORG, cert_available=cert)
    s = ReceiveSession(policy, sink or MemorySink(), client_ip=client_ip, local_ip="192.168.0.10", local_port=port,
                       now=NOW, new_guid=lambda: GUID, selection=selection)
    s.connect()
    return s


def say(s: ReceiveSession, line: str) -> list[str]:
    return list(s.receive_line(line).lines)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_banner_and_commands_before_hello():
    s = session(sink=MemorySink())
    assert s.transcript == ["S: 220 mail1.office26.com Microsoft ESMTP MAIL Service ready at Fri, 5 Aug 2016 "
                            "16:24:41 -0700"]
    assert say(s, "MAIL FROM:<a@b.com>") == ["503 5.5.2 Send hello first"]
    assert say(s, "XYZZY") == ["500 5.3.3 Unrecognized command"]
    assert say(s, "EHLO") == ["501 5.5.4 Invalid domain name"]
    assert say(s, "HELO erp.office26.com") == ["250 mail1.office26.com Hello [192.168.0.3]"]
    assert say(s, "NOOP") == ["250 2.0.0 OK"]
    assert say(s, "RSET") == ["250 2.0.0 Resetting"]
    out = s.receive_line("QUIT")
    assert out.lines == ("221 2.0.0 Service closing transmission channel",) and out.close


def test_internal_mail_queued_with_exchange_reply_and_headers():
    sink = MemorySink()
    s = session(sink=sink)
    say(s, "EHLO erp.office26.com")
    assert say(s, "MAIL FROM:<erp@office26.com> RET=HDRS ENVID=42 AUTH=<>") == ["250 2.1.0 Sender OK"]
    assert say(s, "RCPT TO:<xxxx@test.com> NOTIFY=NEVER") == \
        ["550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"]
    assert say(s, "RCPT TO:<administrator@office26.com>") == ["250 2.1.5 Recipient OK"]
    out = s.receive_line("DATA")
    assert out.lines == ("354 Start mail input; end with <CRLF>.<CRLF>",) and out.read_data
    done = s.data_received(b"Subject: test\r\nX-MS-Exchange-Organization-AuthAs: Internal\r\n\r\nhello\r\n")
    assert done.lines == (f"250 2.6.0 <{GUID}@mail1.office26.com> [InternalId=5111011082268, "
                          "Hostname=mail1.office26.com] Queued mail for delivery",)
    msg = sink.messages[0]
    assert msg.rcpt_tos == ("administrator@office26.com",) and msg.connector == "Default Frontend MAIL1"
    assert msg.content.decode() == (
        "Received: from erp.office26.com (192.168.0.3) by mail1.office26.com\r\n"
        " (192.168.0.10) with Microsoft SMTP Server id 15.1.2507.37 via Frontend\r\n"
        " Transport; Fri, 5 Aug 2016 16:24:41 -0700\r\n"
        "Subject: test\r\n"
        "X-MS-Exchange-Organization-AuthAs: Anonymous\r\n"
        "X-MS-Exchange-Organization-AuthSource: mail1.office26.com\r\n"
        f"Message-ID: <{GUID}@mail1.office26.com>\r\n\r\nhello\r\n")
    assert [d.rule for d in msg.decisions][0].startswith("fidelity §3.4")
    assert msg.mail_options == ("RET=HDRS", "ENVID=42", "AUTH=<>")


def test_existing_message_id_is_kept():
    sink = MemorySink()
    s = session(sink=sink)
    for line in ("EHLO a.b", "MAIL FROM:<>", "RCPT TO:<administrator@office26.com>", "DATA"):
        say(s, line)
    out = s.data_received(b"Message-ID: <abc@erp>\r\nSubject: x\r\n\r\nbody\r\n")
    assert out.lines[0].startswith("250 2.6.0 <abc@erp> [InternalId=")
    assert sink.messages[0].content.count(b"Message-ID") == 1


def test_sequence_errors():
    s = session()
    say(s, "EHLO a.b")
    assert say(s, "RCPT TO:<a@office26.com>") == ["503 5.5.2 Need mail command"]
    assert say(s, "DATA") == ["503 5.5.2 Need mail command"]
    say(s, "MAIL FROM:<a@office26.com>")
    assert say(s, "MAIL FROM:<a@office26.com>") == ["503 5.5.2 Sender already specified"]
    assert say(s, "DATA") == ["503 5.5.2 Need rcpt command"]

    s = session()
    say(s, "EHLO a.b")
    say(s, "MAIL FROM:<a@office26.com>")
    assert say(s, "RCPT TO:<not an address>") == ["501 5.1.7 Invalid address"]
    assert say(s, "RCPT TO:<a@office26.com> FOO=1") == ["501 5.5.4 Unrecognized parameter"]
    assert say(s, "MAIL TO:<a@office26.com>") == ["503 5.5.2 Sender already specified"]
    s = session()
    say(s, "EHLO a.b")
    assert say(s, "MAIL <a@office26.com>") == ["501 5.5.4 Invalid arguments"]
    assert say(s, "MAIL FROM:<bad address@x>") == ["501 5.1.7 Invalid address"]


def test_too_many_protocol_errors_closes_with_421():
    s = session()
    for _ in range(5):
        assert say(s, "BOGUS") == ["500 5.3.3 Unrecognized command"]
    out = s.receive_line("BOGUS")
    assert out.lines == ("421 4.7.0 Too many errors on this connection, closing transmission channel",)
    assert out.close


def test_requiretls_mail_from_451_and_close():
    s = session(overrides=[{"Name": "Default Frontend MAIL1", "RequireTLS": True}])
    say(s, "EHLO a.b")
    out = s.receive_line("MAIL FROM:<a@contoso.com>")
    assert out.lines == ("451 5.7.3 STARTTLS is required to send mail",) and out.close


def test_anonymous_users_removed_530():
    s = session(overrides=[{"Name": "Default Frontend MAIL1", "PermissionGroups": "ExchangeServers"}])
    say(s, "EHLO mail.contoso.com")
    assert say(s, "MAIL FROM:<contoso@contoso.com>") == ["530 5.7.1 Client was not authenticated"]


def test_starttls_once_and_state_reset():
    s = session()
    say(s, "EHLO a.b")
    out = s.receive_line("STARTTLS")
    assert out.lines == ("220 2.0.0 SMTP server ready",) and out.start_tls
    assert s.tls_established(TlsFacts("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")).lines == ()
    assert say(s, "MAIL FROM:<a@b.com>") == ["503 5.5.2 Send hello first"]
    say(s, "EHLO a.b")
    assert say(s, "STARTTLS") == ["503 5.5.2 Only one STARTTLS command can be issued per session"]


def test_starttls_without_certificate_is_not_offered():
    s = session(cert=False)
    assert "250-STARTTLS" not in say(s, "EHLO a.b")
    assert say(s, "STARTTLS") == ["500 5.3.3 Unrecognized command"]


def test_auth_login_on_client_frontend_after_tls_and_send_as():
    sink = MemorySink()
    s = session(port=587, sink=sink)
    say(s, "EHLO app")
    assert say(s, "AUTH LOGIN") == ["504 5.7.4 Unrecognized authentication type"]
    say(s, "STARTTLS")
    s.tls_established(TlsFacts("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"))
    assert "250-AUTH NTLM LOGIN" in say(s, "EHLO app")
    assert say(s, "AUTH NTLM") == ["504 5.7.4 Unrecognized authentication type"]
    assert say(s, "AUTH LOGIN") == ["334 VXNlcm5hbWU6"]
    assert say(s, b64("administrator")) == ["334 UGFzc3dvcmQ6"]
    assert say(s, b64("wrong")) == ["535 5.7.3 Authentication unsuccessful"]
    assert say(s, "AUTH LOGIN " + b64("OFFICE26\\administrator")) == ["334 UGFzc3dvcmQ6"]
    assert say(s, b64("P@ssw0rd")) == ["235 2.7.0 Authentication successful"]
    assert say(s, "AUTH LOGIN") == ["503 5.5.2 Already authenticated"]
    say(s, "MAIL FROM:<ceo@office26.com>")
    assert say(s, "RCPT TO:<xxxx@test.com>") == ["250 2.1.5 Recipient OK"]
    say(s, "DATA")
    out = s.data_received(b"Subject: x\r\n\r\nbody\r\n")
    assert out.lines == ("550 5.7.1 Client does not have permissions to send as this sender",)
    assert not sink.messages
    say(s, "MAIL FROM:<administrator@office26.com>")
    say(s, "RCPT TO:<xxxx@test.com>")
    say(s, "DATA")
    assert s.data_received(b"Subject: x\r\n\r\nbody\r\n").lines[0].startswith("250 2.6.0 <")
    content = sink.messages[0].content.decode()
    assert "(version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)" in content
    assert "X-MS-Exchange-Organization-AuthAs: Internal" in content


def test_auth_plain_and_cancel():
    s = session(port=587)
    say(s, "EHLO app")
    say(s, "STARTTLS")
    s.tls_established(TlsFacts())
    say(s, "EHLO app")
    assert say(s, "AUTH LOGIN") == ["334 VXNlcm5hbWU6"]
    assert say(s, "*") == ["501 5.7.0 Authentication cancelled"]
    assert say(s, "AUTH PLAIN") == ["334 "]
    assert say(s, b64("\x00administrator@office26.com\x00P@ssw0rd")) == ["235 2.7.0 Authentication successful"]


def test_bdat_chunks():
    sink = MemorySink()
    s = session(sink=sink)
    say(s, "EHLO a.b")
    say(s, "MAIL FROM:<a@contoso.com>")
    say(s, "RCPT TO:<administrator@office26.com>")
    out = s.receive_line("BDAT 12")
    assert out.lines == () and out.read_octets == 12
    assert s.chunk_received(b"Subject: x\r\n").lines == ("250 2.6.0 CHUNK received OK, 12 octets",)
    s.receive_line("BDAT 6 LAST")
    assert s.chunk_received(b"\r\nhi\r\n").lines[0].startswith("250 2.6.0 <")
    assert sink.messages[0].content.endswith(b"\r\n\r\nhi\r\n")


def test_sink_refusal_and_timeout():
    s = session(sink=MemorySink(refuse=Reply(451, "4.3.2", "Service not active")))
    for line in ("EHLO a.b", "MAIL FROM:<a@contoso.com>", "RCPT TO:<administrator@office26.com>", "DATA"):
        say(s, line)
    assert s.data_received(b"x\r\n").lines == ("451 4.3.2 Service not active",)
    out = s.timed_out()
    assert out.lines == ("451 4.7.0 Timeout waiting for client input",) and out.close


def test_exchange_server_by_certificate_gets_org_headers_and_relay():
    sink = MemorySink()
    s = session(sink=sink, client_ip="10.0.0.2")
    say(s, "EHLO mail1.office26.com")
    say(s, "STARTTLS")
    s.tls_established(TlsFacts(peer_names=("mail1.office26.com",)))
    say(s, "EHLO mail1.office26.com")
    say(s, "MAIL FROM:<a@office26.com>")
    assert say(s, "RCPT TO:<x@test.com>") == ["250 2.1.5 Recipient OK"]
    say(s, "DATA")
    s.data_received(b"X-MS-Exchange-Organization-SCL: -1\r\n\r\nb\r\n")
    assert b"X-MS-Exchange-Organization-SCL: -1" in sink.messages[0].content
    assert b"AuthAs: Internal" in sink.messages[0].content
