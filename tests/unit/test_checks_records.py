"""The scenario runner's records and errors.Place: frozen records built by fastpath.frozen_init,
the same instances as their dataclass __init__ builds."""
from __future__ import annotations

import pytest

from lab.core.errors import Place
from lab.core.fastpath import FROZEN_INIT
from lab.scenario.expect import Check, Mail
from tests.unit.test_fastpath import test_frozen_init_builds_what_the_dataclass_init_builds as same_as_dataclass


@pytest.mark.parametrize("cls", [Check, Mail, Place])
def test_the_record_has_the_cheaper_init_and_builds_the_same_instances(cls) -> None:
    assert cls in FROZEN_INIT and cls.__init__ is not cls.__dataclass_init__
    same_as_dataclass(cls)


def test_a_place_reads_as_before() -> None:
    assert str(Place(file="t.yaml", line=3, column=4, path="a.b")) == "t.yaml:3:4 (a.b)"
    assert str(Place(path="TlsDomain")) == "<input> (TlsDomain)"
    assert Place(path="x") == Place(None, None, None, "x") and hash(Place(path="x")) == hash(Place(path="x"))


# -- Mail.text: the message's header fields as read_mail read them, its parts as the email parser reads them
def _raws() -> list[bytes]:
    from tests.unit.test_pure_caches import RAW, REPORT
    eight_bit = "Subject: caf\u00e9 \u2713\nContent-Type: text/plain; charset=utf-8\n\nd\u00e9j\u00e0\n".encode()
    return [RAW, REPORT, RAW.replace(b"\n", b"\r\n"), REPORT.replace(b"\n", b"\r\n"), eight_bit,
            b"From someone\nSubject: x\n\nbody\n", b"Subject: =?utf-8?q?caf=C3=A9?=\n folded\n\nbody",
            b"no header at all", b"",
            b"Content-Type: text/plain; charset=latin-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n",
            REPORT.replace(b"Content-Type: message/delivery-status", b"Content-Type: text/rfc822-headers")]


@pytest.mark.parametrize("raw", _raws())
def test_mail_text_is_text_of_the_parsed_message(raw: bytes) -> None:
    import email

    from lab.scenario.expect import _text, read_mail
    assert read_mail.__wrapped__(raw).text == _text(email.message_from_bytes(raw))


# -- plain_headers: the email parser's header fields, or None (the parser reads those)
_NAMES = ["Subject", "Received", "From", "To", "Content-Type", "X", "Message-ID", "a-b_c.d~!", "From ", "Bad Name",
          "", "X\x0bY", "\u00e9", "From", ">From", "x\x7f", "X\tY", "X\x00Y"]
_VALUES = ["will expire", "", " ", "  spaced  ", "\t", "a: b: c", "multipart/report; boundary=\"b\"", "tab\there",
           "\u00e9", "x\ry", "x\ny", "\x0cff", "From x", ": colon first", "\r", "=?utf-8?q?x?="]
_ODD_LINES = ["From someone", " continued", "\tcontinued", "no colon here", ":x", "", " ", "x\r", "\r"]


def _random_raw(rng) -> bytes:
    plain = rng.random() < 0.6  # most messages plain: the direct reading is what they exercise
    names, values = (_NAMES[:8], _VALUES[:9]) if plain else (_NAMES, _VALUES)
    lines = []
    for _ in range(rng.randint(0, 6)):
        lines.append(f"{rng.choice(names)}:{rng.choice(['', ' ', '  ', chr(9), ' ' + chr(9)])}{rng.choice(values)}")
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            lines.append(rng.choice([" ", "\t", "  ", " \t"]) + rng.choice(values))
    if not plain and rng.random() < 0.5:
        lines.insert(rng.randint(0, len(lines)), rng.choice(_ODD_LINES))
    end = rng.choice(["\n", "\r\n"])
    if not plain and rng.random() < 0.3:
        end = rng.choice(["\n", "\r\n", "\r"])  # some lines ending otherwise than the rest
        text = "".join(line + (end if rng.random() < 0.7 else rng.choice(["\n", "\r\n"])) for line in lines)
    else:
        text = end.join(lines) + rng.choice([end, end, ""])
    text += rng.choice([end, end, "", end + end]) + rng.choice(["", "body" + end, end + "after a blank", "From b"])
    if rng.random() < 0.05:
        text = rng.choice([end, " ", ""]) + text
    return text.encode("utf-8", "surrogateescape")


def test_plain_headers_read_the_fields_the_email_parser_reads() -> None:
    import random

    from lab.scenario.expect import _read_with_email, plain_headers, read_mail

    rng = random.Random(20261206)
    read_plain = 0
    for _ in range(4000):
        raw = _random_raw(rng)
        got, want = read_mail.__wrapped__(raw), _read_with_email(raw)
        assert (got.subject, got.report, got.headers) == (want.subject, want.report, want.headers), raw
        fields = plain_headers(raw)
        if fields is not None:
            read_plain += 1
            assert fields == want.headers and all(type(n) is str and type(v) is str for n, v in fields), raw
    assert read_plain > 600  # the direct reading was exercised, not only the parser


@pytest.mark.parametrize("raw, fields", [
    (b"Subject: x\r\n folded\r\n\tagain\r\nTo:  y\r\n\r\nbody\r\n", (("Subject", "x\r\n folded\r\n\tagain"),
                                                                     ("To", "y"))),
    (b"A:\n  \nB: 1", (("A", "\n  "), ("B", "1"))),  # a value that is only its continuation; no line end last
    (b"A: 1\n", (("A", "1"),)),
    (b"", None), (b"\n", None), (b"\r\n\r\nA: 1", None), (b" A: 1\n", None), (b"From x\nA: 1\n", None),
    (b"A: 1\nno colon\n\n", None), (b":x\nA: 1\n", None), (b"A\tB: 1\n", None), (b"A: 1\r\nB: 2\n\n", None),
    (b"A: 1\nB: \r\n", None),
])
def test_plain_headers_of_chosen_blocks(raw: bytes, fields) -> None:
    from lab.scenario.expect import _read_with_email, plain_headers
    assert plain_headers(raw) == fields
    if fields is not None:
        assert _read_with_email(raw).headers == fields


def test_the_default_topology_file_is_the_lab_s_own() -> None:
    from dataclasses import replace
    from pathlib import Path

    from lab.scenario import catalog
    scenario = catalog.load_all(catalog.ROOT / "scenarios")[0]
    plain = replace(scenario, topology=None)
    assert catalog.topology_for(plain) == Path(catalog.ROOT, "topology.yaml") == catalog.ROOT / "topology.yaml"
    assert catalog.topology_for(plain) is catalog.topology_for(plain)  # the one Path, hashed once
    own = replace(scenario, topology="../topology.yaml")
    assert catalog.topology_for(own) == (Path(scenario.file).parent / "../topology.yaml").resolve()
