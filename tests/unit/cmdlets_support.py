"""Shared set-up for the cmdlet tests: the default world of topology.yaml and a console over it."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lab.adapters.pki_world import Pki
from lab.console.host import Session, WorldHost
from lab.console.transcript import LabConsole
from lab.core.world import World
from lab.runtime import pki_specs
from lab.topology.load import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.yaml"


@lru_cache(maxsize=1)
def base() -> tuple[World, Pki]:
    """The default world (built once: the PKI makes real keys)."""
    topology = load_topology(TOPOLOGY)
    specs, stores = pki_specs(topology)
    pki = Pki.build(specs, stores, now=topology.settings.clock_start)
    facts = {c.name: pki.certificate(c.name).facts for c in topology.pki.certificates}
    return World.from_topology(topology, facts), pki


def console(server: str = "mail1", **host_options) -> LabConsole:
    """A console on ``server``'s Exchange Management Shell over a fresh copy of the default world."""
    world, pki = base()
    host = WorldHost(world=world, session=Session(server=server), start=world.topology.settings.clock_start,
                     pki=pki, **host_options)
    return LabConsole(host)
