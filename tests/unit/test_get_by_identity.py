"""Get- cmdlets by -Identity (cmdlets/_common.get_by_identity): the object named, every object without
one, and Exchange's not-found error naming the right domain controller and task for a name that matches nothing."""
from __future__ import annotations

from cmdlets_support import console


def _not_found(text: str, name: str, dc: str, cmdlet: str, task: str) -> None:
    assert text.startswith(f"The operation couldn't be performed because object '{name}' couldn't be found on "
                           f"'{dc}'.\n")
    assert f"[{cmdlet}], ManagementObjectNotFoundException" in text
    assert f"Microsoft.Exchange.Management.SystemConfigurationTasks.{task}" in text


def test_receive_and_send_connectors():
    c = console()
    assert "Default Frontend MAIL1" in c.run('Get-ReceiveConnector "Default Frontend MAIL1"').output_text
    assert c.run("Get-ReceiveConnector").output_text.count("MAIL1\\") >= 2
    result = c.run("Get-ReceiveConnector nope")
    assert result.errors
    _not_found(result.output_text, "nope", "DC01.office26.com", "Get-ReceiveConnector", "GetReceiveConnector")
    result = c.run("Get-SendConnector nope")
    assert result.errors
    _not_found(result.output_text, "nope", "DC01.office26.com", "Get-SendConnector", "GetSendConnector")


def test_online_connectors():
    c = console("ex01")
    assert not c.run("Connect-ExchangeOnline").errors
    assert "TlsSenderCertificateName" in c.run("Get-InboundConnector | fl").output_text
    result = c.run("Get-OutboundConnector nope")
    assert result.errors
    assert "object 'nope' couldn't be found on 'DC01." in result.output_text
    assert "SystemConfigurationTasks.GetOutboundConnector" in result.output_text
