"""A stopped in-memory lab is freed by reference counting when the driver drops it (no reference
cycle left for the collector), after a scenario that used every part of it; what it recorded
stays readable through references taken before."""
from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from lab.scenario import catalog, play
from lab.scenario.memory_driver import MemoryDriver
from lab.scenario.runner import run_scenario


@pytest.mark.parametrize("stem", ["04-untrusted-certificate", "10-expiry", "11-tmg-publishing-missing"])
def test_stopped_lab_is_freed_without_the_collector(stem):
    scenario = next(s for s in catalog.load_all(catalog.scenario_dir(Path("scenarios"))) if s.stem == stem)
    driver = MemoryDriver()
    driver.start(play.topology_of(scenario), None)
    assert run_scenario(driver, scenario).ok
    lab = driver.lab
    events = lab.events
    mailboxes = lab.mailboxes
    before = len(events)
    gone = weakref.ref(lab)
    transports = [weakref.ref(t) for t in lab.transports.values()]
    del lab
    gc.disable()
    try:
        driver.stop()
        assert gone() is None
        assert all(t() is None for t in transports)
    finally:
        gc.enable()
    assert len(events) == before and before > 0 and mailboxes.boxes
