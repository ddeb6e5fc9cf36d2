"""The scenario runner's records and errors.Place: frozen records built by fastpath.frozen_init,
the same instances as their dataclass __init__ builds."""
from __future__ import annotations

import pytest

from lab.core.errors import Place
from lab.core.fastpath import FROZEN_INIT
from lab.scenario.expect import Check
from tests.unit.test_fastpath import test_frozen_init_builds_what_the_dataclass_init_builds as same_as_dataclass


@pytest.mark.parametrize("cls", [Check, Place])
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
