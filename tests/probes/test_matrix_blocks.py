"""The default world's matrix in blocks: a fresh start per block, the same answer in one process or several."""
from __future__ import annotations

import pytest

from lab.probes import matrix
from lab.probes.matrix import evaluate, generate


def test_restart_gives_a_new_lab_and_counts_tokens_from_one(loaded, drivers):
    flow = next(f for f in generate(loaded.world) if f.port == 587)
    driver = drivers(loaded.world, shared=True)
    driver.run(flow)
    first = driver.lab()
    driver.run(flow)
    assert driver.lab() is first and first.mailbox_count(flow.mailbox) == 2  # shared: both probes' mail
    driver.restart()
    outcome = driver.run(flow)
    assert outcome.kind == "delivered" and driver.lab() is not first
    assert driver.lab().mailbox_count(flow.mailbox) == 1
    assert b"Subject: lab-probe-0000001\r\n" in driver.lab().mailbox(flow.mailbox)[0]


def test_blocks_in_workers_answer_as_blocks_run_one_by_one_in_fresh_drivers(loaded, drivers, monkeypatch):
    flows = generate(loaded.world)
    monkeypatch.setattr(matrix, "BLOCK", 40)
    expected = {}
    for start in range(0, len(flows), 40):  # the oracle: a brand-new driver for each block
        driver = drivers(loaded.world, shared=True)
        expected.update({f.id: (f, driver.run(f)) for f in flows[start:start + 40]})
    one = evaluate(flows, drivers(loaded.world, shared=True), jobs=1)
    assert one == expected and [o.trace for _, o in one.values()] == [o.trace for _, o in expected.values()]
    if not matrix._can_fork():
        pytest.skip("this platform does not fork, or this process runs another thread")
    several = evaluate(flows, drivers(loaded.world, shared=True), jobs=3)
    assert several == expected and [o.trace for _, o in several.values()] == [o.trace for _, o in expected.values()]
    assert {o.kind for _, o in several.values()} >= {"delivered", "rejected", "bounced"}
