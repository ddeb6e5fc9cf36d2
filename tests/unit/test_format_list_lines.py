"""Format-List writes a one-line text value without display() and without splitting it
(format.format_list): held to the general per-property body it replaces, verbatim below, over
records whose values are text (one line, several lines, trailing blanks, empty), numbers,
booleans, None, lists, dicts and dates, with and without property patterns."""
from __future__ import annotations

import datetime as dt
import random
from typing import Any, Sequence

from lab.console.format import _expand, format_list
from lab.console.ps_values import display, is_scalar, properties
from tests.unit.format_support import first_values as _table


def old(records: Sequence[Any], patterns: Sequence[str] | None = None) -> str:
    if all(is_scalar(r) for r in records):
        return "".join(display(r) + "\n" for r in records if r is not None)
    blocks: list[str] = []
    for record in records:
        if is_scalar(record):
            blocks.append(display(record))
            continue
        props = properties(record)
        names = _expand([n for n, _ in props], patterns)
        if not names:
            continue
        width = max(map(len, names))
        values = _table(props)
        lines: list[str] = []
        for name in names:
            text = display(values.get(name.lower())).split("\n")
            lines.append(f"{name.ljust(width)} : {text[0]}".rstrip())
            if len(text) > 1:
                lines += [(" " * (width + 3) + more).rstrip() for more in text[1:]]
        blocks.append("\n".join(lines))
    if not blocks:
        return ""
    return "\n" + "\n\n".join(blocks) + "\n\n"


class _Text(str):
    """A str subclass: not the exact class, so it goes through display()."""


VALUES: list[Any] = [
    "", "plain", "two\nlines", "trail  ", "a\n\nb  \n", "\n", _Text("sub\nclass"), _Text("x "), 0, 7, 2.5, True,
    False, None, ["a", "b\nc"], ("x",), [], {"k": 1}, dt.datetime(2024, 5, 1, 13, 4, 5), 10 ** 12,
]


def test_format_list_as_the_general_body() -> None:
    rng = random.Random(11)
    names = ["Name", "Identity", "Port", "Comment", "name", "TlsDomain"]
    seen_multi = seen_one = 0
    for _ in range(400):
        records: list[Any] = []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.15:
                records.append(rng.choice(["s", 3, None, "m\nn"]))
            else:
                records.append({rng.choice(names): rng.choice(VALUES) for _ in range(rng.randint(0, 5))})
        patterns = rng.choice([None, [], ["Name"], ["*"], ["Port", "nomatch"], ["t*", "Comment"]])
        got = format_list(records, patterns)
        assert got == old(records, patterns), (records, patterns)
        seen_multi += "\n   " in got
        seen_one += " : " in got
    assert seen_multi and seen_one
