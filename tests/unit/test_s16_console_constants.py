"""$true, $false and $null are constants to the evaluator (Shell._variable reads them before the
session's variables), so a command whose arguments are literals or these three runs with the binding
the pre-flight made: held to a console that binds every command again when it runs, over lines that
mix them with variables, assignments to those names, arrays, splats, pipelines and binding errors."""
from __future__ import annotations

from lab.console import evaluator as E
from lab.console import ps_ast as ast
from lab.console.parser import parse
from lab.console.ps_static import commands, constant_arguments, is_literal

import test_ps_binding as B
from test_console_prebound import Rebinding, results

LINES = [
    "Set-Thing x -UseSsl:$false -Enabled:$true -Confirm:$false", "Set-Thing x -Enabled $TRUE",
    "Set-Thing $null", "Set-Thing x -TlsDomain $null", "$true = 5; Set-Thing x -Enabled:$true",
    "$null = 'y'; Set-Thing x -TlsDomain $null", "$false = 1; Set-Thing x -UseSsl:$false -Names a,$false",
    "Set-Thing x -Names $true,$null", "Set-Thing x -Names 'a',$false", "Set-Thing x -Port $true",
    "Set-Thing x -Enabled:$null", "Set-Thing x -Enabled 'yes'", "$p = 3; Set-Thing x -Port $p -Enabled $false",
    "$a = @{ Identity = 'x' }; Set-Thing @a -Enabled $true", "Get-Thing t 2 | Set-Thing -Enabled $false",
    "Set-Thing x -Enabled $true -Enabled $false", "Set-Thing -Enabled $true", "Set-Thing x $true $false",
    "Set-Thing x -Mode $null", "Get-Thing $null 1", "Set-Thing x -WhatIf:$true", "Set-Thing x -Port $x",
]


def test_constant_commands_bind_as_they_run():
    pair = []
    for cls in (E.Shell, Rebinding):
        registry = E.Registry()
        for c in (B.set_thing, B.get_thing):
            registry.register(c)
        pair.append(cls(registry, E.HostCallbacks(now=lambda: B.CLOCK)))
    assert results(pair[0], LINES) == results(pair[1], LINES)


def test_constant_arguments_is_is_literal_with_the_three_constants():
    seen = {True: 0, False: 0}
    for line in LINES + ["Set-Thing x -Port 587", "Set-Thing \"a$b\"", "Set-Thing x { 1 }", "Set-Thing (1)"]:
        for node, _ in commands(parse(line).statements):
            elements = [e.argument if isinstance(e, ast.CommandParameter) else e for e in node.elements]
            constants = [e for e in elements if isinstance(e, ast.Variable) and e.name.lower() in
                         ("true", "false", "null")]
            plain = all(is_literal(e) or e in constants or (isinstance(e, ast.ArrayLiteral) and all(
                is_literal(i) or (isinstance(i, ast.Variable) and i.name.lower() in ("true", "false", "null"))
                for i in e.items)) for e in elements) and not any(isinstance(e, ast.Splat) for e in elements)
            assert constant_arguments(node) == plain, line
            seen[plain] += 1
    assert seen[True] and seen[False]


def test_constants_are_bound_once(monkeypatch):
    registry = E.Registry()
    registry.register(B.set_thing)
    shell = E.Shell(registry, E.HostCallbacks(now=lambda: B.CLOCK))
    calls = []
    real = E.bind
    monkeypatch.setattr(E, "bind", lambda *a, **k: calls.append(1) or real(*a, **k))
    shell.run("Set-Thing x -UseSsl:$false -Enabled $true")
    assert len(calls) == 1  # the pre-flight's only
    shell.run("$p = 1; Set-Thing x -Port $p -Enabled $true")
    assert len(calls) == 3  # a variable: bound again when it runs
