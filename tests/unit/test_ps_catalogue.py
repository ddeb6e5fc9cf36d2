"""The console catalogue is well formed, and the console modules stay pure."""
from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from lab.core.catalogue import Message, entries
from lab.core.catalogue import console

CONSOLE = Path(__file__).resolve().parents[2] / "lab" / "console"
OWN_MODULES = ["parser.py", "evaluator.py", "format.py", "registry.py", "ps_ast.py", "ps_lexer.py", "ps_values.py",
               "ps_errors.py", "ps_builtins.py", "ps_datetime.py", "ps_static.py"]
FORBIDDEN = {"asyncio", "socket", "ssl", "select", "selectors", "threading", "subprocess", "time", "os", "random",
             "simpy", "aiosmtpd", "aiosmtplib", "dnslib", "dns", "cryptography", "yaml", "rich", "click"}


@pytest.mark.parametrize("name", sorted(entries(console)))
def test_every_entry_is_a_message_that_formats(name: str) -> None:
    entry = entries(console)[name]
    assert isinstance(entry, Message) and entry.text
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(entry.text) if f is not None]
        if "" in fields:
            raise ValueError("an empty field: literal '${}'")
    except ValueError:  # literal braces: the text has no placeholders and is used verbatim
        assert "{" not in entry.text.replace("'{'", "").replace("'}'", "") or "${}" in entry.text
        return
    filled = entry.format(**{f: f"<{f}>" for f in fields})
    assert all(f"<{f}>" in filled for f in fields)


def test_known_texts_are_verbatim() -> None:
    assert console.MISSING_END_CURLY_BRACE.text == "Missing closing '}' in statement block or type definition."
    assert console.NAMED_PARAMETER_NOT_FOUND.format(name="Foo") == (
        "A parameter cannot be found that matches parameter name 'Foo'.")


@pytest.mark.parametrize("module", OWN_MODULES)
def test_console_modules_are_pure_and_small(module: str) -> None:
    path = CONSOLE / module
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
    assert len(source.splitlines()) < 500
    assert "from __future__ import annotations" in source


def _string_constants(tree: ast.Module) -> list[str]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_no_inline_powershell_error_texts_in_console_code() -> None:
    phrases = ("is not recognized as the name", "A parameter cannot be found", "Missing closing",
               "Cannot process argument transformation", "Unexpected token", "Cannot convert", "The term")
    for module in OWN_MODULES:
        constants = _string_constants(ast.parse((CONSOLE / module).read_text(encoding="utf-8")))
        assert not [c for c in constants if any(p in c for p in phrases)], module
