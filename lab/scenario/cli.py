"""``lab scenario``: list, run (report, --step, --exercise), grade, schema.

Register with ``cli.add_command(scenario_group)`` (``from lab.scenario.cli import scenario_group``).
Exit codes: 0 every expectation held, 1 an expectation failed (or grading found work left),
2 a scenario file (or the topology) is invalid.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from lab.core.errors import ConfigError, LabRuntimeError
from lab.scenario import catalog
from lab.scenario.drivers import make_driver, available_drivers

ROOT = Path(__file__).resolve().parents[2]


def _fail_config(exc: ConfigError) -> None:
    click.echo(str(exc), err=True)
    sys.exit(2)


@click.group("scenario")
def scenario_group() -> None:
    """Scenarios: break the world as an article does, see the failure, apply the fix, verify."""


dir_option = click.option("--dir", "directory", default=None, type=click.Path(file_okay=False),
                          help="the scenarios directory (default: ./scenarios, else the lab's own)")


@scenario_group.command("list")
@dir_option
@click.option("--json", "as_json", is_flag=True, help="machine-readable")
def list_command(directory: str | None, as_json: bool) -> None:
    """Every scenario: name, article, title."""
    try:
        scenarios = catalog.load_all(catalog.scenario_dir(directory))
    except ConfigError as exc:
        _fail_config(exc)
    if as_json:
        click.echo(json.dumps([{"name": s.name, "file": s.file, "article": s.article, "title": s.title,
                                "summary": s.summary} for s in scenarios], ensure_ascii=False, indent=2))
        return
    for s in scenarios:
        click.echo(f"{s.stem:<34} {s.article[:3]}  {s.title}")


@scenario_group.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of scenario files."""
    from lab.scenario.schema import SCHEMA
    click.echo(json.dumps(SCHEMA, indent=2))


@scenario_group.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@dir_option
def validate_command(files: tuple[str, ...], directory: str | None) -> None:
    """Check scenario files (all of the directory by default); exit 2 on errors."""
    paths = [Path(f) for f in files] or catalog.files(catalog.scenario_dir(directory))
    bad = 0
    for path in paths:
        try:
            catalog.load_checked(path)
            click.echo(f"{path}: ok")
        except ConfigError as exc:
            click.echo(str(exc), err=True)
            bad += 1
    sys.exit(2 if bad else 0)


@scenario_group.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="run every scenario")
@click.option("--step", "step_mode", is_flag=True, help="pause before each step (trainer mode)")
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
@click.option("--junit", "junit", default=None, type=click.Path(dir_okay=False), help="write JUnit XML here")
@click.option("--driver", "driver_name", type=click.Choice(["live", "memory"]), default="live", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="show every step, its output and SMTP transcript")
@click.option("--exercise", is_flag=True, help="play up to the failure and keep the lab running for a trainee")
@click.option("--state", default=None, type=click.Path(file_okay=False), help="state dir (exercise mode)")
@dir_option
def run_command(names: tuple[str, ...], run_all: bool, step_mode: bool, as_json: bool, junit: str | None,
                driver_name: str, verbose: bool, exercise: bool, state: str | None, directory: str | None) -> None:
    """Run scenarios; exit 1 when an expectation fails."""
    from lab.scenario import play
    root = catalog.scenario_dir(directory)
    try:
        chosen = catalog.load_all(root) if run_all else [catalog.find(root, n) for n in names]
    except ConfigError as exc:
        _fail_config(exc)
    if not chosen:
        raise click.UsageError("name a scenario or give --all (see `lab scenario list`)")
    if exercise:
        if len(chosen) != 1 or not state:
            raise click.UsageError("--exercise takes one scenario and --state DIR")
        sys.exit(play.exercise(chosen[0], Path(state)))
    try:
        results = play.run_many(chosen, driver_name, step_mode=step_mode, verbose=verbose, quiet=as_json)
    except ConfigError as exc:
        _fail_config(exc)
    except LabRuntimeError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    from lab.scenario import report
    if as_json:
        click.echo(report.dumps(results))
    if junit:
        Path(junit).write_text(report.to_junit(results), encoding="utf-8")
    sys.exit(0 if all(r.ok for r in results) else 1)


@scenario_group.command("grade")
@click.argument("name")
@click.option("--state", required=True, type=click.Path(file_okay=False), help="the exercise's state dir")
@click.option("--json", "as_json", is_flag=True, help="print the grading as JSON")
@dir_option
def grade_command(name: str, state: str, as_json: bool, directory: str | None) -> None:
    """Check a trainee's lab against the scenario's final expectations (re-runs its verification)."""
    from lab.scenario import play
    try:
        scenario = catalog.find(catalog.scenario_dir(directory), name)
    except ConfigError as exc:
        _fail_config(exc)
    try:
        reply = play.request_grade(Path(state), scenario)
    except LabRuntimeError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(reply, ensure_ascii=False, indent=2))
    else:
        click.echo(reply["text"], nl=False)
    sys.exit(0 if reply["ok"] else 1)


__all__ = ["scenario_group", "available_drivers", "make_driver"]
