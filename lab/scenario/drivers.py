"""The scenario drivers by name: ``live`` (loopback lab) and ``memory`` (in-memory lab)."""
from __future__ import annotations

from typing import Any

from lab.core.catalogue import lab as T
from lab.core.errors import LabRuntimeError
from lab.scenario.driver import ScenarioDriver


def available_drivers() -> list[str]:
    """The drivers this installation can run (``memory`` once lab.scenario.memory_driver exists)."""
    names = ["live"]
    try:
        from lab.scenario.memory_driver import MemoryDriver  # noqa: F401
    except ImportError:
        return names
    return names + ["memory"]


def make_driver(name: str, **options: Any) -> ScenarioDriver:
    """A new, unstarted driver."""
    if name == "live":
        from lab.scenario.live_driver import LiveDriver
        return LiveDriver(**options)
    if name == "memory":
        try:
            from lab.scenario.memory_driver import MemoryDriver
        except ImportError as exc:
            raise LabRuntimeError(T.NO_MEMORY_DRIVER.format(error=exc)) from None
        return MemoryDriver(**options)
    raise LabRuntimeError(f"unknown driver {name!r} (live, memory)")
