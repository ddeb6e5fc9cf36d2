"""build_dsn writes a plain input's DSN without the email package: the bytes must be exactly the
email package's (dsn._build_with_email, the reference), and anything not plain takes that path."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange as cat
from lab.core.catalogue import exchange_queue as C
from lab.core.exchange import dsn as D

WHEN = datetime(2026, 11, 23, 9, 0, 0, tzinfo=timezone.utc)
RECEIVED = ("Received: from office26-pc (192.168.0.50) by mail1.office26.com (192.168.0.10) with Microsoft SMTP\r\n"
            " Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.1.2507.37 via Frontend\r\n"
            " Transport; Mon, 23 Nov 2026 09:00:00 +0000\r\n")


def original(subject: str | None = "lab-probe-0000001", message_id: str | None = "<abc-1.2@mail1.office26.com>",
             extra: str = "", body: str = "flow\r\n") -> bytes:
    head = RECEIVED + "From: <administrator@office26.com>\r\nTo: <u0008@d008.example>\r\n"
    if subject is not None:
        head += f"Subject: {subject}\r\n"
    head += extra
    head += ("X-MS-Exchange-Organization-AuthAs: Internal\r\n"
             "X-MS-Exchange-Organization-AuthSource: mail1.office26.com\r\n")
    if message_id is not None:
        head += f"Message-ID: {message_id}\r\n"
    return (head + "\r\n" + body).encode("utf-8")


LONG_REPLY = Reply(550, "5.7.64", "TenantAttribution; Relay Access Denied [AM5EUR02FT025.eop-EUR02.prod.protection"
                                   ".outlook.com]")
RECIPIENTS = [
    [D.DsnRecipient("u0008@d008.example", LONG_REPLY, "ixmsoft-com.mail.protection.outlook.com (40.107.22.10)")],
    [D.DsnRecipient("u1@d.example", cat.S550_5_7_1_UNABLE_TO_RELAY)],
    [D.DsnRecipient("a@x.example", cat.S530_5_7_1_CLIENT_NOT_AUTHENTICATED, "mail.x.example (1.2.3.4)"),
     D.DsnRecipient("b@y.example", C.S400_4_4_7_MESSAGE_DELAYED),
     D.DsnRecipient("c@y.example", Reply(550, "", "no enhanced code here"))],
    [D.DsnRecipient("very.long.recipient.address.that.goes.on.and.on.and.on@a-rather-long-domain-name.example",
                    Reply(550, "5.1.1", "RESOLVER.ADR.RecipNotFound; not found " + "x" * 90))],
]
ORIGINALS = [
    original(),
    original(subject=None),
    original(subject=""),
    original(subject="a  double  space"),
    original(subject="trailing space "),
    original(subject="an encoded =?utf-8?q?word?="),
    original(subject="a very long subject " * 6),
    original(subject="Übergröße"),
    original(subject="folded\r\n subject"),
    original(message_id=None),
    original(message_id="<odd id@x>"),
    original(message_id="<a..b@x.example>"),
    original(message_id="  <spaced@x.example>"),
    original(message_id="<folded@x.example>\r\n (comment)"),
    original(message_id="<" + "m" * 90 + "@mail1.office26.com>"),
    original(extra="X-Lab: ümlaut\r\n"),
    original(extra="Comments: (a) \"b\" <c>\r\n"),
    original().replace(b"\r\n", b"\n"),
    original().replace(b"\r\n\r\n", b"\r\n"),
    b"\r\n\r\nno header block\r\n",
    original(body="line\rbare cr\r\n"),
]
def made(build, *args):
    """The DSN's bytes, or the exception raised (the reference raises on some odd inputs)."""
    try:
        return build(*args)
    except Exception as exc:  # noqa: BLE001 - compared, not swallowed
        return type(exc).__name__, str(exc)


SENDERS = ["administrator@office26.com", "first.last+tag@sub.example-domain.com", "a-b_c@x.example", "a.@x.example",
           "a@x", "UPPER@Case.Example", "a@x.example.", "a" * 80 + "@x.example", "\"quoted local\"@x.example",
           "a@[192.0.2.1]", "Name <a@b.example>"]
POSTMASTERS = ["postmaster@office26.com", "postmaster@" + "d" * 70 + ".example"]


