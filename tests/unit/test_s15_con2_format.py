"""format_table pads each row with one format string: the same text as padding each cell with
str.rjust (numeric columns) / str.ljust (the rest) and joining them with a space."""
from __future__ import annotations

from lab.console.format import format_table
from lab.console.ps_values import display


def _reference(rows: list[dict], columns: list[str]) -> str:
    values = [[r.get(c) for c in columns] for r in rows]
    cells = [[display(v).replace("\r", "").replace("\n", " ") for v in row] for row in values]
    numeric = []
    for column in zip(*values):
        present = [v for v in column if v is not None]
        numeric.append(bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                             for v in present))
    widths = [max(len(c), *map(len, texts)) for c, texts in zip(columns, zip(*cells))]

    def line(vals):
        return " ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(vals, widths, numeric)).rstrip()

    out = [line(columns), line(["-" * len(c) for c in columns])] + [line(r) for r in cells]
    return "\n" + "\n".join(out) + "\n\n"


def test_table_padding_matches_rjust_ljust():
    rows = [{"Name": "alpha", "Count": 3, "Ratio": 1.5, "Flag": True, "Note": None, "Text": "a\nb{0}}"},
            {"Name": "a much longer name", "Count": 12345, "Ratio": None, "Flag": False, "Note": "x",
             "Text": "{}"},
            {"Name": "", "Count": None, "Ratio": 0.25, "Flag": None, "Note": "", "Text": "é 沃通"}]
    columns = ["Name", "Count", "Ratio", "Flag", "Note", "Text"]
    assert format_table(rows) == _reference(rows, columns)
    assert format_table(rows, ["Count", "Name"]) == _reference(rows, ["Count", "Name"])
    assert format_table(rows[:1]) == _reference(rows[:1], columns)


def test_table_with_empty_header_and_cells():
    rows = [{"": "", "N": 1}, {"": "", "N": 22}]
    assert format_table(rows) == _reference(rows, ["", "N"])
