"""The default world loaded once for the probe tests (the PKI makes real keys)."""
from __future__ import annotations

from pathlib import Path

import pytest

from lab.probes.memory_driver import MemoryDriver
from lab.probes.worlds import load

REPO = Path(__file__).resolve().parents[2]
TOPOLOGY = REPO / "topology.yaml"


@pytest.fixture(scope="session")
def loaded():
    return load(TOPOLOGY)


@pytest.fixture(scope="session")
def drivers(loaded):
    def make(world, shared: bool = False, record: bool = True):
        return MemoryDriver(world, loaded.trust, loaded.start, shared=shared, record=record)
    return make
