"""Playing scenarios for people: runs with reports, ``--step`` pauses, exercises and grading.

Exercise mode plays a scenario up to its first remedy step in a live lab with its control
channel (``lab shell --state DIR`` joins it), states the goal and keeps the lab running. The
same process answers ``lab scenario grade`` on ``<state>/scenario.sock`` (JSON lines, owner
only): grading re-runs the scenario's verification steps (the steps after its last ``fix``
step) against the trainee's world with the exercise's own driver, so sends, lab time and
queues are the lab's, and reports which expectations still fail, with what the lab shows.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape

from lab.collector import spared
from lab.core.catalogue import lab as T
from lab.core.errors import LabRuntimeError
from lab.scenario import catalog, report
from lab.scenario.drivers import make_driver
from lab.scenario.load import check_against
from lab.core.model import Topology
from lab.scenario.model import Scenario, Step
from lab.scenario.runner import ScenarioResult, StepResult, run_scenario
from lab.topology.load import load_topology

GRADE_SOCKET = "scenario.sock"

_TOPOLOGIES: dict[Path, tuple[str, Topology, tuple | None]] = {}  # topology file -> (its text, the model
# loaded from it, the file's status when that text was read, if it vouches for the text: see _status)
_TOPOLOGIES_LOCK = threading.Lock()
_SETTLED = 2.0  # seconds: a file last changed more recently than this is read again each time (racy-git rule)


def _status(path: Path) -> tuple | None:
    """What identifies the file's content without reading it: (device, inode, size, mtime, ctime)
    in nanoseconds. Any write moves ctime (no tool can set it), a replaced file has a new inode.
    None when there is no such file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _vouches(status: tuple | None, now: float) -> bool:
    """A status read before the text vouches for it when the file had settled: a write after the
    status was read then moves its ctime past the one recorded, whatever the timestamp granularity."""
    return status is not None and now - max(status[3], status[4]) / 1e9 > _SETTLED


def topology_of(scenario: Scenario) -> Topology:
    """The scenario's topology, loaded and validated once per file content in this process.

    A :class:`~lab.core.model.Topology` is frozen, so scenarios of the same world share it
    (``run --all`` checks ``topology.yaml`` once, not once per scenario). The file is looked at
    each time: its status (device, inode, size, times) when that status vouched for the text
    last read, else its text; an edited file is loaded (and checked) again.
    """
    path = catalog.topology_for(scenario)
    status = _status(path)
    with _TOPOLOGIES_LOCK:
        known = _TOPOLOGIES.get(path)
    if known is not None and known[2] is not None and known[2] == status:
        return known[1]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return load_topology(path)  # its own words for a missing or unreadable file
    vouched = status if _vouches(status, time.time()) else None
    if known is not None and known[0] == text:
        topology = known[1]
    else:
        topology = load_topology(path, text)
    with _TOPOLOGIES_LOCK:
        _TOPOLOGIES[path] = (text, topology, vouched)
    return topology


def run_one(scenario: Scenario, driver_name: str, console: Console | None = None, step_mode: bool = False,
            verbose: bool = False, read=input) -> ScenarioResult:
    """Start a driver, run the scenario, stop the driver."""
    topology = topology_of(scenario)
    driver = make_driver(driver_name)
    driver.start(topology, None)
    stop_all = {"continue": False}

    def before(s: Scenario, step: Step) -> None:
        if console is None:
            return
        report.show_step_intro(console, step, s.shell)
        if step_mode and not stop_all["continue"]:
            console.print(f"[dim]{escape(T.PAUSE)}[/]")
            answer = (read() or "").strip().lower()
            if answer == "q":
                raise KeyboardInterrupt
            if answer == "c":
                stop_all["continue"] = True

    def after(s: Scenario, result: StepResult) -> None:
        if console is not None:
            report.show_step_result(console, result, verbose=True)

    try:
        check_against(scenario, driver.world)
        hooks: dict[str, Any] = {"before_step": before, "after_step": after} if (step_mode or verbose) else {}
        return run_scenario(driver, scenario, **hooks)
    finally:
        driver.stop()


def run_many(scenarios: Sequence[Scenario], driver_name: str, step_mode: bool = False, verbose: bool = False,
             quiet: bool = False) -> list[ScenarioResult]:
    """Run scenarios one after another, printing each (unless ``quiet``: JSON follows).

    The objects that exist when the run starts are kept out of the collector while it runs
    (:func:`lab.collector.spared`)."""
    with spared():
        return _run_many(scenarios, driver_name, step_mode, verbose, quiet)


