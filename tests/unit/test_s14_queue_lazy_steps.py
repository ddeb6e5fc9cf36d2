"""The transport adds most trace steps as recipes (``(node, build, args)`` chunks, made when the trace
is read): a trace or tracking event read long after the fact must be the one read at once. The
same random scripts (sends that deliver, relay, bounce and queue; advances through retries, delay
DSNs and expiry; DNS broken and fixed; Retry-Queue, Suspend-Queue) are played twice on one lab
each: one reads every trace and every tracking event after every action, the other reads nothing
until the end; everything read at the end must be equal. And each recipe gives the step the
transport wrote eagerly before (its rule, detail, reply and time)."""
from __future__ import annotations

import random

import pytest

from lab.core.exchange import outcomes as O
from lab.core.exchange import queue as Q
from lab.core.trace import Step
from lab.core.world import World
from lab.memory import MemoryLab

from test_memory_failing_retries import send


def _traces(lab: MemoryLab) -> list:
    seen = []
    for node in sorted(lab.transports):
        service = lab.transports[node]
        if service.built:
            t = service.transport
            seen.append((node, [(i, t.trace(i)) for i in sorted(t._messages)]))
    return seen


def _play(built, seed: int, steps: int, eager: bool) -> list:
    topology, trust = built
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
    rng = random.Random(seed)
    broken = {"xutonglin.com": rng.random() < 0.7, "fabrikam.com": rng.random() < 0.5}

    def apply_zones() -> None:
        z = lab.world.zones
        for domain, off in broken.items():
            if off:
                z = z.without_record(domain, "MX")
        lab.world = lab.world.evolve(zones=z)

    base = lab.world.zones
    apply_zones()
    read: list = []
    for step in range(steps):
        roll = rng.random()
        if roll < 0.4:
            send(lab, rng.randrange(6), f"s{seed}-{step}")
        elif roll < 0.75:
            lab.advance(rng.choice([60, 300, 1800, 3600, 4 * 3600 + 60, 86400, 2 * 86400]))
        elif roll < 0.9:
            domain = rng.choice(sorted(broken))
            broken[domain] = not broken[domain]
            lab.world = lab.world.evolve(zones=base)
            apply_zones()
        else:
            retrying = [q.identity for q in lab.queues("contoso-ex") if q.status == "Retry"]
            if retrying:
                lab.retry_queue("contoso-ex", rng.choice(retrying))
        if eager:
            read.append(_traces(lab))
            [e.to_dict() for e in lab.events]
    return [[e.to_dict() for e in lab.events], _traces(lab), lab.events] + ([read] if eager else [])


@pytest.mark.parametrize("seed", range(6))
def test_steps_read_late_are_the_steps_read_at_once(built, seed):
    lazy = _play(built, seed, 30, eager=False)
    eager = _play(built, seed, 30, eager=True)
    assert lazy[0] == eager[0] and lazy[1] == eager[1] and lazy[2] == eager[2]
    rules = {s.rule for e in lazy[2] for s in e.trace.steps}
    assert {"transport.submit", "transport.delivery"} <= rules


def test_each_recipe_is_the_step_written_eagerly():
    endpoint = O.Endpoint("mx", "192.0.2.5", 25)
    delivered = O.Delivered("250 2.6.0 ok", str(endpoint))
    assert Q._step("r", "d", "451 x", 5.0) == (Step("r", "d", "451 x", 5.0),)
    assert Q._submit_step("accepted", "a@b.c", ("x@y.z", "w@y.z"), 1.0) == (
        Step("transport.submit", "accepted: from <a@b.c> for x@y.z, w@y.z", None, 1.0),)
    assert Q._resolve_step((endpoint, O.Endpoint("mx2", "192.0.2.6", 25)), 2.0) == (
        Step("routing.resolve", "targets 192.0.2.5:25, 192.0.2.6:25", None, 2.0),)
    assert Q._resolve_step((), 2.0) == (Step("routing.resolve", "targets none", None, 2.0),)
    assert Q._delivered_step(("x@y.z",), False, "y.z", delivered, 3.0) == (
        Step("transport.delivery", "delivered to x@y.z via 192.0.2.5:25 (250 2.6.0 ok)", "250 2.6.0 ok", 3.0),)
    assert Q._delivered_step(("x@y.z", "v@y.z"), True, "DB01", O.Delivered(), 3.0) == (
        Step("transport.delivery", "delivered to x@y.z, v@y.z via mailbox database DB01", None, 3.0),)
    assert Q._ndr_step(("x@y.z",), "550 5.1.1 no", 4.0) == (Step("transport.ndr", "NDR for x@y.z", "550 5.1.1 no", 4.0),)
