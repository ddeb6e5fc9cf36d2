"""Parameter binding: names, prefixes, aliases, switches, positions, types and PowerShell's errors."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lab.console.evaluator import HostCallbacks, Shell
from lab.console.registry import ANY, HASHTABLE, SWITCH, Cmdlet, CmdletError, Invocation, Param, Registry, cmdlet
from lab.core.catalogue.cmdlets import WHATIF_SET_OBJECT

CALLS: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

CLOCK = dt.datetime(2026, 11, 23, 13, 5, 7)


@cmdlet("Set-Thing", [Param("Identity", ANY, position=0, mandatory=True, pipeline=True),
                      Param("Port", int), Param("TlsAuthLevel"), Param("TlsDomain"), Param("UseSsl", SWITCH),
                      Param("Enabled", bool), Param("Names", list[str], aliases=("N",)), Param("Options", HASHTABLE),
                      Param("Mode", enum=("Auto", "Manual"), type_name="Lab.Mode")])
def set_thing(inv: Invocation) -> None:
    CALLS.append((inv.name, dict(inv.params), dict(inv.common)))
    if inv.params["Identity"] == "bad":
        raise CmdletError("Thing 'bad' is broken.", "InvalidOperation", "bad", "BrokenThing",
                          "InvalidOperationException")
    if inv.should_process(WHATIF_SET_OBJECT, kind="thing", name=inv.params["Identity"]):
        inv.report_change()


@cmdlet("Get-Thing", [Param("Identity", position=0), Param("Count", int, position=1)])
def get_thing(inv: Invocation) -> Any:
    CALLS.append((inv.name, dict(inv.params), dict(inv.common)))
    return [{"Name": f"t{i}", "Port": 25 + i} for i in range(inv.params.get("Count", 2))]


@pytest.fixture
def shell() -> Shell:
    CALLS.clear()
    registry = Registry()
    registry.register(set_thing)
    registry.register(get_thing)
    registry.register(Cmdlet("Get-Local", lambda inv: (_ for _ in ()).throw(
        CmdletError("Local failure.", "ObjectNotFound", "x", "LocalFailure", "ItemNotFoundException"))))
    return Shell(registry, HostCallbacks(now=lambda: CLOCK))


def bound(shell: Shell, line: str) -> dict[str, Any]:
    result = shell.run(line)
    assert result.errors == [], result.output_text
    return CALLS[-1][1]


def test_named_positional_case_and_prefixes(shell: Shell) -> None:
    assert bound(shell, "set-thing x -port 587") == {"Port": 587, "Identity": "x"}
    assert bound(shell, "SET-THING -Ident 'y' -tlsd contoso.com") == {"Identity": "y", "TlsDomain": "contoso.com"}
    assert bound(shell, "Set-Thing z -N a,b") == {"Names": ["a", "b"], "Identity": "z"}


def test_switches_and_colon_values(shell: Shell) -> None:
    assert bound(shell, "Set-Thing x -UseSsl") == {"Identity": "x", "UseSsl": True}
    assert bound(shell, "Set-Thing x -UseSsl:$false -Enabled:$true") == {"Identity": "x", "UseSsl": False,
                                                                         "Enabled": True}
    shell.run("Set-Thing x -Confirm:$false -Verbose")
    assert CALLS[-1][2] == {"Confirm": False, "Verbose": True}


def test_enum_and_hashtable_values(shell: Shell) -> None:
    assert bound(shell, "Set-Thing x -Mode manual -Options @{ a = 1 }") == {
        "Identity": "x", "Mode": "Manual", "Options": {"a": 1}}


def test_variables_and_splat_bind(shell: Shell) -> None:
    shell.run("$p = 26; $args2 = @{ Identity = 'x'; UseSsl = $true }")
    assert bound(shell, "Set-Thing @args2 -Port $p") == {"Identity": "x", "UseSsl": True, "Port": 26}


def _error(shell: Shell, line: str) -> str:
    result = shell.run(line)
    assert len(result.errors) == 1
    return result.errors[0]


def test_unknown_parameter(shell: Shell) -> None:
    assert _error(shell, "Set-Thing x -Foo 1") == (
        "Set-Thing : A parameter cannot be found that matches parameter name 'Foo'.\n"
        "At line:1 char:13\n"
        "+ Set-Thing x -Foo 1\n"
        "+             ~~~~\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Set-Thing], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : NamedParameterNotFound,Set-Thing\n")


def test_ambiguous_prefix_lists_the_matches(shell: Shell) -> None:
    assert _error(shell, "Set-Thing x -T 1").splitlines()[0] == (
        "Set-Thing : Parameter cannot be processed because the parameter name 'T' is ambiguous. "
        "Possible matches include: -TlsAuthLevel -TlsDomain.")


def test_bad_int_value(shell: Shell) -> None:
    text = _error(shell, "Set-Thing x -Port abc")
    assert text.splitlines() == [
        "Set-Thing : Cannot process argument transformation on parameter 'Port'. Cannot convert value \"abc\" to "
        "type \"System.Int32\". Error: \"Input string was not in a correct format.\"",
        "At line:1 char:19",
        "+ Set-Thing x -Port abc",
        "+                   ~~~",
        "    + CategoryInfo          : InvalidData: (:) [Set-Thing], ParameterBindingArgumentTransformationException",
        "    + FullyQualifiedErrorId : ParameterArgumentTransformationError,Set-Thing",
    ]


def test_bool_parameter_refuses_strings(shell: Shell) -> None:
    assert "Cannot convert value \"System.String\" to type \"System.Boolean\". Boolean parameters accept only " \
           "Boolean values and numbers, such as $True, $False, 1 or 0." in _error(shell, "Set-Thing x -Enabled yes")


def test_missing_mandatory_missing_argument_duplicates_and_positional_overflow(shell: Shell) -> None:
    assert _error(shell, "Set-Thing -Port 1").splitlines()[0] == (
        "Set-Thing : Cannot process command because of one or more missing mandatory parameters: Identity.")
    assert _error(shell, "Set-Thing x -Port").splitlines()[0] == (
        "Set-Thing : Missing an argument for parameter 'Port'. Specify a parameter of type 'System.Int32' and try "
        "again.")
    assert _error(shell, "Set-Thing x -Port 1 -Port 2").splitlines()[0] == (
        "Set-Thing : Cannot bind parameter because parameter 'Port' is specified more than once. To provide "
        'multiple values to parameters that can accept multiple values, use the array syntax. For example, '
        '"-parameter value1,value2,value3".')
    assert _error(shell, "Set-Thing x y").splitlines()[:4] == [
        "Set-Thing : A positional parameter cannot be found that accepts argument 'y'.",
        "At line:1 char:1", "+ Set-Thing x y", "+ ~~~~~~~~~~~~~"]


def test_a_binding_error_anywhere_runs_nothing_of_the_line(shell: Shell) -> None:
    result = shell.run("Set-Thing a -Port 1; Set-Thing b -Nope 2")
    assert CALLS == [] and result.changed is False
    result = shell.run("$v = 5; Get-Thing | Set-Thing -Port 1 -Bogus")
    assert CALLS == [] and shell.variables.get("v") is None


def test_runtime_binding_error_stops_the_statement_only(shell: Shell) -> None:
    result = shell.run("$p = 'abc'; Set-Thing a -Port $p; Set-Thing b -Port 2")
    assert [c[1]["Identity"] for c in CALLS] == ["b"]
    assert "Cannot convert value \"abc\" to type \"System.Int32\"" in result.errors[0]
    assert result.changed


def test_pipeline_input_binds_identity_per_record(shell: Shell) -> None:
    result = shell.run("Get-Thing -Count 3 | Set-Thing -Port 1")
    assert [c[1] for c in CALLS[1:]] == [{"Port": 1, "Identity": {"Name": f"t{i}", "Port": 25 + i}} for i in range(3)]
    assert result.changed


def test_input_object_not_bound_when_identity_already_given(shell: Shell) -> None:
    result = shell.run("Get-Thing -Count 1 | Set-Thing x")
    assert result.errors[0].splitlines()[0] == (
        "Set-Thing : The input object cannot be bound to any parameters for the command either because the command "
        "does not take pipeline input or the input and its properties do not match any of the parameters that take "
        "pipeline input.")
    assert "ParameterBindingException" in result.errors[0]


def test_cmdlet_error_of_one_record_lets_the_others_run(shell: Shell) -> None:
    shell.run("$items = 'a','bad','c'")
    result = shell.run("$items | Set-Thing")
    assert [c[1]["Identity"] for c in CALLS] == ["a", "bad", "c"]
    assert result.errors == [
        "Set-Thing : Thing 'bad' is broken.\n"
        "At line:1 char:10\n"
        "+ $items | Set-Thing\n"
        "+          ~~~~~~~~~\n"
        "    + CategoryInfo          : InvalidOperation: (bad:String) [Set-Thing], InvalidOperationException\n"
        "    + FullyQualifiedErrorId : BrokenThing,Set-Thing\n"]
    assert result.changed


def test_error_action_silently_continue_hides_the_error(shell: Shell) -> None:
    assert shell.run("Set-Thing bad -ErrorAction SilentlyContinue").errors == []
    assert shell.run("Set-Thing bad -ea 0").errors == []
    assert len(shell.run("Set-Thing bad -ErrorAction Continue").errors) == 1


def test_what_if_changes_nothing(shell: Shell) -> None:
    result = shell.run("Set-Thing x -WhatIf")
    assert result.output_text == 'What if: Setting thing "x".\n'
    assert result.changed is False


def test_get_verbs_have_no_whatif(shell: Shell) -> None:
    assert "WhatIf" in _error(shell, "Get-Thing -WhatIf")


def test_local_cmdlet_error_shows_target(shell: Shell) -> None:
    assert _error(shell, "Get-Local").splitlines()[4] == (
        "    + CategoryInfo          : ObjectNotFound: (x:String) [Get-Local], ItemNotFoundException")


def test_backtick_continuation_binds_like_one_line(shell: Shell) -> None:
    assert bound(shell, "Set-Thing x `\n    -Port 25 `\n    -UseSsl") == {"Identity": "x", "Port": 25, "UseSsl": True}


def test_error_action_stop_ends_the_statement(shell: Shell) -> None:
    result = shell.run("'a','bad','c' | Set-Thing -ErrorAction Stop; Set-Thing d")
    assert [c[1]["Identity"] for c in CALLS] == ["a", "bad", "d"]
    assert len(result.errors) == 1


def test_changed_is_per_run(shell: Shell) -> None:
    assert shell.run("Set-Thing x").changed is True
    assert shell.run("Get-Thing").changed is False
    assert shell.run("Set-Thing bad").changed is False
