"""The scenario drivers by name: ``live`` (loopback lab) and ``memory`` (in-memory lab)."""
from __future__ import annotations

from typing import Any

from lab.core.catalogue import lab as T
from lab.core.errors import LabRuntimeError
from lab.scenario.driver import ScenarioDriver

DRIVERS = ("live", "memory")


def available_drivers() -> list[str]:
    """The drivers every installation runs (a scenario must give the same outcomes under both)."""
    return list(DRIVERS)


def make_driver(name: str, **options: Any) -> ScenarioDriver:
    """A new, unstarted driver."""
    if name == "live":
        from lab.scenario.live_driver import LiveDriver
        return LiveDriver(**options)
    if name == "memory":
        from lab.scenario.memory_driver import MemoryDriver
        return MemoryDriver(**options)
    raise LabRuntimeError(T.UNKNOWN_DRIVER.format(name=name, names=", ".join(DRIVERS)))
