"""Connector, permission, domain and certificate cmdlets driven by the articles' own lines."""
from __future__ import annotations

from cmdlets_support import console

from lab.core.tls import select_certificate

RELAY = "ANONYMOUS RELAY MAIL1"
NEW_RELAY = (f'New-ReceiveConnector -Name "{RELAY}" -TransportRole FrontendTransport -Custom '
             "-Bindings 0.0.0.0:25 -RemoteIPRanges 192.168.0.3")


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def test_get_receive_connector_default_table():
    out = console().run("Get-ReceiveConnector").output_text
    assert lines(out)[:3] == [
        "Identity                            Bindings                  Enabled",
        "--------                            --------                  -------",
        "MAIL1\\Default Frontend MAIL1        {[::]:25, 0.0.0.0:25}     True",
    ]


def test_receive_connector_format_list_values():
    out = lines(console().run('Get-ReceiveConnector "Default Frontend MAIL1" | fl').output_text)
    assert "AuthMechanism                     : Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer" in out
    assert "Bindings                          : {[::]:25, 0.0.0.0:25}" in out
    assert ("RemoteIPRanges                    : {::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, "
            "0.0.0.0-255.255.255.255}") in out
    assert "MaxMessageSize                    : 36 MB (37,748,736 bytes)" in out
    assert "Identity                          : MAIL1\\Default Frontend MAIL1" in out


def test_unknown_receive_connector_is_exchange_error_and_changes_nothing():
    c = console()
    before = c.host.world
    result = c.run("Set-ReceiveConnector nope -PermissionGroups AnonymousUsers")
    assert result.errors
    assert result.output_text.startswith(
        "The operation couldn't be performed because object 'nope' couldn't be found on 'DC01.office26.com'.\n"
        "    + CategoryInfo          : NotSpecified: (:) [Set-ReceiveConnector], ManagementObjectNotFoundException\n")
    assert "+ PSComputerName        : mail1.office26.com" in result.output_text
    assert c.host.world is before and not c.lines


def test_article_004_anonymous_relay():
    c = console()
    assert not c.run(NEW_RELAY).errors
    assert not c.run(f'Set-ReceiveConnector "{RELAY}" -PermissionGroups AnonymousUsers').errors
    result = c.run(f'Get-ReceiveConnector "{RELAY}" | Add-ADPermission -User \'NT AUTHORITY\\Anonymous Logon\' '
                   "-ExtendedRights MS-Exch-SMTP-Accept-Any-Recipient")
    assert not result.errors
    assert "MAIL1\\ANONYMOUS RELAY MAIL1 NT AUTHORITY\\ANONYMOUS LOGON False" in result.output_text
    conn = next(x for x in c.host.world.servers["mail1"].receive_connectors if x.name == RELAY)
    assert conn.permission_groups == ("AnonymousUsers",)
    assert [r.text for r in conn.remote_ip_ranges] == ["192.168.0.3"]
    assert conn.extended_rights[0].rights == ("ms-Exch-SMTP-Accept-Any-Recipient",)
    assert len(c.lines) == 3


def test_duplicate_binding_and_ranges_is_refused():
    c = console()
    c.run(NEW_RELAY)
    before = c.host.world
    result = c.run(NEW_RELAY.replace(RELAY, "Second Relay"))
    assert result.errors[0].startswith("A Receive connector must have a unique combination of a local IP address")
    assert c.host.world is before


def test_custom_usage_requires_bindings():
    c = console()
    result = c.run('New-ReceiveConnector -Name X -Custom -RemoteIPRanges 192.168.0.3')
    assert result.errors[0].startswith("The Bindings parameter is required when you specify the Custom usage type.")


