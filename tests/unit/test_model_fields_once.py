"""The model machinery reads a class's fields once (per class) and answers as reading them afresh:
``build`` accepts, fills and refuses as before; ``to_mapping`` gives the same mapping in the same order."""
from __future__ import annotations

import dataclasses
import inspect
from dataclasses import MISSING, fields
from typing import Any

import pytest

from lab.core.errors import ConfigError
from lab.core.exchange import connectors, model, remote_mailbox
from lab.core.exchange.model import build, to_mapping, dump
from lab.core.eop import model as eop_model


def _classes() -> list[type]:
    out = []
    for module in (model, connectors, remote_mailbox, eop_model):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if dataclasses.is_dataclass(cls) and any("ps" in f.metadata for f in fields(cls)) and cls not in out:
                out.append(cls)
    return out


CLASSES = _classes()


def _fresh_to_mapping(obj: Any) -> dict[str, Any]:
    return {f.metadata["ps"]: dump(getattr(obj, f.name)) for f in fields(obj) if "ps" in f.metadata}


def _fresh_required(cls: type) -> list[str]:
    return [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]


def test_there_are_model_classes_to_check():
    assert {"ReceiveConnector", "InboundConnector", "AcceptedDomain", "Mailbox"} <= {c.__name__ for c in CLASSES}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_remembered_fields_are_the_class_fields(cls):
    by_lower, required = model._fields_of(cls)
    assert by_lower == {f.metadata["ps"].lower(): f for f in fields(cls) if "ps" in f.metadata}
    assert [f.name for f in required] == _fresh_required(cls)
    assert model._ps_fields_of(cls) == tuple((f.metadata["ps"], f.name) for f in fields(cls) if "ps" in f.metadata)
    assert model._fields_of(cls) is model._fields_of(cls)


@pytest.fixture(scope="module")
def objects(built) -> list[Any]:
    from lab.core.world import World
    topology, trust = built
    world = World.from_topology(topology, trust.certificates)
    found: list[Any] = []

    def walk(value: Any, depth: int = 0) -> None:
        if depth > 6:
            return
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            if type(value) in CLASSES:
                found.append(value)
            for f in fields(value):
                walk(getattr(value, f.name), depth + 1)
        elif isinstance(value, (tuple, list, frozenset)):
            for v in value:
                walk(v, depth + 1)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v, depth + 1)
    for state in world.servers.values():
        walk(state)
    for org in world.orgs.values():
        walk(org)
    for tenant in world.tenants.values():
        walk(tenant)
    return found


def test_to_mapping_and_build_round_trip_as_afresh(objects):
    assert len({type(o) for o in objects}) >= 4
    for obj in objects:
        mapping = to_mapping(obj)
        assert mapping == _fresh_to_mapping(obj) and list(mapping) == list(_fresh_to_mapping(obj))
        again = build(type(obj), mapping, "x")
        assert _fresh_to_mapping(again) == mapping


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_build_refuses_an_unknown_property_and_names_a_missing_one(cls):
    with pytest.raises(ConfigError) as unknown:
        build(cls, {"NoSuchProperty": 1}, "here")
    assert "unknown" in str(unknown.value) and "NoSuchProperty" in str(unknown.value)
    required = _fresh_required(cls)
    if required:
        with pytest.raises(ConfigError) as missing:
            build(cls, {}, "here")
        first = next(f for f in fields(cls) if f.name == required[0])
        assert repr(first.metadata.get("ps", first.name)) in str(missing.value)
    with pytest.raises(ConfigError):
        build(cls, ["not", "a", "mapping"], "here")
