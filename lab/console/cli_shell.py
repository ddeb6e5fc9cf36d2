"""``lab shell`` and ``lab export``: the admin console of a running lab and its world as a file.

``lab shell`` connects to ``<state>/control.sock`` when a lab is running there; otherwise it
starts a lab of ``--topology`` in this process (its loop on a background thread, with the
same control channel, so other shells can join) and connects to that.
"""
from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from lab.control import ControlClient, lab_running
from lab.core.errors import LabRuntimeError

DEFAULT_STATE = ".lab"
DEFAULT_TOPOLOGY = "topology.yaml"

state_option = click.option("--state", "state", default=DEFAULT_STATE, show_default=True,
                            type=click.Path(file_okay=False), help="state directory of the lab")


def _own_lab(topology: str, state: str, loopback_base: str | None):
    """A lab started in this process, with its control channel (a context manager)."""
    from lab.console.live_bridge import LabThread
    from lab.control import start_control
    from lab.runtime import Lab
    from lab.topology.load import load_topology

    topo = load_topology(topology)
    channels = []

    async def start():
        lab = Lab(topo, state, loopback_base=loopback_base)
        await lab.start()
        try:
            channels.append(await start_control(lab))
        except BaseException:
            await lab.stop()
            raise
        return lab

    async def stop(lab) -> None:
        try:
            for channel in channels:
                await channel.close()
        finally:
            await lab.stop()

    return LabThread(start, stop)


@click.command("shell")
@state_option
@click.option("--topology", default=DEFAULT_TOPOLOGY, show_default=True, type=click.Path(dir_okay=False),
              help="the world to start when no lab is running with this state dir")
@click.option("--loopback-base", default=None, help="loopback block for a lab this command starts")
@click.option("-c", "command", default=None, help="run this line and exit (exit code 1 if it failed)")
@click.option("-f", "script", default=None, type=click.Path(dir_okay=False, exists=True),
              help="run this .ps1 file's lines and exit (exit code 1 if a line failed)")
def shell_command(state: str, topology: str, loopback_base: str | None, command: str | None,
                  script: str | None) -> None:
    """The lab's admin console: the articles' PowerShell and telnet lines, verbatim."""
    from lab.console.repl import interactive, run_script, script_lines

    from lab.textfiles import read_text

    lines = [command] if command is not None else script_lines(read_text(script)) if script is not None else None
    with ExitStack() as stack:
        if not lab_running(state):
            click.echo(f"no lab is running with state dir {state}: starting {topology} ...", err=True)
            stack.enter_context(_own_lab(topology, state, loopback_base))
        client = ControlClient(state)
        stack.callback(client.close)
        if lines is not None:
            code = run_script(client, lines, sys.stdout, sys.stderr)
        else:
            code = interactive(client, Path(state), sys.stdout, sys.stderr)
    sys.exit(code)


@click.command("export")
@state_option
@click.option("-o", "output", default=None, type=click.Path(dir_okay=False),
              help="write the topology file here (default: standard output)")
def export_command(state: str, output: str | None) -> None:
    """Write the running lab's current world as a topology file."""
    if not lab_running(state):
        raise LabRuntimeError(f"no lab is running with state dir {state} (start one with `lab up`)")
    client = ControlClient(state)
    try:
        text = client.export()
    finally:
        client.close()
    if output is None:
        click.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)
