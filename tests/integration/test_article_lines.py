"""Issue 5's acceptance: every article line, typed as printed (names from the default world), in a
running lab through its control channel (what `lab shell --state DIR` uses)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from lab.console.live_bridge import LabThread
from lab.console.repl import run_script, script_lines
from lab.control import ControlClient, start_control
from lab.runtime import Lab
from lab.topology.load import load_topology

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    state = tmp_path_factory.mktemp("articles")
    topo = load_topology(ROOT / "topology.yaml")
    channels = []

    async def start() -> Lab:
        lab = Lab(topo, state, loopback_base="127.96.0.0/16", live_clock=False)
        await lab.start()
        channels.append(await start_control(lab))
        return lab

    async def stop(lab: Lab) -> None:
        for channel in channels:
            await channel.close()
        await lab.stop()

    with LabThread(start, stop) as thread:
        client = ControlClient(state)
        try:
            yield client, thread.lab
        finally:
            client.close()


def run(client: ControlClient, line: str) -> tuple[str, list[str]]:
    answer = client.run(line)
    return answer["output"], answer["errors"]


def thumbprint(lab: Lab, node: str, cert_name: str) -> str:
    return next(c.thumbprint for c in lab.world.server(node).certificates if c.name == cert_name)


def test_article_000_certificate_and_send_connector_lines(shell):
    client, lab = shell
    out, errors = run(client, "get-exchangecertficate")
    assert errors and errors[0].startswith(
        "get-exchangecertficate : The term 'get-exchangecertficate' is not recognized as the name of a cmdlet, "
        "function, script file, or operable program.")
    public = thumbprint(lab, "ex01", "ex01-public")
    out, errors = run(client, f"Get-ExchangeCertificate {public} | fl")
    assert not errors
    assert "Issuer" in out and "CN=CA 沃通免费ssl证书 G2, O=WoSign CA Limited, C=CN" in out
    assert "CN=mail.ixmsoft.com" in out and public in out
    out, errors = run(client, "get-sendconnector")
    assert not errors and "Outbound to Office365" in out and "To Internet" in out
    out, errors = run(client, 'get-sendconnector "outbound to office365" | fl')
    assert not errors
    assert "AddressSpaces                : {SMTP:ixmsoft.mail.onmicrosoft.com;1}" in out
    assert "RequireTLS                   : True" in out
    out, errors = run(client, 'Set-sendconnector out* -tlscertificatename '
                              '"<I>CN=CA 沃通免费ssl证书 G2,O=WoSign CA Limited, C=CN<S>CN=mail.ixmsoft.com"')
    assert not errors, errors


def test_article_001_ignore_starttls_lines(shell):
    client, lab = shell
    out, errors = run(client, 'Get-SendConnector -Identity "To Internet" | FL')
    assert not errors and "IgnoreSTARTTLS               : False" in out
    out, errors = run(client, 'Set-SendConnector -Identity "To Internet" -IgnoreSTARTTLS $true')
    assert not errors
    conn = next(c for c in lab.world.orgs["ixmsoft"].send_connectors if c.name == "To Internet")
    assert conn.ignore_starttls is True
    out, errors = run(client, 'Set-SendConnector -Identity "To Internet" -IgnoreSTARTTLS $false')
    assert not errors
    out, errors = run(client, 'Get-ReceiveConnector -Identity "Default Frontend EX01" | FL')
    assert not errors
    assert "AuthMechanism" in out and "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer" in out


def test_article_004_relay_lines(shell):
    client, lab = shell
    run(client, "Set-LabHost mail1")
    out, errors = run(client, "Get-ReceiveConnector")
    assert not errors and "MAIL1\\Client Frontend MAIL1" in out
    public = thumbprint(lab, "mail1", "mail1-public")
    for line in (f"$cert = Get-ExchangeCertificate -Thumbprint {public}",
                 '$tlscertificatename = "<I>$($cert.Issuer)<S>$($cert.Subject)"',
                 'Set-ReceiveConnector "Client Frontend MAIL1" -Fqdn mail1.office26.com '
                 '-TlsCertificateName $tlscertificatename'):
        out, errors = run(client, line)
        assert not errors, (line, errors)
    conn = next(c for c in lab.world.server("mail1").receive_connectors if c.name == "Client Frontend MAIL1")
    assert conn.tls_certificate_name == "<I>CN=CA 沃通免费ssl证书 G2, O=WoSign CA Limited, C=CN<S>CN=mail1.office26.com"
    for line in ("$credential = New-Object System.Management.Automation.PSCredential('erp@office26.com', "
                 "(ConvertTo-SecureString 'Erp-Passw0rd' -AsPlainText -Force))",
                 "Send-MailMessage -SmtpServer mail1.office26.com -Credential $credential "
                 "-From 'erp@office26.com' -To 'someone@fabrikam.com' -Subject 'Test email' -Port 587 -UseSsl"):
        out, errors = run(client, line)
        assert not errors, (line, errors)
    run(client, "Set-LabHost erp")
    out, errors = run(client, "Send-MailMessage -SmtpServer mail1.office26.com -From 'erp@office26.com' "
                              "-To 'someone@fabrikam.com' -Subject 'anonymous' -Port 25")
    assert errors and "5.7.54 SMTP; Unable to relay recipient in non-accepted domain" in errors[0]
    run(client, "Set-LabHost mail1")
    for line in ('New-ReceiveConnector -Name "ANONYMOUS RELAY MAIL1" -TransportRole FrontendTransport -Custom '
                 '-Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3',
                 'Set-ReceiveConnector "ANONYMOUS RELAY MAIL1" -PermissionGroups AnonymousUsers',
                 "Get-ReceiveConnector \"ANONYMOUS RELAY MAIL1\" | Add-ADPermission -User 'NT AUTHORITY\\Anonymous Logon' "
                 "-ExtendedRights MS-Exch-SMTP-Accept-Any-Recipient"):
        out, errors = run(client, line)
        assert not errors, (line, errors)
    run(client, "Set-LabHost erp")
    out, errors = run(client, "Send-MailMessage -SmtpServer mail1.office26.com -From 'erp@office26.com' "
                              "-To 'someone@fabrikam.com' -Subject 'relayed' -Port 25")
    assert not errors, errors
    run(client, "Set-LabHost ex01")


ARTICLE_002_SPLAT = """\
Connect-ExchangeOnline
$splat = @{ ## Define the name of the connector.
  Name = 'SMTP Relay'
  ConnectorType = 'OnPremises'
  SenderDomains = '*'
  SenderIPAddresses = '198.51.100.40'
  RestrictDomainsToIPAddresses = $true }
