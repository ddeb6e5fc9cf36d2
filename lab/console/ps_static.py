"""Static views of a parsed line: its commands, and the values known before it runs.

The evaluator's pre-flight uses them to refuse a whole line (unknown command, binding error)
before any of it runs.
"""
from __future__ import annotations

from typing import Any, Iterator

from lab.console import ps_ast as ast
from lab.console.binding import Arg
from lab.console.registry import UNKNOWN
from lab.core.memo import Memo


_FOUND = Memo()  # statements tuple (by identity) -> its commands


def commands(statements: tuple[ast.Statement, ...]) -> Iterator[tuple[ast.Command, bool]]:
    """Every command in the statements (outside script blocks), with 'receives pipeline input'.

    A parsed tree never changes (and the parser hands out the same tree for the same text), so
    the walk is done once per statements tuple (by identity) and remembered.
    """
    return iter(_FOUND.get1(statements, None, _found, statements))  # (get((statements,), ...)'s entry)


def _found(statements: tuple[ast.Statement, ...]) -> tuple[tuple[ast.Command, bool], ...]:
    return tuple(_commands(statements))


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


def is_literal(node: Any) -> bool:
    """A literal whose value :func:`static_value` and the evaluator agree on, with nothing to run
    (None: a parameter without an argument)."""
    if node is None or isinstance(node, (ast.StringLiteral, ast.NumberLiteral)):
        return True
    if isinstance(node, ast.ExpandableString):
        return all(isinstance(p, str) for p in node.parts)
    if isinstance(node, ast.ArrayLiteral):
        return all(is_literal(i) and i is not None for i in node.items)
    return False


#: the variables the evaluator reads as constants (Shell._variable answers these names before the session's
#: variables: assigning ``$true`` changes nothing it reads)
_CONSTANTS = frozenset(("true", "false", "null"))


def is_constant(node: Any) -> bool:
    """:func:`is_literal`, with ``$true``, ``$false`` and ``$null`` as literals too: running the line
    evaluates such an argument to its :func:`static_value`, running nothing (None: a parameter
    without an argument)."""
    cls = node.__class__
    if node is None or cls is ast.StringLiteral or cls is ast.NumberLiteral:
        return True
    if isinstance(node, ast.Variable):
        return node.name.lower() in _CONSTANTS
    if isinstance(node, ast.ArrayLiteral):
        return all(i is not None and is_constant(i) for i in node.items)
    return is_literal(node)


def constant_arguments(node: ast.Command) -> bool:
    """Every argument of the command :func:`is_constant`, and no splat."""
    for element in node.elements:
        if isinstance(element, ast.CommandParameter):
            if not is_constant(element.argument):
                return False
        elif isinstance(element, ast.Splat) or not is_constant(element):
            return False
    return True


#: the argument classes whose value _known reads as it is, a literal (exact classes: a subclass goes to _known)
_PLAIN = frozenset((ast.StringLiteral, ast.NumberLiteral))

#: ``_new(Arg, (value, span, name, has_value, name_span))`` is ``Arg(value, span, name, has_value, name_span)``
#: (what the named tuple's ``_make`` does with its five fields), without the Python frame of ``Arg.__new__``
_new = tuple.__new__


def _known(node: Any) -> tuple[Any, bool]:
    """``(static_value(node), is_literal(node))`` of an argument (never None), in one look."""
    if isinstance(node, (ast.StringLiteral, ast.NumberLiteral)):
        return node.value, True
    if isinstance(node, ast.ExpandableString):
        parts = node.parts
        if len(parts) == 1 and parts[0].__class__ is str:
            return parts[0], True  # (the join below of one str part: that str)
        if all(isinstance(p, str) for p in parts):
            return "".join(parts), True  # type: ignore[arg-type]
        return UNKNOWN, False  # (an expansion to run: static_value knows nothing of it)
    if isinstance(node, ast.ArrayLiteral):  # (static_value's and is_literal's walks over the items, as one)
        values: list[Any] = []
        literal, unknown = True, False
        for item in node.items:
            if item.__class__ in _PLAIN:  # (the first case above, inline)
                values.append(item.value)
                continue
            value, known = _known(item) if item is not None else (UNKNOWN, False)
            values.append(value)
            literal = literal and known
            unknown = unknown or value is UNKNOWN
        return (UNKNOWN if unknown else values), literal
    return static_value(node), False


def static_arguments(node: ast.Command) -> tuple[list[Arg], bool, bool]:
    """A command's binder arguments as known before the line runs (:data:`UNKNOWN` where not), whether
    a splat makes them partial, and whether every argument is a literal (not partial, and each
    argument :func:`is_literal`: running the line evaluates them to these same values, running nothing)."""
    args: list[Arg] = []
    partial = False
    literal = True
    for element in node.elements:
        if isinstance(element, ast.CommandParameter):
            argument = element.argument
            start = element.span[0]
            name_span = (start, start + len(element.text.rstrip(":")))
            if argument is None:
                args.append(_new(Arg, (None, None, element.name, False, name_span)))
            elif argument.__class__ in _PLAIN:  # (_known's first case, inline)
                args.append(_new(Arg, (argument.value, argument.span, element.name, True, name_span)))
            else:
                value, known = _known(argument)
                literal = literal and known
                args.append(_new(Arg, (value, argument.span, element.name, True, name_span)))
        elif isinstance(element, ast.Splat):
            partial = True
        elif element.__class__ in _PLAIN:  # (_known's first case, inline)
            args.append(_new(Arg, (element.value, element.span, None, True, None)))
        else:
            value, known = _known(element)
            literal = literal and known
            args.append(_new(Arg, (value, element.span, None, True, None)))
    return args, partial, literal and not partial
