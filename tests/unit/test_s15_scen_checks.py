"""Stop 15, the scenario runner and its checks: a run reads each message once, in a cache of its own;
the driver records are built by the cheaper frozen ``__init__``."""
from __future__ import annotations

from typing import Any

import pytest

from lab.scenario import expect
from lab.scenario.expect import Mail, StepContext, check
from lab.scenario.model import Expectation, Scenario, Step

RAW = (b"Received: from a by mx.fabrikam.com (203.0.113.25) with Microsoft SMTP Server\n"
       b" (version=TLS1_3) id 15.2\n"
       b"From: user01@ixmsoft.com\nTo: someone@fabrikam.com\nSubject: opportunistic TLS\n"
       b"Content-Type: text/plain; charset=\"utf-8\"\n\nthe body says hello\n")
REPORT = (b"From: postmaster@contoso.com\nTo: someone@fabrikam.com\nSubject: Undeliverable: will expire\n"
          b"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
          b"--b\nContent-Type: text/plain\n\nDelivery has failed.\n"
          b"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;x\n\nStatus: 5.4.7\n"
          b"--b--\n")


class _Driver:
    """A mailbox that hands out new bytes objects on every read (as a driver reading files does)."""

    name = "fake"

    def __init__(self, *raws: bytes) -> None:
        self.raws = list(raws)

    def mailbox(self, address: str) -> list[bytes]:
        return [bytes(bytearray(r)) for r in self.raws]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    seen: list[bytes] = []
    real = expect._read_mail

    def counting(raw: bytes) -> Mail:
        seen.append(raw)
        return real(raw)
    monkeypatch.setattr(expect, "_read_mail", counting)
    return seen


def _exp(kind: str, **args: Any) -> Expectation:
    return Expectation(kind, {"to": "someone@fabrikam.com", **args})


def test_the_checks_of_one_context_read_each_message_once(reads: list[bytes]) -> None:
    driver: Any = _Driver(RAW, REPORT)
    ctx = StepContext(subject="opportunistic TLS")
    first = [check(_exp("delivered"), driver, ctx), check(_exp("ndr", contains=["has failed"]), driver, ctx)]
    again = [check(_exp("delivered"), driver, ctx), check(_exp("ndr", contains=["has failed"]), driver, ctx)]
    assert all(c.ok for c in first) and first == again
    assert reads == [RAW, REPORT] and set(ctx.mails) == {RAW, REPORT}
    # a new context (another run) reads them again: nothing is kept from one run for the next
    fresh = StepContext(subject="opportunistic TLS")
    assert [check(_exp("delivered"), driver, fresh), check(_exp("ndr", contains=["has failed"]), driver, fresh)] == first
    assert reads == [RAW, REPORT, RAW, REPORT]


def test_a_header_check_leaves_the_body_of_the_run_s_message_unparsed() -> None:
    driver: Any = _Driver(RAW)
    ctx = StepContext()
    header = {"name": "Received", "contains": "with Microsoft SMTP Server (version=TLS1_3)"}
    assert check(_exp("delivered", subject="opportunistic TLS", header=header), driver, ctx).ok
    assert "text" not in ctx.mails[RAW].__dict__
    assert check(_exp("delivered", subject="opportunistic TLS", contains=["says hello"]), driver, ctx).ok
    assert "says hello" in ctx.mails[RAW].__dict__["text"]


def test_a_run_shares_one_cache_between_its_steps_and_not_with_the_next_run(reads: list[bytes]) -> None:
    from lab.scenario.runner import run_scenario

    driver: Any = _Driver(RAW)
    steps = tuple(Step(i, expect=(_exp("delivered", subject="opportunistic TLS"),)) for i in range(3))
    scenario = Scenario("s", "t", "a", "", "f.yaml", "ex01", steps=steps)
    for run in (1, 2):
        result = run_scenario(driver, scenario, setup=False)
        assert result.ok and len(result.steps) == 3
        assert reads == [RAW] * run  # once per run: three steps read it, the next run reads it anew


@pytest.mark.parametrize("kind, args", [("delivered", {}), ("not_delivered", {}), ("ndr", {"contains": ["has failed"]}),
                                        ("ndr", {"contains": ["nowhere"]}), ("delivered", {"subject": "other"})])
def test_a_check_on_the_run_s_cache_is_the_check_on_fresh_reads(kind: str, args: dict[str, Any]) -> None:
    driver: Any = _Driver(RAW, REPORT)
    shared = StepContext(subject="opportunistic TLS")
    check(_exp("ndr"), driver, shared)  # fills the cache (and the report's text)
    assert check(_exp(kind, **args), driver, shared) == check(_exp(kind, **args), driver,
                                                              StepContext(subject="opportunistic TLS"))


@pytest.mark.parametrize("name", ["ConsoleResult", "SendOutcome", "EopItem"])
def test_the_driver_records_have_the_cheaper_frozen_init(name: str) -> None:
    from lab.scenario import driver
    from tests.unit.test_fastpath import test_frozen_init_builds_what_the_dataclass_init_builds as same

    cls = getattr(driver, name)
    assert "__dataclass_init__" in cls.__dict__  # frozen_init gave it its __init__
    same(cls)
