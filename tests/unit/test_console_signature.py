"""A command's Signature (what bind reads of its declaration) is worked out once per params tuple and
shared by every console's command declared with it; Param.element and is_list are kept per Param; convert
answers text parameters inline. Each is held here to the plain code it replaces (the walks and the
fresh element Param that Cmdlet.shape / all_params / exact_param and convert used), so a wrong shared
answer fails."""
from __future__ import annotations

import random
import typing

from lab.console import registry as REG
from lab.console.binding import _convert_scalar, convert
from lab.console.ps_values import to_string
from lab.console.registry import ANY, SWITCH, UNKNOWN, BindingError, Cmdlet, Param, signature_of

WORDS = ["Identity", "Name", "Port", "Force", "Confirm", "ErrorAction", "ea", "wi", "WhatIf", "Server", "vb",
         "Custom", "NAME", "identity", "Id", "x", "Rest"]
TYPES = [str, int, bool, float, dict, ANY, SWITCH, list, list[str], list[int]]


def random_params(rng: random.Random) -> tuple[Param, ...]:
    params = []
    for _ in range(rng.randint(0, 7)):
        params.append(Param(rng.choice(WORDS), rng.choice(TYPES), position=rng.choice([None, None, 0, 1, 2]),
                            mandatory=rng.random() < 0.3, pipeline=rng.random() < 0.3,
                            aliases=tuple(rng.sample(WORDS, rng.randint(0, 2))), remaining=rng.random() < 0.15))
    return tuple(params)


def plain(command: Cmdlet) -> dict[str, typing.Any]:
    """The facts as the walks over every parameter found them (the code Signature replaces)."""
    supports = command.should_process
    if supports is None:
        supports = command.name.split("-")[0].lower() in REG._SHOULD_PROCESS_VERBS
    extra = REG.COMMON_PARAMETERS + (REG.SHOULD_PROCESS_PARAMETERS if supports else ())
    every = tuple(command.params) + extra
    return {"all": every,
            "shape": (tuple(p for p in command.params if p.remaining),
                      tuple(sorted((p for p in command.params if p.position is not None), key=lambda p: p.position)),
                      tuple(p for p in command.params if p.mandatory)),
            "pipeline": tuple(p for p in command.params if p.pipeline),
            "exact": {w.lower(): next((p for p in every if p.name.lower() == w.lower()
                                       or w.lower() in (a.lower() for a in p.aliases)), None)
                      for w in WORDS + ["wi", "cf", "ov", "nothing", ""]}}


def test_signature_as_the_walks() -> None:
    rng = random.Random(11)
    for _ in range(500):
        params = random_params(rng)
        name = rng.choice(["Get-Thing", "Set-Thing", "Remove-Thing", "Test-Thing"])
        should = rng.choice([None, True, False])
        one = Cmdlet(name, lambda inv: None, params, should_process=should)
        expected = plain(one)
        for command in (one, Cmdlet(name, lambda inv: None, params, should_process=should),
                        Cmdlet(name, lambda inv: None, tuple(list(params)), should_process=should)):
            assert command.all_params == expected["all"]
            assert all(a is b for a, b in zip(command.all_params, expected["all"]))
            assert command.shape == expected["shape"]
            assert command.signature.pipeline == expected["pipeline"]
            for word, found in expected["exact"].items():
                assert command.exact_param(word) is found


def test_one_signature_per_declaration() -> None:
    params = (Param("Identity", ANY, position=0), Param("Port", int))
    a = Cmdlet("Set-Thing", lambda inv: None, params)
    b = Cmdlet("Set-Other", lambda inv: None, params)
    c = Cmdlet("Get-Thing", lambda inv: None, params)
    assert a.signature is b.signature is signature_of(params, True)
    assert c.signature is signature_of(params, False) and c.signature is not a.signature
    assert len(a.all_params) == len(c.all_params) + len(REG.SHOULD_PROCESS_PARAMETERS)
    equal = Cmdlet("Set-Thing", lambda inv: None, tuple(list(params)))  # an equal, other tuple: its own
    assert equal.signature is not a.signature and equal.all_params == a.all_params


def old_convert(param: Param, value: typing.Any, span: typing.Any) -> typing.Any:
    """convert as it was (fresh element Param per call, every scalar through _convert_scalar)."""
    if value is UNKNOWN:
        return UNKNOWN
    if param.type is list or typing.get_origin(param.type) is list:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        name = param.type_name
        args = typing.get_args(param.type)
        element = Param(param.name, args[0] if args else object, enum=param.enum, convert=param.convert,
                        type_name=name[:-2] if name and name.endswith("[]") else name)
        return [old_convert(element, item, span) for item in items]
    if isinstance(value, (list, tuple)) and param.type is not object:
        if len(value) != 1:
            return convert(param, value, span)  # (the same error: not what changed)
        value = value[0]
    if param.convert is not None and value is not None:
        try:
            return param.convert(value)
        except ValueError:
            return convert(param, value, span)  # (the same error: not what changed)
    if param.enum:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(param.enum):
            return param.enum[value]
        text = to_string(value).strip()
        for name in param.enum:
            if name.lower() == text.lower():
                return name
        return convert(param, value, span)  # (the same error: not what changed)
    return _convert_scalar(param, value, span)


class Text(str):
    pass


def outcome(fn, param, value):
    try:
        return ("ok", repr(fn(param, value, (0, 1))))
    except BindingError as error:
        return ("error", error.error_id, error.text)
    except Exception as error:  # noqa: BLE001 - the same exception either way
        return ("raised", type(error).__name__, str(error))


def test_convert_as_before() -> None:
    values = ["x", "", " 25 ", "abc", Text("sub"), 7, 2.5, None, True, ["a", "b"], ["one"], [], ("t",), {"k": 1},
              UNKNOWN, [1, None]]
    params = [Param("P", t, type_name=n) for t in TYPES for n in (None, "System.String[]")]
    params += [Param("L", list[str], enum=("Never", "OnFailure")), Param("C", list[int], convert=int),
               Param("E", str, enum=("x", "Ready")), Param("O", ANY, convert=str), Param("N", ANY, enum=("a", "x"))]
    for param in params:
        for value in values:
            assert outcome(convert, param, value) == outcome(old_convert, param, value), (param, value)
        if param.is_list:
            assert param.element is param.element  # (kept)
            assert param.element == Param(param.name, param.element_type, enum=param.enum, convert=param.convert,
                                          type_name=(param.type_name or "")[:-2] or None)
