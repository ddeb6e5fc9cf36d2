"""What happened to a flow: an :class:`Outcome` and the trace that explains it.

An outcome is one of the kinds of :mod:`lab.core.catalogue.probes` (delivered, rejected,
failed, queued, bounced, accepted-and-gone) with its detail: the mailbox, the reply, the network
failure, the queue's LastError or the NDR's diagnostic, verbatim. :meth:`Outcome.signature`
is what differential analysis compares: the kind, where, and the detail with the parts that
change on every message (Message-IDs, internal ids) masked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lab.core.catalogue import probes as T
from lab.core.fastpath import frozen_init

_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_INTERNAL_ID = re.compile(r"InternalId=\d+")
_DIAGNOSTIC = re.compile(rb"^Diagnostic-Code:[ \t]*[^;\r\n]*;[ \t]*(.*(?:\r?\n[ \t]+.*)*)", re.MULTILINE)
_UNFOLD = re.compile(r"\r?\n[ \t]+")


def normalise(text: str) -> str:
    """``text`` with Message-IDs and internal ids masked (they differ on every message)."""
    return _INTERNAL_ID.sub("InternalId=N", _MESSAGE_ID.sub("<ID>", text))


@frozen_init
@dataclass(frozen=True)
class Outcome:
    """One flow's fate.

    Attributes:
        kind: delivered | rejected | failed | queued | bounced | accepted.
        detail: the reply / failure / LastError / NDR diagnostic (the mailbox for a delivery).
        where: the mailbox, the node holding the message, or the server that bounced it.
        trace: the lines that explain it (SMTP transcript, tracking events, queue LastErrors).
    """

    kind: str
    detail: str = ""
    where: str = ""
    trace: tuple[str, ...] = field(default=(), compare=False)

    @property
    def works(self) -> bool:
        """The mail got where it was sent."""
        return self.kind == T.DELIVERED

    def signature(self) -> tuple[str, str, str]:
        return self.kind, self.where, normalise(self.detail)

    def describe(self) -> str:
        return T.DESCRIBE[self.kind].format(where=self.where, detail=self.detail)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.kind, "detail": self.detail, "where": self.where, "trace": list(self.trace)}


def ndr_diagnostic(message: bytes) -> str | None:
    """The ``Diagnostic-Code`` of a delivery status notification (RFC 3464), unfolded; None if absent."""
    match = _DIAGNOSTIC.search(message)
    if match is None:
        return None
    return _UNFOLD.sub(" ", match.group(1).decode("utf-8", "replace")).strip()


def find_token(messages: list[bytes], token: bytes) -> bytes | None:
    """The newest message that carries ``token`` (probes send a unique subject)."""
    for message in reversed(messages):
        if token in message:
            return message
    return None


def event_line(event: Any) -> str:
    """A message tracking event, one line (Get-MessageTrackingLog's main fields)."""
    status = "; ".join(event.recipient_status)
    line = f"tracking {event.event_id} {event.source} on {event.server}: {', '.join(event.recipients)}"
    if event.connector_id:
        line += f" [{event.connector_id}]"
    return f"{line} {status}".rstrip()
