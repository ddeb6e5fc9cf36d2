"""The memory lab's fast-forward through a stretch of failing retries (``MemoryTransport._wake`` calling
``Transport.failing_retries``) against the event-by-event path (``FAST_RETRIES`` off): the same
scripts, one lab each way, compared after every action on everything observable (Get-Queue and
Get-Message of every transport, the trace of every message held, the tracking events, the
mailboxes, EOP's queue, the lab's timers and time) and on the transports' wakeup bookkeeping.

The scripts mix what can end or interrupt a stretch: one and several failing queues, several
messages (and recipients) per queue, delay DSNs and expiry, a second transport and EOP retrying
too, local deliveries, DNS fixed and broken again between advances, Retry-Queue, and advances
whose target falls anywhere; under several retry settings."""
from __future__ import annotations

import random

import pytest

import lab.memory.transport as memory_transport
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings
from lab.core.world import World
from lab.memory import MemoryLab

SETTINGS = [
    {},  # Exchange's
    {"transient_failure_retry_count": 0, "message_retry_interval": 600.0},
    {"transient_failure_retry_count": 3, "transient_failure_retry_interval": 60.0, "message_retry_interval": 420.0,
     "delay_notification_timeout": 3600.0, "message_expiration_timeout": 6 * 3600.0},
    {"transient_failure_retry_count": 2, "transient_failure_retry_interval": 30.0, "message_retry_interval": 90.0,
     "delay_dsn_enabled": False, "message_expiration_timeout": 3 * 3600.0, "queue_max_idle_time": 7200.0},
    {"transient_failure_retry_interval": 0.0, "message_retry_interval": 50.0, "delay_notification_timeout": 600.0,
     "message_expiration_timeout": 4000.0},
]

WAITS = [1, 59, 60, 299, 300, 301, 900, 1800, 3600, 4 * 3600, 4 * 3600 + 60, 86400, 2 * 86400, 3 * 86400]


def body(subject: str) -> bytes:
    return f"From: a@b.c\r\nSubject: {subject}\r\n\r\n{subject}\r\n".encode()


def send(lab: MemoryLab, kind: int, subject: str) -> None:
    contoso = dict(tls=True, auth=("contoso@contoso.com", "P@ssw0rd"))
    if kind == 0:
        lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["allen@xutonglin.com"],
                 body(subject), **contoso)
    elif kind == 1:
        lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com",
                 ["allen@xutonglin.com", "someone@fabrikam.com", "nobody@xutonglin.com"], body(subject), **contoso)
    elif kind == 2:
        lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["partner@fabrikam.com"],
                 body(subject), **contoso)
    elif kind == 3:  # another transport (office26's mail1) retrying too
        lab.send("erp", "192.168.0.10", 587, "erp@office26.com", ["someone@fabrikam.com"], body(subject),
                 tls=True, auth=("erp@office26.com", "Erp-Passw0rd"))
    elif kind == 4:  # EOP's queue (its ticks every lab minute while it holds mail)
        lab.send("relay01", "40.107.22.10", 25, "app@ixmsoft.com", ["someone@fabrikam.com"], body(subject))
    else:  # a local delivery on contoso-ex
        lab.send("internet-client", "mail.contoso.com", 587, "contoso@contoso.com", ["contoso@contoso.com"],
                 body(subject), **contoso)


def look(lab: MemoryLab, read: list[int]) -> list:
    """What can be observed now (values, compared with ==); ``read``: how many tracking events earlier
    looks took (only the new ones are taken: an event never changes once it happened)."""
    seen: list = [lab.now, lab.now_datetime()]
    for node in sorted(lab.transports):
        service = lab.transports[node]
        if not service.built:
            continue
        t = service.transport
        seen.append((node, t.queues(), t.messages()))
        seen.append([(i, t.trace(i)) for i in sorted(t._messages)])
        seen.append((t._requested, sorted(t._standing), t._woken, t._settled_at, sorted(service._wakes),
                     sorted(t._retrying), list(t._out), t._idle_low, t._message_due))
    events = lab.events
    seen.append((len(events), events[read[0]:]))
    read[0] = len(events)
    seen.append([(a, list(m)) for a, m in sorted(lab.mailboxes.boxes.items())])
    seen.append(lab.eop_queue())
    seen.append(sorted((at, seq) for at, seq, _ in lab._timers))
    return seen


