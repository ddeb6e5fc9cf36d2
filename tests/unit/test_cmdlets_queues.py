"""Get-Queue / Get-Message / Retry-Queue / Get-MessageTrackingLog over a real Transport driven in the test."""
from __future__ import annotations

import re
from types import SimpleNamespace as NS

from cmdlets_support import base, console
from lab.core.dns_resolution import MxResult, Target
from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport

FAILOVER = ('451 4.4.0 Primary target IP address responded with: "421 4.2.1 Unable to connect." Attempted '
            "failover to alternate host, but that did not succeed. Either there are no alternate hosts, or "
            "delivery failed to all alternate hosts.")


class Driven:
    """A real Transport plus a driver that executes its commands (what the runtime does)."""

    def __init__(self, up: bool = False):
        world, _ = base()
        state = world.servers["mail1"]
        org = world.org_of("mail1")
        self.transport = Transport(state.server, org.organization, org.send_connectors)
        self.settings = self.transport.settings
        self.up = up
        self.events: list = []
        self.now = 0.0

    def run(self) -> None:
        while cmds := self.transport.pop_commands():
            for c in cmds:
                if isinstance(c, O.ResolveMx):
                    self.transport.resolution_result(
                        c.queue, MxResult(c.domain, (Target("mx." + c.domain, 10, ("192.0.2.25",)),)), self.now)
                elif isinstance(c, O.Connect):
                    outcome = (O.Delivered("250 2.6.0 ok", "192.0.2.25:25") if self.up
                               else O.connect_failure("NoRoute", O.Endpoint("mx", "192.0.2.25", 25)))
                    self.transport.delivery_result(c.queue, outcome, self.now)
                elif isinstance(c, O.DeliverLocal):
                    self.transport.delivery_result(c.queue, O.Delivered(), self.now, items=(c.item,))
                elif isinstance(c, O.Track):
                    self.events.append(c.event)

    def submit(self, rcpt: str, subject: str = "hello") -> None:
        msg = NS(mail_from="contoso@contoso.com", rcpt_tos=[rcpt],
                 data=f"Subject: {subject}\r\n\r\nbody\r\n".encode())
        self.transport.submit(msg, self.now)
        self.run()

    # the WorldHost calls these
    def queues(self):
        return self.transport.queues()

    def messages(self):
        return self.transport.messages()

    def retry_queue(self, identity, now, resubmit=False):
        self.now = now
        self.transport.retry_queue(identity, now, resubmit)
        self.run()

    def wakeup(self, now):
        self.now = now
        self.transport.wakeup(now)
        self.run()


def setup():
    driven = Driven()
    c = console(transports={"mail1": driven}, tracking={})
    c.host.tracking["mail1"] = driven.events
    driven.submit("allen@xutonglin.com", "article 003")
    return c, driven


def test_get_queue_table_shows_the_retry_queue():
    c, _ = setup()
    result = c.run("Get-Queue")
    assert not result.errors
    lines = result.output_text.splitlines()
    header = next(line for line in lines if line.startswith("Identity"))
    assert header.split() == ["Identity", "DeliveryType", "Status", "MessageCount", "Velocity", "RiskLevel",
                              "OutboundIPPool", "NextHopDomain"]
    row = next(line for line in lines if line.startswith("MAIL1\\1"))
    assert row.split()[:4] == ["MAIL1\\1", "DnsConnectorDelivery", "Retry", "1"]
    assert row.split()[-1] == "xutonglin.com"
    assert any(line.startswith("MAIL1\\Submission") for line in lines)


def test_get_queue_fl_has_exchange_property_names_and_the_last_error():
    c, _ = setup()
    out = c.run("Get-Queue -Identity MAIL1\\1 | fl").output_text
    names = [m.group(1) for m in re.finditer(r"^(\w+)\s+:", out, re.MULTILINE)]
    assert names[:8] == ["DeliveryType", "NextHopDomain", "TlsDomain", "NextHopConnector", "Status", "MessageCount",
                         "LastError", "RetryCount"]
    assert names[-1] == "Identity"
    assert "LastError" in out and FAILOVER[:60] in out.replace("\n", "")
    status = next(line for line in out.splitlines() if line.startswith("Status"))
    assert status.split(":")[1].strip() == "Retry"


def test_filter_and_unknown_identity():
    c, _ = setup()
    retry = c.run("Get-Queue -Filter \"Status -eq 'Retry'\"").objects
    assert [r.identity for r in retry] == ["MAIL1\\1"]
    assert c.run("Get-Queue -Filter \"Status -eq 'Ready'\"").objects[0].identity == "MAIL1\\Submission"
    bad = c.run("Get-Queue -Filter \"Status -eq\"")
    assert "Invalid filter syntax" in bad.errors[0]
    missing = c.run("Get-Queue -Identity MAIL1\\42")
    assert missing.errors[0].startswith("The queue MAIL1\\42 wasn't found.")


def test_get_message_of_a_queue():
    c, _ = setup()
    msgs = c.run("Get-Message -Queue MAIL1\\1").objects
    assert len(msgs) == 1 and msgs[0].get("Subject") == "article 003"
    assert msgs[0].get("LastError") == FAILOVER
    assert msgs[0].identity.startswith("MAIL1\\1\\")


def test_retry_queue_delivers_once_the_next_hop_answers_and_tracking_shows_it():
    c, driven = setup()
    driven.up = True
    result = c.run("Retry-Queue -Identity MAIL1\\1")
    assert not result.errors
    assert [q.identity for q in c.run("Get-Queue").objects if q.get("MessageCount")] == []
    log = c.run("Get-MessageTrackingLog -Recipients allen@xutonglin.com -EventId SEND").objects
    assert len(log) == 1 and log[0].get("MessageSubject") == "article 003"
    table = c.run("Get-MessageTrackingLog -Sender contoso@contoso.com").output_text
    assert table.splitlines()[1].split() == ["EventId", "Source", "Sender", "Recipients", "MessageSubject"]
    assert c.run("Get-MessageTrackingLog -EventId SEND -Start '01/01/2100 00:00:00'").objects == []


def test_lab_clock_fires_the_retry_and_counts_it():
    c, _ = setup()
    before = c.run("Get-Queue MAIL1\\1").objects[0].get("RetryCount")
    assert not c.run("Set-LabClock -Advance 00:05:00").errors
    after = c.run("Get-Queue MAIL1\\1").objects[0].get("RetryCount")
    assert after == before + 1


def test_without_a_transport_the_queue_cmdlets_say_the_lab_must_run():
    result = console().run("Get-Queue")
    assert "needs a running lab" in result.errors[0]
