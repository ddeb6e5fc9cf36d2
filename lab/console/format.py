"""Plain-text Format-List / Format-Table rendering and the console's default output.

Records expose properties through :func:`lab.console.ps_values.properties`; an object may
also define ``ps_default_table() -> list[str]`` (the columns of its default table view).
Values are rendered by :func:`lab.console.ps_values.display`: arrays as ``{a, b}``,
booleans ``True``/``False``, ``None`` blank. Exchange-specific value texts (``{SMTP:*;1}``,
``36 MB (37,748,736 bytes)``) come from the records themselves.

Default output follows PowerShell's rule: a record with a default table view, or with at
most four properties, renders as a table; otherwise as a list.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Sequence

from lab.console.ps_values import display, is_scalar, like, properties, to_string


@dataclass(frozen=True)
class FormattedOutput:
    """What Format-List / Format-Table emit: text for the console, the records it shows."""

    text: str
    records: list[Any] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text


_NAME = itemgetter(0)  # of a (name, value) property pair
_WILDCARDS = frozenset("*?[")


def expand_properties(record: Any, patterns: Sequence[str] | None) -> list[str]:
    """Property names of ``record`` matching ``patterns`` (wildcards; ``*`` = all), in order."""
    return _expand(list(map(_NAME, properties(record))), patterns)


def _expand(names: list[str], patterns: Sequence[str] | None) -> list[str]:
    """:func:`expand_properties` of a record whose property names are ``names``."""
    if not patterns:
        return names
    chosen: list[str] = []
    first: dict[str, str] | None = None  # lower-case name -> the first property of that name
    for pattern in patterns:
        if not _WILDCARDS.isdisjoint(pattern):
            chosen += [n for n in names if like(n, pattern) and n not in chosen]
        else:
            if first is None:  # (built from the last name back: the first of a name is written last)
                first = dict(zip(map(str.lower, reversed(names)), reversed(names)))
            exact = first.get(pattern.lower(), pattern)
            if exact not in chosen:
                chosen.append(exact)
    return chosen


def value_of(record: Any, name: str) -> Any:
    """The value of property ``name`` (case-insensitive); None when absent."""
    lowered = name.lower()
    for key, value in properties(record):
        if key.lower() == lowered:
            return value
    return None


#: a record's property names -> :func:`first_positions` of them (records of one kind share their names)
_FIRST_POSITIONS: dict[tuple[str, ...], dict[str, int]] = {}


def first_positions(names: tuple[str, ...]) -> dict[str, int]:
    """Lower-case property name -> the position of the first property of that name (any case), for a
    record whose property names are ``names``: what :func:`value_of` finds is at that position.

    A pure function of the names, worked out once per kind of record (every queue, every send connector
    has the same property names) instead of once per record shown; bounded like the lab's memos."""
    found = _FIRST_POSITIONS.get(names)
    if found is None:
        if len(_FIRST_POSITIONS) >= 512:
            _FIRST_POSITIONS.clear()
        # (read backwards: the first of a name is written last, so it is the one kept)
        found = _FIRST_POSITIONS[names] = dict(zip(map(str.lower, reversed(names)), range(len(names) - 1, -1, -1)))
    return found


