"""``lab import DIR``: turn the files of tools/collect-*.ps1 into a topology.yaml (docs/import.md).

Registered in :mod:`lab.cli` with ``cli.add_command(import_command)``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from lab.core.errors import ConfigError


@click.command("import")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("-o", "--output", default="topology.yaml", show_default=True, type=click.Path(dir_okay=False),
              help="the topology file to write")
@click.option("--force", is_flag=True, help="overwrite the output file if it exists")
def import_command(directory: str, output: str, force: bool) -> None:
    """Turn the JSON files of tools/collect-exchange.ps1 / collect-exo.ps1 in DIRECTORY into a topology file.

    Every property the lab does not model is printed as a warning; invented addresses are marked
    in the file. Exit 2 on unreadable or invalid input (the error names the file and JSON path).
    """
    from lab.topology.importer import import_directory, write_topology  # noqa: PLC0415
    from lab.topology.load import load_topology  # noqa: PLC0415

    target = Path(output)
    if target.exists() and not force:
        _fail(f"{output}: exists; use --force to overwrite it")
    try:
        topology, warnings = import_directory(directory)
    except ConfigError as exc:
        _fail(str(exc))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    try:
        write_topology(topology, target)
    except OSError as exc:
        _fail(f"{output}: cannot write: {exc.strerror or exc}")
    try:
        topo = load_topology(target)
    except ConfigError as exc:
        _fail(f"{output} was written but does not validate (please report this with the input files):\n{exc}")
    click.echo(f"{output}: written from {directory} — {len(topo.hosts)} hosts, {len(topo.organizations)} "
               f"organizations, {len(topo.tenants)} tenants, {len(warnings)} warnings")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
