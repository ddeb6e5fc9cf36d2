"""The memory driver holds lab.runtime's builders once imported (a function-level ``from ... import``
costs ~8k instructions a call even with the module loaded), and still imports lab.runtime only when a
driver first starts: importing the driver module leaves it out."""
from __future__ import annotations

import dis
import subprocess
import sys
from pathlib import Path

from lab.scenario import memory_driver
from lab.topology.load import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"


def test_importing_the_driver_does_not_import_the_live_runtime():
    code = ("import sys, lab.scenario.memory_driver as m; "
            "assert 'lab.runtime' not in sys.modules and m._BUILDERS == (), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_start_imports_nothing_and_uses_the_runtime_builders():
    from lab import runtime

    assert not [i for i in dis.get_instructions(memory_driver.MemoryDriver.start) if i.opname == "IMPORT_NAME"]
    topology = load_topology(TOPOLOGY)
    for _ in range(2):
        driver = memory_driver.MemoryDriver()
        driver.start(topology, None)
        try:
            assert memory_driver._BUILDERS == (runtime.initial_world, runtime.topology_pki)
            assert driver.pki is runtime.topology_pki(topology)
            assert driver.lab.world is runtime.initial_world(topology, driver.pki)
        finally:
            driver.stop()
