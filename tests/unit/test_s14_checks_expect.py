"""Stop 14, the scenario checks: what a check reads of a delivered message, and that each check can fail."""
from __future__ import annotations

from typing import Any

import pytest

from lab.scenario.expect import StepContext, check, read_mail
from lab.scenario.model import Expectation

RAW = (b"Received: from a by mx.fabrikam.com (203.0.113.25) with Microsoft SMTP Server\n"
       b" (version=TLS1_3) id 15.2\n"
       b"From: user01@ixmsoft.com\nTo: someone@fabrikam.com\nSubject: opportunistic TLS\n"
       b"Content-Type: text/plain; charset=\"utf-8\"\n\nthe body says hello\n")


class _Mailboxes:
    def __init__(self, **boxes: list[bytes]) -> None:
        self.boxes = boxes

    def mailbox(self, address: str) -> list[bytes]:
        return list(self.boxes.get(address.split("@")[0], []))


def _check(args: dict[str, Any], raws: list[bytes], kind: str = "delivered"):
    driver: Any = _Mailboxes(someone=raws)
    return check(Expectation(kind, {"to": "someone@fabrikam.com", **args}), driver, StepContext())


@pytest.mark.parametrize("needle, ok", [("with Microsoft SMTP Server (version=TLS1_3)", True),
                                        ("with Microsoft SMTP Server id", False), ("the body says", False)])
def test_a_header_check_reads_the_header_values_and_never_the_body(needle: str, ok: bool) -> None:
    raw = RAW.replace(b"hello", needle.encode()[:5] + b" hello")  # bytes of its own: a Mail of its own
    result = _check({"subject": "opportunistic TLS", "header": {"name": "Received", "contains": needle}}, [raw])
    assert result.ok is ok
    assert result.got == ("Received: from a by mx.fabrikam.com (203.0.113.25) with Microsoft SMTP Server"
                          " (version=TLS1_3) id 15.2")
    assert "text" not in read_mail(raw).__dict__  # the body was not parsed for it


@pytest.mark.parametrize("needle, ok", [("says hello", True), ("says goodbye", False),
                                        ("Subject: opportunistic TLS", True)])
def test_a_contains_check_reads_the_message_text(needle: str, ok: bool) -> None:
    result = _check({"subject": "opportunistic TLS", "contains": [needle]}, [RAW])
    assert result.ok is ok and result.got == read_mail(RAW).text[:2000] and "says hello" in result.got


def test_a_delivered_check_fails_without_the_message() -> None:
    assert not _check({"subject": "another subject", "header": {"name": "Received", "contains": "x"}}, [RAW]).ok
    assert not _check({"subject": "opportunistic TLS"}, []).ok
    assert _check({"subject": "opportunistic TLS"}, [RAW]).ok
