"""Every console's registry declares the same commands, each with its own functions: registry.declared
copies the first command built for a declaration (fields and signature) instead of building it again.
Held here to building every command afresh (the code it replaces), over every cmdlet module, for a
first and a second console, and to the old formulas of _common.add and the lab cmdlets."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace as NS

import pytest

from lab.console import registry as REG
from lab.console.cmdlets import _common, _modules
from lab.console.registry import Cmdlet, Param, Registry


def fresh(fn, key, params, build, *args):
    """declared without its memo: the command built as it is, with fn."""
    made = build(*args)
    return dataclasses.replace(made, fn=fn)


def fields(command: Cmdlet) -> tuple:
    return tuple((f.name, getattr(command, f.name) if f.name != "fn" else command.fn.__qualname__)
                 for f in dataclasses.fields(Cmdlet))


def build_all(host) -> list[Cmdlet]:
    registry = Registry()
    for module in _modules():
        module.register(registry, host)
    return registry.commands()


def test_declared_commands_as_built_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = [NS(session=NS(server="ex01"), world=None), NS(session=NS(server="ex02"), world=None)]
    shared = [build_all(h) for h in hosts]  # (the second console copies what the first built)
    for module in (*_modules(), _common):
        if hasattr(module, "declared"):
            monkeypatch.setattr(module, "declared", fresh)
    plain = [build_all(h) for h in hosts]
    for one, two in zip(shared, plain):
        assert [fields(c) for c in one] == [fields(c) for c in two]
        assert [c.signature.exact for c in one] == [c.signature.exact for c in two]
    assert all(a.fn is not b.fn for a, b in zip(*shared) if a.name == b.name and a.fn.__closure__)  # each its own
    assert len({id(c) for c in shared[0] + shared[1]}) == 2 * len(shared[0])


def test_add_and_lab_cmdlets_as_the_old_formulas() -> None:
    params = (Param("Identity", position=0),)
    fn = lambda inv: None  # noqa: E731
    registry = Registry()
    for remote in (True, False, True):
        made = _common.add(registry, "Set-Thing", fn, params, remote=remote)
        old = Cmdlet("Set-Thing", fn, tuple(params), remote=remote,
                     implementing_type=f"{_common.TASKS}.{_common.task_name('Set-Thing')}" if remote else "",
                     module="Microsoft.Exchange.Management.PowerShell" if remote else "")
        assert made == old and made.fn is fn and made.signature is old.signature
    other = (Param("Identity", position=0),)  # an equal, other tuple: its own declaration
    assert _common.add(registry, "Set-Thing", fn, other).params is other
    assert _common.add(registry, "Set-Thing", fn, list(params)).params == params  # (a list: built as it is)
    from lab.console.cmdlets import lab_network, lab_tools
    for module in (lab_tools, lab_network):
        for options in ({}, {"should_process": False}):
            made = module._lab_cmdlet("Get-LabThing", fn, params, **options)
            assert made == Cmdlet("Get-LabThing", fn, tuple(params), module="Lab", synopsis="lab: Get-LabThing",
                                  **options)
    assert REG._PROTOTYPES  # (the memo in use)
