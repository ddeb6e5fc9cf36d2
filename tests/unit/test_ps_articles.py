"""The articles' PowerShell lines, typed verbatim, bind exactly the values the articles mean."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lab.console.evaluator import HostCallbacks, Shell
from lab.console.registry import ANY, SWITCH, CmdletError, Invocation, Param, Registry

NOW = dt.datetime(2026, 11, 23, 13, 5, 7)


class Record:
    """A small Exchange-like record with a default table view."""

    def __init__(self, **props: Any):
        self.props = props

    def ps_properties(self) -> list[tuple[str, Any]]:
        return list(self.props.items())

    def ps_default_table(self) -> list[str]:
        return list(self.props)[:3]

    def __str__(self) -> str:
        return str(self.props.get("Identity", self.props.get("Name")))


class World:
    """Fake cmdlets that record what they were called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.registry = Registry()
        self.receive = [Record(Identity="MAIL1\\ANONYMOUS RELAY MAIL1", Name="ANONYMOUS RELAY MAIL1", Bindings=["0.0.0.0:25"]),
                        Record(Identity="MAIL1\\Client Frontend MAIL1", Name="Client Frontend MAIL1", Bindings=["0.0.0.0:587"])]
        self.send = [Record(Identity="Outbound to Office 365", Name="Outbound to Office 365", Port=25,
                            TlsCertificateName="<I>CN=ixmsoft-CA<S>CN=mail.ixmsoft.com")]
        self.cert = Record(Thumbprint="31CDD8E30237AA41ABBD2D15D10B552DBED68436",
                           Issuer="CN=CA WoSign G2, O=WoSign CA Limited, C=CN", Subject="CN=mail.ixmsoft.com",
                           Services="IMAP, POP, IIS, SMTP")
        r = self.registry
        record = self.record

        @r.cmdlet("Get-ReceiveConnector", [Param("Identity", position=0, pipeline=True)], remote=True)
        def get_receive(inv: Invocation) -> Any:
            record(inv)
            ident = inv.params.get("Identity")
            return [c for c in self.receive if ident is None or ident.lower() in str(c).lower()]

        @r.cmdlet("Set-ReceiveConnector", [Param("Identity", ANY, position=0, mandatory=True, pipeline=True),
                                           Param("Fqdn"), Param("TlsCertificateName"),
                                           Param("PermissionGroups", list[str], enum=(
                                               "None", "AnonymousUsers", "ExchangeUsers", "ExchangeServers",
                                               "ExchangeLegacyServers", "Partners", "Custom"),
                                               type_name="Microsoft.Exchange.Data.PermissionGroups")], remote=True)
        def set_receive(inv: Invocation) -> None:
            record(inv)
            inv.report_change()

        @r.cmdlet("Add-ADPermission", [Param("Identity", ANY, position=0, mandatory=True, pipeline=True),
                                       Param("User"), Param("ExtendedRights", list[str])], remote=True)
        def add_ad_permission(inv: Invocation) -> Any:
            record(inv)
            inv.report_change()
            return Record(Identity=str(inv.params["Identity"]), User=inv.params["User"], Deny=False,
                          Inherited=False)

        @r.cmdlet("Get-SendConnector", [Param("Identity", position=0, pipeline=True)], remote=True)
        def get_send(inv: Invocation) -> Any:
            record(inv)
            ident = inv.params.get("Identity")
            found = [c for c in self.send if ident is None or str(c).lower() == ident.lower()]
            if not found:
                raise CmdletError(f"The operation couldn't be performed because object '{ident}' couldn't be "
                                  "found on 'DC1.ixmsoft.com'.", "NotSpecified", "",
                                  "6BC47D5F,Microsoft.Exchange.Management.SystemConfigurationTasks.GetSendConnector",
                                  "ManagementObjectNotFoundException")
            return found

        @r.cmdlet("Set-SendConnector", [Param("Identity", ANY, position=0, mandatory=True, pipeline=True),
                                        Param("TlsCertificateName"), Param("IgnoreSTARTTLS", bool),
                                        Param("TlsAuthLevel"), Param("TlsDomain"), Param("Port", int)], remote=True)
        def set_send(inv: Invocation) -> None:
            record(inv)
            inv.report_change()

        @r.cmdlet("Get-ExchangeCertificate", [Param("Thumbprint", position=0, pipeline=True)], remote=True)
        def get_cert(inv: Invocation) -> Any:
            record(inv)
            return [self.cert]

        @r.cmdlet("New-InboundConnector", [Param("Name", position=0, mandatory=True),
                                           Param("ConnectorType", enum=("Partner", "OnPremises")),
                                           Param("SenderDomains", list[str]), Param("SenderIPAddresses", list[str]),
                                           Param("RestrictDomainsToIPAddresses", bool), Param("RequireTls", bool),
                                           Param("TlsSenderCertificateName")], remote=True)
        def new_inbound(inv: Invocation) -> None:
            record(inv)
            inv.report_change()

        @r.cmdlet("Send-MailMessage", [Param("To", list[str], position=0, mandatory=True),
                                       Param("Subject", position=1), Param("Body", position=2),
                                       Param("SmtpServer", position=3), Param("From", mandatory=True),
                                       Param("Port", int), Param("UseSsl", SWITCH), Param("Credential", ANY),
                                       Param("DeliveryNotificationOption", list[str],
                                             enum=("None", "OnSuccess", "OnFailure", "Delay", "Never"))],
                  should_process=False)
        def send_mail(inv: Invocation) -> None:
            record(inv)

        @r.cmdlet("telnet", native=True)
        def telnet(inv: Invocation) -> Any:
            self.calls.append(("telnet", {"args": inv.args}))
            return "Connecting To " + inv.args[0] + "..."

        @r.cmdlet("nslookup", native=True)
        def nslookup(inv: Invocation) -> Any:
            self.calls.append(("nslookup", {"args": inv.args}))

    def record(self, inv: Invocation) -> None:
        self.calls.append((inv.name, dict(inv.params)))


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def shell(world: World) -> Shell:
    return Shell(world.registry, HostCallbacks(now=lambda: NOW, computer_name="mail1.ixmsoft.com",
                                               read_credential=lambda user, message: (user or "admin", "P@ss")))


