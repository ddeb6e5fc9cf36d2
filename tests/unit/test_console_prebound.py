"""A command whose arguments are all literals runs with the binding the pre-flight made (binding
is pure, literals evaluate to what the pre-flight read): held to a console that binds every command
again when it runs, over lines of every shape (literals, variables, splats, pipelines, script
blocks, sub-expressions, errors), on the test cmdlets and on the lab's own (a scenario's world)."""
from __future__ import annotations

from pathlib import Path

import pytest

from lab.console import evaluator as E
from lab.scenario import catalog, play
from lab.scenario.memory_driver import MemoryDriver

import test_ps_binding as B

LINES = [
    "Set-Thing x -Port 587", "set-thing 'y' -tlsd contoso.com -UseSsl", "Set-Thing z -N a,b", "Set-Thing -Identity",
    "Set-Thing x -Port abc", "Set-Thing x y z", "Set-Thing", "Set-Thing x -Mode manual -Options @{ a = 1 }",
    "$p = 26; Set-Thing x -Port $p", "$a = @{ Identity = 'x' }; Set-Thing @a -UseSsl", "Set-Thing \"q$p\" -Port 1",
    "Get-Thing t 3 | Set-Thing", "Get-Thing | ForEach-Object { Set-Thing $_.Name -Port 9 }",
    "Set-Thing (Get-Thing t 1) -Port 2", "Set-Thing bad", "Set-Thing x -WhatIf", "Get-Local; Set-Thing x -Port 1",
    "Set-Thing x -Port 1; Set-Thing x -Port 2; Get-Thing", "Set-Thing x -UseSsl:$false -Enabled:$true -Confirm:$false",
    "Set-Thing 'x' -Names 'a','b' -Verbose", "Nope-Thing x", "Set-Thing x -Port 1 -Port 2",
]


class Rebinding(E.Shell):
    """Every command bound again when it runs (the pre-flight's binding never used)."""

    def _preflight(self, statements):
        super()._preflight(statements)
        self._prebound.clear()


def results(shell, lines):
    out = []
    for line in lines:
        B.CALLS.clear()
        r = shell.run(line)
        out.append((r.output_text, repr(r.objects), r.errors, r.changed, repr(B.CALLS)))
    return out


def test_literal_commands_bind_as_they_run():
    pair = []
    for cls in (E.Shell, Rebinding):
        registry = E.Registry()
        for c in (B.set_thing, B.get_thing):
            registry.register(c)
        registry.register(E.Cmdlet("Get-Local", lambda inv: (_ for _ in ()).throw(
            E.CmdletError("Local failure.", "ObjectNotFound", "x", "LocalFailure", "ItemNotFoundException"))))
        pair.append(cls(registry, E.HostCallbacks(now=lambda: B.CLOCK)))
    assert results(pair[0], LINES) == results(pair[1], LINES)


def test_the_preflight_binding_is_used(monkeypatch):
    registry = E.Registry()
    registry.register(B.set_thing)
    shell = E.Shell(registry, E.HostCallbacks(now=lambda: B.CLOCK))
    calls = []
    real = E.bind
    monkeypatch.setattr(E, "bind", lambda *a, **k: calls.append(1) or real(*a, **k))
    shell.run("Set-Thing x -Port 587")
    assert len(calls) == 1  # the pre-flight's only
    shell.run("$p = 1; Set-Thing x -Port $p")
    assert len(calls) == 3  # a variable: bound again when it runs


@pytest.mark.parametrize("stem", ["04-untrusted-certificate", "05-stale-tls-certificate-name", "10-expiry"])
def test_scenario_console_lines_on_both(stem, monkeypatch):
    from lab.console import transcript

    scenario = next(s for s in catalog.load_all(catalog.scenario_dir(Path("scenarios"))) if s.stem == stem)
    lines = [(line.shell or scenario.shell, line.run) for line in scenario.setup] + \
        [(step.shell or scenario.shell, step.run) for step in scenario.steps if step.run]
    assert lines
    seen, made = [], []
    for cls in (E.Shell, Rebinding):
        monkeypatch.setattr(transcript, "Shell", lambda *a, cls=cls: made.append(cls) or cls(*a))
        driver = MemoryDriver()
        driver.start(play.topology_of(scenario), None)
        seen.append([(r.output, r.errors) for r in (driver.run(text, shell) for shell, text in lines)])
        driver.stop()
    assert Rebinding in made and E.Shell in made
    assert seen[0] == seen[1]
