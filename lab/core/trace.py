"""Message traces: every decision a message met, hop by hop (pybatfish's Trace/Hop/Step).

A :class:`Trace` belongs to one message. Each :class:`Hop` is one server (or service) the
message passed through; each :class:`Step` is one decision there: the rule that made it, a
one-line detail and, when the decision produced one, the SMTP reply / LastError in its wire
form. Message tracking, scenario expectations and the console read traces, never log text.

All records are frozen and JSON-able (:meth:`Trace.to_dict` / :meth:`Trace.from_dict`);
adding a step returns a new trace.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping
from lab.core.fastpath import frozen_init


@frozen_init
@dataclass(frozen=True)
class Step:
    """One decision.

    Attributes:
        rule: the rule id, e.g. ``routing.select_send_connector`` or ``fidelity §6``.
        detail: what was decided, in one line.
        reply: the reply or LastError it produced (wire form), or None.
        at: lab time in seconds, or None.
    """

    rule: str
    detail: str
    reply: str | None = None
    at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The step as plain JSON data."""
        return {"rule": self.rule, "detail": self.detail, "reply": self.reply, "at": self.at}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "Step":
        """The inverse of :meth:`to_dict`."""
        return Step(str(data["rule"]), str(data["detail"]), data.get("reply"), data.get("at"))

    def __str__(self) -> str:
        text = f"[{self.rule}] {self.detail}"
        return f"{text} -> {self.reply}" if self.reply else text


@frozen_init
@dataclass(frozen=True)
class Hop:
    """The steps taken on one node."""

    node: str
    steps: tuple[Step, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The hop as plain JSON data."""
        return {"node": self.node, "steps": [s.to_dict() for s in self.steps]}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "Hop":
        """The inverse of :meth:`to_dict`."""
        return Hop(str(data["node"]), tuple(Step.from_dict(s) for s in data.get("steps", ())))


def _hop(node: str, steps: tuple[Step, ...]) -> Hop:
    """``Hop(node, steps)`` without the frozen dataclass's per-field ``object.__setattr__``."""
    hop = object.__new__(Hop)
    hop.__dict__.update(node=node, steps=steps)
    return hop


@frozen_init
@dataclass(frozen=True)
class Trace:
    """A message's explanation: the hops it went through and its final disposition.

    Attributes:
        message_id: the message's Internet message id (or the lab's id).
        hops: hops in order; consecutive steps on the same node share one hop.
        disposition: ``""`` while undecided, then e.g. ``Delivered``, ``Queued``, ``Bounced``.
    """

    message_id: str
    hops: tuple[Hop, ...] = ()
    disposition: str = ""

    def add(self, node: str, step: Step) -> "Trace":
        """A new trace with ``step`` appended on ``node`` (joining the last hop if it is there)."""
        hops = self.hops
        if hops and hops[-1].node == node:
            last = hops[-1]
            return _trace(self.message_id, hops[:-1] + (_hop(node, last.steps + (step,)),), self.disposition)
        return _trace(self.message_id, hops + (_hop(node, (step,)),), self.disposition)

    def extend(self, node: str, steps: Iterable[Step]) -> "Trace":
        """``add(node, step)`` for each of ``steps`` in turn, as one new trace."""
        steps = tuple(steps)
        if not steps:
            return self
        hops = self.hops
        if hops and hops[-1].node == node:
            return _trace(self.message_id, hops[:-1] + (_hop(node, hops[-1].steps + steps),), self.disposition)
        return _trace(self.message_id, hops + (_hop(node, steps),), self.disposition)

    def with_disposition(self, disposition: str) -> "Trace":
        """A new trace with its disposition set."""
        return replace(self, disposition=disposition)

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every step of every hop, in order."""
        return tuple(s for h in self.hops for s in h.steps)

    def find(self, rule: str) -> tuple[Step, ...]:
        """The steps made by ``rule`` (exact id or prefix ending in ``.``)."""
        return tuple(s for s in self.steps if s.rule == rule or (rule.endswith(".") and s.rule.startswith(rule)))

    def to_dict(self) -> dict[str, Any]:
        """The trace as plain JSON data."""
        return {"message_id": self.message_id, "disposition": self.disposition,
                "hops": [h.to_dict() for h in self.hops]}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "Trace":
        """The inverse of :meth:`to_dict`."""
        return Trace(str(data["message_id"]), tuple(Hop.from_dict(h) for h in data.get("hops", ())),
                     str(data.get("disposition", "")))

    def __str__(self) -> str:
        lines = [f"trace {self.message_id}" + (f": {self.disposition}" if self.disposition else "")]
        for hop in self.hops:
            lines.append(f"  {hop.node}")
            lines.extend(f"    {s}" for s in hop.steps)
        return "\n".join(lines)


def _trace(message_id: str, hops: tuple[Hop, ...], disposition: str) -> Trace:
    """``Trace(message_id, hops, disposition)`` without the frozen dataclass's per-field setattr."""
    trace = object.__new__(Trace)
    trace.__dict__.update(message_id=message_id, hops=hops, disposition=disposition)
    return trace
