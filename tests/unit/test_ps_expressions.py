"""Expressions, variables and the built-in commands of the console."""
from __future__ import annotations

import datetime as dt

import pytest

from lab.console.evaluator import HostCallbacks, Shell
from lab.console.registry import Param, Registry

NOW = dt.datetime(2026, 11, 23, 13, 5, 7)


@pytest.fixture
def shell() -> Shell:
    registry = Registry()

    @registry.cmdlet("Get-Connector", [Param("Identity", position=0)], synopsis="Lists connectors.",
                     module="Lab.Exchange", version="15.2")
    def get_connector(inv):  # type: ignore[no-untyped-def]
        return [{"Name": "Default MAIL1", "Port": 25, "Tls": True},
                {"Name": "Client Frontend MAIL1", "Port": 587, "Tls": True},
                {"Name": "Outbound", "Port": 25, "Tls": False}]

    return Shell(registry, HostCallbacks(now=lambda: NOW, read_credential=lambda u, m: (u or "prompted", "pw")))


def out(shell: Shell, line: str) -> str:
    result = shell.run(line)
    assert result.errors == [], result.output_text
    return result.output_text


def test_variables_persist_and_echo(shell: Shell) -> None:
    shell.run("$name = 'mail1'")
    assert out(shell, "$name") == "mail1\n"
    assert out(shell, "$undefined") == ""
    assert out(shell, "$true; $false; $null; 42") == "True\nFalse\n42\n"


def test_string_interpolation_and_escapes(shell: Shell) -> None:
    shell.run("$c = @{ Issuer = 'CN=CA'; Subject = 'CN=mail' }; $n = 3")
    assert out(shell, '"<I>$($c.Issuer)<S>$($c.Subject)"') == "<I>CN=CA<S>CN=mail\n"
    assert out(shell, '"n=$n; $n.Count; `$n; ""q""; total $($n + 1)"') == 'n=3; 3.Count; $n; "q"; total 4\n'
    assert out(shell, "'no $n expansion'") == "no $n expansion\n"


def test_concatenation_and_arithmetic(shell: Shell) -> None:
    assert out(shell, "('SMTP Relay - ' + (Get-Date -Format g))") == "SMTP Relay - 11/23/2026 1:05 PM\n"
    assert out(shell, "1 + 2 * 3; 7 / 2; 8 / 2; '5' + 1; 5 + '1'") == "7\n3.5\n4\n51\n6\n"
    assert "Cannot convert value \"x\" to type \"System.Int32\"" in shell.run("5 + 'x'").errors[0]


def test_arrays_count_and_member_enumeration(shell: Shell) -> None:
    shell.run("$a = 'x','y','z'; $b = @(Get-Connector); $e = @()")
    assert out(shell, "$a.Count; $b.Count; $e.Count; $a[1]; $a[-1]") == "3\n3\n0\ny\nz\n"
    assert out(shell, "$b.Name") == "Default MAIL1\nClient Frontend MAIL1\nOutbound\n"


def test_comparisons_are_case_insensitive(shell: Shell) -> None:
    lines = ["'ABC' -eq 'abc'", "'ABC' -ceq 'abc'", "'abc' -ne 'abd'", "'Default MAIL1' -like 'default*'",
             "'x' -notlike 'y*'", "'mail.contoso.com' -match 'CONTOSO'", "'a' -notmatch 'b'", "5 -gt 3",
             "5 -lt '10'", "3 -ge 3", "2 -le 1", "'b' -gt 'A'", "'a','b' -contains 'B'", "'c' -in 'a','b'",
             "-not $false", "1 -eq 1 -and 2 -eq 3", "1 -eq 2 -or 'x'"]
    assert out(shell, "; ".join(lines)).split("\n")[:-1] == [
        "True", "False", "True", "True", "True", "True", "True", "True", "True", "True", "False", "True",
        "True", "False", "True", "False", "True"]
    assert out(shell, "'a','b','a' -eq 'A'") == "a\na\n"


def test_where_object_select_and_measure(shell: Shell) -> None:
    assert out(shell, "Get-Connector | Where-Object { $_.Name -like '*mail1' } | Select-Object Name,Port") == (
        "\nName                  Port\n----                  ----\nDefault MAIL1           25\n"
        "Client Frontend MAIL1  587\n\n")
    assert out(shell, "Get-Connector | ? { $_.Port -eq '25' -and -not $_.Tls } | select -First 1 | fl") == (
        "\nName : Outbound\nPort : 25\nTls  : False\n\n")
    assert out(shell, "(Get-Connector | Measure-Object).Count") == "3\n"
    assert out(shell, "Get-Connector | select -ExpandProperty Port") == "25\n587\n25\n"
    assert out(shell, "Get-Connector | % { $_.Port + 1 }") == "26\n588\n26\n"
    assert out(shell, "Get-Connector | sort Port -Descending | select -First 1 -ExpandProperty Name") == (
        "Client Frontend MAIL1\n")


