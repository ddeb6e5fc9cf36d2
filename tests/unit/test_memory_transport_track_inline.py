"""MemoryTransport._execute records a Track command inline: the same as MemoryLab.track would."""
from __future__ import annotations

from types import SimpleNamespace

from lab.core.exchange.outcomes import Track
from lab.core.exchange.queue_records import TrackingEvent
from lab.memory.lab import MemoryLab
from lab.memory.transport import MemoryTransport


def _event(i: int, message_id: str) -> TrackingEvent:
    return TrackingEvent(float(i), "RECEIVE", "SMTP", "ex1", i, message_id, "a@b", ("c@d",))


def _fake_lab() -> SimpleNamespace:
    return SimpleNamespace(_tracks=[], _tracking={})


def test_execute_track_is_lab_track():
    commands = [Track(_event(i, mid)) for i, mid in enumerate(["<1@x>", "<2@x>", "<1@x>", "<3@x>", "<1@x>"])]
    by_execute, by_track = _fake_lab(), _fake_lab()
    service = MemoryTransport.__new__(MemoryTransport)
    service.lab = by_execute
    for cmd in commands:
        service._execute(cmd)
        MemoryLab.track(by_track, cmd)  # type: ignore[arg-type]
    assert by_execute._tracks == by_track._tracks
    assert [id(t) for t in by_execute._tracks] == [id(t) for t in by_track._tracks] == [id(c) for c in commands]
    assert by_execute._tracking.keys() == by_track._tracking.keys() == {"<1@x>", "<2@x>", "<3@x>"}
    for key, tracks in by_track._tracking.items():
        assert [id(t) for t in by_execute._tracking[key]] == [id(t) for t in tracks]
