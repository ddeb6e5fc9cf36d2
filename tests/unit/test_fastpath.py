"""lab.core.fastpath: evolve is dataclasses.replace, uuid5_text is str(uuid.uuid5(...))."""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import InitVar, dataclass, field

import pytest

from lab.core.catalogue import Reply
from lab.core.exchange.queue_records import QueuedMessage
from lab.core.fastpath import evolve, uuid5_text


@dataclass(frozen=True)
class Plain:
    a: int
    b: tuple[str, ...] = ()
    c: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Checked:
    a: int

    def __post_init__(self):
        if self.a < 0:
            raise ValueError("negative")


@dataclass(frozen=True)
class WithInitVar:
    a: int
    scale: InitVar[int] = 1


@dataclass(frozen=True)
class Derived:
    a: int
    twice: int = field(init=False, default=0)


@dataclass(frozen=True, slots=True)
class Slotted:
    a: int


@pytest.mark.parametrize("obj, changes", [
    (Plain(1), {"a": 2}), (Plain(1, ("x",)), {"b": ("y", "z"), "c": [3]}), (Plain(1), {}),
    (QueuedMessage(7, "<a@b>", "x@y", ("u@d", "v@d"), b"data", 1.5), {"done": ("u@d",)}),
    (QueuedMessage(7, "<a@b>", "x@y", ("u@d",), b"data", 1.5), {"delay_dsn_sent": True}),
    (Checked(1), {"a": 2}), (WithInitVar(1), {"a": 2}), (Derived(1), {"a": 3}), (Slotted(1), {"a": 2}),
])
def test_evolve_is_replace(obj, changes):
    made, expected = evolve(obj, **changes), dataclasses.replace(obj, **changes)
    assert made == expected and type(made) is type(expected) and repr(made) == repr(expected)
    assert made is not obj


def test_evolve_refuses_what_replace_refuses():
    with pytest.raises(TypeError):
        evolve(Plain(1), nope=2)
    with pytest.raises(ValueError):
        evolve(Checked(1), a=-1)  # __post_init__ still runs: the class goes through replace
    with pytest.raises(dataclasses.FrozenInstanceError):
        evolve(Plain(1), a=2).a = 3  # the copy is as frozen as the original


def test_evolve_of_a_reply_with_its_line_remembered_is_a_fresh_reply():
    reply = Reply(550, "5.1.1", "one")
    reply.line()
    assert evolve(reply, text="two").line() == "550 5.1.1 two"


def test_uuid5_text_is_the_standard_uuid5():
    for namespace in (uuid.NAMESPACE_DNS, uuid.UUID("5b0c2f1e-3c55-4a53-9a0e-8f1f6f1b7a11")):
        for name in ["", "1", "ex01.contoso.com/boot/5111011082241", "dsn/ü/✓", "x" * 300] + [str(i) for i in range(500)]:
            assert uuid5_text(namespace, name) == str(uuid.uuid5(namespace, name))


def test_trace_extend_is_add_step_by_step():
    from lab.core.trace import Step, Trace  # noqa: PLC0415
    steps = [Step("r1", "one", None, 1.0), Step("r2", "two", "250 ok", 2.0)]
    for start in (Trace("<m@x>"), Trace("<m@x>").add("EX01", Step("r0", "zero", None, 0.0)),
                  Trace("<m@x>").add("EX02", Step("r0", "zero", None, 0.0))):
        stepwise = start
        for step in steps:
            stepwise = stepwise.add("EX01", step)
        assert start.extend("EX01", steps) == stepwise and start.extend("EX01", iter(steps)) == stepwise
        assert start.extend("EX01", []) == start


# --- frozen_init: the records given a cheaper __init__ build the instances the dataclass __init__ builds


def _frozen_init_classes():
    import lab.memory.lab  # noqa: F401  (imports every module whose records are decorated)
    import lab.probes.memory_driver  # noqa: F401
    import lab.console.registry  # noqa: F401  (cmdlets and their parameters: built per console)
    from lab.core.fastpath import FROZEN_INIT
    return list(FROZEN_INIT)


def _built(cls, init, *args, **kwargs):
    obj = object.__new__(cls)
    init(obj, *args, **kwargs)
    return obj


def test_frozen_init_covers_the_hot_records():
    names = {c.__qualname__ for c in _frozen_init_classes()}
    assert {"Decision", "Step", "Trace", "Persist", "DeliverLocal", "QueuedMessage", "TrackingEvent", "TlsFacts",
            "SubmitResult", "Outcome", "SendResult", "MxResult", "Param", "Cmdlet"} <= names  # (Arg: a named tuple)


@pytest.mark.parametrize("cls", _frozen_init_classes(), ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_frozen_init_builds_what_the_dataclass_init_builds(cls):
    import inspect
    fields = dataclasses.fields(cls)
    fast, slow = cls.__init__, cls.__dataclass_init__
    assert [(p.name, p.kind) for p in inspect.signature(fast).parameters.values()] == \
           [(p.name, p.kind) for p in inspect.signature(slow).parameters.values()]
    values = [object() for _ in fields]
    # every field given, positionally and by keyword: the very objects stored
    for args, kwargs in [(values, {}), ((), {f.name: v for f, v in zip(fields, values)})]:
        a, b = _built(cls, fast, *args, **kwargs), _built(cls, slow, *args, **kwargs)
        assert a.__dict__ == b.__dict__ and all(a.__dict__[f.name] is v for f, v in zip(fields, values))
    # only the required ones: the same defaults (the same objects), factories called anew
    required = [f for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    kwargs = {f.name: object() for f in required}
    a, b = _built(cls, fast, **kwargs), _built(cls, slow, **kwargs)
    assert a == b and list(a.__dict__) == list(b.__dict__)
    for f in fields:
        if f.default is not dataclasses.MISSING:
            assert a.__dict__[f.name] is f.default
        elif f.default_factory is not dataclasses.MISSING:
            assert a.__dict__[f.name] == b.__dict__[f.name]
    # what the dataclass __init__ refuses, this one refuses
    for bad_args, bad_kwargs in [((), {}), ([*values, object()], {}), ((), {**kwargs, "no_such_field": 1})]:
        if not required and not bad_args and not bad_kwargs:
            continue
        with pytest.raises(TypeError):
            _built(cls, slow, *bad_args, **bad_kwargs)
        with pytest.raises(TypeError):
            _built(cls, fast, *bad_args, **bad_kwargs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(a, fields[0].name, 1)


def test_frozen_init_leaves_what_it_cannot_copy_alone():
    from lab.core.fastpath import frozen_init
    for cls in (Checked, WithInitVar, Derived, Slotted):
        init = cls.__init__
        assert frozen_init(cls) is cls and cls.__init__ is init and "__dataclass_init__" not in cls.__dict__
    with pytest.raises(ValueError):
        Checked(-1)
