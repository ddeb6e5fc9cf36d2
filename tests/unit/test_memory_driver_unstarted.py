"""A memory driver that is not started (or was stopped) refuses every call with LabRuntimeError."""
from __future__ import annotations

import pytest

from lab.core.errors import LabRuntimeError
from lab.scenario.memory_driver import MemoryDriver


@pytest.mark.parametrize("call", [
    lambda d: d.world,
    lambda d: d.console("ex1"),
    lambda d: d.run("Get-Queue", "ex1"),
    lambda d: d._source(None),
    lambda d: d.send(None),
    lambda d: d.advance(1.0),
    lambda d: d.mailbox("a@b"),
    lambda d: d.queues("ex1"),
    lambda d: d.messages("ex1"),
    lambda d: d.eop_queue(),
    lambda d: d.trace(),
])
def test_unstarted_driver_raises(call):
    driver = MemoryDriver()
    with pytest.raises(LabRuntimeError, match="not started"):
        call(driver)
    driver.stop()  # (stopping an unstarted driver is harmless, and a stopped one still refuses)
    with pytest.raises(LabRuntimeError, match="not started"):
        call(driver)
