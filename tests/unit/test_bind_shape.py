"""bind reads a command's leftover, positional and mandatory parameters from ``Cmdlet.shape``
(computed once per command) instead of walking every parameter on each call: held to bind as it
was (below, verbatim) over every lab cmdlet and random argument lists (named, prefixed, switches,
positional, leftovers, partial, piped), results and errors alike."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS
from typing import Any

import pytest

from lab.console import registry as REG
from lab.console.registry import (UNKNOWN, Arg, BindingError, Cmdlet, Param, Registry, _check_not_empty, bind,
                                  convert, resolve_parameter)
from lab.console.cmdlets import _modules


def old_bind(command: Cmdlet, args: list[Arg], *, partial: bool = False, expects_input: bool = False):
    msg = REG.msg
    bound: dict[str, Any] = {}
    positional: list[Arg] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.name is None:
            positional.append(arg)
            continue
        param = resolve_parameter(command, arg.name, arg.name_span)
        if param.name in bound:
            raise BindingError(msg.PARAMETER_ALREADY_BOUND, "ParameterAlreadyBound", arg.name_span, name=param.name)
        if param.is_switch and not arg.has_value:
            bound[param.name] = True
        elif arg.has_value:
            bound[param.name] = convert(param, arg.value, arg.span)
        else:
            if i >= len(args) or args[i].name is not None:
                raise BindingError(msg.MISSING_ARGUMENT_FOR_PARAMETER, "MissingArgument", arg.name_span,
                                   name=param.name, type_name=param.display_type)
            bound[param.name] = convert(param, args[i].value, args[i].span)
            i += 1
    own = [p for p in command.params]
    rest = next((p for p in own if p.remaining and p.name not in bound), None)
    slots = sorted((p for p in own if p.position is not None and p.name not in bound and p is not rest),
                   key=lambda p: p.position)
    leftovers: list[Any] = []
    for arg in positional:
        if slots:
            param = slots.pop(0)
            bound[param.name] = convert(param, arg.value, arg.span)
        elif rest is not None:
            leftovers.append(arg.value)
        elif not partial:
            shown = "System.Object[]" if isinstance(arg.value, list) else REG.to_string(arg.value)
            raise BindingError(msg.POSITIONAL_PARAMETER_NOT_FOUND, "PositionalParameterNotFound", None,
                               argument=shown)
    if rest is not None and leftovers:
        bound[rest.name] = convert(rest, leftovers if len(leftovers) > 1 or rest.is_list else leftovers[0], None)
    if not partial:
        missing = [p.name for p in own if p.mandatory and p.name not in bound and not (expects_input and p.pipeline)]
        if missing:
            raise BindingError(msg.MISSING_MANDATORY_PARAMETER, "MissingMandatoryParameter", None,
                               names="".join(" " + n for n in missing))
    for p in own:
        if p.mandatory and p.name in bound and bound[p.name] is not UNKNOWN:
            _check_not_empty(p, bound[p.name])
    common = {k: v for k, v in bound.items() if k in REG._COMMON_NAMES}
    return {k: v for k, v in bound.items() if k not in REG._COMMON_NAMES}, common


def commands() -> list[Cmdlet]:
    registry = Registry()
    host = NS(session=NS(server="ex01"), world=None)
    for module in _modules():
        module.register(registry, host)
    extra = [Cmdlet("Test-Shape", lambda inv: None, (
        Param("B", position=2), Param("A", position=0, mandatory=True), Param("C", position=2),
        Param("Rest", list, remaining=True), Param("M", mandatory=True, pipeline=True), Param("S", REG.SWITCH))),
        Cmdlet("Test-Rest", lambda inv: None, (Param("Rest", remaining=True), Param("P", int, position=0)))]
    return registry.commands() + extra


VALUES = ["x", "", "25", "abc def", 7, None, ["a", "b"], [], True, UNKNOWN, "$true", "Ready"]


def outcome(fn, command, args, partial, expects_input):
    try:
        return ("ok", repr(fn(command, args, partial=partial, expects_input=expects_input)))
    except BindingError as e:
        return ("error", e.error_id, e.text)
    except Exception as e:  # noqa: BLE001 - the same exception either way
        return ("raised", type(e).__name__, str(e))


@pytest.mark.parametrize("seed", range(6))
def test_bind_matches_the_walk_over_every_parameter(seed):
    rng = random.Random(seed)
    for command in commands():
        names = [p.name for p in command.all_params] + [p.name[:2] for p in command.params] + ["Nope"]
        for _ in range(25):
            args = []
            for _ in range(rng.randint(0, 5)):
                roll = rng.random()
                if roll < 0.45:
                    args.append(Arg(rng.choice(VALUES), (0, 1)))
                elif roll < 0.6:
                    args.append(Arg(None, None, rng.choice(names), False, (0, 1)))
                else:
                    args.append(Arg(rng.choice(VALUES), (0, 1), rng.choice(names), True, (0, 1)))
            partial, expects_input = rng.random() < 0.2, rng.random() < 0.3
            assert outcome(bind, command, args, partial, expects_input) == \
                outcome(old_bind, command, args, partial, expects_input), (command.name, args)
