"""A contains check reads its haystack with runs of blanks as one space: _within decides most
needles on the haystack as it is and must give the answer the flat haystack gives."""
from __future__ import annotations

import random

import pytest

from lab.scenario.expect import _contains, _within


def _flat_answer(needle: str, haystack: str) -> bool:
    return " ".join(needle.split()) in " ".join(haystack.split())


_PIECES = ["a", "b", "ab", "IsValidated", ":", "True", "530", "5.7.1", "x", "é", ""]
_BLANKS = [" ", "  ", "\t", "\n", "\r\n", " \n ", "\u00a0", "\u2028", ""]


def _random_text(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(_PIECES) + rng.choice(_BLANKS) for _ in range(rng.randint(0, most)))


def test_within_gives_the_flat_haystack_s_answer() -> None:
    rng = random.Random(1606)
    seen = {True: 0, False: 0}
    for _ in range(20000):
        haystack, needle = _random_text(rng, 12), _random_text(rng, 3)
        want = _flat_answer(needle, haystack)
        flat: list[str] = []
        assert _within(" ".join(needle.split()), haystack, flat) is want, (needle, haystack)
        assert flat in ([], [" ".join(haystack.split())])
        seen[want] += 1
    assert min(seen.values()) > 2000  # both answers exercised


@pytest.mark.parametrize("needle, haystack, found", [
    ("IsValidated : True", "IsValidated : True\n", True),
    ("IsValidated : True", "IsValidated  :\tTrue", True),   # only the flat haystack has it
    ("IsValidated : True", "IsValidated : False", False),  # a piece (True) is nowhere
    ("a b", "ab a\nc b", False),                           # every piece somewhere, not together
    ("  a  b ", "x a\n\nb y", True),
    ("", "", True), ("", "anything", True), ("a", "", False),
])
def test_within_of_chosen_needles(needle: str, haystack: str, found: bool) -> None:
    assert _within(" ".join(needle.split()), haystack, []) is found
    assert _flat_answer(needle, haystack) is found
    assert _contains(haystack, [needle]) == ([] if found else [needle])
