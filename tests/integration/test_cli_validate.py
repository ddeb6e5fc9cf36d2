"""`python -m lab validate FILE` in a subprocess: exit 2, one error with file:line, no traceback.

The broken files and their headers are described in tests/unit/test_validate.py; a ``# gap``
line marks the aspect (count, line, message, allowed) the loader gets wrong today as
``xfail(strict=True)`` here too.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
BROKEN = sorted((TESTS / "topologies" / "broken").glob("*.yaml"))
VALID = sorted((TESTS / "topologies" / "valid").glob("*.yaml"))


def expectation(path: Path) -> tuple[int, str, tuple[str, ...], dict[str, str]]:
    """(line, substring, allowed, gaps) from the header of a broken file."""
    head = []
    for text in path.read_text(encoding="utf-8").splitlines():
        if not text.startswith("#"):
            break
        head.append(text)
    match = re.fullmatch(r"# expect: line (\d+): (.+)", head[0])
    assert match, path.name
    allowed: tuple[str, ...] = ()
    gaps: dict[str, str] = {}
    for text in head[1:]:
        if text.startswith("# allowed: "):
            allowed = tuple(v.strip() for v in text[len("# allowed: "):].split(","))
        elif m := re.fullmatch(r"# gap (\w+): (.+)", text):
            gaps[m[1]] = m[2]
    return int(match[1]), match[2], allowed, gaps


def cases(*aspects: str) -> list:
    out = []
    for path in BROKEN:
        gaps = expectation(path)[3]
        reasons = [gaps[a] for a in aspects if a in gaps]
        marks = [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []
        out.append(pytest.param(path, marks=marks, id=path.stem))
    return out


def run_validate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab", "validate", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def test_there_are_broken_files():
    assert len(BROKEN) >= 24


@pytest.mark.parametrize("path", cases("count", "line", "message"))
def test_validate_broken_text(path: Path):
    line, substring, _, _ = expectation(path)
    proc = run_validate(rel(path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""
    errors = [t for t in proc.stderr.splitlines() if t.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert re.search(rf"{re.escape(rel(path))}:{line}\b", errors[0]), proc.stderr
    assert substring in errors[0].replace(rel(path), ""), proc.stderr  # not in the file name


@pytest.mark.parametrize("path", cases("count", "line", "message", "allowed"))
def test_validate_broken_json(path: Path):
    line, substring, allowed, _ = expectation(path)
    proc = run_validate("--format", "json", rel(path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    report = json.loads(proc.stdout)
    assert report["valid"] is False and report["file"] == rel(path)
    assert len(report["errors"]) == 1, report["errors"]
    err = report["errors"][0]
    assert set(err) >= {"file", "line", "message", "allowed"}
    assert err["file"] == rel(path) and err["line"] == line
    assert substring in err["message"]
    if allowed:
        assert isinstance(err["allowed"], list) and not [v for v in allowed if v not in err["allowed"]], err
    # the JSON message is the bare message: no file:line prefix, no "(allowed: ...)" suffix
    assert not err["message"].startswith(rel(path)) and "(allowed:" not in err["message"]


@pytest.mark.parametrize("path", [REPO / "topology.yaml", *VALID], ids=lambda p: p.stem)
def test_validate_valid(path: Path):
    proc = run_validate(rel(path))
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout and proc.stderr == ""
    proc = run_validate("--format", "json", rel(path))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["valid"] is True and report["hosts"] >= 1


def test_validate_default_topology_without_argument():
    proc = run_validate()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("topology.yaml: valid")


def test_validate_missing_file():
    proc = run_validate("tests/topologies/no-such-file.yaml")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "tests/topologies/no-such-file.yaml" in proc.stderr and "not found" in proc.stderr
