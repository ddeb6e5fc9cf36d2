"""lab.probes.matrix.evaluate: every flow run in order, and the garbage collector left as found."""
from __future__ import annotations

import gc
from types import SimpleNamespace as NS

from lab.probes.matrix import evaluate


class Recorder:
    def __init__(self):
        self.seen, self.frozen = [], []

    def run(self, flow):
        self.seen.append(flow.id)
        self.frozen.append(gc.get_freeze_count())
        return f"outcome of {flow.id}"


FLOWS = (NS(id="a"), NS(id="b"), NS(id="c"))


def test_every_flow_runs_in_order_and_the_collector_is_left_as_found():
    recorder = Recorder()
    assert gc.get_freeze_count() == 0
    out = evaluate(FLOWS, recorder)
    assert recorder.seen == ["a", "b", "c"]
    assert out == {f.id: (f, f"outcome of {f.id}") for f in FLOWS}
    assert all(n > 0 for n in recorder.frozen)  # what existed before the run was out of the collector's way
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_failing_flow_still_unfreezes():
    class Failing(Recorder):
        def run(self, flow):
            raise RuntimeError("boom")

    try:
        evaluate(FLOWS, Failing())
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0


def test_a_disabled_or_already_frozen_collector_is_not_touched():
    recorder = Recorder()
    gc.disable()
    try:
        evaluate(FLOWS, recorder)
        assert recorder.frozen == [0, 0, 0] and not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        evaluate(FLOWS, Recorder())
        assert gc.get_freeze_count() == before  # someone else's freeze is theirs to undo
    finally:
        gc.unfreeze()