def test_set_sendconnector_with_wildcard_and_typographic_quotes(shell: Shell, world: World) -> None:
    line = "Set-sendconnector out* -tlscertificatename “<I> CN=CA 沃通免费ssl证书 G2,O=WoSign CA Limited, C=CN<S> CN=mail.ixmsoft.com”"
    result = shell.run(line)
    assert result.errors == []
    assert result.changed is True
    assert world.calls == [("Set-SendConnector", {
        "Identity": "out*",
        "TlsCertificateName": "<I> CN=CA 沃通免费ssl证书 G2,O=WoSign CA Limited, C=CN<S> CN=mail.ixmsoft.com"})]


def test_get_sendconnector_by_name_piped_to_fl(shell: Shell, world: World) -> None:
    result = shell.run('get-sendconnector "Outbound to Office 365" | fl')
    assert world.calls == [("Get-SendConnector", {"Identity": "Outbound to Office 365"})]
    assert result.output_text == (
        "\nIdentity           : Outbound to Office 365\nName               : Outbound to Office 365\n"
        "Port               : 25\nTlsCertificateName : <I>CN=ixmsoft-CA<S>CN=mail.ixmsoft.com\n\n")
    assert result.changed is False


def test_article_typo_in_cmdlet_name_is_not_recognized(shell: Shell) -> None:
    result = shell.run("get-exchangecertficate")
    assert result.output_text == (
        "get-exchangecertficate : The term 'get-exchangecertficate' is not recognized as the name of a cmdlet, "
        "function, script file, or operable program. Check the spelling of the name, or if a path was included, "
        "verify that the path is correct and try again.\n"
        "At line:1 char:1\n"
        "+ get-exchangecertficate\n"
        "+ ~~~~~~~~~~~~~~~~~~~~~~\n"
        "    + CategoryInfo          : ObjectNotFound: (get-exchangecertficate:String) [], CommandNotFoundException\n"
        "    + FullyQualifiedErrorId : CommandNotFoundException\n\n")


def test_remote_cmdlet_error_has_no_position_and_names_the_server(shell: Shell) -> None:
    result = shell.run('get-sendconnector "outbound to office365" | fl')
    assert result.errors == [
        "The operation couldn't be performed because object 'outbound to office365' couldn't be found on "
        "'DC1.ixmsoft.com'.\n"
        "    + CategoryInfo          : NotSpecified: (:) [Get-SendConnector], ManagementObjectNotFoundException\n"
        "    + FullyQualifiedErrorId : 6BC47D5F,Microsoft.Exchange.Management.SystemConfigurationTasks.GetSendConnector\n"
        "    + PSComputerName        : mail1.ixmsoft.com\n"]


