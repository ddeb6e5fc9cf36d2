"""load_topology on broken and valid worlds: one clear ConfigError per defect, with file:line.

Every file in tests/topologies/broken/ is a small valid world with exactly one defect. Its
header says what the loader must report::

    # expect: line <N>: <substring of the message>
    # allowed: <value>, <value>        (optional: values the error must list as allowed)
    # gap <aspect>: <reason>           (optional: a known loader gap; that aspect is xfail)
    # defect: <what is wrong>

The aspects are checked separately (count, line, message, allowed) so that a known gap marks
only the aspect that is wrong as ``xfail(strict=True)``; when the loader is fixed the xfail
turns into a failure and the ``# gap`` line must be removed from the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab.core.errors import ConfigError, ConfigErrors
from lab.topology.load import load_topology

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
BROKEN = sorted((TESTS / "topologies" / "broken").glob("*.yaml"))
VALID = sorted((TESTS / "topologies" / "valid").glob("*.yaml"))
ASPECTS = ("count", "line", "message", "allowed")

#: The defects the issue "The lab comes up" asks for, each covered by one broken file.
REQUIRED = (
    "yaml-bad-indent", "yaml-tab", "yaml-duplicate-key", "unknown-top-level-key", "unknown-node-key",
    "bad-node-kind", "interface-unknown-network", "ip-outside-cidr", "duplicate-ip", "bad-cidr",
    "nat-publish-nobody", "private-no-gateway", "mx-no-a-record", "mx-outside-zones", "cname-beside-data",
    "unknown-cert-issuer", "unknown-certificate-ref", "exchange-unknown-org", "mailbox-server-not-exchange",
    "send-connector-unknown-property", "send-connector-bad-address-space", "send-connector-smarthosts-dns-routing",
    "receive-connector-bad-auth", "receive-connector-bad-permission-group", "tenant-eop-not-eop",
    "outside-host-unknown", "loopback-outside-127", "empty",
)


@dataclass(frozen=True)
class Expect:
    line: int
    substring: str
    allowed: tuple[str, ...]
    gaps: dict[str, str]


def expectation(path: Path) -> Expect:
    """The header of a broken file."""
    head = []
    for text in path.read_text(encoding="utf-8").splitlines():
        if not text.startswith("#"):
            break
        head.append(text)
    match = re.fullmatch(r"# expect: line (\d+): (.+)", head[0]) if head else None
    assert match, f"{path.name}: the first line must be '# expect: line <N>: <substring>'"
    allowed: tuple[str, ...] = ()
    gaps: dict[str, str] = {}
    for text in head[1:]:
        if text.startswith("# allowed: "):
            allowed = tuple(v.strip() for v in text[len("# allowed: "):].split(","))
        elif m := re.fullmatch(r"# gap (\w+): (.+)", text):
            assert m[1] in ASPECTS, f"{path.name}: unknown gap aspect {m[1]!r} (allowed: {', '.join(ASPECTS)})"
            gaps[m[1]] = m[2]
    return Expect(int(match[1]), match[2], allowed, gaps)


def cases(aspect: str) -> list:
    out = []
    for path in BROKEN:
        gap = expectation(path).gaps.get(aspect)
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        out.append(pytest.param(path, marks=marks, id=path.stem))
    return out


def errors_of(path: Path) -> list[ConfigError]:
    """Load a broken file; it must raise ConfigError (never another exception)."""
    with pytest.raises(ConfigError) as info:
        load_topology(str(path))
    err = info.value
    return list(err.errors) if isinstance(err, ConfigErrors) else [err]


def test_enough_broken_files_cover_every_required_defect():
    names = {p.stem for p in BROKEN}
    assert len(BROKEN) >= 24
    assert not set(REQUIRED) - names, f"missing broken files: {sorted(set(REQUIRED) - names)}"
    for path in BROKEN:
        expectation(path)  # every header is well formed


@pytest.mark.parametrize("path", cases("count"))
def test_broken_gives_exactly_one_error(path: Path):
    errors = errors_of(path)
    assert len(errors) == 1, "\n".join(str(e) for e in errors)


@pytest.mark.parametrize("path", cases("line"))
def test_broken_error_names_file_and_line(path: Path):
    exp = expectation(path)
    err = errors_of(path)[0]
    assert err.place is not None and err.place.file == str(path)
    assert err.place.line == exp.line, str(err)
    assert re.search(rf"{re.escape(str(path))}:{exp.line}\b", str(err)), str(err)


@pytest.mark.parametrize("path", cases("message"))
def test_broken_error_message(path: Path):
    exp = expectation(path)
    err = errors_of(path)[0]
    assert exp.substring in err.message, str(err)
    assert exp.substring in str(err)


@pytest.mark.parametrize("path", [p for p in cases("allowed") if expectation(p.values[0]).allowed])
def test_broken_error_lists_allowed_values(path: Path):
    exp = expectation(path)
    err = errors_of(path)[0]
    assert err.allowed, f"no allowed values in: {err}"
    missing = [v for v in exp.allowed if v not in err.allowed]
    assert not missing, f"{missing} not among allowed {list(err.allowed)}"
    assert "(allowed: " in str(err)


@pytest.mark.parametrize("path", [*VALID, REPO / "topology.yaml"], ids=lambda p: p.stem)
def test_valid_worlds_load(path: Path):
    topo = load_topology(str(path))
    assert topo.source == str(path)
    assert topo.hosts and topo.network.networks
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert topo.name == raw["name"]
    assert set(topo.hosts) == set(raw["topology"]["nodes"])
    assert set(topo.organizations) == set(raw.get("organizations") or {})
    assert set(topo.tenants) == set(raw.get("tenants") or {})


def test_valid_worlds_exist():
    assert len(VALID) >= 2
