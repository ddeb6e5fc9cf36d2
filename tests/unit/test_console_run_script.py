"""run_script runs a script without a console program (telnet) as one block without walking its lines:
held to the line walk it skips (verbatim below) over random scripts, with and without readers, blank
lines, odd line breaks and case."""
from __future__ import annotations

import random
from typing import Any, Iterable

from lab.console.cmdlets import telnet
from lab.console.cmdlets.telnet import READERS, run_script


def walk(console: Any, text: str | Iterable[str]) -> list[Any]:
    lines = text.splitlines() if isinstance(text, str) else list(text)
    results, block, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        words = line.split()
        if words and words[0].lower() in READERS:
            if block:
                results.append(console.run("\n".join(block), None))
                block = []
            rest = lines[i + 1:]
            console.host.typed[:] = rest
            results.append(console.run(line, None))
            consumed = len(rest) - len(console.host.typed)
            console.host.typed.clear()
            i += 1 + consumed
            continue
        block.append(line)
        i += 1
    if any(b.strip() for b in block):
        results.append(console.run("\n".join(block), None))
    return results


class Console:
    """Records what it runs; a reader line consumes up to two typed lines."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.host = type("Host", (), {})()
        self.host.typed = []

    def run(self, text: str, result: Any = None) -> str:
        self.ran.append(text)
        if text.split() and text.split()[0].lower() in READERS:
            del self.host.typed[:2]
        return f"#{len(self.ran)}"


PIECES = ["Get-Queue", "  ", "", "Set-Thing -Port 25", "telnet mail1 25", "TELNET.EXE x 25", "EHLO a", "QUIT",
          "$a = @{", "  Identity = 'x'", "}", "Write-Host telnet", "\t", "Get-Telnetish", "téLnet x", "x\x0by"]


def test_run_script_as_the_walk() -> None:
    rng = random.Random(3)
    assert all(telnet._READER_MARK in r for r in READERS)
    fast = 0
    for _ in range(3000):
        lines = [rng.choice(PIECES) for _ in range(rng.randint(0, 6))]
        text = rng.choice(["\n", "\r\n", "\r"]).join(lines) + rng.choice(["", "\n", "\r\n"])
        for given in (text, lines):
            one, two = Console(), Console()
            assert run_script(one, given) == walk(two, given) and one.ran == two.ran, given
        fast += telnet._READER_MARK not in text.lower()
    assert 100 < fast < 2900  # (both ways met)
