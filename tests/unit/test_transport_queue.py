"""The sans-I/O transport: queue states, exact LastErrors, timers driven by ``now``, DSNs, tracking."""
from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from types import SimpleNamespace as NS
from typing import Callable

import pytest

from lab.core.catalogue import exchange_queue as C
from lab.core.dns_resolution import MxResult, Target
from lab.core.exchange import outcomes as O
from lab.core.exchange.queue import Transport
from lab.core.exchange.queue_records import TransportSettings
from lab.core.exchange.send_connector import SendConnector

FAILOVER_421 = ('451 4.4.0 Primary target IP address responded with: "421 4.2.1 Unable to connect." Attempted '
                "failover to alternate host, but that did not succeed. Either there are no alternate hosts, or "
                "delivery failed to all alternate hosts.")
ORG = NS(accepted_domains=[{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": True},
                           {"DomainName": "partner.contoso.com", "DomainType": "InternalRelay"}],
         mailboxes=[{"PrimarySmtpAddress": "alice@contoso.com"}, {"PrimarySmtpAddress": "admin@contoso.com"}],
         remote_mailboxes=[{"PrimarySmtpAddress": "user02@contoso.com",
                            "RemoteRoutingAddress": "user02@contoso.mail.onmicrosoft.com"}])
INTERNET = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": ["SMTP:*;1"]})
SERVER = NS(name="ex01", fqdn="ex01.contoso.com")


@dataclass
class World:
    """A tiny in-memory driver: answers the transport's commands from tables, keeps a lab clock."""

    transport: Transport
    mx: dict = field(default_factory=dict)  # domain -> MxResult
    connect: Callable[[O.Connect], O.Outcome] = lambda c: O.Delivered("250 2.6.0 ok", "192.0.2.25:25")
    now: float = 0.0
    wakeups: list = field(default_factory=list)
    log: list = field(default_factory=list)
    connects: list = field(default_factory=list)

    def run(self) -> None:
        """Execute commands until none are left (deliveries finish at the current lab time)."""
        while cmds := self.transport.pop_commands():
            for c in cmds:
                self.log.append(c)
                if isinstance(c, O.ResolveMx):
                    result = self.mx.get(c.domain, MxResult(c.domain, (Target("mx." + c.domain, 10, ("192.0.2.25",)),)))
                    self.transport.resolution_result(c.queue, result, self.now)
                elif isinstance(c, O.ResolveHosts):
                    self.transport.resolution_result(c.queue, MxResult(c.hosts[0], (Target(c.hosts[0], 0, ("192.0.2.9",)),)),
                                                     self.now)
                elif isinstance(c, O.Connect):
                    self.connects.append((self.now, c))
                    self.transport.delivery_result(c.queue, self.connect(c), self.now)
                elif isinstance(c, O.DeliverLocal):
                    self.transport.delivery_result(c.queue, O.Delivered(), self.now, items=(c.item,))
                elif isinstance(c, O.RequestWakeup):
                    self.wakeups.append(c.at)

    def submit(self, rcpts, sender="alice@contoso.com", subject="hello"):
        msg = NS(mail_from=sender, rcpt_tos=list(rcpts), data=f"Subject: {subject}\r\n\r\nbody\r\n".encode())
        result = self.transport.submit(msg, self.now)
        self.run()
        return result

    def advance_to(self, t: float) -> None:
        """Fire every requested wakeup up to ``t`` in order (what LabClock does)."""
        while True:
            due = sorted(w for w in self.wakeups if w <= t)
            if not due:
                break
            self.wakeups.remove(due[0])
            self.now = max(self.now, due[0])
            self.transport.wakeup(self.now)
            self.run()
        self.now = t

    def of(self, kind):
        return [c for c in self.log if isinstance(c, kind)]

    def events(self, event_id):
        return [c.event for c in self.of(O.Track) if c.event.event_id == event_id]

    def queue(self, identity):
        return next(q for q in self.transport.queues() if q.identity == identity)


def world(connectors=(INTERNET,), settings=TransportSettings(), **kw) -> World:
    return World(Transport(SERVER, ORG, list(connectors), settings), **kw)


def test_local_mailbox_delivery_and_release():
    w = world()
    w.submit(["alice@contoso.com"])
    assert [type(c).__name__ for c in w.log[:1]] == ["Persist"]
    assert len(w.of(O.DeliverLocal)) == 1 and w.of(O.DeliverLocal)[0].recipients == ("alice@contoso.com",)
    assert len(w.of(O.Release)) == 1
    assert [e.event_id for e in (c.event for c in w.of(O.Track))] == ["RECEIVE", "DELIVER"]
    deliver = w.events("DELIVER")[0]
    assert deliver.source == "STOREDRIVER" and deliver.trace.find("fidelity §2.2")


def test_waiting_messages_share_one_session_per_next_hop():
    outcomes = iter([O.connect_failure("Timeout", "192.0.2.25:25")])
    w = world(connect=lambda c: next(outcomes, O.Delivered("250 ok", "192.0.2.25:25")))
    w.submit(["a@fabrikam.com"], subject="1")
    w.submit(["b@fabrikam.com"], subject="2")  # the queue is in Retry: the message waits there
    assert w.queue("EX01\\1").message_count == 2 and len(w.connects) == 1
    w.advance_to(300)
    assert len(w.connects) == 2
    assert [e.recipients for e in w.connects[1][1].envelopes] == [("a@fabrikam.com",), ("b@fabrikam.com",)]
    assert len(w.of(O.Release)) == 2 and len(w.events("SEND")) == 2


def test_unreachable_queue_without_connector_then_new_connector_delivers():
    w = world(connectors=())
    w.submit(["bob@fabrikam.com"])
    q = w.queue("EX01\\Unreachable")
    assert (q.delivery_type, q.next_hop_domain, q.message_count) == ("Unreachable", "Unreachable Domain", 1)
    assert q.last_error == "A matching connector cannot be found to route the external recipient"
    assert w.transport.messages()[0].last_error == str(C.NO_MATCHING_CONNECTOR)
    w.transport.set_connectors([INTERNET], 60)
    w.run()
    assert len(w.events("SEND")) == 1
    assert all(q.identity != "EX01\\Unreachable" for q in w.transport.queues())


def test_unreachable_expires_with_unreachable_reason():
    w = world(connectors=())
    w.submit(["bob@fabrikam.com"])
    w.advance_to(2 * 86400)
    fail = w.events("FAIL")[0]
    assert fail.recipient_status == ("550 4.4.7 QUEUE.Expired; message expired in unreachable destination queue. "
                                     "Reason: A matching connector cannot be found to route the external recipient",)
    assert fail.timestamp == 2 * 86400


def test_nxdomain_via_dns_connector_is_immediate_ndr_to_local_sender():
    w = world(mx={"nowhere.example": MxResult("nowhere.example", error="NonExistentDomain")})
    w.submit(["x@nowhere.example"])
    assert w.events("FAIL")[0].recipient_status == ("554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain",)
    ndr = [c for c in w.of(O.DeliverLocal) if c.recipients == ("alice@contoso.com",)]
    assert len(ndr) == 1
    report = email.message_from_bytes(ndr[0].data, policy=email.policy.default)
    assert report["Subject"] == "Undeliverable: hello"
    assert report.get_content_type() == "multipart/report"
    text = next(report.iter_parts()).get_content()
    assert "Remote Server returned '554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain'" in text
    assert len(w.events("DSN")) == 1


def test_nxdomain_downgraded_is_transient():
    conn = SendConnector.from_mapping({"Name": "Internet", "AddressSpaces": "*", "ErrorPolicies": "DowngradeDnsFailures"})
    w = world(connectors=[conn], mx={"nowhere.example": MxResult("nowhere.example", error="NonExistentDomain")})
    w.submit(["x@nowhere.example"])
    q = w.queue("EX01\\1")
    assert q.status == "Retry"
    assert q.last_error == ("451 4.4.0 DNS query failed. The error was: SMTPSEND.DNS.NonExistentDomain; "
                            "nonexistent domain")


def test_no_records_retry_schedule_delay_dsn_and_expiry():
    w = world(mx={"norecords.example": MxResult("norecords.example", error="NoRecords")})
    w.submit(["x@norecords.example"])
    q = w.queue("EX01\\1")
    assert (q.status, q.retry_count, q.next_retry_time) == ("Retry", 1, 300)
    assert q.last_error == "451 4.4.0 DNS query failed. The error was: DNS query failed with error InfoNoRecords"
    w.advance_to(3600)
    assert len(w.of(O.ResolveMx)) == 1 + 6 + 2  # t=0, six 5-minute retries (to 30 min), then 45 and 60 min
    assert w.queue("EX01\\1").next_retry_time == 3600 + 900
    assert not w.events("DSN")
    w.advance_to(4 * 3600)
    delayed = w.events("DSN")
    assert len(delayed) == 1 and delayed[0].timestamp == 4 * 3600
    body = [c for c in w.of(O.DeliverLocal) if c.recipients == ("alice@contoso.com",)][0].data.decode()
    assert "Remote Server returned '400 4.4.7 Message delayed'" in body
    w.advance_to(2 * 86400)
    fail = w.events("FAIL")
    assert len(fail) == 1 and fail[0].recipient_status == ("550 4.4.7 QUEUE.Expired; message expired",)
    assert fail[0].timestamp == 2 * 86400
    assert len(w.events("DSN")) == 2 and len(w.of(O.Release)) >= 1
    assert w.transport.statistics()["messages"] == 0


def test_expiry_with_last_error_form():
    w = world(mx={"n.example": MxResult("n.example", error="ServerFailure")},
              settings=TransportSettings(expiry_with_last_error=True))
    w.submit(["x@n.example"])
    w.advance_to(2 * 86400)
    assert w.events("FAIL")[0].recipient_status == (
        "550 5.4.300 Message expired -> 451 4.4.0 DNS query failed. The error was: DNS query failed with error "
        "ServerFailure",)


def test_connect_failure_then_retry_queue_delivers():
    outcomes = iter([O.connect_failure("NoRoute", O.Endpoint("mx", "192.0.2.25", 25))])
    w = world(connect=lambda c: next(outcomes, O.Delivered("250 ok", "192.0.2.25:25")))
    w.submit(["bob@fabrikam.com"])
    q = w.queue("EX01\\1")
    assert q.status == "Retry" and q.last_error == FAILOVER_421
    assert w.transport.messages()[0].status == "Retry" and w.transport.messages()[0].retry_count == 1
    w.transport.retry_queue("EX01\\1", 10)
    w.now = 10
    w.run()
    assert len(w.events("SEND")) == 1 and w.queue("EX01\\1").status == "Ready"
    assert w.queue("EX01\\1").last_error is None


def test_winsock_forms():
    refused = O.connect_failure("Refused", O.Endpoint("mx", "203.0.113.5", 25)).last_error.line()
    assert refused == ('441 4.4.1 Error encountered while communicating with primary target IP address: "Failed to '
                       'connect. Winsock error code: 10061, Win32 error code: 10061." Attempted failover to alternate '
                       "host, but that did not succeed. Either there are no alternate hosts, or delivery failed to all "
                       "alternate hosts. The last endpoint attempted was 203.0.113.5:25")
    assert "10060, Win32 error code: 10060" in O.connect_failure("Timeout", "1.2.3.4:25").last_error.line()


def test_remote_5xx_bounces_with_remote_reply():
    w = world(connect=lambda c: O.remote_reply(550, "5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
                                               "rcpt", "mx.fabrikam.com (192.0.2.25)"))
    w.submit(["bob@fabrikam.com"])
    ndr = [c for c in w.of(O.DeliverLocal) if c.recipients == ("alice@contoso.com",)][0].data.decode()
    assert ("Remote Server at mx.fabrikam.com (192.0.2.25) returned '550 5.7.54 SMTP; Unable to relay recipient "
            "in non-accepted domain'") in ndr
    assert "Diagnostic-Code: smtp;550 5.7.54" in ndr.replace("\r\n ", " ")


def test_remote_4xx_is_failover_text():
    w = world(connect=lambda c: O.remote_reply(454, "4.7.0 Temporary authentication failure", "mail"))
    w.submit(["bob@fabrikam.com"])
    assert w.queue("EX01\\1").last_error == (
        '451 4.4.0 Primary target IP address responded with: "454 4.7.0 Temporary authentication failure." '
        "Attempted failover to alternate host, but that did not succeed. Either there are no alternate hosts, or "
        "delivery failed to all alternate hosts.")


def test_starttls_required_and_stale_certificate_name():
    assert O.starttls_required("no STARTTLS").last_error.line().startswith(
        '451 4.4.0 Primary target IP address responded with: "451 5.7.3 STARTTLS is required to send mail."')
    assert O.certificate_not_found("<I>CN=a<S>CN=b").last_error.line() == (
        "454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found.")


def test_not_found_in_authoritative_domain_ndr_and_null_sender_gets_no_dsn():
    w = world()
    w.submit(["ghost@contoso.com"], sender="")
    assert w.events("FAIL")[0].recipient_status == ("550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",)
    assert not w.events("DSN") and len(w.of(O.Release)) == 1


def test_remote_mailbox_routes_to_remote_routing_address():
    to_cloud = SendConnector.from_mapping({"Name": "Outbound to Office365",
                                           "AddressSpaces": "smtp:contoso.mail.onmicrosoft.com;1",
                                           "RequireTLS": True, "TlsAuthLevel": "DomainValidation",
                                           "TlsDomain": "mail.protection.outlook.com"})
    w = world(connectors=[INTERNET, to_cloud])
    w.submit(["user02@contoso.com"])
    connect = w.connects[0][1]
    assert connect.envelopes[0].recipients == ("user02@contoso.mail.onmicrosoft.com",)
    assert connect.tls == O.TlsPolicy(True, False, "DomainValidation", "mail.protection.outlook.com", None)


def test_partial_rcpt_refusal_bounces_only_refused():
    refused = O.remote_reply(550, "5.1.1 User unknown", "rcpt").reply
    w = world(connect=lambda c: O.Delivered("250 ok", "192.0.2.25:25", refused=(("b@fabrikam.com", refused),)))
    w.submit(["a@fabrikam.com", "b@fabrikam.com"])
    assert w.events("SEND")[0].recipients == ("a@fabrikam.com",)
    assert w.events("FAIL")[0].recipients == ("b@fabrikam.com",)


def test_suspend_and_resume():
    w = world(mx={"n.example": MxResult("n.example", error="NoRecords")})
    w.submit(["x@n.example"])
    w.transport.suspend_queue("EX01\\1", 1)
    assert w.queue("EX01\\1").status == "Suspended"
    w.transport.resume_queue("EX01\\1", 2)
    assert w.queue("EX01\\1").status == "Retry"  # back to waiting for NextRetryTime (300)
    w.run()
    assert len(w.of(O.ResolveMx)) == 1
    with pytest.raises(KeyError):
        w.transport.retry_queue("EX01\\99", 3)


def test_idle_queue_disappears_after_queue_max_idle_time():
    w = world()
    w.submit(["bob@fabrikam.com"])
    assert w.queue("EX01\\1").message_count == 0
    w.advance_to(181)
    assert [q.identity for q in w.transport.queues()] == ["EX01\\Submission"]


def test_retry_delay_schedule():
    s = TransportSettings()
    assert [s.retry_delay(n) for n in range(1, 9)] == [300] * 6 + [900, 900]
