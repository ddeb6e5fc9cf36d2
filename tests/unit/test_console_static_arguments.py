"""The pre-flight reads a command's static arguments and whether they are all literals in one pass
(ps_static.static_arguments): held to the two passes it replaces (the evaluator's _arguments with
static_value, then its _literal over every element), verbatim below, over lines of every shape."""
from __future__ import annotations

from typing import Any

from lab.console import ps_ast as ast
from lab.console.binding import Arg
from lab.console.parser import parse
from lab.console.ps_static import commands, static_arguments, static_value

LINES = [
    "Set-Thing x -Port 587", "set-thing 'y' -tlsd contoso.com -UseSsl", "Set-Thing z -N a,b", "Set-Thing -Identity",
    "Set-Thing x -Port abc", "Set-Thing x y z", "Set-Thing", "Set-Thing x -Mode manual -Options @{ a = 1 }",
    "$p = 26; Set-Thing x -Port $p", "$a = @{ Identity = 'x' }; Set-Thing @a -UseSsl", "Set-Thing \"q$p\" -Port 1",
    "Get-Thing t 3 | Set-Thing", "Get-Thing | ForEach-Object { Set-Thing $_.Name -Port 9 }",
    "Set-Thing (Get-Thing t 1) -Port 2", "Set-Thing x -WhatIf", "Set-Thing x -UseSsl:$false -Enabled:$true",
    "Set-Thing 'x' -Names 'a','b' -Verbose", "Set-Thing x -Port 1 -Port 2", "Set-Thing \"plain\" 1,2,3 -A 1,$x",
    "Set-Thing -A:'b' -C:3 $true $null @(1) $(2)", "Set-Thing -Names 'a',\"b$c\" -X \"$(1)\"", "Send-It @s -X 1",
    "Get-Queue -Filter \"Status -eq 'Retry'\" | Format-List Identity,Status", "Write-Host ('a' + 'b') -NoNewline",
    "Set-Thing 1.5 0x10 -1 -P -2", "Get-Thing | Where-Object { $_.Port -gt 1 } | Set-Thing -Port 2 @rest",
]


def _literal(node: Any) -> bool:
    if node is None or isinstance(node, (ast.StringLiteral, ast.NumberLiteral)):
        return True
    if isinstance(node, ast.ExpandableString):
        return all(isinstance(p, str) for p in node.parts)
    if isinstance(node, ast.ArrayLiteral):
        return all(_literal(i) and i is not None for i in node.items)
    return False


def old(node: ast.Command) -> tuple[list[Arg], bool, bool]:
    args: list[Arg] = []
    partial = False
    for element in node.elements:
        if isinstance(element, ast.CommandParameter):
            has_value = element.argument is not None
            argument = static_value(element.argument) if element.argument is not None else None
            span = element.argument.span if element.argument is not None else None
            name_span = (element.span[0], element.span[0] + len(element.text.rstrip(":")))
            args.append(Arg(argument, span, element.name, has_value, name_span))
        elif isinstance(element, ast.Splat):
            partial = True
            continue
        else:
            args.append(Arg(static_value(element), element.span))
    literal = not partial and all(_literal(e.argument if isinstance(e, ast.CommandParameter) else e)
                                  for e in node.elements)
    return args, partial, literal


def test_static_arguments_as_the_two_passes() -> None:
    seen = {True: 0, False: 0}
    for line in LINES:
        for node, _ in commands(parse(line).statements):
            new = static_arguments(node)
            assert new == old(node), line
            # (made as Arg(...) makes them: the class itself, each field by name)
            assert all(type(a) is Arg for a in new[0]), line
            assert [a._asdict() for a in new[0]] == [a._asdict() for a in old(node)[0]], line
            seen[new[2]] += 1
    assert seen[True] and seen[False]  # (both answers met)


def test_known_as_static_value_and_is_literal() -> None:
    import random

    from lab.console.ps_static import _known, is_literal

    span = (0, 1)
    leaves = [ast.StringLiteral("a", span), ast.NumberLiteral(2, span), ast.ExpandableString(("x", "y"), span),
              ast.ExpandableString(("x", ast.Variable("p", span)), span), ast.Variable("true", span),
              ast.Variable("NULL", span), ast.Variable("p", span), ast.SubExpression((), span), None]
    rng = random.Random(8)

    def tree(depth: int):
        if depth == 0 or rng.random() < 0.5:
            return rng.choice(leaves)
        return ast.ArrayLiteral(tuple(tree(depth - 1) for _ in range(rng.randint(0, 3))), span)

    for _ in range(2000):
        node = tree(3)
        if node is None:
            continue
        assert _known(node) == (static_value(node), is_literal(node)), node