def test_certificate_into_tls_certificate_name(shell: Shell, world: World) -> None:
    shell.run("$cert = Get-ExchangeCertificate -Thumbprint 31CDD8E30237AA41ABBD2D15D10B552DBED68436")
    shell.run('$tlscertificatename = "<I>$($cert.Issuer)<S>$($cert.Subject)"')
    result = shell.run('Set-ReceiveConnector "Client Frontend MAIL1" -Fqdn maiFl.office26.com '
                       "-TlsCertificateName $tlscertificatename")
    assert result.errors == []
    assert world.calls == [
        ("Get-ExchangeCertificate", {"Thumbprint": "31CDD8E30237AA41ABBD2D15D10B552DBED68436"}),
        ("Set-ReceiveConnector", {"Fqdn": "maiFl.office26.com",
                                  "TlsCertificateName": "<I>CN=CA WoSign G2, O=WoSign CA Limited, C=CN<S>CN=mail.ixmsoft.com",
                                  "Identity": "Client Frontend MAIL1"})]


def test_permission_groups_and_piped_add_adpermission(shell: Shell, world: World) -> None:
    first = shell.run('Set-ReceiveConnector "ANONYMOUS RELAY MAIL1" -PermissionGroups AnonymousUsers')
    assert first.changed and world.calls[-1] == (
        "Set-ReceiveConnector", {"PermissionGroups": ["AnonymousUsers"], "Identity": "ANONYMOUS RELAY MAIL1"})
    result = shell.run("Get-ReceiveConnector \"ANONYMOUS RELAY MAIL1\" | Add-ADPermission -User "
                       "'NT AUTHORITY\\Anonymous Logon' -ExtendedRights MS-Exch-SMTP-Accept-Any-Recipient")
    assert result.errors == []
    name, params = world.calls[-1]
    assert name == "Add-ADPermission"
    assert params["Identity"] is world.receive[0]
    assert params["User"] == "NT AUTHORITY\\Anonymous Logon"
    assert params["ExtendedRights"] == ["MS-Exch-SMTP-Accept-Any-Recipient"]
    identity, user = "MAIL1\\ANONYMOUS RELAY MAIL1", "NT AUTHORITY\\Anonymous Logon"
    assert (len(identity), len(user)) == (27, 28)
    assert result.output_text == (
        "\n" + "Identity".ljust(27) + " " + "User".ljust(28) + " Deny\n"
        + "--------".ljust(27) + " " + "----".ljust(28) + " ----\n"
        + identity + " " + user + " False\n\n")


def test_permission_groups_array_and_bad_enum(shell: Shell, world: World) -> None:
    shell.run('Set-ReceiveConnector "X" -PermissionGroups anonymoususers,ExchangeServers')
    assert world.calls[-1][1]["PermissionGroups"] == ["AnonymousUsers", "ExchangeServers"]
    result = shell.run('Set-ReceiveConnector "X" -PermissionGroups Anonymous')
    assert result.errors[0].splitlines()[0] == (
        "Set-ReceiveConnector : Cannot process argument transformation on parameter 'PermissionGroups'. Cannot "
        'convert value "Anonymous" to type "Microsoft.Exchange.Data.PermissionGroups". Error: "Unable to match the '
        "identifier name Anonymous to a valid enumerator name. Specify one of the following enumerator names and "
        "try again:")


SPLAT = """$splat = @{
    ## Define the name of the connector.
    Name = 'SMTP Relay'
    ## Defined the type of connector to create.
    ConnectorType = 'OnPremises'
    ## The set of sender domains allowed to relay.
    SenderDomains = '*'
    ## Change this to your actual public IP address.
    SenderIPAddresses = '110.x.x.x'
    ## Restrict the email relay only to your sender domains and sender IP address
    RestrictDomainsToIPAddresses = $true
}
## Create the connector
New-InboundConnector @splat"""


