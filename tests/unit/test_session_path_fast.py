"""The session reads ``FROM:<...>`` / ``TO:<...>`` as clients write them without the general
parse; the general parse it had before is the oracle here, over many generated arguments."""
from __future__ import annotations

import random

from lab.core.exchange.session import _path, _VALID_DOMAINS, _DOMAIN_RE


def plain_path(arg: str, keyword: str) -> tuple[str, str] | None:
    """The parse before the fast path (the oracle)."""
    head, sep, rest = arg.partition(":")
    if not sep or head.strip().upper() != keyword:
        return None
    rest = rest.strip()
    if rest.startswith("<"):
        end = rest.find(">")
        if end < 0:
            return None
        return rest[:end + 1], rest[end + 1:].strip()
    address, _, params = rest.partition(" ")
    return address, params.strip()


PIECES = ["FROM", "TO", "from", "To", ":", "<", ">", "a@b.example", " ", "\t", "SIZE=12", " BODY=8BITMIME",
          "NOTIFY=FAILURE", "\u2003", "\x1f", "<>", "x", "::", "FROM:<", "TO:<", ">>", "=", "\x0b"]


def test_path_matches_the_general_parse() -> None:
    rng = random.Random(4207)
    for _ in range(40000):
        arg = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 7)))
        if rng.random() < 0.3:
            arg = arg.strip()
        for keyword in ("FROM", "TO"):
            assert _path(arg, keyword) == plain_path(arg, keyword), (arg, keyword)


def test_valid_domain_is_the_grammar() -> None:
    for name in 2 * ("mx.example.com", "a", "a-", "-a", "[10.0.0.1]", "[IPv6:::1]", "host_1.lab.", "a..b", "é.example",
                     "x" * 300, "a.b-c.d"):  # (the second time from the memo)
        assert _VALID_DOMAINS[name] is (_DOMAIN_RE.match(name) is not None)
