"""Loading a topology for probes: the World, its trust table, its probes (with file:line errors)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lab.core.world import World
from lab.probes.model import Probe, parse_probes


@dataclass
class Loaded:
    """A topology ready for probing.

    Attributes:
        path: the file.
        world: the World it describes.
        trust: certificate trust (:class:`lab.memory.Trust`).
        pki: the PKI adapter (CAs that can sign requests during a rehearsal).
        start: lab time zero.
        source: the file's YAML with line marks (for probe errors).
    """

    path: Path
    world: World
    trust: Any
    pki: Any
    start: datetime
    source: Any

    def probes(self, world: World | None = None) -> tuple[Probe, ...]:
        """The file's ``probes:``, resolved against ``world`` (default: the file's own)."""
        world = world or self.world
        return parse_probes(world, world.topology.probes, self.source)


def load(path: str | Path) -> Loaded:
    """Read, validate and build a topology file (ConfigError with file:line on bad input)."""
    from lab.adapters.pki_world import Pki  # noqa: PLC0415
    from lab.memory import trust_from_pki  # noqa: PLC0415
    from lab.runtime import pki_specs  # noqa: PLC0415
    from lab.topology.load import load_topology  # noqa: PLC0415
    from lab.topology.source import read_yaml  # noqa: PLC0415

    path = Path(path)
    topology = load_topology(path)
    specs, stores = pki_specs(topology)
    pki = Pki.build(specs, stores, now=topology.settings.clock_start)
    trust = trust_from_pki(pki)
    world = World.from_topology(topology, trust.certificates)
    return Loaded(path, world, trust, pki, topology.settings.clock_start, read_yaml(path))
