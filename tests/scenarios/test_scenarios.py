"""Every scenario under every available driver; the fix is what makes it pass (mutation test).

Each scenario shows the failure, applies the article's fix and proves mail flows. Under the
memory driver (when it exists) each check must come out as under the live driver. Removing a
scenario's ``fix: true`` steps must make the run fail, and the report must say expected vs got.
"""
from __future__ import annotations

import dataclasses

import pytest

from scenario_support import SCENARIOS
from lab.scenario import catalog, report
from lab.scenario.drivers import available_drivers, make_driver
from lab.scenario.load import check_against
from lab.scenario.runner import run_scenario
from lab.topology.load import load_topology

ALL = catalog.load_all(SCENARIOS)
NAMES = [s.stem for s in ALL]
DRIVERS = available_drivers()


def _run(scenario, driver_name: str, steps=None):
    driver = make_driver(driver_name)
    driver.start(load_topology(catalog.topology_for(scenario)), None)
    try:
        check_against(scenario, driver.world)
        return run_scenario(driver, scenario, steps=steps)
    finally:
        driver.stop()


def _failures(result) -> str:
    return report.dumps([result])


def test_every_article_scenario_is_there():
    assert len(ALL) >= 3
    assert {s.article[:3] for s in ALL} >= {"003", "000"}
    for s in ALL:
        assert any(step.fix for step in s.steps), f"{s.stem} has no fix step"
        first_remedy = s.exercise_until()
        assert any(step.expect for step in s.steps[:first_remedy]), f"{s.stem} shows no failure before its fix"
        assert s.verification() and any(step.expect for step in s.verification()), f"{s.stem} verifies nothing"


@pytest.mark.live
@pytest.mark.parametrize("driver_name", DRIVERS)
@pytest.mark.parametrize("scenario", ALL, ids=NAMES)
def test_scenario_passes(scenario, driver_name):
    result = _run(scenario, driver_name)
    assert result.ok, _failures(result)
    assert sum(len(s.checks) for s in result.steps) >= 3


@pytest.mark.skipif("memory" not in DRIVERS, reason="the memory driver is not available yet")
@pytest.mark.parametrize("scenario", ALL, ids=NAMES)
def test_drivers_agree(scenario):
    outcomes = {}
    for name in ("live", "memory"):
        result = _run(scenario, name)
        outcomes[name] = [(s.step.index, c.expectation.describe(), c.ok) for s in result.steps for c in s.checks]
    assert outcomes["live"] == outcomes["memory"]


@pytest.mark.live
@pytest.mark.parametrize("scenario", ALL, ids=NAMES)
def test_without_the_fix_the_runner_reports_the_failure(scenario):
    steps = [s for s in scenario.steps if not s.fix]
    result = _run(scenario, "live", steps=steps)
    assert not result.ok, f"{scenario.stem} passes without its fix: its expectations prove nothing"
    failed = [c for s in result.steps for c in s.failed]
    assert failed
    for c in failed:
        assert c.expected and c.got and c.expectation.place.startswith(scenario.file)
    data = report.to_json([result])
    assert data["ok"] is False
    assert any(not c["ok"] and c["expected"] and c["got"] for st in data["scenarios"][0]["steps"]
               for c in st["checks"])
    assert "<failure" in report.to_junit([result])


def test_a_broken_expectation_fails_with_expected_and_got(tmp_path):
    scenario = next(s for s in ALL if s.name == "missing-mx")
    last = scenario.steps[-1]
    wrong = dataclasses.replace(last.expect[-1], args={**last.expect[-1].args, "to": "nobody@xutonglin.com"})
    steps = [*scenario.steps[:-1], dataclasses.replace(last, expect=(*last.expect[:-1], wrong))]
    result = _run(scenario, "live", steps=steps)
    [bad] = [c for s in result.steps for c in s.failed]
    assert "nobody@xutonglin.com" in bad.expected and "0 message(s)" in bad.got
