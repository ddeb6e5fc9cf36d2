"""Finding scenario files: the directory, one scenario by name, all of them (validated)."""
from __future__ import annotations

import re
from pathlib import Path

from lab.core.errors import ConfigError, ConfigErrors
from lab.core.catalogue import lab as T
from lab.scenario.load import discover, load_scenario
from lab.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOPOLOGY = ROOT / "topology.yaml"  # one (immutable) Path: its text and hash are worked out once


def scenario_dir(directory: str | Path | None) -> Path:
    """``directory``, else ./scenarios when it exists, else the lab's own scenarios."""
    if directory:
        return Path(directory)
    here = Path("scenarios")
    return here if here.is_dir() else ROOT / "scenarios"


def files(root: Path) -> list[Path]:
    return discover(root)


def load_checked(path: Path) -> Scenario:
    return load_scenario(path)


def load_all(root: Path) -> list[Scenario]:
    """Every scenario of ``root``; all files' errors together."""
    out, errors = [], []
    for path in discover(root):
        try:
            out.append(load_scenario(path))
        except ConfigErrors as exc:
            errors += exc.errors
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise ConfigErrors(errors)
    return out


def find(root: Path, name: str) -> Scenario:
    """A scenario by name (``missing-mx``), file stem (``01-missing-mx``), number (``01``) or path."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return load_scenario(candidate)
    paths = discover(root)
    for path in paths:
        stem = path.stem
        if name in (stem, re.sub(r"^\d+-", "", stem), stem.split("-", 1)[0]):
            return load_scenario(path)
    raise ConfigError(T.UNKNOWN_SCENARIO.format(name=name), None,
                      [re.sub(r"^\d+-", "", p.stem) for p in paths])


def topology_for(scenario: Scenario) -> Path:
    """The topology file of a scenario: its own ``topology:`` (relative to the file), else the default world."""
    if scenario.topology:
        return (Path(scenario.file).parent / scenario.topology).resolve()
    return DEFAULT_TOPOLOGY
