"""The scenario client's message: the direct writer gives the email library's very bytes.

:func:`lab.scenario.live_client.render_message` writes plain messages itself and hands anything
else to ``email.message.EmailMessage``; both ways must give the same bytes and Message-ID.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, make_msgid

import pytest

from lab.scenario import live_client
from lab.scenario.driver import SendSpec
from lab.scenario.live_client import _render_plain, _render_with_email, render_message

DATE = format_datetime(datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc))
MSGID = "<179544669968.6364.5899871272332521894@contoso.com>"


def _spec(**kw) -> SendSpec:
    base = dict(mail_from="contoso@contoso.com", to=("allen@xutonglin.com",), server="mail.contoso.com",
                subject="will expire")
    base.update(kw)
    return SendSpec(**base)


PLAIN = [
    _spec(),
    _spec(subject="STARTTLS ignored", to=("someone@fabrikam.com", "user01@ixmsoft.com")),
    _spec(subject="a", body="line one\nline two\r\nline three\rfour\n\n"),
    _spec(subject="x" * 69),  # "Subject: " + 69 = 78: the longest line that does not fold
    _spec(subject="re: hello, world! it's #1 & *fine*"),
    _spec(body="y" * 78),
    _spec(body="ends without a newline"),
    _spec(body="\n\nleading blank lines"),
    _spec(subject="tab\tin the middle"),
    _spec(subject="", body="body only"),
    _spec(subject="", body=""),
    _spec(mail_from="first.last+tag@sub.example-domain.com"),
]

ODD = [
    _spec(subject="x" * 70),  # folds
    _spec(subject="  leading and trailing  "),
    _spec(subject="two  spaces"),
    _spec(subject="=?utf-8?q?encoded?="),
    _spec(subject="沃通 non-ASCII"),
    _spec(body="é accented body"),
    _spec(body="z" * 79),  # long body line: another transfer encoding
    _spec(to=()),
    _spec(to=("Allen <allen@xutonglin.com>",)),
    _spec(to=('"quoted local"@xutonglin.com',)),
    _spec(mail_from="no-at-sign"),
    _spec(mail_from="a..b@contoso.com"),
    _spec(to=tuple(f"user{i}@xutonglin.com" for i in range(6))),  # To: folds
    _spec(mail_from="x" * 40 + "@" + "y" * 40 + ".com"),
    _spec(body="form\x0cfeed and vertical\x0btab"),
    _spec(subject="ctrl\x01char"),
    _spec(subject="(comment) <angle> [square] \"quoted\" 100% $5 a=b ~x \\"),
]


def _outcome(render, spec: SendSpec, date: str, msgid: str) -> object:
    """The rendering, or the error the email library raises for a header it refuses (a line break,
    an address it cannot parse)."""
    try:
        return render(spec, date, msgid)
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("spec", PLAIN + ODD)
def test_same_bytes_as_the_email_library(spec: SendSpec) -> None:
    assert render_message(spec, DATE, MSGID) == _render_with_email(spec, DATE, MSGID)


def test_a_refused_header_is_refused_the_same_way() -> None:
    spec = _spec(subject="two\nlines")
    assert _render_plain(spec, DATE, MSGID) is None
    with pytest.raises(ValueError):
        render_message(spec, DATE, MSGID)


@pytest.mark.parametrize("spec", [s for s in PLAIN if s.subject and s.subject.isprintable()])
def test_plain_messages_take_the_direct_path(spec: SendSpec) -> None:
    assert _render_plain(spec, DATE, MSGID) is not None


def test_random_messages_agree() -> None:
    rng = random.Random(20261123)
    alphabet = "abcXYZ019 _+-.,:;!?'/@#&*()<>\"=~[]%$\\\t\r\n\x0b\x0cé沃"
    direct = 0
    plain = "abcXYZ019 _+-.,:;!?'/@#&*\n"
    for _ in range(600):
        chars = rng.choice([alphabet, plain])

        def text(n: int) -> str:
            return "".join(rng.choice(chars) for _ in range(rng.randint(0, n)))
        local = rng.choice(["a", "a.b", "first_last", "x+y", text(8) or "q"])
        spec = _spec(mail_from=f"{local}@contoso.com", to=tuple(rng.choice(["allen@xutonglin.com", f"{local}@b.org"])
                                                               for _ in range(rng.randint(1, 3))),
                     subject=text(rng.choice([10, 40, 90])), body=text(rng.choice([0, 30, 200])))
        when = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc) + timedelta(seconds=rng.randint(0, 10**7))
        date = format_datetime(when)
        msgid = make_msgid(domain=rng.choice(["contoso.com", "lab.local", "a-b.c-d.example"]))
        assert _outcome(render_message, spec, date, msgid) == _outcome(_render_with_email, spec, date, msgid), spec
        direct += _render_plain(spec, date, msgid) is not None
    assert direct > 30  # the direct path was exercised, not only the fallback


def test_build_message_reads_the_lab_clock() -> None:
    class Clock:
        @staticmethod
        def now_datetime() -> datetime:
            return datetime(2026, 11, 25, 13, 1, 2, tzinfo=timezone.utc)

    class Lab:
        clock = Clock()

    data, message_id = live_client.build_message(Lab(), _spec())  # type: ignore[arg-type]
    assert b"\nDate: Wed, 25 Nov 2026 13:01:02 +0000\n" in data
    assert message_id.endswith("@contoso.com>") and f"\nMessage-ID: {message_id}\n".encode() in data
    assert data == _render_with_email(_spec(), "Wed, 25 Nov 2026 13:01:02 +0000", message_id)[0]
