"""eop.policy._transaction (a FrontDoorSession through its positional __init__) against evolve."""
from __future__ import annotations

from datetime import datetime, timezone

from lab.core.eop import policy as P
from lab.core.fastpath import evolve


def test_transaction_is_evolve():
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    sessions = [P.FrontDoorSession(P.MX, P.ConnectionFacts("203.0.113.50"), now),
                P.FrontDoorSession(P.SUBMISSION, P.ConnectionFacts("198.51.100.40", True), now, 3, "helo", "u@x.com",
                                   "a@x.com", ("b@y.com",), None, ("why",))]
    for session in sessions:
        for mail_from, recipients in ((None, ()), ("a@b.com", ()), ("a@b.com", ("c@d.com", "e@f.com"))):
            got = P._transaction(session, mail_from, recipients)
            want = evolve(session, mail_from=mail_from, recipients=recipients)
            assert type(got) is type(want) and got == want
            assert got.__dict__ == want.__dict__ and list(got.__dict__) == list(want.__dict__)
