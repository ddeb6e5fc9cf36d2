"""Rehearsing a change: a script of console cmdlets applied, line by line, to a copy of a world.

Each line runs through :class:`lab.console.transcript.LabConsole` on a
:class:`lab.console.host.WorldHost` (the same cmdlets and checks as ``lab shell``); a line that
reports an error stops the rehearsal with its PowerShell error, and the world stays as the last
good line left it. The accepted lines are the script to run in production.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from lab.core.world import World


@dataclass(frozen=True)
class Rehearsal:
    """What a script did.

    Attributes:
        world: the world after the accepted lines.
        accepted: the lines that ran without error, in order (comments and blank lines dropped).
        failed: (line number in the script, the line, its PowerShell error) of the line that stopped
            the rehearsal, or None.
    """

    world: World
    accepted: tuple[str, ...]
    failed: tuple[int, str, str] | None = None


def script_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of a .ps1 script, without blank lines and ``#`` comments."""
    return [(n, line.rstrip()) for n, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")]


def rehearse(world: World, lines: Sequence[tuple[int, str]], *, start: Any, pki: Any = None,
             server: str | None = None) -> Rehearsal:
    """Apply ``lines`` to a copy of ``world``.

    Args:
        start: lab time zero (certificate requests are dated from it).
        pki: the PKI adapter (the lab's CAs sign requests), or None.
        server: the Exchange node the shell runs on (default: the first server of the world).
    """
    from lab.console.host import Session, WorldHost  # noqa: PLC0415
    from lab.console.transcript import LabConsole  # noqa: PLC0415

    node = server or next(iter(world.servers))
    host = WorldHost(world=world, session=Session(server=node), start=start, pki=pki)
    console = LabConsole(host)
    accepted: list[str] = []
    for number, line in lines:
        result = console.run(line)
        if result.errors:
            return Rehearsal(host.world, tuple(accepted), (number, line, "\n".join(str(e) for e in result.errors)))
        accepted.append(line)
    return Rehearsal(host.world, tuple(accepted))
