"""The checks' plain header reading (expect._plain_block) against the email parser: a lone CR or LF
anywhere in a CRLF block (also between other bytes), folds with blanks and tabs, and the lower-case
names it hands to read_mail."""
from __future__ import annotations

import random

import pytest

from lab.scenario.expect import _plain_block, _read_with_email, plain_headers, read_mail


@pytest.mark.parametrize("raw", [
    b"A: 1\r\nB: 2\rX\nC: 3\r\n\r\nbody",  # a lone CR and a lone LF with a byte between them
    b"A: 1\r\nB: 2\nX\rC: 3\r\n\r\n",
    b"A: 1\r\nB: x\r\ry\n\nC: 3\r\n\r\n",
    b"A: 1\r\nB: 2\r\n\n\r\n\r\n",
    b"A: 1\r\nB: 2\r\r\n\r\n",
    b"A: 1\r\nB: 2\n\r\n\r\n",
    b"A: 1\nB: 2\r\n\n",  # an LF block with a CR
])
def test_a_block_with_a_lone_line_end_goes_to_the_parser(raw: bytes) -> None:
    assert plain_headers(raw) is None
    got, want = read_mail.__wrapped__(raw), _read_with_email(raw)
    assert (got.subject, got.report, got.headers) == (want.subject, want.report, want.headers)


@pytest.mark.parametrize("raw, fields", [
    (b"Subject: x\r\n\tfolded\r\n  again\r\nTo: y\r\n\r\n", (("Subject", "x\r\n\tfolded\r\n  again"), ("To", "y"))),
    (b"A:\t\r\n\t\r\nB: 1\r\n", (("A", "\r\n\t"), ("B", "1"))),  # a value that is only its continuation
    (b"A: 1\r\n \r\n", (("A", "1\r\n "),)),  # a blank continuation, then the end of the block
])
def test_folded_fields_read_as_the_parser_reads_them(raw: bytes, fields) -> None:
    assert plain_headers(raw) == fields == _read_with_email(raw).headers


def test_random_blocks_with_lone_line_ends_read_as_the_parser_reads_them() -> None:
    rng = random.Random(1717)
    pieces = ["Subject", "To", "Content-Type", ": ", ":", " ", "\t", "x", "multipart/report", "a b", "\r", "\n",
              "\r\n", "\r\n ", "\r\n\t", "\r\n\r\n"]
    plain = 0
    for _ in range(3000):
        text = "A: 1\r\n" if rng.random() < 0.7 else "A: 1\n"
        text += "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        raw = text.encode("ascii")
        got, want = read_mail.__wrapped__(raw), _read_with_email(raw)
        assert (got.subject, got.report, got.headers) == (want.subject, want.report, want.headers), raw
        read = _plain_block(raw)
        if read is not None:
            plain += 1
            headers, names, _ = read
            assert headers == want.headers, raw
            assert names == [name.lower() for name, _ in headers], raw
    assert plain > 500  # the plain reading was exercised
