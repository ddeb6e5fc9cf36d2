"""The click commands ``lab check``, ``lab diff`` and ``lab rehearse`` (registered by lab/cli.py).

Input errors (a bad topology, a bad probe, an unreadable script) raise ConfigError: ``lab``
prints them with file:line and exits 2. ``check`` exits 1 when a probe fails, ``rehearse`` when
a line fails; ``diff`` exits 0 (what changed is the answer, not an error).
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from lab.core.catalogue import probes as T
from lab.core.errors import ConfigError, Place

DEFAULT_TOPOLOGY = "topology.yaml"
LIVE_BLOCK = "127.97.0.0/16"  # lab check --live: its own loopback block, away from `lab up`'s


def _out():
    from rich.console import Console  # noqa: PLC0415
    return Console(soft_wrap=True)


@contextmanager
def _matrix_progress(names: dict[str, str]) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar per flow matrix on standard error, when it is a terminal (else None).

    ``names``: ``"before"``/``"after"`` -> the file shown. The bar is redrawn only when told
    (``auto_refresh=False``): rich's refresh thread would stop the matrix from forking workers
    (:func:`lab.probes.matrix.evaluate` forks no process that runs another thread)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), auto_refresh=False, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(which: str, done: int, total: int) -> None:
            if which not in tasks:
                tasks[which] = bar.add_task(T.DIFF_PROGRESS.format(name=names[which]), total=total)
            bar.update(tasks[which], completed=done)
            bar.refresh()
        yield update


def _memory(loaded):
    from lab.probes.memory_driver import MemoryDriver  # noqa: PLC0415

    def make(world, shared: bool = False, record: bool = True):
        return MemoryDriver(world, loaded.trust, loaded.start, shared=shared, record=record)
    return make


@click.command("check")
@click.argument("topology", default=DEFAULT_TOPOLOGY, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="also write JUnit XML here")
@click.option("--live", is_flag=True, help="run the probes against the real lab on loopback")
def check_command(topology: str, as_json: bool, junit_file: str | None, live: bool) -> None:
    """Evaluate every probe of TOPOLOGY; exit 1 when any fails (each failure with its trace)."""
    from lab.probes.evaluate import check  # noqa: PLC0415
    from lab.probes.render import check_table, failure_traces, junit  # noqa: PLC0415
    from lab.probes.worlds import load  # noqa: PLC0415

    loaded = load(topology)
    probes = loaded.probes()
    if not probes:
        raise ConfigError(T.CHECK_NO_PROBES.format(file=topology), Place(file=topology))
    if live:
        import tempfile  # noqa: PLC0415

        from lab.probes.live_driver import LiveDriver  # noqa: PLC0415
        with tempfile.TemporaryDirectory(prefix="lab-check-") as state, \
                LiveDriver(loaded.world.topology, state, LIVE_BLOCK) as driver:
            results = check(probes, driver)
    else:
        results = check(probes, _memory(loaded)(loaded.world))
    if junit_file:
        Path(junit_file).write_bytes(junit(results, loaded.world.topology.name))
    failed = [r for r in results if not r.passed]
    if as_json:
        click.echo(json.dumps({"topology": topology, "driver": "live" if live else "memory",
                               "passed": len(results) - len(failed), "failed": len(failed),
                               "probes": [r.to_dict() for r in results]}, indent=2, ensure_ascii=False))
    else:
        out = _out()
        out.print(check_table(results, T.CHECK_TITLE.format(topology=topology, driver="live" if live else "memory")))
        for line in failure_traces(results):
            out.print(line, markup=False, highlight=False)
        out.print(T.CHECK_SUMMARY.format(passed=len(results) - len(failed), total=len(results)))
    if failed:
        sys.exit(1)


def _show_diff(diff, before: str, after: str, as_json: bool, extra: dict | None = None) -> None:
    from lab.probes.render import diff_summary, diff_table, diff_traces  # noqa: PLC0415
    if as_json:
        click.echo(json.dumps({"before": before, "after": after, **(extra or {}), **diff.to_dict()},
                              indent=2, ensure_ascii=False))
        return
    out = _out()
    if diff.changes:
        out.print(diff_table(diff, T.DIFF_TITLE.format(before=before, after=after)))
        for line in diff_traces(diff):
            out.print(line, markup=False, highlight=False)
    out.print(diff_summary(diff))


@click.command("diff")
@click.argument("before", type=click.Path(dir_okay=False))
@click.argument("after", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print the changes as JSON")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="worker processes for the flow matrix (default: one per CPU; 1: none)")
def diff_command(before: str, after: str, as_json: bool, jobs: int | None) -> None:
    """Evaluate the flow matrix of BEFORE and AFTER and show only the flows that changed."""
    from lab.probes.diff import diff_worlds  # noqa: PLC0415
    from lab.probes.worlds import load  # noqa: PLC0415

    old, new = load(before), load(after)
    drivers = {id(old.world): _memory(old), id(new.world): _memory(new)}
    with _matrix_progress({"before": before, "after": after}) as progress:
        diff = diff_worlds(old.world, new.world, lambda world, **kw: drivers[id(world)](world, **kw), jobs, progress)
    _show_diff(diff, before, after, as_json)


@click.command("rehearse")
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("--topology", "topology", default=DEFAULT_TOPOLOGY, type=click.Path(dir_okay=False),
              help="the world to rehearse on (default: topology.yaml)")
@click.option("--server", help="the Exchange node the shell runs on (default: the first server)")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="write the accepted script here")
@click.option("--json", "as_json", is_flag=True, help="print the changes as JSON")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="worker processes for the flow matrix (default: one per CPU; 1: none)")
def rehearse_command(script: str, topology: str, server: str | None, out_file: str | None, as_json: bool,
                     jobs: int | None) -> None:
    """Apply SCRIPT's cmdlets to a copy of the world, line by line, and show the mail flows that change."""
    from lab.probes.diff import diff_worlds  # noqa: PLC0415
    from lab.probes.rehearse import rehearse, script_lines  # noqa: PLC0415
    from lab.probes.worlds import load  # noqa: PLC0415

    from lab.textfiles import read_text  # noqa: PLC0415

    text = read_text(script)
    loaded = load(topology)
    if server is not None and server not in loaded.world.servers:
        raise ConfigError(T.UNKNOWN_NODE.format(value=server), Place(path="--server"), sorted(loaded.world.servers))
    result = rehearse(loaded.world, script_lines(text), start=loaded.start, pki=loaded.pki, server=server)
    if result.failed is not None:
        number, line, error = result.failed
        message = T.REHEARSE_LINE_FAILED.format(number=number, line=line, error=error)
        if as_json:
            click.echo(json.dumps({"script": script, "failed": {"line": number, "text": line, "error": error},
                                   "accepted": list(result.accepted)}, indent=2, ensure_ascii=False))
        else:
            _out().print(f"{script}:{message}", markup=False, highlight=False)
        sys.exit(1)
    with _matrix_progress({"before": topology, "after": f"{topology} + {script}"}) as progress:
        diff = diff_worlds(loaded.world, result.world, _memory(loaded), jobs, progress)
    if out_file:
        Path(out_file).write_text("".join(line + "\n" for line in result.accepted), encoding="utf-8")
    _show_diff(diff, topology, script, as_json, {"accepted": list(result.accepted)})
    if out_file and not as_json:
        _out().print(T.REHEARSE_WRITTEN.format(count=len(result.accepted), path=out_file))
