"""The three families of lab errors.

LabError
 ├── ConfigError       bad topology, scenario or cmdlet input: names the place, changes nothing (exit 2)
 ├── PolicyRejection   an expected refusal that carries the exact wire reply
 └── LabRuntimeError   the lab itself could not do what was asked (port in use, ...)
"""
from __future__ import annotations

from dataclasses import dataclass

from lab.core.fastpath import frozen_init


class LabError(Exception):
    """Base of every error the lab raises on purpose."""

    exit_code = 1


@frozen_init
@dataclass(frozen=True)
class Place:
    """Where an input error is: a file and line, or a cmdlet and parameter, or an SMTP command."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None  # e.g. topology.nodes.mail1.interfaces

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.path:
            where += f" ({self.path})"
        return where


class ConfigError(LabError):
    """Bad input (topology, scenario, cmdlet). Carries the place and, where known, the allowed values."""

    exit_code = 2

    def __init__(self, message: str, place: Place | None = None, allowed: tuple[str, ...] | list[str] | None = None,
                 *, code: str | None = None):
        self.message = message
        self.place = place
        self.allowed = tuple(allowed) if allowed else None
        self.code = code  # which rule was broken (a catalogue entry's name), for callers that map it
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.place}: {self.message}" if self.place else self.message
        if self.allowed:
            text += " (allowed: " + ", ".join(self.allowed) + ")"
        return text


class ConfigErrors(ConfigError):
    """Several input errors found in one pass; str() lists them one per line."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = list(errors)
        LabError.__init__(self, "\n".join(str(e) for e in self.errors))
        self.message = str(self.errors[0].message) if self.errors else ""
        self.place = self.errors[0].place if self.errors else None
        self.allowed = None
        self.code = self.errors[0].code if self.errors else None

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class PolicyRejection(LabError):
    """A refusal the real product would give, with its exact reply."""

    def __init__(self, reply, reason: str = ""):
        self.reply = reply
        self.reason = reason
        super().__init__(str(reply))


class LabRuntimeError(LabError):
    """The lab could not run as asked (a port in use, a lab not running, ...)."""

    exit_code = 1
