"""Format-List / Format-Table text and the default output rule."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from lab.console.evaluator import HostCallbacks, Shell
from lab.console.format import format_list, format_table, render_default
from lab.console.registry import Registry

CLOCK = dt.datetime(2026, 11, 23, 13, 5, 7)


class Connector:
    """An Exchange-like record: display strings come from the record itself."""

    def __init__(self, name: str, port: int, enabled: bool = True):
        self.name, self.port, self.enabled = name, port, enabled

    def ps_properties(self) -> list[tuple[str, Any]]:
        return [("Identity", self.name), ("AddressSpaces", ["SMTP:*;1"]), ("Enabled", self.enabled),
                ("Port", self.port), ("MaxMessageSize", "36 MB (37,748,736 bytes)"), ("Fqdn", None),
                ("RemoteIPRanges", ["10.0.0.1", "10.0.0.2"])]

    def ps_default_table(self) -> list[str]:
        return ["Identity", "AddressSpaces", "Enabled"]


@dataclass
class Small:
    Name: str
    Port: int


@dataclass
class Wide:
    A: int
    B: int
    C: int
    D: int
    E: int


def test_format_list_pads_names_and_renders_values() -> None:
    assert format_list([Connector("Outbound to Office 365", 25)]) == (
        "\nIdentity       : Outbound to Office 365\n"
        "AddressSpaces  : {SMTP:*;1}\n"
        "Enabled        : True\n"
        "Port           : 25\n"
        "MaxMessageSize : 36 MB (37,748,736 bytes)\n"
        "Fqdn           :\n"
        "RemoteIPRanges : {10.0.0.1, 10.0.0.2}\n\n")


def test_format_list_selected_and_wildcard_properties_with_blank_line_between_records() -> None:
    records = [Connector("a", 25), Connector("b", 587, False)]
    assert format_list(records, ["Identity", "*able*"]) == (
        "\nIdentity : a\nEnabled  : True\n\nIdentity : b\nEnabled  : False\n\n")
    assert format_list(records[:1], ["*"]) == format_list(records[:1])


def test_format_table_headers_underlines_and_alignment() -> None:
    assert format_table([Small("Default MAIL1", 25), Small("Client Frontend MAIL1", 587)]) == (
        "\nName                  Port\n"
        "----                  ----\n"
        "Default MAIL1           25\n"
        "Client Frontend MAIL1  587\n\n")
    assert format_table([Connector("Outbound", 25)], ["Identity", "Port", "Fqdn"]) == (
        "\nIdentity Port Fqdn\n-------- ---- ----\nOutbound   25\n\n")


def test_enumeration_limit_is_sixteen_like_the_exchange_shell() -> None:
    record = {"Ranges": [str(i) for i in range(20)]}
    assert format_list([record]) == "\nRanges : {" + ", ".join(str(i) for i in range(16)) + "...}\n\n"


def test_default_view_rule() -> None:
    assert render_default([Connector("Outbound", 25)]) == (
        "\nIdentity AddressSpaces Enabled\n-------- ------------- -------\nOutbound {SMTP:*;1}    True\n\n")
    assert render_default([Small("x", 1)]).startswith("\nName Port\n")
    assert render_default([Wide(1, 2, 3, 4, 5)]) == "\nA : 1\nB : 2\nC : 3\nD : 4\nE : 5\n\n"
    assert render_default(["text", 5, True, None]) == "text\n5\nTrue\n"


@pytest.fixture
def shell() -> Shell:
    registry = Registry()
    registry.cmdlet("Get-SendConnector")(lambda inv: [Connector("Outbound to Office 365", 25),
                                                      Connector("Internet", 587, False)])
    return Shell(registry, HostCallbacks(now=lambda: CLOCK))


def test_pipeline_formatting_forms(shell: Shell) -> None:
    both = [Connector("Outbound to Office 365", 25), Connector("Internet", 587, False)]
    assert shell.run("Get-SendConnector | Format-List *").output_text == format_list(both)
    assert shell.run("Get-SendConnector | fl Identity,Port").output_text == format_list(both, ["Identity", "Port"])
    assert shell.run("Get-SendConnector | ft Identity,Port").output_text == format_table(both, ["Identity", "Port"])
    assert shell.run("Get-SendConnector | Format-Table -AutoSize").output_text == format_table(both)
    result = shell.run("Get-SendConnector | Select-Object Identity,Port")
    assert result.output_text == format_table(both, ["Identity", "Port"])
    assert shell.run("Get-SendConnector | Select -First 1 | fl Identity").output_text == (
        "\nIdentity : Outbound to Office 365\n\n")


def test_formatted_output_reports_the_records(shell: Shell) -> None:
    result = shell.run("Get-SendConnector | fl")
    assert [r.name for r in result.objects] == ["Outbound to Office 365", "Internet"]
