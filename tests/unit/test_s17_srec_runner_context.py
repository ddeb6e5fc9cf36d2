"""The runner keeps one StepContext per run: a step sees the subject sent last and the run's messages,
never what an earlier step produced (its console result, its send, its transcript, its message ids)."""
from __future__ import annotations

from lab.scenario.driver import ConsoleResult, SendOutcome, SendSpec
from lab.scenario.model import Expectation, Scenario, Step
from lab.scenario.runner import run_scenario


class FakeDriver:
    name = "fake"

    def __init__(self) -> None:
        self.traced: list[str | None] = []

    def run(self, script, shell):
        return ConsoleResult("hello from the shell\n")

    def send(self, spec):
        return SendOutcome(True, "250 queued", ("C: DATA", "S: 250 queued"), message_id="<m0@lab>")

    def advance(self, seconds):
        pass

    def trace(self, message_id=None):
        self.traced.append(message_id)
        return ()

    def queues(self, server, nonempty=False):
        return ()

    def eop_queue(self):
        return ()

    def mailbox(self, address):
        return []


def _exp(kind, **args):
    return Expectation(kind, args)


def test_a_step_does_not_see_what_the_previous_step_produced():
    spec = SendSpec("a@contoso.com", ("b@fabrikam.com",), "10.0.0.1", subject="first subject")
    steps = (
        Step(0, run="Get-Thing", send=spec,
             expect=(_exp("output", contains=("hello",)), _exp("accepted"), _exp("transcript", contains=("C: DATA",)))),
        Step(1, advance=1.0,
             expect=(_exp("output", contains=("hello",)), _exp("accepted"), _exp("transcript", contains=("C: DATA",)),
                     _exp("delivered", to="b@fabrikam.com"))),
    )
    scenario = Scenario("s", "t", "a", "summary", "f.yaml", "ex01", steps=steps)
    driver = FakeDriver()
    result = run_scenario(driver, scenario)
    first, second = result.steps
    assert first.ok and first.console is not None and first.accepted
    assert [c.ok for c in second.checks] == [False, False, False, False]
    assert second.checks[0].got == "(nothing)"
    assert second.checks[1].got == "nothing was sent"
    assert second.checks[2].got == "(no dialogue)"
    assert "first subject" in second.checks[3].expected  # (the subject sent last is the default)
    assert second.console is None and second.transcript == () and second.accepted is None
    assert driver.traced == []  # (the failed step sent nothing: no message id of step 1 traced)
