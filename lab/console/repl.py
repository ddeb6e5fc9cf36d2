"""Running console lines against a lab's control channel: scripts and the interactive prompt.

:func:`run_script` feeds lines (``lab shell -c`` / ``-f``); a program that reads what the user
types (``telnet``) gets the script's following lines. :func:`interactive` is the prompt_toolkit
loop: line editing, a history file in the state dir, and a prompt that shows where you are
(``[PS] EX01>``, ``[PS] ixmsoft.onmicrosoft.com>``, ``[lab] internet-client>``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, TextIO

from lab.console.parser import needs_more_input
from lab.control import ControlClient

HISTORY = "shell_history"
EXIT_WORDS = {"exit", "quit", "exit-pssession"}


def script_lines(text: str) -> list[str]:
    """A script's statements: blank lines and ``#`` comments between statements skipped; a line
    ending in a backtick, or a statement left open (``@{`` ... ``}``, an open parenthesis or
    string), continues on the next line, as in PowerShell."""
    out: list[str] = []
    buffer: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not buffer and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buffer.append(line)
        if not needs_more_input("\n".join(buffer)):
            out.append(_joined(buffer))
            buffer = []
    if buffer:
        out.append(_joined(buffer))
    return out


def _joined(lines: list[str]) -> str:
    text = "\n".join(lines)
    return text.replace("`\n", " ")


def run_script(client: ControlClient, lines: Iterable[str], out: TextIO, err: TextIO) -> int:
    """Run ``lines`` in order (each failure is reported and the script goes on); 1 if any line failed."""
    queue = list(lines)
    failed = False

    def typed() -> str | None:
        return queue.pop(0) if queue else None

    while queue:
        reply = client.run(queue.pop(0), typed)
        _show(reply, out, err)
        failed = failed or bool(reply.get("errors"))
    return 1 if failed else 0


def _show(reply: dict, out: TextIO, err: TextIO) -> None:
    text = reply.get("output") or ""
    if text:
        out.write(text if text.endswith("\n") else text + "\n")
        out.flush()
    for error in reply.get("errors") or ():
        err.write(error.rstrip("\n") + "\n")
    err.flush()


def interactive(client: ControlClient, state_dir: Path, out: TextIO, err: TextIO,
                session_factory: Callable[..., object] | None = None) -> int:
    """The interactive console until ``exit`` or Ctrl-D."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    state_dir.mkdir(parents=True, exist_ok=True)
    make = session_factory or PromptSession
    session = make(history=FileHistory(str(state_dir / HISTORY)))
    typing = make()

    def typed() -> str | None:
        try:
            return typing.prompt("")
        except (EOFError, KeyboardInterrupt):
            return None

    out.write(f"lab {client.lab}: type the articles' PowerShell lines; `exit` leaves.\n")
    out.flush()
    while True:
        try:
            line = session.prompt(client.prompt + " ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if not line.strip():
            continue
        if line.strip().lower() in EXIT_WORDS:
            return 0
        while needs_more_input(line):  # PowerShell's continuation prompt
            try:
                line += "\n" + session.prompt(">> ")
            except (EOFError, KeyboardInterrupt):
                break
        _show(client.run(_joined(line.split("\n")), typed), out, err)