New-InboundConnector @splat
"""


def test_article_002_relay_connector_splat_and_send(shell):
    client, lab = shell
    lines = script_lines(ARTICLE_002_SPLAT)  # as `lab shell -f` reads a .ps1 file
    assert len(lines) == 3
    out_file, err_file = io.StringIO(), io.StringIO()
    assert run_script(client, lines, out_file, err_file) == 0, err_file.getvalue()
    assert "SMTP Relay" in [c.name for c in lab.world.tenants["ixmsoft"].inbound_connectors]
    run(client, "Set-LabHost relay01")
    out, errors = run(client, "$mailParams = @{ SmtpServer = 'ixmsoft-com.mail.protection.outlook.com'; Port = '25'; "
                              "From = 'relay@ixmsoft.com'; To = 'user02@ixmsoft.com','someone@fabrikam.com'; "
                              "Subject = ('SMTP Relay - ' + (Get-Date -Format g)); "
                              "Body = 'This is a test email using SMTP Relay'; "
                              "DeliveryNotificationOption = 'OnFailure','OnSuccess' }")
    assert not errors, errors
    out, errors = run(client, "Send-MailMessage @mailParams")
    assert not errors, errors
    run(client, "Set-LabHost ex01")


def test_article_telnet_and_nslookup_lines(shell):
    client, _ = shell
    out, errors = run(client, "nslookup -type=mx xutonglin.com")
    assert not errors
    assert "xutonglin.com\tMX preference = 10, mail exchanger = mail.xutonglin.com" in out
    out_file, err_file = io.StringIO(), io.StringIO()
    code = run_script(client, script_lines("Telnet ixmsoft-com.mail.protection.outlook.com 25\n"
                                           "EHLO mail.ixmsoft.com\nMAIL FROM:<user20@ixmsoft.com>\n"
                                           "RCPT TO:<user01@ixmsoft.com>\nQUIT\n"), out_file, err_file)
    out = out_file.getvalue()
    assert code == 0, err_file.getvalue()
    assert "220 AM5EUR02FT025.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready at" in out
    assert "250 2.1.0 Sender OK" in out and "250 2.1.5 Recipient OK" in out
