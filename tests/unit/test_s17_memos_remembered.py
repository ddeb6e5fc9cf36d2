"""lab.core.memo.Remembered, the lab's dict memo of a pure function of one key, and the session core's
memos built on it: each gives what its function gives, for every key, whether worked out or remembered."""
from __future__ import annotations

import random

import pytest

from lab.core.exchange import headers as hd
from lab.core.exchange import receive as rv
from lab.core.exchange import session as sn
from lab.core.memo import Remembered


def test_a_key_is_built_once_and_then_read() -> None:
    calls: list[object] = []

    def build(key):
        calls.append(key)
        return [key]

    memo = Remembered(build)
    first = memo["a"]
    assert first == ["a"] and memo["a"] is first and memo[("b", 1)] == [("b", 1)]
    assert calls == ["a", ("b", 1)]


def test_it_is_emptied_past_its_bound_and_still_answers() -> None:
    memo = Remembered(lambda n: n * 2, limit=8)
    for n in range(100):
        assert memo[n] == 2 * n and len(memo) <= 8
    assert memo[3] == 6


def test_a_raising_build_leaves_nothing_behind() -> None:
    memo = Remembered(int)
    for _ in range(2):
        with pytest.raises(ValueError):
            memo["not a number"]
    assert len(memo) == 0 and memo["12"] == 12


def _texts(rng: random.Random, alphabet: str, n: int) -> list[str]:
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))) for _ in range(n)]


def test_the_session_memos_are_their_functions() -> None:
    rng = random.Random(17)
    words = _texts(rng, "ab.-_[]:<>@ =SIZEFROMTO1é", 400) + ["mx.example.com", "[10.0.0.1]", "FROM:<a@b.com> SIZE=10",
                                                            "TO:<a@b.com>", "FROM:<>", "AGFAAGI=", "dXNlcg=="]
    for _ in range(2):  # (the second time from the memos)
        for memo, function in ((sn._VALID_DOMAINS, sn._valid_domain), (sn._MAIL_ARGUMENTS, sn._mail_arguments),
                               (sn._RCPT_ARGUMENTS, sn._rcpt_arguments), (sn._B64, sn._b64),
                               (rv._SENDER_OK, rv._sender_ok), (hd._FIELD_PATTERNS, hd._field_pattern)):
            for word in words:
                key = word.encode() if memo is hd._FIELD_PATTERNS else word
                assert memo[key] == function(key), (function.__name__, word)
        for lines in (("220 ready",), ("250-a", "250 b"), ()):
            assert sn._PLAIN[lines] == sn.Output(lines)


def test_the_address_memo_reads_as_ipaddress_does_and_raises_for_what_it_refuses() -> None:
    for text in ("192.168.0.1", "0.0.0.0", "::", "fe80::1%eth0", "2001:db8::5", "10.0.0.256", "", "x"):
        for _ in range(2):
            try:
                want = rv._address(text)
            except ValueError:
                with pytest.raises(ValueError):
                    rv._ADDRESSES[text]
            else:
                assert rv._ADDRESSES[text] == want
