"""Reply.format fills the text with format_map: the text, and the errors, of str.format(**values)."""
from __future__ import annotations

import pytest

from lab.core.catalogue import Reply
from lab.core.catalogue import exchange as cat


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as e:  # noqa: BLE001 - the exception's type and text are the answer
        return (type(e), str(e))


TEXTS = ["{message_id} [InternalId={internal_id}, Hostname={hostname}] Queued", "plain", "{a:>5}|{b!r}", "{}",
         "{0}", "{a} {}", "{a.real}", "{a[0]}", "{missing}", "{a:bad}", "{{literal}} {a}", "{a", "a}"]
VALUES = [{}, {"a": 7, "b": "x"}, {"message_id": "<m>", "internal_id": 3, "hostname": "h"}, {"a": "xy"}]


@pytest.mark.parametrize("text", TEXTS)
def test_format_is_str_format(text):
    reply = Reply(250, "2.0.0", text)
    for values in VALUES:
        got = _outcome(lambda: reply.format(**values))
        want = _outcome(lambda: text.format(**values))
        assert (got[0], got[1].text if got[0] == "ok" else got[1]) == want


def test_catalogue_reply():
    r = cat.S250_2_6_0_QUEUED.format(message_id="<id@x>", internal_id=12, hostname="mail1.x")
    assert r.line() == "250 2.6.0 <id@x> [InternalId=12, Hostname=mail1.x] Queued mail for delivery"
