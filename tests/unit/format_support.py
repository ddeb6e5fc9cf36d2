"""The console formatter's reference readings, for the tests that hold format.py's faster ones to them."""
from __future__ import annotations

from typing import Any

from lab.console.ps_values import properties


def first_values(props: list[tuple[str, Any]]) -> dict[str, Any]:
    """Lower-case property name -> the value of the first property of that name (any case): what
    ``format.value_of`` finds, read with a plain loop."""
    table: dict[str, Any] = {}
    for key, value in props:
        table.setdefault(key.lower(), value)
    return table


def record_values(record: Any) -> dict[str, Any]:
    """:func:`first_values` of ``record``'s properties."""
    return first_values(properties(record))