def test_set_send_connector_wildcard_and_both_issuer_spellings_select_the_installed_certificate():
    c = console("ex01")
    for spelling in ("<I>CN=CA 沃通免费ssl证书 G2,O=WoSign CA Limited, C=CN<S>CN=mail.ixmsoft.com",
                     "<I>CN=CA 沃通免费ssl证书 G2, O=WoSign CA Limited, C=CN<S>CN=mail.ixmsoft.com"):
        result = c.run(f'Set-sendconnector out* -tlscertificatename "{spelling}"')
        assert not result.errors, result.output_text
        conn = c.host.world.orgs["ixmsoft"].send_connectors[0]
        assert conn.tls_certificate_name == spelling
        chosen = select_certificate(c.host.world.servers["ex01"].certificate_facts(), spelling,
                                    c.host.clock_now())
        assert chosen is not None and chosen.issuer.startswith("CN=CA 沃通免费ssl证书 G2")


def test_send_connector_ignore_starttls_rule_is_enforced():
    c = console("ex01")
    before = c.host.world
    result = c.run('Set-SendConnector -Identity "Outbound to Office365" -IgnoreSTARTTLS $true')
    assert result.errors and c.host.world is before
    assert not c.run('Set-SendConnector -Identity "To Internet" -IgnoreSTARTTLS $true').errors
    out = c.run('Get-SendConnector -Identity "To Internet" | FL').output_text
    assert "IgnoreSTARTTLS               : True" in out


def test_get_send_connector_table_and_list():
    c = console("ex01")
    assert "Outbound to Office365 {SMTP:ixmsoft.mail.onmicrosoft.com;1} True" in c.run("get-sendconnector").output_text
    out = c.run('get-sendconnector "outbound to office365" | fl').output_text
    assert "TlsCertificateName           : <I>CN=CA 沃通免费ssl证书 G2, O=WoSign CA Limited, C=CN<S>CN=mail.ixmsoft.com" in out


def test_new_and_remove_send_connector_article_003():
    c = console("mail1")
    assert not c.run("Remove-SendConnector Internet").errors
    assert c.host.world.orgs["office26"].send_connectors == ()
    assert not c.run('New-SendConnector -Name "Internet" -Internet -AddressSpaces *').errors
    conn = c.host.world.orgs["office26"].send_connectors[0]
    assert str(conn.address_spaces[0]) == "SMTP:*;1" and conn.usage == "Internet"


def test_certificates_table_uses_service_letters():
    out = lines(console("ex01").run("Get-ExchangeCertificate").output_text)
    assert out[0] == "Thumbprint                               Services Subject"
    assert any(line.endswith(" ...WS..  CN=mail.ixmsoft.com") for line in out[2:])


def test_certificate_request_import_enable_cycle():
    c = console("ex01")
    result = c.run('New-ExchangeCertificate -GenerateRequest -SubjectName "c=CN, cn=mail.ixmsoft.com" '
                   '-DomainName mail.ixmsoft.com -RequestFile "C:\\cert\\mail.req"')
    assert not result.errors, result.output_text
    csr = c.host.read_file("C:\\cert\\mail.req").decode()
    answer = c.host.issue_certificate("wosign-g2", csr)
    c.host.write_file("C:\\cert\\mail.cer", answer)
    result = c.run('Import-ExchangeCertificate -FileName "C:\\cert\\mail.cer"')
    assert not result.errors, result.output_text
    thumb = result.objects[0].get("Thumbprint")
    assert not c.run(f"Enable-ExchangeCertificate -Thumbprint {thumb} -Services SMTP").errors
    out = c.run(f"Get-ExchangeCertificate {thumb} | fl").output_text
    assert "Issuer             : CN=CA 沃通免费ssl证书 G2, O=WoSign CA Limited, C=CN" in out
    assert "Services           : ....S.." in out
    assert all(x.status == "Valid" for x in c.host.world.servers["ex01"].certificates)


def test_unknown_thumbprint():
    result = console("ex01").run("Get-ExchangeCertificate ABCD0000")
    assert result.errors[0].startswith("The certificate with thumbprint ABCD0000 was not found.")


def test_accepted_domains_and_failed_removal_of_default():
    c = console("mail1")
    assert not c.run("New-AcceptedDomain -Name partner -DomainName partner.office26.com").errors
    before = c.host.world
    assert c.run("Remove-AcceptedDomain office26.com").errors
    assert c.host.world is before
    assert "partner.office26.com" in c.run("Get-AcceptedDomain").output_text
