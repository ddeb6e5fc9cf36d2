"""World.org_of and the views that look a server up inline answer as World.server does, errors included."""
from __future__ import annotations

import pytest

from lab.core.errors import ConfigError
from lab.core.world_views import send_connectors_for, virtual_ports
from tests.unit.cmdlets_support import base


def test_inline_lookups_are_world_server():
    world, _ = base()
    for node, state in world.servers.items():
        assert world.org_of(node) is world.orgs[world.server(node).org]
        assert send_connectors_for(world, node) == tuple(
            c for c in world.orgs[state.org].send_connectors if not c.source_transport_servers
            or node in c.source_transport_servers or state.server.name in c.source_transport_servers)
        assert virtual_ports(world, node) == tuple(sorted({b.port for c in state.receive_connectors
                                                           for b in c.bindings}))
    for ask in (world.org_of, lambda n: send_connectors_for(world, n), lambda n: virtual_ports(world, n)):
        with pytest.raises(ConfigError) as raised:
            ask("no-such-node")
        with pytest.raises(ConfigError) as expected:
            world.server("no-such-node")
        assert str(raised.value) == str(expected.value)
