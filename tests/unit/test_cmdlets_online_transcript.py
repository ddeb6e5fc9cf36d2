"""Exchange Online cmdlets, the transactional console and transcript replay."""
from __future__ import annotations

from cmdlets_support import console

from lab.console.transcript import read_transcript, replay

SPLAT = ('$splat = @{Name = "Relay from app server"; ConnectorType = "OnPremises"; SenderDomains = "*"; '
         'SenderIPAddresses = "198.51.100.40"; RestrictDomainsToIPAddresses = $true}')


def test_online_cmdlets_need_connect_then_answer_for_the_tenant():
    c = console("ex01")
    assert c.run("Get-InboundConnector").errors
    assert not c.run("Connect-ExchangeOnline").errors
    out = c.run("Get-AcceptedDomain").output_text
    assert "ixmsoft.onmicrosoft.com      ixmsoft.onmicrosoft.com      Authoritative False" in out
    assert "TlsSenderCertificateName     : mail.ixmsoft.com" in c.run("Get-InboundConnector | fl").output_text


def test_article_002_new_inbound_connector_with_splat():
    c = console("ex01")
    c.run("Connect-ExchangeOnline")
    assert not c.run(SPLAT).errors
    result = c.run("New-InboundConnector @splat")
    assert not result.errors, result.output_text
    tenant = c.host.world.tenants["ixmsoft"]
    conn = tenant.inbound_connectors[-1]
    assert conn.connector_type == "OnPremises" and conn.sender_ip_addresses == ("198.51.100.40",)
    assert conn.restrict_domains_to_ip_addresses is True
    before = c.host.world
    again = c.run("New-InboundConnector @splat")
    assert again.errors and c.host.world is before


def test_outbound_connector_rule_violation_changes_nothing():
    c = console("ex01")
    c.run("Connect-ExchangeOnline")
    before = c.host.world
    result = c.run('Set-OutboundConnector "Outbound to 6f2c4a91-hybrid" -TlsSettings CertificateValidation')
    assert result.errors and c.host.world is before
    assert not c.run('Set-OutboundConnector "Outbound to*" -TlsSettings $null -TlsDomain $null').errors


def test_failed_pipeline_line_rolls_back_and_is_not_recorded():
    c = console()
    c.run('New-ReceiveConnector -Name "R1" -Custom -Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3')
    before = c.host.world
    result = c.run('Set-ReceiveConnector R1 -PermissionGroups AnonymousUsers; Get-ReceiveConnector nope')
    assert result.errors and c.host.world is before
    assert c.lines == ['New-ReceiveConnector -Name "R1" -Custom -Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3']


def test_transcript_replays_into_a_fresh_world(tmp_path):
    c = console("mail1")
    c.state_dir = tmp_path
    script = [
        'New-ReceiveConnector -Name "ANONYMOUS RELAY MAIL1" -TransportRole FrontendTransport -Custom '
        "-Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3",
        'Set-ReceiveConnector "ANONYMOUS RELAY MAIL1" -PermissionGroups AnonymousUsers',
        "Get-ReceiveConnector \"ANONYMOUS RELAY MAIL1\" | Add-ADPermission -User 'NT AUTHORITY\\Anonymous Logon' "
        "-ExtendedRights MS-Exch-SMTP-Accept-Any-Recipient",
        "Get-SendConnector",
        "New-AcceptedDomain -Name partner -DomainName partner.office26.com",
    ]
    for line in script:
        assert not c.run(line).errors
    recorded = read_transcript(tmp_path / "transcript.ps1")
    assert recorded == [line for line in script if not line.startswith("Get-SendConnector")]
    fresh = console("mail1")
    replay(fresh, recorded)
    assert fresh.host.world.servers == c.host.world.servers
    assert fresh.host.world.orgs == c.host.world.orgs
