"""Memo.get keys three records by their ids in the key itself: an entry per (records, values), never shared
with another number of records, and held so that the ids stay the records' own."""
from __future__ import annotations

import gc

from lab.core.memo import Memo


class _R:
    pass


def test_three_records_are_keyed_apart_from_other_shapes():
    memo = Memo()
    a, b, c, d = _R(), _R(), _R(), _R()
    calls = []

    def build(*tag):
        calls.append(tag)
        return tag

    shapes = [((a, b, c), "v"), ((a, b, c), "w"), ((c, b, a), "v"), ((a, b), (id(c), "v")), ((a,), (id(b), id(c), "v")),
              ((a, b, c, d), "v"), ((), (id(a), id(b), id(c), "v")), ((a, b, d), "v")]
    for records, values in shapes:
        assert memo.get(records, values, build, records, values) == (records, values)
    assert len(calls) == len(shapes) == len(memo)  # every shape its own entry
    for records, values in shapes:  # and every one found again, not built
        assert memo.get(records, values, build, records, values) == (records, values)
    assert len(calls) == len(shapes)


def test_the_entry_holds_its_three_records():
    memo = Memo()
    memo.get((_R(), _R(), _R()), None, lambda: "first")
    gc.collect()
    fresh = [(_R(), _R(), _R()) for _ in range(200)]  # new objects cannot take the held records' ids
    assert all(memo.get(records, None, lambda: "new") == "new" for records in fresh)
