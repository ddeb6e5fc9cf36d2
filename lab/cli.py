"""The ``lab`` command: thin — arguments in, calls, rendering out.

Every LabError is printed in one place (``main``) without a traceback: input errors exit 2,
runtime errors exit 1.
"""
from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

from functools import cache

import click

from lab.core.errors import ConfigError, ConfigErrors, LabError

DEFAULT_TOPOLOGY = "topology.yaml"
DEFAULT_STATE = ".lab"


@cache
def _consoles():
    from rich.console import Console  # noqa: PLC0415 (rich loads only when something is printed)

    return Console(highlight=False, soft_wrap=True), Console(stderr=True, highlight=False, soft_wrap=True)


class _Lazy:
    def __init__(self, index: int):
        self.index = index

    def __getattr__(self, name: str):
        return getattr(_consoles()[self.index], name)


out, err = _Lazy(0), _Lazy(1)

topology_arg = click.argument("topology", required=False, default=DEFAULT_TOPOLOGY,
                              type=click.Path(dir_okay=False))
state_opt = click.option("--state", "state", default=DEFAULT_STATE, show_default=True,
                         type=click.Path(file_okay=False), help="state directory of the lab")


class LazyGroup(click.Group):
    """A command group whose bigger commands are imported only when used (click's lazy-loading
    pattern): ``lab up`` must not pay for the console, the scenario runner or the importer."""

    LAZY = {
        "shell": "lab.console.cli_shell:shell_command",
        "export": "lab.console.cli_shell:export_command",
        "import": "lab.topology.cli_import:import_command",
        "check": "lab.probes.cli:check_command",
        "diff": "lab.probes.cli:diff_command",
        "rehearse": "lab.probes.cli:rehearse_command",
        "scenario": "lab.scenario.cli:scenario_group",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            import importlib  # noqa: PLC0415

            module, _, attr = self.LAZY[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hybrid-mail-lab", prog_name="lab")
def cli() -> None:
    """An offline lab of the Exchange on-premises + Exchange Online / EOP hybrid mail topology."""


@cli.command()
@topology_arg
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(topology: str, fmt: str) -> None:
    """Check a topology file without starting anything."""
    from lab.topology.load import load_topology

    try:
        topo = load_topology(topology)
    except ConfigError as exc:
        if fmt == "json":
            errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
            click.echo(json.dumps({"file": topology, "valid": False, "errors": [_error_json(e) for e in errors]},
                                  indent=2, ensure_ascii=False))
            sys.exit(exc.exit_code)
        raise
    summary = {
        "file": topology, "valid": True, "name": topo.name, "hosts": len(topo.hosts),
        "networks": len(topo.network.networks), "zones": len(topo.dns.zones.zones) if topo.dns else 0,
        "certificates": len(topo.pki.certificates), "organizations": len(topo.organizations),
        "tenants": len(topo.tenants),
    }
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    out.print(f"{topology}: valid — {summary['hosts']} hosts, {summary['networks']} networks, "
              f"{summary['zones']} DNS zones, {summary['certificates']} certificates, "
              f"{summary['organizations']} organizations, {summary['tenants']} tenants")


def _error_json(e: ConfigError) -> dict:
    p = e.place
    return {"file": p.file if p else None, "line": p.line if p else None, "path": p.path if p else None,
            "message": e.message, "allowed": list(e.allowed) if e.allowed else None}


@cli.command()
def schema() -> None:
    """Print the JSON Schema of topology files."""
    from lab.topology.schema import schema_json

    click.echo(schema_json(), nl=False)


@cli.command()
@topology_arg
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="directory for lab.dot, lab.mmd (and lab.svg when Graphviz is installed)")
def graph(topology: str, out_dir: str) -> None:
    """Write the topology as Graphviz DOT and Mermaid (and SVG where Graphviz is installed)."""
    from lab.topology.graph import write_graph
    from lab.topology.load import load_topology

    topo = load_topology(topology)
    result = write_graph(topo.network, out_dir, basename=Path(topology).stem)
    for item in result.written:
        out.print(f"wrote {item}")
    for fmt, why in dict(result.skipped).items():
        out.print(f"skipped {fmt}: {why}")


def _cache_dir() -> Path:
    """The user's cache of the lab (``$XDG_CACHE_HOME/hybrid-mail-lab``, default ``~/.cache/...``)."""
    import os  # noqa: PLC0415

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hybrid-mail-lab"


@cli.command()
@topology_arg
@state_opt
@click.option("--loopback-base", default=None, help="loopback block for this lab (default: settings.loopback_base)")
@click.option("--once", is_flag=True, help="start, print the endpoints, and stop (a smoke test)")
def up(topology: str, state: str, loopback_base: str | None, once: bool) -> None:
    """Start the lab: DNS, CAs and SMTP endpoints on loopback, until Ctrl-C."""
    from lab.topology.load import load_topology

    Path(state).mkdir(parents=True, exist_ok=True)
    topo = load_topology(topology, cache_dir=_cache_dir())
    asyncio.run(_run_lab(topo, state, loopback_base, once))


async def _run_lab(topo, state: str, loopback_base: str | None, once: bool) -> None:
    from lab.runtime import Lab

    started = time.perf_counter()
    lab = Lab(topo, state, loopback_base=loopback_base, control=True)
    await lab.start()
    try:
        up_in = time.perf_counter() - started
        # printing loads rich: do it beside the loop, which is already answering connections
        await asyncio.to_thread(_print_endpoints, lab.describe())
        out.print(f"\nlab [bold]{topo.name}[/] is up in {up_in:.2f} s — "
                  f"state dir {state}/ (endpoints.json, trust/, control.sock)")
        if once:
            return
        out.print("Ctrl-C to stop.")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        out.print("\nstopping ...")
    finally:
        await lab.stop()
    out.print("lab stopped")


def _print_endpoints(desc: dict) -> None:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"lab {desc['lab']}: endpoints", title_justify="left")
    for col in ("host", "service", "virtual address", "loopback address"):
        table.add_column(col)
    for s in desc["services"]:
        proto = "" if s["protocol"] == "tcp" else f"/{s['protocol']}"
        table.add_row(s["host"], s["service"] + proto, f"{s['virtual_ip']}:{s['virtual_port']}",
                      f"{s['loopback_ip']}:{s['port']}")
    out.print(table)


@cli.command()
@state_opt
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def inspect(state: str, fmt: str) -> None:
    """Show the endpoints of a running lab."""
    from lab.runtime import read_endpoints

    desc = read_endpoints(state)
    if fmt == "json":
        click.echo(json.dumps(desc, indent=2))
        return
    _print_endpoints(desc)
    from rich.table import Table  # noqa: PLC0415

    hosts = Table(title="hosts", title_justify="left")
    for col in ("host", "kind", "fqdn", "virtual → loopback"):
        hosts.add_column(col)
    for h in desc["hosts"]:
        hosts.add_row(h["host"], h["kind"], h.get("fqdn") or "",
                      ", ".join(f"{a['virtual_ip']} → {a['loopback_ip']}" for a in h["addresses"]))
    out.print(hosts)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``lab`` console script."""
    try:
        cli.main(args=argv, prog_name="lab", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigErrors as exc:
        for e in exc.errors:
            err.print(f"[red]error:[/] {_escape(str(e))}")
        err.print(f"{len(exc.errors)} errors")
        sys.exit(exc.exit_code)
    except LabError as exc:
        err.print(f"[red]error:[/] {_escape(str(exc))}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


if __name__ == "__main__":
    main()
