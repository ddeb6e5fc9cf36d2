"""The end-of-DATA 250 written straight to wire lines is once_reply_lines of the formatted Reply."""
from __future__ import annotations

import pytest

from lab.core import catalogue
from lab.core.catalogue import Reply
from lab.core.catalogue import eop as eop_cat
from lab.core.catalogue import exchange as cat
from lab.core.catalogue import exchange_queue
from lab.core.eop import policy as P
from lab.core.eop.front_door import EopPolicy
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.policy import ExchangePolicy
from lab.core.exchange.receive import formatted_reply_lines, once_reply_lines
from lab.core.exchange.session import SubmitResult
from tests.unit.test_eop_core import IP_CONNECTOR, NODE, tenant
from tests.unit.test_exchange_session import ORG, SERVER


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as e:  # noqa: BLE001 - the exception's type and text are the answer
        return (type(e), str(e))


REPLIES = [Reply(250, "2.6.0", "{message_id} [InternalId={internal_id}, Hostname={hostname}] Queued"),
           Reply(250, "2.0.0", "{a}\nsecond {b}"), Reply(250, None, "{a} no enhanced"), Reply(250, None, "{a}"),
           Reply(250, "", "{a}"), Reply(550, "5.0.0", "{a}  "), Reply(250, "2.0.0", "{}"), Reply(250, "2.0.0", "{0}"),
           Reply(250, "2.0.0", "{missing}"), Reply(250, "2.0.0", "{a:bad}"), Reply(250, "2.0.0", "{a"),
           Reply(250, "2.0.0", "plain {{x}} {a}")]
VALUES = [{}, {"a": "x", "b": 2}, {"a": ""}, {"a": "l1\nl2"}, {"a": "  "},
          {"message_id": "<m@x>", "internal_id": 12, "hostname": "h.example"}]


def _catalogue_replies():
    for module in (cat, eop_cat, exchange_queue):
        yield from (r for r in catalogue.entries(module).values() if isinstance(r, Reply))


@pytest.mark.parametrize("reply", [*REPLIES, *_catalogue_replies()])
def test_formatted_reply_lines_is_once_reply_lines_of_format(reply):
    fields = _outcome(lambda: reply.fields)
    named = [{f: "v\n" if i % 2 else "w" for i, f in enumerate(fields[1])}] if fields[0] == "ok" else []
    for values in VALUES + named:
        got = _outcome(lambda: formatted_reply_lines(reply, dict(values)))
        want = _outcome(lambda: once_reply_lines(reply.format(**values)))
        assert got == want


def test_the_policies_queued_lines_are_their_queued_reply():
    result = SubmitResult("<abc@x.example>", 42)
    world = P.EopWorld(NODE, (tenant(IP_CONNECTOR),))
    policies = [*(ExchangePolicy(c, SERVER, ORG) for c in default_receive_connectors(SERVER)),
                *(EopPolicy(world, e, 3) for e in P.ENDPOINTS)]
    for policy in policies:
        assert policy.queued_lines(result) == once_reply_lines(policy.queued_reply(result))
        assert policy.queued_lines(result)[0].startswith("250 2.6.0 <abc@x.example> [InternalId=42, Hostname=")
