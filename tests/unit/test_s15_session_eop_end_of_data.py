"""EopPolicy.end_of_data without P.end_of_data's 250 reply: the same Decision as the Turn gave."""
from __future__ import annotations

from lab.core.catalogue import eop as cat
from lab.core.eop import policy as P
from lab.core.eop.front_door import EopPolicy
from lab.core.exchange import receive as rv
from lab.core.exchange.session import SessionContext
from tests.unit.test_eop_core import CERT_CONNECTOR, IP_CONNECTOR, NODE, NOW, tenant
from tests.unit.test_session_in_place import _contexts, _plain_session


def _decision_as_it_was(world: P.EopWorld, ctx: SessionContext, session: P.FrontDoorSession) -> rv.Decision:
    """EopPolicy.end_of_data before: the Turn of P.end_of_data, its reply dropped when positive."""
    turn = P.end_of_data(world, session, "", 0)
    if not turn.reply.is_positive:
        return rv.Decision(turn.reply.is_positive, turn.reply, turn.rule, turn.reasons, False,
                           turn.session.attribution)
    return rv.Decision(True, None, turn.rule, turn.reasons)


def test_end_of_data_decides_as_the_turn_did():
    world = P.EopWorld(NODE, (tenant(IP_CONNECTOR, CERT_CONNECTOR),))
    outcomes = set()
    for endpoint in P.ENDPOINTS:
        policy = EopPolicy(world, endpoint, 7)
        for ctx in _contexts():
            got = policy.end_of_data(ctx, b"x", 1)
            want = _decision_as_it_was(world, ctx, _plain_session(policy, ctx))
            assert got == want and got.value == want.value
            outcomes.add(got.reply.code if got.reply else 250)
    assert outcomes == {250, 503, 550}  # queued, no recipient, send-as refused


def test_end_of_data_still_queues_with_its_reply():
    world = P.EopWorld(NODE, (tenant(),))
    session = P.FrontDoorSession(P.MX, P.ConnectionFacts("203.0.113.50"), NOW, helo="h", mail_from="a@b.example",
                                 recipients=("user02@ixmsoft.com",))
    turn = P.end_of_data(world, session, "<m@x>", 5)
    assert turn.reply == cat.S250_2_6_0_QUEUED.format(message_id="<m@x>", internal_id=5,
                                                      hostname=P.internal_host(NODE, P.MX))
    assert turn.reasons == ("message accepted",) and turn.rule == "eop.front_door (fidelity §1.3)"
    assert turn.session.recipients == () and turn.session.mail_from is None
