"""strip_headers hands back the content itself when nothing is stripped: the same bytes as the
plain code (kept here as the reference), on random header blocks."""
from __future__ import annotations

import random

from lab.core.exchange import headers as H


def _reference(content: bytes, prefix: str) -> bytes:
    head, sep, body = content.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = content.partition(b"\n\n")
    wanted = prefix.lower().encode()
    if wanted not in head.lower():
        return head.rstrip(b"\r\n") + sep + body
    kept: list[bytes] = []
    dropping = False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.lower().startswith(wanted)
        if not dropping:
            kept.append(line)
    return b"".join(kept).rstrip(b"\r\n") + sep + body


_PIECES = [b"From: a@b.c", b"X-MS-Exchange-Organization-AuthAs: Internal", b"x-ms-exchange-organization-x: 1",
           b" folded", b"\tfolded", b"Subject: hi", b"", b"\r", b"\n", b"X-Other: 2", b"body line"]
_JOINS = [b"\r\n", b"\n", b"\r\n\r\n", b"\n\n", b"\r\n\r\n\r\n", b"\r"]


def test_strip_headers_is_the_reference_on_random_messages():
    rng = random.Random(11)
    for _ in range(4000):
        parts = [rng.choice(_PIECES) for _ in range(rng.randint(0, 7))]
        content = b"".join(p + rng.choice(_JOINS) for p in parts)[: rng.randint(0, 200)]
        for prefix in (H.ORG_HEADER_PREFIX, "x-other", "subject"):
            assert H.strip_headers(content, prefix) == _reference(content, prefix)
    same = b"From: a@b.c\r\nSubject: x\r\n\r\nbody\r\n"
    assert H.strip_headers(same, H.ORG_HEADER_PREFIX) is same
    mutable = bytearray(same)
    assert H.strip_headers(mutable, H.ORG_HEADER_PREFIX) is not mutable


def _reference_value(content: bytes, name: str):
    raw = content.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    wanted = name.lower() + ":"
    head = raw.decode("utf-8", "replace")
    value = None
    for line in head.splitlines():
        if value is not None:
            if line[:1] in (" ", "\t"):
                value += " " + line.strip()
                continue
            return value
        if line.lower().startswith(wanted):
            value = line[len(wanted):].strip()
    return value


def test_header_value_is_the_reference_on_random_messages():
    rng = random.Random(5)
    pieces = _PIECES + [b"Message-ID: <a@b>", b"message-id:<c@d>", b"Subject: \xc3\xa9t\xc3\xa9"]
    for _ in range(4000):
        parts = [rng.choice(pieces) for _ in range(rng.randint(0, 7))]
        content = b"".join(p + rng.choice(_JOINS) for p in parts)[: rng.randint(0, 200)]
        for name in ("Message-ID", "Subject", "X-MS-Exchange-Organization-AuthAs", "Missing"):
            assert H.header_value(content, name) == _reference_value(content, name)