def format_list(records: Sequence[Any], patterns: Sequence[str] | None = None) -> str:
    """Format-List: ``Name : value`` lines, names padded, a blank line around each record."""
    if all(is_scalar(r) for r in records):
        return "".join(display(r) + "\n" for r in records if r is not None)
    blocks: list[str] = []
    for record in records:
        if is_scalar(record):
            blocks.append(display(record))
            continue
        props = properties(record)  # (read once: names and values come from the same pairs)
        names = tuple(map(_NAME, props))
        where = first_positions(names)  # (the first property of a name, any case: its value is the one shown)
        if not patterns:
            if len(where) == len(names):  # (no two names alike: each name's first property is itself)
                rows = props
            else:
                rows = [(name, props[where[name.lower()]][1]) for name in names]
        elif _WILDCARDS.isdisjoint("".join(patterns)):  # (_expand with no wildcard pattern: a look-up each)
            rows = []
            chosen: list[str] = []
            for pattern in patterns:
                at = where.get(pattern.lower())
                row = (pattern, None) if at is None else (names[at], props[at][1])
                if row[0] not in chosen:
                    chosen.append(row[0])
                    rows.append(row)
        else:
            rows = []
            for name in _expand(list(names), patterns):
                at = where.get(name.lower())
                rows.append((name, None if at is None else props[at][1]))
        if not rows:
            continue
        width = max(map(len, map(_NAME, rows)))
        lines: list[str] = []
        for name, value in rows:
            shown = value if value.__class__ is str else display(value)  # (display gives a str itself)
            if "\n" not in shown:  # (one line: what the split below gives, with no more lines)
                lines.append(f"{name.ljust(width)} : {shown}".rstrip())
                continue
            text = shown.split("\n")
            lines.append(f"{name.ljust(width)} : {text[0]}".rstrip())
            lines += [(" " * (width + 3) + more).rstrip() for more in text[1:]]
        blocks.append("\n".join(lines))
    if not blocks:
        return ""
    return "\n" + "\n\n".join(blocks) + "\n\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def table_columns(record: Any) -> list[str]:
    """The default columns of ``record``'s table view."""
    if hasattr(record, "ps_default_table"):
        return list(record.ps_default_table())
    return [name for name, _ in properties(record)]


def format_table(records: Sequence[Any], patterns: Sequence[str] | None = None, autosize: bool = False) -> str:
    """Format-Table: headers, ``----`` underlines as long as each header, widths from content.

    ``autosize`` is accepted for fidelity; plain-text tables are always sized to content.
    """
    rows_source = [r for r in records if not is_scalar(r)]
    scalars = [r for r in records if is_scalar(r)]
    if not rows_source:
        return "".join(display(s) + "\n" for s in scalars)
    columns = expand_properties(rows_source[0], patterns) if patterns else table_columns(rows_source[0])
    lowered = [c.lower() for c in columns]
    rows = []
    for record in rows_source:  # (each column's value: that of the first property of its name, any case)
        props = properties(record)
        where = first_positions(tuple(map(_NAME, props)))
        rows.append([None if (at := where.get(c)) is None else props[at][1] for c in lowered])
    cells = [[display(v).replace("\r", "").replace("\n", " ") for v in row] for row in rows]
    # (a column at a time: every row has one value per column, and there is at least one row)
    numeric = []
    for column in zip(*rows):
        present = [v for v in column if v is not None]
        numeric.append(bool(present) and all(map(_is_number, present)))
    widths = [max(len(c), *map(len, texts)) for c, texts in zip(columns, zip(*cells))]

    # One row: each cell padded to its column's width (numbers to the right, ``str.rjust``; the rest to the
    # left, ``str.ljust``), joined by a space, trailing blanks cut. The padding as one format string, built
    # once per table (a str formatted with ``>w`` / ``<w`` is its rjust(w) / ljust(w), never cut short).
    template = " ".join(("{:>%d}" if num else "{:<%d}") % w for w, num in zip(widths, numeric)).format
    out = [template(*columns).rstrip(), template(*["-" * len(c) for c in columns]).rstrip()]
    out += [template(*row).rstrip() for row in cells]
    return "\n" + "\n".join(out) + "\n\n"


def _shape(obj: Any) -> tuple[Any, ...]:
    if isinstance(obj, FormattedOutput) or is_scalar(obj):
        return ("scalar", id(obj))
    return (type(obj), tuple(map(_NAME, properties(obj))))


def _long_date(value: dt.datetime) -> str:
    hour = value.hour % 12 or 12
    return (f"{value:%A}, {value:%B} {value.day}, {value.year} "
            f"{hour}:{value:%M:%S} {'AM' if value.hour < 12 else 'PM'}")


def render_default(objects: Sequence[Any]) -> str:
    """Out-Default: what the console prints for objects that reach the end of a pipeline."""
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
        if obj.__class__ is str:  # (a scalar: the branch below gives its to_string, itself, on a line)
            if group:
                flush()
            out.append(obj + "\n")
        elif isinstance(obj, FormattedOutput):
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
