"""Send-MailMessage's PowerShell errors, the lab tools, nslookup and telnet, with the articles' lines."""
from __future__ import annotations

from cmdlets_support import console
from lab.console.cmdlets.telnet import run_script
from lab.console.host import FAILURE_CONNECT, SendResult

RELAY = "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"
ANON = "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM"


def mail_console(result: SendResult):
    sent = []

    def sender(request):
        sent.append(request)
        return result
    return console(sender=sender), sent


def test_relay_refused_prints_the_failed_recipient_error():
    c, sent = mail_console(SendResult(False, RELAY, failed_recipient="xxxx@test.com", refused=(("xxxx@test.com", RELAY),)))
    assert not c.run("Set-LabHost erp").errors
    result = c.run("Send-MailMessage -SmtpServer mail1 -From 'administrator@office26.com' -To 'xxxx@test.com' "
                   "-Subject 'Test email' -Port 25")
    lines = result.errors[0].splitlines()
    assert lines[0] == ("Send-MailMessage : Mailbox unavailable. The server response was: 5.7.54 SMTP; Unable to relay "
                        "recipient in non-accepted domain")
    assert lines[-2].strip() == ("+ CategoryInfo          : InvalidOperation: (System.Net.Mail.SmtpClient:SmtpClient) "
                                 "[Send-MailMessage], SmtpFailedRecipientException")
    assert lines[-1].strip() == "+ FullyQualifiedErrorId : SmtpException,Microsoft.PowerShell.Commands.SendMailMessage"
    assert sent[0].source_host == "erp" and sent[0].port == 25 and sent[0].to == ("xxxx@test.com",)


def test_anonymous_mail_from_refused_by_smtp_office365():
    c, _ = mail_console(SendResult(False, ANON))
    c.run("$mailParams = @{ SmtpServer = 'smtp.office365.com'; Port = '25'; From = 'user20@ixmsoft.com'; "
          "To = 'user01@ixmsoft.com'; Subject = 'test'; Body = 'x'; DeliveryNotificationOption = 'OnFailure','OnSuccess'}")
    result = c.run("Send-MailMessage @mailParams")
    assert result.errors[0].splitlines()[0] == (
        "Send-MailMessage : The SMTP server requires a secure connection or the client was not authenticated. The "
        "server response was: 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM")


def test_credential_ssl_and_connect_failure():
    c, sent = mail_console(SendResult(False, failure=FAILURE_CONNECT))
    c.run("$credential = New-Object System.Management.Automation.PSCredential('office26\\administrator', "
          "(ConvertTo-SecureString 'P@ssw0rd' -AsPlainText -Force))")
    result = c.run("Send-MailMessage -SmtpServer mail.office26.com -Credential $credential -From "
                   "'administrator@office26.com' -To 'xxxx@test.com' -Subject 'Test email' -Port 587 -UseSsl")
    assert result.errors[0].startswith("Send-MailMessage : Unable to connect to the remote server")
    assert sent[0].use_ssl and sent[0].username == "office26\\administrator" and sent[0].password == "P@ssw0rd"


def test_success_prints_nothing_and_without_a_mail_service_it_says_so():
    c, _ = mail_console(SendResult(True))
    assert c.run("Send-MailMessage -SmtpServer mail1 -From a@contoso.com -To b@contoso.com -Subject s").output_text == ""
    assert "lab up" in console().run("Send-MailMessage -SmtpServer mail1 -From a@contoso.com -To b@contoso.com "
                                     "-Subject s").errors[0]


def test_nslookup_mx_and_nxdomain():
    c = console()
    out = c.run("nslookup -type=mx xutonglin.com").output_text.splitlines()
    assert out[1] == "Address:  100.100.100.2" and out[0].startswith("Server:  ")
    assert "xutonglin.com\tMX preference = 10, mail exchanger = mail.xutonglin.com" in out
    assert "Non-authoritative answer:" not in out
    missing = c.run("nslookup nothing.contoso.com").output_text
    assert "can't find nothing.contoso.com: Non-existent domain" in missing
    assert not c.run("Remove-DnsServerResourceRecord -ZoneName xutonglin.com -Name '@' -RRType MX -Force").errors
    assert "primary name server = " in c.run("nslookup -type=mx xutonglin.com").output_text


