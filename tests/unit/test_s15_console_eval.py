"""Shell._eval dispatches on the node's class (_HANDLERS): held to the isinstance chain it replaced. A node
of a subclass of a node class evaluates as its node class, a non-expression still raises TypeError, and a
runtime error is still reported at the innermost node that failed."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from lab.console import evaluator as E
from lab.console import ps_ast as ast
from lab.console.parser import parse
from lab.console.registry import Registry

CLOCK = dt.datetime(2024, 5, 1, 9, 30)

EXPRESSIONS = [
    "'a'", "42", '"x$($v)y"', "$v", "$(1; 2)", "@(3)", "(4 + 5)", "@{A = 1; b = 'x'}", "1, 2, 'c'",
    "6 * 7 -eq 42", "-not $true", "-5", "$h.A", "'abc'.ToUpper()", "$a[1]", "$a[0, 2]", "{ $_ }",
    "$h['b']", "($w = 3)", "'{0}-{1}' -f 'p', 'q'", "'abc' -replace 'b', 'x'", "$null",
]


def _shell() -> E.Shell:
    shell = E.Shell(Registry(), E.HostCallbacks(now=lambda: CLOCK))
    shell.variables.update(v="V", h={"A": 1, "b": "x"}, a=[10, 20, 30])
    return shell


def _expression(text: str):
    statement = parse(text).statements[0]
    return statement.elements[0]


def _subclassed(node):
    """The same tree with every node of a node class rebuilt as an instance of a subclass of it."""
    if isinstance(node, tuple):
        return tuple(_subclassed(n) for n in node)
    if not dataclasses.is_dataclass(node):
        return node
    cls = node.__class__
    sub = _SUBCLASSES.setdefault(cls, dataclasses.dataclass(frozen=True)(type("Sub" + cls.__name__, (cls,), {})))
    return sub(**{f.name: _subclassed(getattr(node, f.name)) for f in dataclasses.fields(node)})


_SUBCLASSES: dict[type, type] = {}


def _value(shell: E.Shell, node):
    value = shell._eval(node)
    return value.node.text if isinstance(value, E.ScriptBlockValue) else value


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_a_subclass_node_evaluates_as_its_node_class(text: str) -> None:
    node = _expression(text)
    exact = _value(_shell(), node)
    sub = _subclassed(node)
    assert sub.__class__ is not node.__class__ and sub.__class__ not in E._HANDLERS
    assert _value(_shell(), sub) == exact


def test_every_expression_class_has_a_handler() -> None:
    expressions = {ast.StringLiteral, ast.ExpandableString, ast.NumberLiteral, ast.Variable, ast.SubExpression,
                   ast.ArrayExpression, ast.ParenExpression, ast.HashLiteral, ast.ArrayLiteral, ast.BinaryOp,
                   ast.UnaryOp, ast.MemberAccess, ast.MethodCall, ast.IndexExpression, ast.ScriptBlock}
    assert set(E._HANDLERS) == expressions


def test_a_non_expression_raises_type_error() -> None:
    with pytest.raises(TypeError, match="not an expression"):
        _shell()._eval(ast.Splat("x", (0, 1)))


def test_runtime_error_points_at_the_innermost_failing_node() -> None:
    result = _shell().run("$x = 1 + $null[0]")
    assert result.errors and "$null[0]" in result.errors[0]
    result = _shell().run("Write-Output ('a' + $h.A.Foo[1])")
    assert result.errors
