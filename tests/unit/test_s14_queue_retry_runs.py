"""``Transport.failing_retries`` puts a stretch of retries into each message's trace log as one run
(its Steps made when the trace is read) and hands the DEFER events as recipes: held here to the
event-by-event path (``wakeup`` then ``resolution_result``, one retry at a time) on one transport,
with several messages in the failing queue and two items of one message in it (two places per retry
in that message's log), the traces and events read early, late, out of order or never in between.
"""
from __future__ import annotations

from types import SimpleNamespace as NS

import heapq
import math

import pytest

from lab.core.dns_resolution import MxResult
from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport, _Retries
from lab.core.exchange.queue_records import TransportSettings
from lab.core.exchange.queue_views import ItemState
from lab.core.exchange.send_connector import SendConnector

SETTINGS = [
    dict(delay_dsn_enabled=False),
    dict(delay_dsn_enabled=False, transient_failure_retry_count=2, transient_failure_retry_interval=60.0,
         message_retry_interval=90.0),
    dict(delay_dsn_enabled=False, transient_failure_retry_count=0, message_retry_interval=170.0),
]


def _answer(domain: str) -> MxResult:
    return MxResult(domain, (), "NoRecords")


def _transport(settings: dict) -> Transport:
    org = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative"}], mailboxes=[])
    t = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), org,
                  [SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*"})],
                  TransportSettings(**settings))
    data = b"Subject: s\r\n\r\nx\r\n"
    t.submit(NS(mail_from="a@contoso.com", rcpt_tos=["b@fabrikam.com", "c@fabrikam.com"], data=data), 0)
    t.submit(NS(mail_from="d@contoso.com", rcpt_tos=["e@fabrikam.com"], data=data), 0)
    # the first message's item split in two (two items of one message in the queue, as a reroute
    # or a partly deferred delivery leaves them)
    first = min(t._items.values(), key=lambda i: i.id)
    second = ItemState(t._next_item, first.internal_id, first.queue, first.recipients[1:])
    t._next_item += 1
    first.recipients = first.recipients[:1]
    t._items[second.id] = second
    t._held[first.internal_id] += 1
    t._queues[first.queue].items.append(second.id)
    return t


stretches: list[int] = []  # the length of each stretch the fast path took


def _drive(t: Transport, until: float, fast: bool, timers: list, seen: list, read: bool) -> None:
    """Fire the timers up to ``until`` as a driver does (answering every ResolveMx with NoRecords);
    ``seen`` gets the Track commands (a Tracks command's in turn); ``read``: the traces read after every event (runs made then)."""
    def run(now: float) -> None:
        while True:
            out = t.pop_commands()
            if not out:
                return
            for cmd in out:
                if isinstance(cmd, O.ResolveMx):
                    t.resolution_result(cmd.queue, _answer(cmd.domain), now)
                elif isinstance(cmd, O.RequestWakeup):
                    heapq.heappush(timers, cmd.at)
                elif isinstance(cmd, O.Track):
                    seen.append(cmd)
                elif isinstance(cmd, O.Tracks):  # (the fast path's run of them)
                    seen.extend(cmd.tracks)

    run(0.0)
    while timers and timers[0] <= until:
        at = heapq.heappop(timers)
        while timers and timers[0] == at:
            heapq.heappop(timers)
        if fast:
            times = t.failing_retries(at, _answer, until, timers[0] if timers else float("inf"))
            if times is not None:
                assert len(times) >= 1
                stretches.append(len(times))
                run(times[-1])
                if read:
                    [t.trace(i) for i in t._messages]
                continue
        t.wakeup(at)
        run(at)
        if read:
            [t.trace(i) for i in t._messages]


def _look(t: Transport) -> list:
    return [t.queues(), t.messages(), {i: t.trace(i) for i in sorted(t._messages)},
            (t._requested, sorted(t._standing), t._woken, t._settled_at, sorted(t._retrying))]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("read", [False, True])
