"""A MemoryLab builds a server's transport when something first reaches it (a session, a look),
from the world then in force: held to a lab that builds every transport at the start and applies
each world change to it (as the lab did before). World changes before and between sends, a send
connector set changed, DNS broken and mended, retries and expiries: the same queues, messages,
tracking events, mailboxes and clock."""
from __future__ import annotations

from dataclasses import replace

from lab.core.world import World
from lab.memory import MemoryLab


def body(subject: str) -> bytes:
    return f"From: a@b.c\r\nSubject: {subject}\r\n\r\n{subject}\r\n".encode()


def script(lab: MemoryLab, unbuilt: list[int]) -> list[str]:
    seen = []
    zones = lab.world.zones
    lab.world = lab.world.evolve(zones=zones.without_record("xutonglin.com", "MX"))
    # every organization's send connectors in the reverse order, then without the last one
    world = lab.world
    for name, org in world.orgs.items():
        world = world.with_org(replace(org, send_connectors=tuple(reversed(org.send_connectors))))
    lab.world = world
    lab.advance(60)
    for i, wait in enumerate([0, 7 * 60, 3600, 3 * 3600]):
        lab.advance(wait)
        lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
                 body(f"m{i}"), tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    world = lab.world
    for name, org in world.orgs.items():
        world = world.with_org(replace(org, send_connectors=org.send_connectors[:-1]))
    lab.world = world.evolve(zones=zones)
    lab.advance(15 * 60)
    unbuilt.append(sum(not s.built for s in lab.transports.values()))
    lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
             body("late"), tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    lab.advance(3 * 86400)
    seen.append(repr([(n, lab.queues(n), lab.messages(n)) for n in sorted(lab.transports)]))
    seen.append(repr(lab.events))
    seen.append(repr(sorted(lab.mailboxes.boxes.items())))
    seen.append(repr(lab.now))
    return seen


def test_transports_built_when_first_needed_are_the_ones_built_at_the_start(built):
    topology, trust = built
    labs = [MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
            for _ in range(2)]
    for service in labs[0].transports.values():
        assert service.transport is not None  # built now, and every world change applied to it
    assert all(s.built for s in labs[0].transports.values())
    assert not any(s.built for s in labs[1].transports.values())
    unbuilt: list[list[int]] = [[], []]
    seen = [script(lab, u) for lab, u in zip(labs, unbuilt)]
    assert unbuilt[0] == [0] and unbuilt[1][0] > 0  # (the lazy lab had servers nothing reached yet)
    assert seen[0] == seen[1]