def _run_many(scenarios: Sequence[Scenario], driver_name: str, step_mode: bool, verbose: bool,
              quiet: bool) -> list[ScenarioResult]:
    # a console only when something is printed (a quiet run without steps or details prints nothing)
    console: Any = Console(stderr=quiet, highlight=False) if step_mode or verbose or not quiet else None
    results = []
    for scenario in scenarios:
        if step_mode or verbose:
            console.rule(f"{scenario.stem}: {scenario.title}")
            console.print(scenario.summary.strip())
        try:
            result = run_one(scenario, driver_name, console if (step_mode or verbose) else None, step_mode, verbose)
        except KeyboardInterrupt:
            break
        results.append(result)
        if not quiet:
            report.show_result(console, result, verbose=False)
    return results


# -- exercise and grading --------------------------------------------------------------------------
def grade_text(scenario: Scenario, result: ScenarioResult) -> str:
    """What a trainee reads after grading."""
    console = Console(record=True, width=110, force_terminal=False, file=open(os.devnull, "w"))
    failed = [c for s in result.steps for c in s.failed] + [s for s in result.steps if s.error]
    if result.ok:
        console.print(T.GRADE_PASS)
    else:
        console.print(T.GRADE_FAIL.format(count=len(failed)))
        for step in result.steps:
            if not step.ok:
                report.show_step_intro(console, step.step, scenario.shell)
                report.show_step_result(console, step)
        if scenario.gives_up and not scenario.allow_workaround and any(s.workaround for s in scenario.steps):
            console.print(T.GRADE_WORKAROUND.format(gives_up=scenario.gives_up.strip()))
    return console.export_text()


def grade(driver: Any, scenario: Scenario) -> dict[str, Any]:
    """Run the verification steps against the driver's (trainee's) world."""
    result = run_scenario(driver, scenario, steps=scenario.verification(), setup=False)
    return {"ok": result.ok, "text": grade_text(scenario, result), "result": report.to_json([result])}


def _serve(driver: Any, scenario: Scenario, state: Path, stop: threading.Event) -> None:
    path = state / GRADE_SOCKET
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        server.bind(str(path))
    finally:
        os.umask(old)
    server.listen(4)
    server.settimeout(0.2)
    try:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            with conn, conn.makefile("rwb") as stream:
                conn.settimeout(None)
                try:
                    request = json.loads(stream.readline() or b"{}")
                    if request.get("grade") not in (scenario.name, scenario.stem):
                        reply = {"error": T.EXERCISE_OTHER.format(state=state, running=scenario.stem,
                                                                  name=request.get("grade"))}
                    else:
                        reply = grade(driver, scenario)
                except Exception as exc:  # the trainee sees why grading could not run
                    reply = {"error": f"{type(exc).__name__}: {exc}"}
                stream.write(json.dumps(reply, ensure_ascii=False, default=str).encode() + b"\n")
                stream.flush()
    finally:
        server.close()
        path.unlink(missing_ok=True)


def exercise(scenario: Scenario, state: Path, ready=None) -> int:
    """Play up to the failure, state the goal, keep the lab (and its control channel) until a signal."""
    console = Console(highlight=False)
    topology = topology_of(scenario)
    state.mkdir(parents=True, exist_ok=True)
    driver = make_driver("live", control=True)
    driver.start(topology, state)
    stop = threading.Event()
    try:
        check_against(scenario, driver.world)
        upto = scenario.exercise_until()
        console.rule(f"{scenario.stem}: {scenario.title}")
        console.print(scenario.summary.strip())
        result = run_scenario(driver, scenario, steps=scenario.steps[:upto],
                              before_step=lambda s, step: report.show_step_intro(console, step, s.shell),
                              after_step=lambda s, r: report.show_step_result(console, r, verbose=True))
        if not result.ok:
            report.show_result(console, result)
            return 1
        goal = scenario.goal.strip() or scenario.title
        console.print("\n" + T.EXERCISE_READY.format(goal=goal, state=state, name=scenario.name))
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: stop.set())
        try:
            _serve(driver, scenario, state, stop)
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        stop.set()
        driver.stop()


def request_grade(state: Path, scenario: Scenario, timeout: float = 600.0) -> dict[str, Any]:
    """Ask the exercise running in ``state`` to grade ``scenario``."""
    path = state / GRADE_SOCKET
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise LabRuntimeError(T.NO_EXERCISE.format(state=state)) from None
    with sock, sock.makefile("rwb") as stream:
        stream.write(json.dumps({"grade": scenario.name}).encode() + b"\n")
        stream.flush()
        raw = stream.readline()
    reply = json.loads(raw or b"{}")
    if "error" in reply:
        raise LabRuntimeError(reply["error"])
    return reply


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0)
