"""Answers of pure functions remembered per their inputs: the lab's memo mechanisms.

:class:`Remembered` keeps the answers of a pure function of one hashable key (a text, or a tuple of
texts and numbers) in a dict read by subscript. :class:`Memo` keeps answers computed from frozen
records, keyed by the records' identities.

The inputs of a :class:`Memo` are frozen records (a World and everything in it is immutable; a change makes new
objects) plus hashable values. Records are keyed by identity, not by value: hashing a connector
or an organization by value would cost as much as the answer. Each entry holds its records, so
their ids cannot be reused by other objects while it lives; a table is emptied when it passes its
bound, so a long-running lab keeps no old worlds alive beyond it.
"""
from __future__ import annotations

from typing import Any, Callable, Hashable, TypeVar

T = TypeVar("T")


class Remembered(dict):
    """``memo[key]``: ``build(key)``, a pure function of the key, remembered (the key is everything the
    answer depends on: a text, or a tuple such as a reply's lines).

    A dict read by subscript, the answer worked out by ``__missing__`` when the key is not known: a hit
    is one dict lookup, without the call and the recency bookkeeping of an ``lru_cache`` (callgrind:
    ~250 instructions less per hit with a text key, ~430 with a tuple key; none for a function of
    several arguments, whose key tuple costs what ``lru_cache``'s does). Emptied when it passes
    ``limit`` entries. ``build`` raising leaves nothing behind (raised again for the key next time).
    """

    __slots__ = ("_build", "_limit")

    def __init__(self, build: Callable[[Any], Any], limit: int = 4096) -> None:
        super().__init__()
        self._build = build
        self._limit = limit

    def __missing__(self, key: Any) -> Any:
        if len(self) >= self._limit:
            self.clear()
        value = self[key] = self._build(key)
        return value


class Memo:
    """``memo.get(records, values, build, *args)``: ``build(*args)``, remembered per
    (identities of ``records``, ``values``)."""

    __slots__ = ("_table", "limit")

    def __init__(self, limit: int = 4096) -> None:
        self._table: dict[tuple, tuple[tuple, Any]] = {}
        self.limit = limit

    def get(self, records: tuple, values: Hashable, build: Callable[..., T], *args: Any) -> T:
        # one, two or three records (most memos): their ids in the key itself (keys of each shape differ
        # in length or in their first item's type, so they never meet)
        n = len(records)
        if n == 1:
            key = (id(records[0]), values)
        elif n == 2:
            key = (id(records[0]), id(records[1]), values)
        elif n == 3:
            key = (id(records[0]), id(records[1]), id(records[2]), values)
        else:
            key = (tuple(map(id, records)), values)
        hit = self._table.get(key)
        if hit is not None:  # the entry holds the records: an id here is still theirs
            return hit[1]
        return self._miss(key, records, build(*args))

    def get1(self, record: object, values: Hashable, build: Callable[..., T], *args: Any) -> T:
        """:meth:`get` for one record (``get((record,), values, ...)``, the same entry)."""
        hit = self._table.get((id(record), values))
        if hit is not None:  # the entry holds the record: an id here is still its own
            return hit[1]
        return self._miss((id(record), values), (record,), build(*args))

    def get2(self, first: object, second: object, values: Hashable, build: Callable[..., T], *args: Any) -> T:
        """:meth:`get` for two records (``get((first, second), values, ...)``, the same entry)."""
        key = (id(first), id(second), values)
        hit = self._table.get(key)
        if hit is not None:  # the entry holds the records: an id here is still theirs
            return hit[1]
        return self._miss(key, (first, second), build(*args))

    def _miss(self, key: tuple, records: tuple, value: T) -> T:
        """Keep ``value`` under ``key`` with the records it was built from (the table emptied first
        when it is full); hand it back."""
        if len(self._table) >= self.limit:
            self._table.clear()
        self._table[key] = (records, value)
        return value

    def clear(self) -> None:
        """Forget every answer."""
        self._table.clear()

    def __len__(self) -> int:
        return len(self._table)
