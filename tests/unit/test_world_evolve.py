"""World.evolve (fastpath.evolve) against dataclasses.replace, and World.server's lookup."""
from __future__ import annotations

import dataclasses

import pytest

from lab.core.errors import ConfigError
from lab.core.world import World
from tests.unit.cmdlets_support import base


def _same(a: World, b: World, rebuilt: tuple[str, ...] = ()) -> None:
    # every field the same object (``rebuilt``: a mapping each side built afresh, equal)
    assert a == b
    assert type(a) is type(b)
    assert a.__dict__ == b.__dict__
    for name in a.__dict__:
        if name not in rebuilt:
            assert getattr(a, name) is getattr(b, name), name


def test_evolve_is_replace_with_the_revision_counted():
    world, _ = base()
    node = sorted(world.servers)[0]
    org = sorted(world.orgs)[0]
    cases = [{}, {"servers": {**world.servers}}, {"orgs": {**world.orgs}, "banned_ips": {"x": frozenset({"1.2.3.4"})}},
             {"tenants": {}}]
    for changes in cases:
        new = world.evolve(**changes)
        _same(new, dataclasses.replace(world, revision=world.revision + 1, **changes))
        assert new.revision == world.revision + 1
        assert new is not world
    _same(world.with_server(world.servers[node]),
          dataclasses.replace(world, revision=world.revision + 1, servers={**world.servers, node: world.servers[node]}), ("servers",))
    _same(world.with_org(world.orgs[org]),
          dataclasses.replace(world, revision=world.revision + 1, orgs={**world.orgs, org: world.orgs[org]}), ("orgs",))
    with pytest.raises(TypeError):
        world.evolve(not_a_field=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        world.evolve().revision = 5  # type: ignore[misc]


def test_server_lookup():
    world, _ = base()
    for node, state in world.servers.items():
        assert world.server(node) is state
        assert world.org_of(node) is world.orgs[state.org]
    with pytest.raises(ConfigError):
        world.server("no-such-node")
