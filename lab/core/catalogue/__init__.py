"""The reply catalogue: every string the real products say, in one place.

Each entry is a :class:`Reply` (an SMTP reply, a queue LastError, an NDR line, a validation
result) or a :class:`Message` (a text without an SMTP code: cmdlet errors, event texts).
Strings are verbatim from ``research/fidelity.md``; entries that are the lab's best guess
carry ``unconfirmed=True`` and say why in ``note``.

The catalogue is split by product area, one module each, all re-exported here:

- :mod:`lab.core.catalogue.exchange`  on-premises Exchange: SMTP replies, EHLO lines, Received header
- :mod:`lab.core.catalogue.exchange_queue`  on-premises Exchange transport: queue errors, send side, NDRs
- :mod:`lab.core.catalogue.eop`       Exchange Online / EOP replies, queue and validation texts
- :mod:`lab.core.catalogue.console`   PowerShell and cmdlet error texts
- :mod:`lab.core.catalogue.lab`       the lab's own texts that stand for no product string
"""
from __future__ import annotations

import string
from lab.core.fastpath import frozen_init
from dataclasses import dataclass


_LINE = "_line"  # where Reply.line() keeps its result
WIRE_LINES = "_lines"  # where lab.core.exchange.receive.reply_lines keeps a reply's wire lines


@frozen_init
@dataclass(frozen=True)
class Reply:
    """One SMTP reply line (or a queue/NDR string built the same way).

    ``text`` may hold ``{name}`` placeholders; :meth:`format` fills them and returns a new Reply.
    ``str(reply)`` is the wire form: ``550 5.7.54 SMTP; Unable to relay ...``.
    """

    code: int
    enhanced: str | None
    text: str
    source: str = ""
    unconfirmed: bool = False
    note: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.text) if f)

    def format(self, **values: object) -> "Reply":
        # dataclasses.replace without its field walk: a copy of this reply's fields, new text
        new = object.__new__(type(self))
        fields = new.__dict__
        fields.update(self.__dict__)
        if len(fields) != _FIELD_COUNT:  # a kept line or wire lines (not fields): the copy's are its own
            fields.pop(_LINE, None)
            fields.pop(WIRE_LINES, None)
        try:  # str.format(**values) without copying the keywords again into a new dict
            fields["text"] = self.text.format_map(values)
        except ValueError:  # (a positional field: what format(**values) raises, raised by it)
            fields["text"] = self.text.format(**values)
        return new

    @property
    def is_positive(self) -> bool:
        return self.code < 400

    @property
    def is_transient(self) -> bool:
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        return self.code >= 500

    def line(self) -> str:
        # A reply is immutable: its line is written once and kept beside its fields (not a field:
        # equality, hashing, repr and replace() ignore it; format() drops it from the copy).
        line = self.__dict__.get(_LINE)
        if line is None:
            line = self.__dict__[_LINE] = reply_line(self.code, self.enhanced, self.text)
        return line

    __str__ = line  # str(reply) is its line (the same function: no second call)


_FIELD_COUNT = len(Reply.__dataclass_fields__)


def reply_line(code: int, enhanced: str | None, text: str) -> str:
    """The line of a reply (:meth:`Reply.line`): ``code enhanced text``, or ``code text`` without an
    enhanced code, with no trailing blank."""
    return f"{code} {enhanced} {text}".rstrip() if enhanced else f"{code} {text}".rstrip()


@dataclass(frozen=True)
class Message:
    """A product text with no SMTP code (cmdlet error, event text, queue status text)."""

    text: str
    source: str = ""
    unconfirmed: bool = False
    note: str = ""

    def format(self, **values: object) -> str:
        return self.text.format(**values)

    def __str__(self) -> str:
        return self.text


def entries(module) -> dict[str, Reply | Message]:
    """All catalogue entries of a catalogue module, by constant name."""
    return {k: v for k, v in vars(module).items() if k.isupper() and isinstance(v, (Reply, Message))}
