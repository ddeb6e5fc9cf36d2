"""Format-List / Format-Table's name and value lookups against the plain loops they replace:
the first property of a name (any case) wins, wildcard patterns keep declaration order."""
from __future__ import annotations

import random

from lab.console import format as F
from lab.console.ps_values import like
from tests.unit.format_support import first_values


def _expand_loop(names: list[str], patterns: list[str] | None) -> list[str]:
    if not patterns:
        return names
    chosen: list[str] = []
    first: dict[str, str] | None = None
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            chosen += [n for n in names if like(n, pattern) and n not in chosen]
        else:
            if first is None:
                first = {}
                for n in names:
                    first.setdefault(n.lower(), n)
            exact = first.get(pattern.lower(), pattern)
            if exact not in chosen:
                chosen.append(exact)
    return chosen


def _names(rng: random.Random) -> list[str]:
    base = ["Identity", "Name", "LastError", "lasterror", "NAME", "Status", "MessageCount", "Tls", "x"]
    return [rng.choice(base) for _ in range(rng.randint(0, 12))]


def test_the_first_value_of_a_name_wins_in_any_case() -> None:
    rng = random.Random(7)
    for _ in range(500):
        props = [(n, rng.randint(0, 5)) for n in _names(rng)]
        names = tuple(n for n, _ in props)
        assert {k: props[i][1] for k, i in F.first_positions(names).items()} == first_values(props)
    assert F.first_positions(("Name", "NAME", "name")) == {"name": 0}


def test_patterns_choose_the_same_names_in_the_same_order() -> None:
    rng = random.Random(11)
    patterns_pool = ["*", "Name", "name", "Last*", "*count", "Stat?s", "[LN]*", "Missing", "identity", "TLS"]
    for _ in range(500):
        names = _names(rng)
        patterns = [rng.choice(patterns_pool) for _ in range(rng.randint(0, 4))] or None
        assert F._expand(list(names), patterns) == _expand_loop(list(names), patterns)