def test_blocked_ip_list_and_clock_and_host():
    c = console()
    assert not c.run("Add-LabBlockedIP 42.159.33.202").errors
    assert "42.159.33.202" in c.run("Get-LabBlockedIP").output_text
    before = c.host.world
    assert c.run("Add-LabBlockedIP 42.159.33.202").errors and c.host.world is before
    assert c.run("Add-LabBlockedIP 999.1.1.1").errors
    assert not c.run("Remove-LabBlockedIP 42.159.33.202").errors
    start = c.host.clock_now()
    assert not c.run("Set-LabClock -Advance 2.00:00:00").errors
    assert (c.host.clock_now() - start).total_seconds() == 2 * 86400
    assert c.run("Set-LabClock -Advance soon").errors
    moved = c.host.clock_now()
    for too_far in ("999999999d", "3650000d", "99999999999999999999"):
        run = c.run(f"Set-LabClock -Advance {too_far}")
        assert run.errors and "would pass the year 9999" in run.output_text, run.output_text
        assert c.host.clock_now() == moved  # nothing moved
    assert not c.run("Get-LabClock").errors
    assert c.run("Set-LabHost nowhere").errors and c.host.session.source_host is None


def test_ca_desk_validates_every_name_against_public_dns():
    c = console()
    c.host.write_file("c:\\cert.req", b"")
    good = c.host.generate_request("mail1", [("CN", "mail.contoso.com")], ["mail.contoso.com"]).csr_pem
    bad = c.host.generate_request("mail1", [("CN", "mail.contoso.com")], ["mail.contoso.com", "nope.contoso.com"]).csr_pem
    ca = next(a.name for a in c.host.world.topology.pki.authorities if "internet" in a.trusted_by)
    c.host.write_file("good.req", good.encode())
    c.host.write_file("bad.req", bad.encode())
    refused = c.run(f"Submit-LabCertificateRequest -RequestFile bad.req -CertificateAuthority {ca} -OutFile x.cer")
    assert "Domain validation failed for nope.contoso.com" in refused.errors[0]
    assert not c.run(f"Submit-LabCertificateRequest -RequestFile good.req -CertificateAuthority {ca} "
                     "-OutFile good.cer").errors
    assert c.host.read_file("good.cer").startswith(b"-----BEGIN CERTIFICATE-----")


class Server:
    """A scripted SMTP peer: the replies a server gives, in order (the test's stand-in for EOP)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.received = []
        self.closed = False

    def read_reply(self):
        return tuple(self.replies.pop(0)) if self.replies else ()

    def send_line(self, line):
        self.received.append(line)

    def close(self):
        self.closed = True


def test_telnet_reads_the_following_lines_as_the_client_and_prints_the_server():
    server = Server([["220 BN8NAM11FT011.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready"],
                     ["250-BN8NAM11FT011.mail.protection.outlook.com Hello [42.159.33.202]", "250-SIZE 157286400",
                      "250-STARTTLS", "250 SMTPUTF8"],
                     ["250 2.1.0 Sender OK"], ["250 2.1.5 Recipient OK"], ["354 Start mail input"],
                     ["250 2.6.0 queued"], ["221 2.0.0 Service closing transmission channel"]])
    opened = []

    def opener(world, source, address, port):
        opened.append((source, address, port))
        return server
    c = console(smtp_opener=opener)
    results = run_script(c, "Telnet ixmsoft-com.mail.protection.outlook.com 25\nEHLO mail.ixmsoft.com\n"
                            "MAIL FROM:<user20@ixmsoft.com>\nRCPT TO:<user01@ixmsoft.com>\nDATA\nSubject: hi\n\n"
                            "body\n.\nQUIT\nGet-LabClock")
    out = results[0].output_text.splitlines()
    assert out[0].startswith("220 ") and "250-STARTTLS" in out and "250 2.1.0 Sender OK" in out
    assert out[-1] == "Connection to host lost." and "EHLO mail.ixmsoft.com" not in out
    assert server.received[-1] == "QUIT" and "body" in server.received
    assert opened[0][0] == "mail1" and opened[0][2] == 25
    assert len(results) == 2 and "LabTime" in results[1].output_text


def test_telnet_connect_failure_and_no_live_lab():
    def refuse(world, source, address, port):
        raise ConnectionRefusedError(address)
    out = console(smtp_opener=refuse).run("telnet mail1 25").output_text
    assert out.strip() == "Connecting To mail1...Could not open connection to the host, on port 25: Connect failed"
    assert "lab up" in console().run("telnet mail1 25").errors[0]
