"""ps_static._known reads a one-part double-quoted string, and a plain literal inside an array, without
the general walk: held to static_value and is_literal over trees that mix those with the other
shapes (one-part strings with and without an expansion, subclass parts, nested arrays)."""
from __future__ import annotations

import random

from lab.console import ps_ast as ast
from lab.console.ps_static import _known, is_literal, static_value


class _Part(str):
    """A str subclass part: not the exact class, so the general walk reads it."""


def test_known_fast_cases_as_static_value_and_is_literal() -> None:
    span = (0, 1)
    leaves = [ast.StringLiteral("a", span), ast.NumberLiteral(2, span), ast.NumberLiteral(0.5, span),
              ast.ExpandableString(("solo",), span), ast.ExpandableString(("",), span),
              ast.ExpandableString((_Part("sub"),), span), ast.ExpandableString((), span),
              ast.ExpandableString((ast.Variable("p", span),), span), ast.ExpandableString(("x", "y"), span),
              ast.Variable("true", span), ast.Variable("p", span), None]
    rng = random.Random(3)
    one_part = 0

    def tree(depth: int):
        if depth == 0 or rng.random() < 0.5:
            return rng.choice(leaves)
        return ast.ArrayLiteral(tuple(tree(depth - 1) for _ in range(rng.randint(0, 4))), span)

    for _ in range(3000):
        node = tree(3)
        if node is None:
            continue
        got = _known(node)
        assert got == (static_value(node), is_literal(node)), node
        assert type(got[0]) is type(static_value(node))
        one_part += isinstance(node, ast.ExpandableString) and len(node.parts) == 1
    assert one_part
