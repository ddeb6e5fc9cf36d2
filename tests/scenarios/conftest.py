"""Shared helpers of the scenario tests: the scenarios of the repository and the available drivers."""
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
