"""format_list reads a record's names and values from one table of its properties (lower-case name ->
the first pair of that name) and looks up a pattern without wildcards in it: held to the body it
replaces (_expand over the names, then _table's values), verbatim below, over records with names that
differ only in case, repeated names (pairs, not dicts), absent names, and patterns of every shape."""
from __future__ import annotations

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
        names = _expand(list(map(lambda p: p[0], props)), patterns)
        if not names:
            continue
        width = max(map(len, names))
        values = _table(props)
        lines: list[str] = []
        for name in names:
            value = values.get(name.lower())
            shown = value if value.__class__ is str else display(value)
            if "\n" not in shown:
                lines.append(f"{name.ljust(width)} : {shown}".rstrip())
                continue
            text = shown.split("\n")
            lines.append(f"{name.ljust(width)} : {text[0]}".rstrip())
            lines += [(" " * (width + 3) + more).rstrip() for more in text[1:]]
        blocks.append("\n".join(lines))
    if not blocks:
        return ""
    return "\n" + "\n\n".join(blocks) + "\n\n"


class Pairs:
    """A record listing its (name, value) pairs as given: a name may come twice, in any case."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = tuple(pairs)

    def ps_properties(self) -> tuple[tuple[str, Any], ...]:
        return self.pairs


def test_format_list_as_expand_then_table() -> None:
    rng = random.Random(16)
    names = ["Name", "NAME", "name", "Identity", "Port", "TlsDomain", "Comment"]
    values: list[Any] = ["a", "b\nc", "", 3, None, True, ["x", "y"], {"k": 1}]
    patterns_pool = [None, [], ["Name"], ["name"], ["NAME", "name"], ["Port", "nomatch"], ["Nomatch", "nomatch"],
                     ["*"], ["t*", "Comment"], ["identity", "Identity", "IDENTITY"], ["Port", "*"], ["?ort"],
                     ["TlsDomain", "Name", "tlsdomain"]]
    looked = 0
    for _ in range(1500):
        records: list[Any] = []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.1:
                records.append(rng.choice(["s", 3, None]))
            else:
                records.append(Pairs([(rng.choice(names), rng.choice(values)) for _ in range(rng.randint(0, 6))]))
        patterns = rng.choice(patterns_pool)
        got = format_list(records, patterns)
        assert got == old(records, patterns), ([getattr(r, "pairs", r) for r in records], patterns)
        looked += bool(patterns) and " : " in got
    assert looked
