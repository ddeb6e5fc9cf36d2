"""Traces (JSON round trip, hop grouping) and DSN reports routed back to a remote sender."""
from __future__ import annotations

import json
from types import SimpleNamespace as NS

from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.exchange.send_connector import SendConnector
from lab.core.trace import Step, Trace


def test_trace_groups_steps_by_node_and_round_trips_json():
    t = Trace("<m@x>").add("EX01", Step("a", "one", None, 0.0)).add("EX01", Step("b", "two", "250 ok", 1.0))
    t = t.add("EOP", Step("c", "three")).with_disposition("Delivered")
    assert [h.node for h in t.hops] == ["EX01", "EOP"] and len(t.hops[0].steps) == 2
    assert Trace.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    assert t.find("b")[0].reply == "250 ok" and "[c] three" in str(t)


def test_ndr_for_remote_sender_goes_back_through_a_send_connector():
    org = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative"}], mailboxes=[])
    transport = Transport(NS(name="ex01", fqdn="ex01.contoso.com"), org,
                          [SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*"})])
    transport.submit(NS(mail_from="someone@fabrikam.com", rcpt_tos=["ghost@contoso.com"],
                        data=b"Subject: hi\r\n\r\nx\r\n"), 0)
    cmds = transport.pop_commands()
    fail = [c.event for c in cmds if isinstance(c, O.Track) and c.event.event_id == "FAIL"]
    assert fail[0].recipient_status == ("550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",)
    assert fail[0].trace.find("fidelity §3.6")
    resolve = [c for c in cmds if isinstance(c, O.ResolveMx)]
    assert [c.domain for c in resolve] == ["fabrikam.com"]
    from lab.core.dns_resolution import MxResult, Target
    transport.resolution_result(resolve[0].queue, MxResult("fabrikam.com", (Target("mx", 10, ("192.0.2.5",)),)), 0)
    [connect] = [c for c in transport.pop_commands() if isinstance(c, O.Connect)]
    env = connect.envelopes[0]
    assert env.mail_from == "" and env.recipients == ("someone@fabrikam.com",)
    assert b"multipart/report" in env.data and b"Undeliverable: hi" in env.data
