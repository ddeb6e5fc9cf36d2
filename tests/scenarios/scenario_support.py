"""Shared helpers of the scenario tests (imported by name, like tests/unit/cmdlets_support.py: a module called
conftest here would clash with tests/unit/conftest.py when both directories are collected in one run)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
# `lab` with the scenario group registered (lab/cli.py registers it in the product).
RUNNER = ("import sys; from lab.cli import cli, main; from lab.scenario.cli import scenario_group; "
          "cli.add_command(scenario_group); main(sys.argv[1:])")


def lab_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", RUNNER, *args]
