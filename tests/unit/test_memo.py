"""lab.core.memo.Memo: answers per record identity and values, never another object's answer."""
from __future__ import annotations

from dataclasses import dataclass

from lab.core.memo import Memo


@dataclass(frozen=True)
class Rec:
    name: str


def test_records_by_identity_values_by_equality():
    memo, calls = Memo(), []

    def build(rec: Rec, n: int) -> str:
        calls.append((rec, n))
        return f"{rec.name}{n}"

    a, b = Rec("x"), Rec("x")  # equal, not the same object
    assert memo.get((a,), 1, build, a, 1) == "x1"
    assert memo.get((a,), 1, build, a, 1) == "x1"
    assert memo.get((b,), 1, build, b, 1) == "x1"
    assert memo.get((a,), 2, build, a, 2) == "x2"
    assert [(r is a, n) for r, n in calls] == [(True, 1), (False, 1), (True, 2)]


def test_an_entry_keeps_its_records_alive_so_their_ids_stay_theirs():
    memo = Memo()
    for i in range(200):  # fresh objects each time: ids of dead objects would be reused at once
        rec = Rec(str(i))
        assert memo.get((rec,), None, lambda r=rec: r.name) == str(i)
        del rec
    assert len(memo) == 200


def test_bounded():
    memo = Memo(limit=3)
    for i in range(10):
        memo.get((), i, lambda i=i: i)
        assert len(memo) <= 3
    memo.clear()
    assert len(memo) == 0


def test_one_record_and_several_records_never_share_an_entry():
    memo = Memo()
    a, b = Rec("a"), Rec("b")
    assert memo.get((a,), None, lambda: "one") == "one"
    assert memo.get((a, b), None, lambda: "two") == "two"
    assert memo.get((), None, lambda: "none") == "none"
    assert memo.get((a,), (), lambda: "one-empty") == "one-empty"
    assert memo.get((a, b, a), None, lambda: "three") == "three"
    assert memo.get((b, a), None, lambda: "two-swapped") == "two-swapped"
    assert memo.get((a,), id(b), lambda: "one-by-id") == "one-by-id"  # not (a, b)'s entry
    assert [memo.get((a,), None, str), memo.get((a, b), None, str), memo.get((), None, str),
            memo.get((a, b, a), None, str), memo.get((b, a), None, str)] == ["one", "two", "none", "three", "two-swapped"]
    assert len(memo) == 7
