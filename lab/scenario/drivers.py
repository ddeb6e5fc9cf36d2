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
    # (each driver's module imported when first asked for; `import ... as` finds it loaded without the
    # per-call __path__ lookup a from-import of a loaded module makes)
    if name == "live":
        import lab.scenario.live_driver as live
        return live.LiveDriver(**options)
    if name == "memory":
        import lab.scenario.memory_driver as memory
        return memory.MemoryDriver(**options)
    raise LabRuntimeError(T.UNKNOWN_DRIVER.format(name=name, names=", ".join(DRIVERS)))
