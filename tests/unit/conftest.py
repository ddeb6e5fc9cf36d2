"""Fixtures shared by the unit tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from lab.adapters.pki_world import Pki
from lab.memory import trust_from_pki
from lab.runtime import pki_specs
from lab.topology.load import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"


@pytest.fixture(scope="module")
def built():
    """The default topology and the trust its PKI makes (real keys): (topology, trust), once per module."""
    topology = load_topology(TOPOLOGY)
    specs, stores = pki_specs(topology)
    return topology, trust_from_pki(Pki.build(specs, stores, now=topology.settings.clock_start))
