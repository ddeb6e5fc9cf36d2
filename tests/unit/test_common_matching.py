"""The cmdlets' identity matching against the plain loops it replaced (one key or several, with
and without wildcards)."""
from __future__ import annotations

import random

from lab.console.cmdlets._common import matching, wildcard
from lab.console.ps_values import like


def _matching_loop(items, pattern, *keys):  # type: ignore[no-untyped-def]
    if any(ch in pattern for ch in "*?["):
        return [i for i in items if any(like(k(i), pattern) for k in keys)]
    wanted = pattern.lower()
    return [i for i in items if any(k(i).lower() == wanted for k in keys)]


def test_wildcard_is_a_wildcard_character_anywhere() -> None:
    for text in ("", "abc", "a*", "?", "x[y", "Default Frontend EX01", "*", "a]b"):
        assert wildcard(text) == any(ch in text for ch in "*?[")


def test_matching_finds_what_the_loops_find() -> None:
    rng = random.Random(3)
    words = ["Default", "default", "EX01", "Client Proxy", "To Internet", "to internet", "Outbound"]
    patterns = ["default", "DEFAULT", "ex01", "To*", "*e*", "Out?ound", "nothing", "to internet"]
    for _ in range(300):
        items = [(rng.choice(words), rng.choice(words)) for _ in range(rng.randint(0, 6))]
        pattern = rng.choice(patterns)
        first, second = (lambda i: i[0]), (lambda i: i[1])
        assert matching(items, pattern, first) == _matching_loop(items, pattern, first)
        assert matching(items, pattern, first, second) == _matching_loop(items, pattern, first, second)