@pytest.mark.parametrize("kind", D.KINDS)
@pytest.mark.parametrize("data", ORIGINALS)
def test_the_plain_composition_writes_the_email_packages_bytes(kind, data):
    for recipients, arrival in itertools.product(RECIPIENTS, (None, WHEN - timedelta(hours=5))):
        args = (kind, data, "administrator@office26.com", recipients, "mail1.office26.com", "postmaster@office26.com",
                WHEN, "<13e169cb-ec2f-58ce-acc8-d1de0744ed11@mail1.office26.com>", arrival)
        assert made(D.build_dsn, *args) == made(D._build_with_email, *args)


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("postmaster", POSTMASTERS)
def test_senders_and_postmasters_are_written_as_email_writes_them(sender, postmaster):
    for kind, recipients in itertools.product(D.KINDS, RECIPIENTS):
        args = (kind, original(), sender, recipients, "mail1.office26.com", postmaster, WHEN,
                "<13e169cb-ec2f-58ce-acc8-d1de0744ed11@mail1.office26.com>", WHEN)
        assert made(D.build_dsn, *args) == made(D._build_with_email, *args)


def test_a_probe_bounce_takes_the_plain_path():
    """The common case really is composed directly (the test above is not vacuous)."""
    for recipients in RECIPIENTS:
        args = (D.FAILED, original(), "administrator@office26.com", recipients, "mail1.office26.com",
                "postmaster@office26.com", WHEN, "<13e169cb-ec2f-58ce-acc8-d1de0744ed11@mail1.office26.com>", WHEN)
        composed = D._compose_plain(*args)
        assert composed is not None and composed == D._build_with_email(*args)


def test_other_dsn_message_ids_and_dates_match():
    for n in range(50):
        when = WHEN + timedelta(days=n, seconds=n * 3607)
        args = (D.FAILED, original(subject=f"s{n}"), "a@b.example", RECIPIENTS[n % len(RECIPIENTS)], "mx.example",
                "postmaster@b.example", when, f"<{n:08x}-dsn.{n}@mx.example>", when)
        assert D._compose_plain(*args) == D._build_with_email(*args)


def test_a_value_of_several_lines_is_refused_as_before():
    args = (D.FAILED, original(), "a@b.example\r\nBcc: x@y", RECIPIENTS[0], "mx.example", "postmaster@b.example",
            WHEN, "<1@mx.example>", None)
    with pytest.raises(ValueError):
        D._build_with_email(*args)
    with pytest.raises(ValueError):
        D.build_dsn(*args)


# --- subject_of's plain reading: two regular expressions instead of a walk over the lines ---------------

def _walked_subject(data: bytes) -> str | None:
    """The line-by-line reading _plain_subject had before (the reference)."""
    import re  # noqa: PLC0415
    field, plain = re.compile(rb"[\x21-\x39\x3b-\x7e]+:"), re.compile(rb"[\x20-\x7e]*")
    end = data.find(b"\r\n\r\n")
    if end <= 0:
        return None
    block = data[:end]
    if b"\n" in block.replace(b"\r\n", b"") or b"\r" in block.replace(b"\r\n", b"") or not block.isascii():
        return None
    subject = None
    for i, line in enumerate(block.split(b"\r\n")):
        if line[:1] in (b" ", b"\t"):
            if i == 0 or (subject is not None and subject[1]):
                return None
            continue
        match = field.match(line)
        if match is None:
            return None
        if subject is not None:
            subject = (subject[0], False)
        if subject is None and match.end() == 8 and line[:8].lower() == b"subject:":
            value = line[8:].lstrip(b" \t")
            if b"=?" in value or not plain.fullmatch(value):
                return None
            subject = (value.decode("ascii"), True)
    return "" if subject is None else subject[0]


PIECES = [b"Subject: hello", b"subject:\tx", b"SUBJECT:  two  words ", b"Subject:", b"Subject: =?utf-8?q?x?=",
          b"Subject: a\tb", b"Subjects: no", b"X-Subject: no", b"From: <a@b>", b"To: c", b" folded", b"\tfolded",
          b"no colon", b"Na me: x", b": empty name", b"Received: from x", b"\xc3\xa9: x", b"A: \xc3\xa9", b"A: b\rc",
          b"A: b\nc", b"From x", b"Message-ID: <a@b>", b"", b"Subject: second"]


def test_the_plain_subject_reads_as_the_walk_did():
    import random  # noqa: PLC0415
    rng = random.Random(7)
    cases = [original(), original(subject=None), original(subject="folded\r\n subject"), b"", b"\r\n\r\n",
             b"Subject: x\r\n\r\n", b"Subject: x\r\n \r\n\r\n", b"Subject: x\n\nbody", b"A: b\r\n\r\n"]
    for _ in range(4000):
        lines = [rng.choice(PIECES) for _ in range(rng.randint(1, 6))]
        cases.append(b"\r\n".join(lines) + rng.choice([b"\r\n\r\nbody\r\n", b"\r\n\r\n", b"\r\n", b"\n\n", b""]))
    for data in cases:
        assert D._plain_subject(data) == _walked_subject(data), data
