"""lab.core is pure: it imports nothing that does I/O or keeps time (trio's _core rule).

From lab/core only ``lab.core.*`` may be imported (relative imports are resolved first), no
module that touches files, clocks, randomness or the network, and no call that reads the clock
(``datetime.now()``/``utcnow()``/``today()``), makes random ids (``uuid.uuid1()``/``uuid4()``)
or opens a file (``open()``).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "lab" / "core"
FORBIDDEN = {
    "asyncio", "socket", "ssl", "select", "selectors", "threading", "multiprocessing", "subprocess", "time",
    "simpy", "aiosmtpd", "aiosmtplib", "dnslib", "dns", "cryptography", "yaml", "rich", "click", "networkx",
    "prompt_toolkit", "os", "shutil", "urllib", "http", "smtplib", "random", "pathlib", "io", "tempfile",
    "secrets", "logging", "glob", "sqlite3", "pickle", "shelve",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "uuid1", "uuid4", "open", "getrandbits", "urandom"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path: Path) -> str:
    """The package a lab file's relative imports start from."""
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _imported_modules(path: Path, package: str | None = None) -> set[str]:
    """Every module ``path`` imports, with relative imports resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = (package if package is not None else _package(path)).split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # the names may be modules
    return found


def _imports(path: Path) -> set[str]:
    """The top-level names of the modules ``path`` imports."""
    return {name.split(".")[0] for name in _imported_modules(path)}


def _bad_lab_imports(path: Path, package: str | None = None) -> set[str]:
    return {m for m in _imported_modules(path, package) if (m == "lab" or m.startswith("lab."))
            and not (m == "lab.core" or m.startswith("lab.core."))}


def _bad_calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in FORBIDDEN_CALLS:
                found.add(f"{name}() line {node.lineno}")
    return found


CORE_FILES = sorted(CORE.rglob("*.py"))


def _id(path: Path) -> str:
    return str(path.relative_to(CORE))


def test_core_has_modules():
    assert len(CORE_FILES) > 5


@pytest.mark.parametrize("path", CORE_FILES, ids=_id)
def test_core_module_imports_no_io(path: Path):
    bad = _imports(path) & FORBIDDEN
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", CORE_FILES, ids=_id)
def test_core_module_imports_only_core(path: Path):
    bad = _bad_lab_imports(path)
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} (lab/core may import only lab.core.*)"


@pytest.mark.parametrize("path", CORE_FILES, ids=_id)
def test_core_module_reads_no_clock_randomness_or_files(path: Path):
    bad = _bad_calls(path)
    assert not bad, f"{path.relative_to(ROOT)} calls {sorted(bad)}"


def test_the_check_catches_an_io_import(tmp_path: Path):
    sample = tmp_path / "bad.py"
    sample.write_text("import asyncio\nfrom ssl import SSLContext\nimport pathlib\nfrom io import StringIO\n"
                      "import tempfile, secrets\n")
    assert _imports(sample) & FORBIDDEN == {"asyncio", "ssl", "pathlib", "io", "tempfile", "secrets"}


def test_the_check_resolves_relative_imports_and_catches_outer_layers(tmp_path: Path):
    sample = tmp_path / "bad.py"  # read as if it were lab/core/exchange/bad.py
    sample.write_text("from ...adapters import eop\nfrom .. import errors\nfrom . import model\n"
                      "from lab.adapters.clock import X\nimport lab.memory\nfrom lab.core.tls import CertFacts\n")
    assert _bad_lab_imports(sample, "lab.core.exchange") == {
        "lab.adapters", "lab.adapters.eop", "lab.adapters.clock", "lab.adapters.clock.X", "lab.memory"}


def test_the_check_catches_clock_random_and_file_calls(tmp_path: Path):
    sample = tmp_path / "bad.py"
    sample.write_text("import datetime, uuid\nx = datetime.datetime.now()\ny = datetime.datetime.utcnow()\n"
                      "z = uuid.uuid4()\nw = uuid.uuid1()\nv = open('f')\nu = uuid.uuid5(uuid.NAMESPACE_DNS, 'a')\n")
    assert {c.split("(")[0] for c in _bad_calls(sample)} == {"now", "utcnow", "uuid4", "uuid1", "open"}
