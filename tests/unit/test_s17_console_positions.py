"""format.first_positions (a record's property names -> lower-case name -> position of the first property of that
name, any case) against the plain loop, and Format-List / Format-Table reading their values through it: the
value shown for a name is that of the first property of the name, in any case."""
from __future__ import annotations

import random

from lab.console import format as F
from lab.console.ps_values import PSObject
from tests.unit.format_support import first_values


def _positions_loop(names: tuple[str, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(names):
        found.setdefault(name.lower(), i)
    return found


def _names(rng: random.Random) -> tuple[str, ...]:
    base = ["Identity", "Name", "LastError", "lasterror", "NAME", "Status", "MessageCount", "Tls", "x", ""]
    return tuple(rng.choice(base) for _ in range(rng.randint(0, 12)))


def test_positions_are_the_first_of_each_name_in_any_case() -> None:
    rng = random.Random(17)
    for _ in range(500):
        names = _names(rng)
        assert F.first_positions(names) == _positions_loop(names)
        assert F.first_positions(tuple(names)) == _positions_loop(names)  # (an equal tuple: the same answer)
    assert F.first_positions(("Name", "NAME", "name")) == {"name": 0}


def test_format_list_and_table_show_the_first_value_of_a_name() -> None:
    rng = random.Random(23)
    patterns_pool = ["Name", "name", "Missing", "identity", "TLS", "Last*", "*", "lasterror"]
    for _ in range(300):
        names = _names(rng)
        props = [(n, rng.choice([1, "a", None, [1, 2], True])) for n in names]
        record = PSObject(props)
        table = first_values(props)
        patterns = [rng.choice(patterns_pool) for _ in range(rng.randint(0, 3))] or None
        chosen = F._expand(list(names), patterns)
        if chosen:
            width = max(map(len, chosen))
            lines = [f"{n.ljust(width)} : {F.display(table.get(n.lower()))}".rstrip() for n in chosen]
            assert F.format_list([record], patterns) == "\n" + "\n".join(lines) + "\n\n"
        else:
            assert F.format_list([record], patterns) == ""
        columns = [n for n in ("Name", "identity", "Missing", "tls") if rng.random() < 0.7] or ["Name"]
        got = F.format_table([record, record], columns).splitlines()
        want_cells = [F.display(table.get(c.lower())) for c in columns]
        assert got[3].split() == " ".join(want_cells).split()


def test_exrecord_get_is_the_first_value_of_a_name_in_any_case() -> None:
    from lab.console.records import ExRecord

    rng = random.Random(29)
    for _ in range(300):
        names = _names(rng)
        props = [(n, rng.randint(0, 9)) for n in names]
        record = ExRecord(props, [], "T")
        for wanted in ("name", "NAME", "Identity", "lasterror", "Missing", ""):
            want = next((v for n, v in props if n.lower() == wanted.lower()), None)
            assert record.get(wanted) == want
