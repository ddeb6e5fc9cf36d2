"""The parser: the language subset, PowerShell's parse errors, and robustness on random input."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.console import ps_ast as ast
from lab.console.evaluator import HostCallbacks, Shell
from lab.console.parser import ParseError, parse
from lab.console.registry import Registry

CLOCK = dt.datetime(2026, 11, 23, 13, 5, 7)


def only_command(text: str) -> ast.Command:
    (statement,) = parse(text).statements
    assert isinstance(statement, ast.Pipeline)
    (command,) = statement.elements
    assert isinstance(command, ast.Command)
    return command


def test_bare_words_are_string_arguments() -> None:
    command = only_command("Set-sendconnector out* mail.ixmsoft.com MS-Exch-SMTP-Accept-Any-Recipient 587")
    assert command.name == "Set-sendconnector"
    values = [e.value for e in command.elements]  # type: ignore[union-attr]
    assert values == ["out*", "mail.ixmsoft.com", "MS-Exch-SMTP-Accept-Any-Recipient", 587]
    assert [type(e) for e in command.elements] == [ast.StringLiteral] * 3 + [ast.NumberLiteral]


def test_parameters_colon_values_and_arrays() -> None:
    command = only_command("X -Confirm:$false -PermissionGroups AnonymousUsers,ExchangeServers -To 'a@x','b@y'")
    confirm, groups, groups_value, to, to_value = command.elements
    assert confirm == ast.CommandParameter("Confirm", ast.Variable("false", (11, 17)), "-Confirm:", (2, 17))
    assert isinstance(groups, ast.CommandParameter) and groups.argument is None
    assert isinstance(groups_value, ast.ArrayLiteral)
    assert [i.value for i in groups_value.items] == ["AnonymousUsers", "ExchangeServers"]  # type: ignore[union-attr]
    assert [i.value for i in to_value.items] == ["a@x", "b@y"]  # type: ignore[union-attr]


def test_typographic_quotes_and_dashes() -> None:
    command = only_command("Set-X \u2013Name \u201c<I> CN=a<S> CN=b\u201d \u2018it\u2019\u2019s\u2019")
    name, dq, sq = command.elements
    assert isinstance(name, ast.CommandParameter) and name.name == "Name"
    assert dq == ast.ExpandableString(("<I> CN=a<S> CN=b",), dq.span)  # type: ignore[union-attr]
    assert sq.value == "it\u2019s"  # type: ignore[union-attr]


def test_interpolation_parts() -> None:
    command = only_command('X "<I>$($cert.Issuer)<S>$name `$literal"')
    (string,) = command.elements
    assert isinstance(string, ast.ExpandableString)
    head, issuer, middle, name, tail = string.parts
    assert (head, middle, tail) == ("<I>", "<S>", " $literal")
    assert isinstance(issuer, ast.SubExpression) and isinstance(name, ast.Variable) and name.name == "name"


def test_comments_block_comments_continuation_and_separators() -> None:
    script = parse("<# header\n comment #> Get-A # trailing\nGet-B `\n  -Flag; Get-C")
    names = [s.elements[0].name for s in script.statements]  # type: ignore[union-attr]
    assert names == ["Get-A", "Get-B", "Get-C"]
    get_b = script.statements[1].elements[0]  # type: ignore[union-attr]
    assert [e.name for e in get_b.elements] == ["Flag"]  # type: ignore[union-attr]


def test_pipelines_and_script_blocks() -> None:
    (statement,) = parse("Get-X | ? { $_.Port -ge 25 } | Select -First 1").statements
    assert [c.name for c in statement.elements] == ["Get-X", "?", "Select"]  # type: ignore[union-attr]
    block = statement.elements[1].elements[0]  # type: ignore[union-attr]
    assert isinstance(block, ast.ScriptBlock) and block.text == " $_.Port -ge 25 "


def test_assignment_with_command_and_paren_expression() -> None:
    first, second = parse("$cert = Get-ExchangeCertificate -Thumbprint X\n$s = ('a - ' + (Get-Date -Format g))").statements
    assert isinstance(first, ast.Assignment) and first.target.name == "cert"  # type: ignore[union-attr]
    assert isinstance(second, ast.Assignment)
    paren = second.value.elements[0]  # type: ignore[union-attr]
    assert isinstance(paren, ast.ParenExpression) and isinstance(paren.pipeline.elements[0], ast.BinaryOp)  # type: ignore[union-attr]


def test_native_lines_tokenize() -> None:
    assert [e.value for e in only_command("Telnet 42.159.33.202 25").elements] == ["42.159.33.202", 25]  # type: ignore[union-attr]
    assert only_command("nslookup -type=mx xutonglin.com").raw == ("-type=mx", "xutonglin.com")


def test_numbers_with_multipliers_and_negatives() -> None:
    assert [e.value for e in only_command("X 35MB -5 0x10 1.5").elements] == [35 * 1024 * 1024, -5, 16, 1.5]  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "error_id", "message", "start"), [
    ('Write-Host "abc', "TerminatorExpectedAtEndOfString", 'The string is missing the terminator: ".', 11),
    ("Write-Host 'abc", "TerminatorExpectedAtEndOfString", "The string is missing the terminator: '.", 11),
    ("Get-X { $_", "MissingEndCurlyBrace", "Missing closing '}' in statement block or type definition.", 7),
    ("$h = @{ a = 1", "IncompleteHashLiteral", "The hash literal was incomplete.", 7),
    ("$h = @{ a 1 }", "MissingEqualsInHashLiteral", "Missing '=' operator after key in hash literal.", 9),
    ("(1 + 2", "MissingEndParenthesisInExpression", "Missing closing ')' in expression.", 6),
    ("$a $b", "UnexpectedToken", "Unexpected token '$b' in expression or statement.", 3),
    ("| fl", "EmptyPipeElement", "An empty pipe element is not allowed.", 0),
    ("Get-X | 'a'", "ExpressionsMustBeFirstInPipeline",
     "Expressions are only allowed as the first element of a pipeline.", 8),
    ("<# open", "MissingEndMultiLineComment", "The terminator '#>' is missing from the multiline comment.", 7),
    ("1 +", "ExpectedValueExpression", "You must provide a value expression following the '+' operator.", 2),
])
def test_parse_errors(text: str, error_id: str, message: str, start: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert (caught.value.error_id, caught.value.text, caught.value.start) == (error_id, message, start)


def test_parse_error_rendering_and_nothing_runs() -> None:
    ran: list[str] = []
    registry = Registry()
    registry.cmdlet("Set-A")(lambda inv: ran.append("a"))
    shell = Shell(registry, HostCallbacks(now=lambda: CLOCK))
    result = shell.run('Set-A; Write-Host "abc')
    assert ran == []
    assert result.output_text == (
        "At line:1 char:19\n"
        '+ Set-A; Write-Host "abc\n'
        "+ " + " " * 18 + "~~~~\n"
        'The string is missing the terminator: ".\n'
        "    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n"
        "    + FullyQualifiedErrorId : TerminatorExpectedAtEndOfString\n\n")


def test_parse_error_on_a_later_line_points_there() -> None:
    shell = Shell(Registry(), HostCallbacks(now=lambda: CLOCK))
    lines = shell.run("$a = 1\n$b = (2 +").errors[0].splitlines()
    assert lines[:3] == ["At line:2 char:9", "+ $b = (2 +", "+         ~"]


ALPHABET = st.sampled_from(list("ab-$@(){}[]|;,.'\"`#<>=+*/!?%&:_ 1\n\u201c\u201d\u2018\u2019\u2013") + [
    "Get-X", "-eq", "-like", "@{", "$(", "@(", "<#", "#>", "$_", "'x'", "\"y\"", " -P:", "fl"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_random_input_raises_only_parse_errors(text: str) -> None:
    try:
        script = parse(text)
    except ParseError as error:
        assert error.text and 0 <= error.start <= len(text)
        return
    assert isinstance(script, ast.Script)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_random_unicode_raises_only_parse_errors(text: str) -> None:
    try:
        parse(text)
    except ParseError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(ALPHABET, max_size=20).map("".join))
def test_shell_never_raises_on_random_input(text: str) -> None:
    result = Shell(Registry(), HostCallbacks(now=lambda: CLOCK)).run(text)
    assert isinstance(result.output_text, str)


@pytest.mark.parametrize("text", ["(" * 2000, "$(" * 500, "@{a=" * 400, "{" * 900])
def test_deep_nesting_is_a_parse_error_not_a_crash(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.error_id == "ScriptTooComplicated"


def test_needs_more_input_follows_powershell_continuation():
    from lab.console.parser import needs_more_input

    assert needs_more_input("$splat = @{ ## Define the name of the connector.")
    assert needs_more_input("$splat = @{ Name = 'x'\n  Port = 25")
    assert needs_more_input("Send-MailMessage -To 'a@b' `")
    assert needs_more_input('$x = "open string')
    assert not needs_more_input("$splat = @{ Name = 'x'\n  Port = 25 }")
    assert not needs_more_input("Get-Queue | fl")
    assert not needs_more_input("Get-Queue -Identity )")  # an error, not an unfinished statement
