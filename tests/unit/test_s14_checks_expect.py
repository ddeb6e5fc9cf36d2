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


def _check(args: dict[str, Any], raws: list[bytes], kind: str = "delivered", ctx: StepContext | None = None):
    driver: Any = _Mailboxes(someone=raws)
    return check(Expectation(kind, {"to": "someone@fabrikam.com", **args}), driver, ctx or StepContext())


@pytest.mark.parametrize("needle, ok", [("with Microsoft SMTP Server (version=TLS1_3)", True),
                                        ("with Microsoft SMTP Server id", False), ("the body says", False)])
def test_a_header_check_reads_the_header_values_and_never_the_body(needle: str, ok: bool) -> None:
    ctx = StepContext()  # (the run's Mail of each message is kept in ctx.mails)
    result = _check({"subject": "opportunistic TLS", "header": {"name": "Received", "contains": needle}}, [RAW],
                    ctx=ctx)
    assert result.ok is ok
    assert result.got == ("Received: from a by mx.fabrikam.com (203.0.113.25) with Microsoft SMTP Server"
                          " (version=TLS1_3) id 15.2")
    assert list(ctx.mails) == [RAW] and "text" not in ctx.mails[RAW].__dict__  # the body was not parsed for it


@pytest.mark.parametrize("needle, ok", [("says hello", True), ("says goodbye", False),
                                        ("Subject: opportunistic TLS", True)])
def test_a_contains_check_reads_the_message_text(needle: str, ok: bool) -> None:
    result = _check({"subject": "opportunistic TLS", "contains": [needle]}, [RAW])
    assert result.ok is ok and result.got == read_mail(RAW).text[:2000] and "says hello" in result.got


def test_a_delivered_check_fails_without_the_message() -> None:
    assert not _check({"subject": "another subject", "header": {"name": "Received", "contains": "x"}}, [RAW]).ok
    assert not _check({"subject": "opportunistic TLS"}, []).ok
    assert _check({"subject": "opportunistic TLS"}, [RAW]).ok


# -- Mail.text: a multipart message's body parsed under its Content-Type alone is the whole message's text
_TYPES = ['multipart/report; report-type=delivery-status; boundary="{b}"', "multipart/mixed; boundary={b}",
          'multipart/report;\n boundary="{b}"', "multipart/report", "Multipart/Digest; boundary={b}",
          "message/rfc822", "message/delivery-status", "text/plain; charset=utf-8", "multipart/x/y; boundary={b}",
          'multipart/alternative; boundary="{b}"; charset=latin-1', "", "text/rfc822-headers"]
_LEAVES = ["Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\nDelivery has failed.\n",
           "Content-Type: message/delivery-status\n\nReporting-MTA: dns;x\n\nFinal-Recipient: rfc822;a@b\nStatus: 5.4.7\n",
           "Content-Type: text/rfc822-headers\n\nReceived: from a\n by b\nSubject: will expire\n",
           "Content-Type: text/plain; charset=latin-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9 =\nx\n",
           "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n",
           "Content-Type: message/rfc822\n\nSubject: inner\nFrom: x@y\n\ninner body\n",
           "\nno headers in this part\n", "Content-Type: text/plain; charset=utf-8\n\nd\u00e9j\u00e0 vu\n",
           "Content-Type: text/plain\n\n" + "a long line of the part " * 400 + "\n",
           "Content-Type: text/plain; charset=\"utf-8\u00e9\"\n\nan unknown charset, past ASCII\n"]


def _random_message(rng) -> bytes:
    b = rng.choice(["b", "----=_DSN_394d62bee08235a9cc6c94d1", "x y"])
    fields = [f"Subject: report {rng.randint(0, 9)}", "From: postmaster@contoso.com", "To: contoso@contoso.com",
              "Received: from a\n by b with Microsoft SMTP Server", "MIME-Version: 1.0", "X-Empty:"]
    rng.shuffle(fields)
    fields = fields[:rng.randint(0, len(fields))]
    for _ in range(rng.choice([0, 1, 1, 1, 2])):
        fields.insert(rng.randint(0, len(fields)), "Content-Type:" + rng.choice(["", " ", "  "])
                      + rng.choice(_TYPES).format(b=b))
    if rng.random() < 0.2:
        fields.insert(rng.randint(0, len(fields)), "Content-Transfer-Encoding: " + rng.choice(["base64", "7bit"]))
    parts = [rng.choice(_LEAVES) for _ in range(rng.randint(0, 4))]
    body = rng.choice(["", "preamble\n"]) + "".join(f"--{b}\n{p}" for p in parts)
    body += rng.choice([f"--{b}--\n", f"--{b}--\nepilogue\n", "", "Reporting-MTA: dns;x\n\nStatus: 5.0.0\n"])
    if rng.random() < 0.1:
        body = rng.choice(["aGVsbG8=\n", "Subject: inner\n\nbody\n", "plain words\n"])
    text = "\n".join(fields) + rng.choice(["\n\n", "\n\n", "\n", ""]) + body
    if rng.random() < 0.1:
        text = rng.choice(["From someone\n", " ", "\n"]) + text
    eol = rng.choice(["\n", "\r\n", "\r\n"])
    data = text.replace("\n", eol).encode("utf-8")
    if rng.random() < 0.05:
        data = data.replace(b"\r\n", b"\n", 1)  # a mixed line end
    return data


def _fields(msg, skip_top: bool) -> list:
    """Every part's header fields as ``Message.items`` reads them back (str, or a Header past ASCII)."""
    parts = list(msg.walk())[1:] if skip_top else msg.walk()
    return [[(k, type(v), str(v)) for k, v in part.items()] for part in parts]


def _outcome(text) -> str:
    try:
        return text()
    except LookupError as exc:  # an unknown charset: the same error either way
        return repr(exc)


def test_mail_text_of_a_multipart_body_parsed_alone_is_the_whole_message_s() -> None:
    import email
    import random

    from lab.scenario.expect import _text, read_mail

    rng = random.Random(202612061)
    alone = 0
    for _ in range(3000):
        raw = _random_message(rng)
        mail = read_mail.__wrapped__(raw)
        assert _outcome(lambda: mail.text) == _outcome(lambda: _text(email.message_from_bytes(raw))), raw
        msg, whole = mail._parsed(), email.message_from_bytes(raw)
        assert _fields(msg, skip_top=len(msg.items()) == 1) == _fields(whole, skip_top=len(msg.items()) == 1), raw
        if mail.blank >= 0 and msg.is_multipart() and len(msg.items()) == 1 < len(mail.headers):
            alone += 1  # the header fields were not given to the parser again
    assert alone > 400  # the body parsed alone was exercised, not only the whole message


def test_a_report_s_text_reads_every_part_and_a_contains_check_on_it_can_fail() -> None:
    from tests.unit.test_pure_caches import REPORT
    for raw in (REPORT, REPORT.replace(b"\n", b"\r\n")):
        mail = read_mail.__wrapped__(raw)
        assert mail.blank > 0 and mail._parsed().is_multipart() and len(mail._parsed().items()) == 1
        assert "Delivery has failed." in mail.text and "Subject: Undeliverable: will expire" in mail.text
        driver: Any = _Mailboxes(someone=[raw])
        ndr = Expectation("ndr", {"to": "someone@x", "subject": "will expire", "contains": ["Delivery has failed."]})
        assert check(ndr, driver, StepContext()).ok
        missing = Expectation("ndr", {"to": "someone@x", "subject": "will expire", "contains": ["4.4.7"]})
        assert not check(missing, driver, StepContext()).ok
