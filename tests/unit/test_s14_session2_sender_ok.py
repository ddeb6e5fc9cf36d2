"""MAIL FROM's positive decision shared per sender (receive._sender_ok): the same answer as made afresh."""
from __future__ import annotations

from lab.core.catalogue import exchange as cat
from lab.core.exchange import receive as rv
from lab.core.exchange.connectors import default_receive_connectors
from lab.core.exchange.model import Organization


def test_sender_ok_decision_is_the_one_made_afresh():
    org = Organization.from_mapping({"Name": "o", "AcceptedDomains": ["office26.com"],
                                     "Servers": [{"Name": "MAIL1", "Fqdn": "mail1.office26.com", "Version": 2016}]},
                                    "org")
    conn = default_receive_connectors(org.servers[0])[0]
    rights = rv.rights_for(conn, rv.ANONYMOUS)
    for sender in ("a@test.com", "b@test.com", "a@test.com", ""):
        got = rv.mail_from_verdict(conn, rights, tls_active=False, principal=rv.ANONYMOUS, sender=sender, size=None,
                                   org=org)
        want = rv.Decision(True, cat.S250_2_1_0_SENDER_OK, "fidelity §1.4: MAIL accepted",
                           (f"sender <{sender}> accepted",))
        assert got == want and (got.disconnect, got.value) == (want.disconnect, want.value)
