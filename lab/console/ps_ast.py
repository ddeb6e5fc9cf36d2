"""The syntax tree of the lab's PowerShell subset (frozen dataclasses, no behaviour).

Every node carries ``span``: the ``(start, end)`` character offsets of its text in the
source, which the evaluator uses to draw PowerShell's ``At line:1 char:12`` markers.

Theory of operation: a :class:`Script` is a list of statements. A statement is either an
:class:`Assignment` or a :class:`Pipeline`. A pipeline is a list of :class:`Command` (or one
leading expression). Command elements are expressions (arguments), :class:`CommandParameter`
(``-Name`` / ``-Name:value``) and :class:`Splat` (``@params``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

Span = tuple[int, int]


@dataclass(frozen=True)
class StringLiteral:
    """A single-quoted string or a bare word used as an argument; no expansion."""

    value: str
    span: Span
    bare: bool = False


@dataclass(frozen=True)
class ExpandableString:
    """A double-quoted string (or a bare word holding ``$``); parts are text or expressions."""

    parts: tuple[Union[str, "Expr"], ...]
    span: Span


@dataclass(frozen=True)
class NumberLiteral:
    """An integer or floating-point constant (``25``, ``1.5``, ``35MB``)."""

    value: int | float
    span: Span
    text: str = ""


@dataclass(frozen=True)
class Variable:
    """``$name``; ``$true``, ``$false``, ``$null`` and ``$_`` are variables too."""

    name: str
    span: Span


@dataclass(frozen=True)
class SubExpression:
    """``$( statements )``: runs the statements and yields their output."""

    statements: tuple["Statement", ...]
    span: Span


@dataclass(frozen=True)
class ArrayExpression:
    """``@( statements )``: like a subexpression but always yields an array."""

    statements: tuple["Statement", ...]
    span: Span


@dataclass(frozen=True)
class ParenExpression:
    """``( pipeline )``."""

    pipeline: "Statement"
    span: Span


@dataclass(frozen=True)
class HashLiteral:
    """``@{ key = value; ... }``; keys are expressions (bare keys are string literals)."""

    entries: tuple[tuple["Expr", "Statement"], ...]
    span: Span


@dataclass(frozen=True)
class ArrayLiteral:
    """``a, b, c``."""

    items: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class BinaryOp:
    """``left op right``; ``op`` is lower case (``+``, ``-eq``, ``-like``, ``-and``)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class UnaryOp:
    """``-not x``, ``!x``, ``-x``, ``+x``."""

    op: str
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class MemberAccess:
    """``target.Name``."""

    target: "Expr"
    name: str
    span: Span


@dataclass(frozen=True)
class MethodCall:
    """``target.Name(arguments)``."""

    target: "Expr"
    name: str
    arguments: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class IndexExpression:
    """``target[index]``."""

    target: "Expr"
    index: "Expr"
    span: Span


@dataclass(frozen=True)
class ScriptBlock:
    """``{ statements }``; ``text`` is the source between the braces."""

    statements: tuple["Statement", ...]
    text: str
    span: Span


Expr = Union[
    StringLiteral,
    ExpandableString,
    NumberLiteral,
    Variable,
    SubExpression,
    ArrayExpression,
    ParenExpression,
    HashLiteral,
    ArrayLiteral,
    BinaryOp,
    UnaryOp,
    MemberAccess,
    MethodCall,
    IndexExpression,
    ScriptBlock,
]


@dataclass(frozen=True)
class CommandParameter:
    """``-Name`` or ``-Name:value``; ``text`` is the token as typed (for native commands)."""

    name: str
    argument: Expr | None
    text: str
    span: Span


@dataclass(frozen=True)
class Splat:
    """``@name`` as a command argument."""

    name: str
    span: Span


CommandElement = Union[Expr, CommandParameter, Splat]


@dataclass(frozen=True)
class Command:
    """One pipeline element naming a command; ``raw`` holds each element's source text."""

    name: str
    name_span: Span
    elements: tuple[CommandElement, ...]
    raw: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Pipeline:
    """``a | b | c``: commands, of which only the first may be an expression."""

    elements: tuple[Union[Command, Expr], ...]
    span: Span


@dataclass(frozen=True)
class Assignment:
    """``$target = pipeline`` (``target`` is a :class:`Variable` or a :class:`MemberAccess`)."""

    target: Union[Variable, MemberAccess]
    value: "Statement"
    span: Span


Statement = Union[Pipeline, Assignment]


@dataclass(frozen=True)
class Script:
    """A whole console input: statements separated by ``;`` or newlines."""

    statements: tuple[Statement, ...]
    source: str
