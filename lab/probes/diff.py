"""Differential analysis: the matrix of two worlds, and only what changed between them.

A flow *broke* when it delivered before and does not after, *started working* (``fixed``) in
the other direction, *changed* when its outcome differs otherwise (another reply, another
LastError, another mailbox); flows only in one world are ``new`` or ``gone``. Message-IDs and
internal ids are masked before comparing (:func:`lab.probes.outcome.normalise`). Each change is
explained by re-running the flow alone in each world with the SMTP transcript recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from lab.core.catalogue import probes as T
from lab.core.world import World
from lab.probes.matrix import evaluate, generate
from lab.probes.model import Flow
from lab.probes.outcome import Outcome

DriverFactory = Callable[..., Any]  # (world, shared=..., record=...) -> a driver


@dataclass(frozen=True)
class Change:
    """One flow whose outcome differs."""

    kind: str  # broke | fixed | changed | new | gone
    flow: Flow
    before: Outcome | None
    after: Outcome | None

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.kind, "flow": self.flow.id, "sender": self.flow.mail_from,
                "recipient": self.flow.recipient, "entry": self.flow.entry,
                "before": self.before.to_dict() if self.before else None,
                "after": self.after.to_dict() if self.after else None}


@dataclass(frozen=True)
class Diff:
    """The changes, and how many flows were compared."""

    changes: tuple[Change, ...]
    evaluated: int

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        return {"evaluated": self.evaluated, "changes": [c.to_dict() for c in self.changes],
                "summary": {k: self.count(k) for k in (T.BROKE, T.FIXED, T.CHANGED, T.ADDED, T.REMOVED)}}


def classify(before: Outcome | None, after: Outcome | None) -> str | None:
    """The kind of change between two outcomes of one flow, or None when they are the same."""
    if before is None:
        return T.ADDED
    if after is None:
        return T.REMOVED
    if before.signature() == after.signature():
        return None
    if before.works and not after.works:
        return T.BROKE
    if after.works and not before.works:
        return T.FIXED
    return T.CHANGED


def compare(before: dict[str, tuple[Flow, Outcome]], after: dict[str, tuple[Flow, Outcome]]) -> list[Change]:
    """Changes between two evaluated matrices (flow id order)."""
    changes = []
    for flow_id in sorted(set(before) | set(after)):
        old, new = before.get(flow_id), after.get(flow_id)
        kind = classify(old[1] if old else None, new[1] if new else None)
        if kind is not None:
            changes.append(Change(kind, (new or old)[0], old[1] if old else None, new[1] if new else None))
    return changes


def diff_worlds(before: World, after: World, driver: DriverFactory, jobs: int | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> Diff:
    """Evaluate the matrix of both worlds and keep what changed, each change explained.

    Args:
        driver: makes a driver for a world: ``driver(world, shared=True, record=False)`` runs the
            matrix, ``driver(world)`` re-runs one flow alone with its transcript.
        jobs: worker processes for each matrix (:func:`lab.probes.matrix.evaluate`; None: one per CPU).
        progress: told ``("before" or "after", flows evaluated, flows in that matrix)`` as each
            matrix is evaluated.
    """
    old_flows, new_flows = generate(before), generate(after)
    tell = progress or (lambda which, done, total: None)
    old = evaluate(old_flows, driver(before, shared=True, record=False), jobs,
                   lambda done: tell("before", done, len(old_flows)))
    new = evaluate(new_flows, driver(after, shared=True, record=False), jobs,
                   lambda done: tell("after", done, len(new_flows)))
    changes = [explain(c, old[c.flow.id][0] if c.before else None, before, after, driver) for c in compare(old, new)]
    return Diff(tuple(changes), len(set(old) | set(new)))


def explain(change: Change, old_flow: Flow | None, before: World, after: World, driver: DriverFactory) -> Change:
    """The change with each side's outcome re-run alone, transcript and tracking recorded."""
    old = driver(before).run(old_flow) if old_flow is not None else None
    new = driver(after).run(change.flow) if change.after else None
    return Change(change.kind, change.flow, _keep(change.before, old), _keep(change.after, new))


def _keep(shared: Outcome | None, alone: Outcome | None) -> Outcome | None:
    """The matrix's outcome with the trace of the flow run alone (when they agree, as they should)."""
    if shared is None or alone is None:
        return shared
    if alone.signature() == shared.signature():
        return alone
    return Outcome(shared.kind, shared.detail, shared.where, alone.trace)
