"""Exact, cheaper equivalents of two standard-library helpers the mail path calls per message.

- :func:`evolve` is ``dataclasses.replace`` for the lab's frozen records: a copy of the
  instance's fields with the changes applied, without ``__init__``'s per-field
  ``object.__setattr__``. Any class it cannot copy that way (``__post_init__``, ``InitVar`` or
  ``init=False`` fields, ``__slots__``) and any name that is not a field go to
  ``dataclasses.replace`` itself, which also raises what it raises.
- :func:`uuid5_text` is ``str(uuid.uuid5(namespace, name))`` without building the ``UUID``.
- :func:`frozen_init` (a class decorator, under ``@dataclass(frozen=True)``) gives such a record
  the same ``__init__`` (same parameters, defaults and default factories) storing its fields in
  the instance ``__dict__`` at once instead of one ``object.__setattr__`` per field; a class it
  cannot give one to keeps the dataclass's own. The dataclass's ``__init__`` stays on the class
  as ``__dataclass_init__`` (tests/unit/test_fastpath.py holds the two to the same instances).
"""
from __future__ import annotations

import dataclasses
import hashlib
import uuid
from typing import Any, TypeVar

T = TypeVar("T")

_set = object.__setattr__

# class -> its field names when evolve may copy its __dict__, else None
_COPYABLE: dict[type, frozenset[str] | None] = {}


def _copyable(cls: type) -> frozenset[str] | None:
    found = _COPYABLE.get(cls, False)
    if found is False:
        declared = getattr(cls, "__dataclass_fields__", None)
        fields = dataclasses.fields(cls) if declared is not None else ()
        ok = (declared is not None and len(fields) == len(declared)  # no InitVar / ClassVar pseudo-fields
              and not hasattr(cls, "__post_init__") and "__slots__" not in cls.__dict__ and all(f.init for f in fields))
        found = _COPYABLE[cls] = frozenset(f.name for f in fields) if ok else None
    return found  # type: ignore[return-value]


def evolve(obj: T, **changes: Any) -> T:
    """``dataclasses.replace(obj, **changes)`` (see the module docstring)."""
    cls = type(obj)
    names = _COPYABLE.get(cls, False)  # _copyable(cls), inline
    if names is False:
        names = _copyable(cls)
    if names is None or not names.issuperset(changes) or len(obj.__dict__) != len(names):
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    new = object.__new__(cls)
    fields = dict(obj.__dict__)
    fields.update(changes)
    _set(new, "__dict__", fields)
    return new


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``: SHA-1 of the namespace and the name, version 5, RFC 4122 variant."""
    held = _NAMESPACES.get(id(namespace))  # (the namespace, its bytes): UUID.bytes is a property
    if held is None:
        if len(_NAMESPACES) >= 64:
            _NAMESPACES.clear()
        held = _NAMESPACES[id(namespace)] = (namespace, namespace.bytes)
    # the first 16 octets in hex: version 5 is the high nibble of octet 6 (hex digit 12), variant 10 the
    # high bits of octet 8 (hex digit 16 keeps its low two bits)
    h = hashlib.sha1(held[1] + name.encode("utf-8")).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


# namespace UUIDs by id (each entry holds its UUID, an immutable object, so that the id stays its own)
_NAMESPACES: dict[int, tuple[uuid.UUID, bytes]] = {}
# a hex digit -> the digit with its high two bits set to 10 (the RFC 4122 variant)
_VARIANT = {f"{n:x}": f"{n & 0x3 | 0x8:x}" for n in range(16)}


#: every class given an __init__ by frozen_init (the tests compare each with its dataclass __init__)
FROZEN_INIT: list[type] = []


def frozen_init(cls: type[T]) -> type[T]:
    """See the module docstring: the frozen dataclass ``cls`` with a cheaper, equivalent ``__init__``."""
    names = _copyable(cls)
    fields = dataclasses.fields(cls) if names is not None else ()
    if names is None or any(f.kw_only for f in fields) or "__init__" not in cls.__dict__:
        return cls
    space: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    params, body = [], []
    for i, f in enumerate(fields):
        if f.default is not dataclasses.MISSING:
            space[f"_d{i}"] = f.default
            params.append(f"{f.name}=_d{i}")
            body.append(f"{f.name!r}: {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            space[f"_f{i}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f"{f.name!r}: _f{i}() if {f.name} is _MISSING else {f.name}")
        else:
            params.append(f.name)
            body.append(f"{f.name!r}: {f.name}")
    space["_set"] = _set
    source = f"def __init__(self, {', '.join(params)}):\n    _set(self, '__dict__', {{{', '.join(body)}}})\n"
    exec(source, space)  # as dataclasses builds its own __init__
    init = space["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__dataclass_init__ = cls.__init__  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]
    FROZEN_INIT.append(cls)
    return cls
