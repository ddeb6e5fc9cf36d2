"""Run scenarios against a driver: start state, steps, expectations, results.

:func:`run_scenario` starts nothing itself: the caller gives it a started
:class:`~lab.scenario.driver.ScenarioDriver`. It runs the start-state lines, then each step
(say, run, send, smtp, advance, expect) and returns a :class:`ScenarioResult` whose failed
checks carry expected vs got and the message trace. ``before_step`` / ``after_step``
callbacks let ``--step`` pause and show each step. :func:`grade` re-runs a scenario's
verification steps against a world someone else changed (a trainee's).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Callable, Sequence

from lab.scenario.driver import ConsoleResult, ScenarioDriver, SendSpec
from lab.scenario.expect import Check, StepContext, check, describe_queue
from lab.scenario.model import Expectation, Scenario, Step

#: a check's or a step's ``ok`` (all() over a map of it: no generator frame per item)
_OK = attrgetter("ok")


@dataclass
class StepResult:
    """What one step did and how its expectations came out."""

    step: Step
    shell: str | None = None
    console: ConsoleResult | None = None
    send_reply: str = ""
    accepted: bool | None = None
    transcript: tuple[str, ...] = ()
    checks: list[Check] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error and all(map(_OK, self.checks))

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass
class ScenarioResult:
    """A whole run."""

    scenario: Scenario
    driver: str
    steps: list[StepResult] = field(default_factory=list)
    setup: list[ConsoleResult] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    smtp_sessions: int = 0

    @property
    def ok(self) -> bool:
        return not self.error and all(map(_OK, self.steps))


class ScenarioError(Exception):
    """The scenario could not run (its start state failed, a shell does not exist...)."""


def apply_setup(driver: ScenarioDriver, scenario: Scenario) -> list[ConsoleResult]:
    """Run the start-state lines; any error stops the scenario."""
    out = []
    for line in scenario.setup:
        shell = line.shell or scenario.shell
        result = driver.run(line.run, shell)
        out.append(result)
        if result.errors:
            raise ScenarioError(f"start state line failed in the shell of {shell}: {line.run}\n"
                                + "\n".join(result.errors))
    return out


def _spec(step: Step) -> SendSpec:
    s = step.send
    assert s is not None
    return s


def trace_lines(driver: ScenarioDriver, ctx: StepContext, servers: Sequence[str]) -> list[str]:
    """The message trace after a failed check: tracking events of the step's messages, queues, EOP."""
    lines: list[str] = []
    for message_id in ctx.message_ids:
        for e in driver.trace(message_id):
            status = f" {'; '.join(e.recipient_status)}" if e.recipient_status else ""
            lines.append(f"track {e.server} {e.event_id} {e.source} {','.join(e.recipients)}{status}")
    for server in servers:
        try:
            queues = driver.queues(server, nonempty=True)
        except (KeyError, LookupError):
            continue
        lines += [f"queue {describe_queue(q)}" for q in queues]
    lines += [f"eop {','.join(i.recipients)} attempts={i.attempts} LastError={i.last_error or '-'}"
              for i in driver.eop_queue()]
    return lines


def run_step(driver: ScenarioDriver, scenario: Scenario, step: Step, ctx: StepContext) -> StepResult:
    """Run one step; returns its result.

    ``ctx``: the run's context, one for all its steps (a step starts from the subject sent last and
    the messages the run's checks have read so far, :attr:`StepContext.mails`): what the previous
    step produced is cleared first."""
    started = time.perf_counter()
    result = StepResult(step)
    ctx.next_step()
    try:
        if step.run:
            result.shell = step.shell or scenario.shell
            ctx.console = result.console = driver.run(step.run, result.shell)
        if step.send:
            outcome = driver.send(_spec(step))
            ctx.send, ctx.subject = outcome, step.send.subject
            ctx.transcript = result.transcript = outcome.transcript
            result.send_reply, result.accepted = outcome.reply or outcome.failure, outcome.accepted
            if outcome.message_id:
                ctx.message_ids.append(outcome.message_id)
        if step.smtp:
            s = step.smtp
            ctx.transcript = result.transcript = driver.smtp(s.source, s.server, s.port, s.lines)
        if step.advance:
            driver.advance(step.advance)
        if ctx.console and ctx.console.errors and not any(e.kind == "error" for e in step.expect):
            result.checks.append(Check(Expectation("run", {"lines": step.run}, step.place), False,
                                       "the cmdlet lines run without an error", "\n".join(ctx.console.errors)))
        for exp in step.expect:
            result.checks.append(check(exp, driver, ctx))
        if not result.ok:
            servers = sorted({str(e.args["server"]) for e in step.expect if "server" in e.args}
                             | ({result.shell} if result.shell else set()))
            result.trace = trace_lines(driver, ctx, servers)
    except Exception as exc:  # a driver failure is reported as the step's error, the run goes on
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


StepHook = Callable[[Scenario, Step], None]
ResultHook = Callable[[Scenario, StepResult], None]


def run_scenario(driver: ScenarioDriver, scenario: Scenario, steps: Sequence[Step] | None = None,
                 before_step: StepHook | None = None, after_step: ResultHook | None = None,
                 setup: bool = True) -> ScenarioResult:
    """Run a scenario (or ``steps`` of it) on a started driver."""
    started = time.perf_counter()
    result = ScenarioResult(scenario, driver.name)
    try:
        if setup:
            result.setup = apply_setup(driver, scenario)
    except ScenarioError as exc:
        result.error = str(exc)
        result.seconds = time.perf_counter() - started
        return result
    ctx = StepContext()  # the run's: its subject sent last, its messages read once by its checks
    for step in steps if steps is not None else scenario.steps:
        if before_step:
            before_step(scenario, step)
        step_result = run_step(driver, scenario, step, ctx)
        result.steps.append(step_result)
        result.smtp_sessions += (step.send is not None) + (step.smtp is not None)
        if after_step:
            after_step(scenario, step_result)
    result.seconds = time.perf_counter() - started
    return result


