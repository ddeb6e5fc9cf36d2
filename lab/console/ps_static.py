"""Static views of a parsed line: its commands, and the values known before it runs.

The evaluator's pre-flight uses them to refuse a whole line (unknown command, binding error)
before any of it runs.
"""
from __future__ import annotations

from typing import Any, Iterator

from lab.console import ps_ast as ast
from lab.console.registry import UNKNOWN
from lab.core.memo import Memo


_FOUND = Memo()  # statements tuple (by identity) -> its commands


def commands(statements: tuple[ast.Statement, ...]) -> Iterator[tuple[ast.Command, bool]]:
    """Every command in the statements (outside script blocks), with 'receives pipeline input'.

    A parsed tree never changes (and the parser hands out the same tree for the same text), so
    the walk is done once per statements tuple (by identity) and remembered.
    """
    return iter(_FOUND.get((statements,), None, lambda: tuple(_commands(statements))))


def _commands(statements: tuple[ast.Statement, ...]) -> Iterator[tuple[ast.Command, bool]]:
    def walk(node: Any) -> Iterator[tuple[ast.Command, bool]]:
        if isinstance(node, ast.ScriptBlock):
            return
        if isinstance(node, ast.Pipeline):
            for index, element in enumerate(node.elements):
                if isinstance(element, ast.Command):
                    yield element, index > 0
                yield from walk(element)
            return
        if isinstance(node, (list, tuple)):
            for item in node:
                yield from walk(item)
            return
        if hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                yield from walk(getattr(node, name))

    yield from walk(statements)


def static_value(node: Any) -> Any:
    """A literal's value without running anything; :data:`UNKNOWN` otherwise."""
    if isinstance(node, (ast.StringLiteral, ast.NumberLiteral)):
        return node.value
    if isinstance(node, ast.ExpandableString) and all(isinstance(p, str) for p in node.parts):
        return "".join(node.parts)  # type: ignore[arg-type]
    if isinstance(node, ast.Variable) and node.name.lower() in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[node.name.lower()]
    if isinstance(node, ast.ArrayLiteral):
        items = [static_value(i) for i in node.items]
        return UNKNOWN if any(i is UNKNOWN for i in items) else items
    return UNKNOWN
