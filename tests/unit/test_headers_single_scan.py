"""header_value and strip_headers scan the header block once; the plain line-by-line versions they
replaced are the oracles here, over many generated blocks full of line-end edge cases
(str.splitlines also ends lines at \\x0b, \\x0c, \\x1c-\\x1e, \\x85, \\u2028, \\u2029; bytes.splitlines
only at CR, LF and CRLF)."""
from __future__ import annotations

import random

import pytest

from lab.core.exchange.headers import header_value, strip_headers


def plain_header_value(content: bytes, name: str) -> str | None:
    """The version before the single scan (the oracle)."""
    end = content.find(b"\r\n\r\n")
    raw = content[:end] if end >= 0 else content
    end = raw.find(b"\n\n")
    if end >= 0:
        raw = raw[:end]
    wanted = name.lower() + ":"
    if raw.isascii() and wanted.isascii() and wanted.encode() not in raw.lower():
        return None
    head = raw.decode("utf-8", "replace")
    value: str | None = None
    for line in head.splitlines():
        if value is not None:
            if line[:1] in (" ", "\t"):
                value += " " + line.strip()
                continue
            return value
        if line.lower().startswith(wanted):
            value = line[len(wanted):].strip()
    return value


def plain_strip_headers(content: bytes, prefix: str) -> bytes:
    """The version before the single scan (the oracle)."""
    head, sep, body = content.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = content.partition(b"\n\n")
    wanted = prefix.lower().encode()
    lines = head.splitlines(keepends=True)
    kept: list[bytes] = []
    dropping = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.lower().startswith(wanted)
        if not dropping:
            kept.append(line)
    return b"".join(kept).rstrip(b"\r\n") + sep + body


NAMES = ["Message-ID", "Subject", "X-MS-Exchange-Organization-AuthAs", "x-ms-exchange-organization-", "To",
         "X-MS-Exchange-CrossPremises-", "a", " sub", "\tx", "Sub\x0bject", "na\rme", "x\ny", "Ümlaut", "id",
         "X-MS-Exchange-Organization-AuthSource", ""]
ENDS = [b"\r\n", b"\n", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\xc2\x85",
        b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\r\r\n", b"\n\r"]
BITS = [b" ", b"\t", b":", b"value", b"  v  ", b"\xff", b"\xc3\xbc", b"\x00", b"x-ms", b"ID", b"-"]


def _block(rng: random.Random) -> bytes:
    parts: list[bytes] = []
    for _ in range(rng.randint(0, 8)):
        start = rng.random()
        if start < 0.5:
            name = rng.choice(NAMES)
            name = name.upper() if rng.random() < 0.3 else name
            parts.append(name.encode() + rng.choice([b":", b": ", b" :", b""]))
        elif start < 0.7:
            parts.append(rng.choice([b" ", b"\t"]))
        for _ in range(rng.randint(0, 3)):
            parts.append(rng.choice(BITS))
        parts.append(rng.choice(ENDS) if rng.random() < 0.9 else b"")
    block = b"".join(parts)
    tail = rng.random()
    if tail < 0.4:
        block += b"\r\n\r\nbody\r\nSubject: no\r\n"
    elif tail < 0.55:
        block += b"\n\nbody: x\n"
    return block


def test_header_value_matches_the_line_by_line_version() -> None:
    rng = random.Random(1905)
    for _ in range(30000):
        content = _block(rng)
        name = rng.choice(NAMES)
        assert header_value(content, name) == plain_header_value(content, name), (content, name)


def test_strip_headers_matches_the_line_by_line_version() -> None:
    rng = random.Random(2511)
    for _ in range(30000):
        content = _block(rng)
        prefix = rng.choice(NAMES)
        prefix = prefix.lower() if rng.random() < 0.5 else prefix
        assert strip_headers(content, prefix) == plain_strip_headers(content, prefix), (content, prefix)


@pytest.mark.parametrize("content, name, value", [
    (b"Subject: a\r\n b\r\n\tc\r\nTo: x\r\n\r\nbody", "subject", "a b c"),
    (b"Subject: a\x0b b\r\n\r\n", "Subject", "a b"),
    (b"X: 1\x1cSubject: s\r\n", "Subject", "s"),
    (b"X: 1 Subject: s\r\n", "Subject", None),
    (b"Subject: \xc3\xbc\r\n", "Subject", "\u00fc"),
    (b"Subject: a\xc2\x85 b\r\n", "Subject", "a b"),
])
def test_header_value_cases(content: bytes, name: str, value: str | None) -> None:
    assert header_value(content, name) == value == plain_header_value(content, name)


def test_strip_headers_keeps_a_bytearray_result_bytes() -> None:
    content = bytearray(b"X-MS-Exchange-Organization-A: 1\r\n b\r\nTo: x\r\n\r\nbody")
    assert strip_headers(content, "x-ms-exchange-organization-") == b"To: x\r\n\r\nbody"
