"""Mail.text reads a plain message or a lab DSN without the email parser (expect.plain_text): its text
must be exactly the email parser's (expect._text of email.message_from_bytes, the oracle), and anything
else must be left to the parser (None)."""
from __future__ import annotations

import email
import itertools
import random
from datetime import datetime, timezone

import pytest

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange as cat
from lab.core.catalogue import exchange_queue as C
from lab.core.exchange import dsn as D
from lab.scenario import expect as E

WHEN = datetime(2026, 11, 23, 9, 0, 0, tzinfo=timezone.utc)


def oracle(raw: bytes) -> str:
    return E._text(email.message_from_bytes(raw))


def original(subject: str = "will expire", body: str = "will expire\n", extra: str = "") -> bytes:
    head = ("Received: from internet-client (203.0.113.50) by mail.contoso.com\r\n"
            " (100.100.100.10) with Microsoft SMTP Server (TLS) id 14.3.123.4; Mon, 23 Nov\r\n"
            " 2026 09:00:00 +0000\r\n"
            f"From: contoso@contoso.com\r\nTo: allen@xutonglin.com\r\nSubject: {subject}\r\n{extra}"
            "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
            "Message-ID: <179546208821.15320.12369796409368142129@contoso.com>\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 7bit\r\nMIME-Version: 1.0\r\n')
    return (head + "\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


RECIPIENTS = [
    [D.DsnRecipient("allen@xutonglin.com", C.S400_4_4_7_MESSAGE_DELAYED)],
    [D.DsnRecipient("u1@d.example", cat.S550_5_7_1_UNABLE_TO_RELAY, "mail.x.example (1.2.3.4)")],
    [D.DsnRecipient("a@x.example", cat.S530_5_7_1_CLIENT_NOT_AUTHENTICATED, "mail.x.example (1.2.3.4)"),
     D.DsnRecipient("b@y.example", C.S400_4_4_7_MESSAGE_DELAYED),
     D.DsnRecipient("c@y.example", Reply(550, "", "no enhanced code here"))],
    [D.DsnRecipient("very.long.recipient.address.that.goes.on.and.on.and.on@a-rather-long-domain-name.example",
                    Reply(550, "5.1.1", "RESOLVER.ADR.RecipNotFound; not found " + "x" * 90))],
]
ORIGINALS = [original(), original(subject="a very long subject " * 6), original(body=""), original(body="line\n--not a boundary\n\nmore\n"),
             original(extra="X-Folded: a\r\n b\r\n"), original(subject="")]


def dsns() -> list[bytes]:
    out = []
    for n, (kind, orig, rcpts) in enumerate(itertools.product(D.KINDS, ORIGINALS, RECIPIENTS)):
        out.append(D.build_dsn(kind, orig, "contoso@contoso.com", rcpts, "mail.contoso.com",
                               "postmaster@contoso.com", WHEN, f"<dsn-{n}@mail.contoso.com>",
                               WHEN if n % 2 else None))
    return out


def plain_messages() -> list[bytes]:
    out = list(ORIGINALS) + [original(subject="Übergröße")]
    out.append(b"From: a@b.example\nTo: c@d.example\nSubject: lf\n"
               b'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 7bit\n\nbody\n\n')
    out.append(b"From: a@b.example\r\nSubject: no body\r\n")
    out.append(b"From: a@b.example\r\nSubject: only headers\r\n\r\n")
    out.append(b"Subject: no type\r\n\r\nbody\r\nline\r\n")
    out.append(b"Subject: qp\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n")
    out.append(b"Subject: b64\r\nContent-Transfer-Encoding: base64\r\n\r\nYWJj\r\n")
    out.append(b"Subject: latin\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nabc\r\n")
    out.append(b"Subject: html\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n")
    out.append(b"Subject: two\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\nx\r\n")
    out.append(b"Subject: mixed\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n")
    out.append(b"Subject: eight\r\n\r\n\xc3\xa9t\xc3\xa9\r\n")
    out.append(b"From nobody\r\nSubject: envelope\r\n\r\nx\r\n")
    return out


def mutations(raw: bytes, rng: random.Random, count: int) -> list[bytes]:
    """Small edits of ``raw``: lines dropped, doubled, blanked, boundary-like or odd lines put in, line ends changed."""
    lines = raw.split(b"\r\n")
    boundary = next((line[2:] for line in lines if line.startswith(b"--")), b"--x")
    extra = [b"", b"--" + boundary, b"--" + boundary + b"--", b"--" + boundary + b" ", b" continued", b"\tx",
             b"Not a header line", b"X-New: value", b"Content-Type: text/plain", b"From x", b"\xc3\xa9"]
    out = []
    for _ in range(count):
        edited = list(lines)
        for _ in range(rng.randint(1, 2)):
            if not edited:
                break
            i = rng.randrange(len(edited))
            action = rng.randrange(5)
            if action == 0:
                del edited[i]
            elif action == 1:
                edited.insert(i, edited[i])
            elif action == 2:
                edited.insert(i, rng.choice(extra))
            elif action == 3:
                edited[i] = edited[i] + b"\r"
            else:
                edited[i] = edited[i].replace(b"\r", b"")
        joined = b"\r\n".join(edited)
        out.append(joined if rng.randrange(6) else joined.replace(b"\r\n", b"\n", rng.randint(1, 3)))
    return out


@pytest.mark.parametrize("raw", dsns() + plain_messages())
def test_same_text_as_the_email_parser(raw: bytes) -> None:
    fast = E.plain_text(raw)
    if fast is not None:
        assert fast == oracle(raw)


def test_the_lab_shapes_take_the_fast_way() -> None:
    for raw in dsns():
        if raw.isascii():
            assert E.plain_text(raw) is not None
    assert E.plain_text(original()) is not None


def test_edited_messages_are_the_parser_s_or_left_to_it() -> None:
    rng = random.Random(20261123)
    taken = 0
    for raw in dsns()[::3] + plain_messages():
        for edited in mutations(raw, rng, 25):
            fast = E.plain_text(edited)
            if fast is not None:
                taken += 1
                assert fast == oracle(edited), edited
    assert taken > 0


def test_mail_text_is_the_parser_s() -> None:
    for raw in dsns() + plain_messages():
        assert E.read_mail(raw).text == oracle(raw)
