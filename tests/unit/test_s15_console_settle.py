"""Registry.register settles a command and its parameters (settle: the same attributes, in a plain dict of
their own): the same objects, fields, order, equality and hash, still frozen, and their worked-out values
(signature, plain) still computed once and kept."""
from __future__ import annotations

import copy
import dataclasses

import pytest

from lab.console import registry as R
from lab.console.cmdlets import build_registry
from lab.console.registry import Cmdlet, Param, Registry, settle


def _snapshot(obj):
    return list(obj.__dict__.items())


def test_settle_keeps_every_attribute_in_order() -> None:
    param = Param("Identity", position=0, mandatory=True, aliases=("Id",))
    param.plain  # noqa: B018 (a worked-out value, kept in the dict)
    before, twin = _snapshot(param), copy.copy(param)
    settle(param)
    assert _snapshot(param) == before
    assert param == twin and hash(param) == hash(twin)
    with pytest.raises(dataclasses.FrozenInstanceError):
        param.name = "x"  # type: ignore[misc]


def test_register_settles_and_keeps_the_command() -> None:
    calls = []

    def fn(inv):
        calls.append(inv.params)

    params = (Param("Identity", position=0), Param("Port", int))
    command = Cmdlet("Set-Thing", fn, params)
    before = [_snapshot(command)] + [_snapshot(p) for p in params]
    registry = Registry()
    assert registry.register(command) is command
    assert [_snapshot(command)] + [_snapshot(p) for p in params] == before
    assert registry.resolve("set-thing") is command and command.params is params
    signature = command.signature
    assert command.signature is signature and signature.exact["port"] is params[1]


def test_every_lab_command_reads_as_declared() -> None:
    registry = build_registry(None)
    for command in registry.commands():
        assert list(command.__dict__)[:len(dataclasses.fields(Cmdlet))] == [f.name for f in dataclasses.fields(Cmdlet)]
        for param in command.params + R._SHARED:
            assert list(param.__dict__)[:len(dataclasses.fields(Param))] == [f.name for f in dataclasses.fields(Param)]
            assert param == Param(**{f.name: getattr(param, f.name) for f in dataclasses.fields(Param)})
