"""Every console's registry holds the same commands (they act on ``inv.console_host``), and
registry.declared copies the first command built for a declaration (fields and signature) instead of
building it again: held to the old formulas of _common.add and the lab cmdlets."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace as NS

from lab.console import registry as REG
from lab.console.cmdlets import _common, _modules
from lab.console.registry import Cmdlet, Param, Registry


def fields(command: Cmdlet) -> tuple:
    return tuple((f.name, getattr(command, f.name) if f.name != "fn" else command.fn.__qualname__)
                 for f in dataclasses.fields(Cmdlet))


def build_all(host) -> Registry:
    registry = Registry()
    for module in _modules():
        module.register(registry, host)
    return registry


def test_every_console_shares_the_declared_commands() -> None:
    """The commands read their host from the invocation: every registry holds the same command objects
    (one per declaration), its host the one it was registered for, each signature as worked out afresh."""
    hosts = [NS(session=NS(server="ex01"), world=None), NS(session=NS(server="ex02"), world=None)]
    one, two = (build_all(h) for h in hosts)
    assert (one.host, two.host) == tuple(hosts)
    assert [fields(c) for c in one.commands()] == [fields(c) for c in two.commands()]
    assert all(a is b for a, b in zip(one.commands(), two.commands()))
    for command in one.commands():
        cells = [c.cell_contents for c in command.fn.__closure__ or ()]
        assert not any(c is h for c in cells for h in hosts), command.name  # (no function keeps a console's host)
        fresh = dataclasses.replace(command)  # (a new command of the same fields: its signature worked out anew)
        assert fresh.signature.exact == command.signature.exact and fresh.all_params == command.all_params


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