def test_splatting_new_inbound_connector(shell: Shell, world: World) -> None:
    result = shell.run(SPLAT)
    assert result.errors == [] and result.changed
    assert world.calls == [("New-InboundConnector", {
        "Name": "SMTP Relay", "ConnectorType": "OnPremises", "SenderDomains": ["*"],
        "SenderIPAddresses": ["110.x.x.x"], "RestrictDomainsToIPAddresses": True})]


def test_splatting_tls_connector_typed_line_by_line(shell: Shell, world: World) -> None:
    lines = ["$splat = @{ ## Define the name of the connector.", "Name = 'SMTP Relay (TLS)'",
             "ConnectorType = 'OnPremises'", "SenderDomains = '*'", "RequireTLS = $true",
             "TlsSenderCertificateName = '*.YourDomain.com'}", "New-InboundConnector @splat"]
    shell.run("\n".join(lines))
    assert world.calls == [("New-InboundConnector", {
        "Name": "SMTP Relay (TLS)", "ConnectorType": "OnPremises", "SenderDomains": ["*"], "RequireTls": True,
        "TlsSenderCertificateName": "*.YourDomain.com"})]


def test_the_article_one_line_splat_copy_is_a_parse_error(shell: Shell, world: World) -> None:
    mangled = ("$splat = @{ ## Define the name of the connector. Name = 'SMTP Relay' ConnectorType = 'OnPremises'}"
               "## Create the connectorNew-InboundConnector @splat")
    result = shell.run(mangled)
    assert "The hash literal was incomplete." in result.output_text
    assert world.calls == []


def test_mail_params_splat_for_send_mailmessage(shell: Shell, world: World) -> None:
    text = ("$mailParams = @{ SmtpServer = 'contoso-com.mail.protection.outlook.com'; Port = '25'; "
            "From = 'device@contoso.com'; To = 'a@contoso.com','c@fabrikam.com'; "
            "Subject = ('SMTP Relay - ' + (Get-Date -Format g)); Body = 'This is a test email using SMTP Relay'; "
            "DeliveryNotificationOption = 'OnFailure','OnSuccess' }\nSend-MailMessage @mailParams")
    result = shell.run(text)
    assert result.errors == []
    assert world.calls == [("Send-MailMessage", {
        "SmtpServer": "contoso-com.mail.protection.outlook.com", "Port": 25, "From": "device@contoso.com",
        "To": ["a@contoso.com", "c@fabrikam.com"], "Subject": "SMTP Relay - 11/23/2026 1:05 PM",
        "Body": "This is a test email using SMTP Relay", "DeliveryNotificationOption": ["OnFailure", "OnSuccess"]})]
    assert result.changed is False


def test_send_mailmessage_with_credential_and_use_ssl(shell: Shell, world: World) -> None:
    shell.run("$credential = New-Object System.Management.Automation.PSCredential('administrator@office26.com', "
              "(ConvertTo-SecureString 'P@ss' -AsPlainText -Force))")
    shell.run("Send-MailMessage -SmtpServer mail.office26.com -Credential $credential -From "
              "'administrator@office26.com' -To 'xxxx@test.com' -Subject 'Test email' -Port 587 -UseSsl")
    params = world.calls[-1][1]
    assert params["Credential"].user_name == "administrator@office26.com"
    assert params["Credential"].password.reveal() == "P@ss"
    assert {k: v for k, v in params.items() if k != "Credential"} == {
        "SmtpServer": "mail.office26.com", "From": "administrator@office26.com", "To": ["xxxx@test.com"],
        "Subject": "Test email", "Port": 587, "UseSsl": True}


def test_ignore_starttls_true(shell: Shell, world: World) -> None:
    shell.run('Set-SendConnector -Identity "Outbound to Office 365" -IgnoreSTARTTLS $true')
    assert world.calls == [("Set-SendConnector", {"Identity": "Outbound to Office 365", "IgnoreSTARTTLS": True})]


def test_native_commands_get_raw_arguments(shell: Shell, world: World) -> None:
    result = shell.run("Telnet 42.159.33.202 25")
    assert world.calls[-1] == ("telnet", {"args": ["42.159.33.202", "25"]})
    assert result.output_text == "Connecting To 42.159.33.202...\n"
    shell.run("nslookup -type=mx xutonglin.com")
    assert world.calls[-1] == ("nslookup", {"args": ["-type=mx", "xutonglin.com"]})
