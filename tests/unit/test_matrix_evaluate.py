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


# ------------------------------------------------------------------ blocks and worker processes
import os  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from lab.probes import matrix  # noqa: E402


class Restartable:
    """A driver with restart(): each outcome says which process ran it and how far into its block."""

    def __init__(self):
        self.count = 0

    def restart(self):
        self.count = 0

    def run(self, flow):
        self.count += 1
        return (os.getpid(), flow.id, self.count)


class SlowInParent(Restartable):
    """0.1 s a flow in the process that made it; its forked workers run at full speed."""

    def __init__(self):
        super().__init__()
        self.parent = os.getpid()

    def run(self, flow):
        if os.getpid() == self.parent:
            time.sleep(0.1)
        return super().run(flow)


MANY = tuple(NS(id=f"f{i:03d}") for i in range(23))


@pytest.fixture
def forking(monkeypatch):
    """Blocks of 5 flows, and a process that may fork (else the test is skipped)."""
    if not matrix._can_fork():
        pytest.skip("this platform does not fork, or this process runs another thread")
    monkeypatch.setattr(matrix, "BLOCK", 5)


def test_blocks_start_afresh_and_keep_the_flow_order(monkeypatch):
    monkeypatch.setattr(matrix, "BLOCK", 5)
    out = evaluate(MANY, Restartable(), jobs=1)
    assert list(out) == [f.id for f in MANY]
    assert [o[2] for _, o in out.values()] == [1, 2, 3, 4, 5] * 4 + [1, 2, 3]  # restarted every 5 flows
    assert {o[0] for _, o in out.values()} == {os.getpid()}


def test_blocks_go_to_forked_workers_and_the_answer_does_not_change(forking):
    alone, shared = evaluate(MANY, Restartable(), jobs=1), evaluate(MANY, Restartable(), jobs=3)
    pids = [o[0] for _, o in shared.values()]
    assert len(set(pids)) == 3 and os.getpid() in pids  # this process and two forked ones ran the blocks
    by_block = [set(pids[i:i + 5]) for i in range(0, len(MANY), 5)]
    assert all(len(ran) == 1 for ran in by_block)  # a block runs in one process
    assert by_block[0] == {os.getpid()} and len(by_block[0] | by_block[1] | by_block[2]) == 3  # block w: worker w
    assert {k: (f, o[1:]) for k, (f, o) in shared.items()} == {k: (f, o[1:]) for k, (f, o) in alone.items()}
    assert gc.get_freeze_count() == 0


def test_a_process_running_another_thread_does_not_fork(monkeypatch):
    monkeypatch.setattr(matrix, "BLOCK", 5)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        out = evaluate(MANY, Restartable(), jobs=3)
    finally:
        stop.set()
        thread.join()
    assert {o[0] for _, o in out.values()} == {os.getpid()}


def test_a_failing_flow_in_a_worker_fails_the_evaluation(forking):

    class Failing(Restartable):
        def run(self, flow):
            if flow.id == "f017":
                raise RuntimeError("boom in f017")
            return super().run(flow)

    with pytest.raises(RuntimeError, match="boom in f017"):
        evaluate(MANY, Failing(), jobs=2)
    assert gc.get_freeze_count() == 0


def test_a_worker_that_dies_fails_the_evaluation_instead_of_hanging(forking):
    parent = os.getpid()

    class Dying(Restartable):
        def run(self, flow):
            if os.getpid() != parent:
                os._exit(3)
            return super().run(flow)

    with pytest.raises(RuntimeError, match=r"ended without an answer \(exit status 3\)"):
        evaluate(MANY, Dying(), jobs=2)
    assert gc.get_freeze_count() == 0


def test_a_slow_worker_takes_fewer_blocks(forking):
    out = evaluate(MANY, SlowInParent(), jobs=2)
    pids = [o[0] for _, o in out.values()]
    assert pids[:5] == [os.getpid()] * 5 and os.getpid() not in pids[5:]  # its first block only: the child took the rest
    assert [o[1:] for _, o in out.values()] == [o[1:] for _, o in evaluate(MANY, Restartable(), jobs=1).values()]


def test_the_dispenser_hands_out_each_block_once():
    dispenser = matrix._Dispenser(3, 10)
    try:
        assert list(dispenser.blocks(0)) == [0, 3, 4, 5, 6, 7, 8, 9]  # its first, then all that is left
        assert list(dispenser.blocks(1)) == [1] and list(dispenser.blocks(2)) == [2]
    finally:
        dispenser.close()
    few = matrix._Dispenser(3, 2)  # fewer blocks than workers
    assert [list(few.blocks(w)) for w in range(3)] == [[0], [1], []]
    few.close()


def test_numbers_that_do_not_fit_the_pipe_go_round_robin(monkeypatch):
    def full(fd, data):
        raise BlockingIOError

    monkeypatch.setattr(matrix.os, "write", full)
    dispenser = matrix._Dispenser(3, 10)
    assert [list(dispenser.blocks(w)) for w in range(3)] == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    dispenser.close()


def test_progress_counts_the_flows_evaluated_so_far():
    seen = []
    evaluate(MANY, Restartable(), jobs=1, progress=seen.append)
    assert seen == [len(MANY), len(MANY)]  # one block of 250 at most, then the end
    seen.clear()
    evaluate(FLOWS, Recorder(), progress=seen.append)  # a driver without restart(): only the end
    assert seen == [len(FLOWS)]


def test_progress_counts_blocks_as_they_finish(monkeypatch):
    monkeypatch.setattr(matrix, "BLOCK", 5)
    seen = []
    evaluate(MANY, Restartable(), jobs=1, progress=seen.append)
    assert seen == [5, 10, 15, 20, 23, 23]


def test_progress_counts_what_forked_workers_finished(forking):
    seen = []
    evaluate(MANY, SlowInParent(), jobs=2, progress=seen.append)
    assert seen[0] == len(MANY)  # after its one slow block, the child had reported the other four
    assert seen[-1] == len(MANY) and seen == sorted(seen)
