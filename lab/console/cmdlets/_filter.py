"""OPATH filters of Exchange cmdlets (``-Filter "Status -eq 'Retry'"``) over display records.

Grammar (what the queue viewer cmdlets accept in the lab)::

    filter  := clause (('-and' | '-or') clause)*          # -and binds tighter than -or
    clause  := ['-not'] Property op Value | '(' filter ')'
    op      := -eq -ne -like -notlike -gt -ge -lt -le
    Value   := 'text' | "text" | bare word | number | $true | $false | $null

Comparison is case-insensitive; numbers compare as numbers; ``-like`` takes ``*`` and ``?``.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from lab.console.ps_values import like, to_string

Predicate = Callable[[Any], bool]
_TOKEN = re.compile(r"\s*(?:(\()|(\))|(-[A-Za-z]+)|'((?:[^']|'')*)'|\"([^\"]*)\"|(\$[A-Za-z]+)|([^\s()'\"]+))")
_OPS = {"-eq", "-ne", "-like", "-notlike", "-gt", "-ge", "-lt", "-le"}


class FilterError(ValueError):
    """A filter that does not parse; ``position`` is the 0-based offset of the bad token."""

    def __init__(self, position: int):
        self.position = position
        super().__init__(position)


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise FilterError(pos)
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        lp, rp, dash, single, double, var, bare = m.groups()
        if lp or rp:
            out.append(("paren", lp or rp, start))
        elif dash:
            out.append(("op", dash.lower(), start))
        elif single is not None or double is not None:
            out.append(("value", single.replace("''", "'") if single is not None else double, start))
        elif var:
            special = {"$true": True, "$false": False, "$null": None}
            if var.lower() not in special:
                raise FilterError(start)
            out.append(("value", special[var.lower()], start))
        else:
            out.append(("word", bare, start))
        pos = m.end()
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    return any(_one(v, op, wanted) for v in values) if op != "-ne" else all(_one(v, op, wanted) for v in values)


def _one(actual: Any, op: str, wanted: Any) -> bool:
    if op in ("-like", "-notlike"):
        hit = like(to_string(actual), to_string(wanted))
        return hit if op == "-like" else not hit
    a, w = _number(actual), _number(wanted)
    if a is None or w is None:
        if isinstance(wanted, bool) or wanted is None:
            a2, w2 = actual, wanted
        else:
            a2, w2 = to_string(actual).lower(), to_string(wanted).lower()
    else:
        a2, w2 = a, w
    if op == "-eq":
        return a2 == w2
    if op == "-ne":
        return a2 != w2
    if type(a2) is not type(w2) or a2 is None:
        return False
    return {"-gt": a2 > w2, "-ge": a2 >= w2, "-lt": a2 < w2, "-le": a2 <= w2}[op]


def compile_filter(text: str, get: Callable[[Any, str], Any]) -> Predicate:
    """A predicate over records for ``text``; ``get(record, property)`` reads a property.

    Raises:
        FilterError: the text is not a filter of the grammar above.
    """
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, Any, int] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, Any, int]:
        nonlocal pos
        if pos >= len(tokens):
            raise FilterError(len(text))
        pos += 1
        return tokens[pos - 1]

    def disjunction() -> Predicate:
        parts = [conjunction()]
        while (t := peek()) and t[:2] == ("op", "-or"):
            take()
            parts.append(conjunction())
        return lambda r: any(p(r) for p in parts)

    def conjunction() -> Predicate:
        parts = [clause()]
        while (t := peek()) and t[:2] == ("op", "-and"):
            take()
            parts.append(clause())
        return lambda r: all(p(r) for p in parts)

    def clause() -> Predicate:
        kind, value, at = take()
        if (kind, value) == ("op", "-not"):
            inner = clause()
            return lambda r: not inner(r)
        if (kind, value) == ("paren", "("):
            inner = disjunction()
            if take()[:2] != ("paren", ")"):
                raise FilterError(at)
            return inner
        if kind != "word":
            raise FilterError(at)
        prop = value
        op_kind, op, op_at = take()
        if op_kind != "op" or op not in _OPS:
            raise FilterError(op_at)
        v_kind, wanted, v_at = take()
        if v_kind not in ("value", "word"):
            raise FilterError(v_at)
        return lambda r: _compare(get(r, prop), op, wanted)

    predicate = disjunction()
    if pos != len(tokens):
        raise FilterError(tokens[pos][2])
    return predicate
