"""EOP's queue views, retries under the current connector, and the cross-premises headers (pure)."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from lab.core.catalogue import eop as cat
from lab.core.eop import queue as Q
from lab.core.eop import routing as R
from lab.core.eop import views as V
from lab.core.eop.headers import for_next_hop
from lab.core.eop.model import Tenant
from lab.core.exchange.connectors import ReceiveConnector
from lab.core.exchange.headers import TlsFacts, header_value, promote_cross_premises
from lab.core.exchange.outcomes import Delivered, Transient
from lab.core.exchange.receive import cloud_services_mail
from lab.core.tls import CertFacts
from lab.topology.load import load_topology

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
HOST = "AM5EUR02FT025.eop-EUR02.prod.protection.outlook.com"


def tenant() -> Tenant:
    return Tenant.from_spec(load_topology("topology.yaml").tenants["ixmsoft"])


def hop_to_onprem(t: Tenant) -> R.NextHop:
    return R.route_recipient(t, "user01@ixmsoft.com").result


def test_queue_and_message_views_show_the_last_error():
    t = tenant()
    hop = hop_to_onprem(t)
    item = Q.enqueue(7, "user02@ixmsoft.com", ("user01@ixmsoft.com",), hop.queue_key, NOW.timestamp())
    entry = V.QueuedEntry(item, hop, "hello", "<m@x>", 120)
    [queue] = V.queue_views(HOST, [entry])
    assert (queue.identity, queue.status, queue.last_error, queue.next_hop) == (
        f"{HOST}\\1", "Ready", None, "Outbound to 6f2c4a91-hybrid")
    failure = R.connection_failure(R.REFUSED)
    retried = Q.after_attempt(item, failure, NOW.timestamp() + 5).item
    [queue] = V.queue_views(HOST, [dataclasses.replace(entry, item=retried)])
    assert queue.status == "Retry" and queue.retry_count == 1
    assert queue.last_error == "450 4.4.316 Connection refused [Message=Socket error code 10061]"
    assert queue.next_retry_time == NOW + timedelta(seconds=5 + Q.RETRY_INTERVAL)
    [msg] = V.message_views(HOST, [dataclasses.replace(entry, item=retried)])
    assert msg.identity == f"{HOST}\\1\\7" and msg.last_error == queue.last_error
    assert msg.expiration_time == NOW + timedelta(hours=24) and msg.to_mapping()["Subject"] == "hello"


def test_trace_row_follows_attempts():
    row = V.TraceRow("id", NOW, "a@ixmsoft.com", "b@fabrikam.com", "s", cat.TRACE_PENDING.text, "1.2.3.4", "<m>", 1)
    item = Q.enqueue(1, "a@ixmsoft.com", ("b@fabrikam.com",), "k", 0.0)
    pending = V.after_attempt(row, Q.after_attempt(item, Transient(cat.S450_4_4_318_CONNECTION_CLOSED), 1.0), None)
    assert (pending.status, pending.detail) == ("Pending", "450 4.4.318 Connection was closed abruptly")
    done = V.after_attempt(pending, Q.after_attempt(item, Delivered("250 ok", "203.0.113.25:25"), 2.0),
                           "203.0.113.25")
    assert (done.status, done.detail, done.to_ip) == ("Delivered", None, "203.0.113.25")


def test_a_retry_uses_the_connector_as_it_is_now():
    t = tenant()
    hop = hop_to_onprem(t)
    assert hop.tls_mode == "DomainValidation"
    relaxed = dataclasses.replace(t.outbound_connectors[0], tls_settings="EncryptionOnly", tls_domain=None)
    now = R.refresh(dataclasses.replace(t, outbound_connectors=(relaxed,)), hop)
    assert (now.tls_mode, now.tls_domain, now.hosts) == ("EncryptionOnly", None, ("mail.ixmsoft.com",))
    assert R.refresh(t, hop) == hop


def test_cross_premises_headers_travel_and_are_promoted():
    content = (b"Received: x\r\nX-MS-Exchange-Organization-AuthAs: Internal\r\n"
               b"X-MS-Exchange-Organization-AuthSource: fe\r\nSubject: s\r\n\r\nbody\r\n")
    hybrid = for_next_hop(content, cloud_services_mail=True)
    assert header_value(hybrid, "X-MS-Exchange-CrossPremises-AuthAs") == "Internal"
    assert header_value(hybrid, "X-MS-Exchange-Organization-AuthAs") is None
    assert header_value(for_next_hop(content, cloud_services_mail=False), "X-MS-Exchange-CrossPremises-AuthAs") is None
    forged = hybrid.replace(b"Subject", b"X-MS-Exchange-Organization-AuthAs: Anonymous\r\nSubject")
    promoted = promote_cross_premises(forged)
    assert header_value(promoted, "X-MS-Exchange-Organization-AuthAs") == "Internal"
    assert promoted.count(b"AuthAs") == 1 and promoted.endswith(b"\r\n\r\nbody\r\n")


def _cert(names: tuple[str, ...], not_after: datetime = NOW + timedelta(days=30)) -> CertFacts:
    return CertFacts("CN=" + names[0], "CN=DigiCert Cloud Services CA-1", names[0], names, NOW - timedelta(days=30),
                     not_after, "A" * 40, "01", False, False, "ECDSA P-256")


def test_accept_cloud_services_mail_needs_the_capability_and_a_matching_valid_certificate():
    frontend = ReceiveConnector(name="Default Frontend EX01", server="EX01",
                                tls_domain_capabilities=("mail.protection.outlook.com:AcceptCloudServicesMail",))
    eop = ("mail.protection.outlook.com", "*.mail.protection.outlook.com")
    tls = TlsFacts(peer_names=eop, peer_cert=_cert(eop))
    assert cloud_services_mail(frontend, tls, NOW).accepted
    assert not cloud_services_mail(frontend, None, NOW).accepted
    assert not cloud_services_mail(frontend, TlsFacts(), NOW).accepted
    other = ("mx.fabrikam.com",)
    assert not cloud_services_mail(frontend, TlsFacts(peer_names=other, peer_cert=_cert(other)), NOW).accepted
    expired = TlsFacts(peer_names=eop, peer_cert=_cert(eop, NOW - timedelta(days=1)))
    assert not cloud_services_mail(frontend, expired, NOW).accepted
    plain = dataclasses.replace(frontend, tls_domain_capabilities=())
    assert not cloud_services_mail(plain, tls, NOW).accepted
