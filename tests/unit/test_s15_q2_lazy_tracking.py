"""MemoryLab indexes its tracking entries by message id when ``tracking`` is first asked (and again
for the entries added since), not at every Track: the index must be the one built entry by entry."""
from __future__ import annotations

import random
from types import SimpleNamespace as NS

import pytest

from lab.core.exchange.outcomes import Track, Tracks
from lab.memory.lab import MemoryLab


def _bare_lab() -> MemoryLab:
    lab = object.__new__(MemoryLab)
    lab._tracks, lab._tracking, lab._indexed = [], {}, 0
    return lab


def _eager(entries: list) -> dict:
    """The index as track / track_run built it, one entry at a time."""
    index: dict = {}
    for entry in entries:
        for m in ((entry.message_id,) if entry.__class__ is Track else entry.message_ids):
            index.setdefault(m, []).append(entry)
    return index


def _build(mid: str, t: float, n: int) -> NS:
    return NS(message_id=mid, at=t, n=n)


@pytest.mark.parametrize("seed", range(8))
def test_lazy_index_is_the_eager_one_at_every_read(seed):
    rng = random.Random(seed)
    lab, added = _bare_lab(), []
    ids = [f"<m{i}@x>" for i in range(5)]
    for step in range(60):
        roll = rng.random()
        if roll < 0.55:
            entry = Track(NS(message_id=rng.choice(ids), step=step))
            lab.track(entry) if rng.random() < 0.5 else lab.track(entry.event)
            added.append(lab._tracks[-1])
        elif roll < 0.75:
            chosen = rng.sample(ids, rng.randint(1, 3))
            run = Tracks(lambda common, t, n: _build(common, t, n), (1.0, 2.0),
                         tuple((m, m, (step, step + 1)) for m in chosen))
            lab.track_run(run)
            added.append(run)
        else:
            mid = rng.choice(ids + ["<none@x>"])
            expect = [t.event for entry in _eager(added).get(mid, ())
                      for t in ((entry,) if entry.__class__ is Track else entry.of(mid))]
            assert lab.tracking(mid) == expect
            assert lab._index_tracking() == _eager(added)
    assert lab._index_tracking() == _eager(added)
    assert lab._tracks == added
