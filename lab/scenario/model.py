"""The frozen model of a scenario file (``scenarios/NN-name.yaml``); see ``scenarios/README.md``.

A scenario is a start state (cmdlet lines run before step 1: the console's cmdlets are the one
way to change a world, so a scenario breaks it exactly as an administrator would) and steps.
Each step may say something, run cmdlet lines in a shell, send a message, hold a raw SMTP
dialogue, advance lab time, and expect outcomes. Steps marked ``fix`` or ``workaround`` are
the article's remedy; the steps after the last of them verify it (``lab scenario grade``
re-runs them against a trainee's world).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from lab.scenario.driver import SendSpec

#: A step's message is exactly what the driver sends.
SendStep = SendSpec

#: Expectation kinds and the keys each one takes (the first is the one a scalar value sets).
EXPECTATIONS: dict[str, tuple[str, ...]] = {
    "delivered": ("to", "subject", "header", "contains", "count"),
    "not_delivered": ("to", "subject"),
    "accepted": ("value",),
    "rejected": ("reply",),
    "failed": ("contains",),
    "queued": ("server", "last_error", "delivery_type", "next_hop", "status"),
    "not_queued": ("server",),
    "eop_queued": ("last_error",),
    "eop_empty": ("value",),
    "ndr": ("to", "contains", "subject"),
    "dsn": ("to", "contains", "subject"),
    "output": ("contains", "not_contains"),
    "error": ("contains",),
    "transcript": ("contains", "not_contains"),
}

#: Keys whose values may be one string or a list of strings (all must match).
MULTI = ("contains", "not_contains")


@dataclass(frozen=True)
class SmtpStep:
    """A raw telnet-style dialogue."""

    server: str
    port: int = 25
    source: str | None = None
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expectation:
    """One expected outcome: ``kind`` (a key of :data:`EXPECTATIONS`) and its arguments."""

    kind: str
    args: Mapping[str, Any]
    place: str = ""

    def describe(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.kind}({inner})"


@dataclass(frozen=True)
class Step:
    """One step of a scenario."""

    index: int
    say: str = ""
    shell: str | None = None
    run: str | None = None
    send: SendStep | None = None
    smtp: SmtpStep | None = None
    advance: float | None = None
    expect: tuple[Expectation, ...] = ()
    fix: bool = False
    workaround: bool = False
    place: str = ""

    @property
    def remedy(self) -> bool:
        return self.fix or self.workaround


@dataclass(frozen=True)
class SetupLine:
    """A start-state line: cmdlet lines run in a shell before step 1."""

    run: str
    shell: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A whole scenario file."""

    name: str
    title: str
    article: str
    summary: str
    file: str
    shell: str
    setup: tuple[SetupLine, ...] = ()
    steps: tuple[Step, ...] = ()
    goal: str = ""
    gives_up: str = ""
    allow_workaround: bool = False
    topology: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def stem(self) -> str:
        from pathlib import Path
        return Path(self.file).stem

    def fix_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.remedy)

    def exercise_until(self) -> int:
        """The index of the first remedy step: an exercise plays the steps before it."""
        return next((s.index for s in self.steps if s.remedy), len(self.steps))

    def verification(self) -> tuple[Step, ...]:
        """The steps after the last ``fix`` step (else after the last remedy): what grading re-runs."""
        fixes = [s.index for s in self.steps if s.fix] or [s.index for s in self.steps if s.remedy]
        last = fixes[-1] if fixes else -1
        return tuple(s for s in self.steps if s.index > last)
