"""A fast-forward's DEFER events are one ``Tracks`` entry in the memory lab (``MemoryLab.track_run``):
its ``Track`` commands are made only when someone reads the tracking. Held to the event-by-event path
(``FAST_RETRIES`` off), reading ``lab.tracking(message_id)`` of some messages after each action (runs
read part way, per message, before ``lab.events`` ever is), with several messages in one failing
queue (a run with events of several messages), and ``lab.events`` read only at the end."""
from __future__ import annotations

import random

import pytest

import lab.memory.transport as memory_transport
from lab.core.exchange import outcomes as O
from lab.core.exchange.queue_records import TransportSettings
from lab.core.world import World
from lab.memory import MemoryLab
from tests.unit.test_memory_failing_retries import SETTINGS, WAITS, send


def play(built, settings: dict, seed: int, steps: int) -> tuple[list, MemoryLab]:
    topology, trust = built
    start = topology.settings.clock_start
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, start,
                    TransportSettings(epoch=start, **settings))
    lab.world = lab.world.evolve(zones=lab.world.zones.without_record("xutonglin.com", "MX")
                                 .without_record("fabrikam.com", "MX"))
    rng = random.Random(seed)
    ids: list[str] = []
    seen: list = []
    for step in range(steps):
        if rng.random() < 0.35:
            result = lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com",
                              ["allen@xutonglin.com"] if rng.random() < 0.7 else ["x@fabrikam.com", "allen@xutonglin.com"],
                              f"From: a@b.c\r\nSubject: t{step}\r\n\r\nt\r\n".encode(), tls=True,
                              auth=("contoso@contoso.com", "P@ssw0rd")) if rng.random() < 0.8 else None
            if result is None:
                send(lab, rng.randrange(6), f"k{seed}-{step}")
            elif result.message_id:
                ids.append(result.message_id)
        else:
            lab.advance(rng.choice(WAITS) if rng.random() < 0.6 else rng.uniform(0, 86400))
        for message_id in rng.sample(ids, min(len(ids), rng.randrange(3))):
            seen.append((step, message_id, lab.tracking(message_id)))
    seen.append([(m, lab.tracking(m)) for m in ids])
    seen.append(list(lab.events))
    seen.append([(m, lab.tracking(m)) for m in ids])
    return seen, lab


@pytest.mark.parametrize("settings", SETTINGS[:3])
def test_tracking_read_per_message_is_the_retries_one_by_one(built, monkeypatch, settings):
    several = 0
    for seed in range(4):
        monkeypatch.setattr(memory_transport, "FAST_RETRIES", False)
        slow, slow_lab = play(built, settings, seed, 30)
        monkeypatch.setattr(memory_transport, "FAST_RETRIES", True)
        fast, fast_lab = play(built, settings, seed, 30)
        assert not any(isinstance(t, O.Tracks) for t in slow_lab._tracks)
        runs = [t for t in fast_lab._tracks if isinstance(t, O.Tracks)]
        assert runs  # (the fast-forward was taken)
        several += sum(len(r.message_ids) > 1 for r in runs)
        assert len(fast) == len(slow)
        for i, (a, b) in enumerate(zip(fast, slow)):
            assert a == b, f"read {i}"
        # the same Track objects whichever way they are read
        assert all(r.tracks is r.tracks for r in runs)
    assert several  # (runs with events of several messages, read message by message)


def test_a_run_unread_builds_nothing(built):
    topology, trust = built
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
    lab.world = lab.world.evolve(zones=lab.world.zones.without_record("xutonglin.com", "MX"))
    send(lab, 0, "one")
    lab.advance(2 * 86400)
    runs = [t for t in lab._tracks if isinstance(t, O.Tracks)]
    assert runs and all(r._tracks is None for r in runs)
    assert sum(len(r.times) for r in runs) > 50
    events = lab.events
    assert all(r._tracks is not None and r.built for r in runs)
    assert sum(e.event_id == "DEFER" for e in events) > 50
