"""Out-Default writes a str straight to its line (format.render_default): held to the body it replaces,
verbatim below, over mixes of text (empty, several lines, a str subclass), numbers, None, dates,
dicts, records of one or several shapes and Format-* output, in every order."""
from __future__ import annotations

import datetime as dt
import random
from typing import Any, Sequence

from lab.console.format import (FormattedOutput, _long_date, _shape, format_list, format_table,
                                render_default)
from lab.console.ps_values import is_scalar, properties, to_string
from lab.console.records import ExRecord


def old(objects: Sequence[Any]) -> str:
    out: list[str] = []
    group: list[Any] = []

    def flush() -> None:
        if not group:
            return
        first = group[0]
        if isinstance(first, dict):
            rows = [{"Name": k, "Value": v} for d in group for k, v in d.items()]
            out.append(format_table(rows))
        elif hasattr(first, "ps_default_table") or len(properties(first)) <= 4:
            out.append(format_table(group))
        else:
            out.append(format_list(group))
        group.clear()

    for obj in objects:
        if isinstance(obj, FormattedOutput):
            flush()
            out.append(obj.text)
        elif isinstance(obj, dt.datetime):
            flush()
            out.append("\n" + _long_date(obj) + "\n\n")
        elif is_scalar(obj) or (not isinstance(obj, dict) and not properties(obj)):
            flush()
            if obj is not None:
                out.append(to_string(obj) + "\n")
        else:
            if group and _shape(group[0]) != _shape(obj):
                flush()
            group.append(obj)
    flush()
    return "".join(out)


class _Text(str):
    """A str subclass: not the exact class, so it takes the general branch."""


def test_render_default_as_the_general_body() -> None:
    rng = random.Random(16)
    pool: list[Any] = [
        "", "line", "two\nlines", _Text("sub"), 3, 2.5, True, None, dt.datetime(2026, 1, 2, 15, 4, 5),
        {"a": 1}, {"b": "x", "c": None}, FormattedOutput("\nformatted\n"),
        ExRecord([("Identity", "q1"), ("Status", "Ready")], ["Identity", "Status"], "Queue"),
        ExRecord([("Identity", "q2"), ("Status", "Retry")], ["Identity", "Status"], "Queue"),
        ExRecord([(f"P{i}", i) for i in range(6)], [], "Wide"),
    ]
    texts = 0
    for _ in range(1500):
        objects = [rng.choice(pool) for _ in range(rng.randint(0, 6))]
        assert render_default(objects) == old(objects), objects
        texts += any(o.__class__ is str for o in objects)
    assert texts
