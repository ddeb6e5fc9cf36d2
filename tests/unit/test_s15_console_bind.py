"""bind checks the mandatory parameters in one pass (the not-empty checks only when a value may be
refused) and takes every positional slot as it is when nothing was bound by name: held to the bind it
replaced (below, as it was), on random declarations and argument lists, answers and errors alike."""
from __future__ import annotations

import random
from typing import Any

from lab.console.binding import Arg, _check_not_empty, bind, convert, resolve_parameter
from lab.console.ps_values import to_string
from lab.console.registry import _COMMON_NAMES, SWITCH, UNKNOWN, BindingError, Cmdlet, Param
from lab.core.catalogue import console as msg

WORDS = ["Identity", "Name", "Port", "Force", "ErrorAction", "WhatIf", "Server", "Rest", "Tags", "Count"]
TYPES = [str, str, int, bool, object, SWITCH, list, list[str]]
VALUES = ["a", "", None, UNKNOWN, 3, "7", True, ["x", "y"], ["z"], [], "Stop", 0]


def reference_bind(command: Cmdlet, args: list[Arg], *, partial: bool = False, expects_input: bool = False
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """bind as it was before stop 15."""
    signature = command.signature
    exact = signature.exact
    bound: dict[str, Any] = {}
    positional: list[Arg] = []
    following = iter(args)
    for arg in following:
        name = arg.name
        if name is None:
            positional.append(arg)
            continue
        param = exact.get(name.lower())
        if param is None:
            param = resolve_parameter(command, name, arg.name_span)
        key = param.name
        if key in bound:
            raise BindingError(msg.PARAMETER_ALREADY_BOUND, "ParameterAlreadyBound", arg.name_span, name=key)
        if arg.has_value:
            source = arg
        elif param.type == SWITCH:
            bound[key] = True
            continue
        else:
            source = next(following, None)
            if source is None or source.name is not None:
                raise BindingError(msg.MISSING_ARGUMENT_FOR_PARAMETER, "MissingArgument", arg.name_span,
                                   name=key, type_name=param.display_type)
        bound[key] = convert(param, source.value, source.span)
    if positional:
        rest = None
        for p in signature.remaining:
            if p.name not in bound:
                rest = p
                break
        slots = [p for p in signature.by_position if p.name not in bound and p is not rest]
        leftovers: list[Any] = []
        for arg in positional:
            if slots:
                param = slots.pop(0)
                bound[param.name] = convert(param, arg.value, arg.span)
            elif rest is not None:
                leftovers.append(arg.value)
            elif not partial:
                shown = "System.Object[]" if isinstance(arg.value, list) else to_string(arg.value)
                raise BindingError(msg.POSITIONAL_PARAMETER_NOT_FOUND, "PositionalParameterNotFound", None,
                                   argument=shown)
        if rest is not None and leftovers:
            bound[rest.name] = convert(rest, leftovers if len(leftovers) > 1 or rest.is_list else leftovers[0],
                                       None)
    mandatory = signature.mandatory
    if mandatory:
        if not partial:
            for p in mandatory:
                if p.name not in bound and not (expects_input and p.pipeline):
                    missing = [q.name for q in mandatory if q.name not in bound and not (expects_input and q.pipeline)]
                    raise BindingError(msg.MISSING_MANDATORY_PARAMETER, "MissingMandatoryParameter", None,
                                       names="".join(" " + n for n in missing))
        for p in mandatory:
            value = bound.get(p.name, UNKNOWN)
            if value is not UNKNOWN and (value is None or value == ""):
                _check_not_empty(p, value)
    common = {k: v for k, v in bound.items() if k in _COMMON_NAMES}
    return {k: v for k, v in bound.items() if k not in _COMMON_NAMES}, common


def _outcome(fn, command, args, partial, expects_input):
    try:
        return ("ok", fn(command, args, partial=partial, expects_input=expects_input))
    except BindingError as error:
        return ("error", error.error_id, error.text, error.span)


def _command(rng: random.Random) -> Cmdlet:
    names = rng.sample(WORDS, rng.randint(1, 6))
    params = tuple(Param(n, rng.choice(TYPES), position=rng.choice([None, 0, 1, 2]), mandatory=rng.random() < 0.5,
                         pipeline=rng.random() < 0.3, remaining=rng.random() < 0.15) for n in names)
    return Cmdlet(rng.choice(["Get-Thing", "Set-Thing"]), lambda inv: None, params)


def _args(rng: random.Random, command: Cmdlet) -> list[Arg]:
    args = []
    for i in range(rng.randint(0, 5)):
        if rng.random() < 0.5:
            args.append(Arg(rng.choice(VALUES), (i, i + 1)))
        else:
            name = rng.choice([p.name for p in command.params] + ["ea", "wi", "Verbose", "Nope"])
            has_value = rng.random() < 0.8
            args.append(Arg(rng.choice(VALUES) if has_value else None, (i, i + 1), name, has_value, (i, i + 2)))
    return args


def test_bind_as_before() -> None:
    rng = random.Random(15)
    outcomes = set()
    for _ in range(6000):
        command = _command(rng)
        args = _args(rng, command)
        partial, expects_input = rng.random() < 0.2, rng.random() < 0.3
        got = _outcome(bind, command, args, partial, expects_input)
        assert got == _outcome(reference_bind, command, args, partial, expects_input), (command.params, args)
        outcomes.add(got[0] if got[0] == "ok" else got[1])
    # (every path was taken: a binding, and each error the mandatory and positional checks raise)
    assert {"ok", "MissingMandatoryParameter", "PositionalParameterNotFound",
            "ParameterArgumentValidationErrorNullNotAllowed",
            "ParameterArgumentValidationErrorEmptyStringNotAllowed"} <= outcomes
