"""Console fast paths held to the plain code they replace (each test fails if its fast path is wrong):
Param.is_list's shortcut for plain classes, matching() with the wildcard test hoisted, LabConsole's
host callbacks kept when nothing they hold changed, and the binder handing back its own dict when no
common parameter was given."""
from __future__ import annotations

import abc
import random
import typing

from lab.console import registry as Reg
from lab.console.cmdlets._common import matching
from lab.console.evaluator import HostCallbacks
from lab.console.ps_values import like
from lab.console.registry import ANY, HASHTABLE, SWITCH, Arg, Cmdlet, Param, bind


class _Meta(abc.ABC):
    pass


class _Listish(list):
    pass


def test_is_list_as_typing_says() -> None:
    kinds = [str, int, bool, float, dict, object, ANY, HASHTABLE, SWITCH, "switch", list, tuple, list[str],
             list[int], typing.List[str], typing.Sequence[str], tuple[str, ...], dict[str, int], _Meta, _Listish,
             typing.Any, typing.Optional[list], None, bytes]
    for kind in kinds:
        assert Param("X", kind).is_list is (kind is list or typing.get_origin(kind) is list), kind


def _matching_reference(items, pattern, *keys):
    out = []
    for item in items:
        names = [k(item) for k in keys]
        if any(like(n, pattern) if any(ch in pattern for ch in "*?[") else n.lower() == pattern.lower()
               for n in names):
            out.append(item)
    return out


def test_matching_as_the_plain_loop() -> None:
    rng = random.Random(11)
    words = ["Default Frontend EX01", "Client Proxy EX01", "Outbound to Office365", "Internet", "internet",
             "EX01", "ex02", "Relay [test]", "a?b", "", "*"]
    patterns = words + ["*", "default*", "*EX0?", "INTERNET", "Relay *", "[a-e]*", "?", "x*y", "ex0[12]"]
    for _ in range(300):
        items = [(rng.choice(words), rng.choice(words)) for _ in range(rng.randint(0, 6))]
        pattern = rng.choice(patterns)
        for keys in ([lambda t: t[0]], [lambda t: t[0], lambda t: t[1]]):
            assert matching(items, pattern, *keys) == _matching_reference(items, pattern, *keys)


def test_console_callbacks_follow_the_session() -> None:
    from tests.unit.cmdlets_support import console

    lab_console = console("ex01")
    lab_console._sync_callbacks(lab_console.host.world)
    first = lab_console.shell.host
    lab_console._sync_callbacks(lab_console.host.world)
    assert lab_console.shell.host is first  # nothing changed: the same callbacks
    lab_console.host.session.tenant = "contoso"
    lab_console._sync_callbacks(lab_console.host.world)
    changed = lab_console.shell.host
    assert changed.computer_name == "outlook.office365.com" and changed.read_credential is first.read_credential
    lab_console.host.session.tenant = None
    lab_console._sync_callbacks(lab_console.host.world)
    back = lab_console.shell.host
    assert back.computer_name == first.computer_name and back.now == lab_console.host.clock_now
    assert isinstance(back, HostCallbacks)


def test_bind_splits_common_parameters_as_the_comprehensions() -> None:
    command = Cmdlet("Set-Thing", lambda inv: None, (Param("Identity", position=0), Param("Port", int),
                                                    Param("Force", SWITCH)))
    cases = [
        [Arg("x", (0, 1)), Arg(25, (2, 3), "Port")],
        [Arg("x", (0, 1)), Arg(None, None, "Force", False, (4, 5)), Arg(None, None, "WhatIf", False, (6, 7))],
        [Arg("x", (0, 1)), Arg("Stop", (2, 3), "ErrorAction"), Arg(1, (4, 5), "Port")],
        [Arg(None, None, "Verbose", False, (0, 1)), Arg(None, None, "Confirm", True, (2, 3))],
    ]
    for args in cases:
        params, common = bind(command, args)
        every = {**params, **common}
        assert common == {k: v for k, v in every.items() if k in Reg._COMMON_NAMES}
        assert params == {k: v for k, v in every.items() if k not in Reg._COMMON_NAMES}
        assert list(params) == [k for k in every if k not in Reg._COMMON_NAMES]
