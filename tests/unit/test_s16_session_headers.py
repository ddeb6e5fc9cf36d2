"""strip_headers, header_value and add_headers share the header block of the bytes object read last
(headers._LAST_BLOCK): whatever order they are called in on one object, and whatever object came
before, each answers what the plain line-by-line versions (the oracles here) answer."""
from __future__ import annotations

import random

from lab.core.exchange import headers as H


def plain_header_value(content: bytes, name: str) -> str | None:
    raw = content.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    wanted = name.lower() + ":"
    value: str | None = None
    for line in raw.decode("utf-8", "replace").splitlines():
        if value is not None:
            if line[:1] in (" ", "\t"):
                value += " " + line.strip()
                continue
            return value
        if line.lower().startswith(wanted):
            value = line[len(wanted):].strip()
    return value


def plain_strip_headers(content: bytes, prefix: str) -> bytes:
    head, sep, body = content.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = content.partition(b"\n\n")
    wanted = prefix.lower().encode()
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


def plain_add_headers(content: bytes, top: str, bottom: str) -> bytes:
    head, sep, body = content.partition(b"\r\n\r\n")
    if sep:
        return top.encode() + head + b"\r\n" + bottom.encode() + b"\r\n" + body
    if content.startswith(b"\r\n"):
        return top.encode() + bottom.encode() + content
    if H._HEADER_LINE.match(content):
        return top.encode() + content.rstrip(b"\r\n") + b"\r\n" + bottom.encode() + b"\r\n"
    return top.encode() + bottom.encode() + b"\r\n" + content


_PIECES = [b"From: a@b.c", b"X-MS-Exchange-Organization-AuthAs: Internal", b"x-ms-exchange-organization-x: 1",
           b" folded", b"\tfolded", b"Subject: hi", b"", b"\r", b"\n", b"X-Other: 2", b"body line",
           b"Message-ID: <a@b>", b"message-id:<c@d>", b"Subject: \xc3\xa9t\xc3\xa9", b"Sub\x0bject: v",
           b"X: 1\x1cMessage-ID: <e@f>", b"Message-ID: <g@h>\x85"]
_JOINS = [b"\r\n", b"\n", b"\r\n\r\n", b"\n\n", b"\r\n\r\n\r\n", b"\r", b"\r\n \r\n", b"\x0b"]
_NAMES = ("Message-ID", "Subject", "X-MS-Exchange-Organization-AuthAs", "Missing", "x-other", "From")
_PREFIXES = (H.ORG_HEADER_PREFIX, "x-other", "subject", "X-MS-Exchange-Organization-AuthAs", " f", "")


def _content(rng: random.Random) -> bytes:
    parts = [rng.choice(_PIECES) for _ in range(rng.randint(0, 9))]
    return b"".join(p + rng.choice(_JOINS) for p in parts)[: rng.randint(0, 260)]


def test_the_three_on_one_object_in_any_order_answer_as_the_plain_versions() -> None:
    rng = random.Random(1616)
    for _ in range(6000):
        content = _content(rng)
        if rng.random() < 0.2:
            content = bytearray(content)  # (never kept: it may change)
        for _ in range(rng.randint(1, 6)):
            what = rng.random()
            if what < 0.4:
                name = rng.choice(_NAMES)
                assert H.header_value(content, name) == plain_header_value(bytes(content), name), (content, name)
            elif what < 0.8:
                prefix = rng.choice(_PREFIXES)
                got = H.strip_headers(content, prefix)
                assert got == plain_strip_headers(bytes(content), prefix), (content, prefix)
                head = content.partition(b"\r\n\r\n")[0]
                if type(content) is bytes and b"\r\n\r\n" in content and head[-1:] not in (b"\r", b"\n") \
                        and prefix.lower().encode() not in head.lower():
                    assert got is content  # nothing to strip: the object itself
            else:
                top, bottom = rng.choice([("", "X: 1\r\n"), ("Received: a\r\n", "B: 2\r\n"), ("", "")])
                got = H.add_headers(content, top, bottom)
                assert got == plain_add_headers(bytes(content), top, bottom), (content, top, bottom)


def test_a_kept_block_answers_only_for_its_own_object() -> None:
    one = b"Subject: one\r\nMessage-ID: <1@x>\r\n\r\nbody"
    two = b"Subject: two\r\nX-MS-Exchange-Organization-AuthAs: Internal\r\n\r\nbody"
    assert H.header_value(one, "Subject") == "one"
    assert H._LAST_BLOCK[0][0] is one
    assert H.header_value(two, "Subject") == "two"
    assert H.strip_headers(two, H.ORG_HEADER_PREFIX) == b"Subject: two\r\n\r\nbody"
    assert H.add_headers(two, "R: 1\r\n", "B: 2\r\n") == b"R: 1\r\nSubject: two\r\nX-MS-Exchange-Organization-AuthAs: " \
                                                      b"Internal\r\nB: 2\r\n\r\nbody"
    assert H.header_value(one, "Message-ID") == "<1@x>"