def test_runs_read_as_the_retries_one_by_one(settings, read):
    slow, fast = _transport(settings), _transport(settings)
    stretches.clear()
    slow_seen, fast_seen, slow_timers, fast_timers = [], [], [], []
    for until in (1000.0, 1001.0, 3 * 3600.0, 5 * 3600.0 + 1):
        _drive(slow, until, False, slow_timers, slow_seen, True)
        _drive(fast, until, True, fast_timers, fast_seen, read)
        if read:
            assert [c.event for c in fast_seen[::-1]] == [c.event for c in slow_seen[::-1]]  # newest first
    assert stretches and max(stretches) > 5
    # the fast path took stretches, and left its logs with runs (unread) unless read between
    logs = list(fast._traces.values())
    assert any(c.__class__ is _Retries for log in logs for c in log.chunks) is not read
    assert [slow_timers[0] if slow_timers else None] == [fast_timers[0] if fast_timers else None]
    # the events, read late and newest first (each with its own moment's trace), then the rest
    assert len(fast_seen) == len(slow_seen) > 50
    assert not any(c.built for c in fast_seen) or read
    for a, b in zip(fast_seen[::-1], slow_seen[::-1]):
        assert a.event == b.event
    assert fast_seen == slow_seen
    assert _look(fast) == _look(slow)
    assert not any(c.__class__ is _Retries for log in fast._traces.values() for c in log.chunks)
    # two items of one message: two places per retry in its log, both events read the right count
    first = min(fast._messages)
    counts = [len(fast._traces[first].chunks), len(slow._traces[first].chunks)]
    assert counts[0] == counts[1]
    defer = [c.event for c in fast_seen if c.event.event_id == "DEFER" and c.event.internal_id == first
             and c.event.timestamp > 0]  # (the first attempt, at submit, had one item)
    assert len({e.timestamp for e in defer}) * 2 == len(defer)


def test_a_trace_read_part_way_and_then_grown():
    slow, fast = _transport({"delay_dsn_enabled": False}), _transport({"delay_dsn_enabled": False})
    seen_slow, seen_fast, ts, tf = [], [], [], []
    _drive(slow, 4000.0, False, ts, seen_slow, False)
    _drive(fast, 4000.0, True, tf, seen_fast, False)
    # an event in the middle of a run read first: its trace stops part way through the run
    middle = len(seen_fast) // 2
    assert seen_fast[middle].event == seen_slow[middle].event
    _drive(slow, 9000.0, False, ts, seen_slow, False)
    _drive(fast, 9000.0, True, tf, seen_fast, False)
    assert seen_fast[-1].event == seen_slow[-1].event
    assert seen_fast[1].event == seen_slow[1].event
    assert _look(fast) == _look(slow) and seen_fast == seen_slow


@pytest.mark.parametrize("count", [0, 1, 2, 6, 10])
def test_retry_schedule_is_retry_delay(count):
    s = TransportSettings(transient_failure_retry_count=count, transient_failure_retry_interval=30.0,
                          message_retry_interval=900.0)
    for failures in range(0, 15):
        head, steady = s.retry_schedule(failures)
        delays = list(head) + [steady] * 20
        assert delays == [s.retry_delay(f) for f in range(failures, failures + len(delays))]
        assert not head or head[-1] != steady


def _retry_times_one_by_one(now, head, steady, limit, standing):
    """The loop _retry_times stands for: one retry at a time."""
    import itertools
    times, t = [now], now
    for delay in itertools.chain(head, itertools.repeat(steady)):
        n = t + delay
        if not n > t:
            last = times.pop()
            return times, last
        if n < limit and n not in standing:
            times.append(n)
            t = n
            continue
        return times, n


def test_retry_times_in_batches_are_the_retries_one_by_one():
    import random

    from lab.core.exchange.queue import _retry_times
    rng = random.Random(14)
    taken = 0
    for case in range(3000):
        now = rng.choice([0.0, 1.5, 86400.0, 1e9, 2.0 ** 60, rng.uniform(0, 1e6)])
        tiny = 1e-9 if now >= 1e9 else 7.0  # (a delay too small to count after a late enough now)
        steady = rng.choice([900.0, 60.0, 7.0, 0.0, -5.0, tiny, 1.0 if now >= 2.0 ** 60 else 13.0,
                             rng.uniform(0.5, 2000.0)])
        head = tuple([rng.choice([300.0, 30.0, 0.0, -1.0, steady, tiny, rng.uniform(0.5, 500.0)])]
                     * rng.randrange(0, 8))
        span = rng.choice([0.0, 10.0, 1000.0, 20_000.0])
        limit = rng.choice([now + span, math.nextafter(now + span, math.inf), now - 1.0])
        standing: set[float] = set()
        if rng.random() < 0.5:
            expected = _retry_times_one_by_one(now, head, steady, limit, set())
            # a time the retries would reach held already (and some they would not)
            standing = {rng.choice(expected[0] + [expected[1]]), now - 1.0, limit + 1.0, now + 300.0}
        got = _retry_times(now, head, steady, limit, standing)
        assert got == _retry_times_one_by_one(now, head, steady, limit, standing), case
        taken += len(got[0]) > 64
    assert taken > 50  # (several batches)
