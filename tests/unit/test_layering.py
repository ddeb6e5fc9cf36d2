"""lab.core is pure: it imports nothing that does I/O or keeps time (trio's _core rule)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "lab" / "core"
FORBIDDEN = {
    "asyncio", "socket", "ssl", "select", "selectors", "threading", "multiprocessing", "subprocess", "time",
    "simpy", "aiosmtpd", "aiosmtplib", "dnslib", "dns", "cryptography", "yaml", "rich", "click", "networkx",
    "prompt_toolkit", "os", "shutil", "urllib", "http", "smtplib", "random",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


CORE_FILES = sorted(CORE.rglob("*.py"))


def test_core_has_modules():
    assert len(CORE_FILES) > 5


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_io(path: Path):
    bad = _imports(path) & FORBIDDEN
    assert not bad, f"{path.relative_to(CORE.parent.parent)} imports {sorted(bad)}"


def test_the_check_catches_an_io_import(tmp_path: Path):
    sample = tmp_path / "bad.py"
    sample.write_text("import asyncio\nfrom ssl import SSLContext\n")
    assert _imports(sample) & FORBIDDEN == {"asyncio", "ssl"}
