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