def test_get_date_formats(shell: Shell) -> None:
    assert out(shell, "Get-Date -Format g") == "11/23/2026 1:05 PM\n"
    assert out(shell, "Get-Date -Format 'yyyy-MM-dd HH:mm:ss'") == "2026-11-23 13:05:07\n"
    assert out(shell, "Get-Date") == "\nMonday, November 23, 2026 1:05:07 PM\n\n"
    assert out(shell, '"$(Get-Date)"') == "11/23/2026 13:05:07\n"
    assert out(shell, "(Get-Date).Year") == "2026\n"


def test_write_host_and_write_output(shell: Shell) -> None:
    assert out(shell, "Write-Host 'Connector' created -ForegroundColor Green") == "Connector created\n"
    assert out(shell, "echo a b") == "a\nb\n"


def test_credentials(shell: Shell) -> None:
    shell.run("$cred = New-Object System.Management.Automation.PSCredential('user@contoso.com', "
              "(ConvertTo-SecureString 'P@ss' -AsPlainText -Force))")
    assert out(shell, "$cred.UserName; $cred.Password") == "user@contoso.com\nSystem.Security.SecureString\n"
    assert out(shell, "$cred") == (
        "\nUserName         Password\n--------         --------\n"
        "user@contoso.com System.Security.SecureString\n\n")
    assert out(shell, "$cred.GetNetworkCredential().Password") == "P@ss\n"
    shell.run("$c2 = Get-Credential admin")
    assert out(shell, "$c2.UserName") == "admin\n"


def test_credential_errors(shell: Shell) -> None:
    plain = shell.run("ConvertTo-SecureString 'pw' -AsPlainText").errors[0]
    assert plain.startswith("ConvertTo-SecureString : The system cannot protect plain text input.")
    assert "ImportSecureString_InvalidArgument,Microsoft.PowerShell.Commands.ConvertToSecureStringCommand" in plain
    bad_type = shell.run("New-Object Foo.Bar").errors[0]
    assert bad_type.splitlines()[0] == (
        "New-Object : Cannot find type [Foo.Bar]: verify that the assembly containing this type is loaded.")
    silent = Shell(Registry(), HostCallbacks(now=lambda: NOW))
    assert "NonInteractive mode" in silent.run("Get-Credential").errors[0]


def test_get_command_and_help(shell: Shell) -> None:
    text = out(shell, "Get-Command *-Connector")
    assert text == ("\nCommandType Name          Version Source\n----------- ----          ------- ------\n"
                    "Cmdlet      Get-Connector 15.2    Lab.Exchange\n\n")
    assert "Get-Date" in out(shell, "gcm")
    assert out(shell, "Get-Help Get-Connector") == (
        "\nNAME\n    Get-Connector\n\nSYNOPSIS\n    Lists connectors.\n\n\nSYNTAX\n"
        "    Get-Connector [[-Identity] <String>] [<CommonParameters>]\n\n")
    assert "The term 'Nope' is not recognized" in shell.run("Get-Command Nope").errors[0]


def test_methods(shell: Shell) -> None:
    assert out(shell, "'Mail1'.ToUpper(); 'a,b'.Split(',').Count; ' x '.Trim()") == "MAIL1\n2\nx\n"
    error = shell.run("'x'.Frobnicate()").errors[0]
    assert error.splitlines()[0] == "Method invocation failed because [System.String] does not contain a method named 'Frobnicate'."
    assert "You cannot call a method on a null-valued expression." in shell.run("$nothing.Trim()").errors[0]


def test_hashtable_output_and_assignment(shell: Shell) -> None:
    shell.run("$h = @{ Name = 'x'; Port = '25' }; $h.Port = 26")
    assert out(shell, "$h.port") == "26\n"
    assert out(shell, "$h") == "\nName Value\n---- -----\nName x\nPort 26\n\n"


def test_compound_assignment_and_format_operator(shell: Shell) -> None:
    shell.run("$n = 1; $n += 2; $list = @(); $list += 'a'")
    assert out(shell, "$n; $list.Count; '{0}-{1}' -f 'a','b'; 'a-b' -replace '-','+'; ('x','y') -join ';'") == (
        "3\n1\na-b\na+b\nx;y\n")


def test_empty_values_and_scalar_lists(shell: Shell) -> None:
    assert out(shell, "$h = @{}; $h") == ""
    assert out(shell, "1,2,3 | fl") == "1\n2\n3\n"
    assert out(shell, "@(1,2).Count; @().Count") == "2\n0\n"


def test_missing_assignment_value_is_a_parse_error(shell: Shell) -> None:
    assert shell.run("$x =").errors[0].splitlines()[3] == (
        "You must provide a value expression following the '=' operator.")


def test_get_credential_prompts_through_the_host(shell: Shell) -> None:
    shell.run("$c = Get-Credential")
    assert out(shell, "$c.UserName") == "prompted\n"
