"""run_many keeps the objects that exist when it starts out of the cyclic collector while it runs,
and leaves the collector as it found it (enabled or not, objects frozen by someone else or not)."""
from __future__ import annotations

import gc

import pytest

from lab.scenario import play


@pytest.fixture
def seen(monkeypatch):
    calls = []

    def fake(scenarios, driver_name, step_mode, verbose, quiet):
        calls.append((gc.get_freeze_count(), gc.isenabled()))
        return []

    monkeypatch.setattr(play, "_run_many", fake)
    return calls


def test_objects_found_are_frozen_during_the_run_and_back_after(seen):
    assert gc.get_freeze_count() == 0
    assert play.run_many([], "memory", quiet=True) == []
    assert seen[0][0] > 0 and seen[0][1]
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_disabled_collector_is_left_alone(seen):
    gc.disable()
    try:
        play.run_many([], "memory", quiet=True)
        assert seen == [(0, False)]
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_objects_frozen_by_someone_else_stay_frozen(seen):
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        play.run_many([], "memory", quiet=True)
        assert seen == [(before, True)]
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()


def test_unfrozen_when_the_run_raises(monkeypatch):
    def boom(*args):
        assert gc.get_freeze_count() > 0
        raise RuntimeError("boom")

    monkeypatch.setattr(play, "_run_many", boom)
    with pytest.raises(RuntimeError):
        play.run_many([], "memory", quiet=True)
    assert gc.get_freeze_count() == 0
