"""state_dir/tracking.jsonl: each line is json.dumps(event.to_dict(epoch), sort_keys=True), byte for byte."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from lab.adapters.spool import TrackingLog
from lab.core.exchange.queue_records import TrackingEvent
from lab.core.trace import Step, Trace

text = st.text(max_size=12)
steps = st.builds(Step, text, text, st.none() | text,
                  st.none() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False))
traces = st.builds(lambda mid, disp, hops: _trace(mid, disp, hops), text, text,
                   st.lists(st.tuples(st.sampled_from(["MAIL1", "EX1", "EOP"]), st.lists(steps, max_size=4)),
                            max_size=4))
events = st.builds(TrackingEvent, st.floats(0, 1e7), st.sampled_from(["RECEIVE", "DEFER", "FAIL"]), text, text,
                   st.integers(0, 10**6), text, text, st.lists(text, max_size=3).map(tuple),
                   st.lists(text, max_size=3).map(tuple), text, text, st.integers(0, 10**6), text, traces)


def _trace(message_id: str, disposition: str, hops: list) -> Trace:
    trace = Trace(message_id, disposition=disposition)
    for node, node_steps in hops:
        for step in node_steps:
            trace = trace.add(node, step)
    return trace


@settings(max_examples=300, deadline=None)
@given(st.lists(events, min_size=1, max_size=6), st.booleans())
def test_each_line_is_exactly_what_json_dumps_writes(tmp_path_factory, batch, with_epoch):
    epoch = datetime(2026, 11, 1, tzinfo=timezone.utc) if with_epoch else None
    log = TrackingLog(tmp_path_factory.mktemp("state"), epoch)
    for event in batch:  # the same log: steps remembered from earlier events are reused
        log.append(event)
    lines = log.path.read_text("utf-8").splitlines()
    assert lines == [json.dumps(e.to_dict(epoch), sort_keys=True) for e in batch]


def test_a_growing_trace_is_written_whole_each_time(tmp_path):
    """A message deferred again and again: every DEFER line carries the whole trace so far."""
    log = TrackingLog(tmp_path)
    trace = Trace("<m@lab>")
    for attempt in range(50):
        trace = trace.add("MAIL1", Step("transport.retry", f"attempt {attempt}", "451 4.4.0 DNS query failed", 900.0 * attempt))
        log.append(TrackingEvent(900.0 * attempt, "DEFER", "SMTP", "MAIL1", 7, "<m@lab>", "a@b.c", ("x@y.z",),
                                 trace=trace))
    read = log.read()
    assert [len(e["Trace"]["hops"][0]["steps"]) for e in read] == list(range(1, 51))
    assert read[-1]["Trace"]["hops"][0]["steps"][-1]["detail"] == "attempt 49"
    assert Trace.from_dict(read[-1]["Trace"]) == trace


def test_steps_equal_in_python_but_not_in_json_are_written_apart(tmp_path):
    """Step("r", "d", None, 1) == Step("r", "d", None, 1.0), yet JSON writes 1 and 1.0."""
    log = TrackingLog(tmp_path)
    for at in (1, 1.0, True):
        trace = Trace("<m@lab>").add("MAIL1", Step("r", "d", None, at))
        log.append(TrackingEvent(0.0, "DEFER", "SMTP", "MAIL1", 1, "<m@lab>", "a@b.c", (), trace=trace))
    assert [json.loads(line)["Trace"]["hops"][0]["steps"][0]["at"] for line in log.path.read_text().splitlines()] \
        == [1, 1.0, True]
    assert ['"at": 1,' in line for line in log.path.read_text().splitlines()] == [True, False, False]
