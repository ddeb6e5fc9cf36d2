"""Evaluating probes: run each flow on a driver and compare the outcome with the expectation.

A driver has ``run(flow) -> Outcome`` (:class:`lab.probes.memory_driver.MemoryDriver`, or the
live lab's :class:`lab.probes.live_driver.LiveDriver`). Prefix matches are on the verbatim
reply / LastError / diagnostic, as an administrator reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from lab.core.catalogue import probes as T
from lab.probes.model import Expectation, Probe
from lab.probes.outcome import Outcome


@dataclass(frozen=True)
class ProbeResult:
    """One probe's verdict."""

    probe: Probe
    outcome: Outcome
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        flow = self.probe.flow
        return {"name": self.probe.name, "passed": self.passed, "flow": flow.id, "place": str(self.probe.place),
                "expected": {"outcome": self.probe.expect.kind, "value": self.probe.expect.value},
                **self.outcome.to_dict()}


def matches(expect: Expectation, outcome: Outcome) -> bool:
    """Does ``outcome`` meet ``expect``? Deliveries by mailbox, failures by name, the rest by prefix."""
    if expect.kind != outcome.kind:
        return False
    if expect.kind == T.DELIVERED:
        return outcome.where.lower() == expect.value.lower()
    if expect.kind == T.FAILED:
        return outcome.detail == expect.value
    return outcome.detail.startswith(expect.value)


def check(probes: Iterable[Probe], driver: Any) -> list[ProbeResult]:
    """Run every probe; each gets its verdict and the outcome that explains it."""
    results = []
    for probe in probes:
        outcome = driver.run(probe.flow)
        results.append(ProbeResult(probe, outcome, matches(probe.expect, outcome)))
    return results