def play(built, settings: dict, seed: int, steps: int) -> list[list]:
    topology, trust = built
    start = topology.settings.clock_start
    lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, start,
                    TransportSettings(epoch=start, **settings))
    rng = random.Random(seed)
    zones = lab.world.zones
    broken = {"xutonglin.com": True, "fabrikam.com": rng.random() < 0.5}

    def apply_zones() -> None:
        z = zones
        for domain, off in broken.items():
            if off:
                z = z.without_record(domain, "MX")
        lab.world = lab.world.evolve(zones=z)

    apply_zones()
    read = [0]
    seen = [look(lab, read)]
    for step in range(steps):
        roll = rng.random()
        if roll < 0.3:
            send(lab, rng.randrange(6), f"s{seed}-{step}")
        elif roll < 0.75:
            wait = rng.choice(WAITS) if rng.random() < 0.6 else rng.uniform(0, 86400)
            lab.advance(wait)
        elif roll < 0.85:
            domain = rng.choice(sorted(broken))
            broken[domain] = not broken[domain]
            apply_zones()
        elif roll < 0.9:
            lab.world = lab.world.evolve(zones=lab.world.zones)  # (a world change that leaves DNS alone)
        elif roll < 0.95:
            retrying = [q.identity for q in lab.queues("contoso-ex") if q.status == "Retry"]
            if retrying:
                lab.retry_queue("contoso-ex", rng.choice(retrying))
        else:  # Suspend-Queue, or Resume-Queue of a suspended one
            service = lab.transports["contoso-ex"]
            views = [q for q in lab.queues("contoso-ex") if q.delivery_type != "Undefined"]
            suspended = [q.identity for q in views if q.status == "Suspended"]
            if suspended:
                service.transport.resume_queue(rng.choice(suspended), lab.now)
            elif views:
                service.transport.suspend_queue(rng.choice(views).identity, lab.now)
            service.run()
            lab.run()
        seen.append(look(lab, read))
    return seen


@pytest.fixture
def counted(monkeypatch):
    """The retries each fast-forward did (one list per call that took it)."""
    done: list[list[float]] = []
    real = Transport.failing_retries

    def spy(self, *args):
        times = real(self, *args)
        if times is not None:
            done.append(times)
        return times

    monkeypatch.setattr(Transport, "failing_retries", spy)
    return done


def both(built, monkeypatch, settings: dict, seed: int, steps: int) -> None:
    monkeypatch.setattr(memory_transport, "FAST_RETRIES", False)
    slow = play(built, settings, seed, steps)
    monkeypatch.setattr(memory_transport, "FAST_RETRIES", True)
    fast = play(built, settings, seed, steps)
    assert len(fast) == len(slow)
    for i, (a, b) in enumerate(zip(fast, slow)):
        assert a == b, f"after action {i}"


@pytest.mark.parametrize("settings", SETTINGS)
def test_fast_forward_leaves_what_each_retry_leaves(built, monkeypatch, counted, settings):
    for seed in range(8):
        both(built, monkeypatch, settings, seed, 40)
    # (the fast-forward was taken, for stretches of several retries too)
    assert counted and max(map(len, counted)) > 1
    assert all(len(t) == len(set(t)) and t == sorted(t) for t in counted)


def test_the_fast_forward_is_taken_for_long_stretches(built, monkeypatch, counted):
    # one message waiting for two days on a domain without MX: most retries in a few stretches
    def script(fast: bool) -> list[list]:
        monkeypatch.setattr(memory_transport, "FAST_RETRIES", fast)
        topology, trust = built
        lab = MemoryLab(World.from_topology(topology, trust.certificates), trust, topology.settings.clock_start)
        lab.world = lab.world.evolve(zones=lab.world.zones.without_record("xutonglin.com", "MX"))
        seen, read = [], [0]
        for subject in ("one", "two"):
            send(lab, 0, subject)
            seen.append(look(lab, read))
        for wait in (4 * 3600 + 60, 2 * 86400):
            lab.advance(wait)
            seen.append(look(lab, read))
        return seen

    slow = script(False)
    assert not counted
    fast = script(True)
    assert fast == slow
    assert sum(map(len, counted)) > 150 and max(map(len, counted)) > 50
