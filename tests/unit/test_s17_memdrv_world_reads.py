"""The memory console host and the memory driver read the lab's world as the lab's own ``world``
property does (its ``_world``), without going through that property: every reader sees the world in
force, however it was changed (through the lab, through one host or another host of the same lab)."""
from __future__ import annotations

from lab.console.host import Session
from lab.console.memory_host import MemoryHost
from lab.core.world import World
from lab.memory import MemoryLab


def test_every_host_and_the_lab_read_the_world_in_force(built):
    topology, trust = built
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
    servers = sorted(lab.world.servers)
    one, two = (MemoryHost(lab, None, Session(server=s)) for s in servers[:2])
    assert one.world is two.world is lab.world
    changed = lab.world.evolve(zones=lab.world.zones)
    one.world = changed  # through one host: applied to the lab
    assert lab.world is changed and two.world is changed and one.world is changed
    again = lab.world.evolve(zones=lab.world.zones)
    lab.world = again  # through the lab: every host reads it
    assert one.world is again and two.world is again
    two.world = again  # (the world in force again: nothing to apply)
    assert lab.world is again
    state = again.servers[servers[0]]
    assert {e.server for e in one.tracking_events(servers[0])} <= {servers[0], state.server.name, state.server.fqdn}
