"""The memory driver's send outcome is built straight from the values of the in-memory client's
result (MemoryLab.send's ``result``), not from a SendResult: the same SendOutcome as the mapping of
that SendResult, for every kind of ending."""
from __future__ import annotations

import dataclasses
import inspect

import pytest

from lab.memory import probe as mprobe
from lab.memory.results import SendResult
from lab.scenario.driver import SendOutcome
from lab.scenario.memory_driver import outcome_of


def _mapped(sent: SendResult, header_id: str) -> SendOutcome:
    """The scenario contract's words for a SendResult (the mapping the driver applies)."""
    failure = f"TLS: {sent.detail}" if sent.failure == mprobe.TLS_FAILED else sent.failure
    return SendOutcome(sent.accepted, sent.reply, sent.transcript, header_id if sent.accepted else "", failure,
                       sent.refused)


RESULTS = [
    SendResult(("C: EHLO a", "S: 250 ok"), True, "250 2.6.0 <x@y> Queued mail for delivery", "<x@y>",
               refused=(("b@c.com", "550 5.1.10 RESOLVER.ADR.RecipientNotFound"),)),
    SendResult(("*: connect 10.0.0.1:25 failed: Refused",), False, "", failure="Refused"),
    SendResult(("C: STARTTLS", "S: 220 go"), False, "", failure=mprobe.TLS_FAILED,
               detail="UntrustedRoot: the chain ends at an untrusted root"),
    SendResult(("C: RCPT TO:<a@b.com>",), False, "550 5.7.54 SMTP; Unable to relay", failure="",
               refused=(("a@b.com", "550 5.7.54 SMTP; Unable to relay"),)),
    SendResult(("C: EHLO a",), False, "", failure=mprobe.NOT_OFFERED),
    SendResult(("*: 10.0.0.1:25 closed the connection",), False, "", failure=mprobe.CLOSED),
]


@pytest.mark.parametrize("sent", RESULTS)
def test_outcome_of_the_values_is_the_outcome_of_the_send_result(sent):
    values = [getattr(sent, f.name) for f in dataclasses.fields(SendResult)]
    assert outcome_of("<client@id>")(*values) == _mapped(sent, "<client@id>")
    keywords = {f.name: getattr(sent, f.name) for f in dataclasses.fields(SendResult)}
    assert outcome_of("<client@id>")(**keywords) == _mapped(sent, "<client@id>")


def test_outcome_of_takes_the_parameters_of_send_result():
    made = inspect.signature(outcome_of("<id>")).parameters
    assert list(made) == [f.name for f in dataclasses.fields(SendResult)]
    defaults = {f.name: f.default for f in dataclasses.fields(SendResult)}
    assert {n: p.default for n, p in made.items()} == {n: (inspect.Parameter.empty if d is dataclasses.MISSING
                                                          else d) for n, d in defaults.items()}
