"""The shell makes each invocation with its host callbacks, itself and its registry's console host (for a
command run once, once per piped record, and a native command), and its records get frozen_init's
cheaper __init__ (held to the dataclass __init__ they replace)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from lab.console import evaluator as E
from lab.console.registry import Cmdlet, Param, Registry
from lab.core.fastpath import FROZEN_INIT

CLOCK = dt.datetime(2024, 5, 1, 9, 30)


def test_every_invocation_carries_the_shell_and_the_console_host():
    seen = []

    def note(inv):
        seen.append((inv.name, inv.host, inv.shell, inv.console_host, inv.input, inv.params, inv.args))
        return inv.params.get("Identity", "x")

    registry = Registry()
    registry.host = console_host = object()
    registry.register(Cmdlet("Get-Note", note, (Param("Identity", position=0, pipeline=True),)))
    registry.register(Cmdlet("Get-All", note, (), collect_input=True))
    registry.register(Cmdlet("note", note, native=True))
    callbacks = E.HostCallbacks(now=lambda: CLOCK)
    shell = E.Shell(registry, callbacks)
    result = shell.run("Get-Note a; 'b','c' | Get-Note; 'd','e' | Get-All; note -x y")
    assert not result.errors
    assert [s[0] for s in seen] == ["Get-Note", "Get-Note", "Get-Note", "Get-All", "note"]
    assert all(s[1] is callbacks and s[2] is shell and s[3] is console_host for s in seen)
    assert [s[4] for s in seen] == [[], ["b"], ["c"], ["d", "e"], []]
    assert seen[-1][6] == ["-x", "y"]
    other = Registry()
    other.register(registry.resolve("Get-Note"))
    seen.clear()
    E.Shell(other, callbacks).run("Get-Note z")
    assert seen[0][3] is None  # (a registry no module registered into: no console host)


@pytest.mark.parametrize("cls", [E.HostCallbacks, E.RunResult])
def test_frozen_init_records_build_what_the_dataclass_init_builds(cls):
    assert cls in FROZEN_INIT
    fields = dataclasses.fields(cls)
    values = [object() for _ in fields]
    for args, kwargs in [(values, {}), ((), {f.name: v for f, v in zip(fields, values)})]:
        a, b = object.__new__(cls), object.__new__(cls)
        cls.__init__(a, *args, **kwargs)
        cls.__dataclass_init__(b, *args, **kwargs)
        assert a.__dict__ == b.__dict__
    required = {f.name: object() for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    a, b = object.__new__(cls), object.__new__(cls)
    cls.__init__(a, **required)
    cls.__dataclass_init__(b, **required)
    assert a == b and list(a.__dict__) == list(b.__dict__)


def test_a_run_result_as_before():
    shell = E.Shell(Registry(), E.HostCallbacks(now=lambda: CLOCK))
    result = shell.run("'one'; 1 + 2")
    assert result == E.RunResult("one\n3\n", ["one", 3], [], False)
    failed = shell.run("Nope-Thing")
    assert failed.errors and failed.output_text == failed.errors[0] + "\n" and failed.objects == []
