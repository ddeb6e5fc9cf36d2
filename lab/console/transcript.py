"""The lab console: a Shell bound to a ConsoleHost, transactional per line, with a transcript.

:class:`LabConsole.run` snapshots ``host.world`` before a line; when the line reports any
error the snapshot is put back (a failed line changes nothing), otherwise a line that changed
the lab is appended to ``state_dir/transcript.ps1``. :func:`replay` runs a transcript into a
fresh host, so a rehearsed change becomes the script to run in production.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from lab.console.cmdlets import build_registry
from lab.console.evaluator import HostCallbacks, RunResult, Shell
from lab.console.host import ConsoleHost
from lab.core.world import World

TRANSCRIPT = "transcript.ps1"


def _values(output_text: str, objects: list[Any], errors: list[str], changed: bool) -> tuple:
    """What :meth:`Shell.run` reports, as it is (the console makes its caller's result of it)."""
    return output_text, objects, errors, changed


class LabConsole:
    """A console session over a host.

    Args:
        host: the lab (or an in-memory :class:`~lab.console.host.WorldHost`).
        state_dir: where ``transcript.ps1`` is written; None keeps the transcript in memory only.
    """

    def __init__(self, host: ConsoleHost, state_dir: str | Path | None = None):
        self.host = host
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.lines: list[str] = []
        # (the callbacks are built by the first _sync_callbacks, of the session as it is: one record, not
        # a placeholder replaced at once)
        self.shell = Shell(build_registry(host), None)  # type: ignore[arg-type]
        self._sync_callbacks(host.world)

    def _sync_callbacks(self, world: World) -> None:
        """The shell's callbacks, of the session as it is (``world``: the host's, as read by the caller)."""
        host = self.host
        session = host.session
        if session.tenant:  # (the server's name is not read then: a pure look-up, its answer unused)
            name: str | None = "outlook.office365.com"
        else:
            server = world.servers.get(session.server)
            name = server.server.fqdn if server else None
        current = self.shell.host
        now = host.clock_now
        if current is None:  # (from __init__)
            self.shell.host = HostCallbacks(now=now, computer_name=name)
        elif current.computer_name != name or current.now != now:
            self.shell.host = HostCallbacks(now=now, read_credential=current.read_credential, computer_name=name)

    def run(self, line: str, result: Callable[[str, list[Any], list[str], bool], Any] = RunResult) -> Any:
        """Run one console line; roll back on error; record it when it changed the lab. Returns
        ``result(output_text, objects, errors, changed)`` (see :meth:`Shell.run`): a RunResult by default."""
        before = self.host.world
        session = (self.host.session.server, self.host.session.tenant)
        self._sync_callbacks(before)
        output_text, objects, errors, changed = self.shell.run(line, _values)
        if errors:
            self.host.world = before
            self.host.session.server, self.host.session.tenant = session
            return result(output_text, objects, errors, False)
        if changed:
            self.record(line)
        return result(output_text, objects, errors, changed)

    def record(self, line: str) -> None:
        """Append a world-changing line to the transcript."""
        self.lines.append(line)
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            with (self.state_dir / TRANSCRIPT).open("a", encoding="utf-8") as handle:
                handle.write(line.rstrip("\n") + "\n")


def read_transcript(path: str | Path) -> list[str]:
    """The lines of a transcript file (blank lines and ``#`` comments skipped)."""
    text = Path(path).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def replay(console: LabConsole, lines: Iterable[str]) -> list[RunResult]:
    """Run transcript lines in order into ``console``; stops at the first line that fails.

    Raises:
        RuntimeError: a line failed (its error text is the message).
    """
    results = []
    for line in lines:
        result = console.run(line)
        if result.errors:
            raise RuntimeError(f"transcript line failed: {line}\n{result.errors[0]}")
        results.append(result)
    return results
