"""Format-Table works out each column's alignment and width a column at a time (format.format_table):
held to the per-index passes it replaces, verbatim below, over tables of text, numbers, booleans,
None, lists and multi-line text, with and without property patterns (and with no columns)."""
from __future__ import annotations

import random
from typing import Any, Sequence

from lab.console.format import _is_number, expand_properties, format_table, table_columns
from lab.console.ps_values import display, is_scalar
from tests.unit.format_support import record_values as _values


def old(records: Sequence[Any], patterns: Sequence[str] | None = None) -> str:
    rows_source = [r for r in records if not is_scalar(r)]
    scalars = [r for r in records if is_scalar(r)]
    if not rows_source:
        return "".join(display(s) + "\n" for s in scalars)
    columns = expand_properties(rows_source[0], patterns) if patterns else table_columns(rows_source[0])
    rows = [[table.get(c.lower()) for c in columns] for table in map(_values, rows_source)]
    cells = [[display(v).replace("\r", "").replace("\n", " ") for v in row] for row in rows]
    numeric = [
        all(_is_number(row[i]) for row in rows if row[i] is not None) and any(row[i] is not None for row in rows)
        for i in range(len(columns))
    ]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return " ".join(parts).rstrip()

    out = [line(columns), line(["-" * len(c) for c in columns])] + [line(row) for row in cells]
    return "\n" + "\n".join(out) + "\n\n"


VALUES: list[Any] = ["", "x", "longer text", "a\r\nb", None, 0, 12345, 2.5, True, False, ["p", "q"], {}, -7]


def test_format_table_as_the_per_index_passes() -> None:
    rng = random.Random(5)
    names = ["Name", "Port", "Status", "Identity", "n", "LongColumnName"]
    aligned = left = 0
    for _ in range(400):
        keys = rng.sample(names, rng.randint(0, 4))
        records: list[Any] = [{k: rng.choice(VALUES) for k in keys} for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.2:
            records.append(rng.choice(["s", 3, None]))
        patterns = rng.choice([None, [], ["Name"], ["*"], ["Port", "Status", "zz"], ["n*"]])
        got = format_table(records, patterns)
        assert got == old(records, patterns), (records, patterns)
        if " " * 2 in got:
            aligned += 1
        left += got.count("-")
    assert aligned and left
