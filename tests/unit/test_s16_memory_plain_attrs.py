"""The memory lab's transports keep their attributes inline: nothing reads their ``__dict__`` (CPython
3.11 does not specialise attribute reads on an instance whose dict was materialised after it was
built, and the transports' attributes are read on every command), and the lazily made parts (the
core transport, the outbound client) are made once and kept as plain attributes."""
from __future__ import annotations

import gc

from lab.core.world import World
from lab.memory import MemoryLab


def _dict_materialised(obj: object) -> bool:
    # a materialised instance dict is one of the object's referents (inline values are visited one by one)
    return any(type(r) is dict and "lab" in r and "node" in r for r in gc.get_referents(obj))


def test_transports_keep_inline_attributes(built):
    topology, trust = built
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
    lab.world = lab.world.evolve(zones=lab.world.zones)  # (a world change before anything was built)
    sent = lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
                    b"From: a@b.c\r\nSubject: s\r\n\r\nbody\r\n", tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    assert sent.accepted
    lab.world = lab.world.evolve(zones=lab.world.zones)  # (and one after)
    lab.advance(60)
    services = list(lab.transports.values())
    assert any(s.built for s in services) and not all(s.built for s in services)
    for service in services:
        assert not _dict_materialised(service)
        # (the service's own reads go through _transport: the one transport, or None while unbuilt)
        assert (service._transport is service.transport) if service.built else service._transport is None
    made = [s for s in services if s._client is not None]
    assert made  # contoso's transport relayed the message onwards
    for service in made:
        assert service.client is service.client is service._client
    assert _dict_materialised(services[0]) is False
    vars(services[0])  # (the check sees a materialised dict)
    assert _dict_materialised(services[0])
